# Shell functions for the Janus side of the load benchmark (sourced by
# janus-netns.sh and bench/compare.sh; needs root for `ip netns`).
#
# Janus 1.1.2 ignores loopback interfaces when it gathers ICE candidates, so
# the benchmark gets a private network namespace with a veth pair of its own
# (10.200.0.1/24 <-> 10.200.0.2/24, both ends inside it). Janus, our server
# and the load generator all run in that namespace: no packet leaves it.
#
#   bench_netns_up NAME          create NAME with lo + the veth pair, up
#   bench_netns_down NAME        delete it (processes inside must be gone)
#   janus_write_config DIR ADDR PORT   generate a minimal Janus config in DIR
#   janus_start NS DIR ADDR PORT LOG   start Janus in NS; sets JANUS_PID; waits
#                                      until the WebSocket port answers (20 s)
#   janus_stop                   TERM, then KILL after 5 s
#   wait_tcp NS ADDR PORT SECONDS      true once ADDR:PORT accepts a connection

BENCH_ADDR=${BENCH_ADDR:-10.200.0.1}
BENCH_PEER_ADDR=${BENCH_PEER_ADDR:-10.200.0.2}
BENCH_IFACE=bench0

bench_netns_up() {
  local ns=$1
  ip netns add "$ns" || return 1
  ip -n "$ns" link set lo up &&
    ip -n "$ns" link add "$BENCH_IFACE" type veth peer name bench1 &&
    ip -n "$ns" addr add "$BENCH_ADDR/24" dev "$BENCH_IFACE" &&
    ip -n "$ns" addr add "$BENCH_PEER_ADDR/24" dev bench1 &&
    ip -n "$ns" link set "$BENCH_IFACE" up &&
    ip -n "$ns" link set bench1 up &&
    # Janus binds its ICE sockets to bench0 (ice_enforce_list), so what it
    # sends to 10.200.0.2 crosses the veth and arrives on bench1 with a
    # source address of this same namespace: accepted only with
    # accept_local and no reverse-path filter.
    ip netns exec "$ns" sh -c 'for i in all default bench0 bench1; do
        sysctl -qw net.ipv4.conf.$i.accept_local=1 net.ipv4.conf.$i.rp_filter=0 || exit 1; done'
}

bench_netns_down() {
  local ns=$1
  ip netns list | grep -qw "$ns" || return 0
  # Anything still inside would keep running in a namespace nobody can
  # reach: end what is left, by pid, before deleting it.
  local pids
  pids=$(ip netns pids "$ns" 2>/dev/null)
  if [ -n "$pids" ]; then
    kill $pids 2>/dev/null
    sleep 1
    kill -9 $(ip netns pids "$ns" 2>/dev/null) 2>/dev/null
  fi
  ip netns del "$ns"
}

wait_tcp() {
  local ns=$1 addr=$2 port=$3 seconds=$4 i
  for ((i = 0; i < seconds * 5; i++)); do
    if ip netns exec "$ns" timeout 1 bash -c "exec 3<>/dev/tcp/$addr/$port" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# The config is written from Janus' documented option names; only what the
# benchmark needs is loaded (VideoRoom + WebSockets, through folders that
# hold just those two libraries).
janus_write_config() {
  local dir=$1 addr=$2 port=$3
  local lib=/usr/lib/x86_64-linux-gnu/janus
  mkdir -p "$dir/plugins" "$dir/transports" "$dir/events" "$dir/loggers"
  ln -sf "$lib/plugins/libjanus_videoroom.so" "$dir/plugins/"
  ln -sf "$lib/transports/libjanus_websockets.so" "$dir/transports/"
  cat >"$dir/janus.jcfg" <<CFG
general: {
	configs_folder = "$dir"
	plugins_folder = "$dir/plugins"
	transports_folder = "$dir/transports"
	events_folder = "$dir/events"
	loggers_folder = "$dir/loggers"
	log_to_stdout = true
	debug_level = 4
	server_name = "sfu-bench-janus"
	session_timeout = 60
}
certificates: {
	# none: Janus makes a self-signed DTLS certificate at start
}
media: {
	rtp_port_range = "20000-40000"
	dtls_mtu = 1200
}
nat: {
	nice_debug = ${JANUS_NICE_DEBUG:-false}
	full_trickle = false
	ice_lite = false
	ice_tcp = false
	ignore_mdns = true
	# Gather on the benchmark's veth only (no STUN, no TURN).
	ice_enforce_list = "$BENCH_IFACE"
}
plugins: {
}
transports: {
}
events: {
	broadcast = false
}
CFG
  cat >"$dir/janus.plugin.videoroom.jcfg" <<CFG
general: {
	# Rooms are named by strings (the load generator's room names); any
	# client may create them (no admin_key).
	string_ids = true
}
CFG
  cat >"$dir/janus.transport.websockets.jcfg" <<CFG
general: {
	json = "compact"
	ws = true
	ws_port = $port
	ws_ip = "$addr"
	wss = false
	ws_logging = "err"
}
admin: {
	admin_ws = false
	admin_wss = false
}
CFG
}

janus_start() {
  local ns=$1 dir=$2 addr=$3 port=$4 log=$5
  shift 5
  ip netns exec "$ns" "$@" janus -C "$dir/janus.jcfg" -F "$dir" -i "$addr" -o ${JANUS_DEBUG_LEVEL:+-d "$JANUS_DEBUG_LEVEL"} >"$log" 2>&1 &
  JANUS_PID=$!
  if ! wait_tcp "$ns" "$addr" "$port" 20; then
    echo "janus did not open ws://$addr:$port within 20 s; log: $log" >&2
    tail -20 "$log" >&2
    janus_stop
    return 1
  fi
}

janus_stop() {
  [ -n "${JANUS_PID:-}" ] || return 0
  kill "$JANUS_PID" 2>/dev/null
  local i
  for ((i = 0; i < 25; i++)); do
    kill -0 "$JANUS_PID" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$JANUS_PID" 2>/dev/null
  wait "$JANUS_PID" 2>/dev/null
  JANUS_PID=
}
