#!/usr/bin/env bash
# Our SFU against Janus' VideoRoom under identical load, one core each.
#
#   sudo bench/compare.sh [--build DIR] [--cpu N] [--load-cpu N] [--duration S]
#                         [--ramp R] [--steps "2 4 8 16 ..."] [--out DIR] [--only sfu|janus]
#                         [--repeat R] [--sfu-flags "FLAGS"]   (more flags for our server, e.g. --no-udp-gso)
#                         [--layer S]   (the simulcast layer every subscriber asks for; default 2, the top)
#                         [--rooms R] [--workers W] [--load-threads T]
#                                       (R rooms per step, each of 2 publishers + the step's subscribers;
#                                       W workers for our server, on the cores of --cpu, e.g. --cpu 0,1;
#                                       T media threads for sfu-load; all default 1)
#
# Everything runs inside a private network namespace (bench/janus/lib.sh:
# veth 10.200.0.1/24, which Janus needs because it ignores loopback when
# gathering); both servers listen on 10.200.0.1, pinned to core --cpu
# (default 1) with taskset, ours with one worker. For each server, rooms of 2
# publishers get a rising number of subscribers (--steps), each step a
# bounded `sfu-load --json` run pinned to --load-cpu (default 0; joins at
# --ramp per second, default 100, so that the ramp is a small part of the
# averages; then --duration s of media, default 15), repeated --repeat times
# (default 3; each repeat a fresh sfu-load against the same server). A step
# holds only when every repeat is within the limits (bench/compare_step.py):
# server CPU < 90 % of its core, loss <= 1 %, nobody failed, every track
# arrived and kept arriving (a packet every second), every video track's
# steady bitrate within 10 % of the layer's (both servers are asked for the
# same layer, --layer: setPreferredLayers / Janus' substream, so both forward
# the same media), the generator not CPU-bound (VOID). The sweep stops at the first
# step that does not hold and says which limit stopped it. Each step prints
# CPU ms per 1,000 forwarded packets (min and median over the repeats), the
# server's RSS and the kernel's receive-buffer drops in the namespace
# (/proc/net/snmp RcvbufErrors, counted by sfu-load). Then it prints, per
# server and as ours/Janus ratios:
#
#   subscribers sustained per core   the last step that stayed within limits
#   CPU ms per 1,000 forwarded pkts  server CPU time / packets it sent, at that step
#                                    (CPU and packets/s of sfu-load's steady window,
#                                    after the ramp)
#   latency p50 / p99                one-way, publisher -> subscriber, at that step
#   fraction of the loopback floor   forwarded packets/s per core divided by
#                                    sfu-loopback-calibrate's recv+send packets/s
#                                    per core (measured first, same namespace, same core)
#
# and writes OUT/cpu-vs-pps.png (gnuplot): server CPU % against forwarded
# packets/s for both. Raw sfu-load JSON per step stays in OUT.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/janus/lib.sh"

build=$here/../build cpu=1 load_cpu=0 duration=15 ramp=100 out= only= sfu_flags= repeat=3 layer=2 rooms=1 workers=1
load_threads=1
steps="2 4 8 16 32 48 64 96 128 192 256 384 512 768 1024"
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    --load-cpu) load_cpu=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --sfu-flags) sfu_flags=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --layer) layer=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --load-threads) load_threads=$2; shift 2 ;;
    *) sed -n '2,50p' "$0" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "compare.sh: needs root (ip netns)" >&2; exit 2; }
# The CPU limit of a step is 90 % of each core the server may use.
export COMPARE_CPU_CORES=$(echo "$cpu" | tr ',' '\n' | grep -c .)
load=$build/bench/load/sfu-load
calib=$build/bench/load/sfu-loopback-calibrate
sfu=$build/server/sfu
for b in "$load" "$calib" "$sfu"; do [ -x "$b" ] || { echo "compare.sh: missing $b (build it first)" >&2; exit 2; }; done
out=${out:-$(mktemp -d /tmp/sfu-compare.XXXXXX)}
mkdir -p "$out"
ns=sfucmp-$$
work=$(mktemp -d /tmp/sfu-compare-work.XXXXXX)
SFU_PID=
stop_sfu() {
  [ -n "$SFU_PID" ] || return 0
  kill "$SFU_PID" 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$SFU_PID" 2>/dev/null || break; sleep 0.3; done
  kill -9 "$SFU_PID" 2>/dev/null
  wait "$SFU_PID" 2>/dev/null
  SFU_PID=
}
cleanup() {
  stop_sfu
  janus_stop
  bench_netns_down "$ns"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_netns_up "$ns" || { echo "compare.sh: cannot create namespace" >&2; exit 1; }

echo "== loopback floor (core $cpu)"
ip netns exec "$ns" taskset -c "$cpu" "$calib" --addr "$BENCH_ADDR" --seconds 3 --json >"$out/calibrate.json" || exit 1
cat "$out/calibrate.json"

# One run: sfu-load against URL with N subscribers (repeat R); prints its JSON file.
run_step() {
  local target=$1 url=$2 pid=$3 n=$4 r=$5 file=$out/$1-$4-$5.json
  ip netns exec "$ns" taskset -c "$load_cpu" timeout --kill-after=5 $((duration + 60)) \
    "$load" --target "$target" --url "$url" --rooms "$rooms" --threads "$load_threads" --publishers 2 --subscribers "$n" --layer "$layer" \
    --ramp "$ramp" --duration "$duration" --server-pid "$pid" --room-prefix "cmp-$n-$r" --bind "$BENCH_PEER_ADDR" --json \
    >"$file" 2>"$out/$target-$n-$r.log"
  echo "$file"
}

# Prints a .dat line (bench/compare_step.py) as a table row.
print_row() {
  set -- $1
  printf '  %4d subscribers  cpu %6.1f %%  out %8.0f pkt/s  loss %6.3f %%  p50 %6.2f ms  p99 %7.2f ms  failed %d  tracks %d/%d  video %.2fx layer  %6.3f ms/1000 pkts  rcvbuf drops %d%s\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" "${17}" "${12}" "${14}" "$([ "${10}" = 1 ] && echo '  VOID (load generator CPU-bound)')"
}

sweep() {
  local target=$1 url=$2 pid=$3 n r f res line why
  : >"$out/$target.dat"
  echo steps >"$out/$target.stop"  # why the sweep ended: steps | limit <reason> | died | no report
  for n in $steps; do
    local files=()
    for r in $(seq 1 "$repeat"); do
      kill -0 "$pid" 2>/dev/null || { echo "  $target died"; echo died >"$out/$target.stop"; return; }
      f=$(run_step "$target" "$url" "$pid" "$n" "$r")
      if ! res=$(python3 "$here/compare_step.py" "$n" "$f" 2>/dev/null); then
        echo "  $n subscribers, repeat $r: no report (see $out/$target-$n-$r.log)"
        echo "no report" >"$out/$target.stop"
        return
      fi
      printf '  #%d' "$r"
      print_row "$(echo "$res" | head -1)"
      files+=("$f")
    done
    res=$(python3 "$here/compare_step.py" "$n" "${files[@]}") || return
    line=$(echo "$res" | head -1)
    why=$(echo "$res" | tail -1)
    echo "$line" >>"$out/$target.dat"
    set -- $line
    printf '  %4d subscribers over %d repeats: CPU ms per 1,000 forwarded pkts min %.3f median %.3f, RSS %.1f MB, rcvbuf drops %d\n' \
      "$1" "${15}" "${11}" "${12}" "${13}" "${14}"
    if [ "$why" != ok ]; then
      echo "  stopped at $n subscribers: ${why#stop }"
      echo "limit ${why#stop }" >"$out/$target.stop"
      return
    fi
  done
}

if [ "$only" != janus ]; then
  echo "== our SFU ($workers worker(s), core(s) $cpu, $rooms room(s) per step)"
  # Signaling on the namespace's loopback (anonymous joins need a loopback
  # listener), media on the same private address as Janus'.
  # Rooms as large as the biggest step (the default limit is 100 peers).
  printf 'limits:\n  max_peers_per_room: 10000\n' >"$work/sfu.yaml"
  ip netns exec "$ns" taskset -c "$cpu" "$sfu" --config "$work/sfu.yaml" --workers "$workers" --listen 127.0.0.1:8080 \
    --rtc-listen "$BENCH_ADDR:40000" --no-ice-tcp $sfu_flags >"$out/sfu-server.log" 2>&1 &
  SFU_PID=$!
  if wait_tcp "$ns" 127.0.0.1 8080 20; then
    sweep sfu "ws://127.0.0.1:8080/ws" "$SFU_PID"
  else
    echo "  our server did not start (see $out/sfu-server.log)"
  fi
  stop_sfu
fi
if [ "$only" != sfu ]; then
  echo "== Janus $(janus --version 2>/dev/null | sed -n 's/.*(\(.*\)).*/\1/p' | head -1) (VideoRoom, core $cpu)"
  janus_write_config "$work/janus" "$BENCH_ADDR" 8188
  if janus_start "$ns" "$work/janus" "$BENCH_ADDR" 8188 "$out/janus-server.log" taskset -c "$cpu"; then
    sweep janus "ws://$BENCH_ADDR:8188/" "$JANUS_PID"
  fi
  janus_stop
fi

python3 "$here/compare_summary.py" "$out"

if command -v gnuplot >/dev/null; then
  plot="plot "
  sep=
  for t in sfu janus; do
    if [ -s "$out/$t.dat" ]; then plot+="$sep'$out/$t.dat' using 3:2 with linespoints title '$t'"; sep=", "; fi
  done
  if [ -n "$sep" ]; then
    gnuplot <<GP
set terminal pngcairo size 900,600 noenhanced
set output '$out/cpu-vs-pps.png'
set title 'Server CPU vs forwarded packets/s (one core, rooms of 2 publishers)'
set xlabel 'forwarded packets/s (server out)'
set ylabel 'server CPU (% of one core)'
set key left top
set grid
$plot
GP
    echo "plot: $out/cpu-vs-pps.png"
  fi
fi
echo "raw results: $out"
