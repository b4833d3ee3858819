#!/usr/bin/env bash
# A local cluster on loopback: Redis, HAProxy and N sfu nodes (default 3).
#
#   deploy/cluster/up.sh [N]     starts them, prints one line per endpoint:
#                                  redis redis://127.0.0.1:PORT
#                                  balancer http://127.0.0.1:PORT
#                                  node ID http://127.0.0.1:PORT      (one per node)
#   deploy/cluster/down.sh       stops exactly what up.sh started
#
# Ports: the balancer on SFU_CLUSTER_PORT (default 8080), node i on
# SFU_CLUSTER_PORT+i, Redis on SFU_CLUSTER_PORT+100, node i's media on
# SFU_CLUSTER_MEDIA_PORT+100*i (default 40000; UDP and ICE-TCP, one port per
# worker; SFU_CLUSTER_MEDIA_PORT=0: ephemeral ports). State (pids, logs,
# the generated haproxy.cfg) goes to SFU_CLUSTER_DIR (default
# /tmp/sfu-cluster). The sfu binary: SFU_BIN, else build/server/sfu (built
# if missing). Extra node flags: SFU_CLUSTER_NODE_ARGS.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
n=${1:-3}
base=${SFU_CLUSTER_PORT:-8080}
media_base=${SFU_CLUSTER_MEDIA_PORT:-40000}
dir=${SFU_CLUSTER_DIR:-/tmp/sfu-cluster}
sfu=${SFU_BIN:-$root/build/server/sfu}
[[ "$n" =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 20 )) || { echo "up.sh: N must be 1..20" >&2; exit 2; }
if [[ -e "$dir/pids" ]]; then
  echo "up.sh: a cluster from $dir is running (deploy/cluster/down.sh first)" >&2
  exit 1
fi
for tool in redis-server haproxy curl; do
  command -v "$tool" >/dev/null || { echo "up.sh: $tool missing (bash deploy/install-deps.sh)" >&2; exit 1; }
done
if [[ ! -x "$sfu" ]]; then
  cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$root/build" --target sfu >/dev/null
fi
mkdir -p "$dir"
: > "$dir/pids"
trap 'echo "up.sh: failed; stopping what started" >&2; bash "$(dirname "$0")/down.sh"' ERR

wait_http() {  # URL, seconds: until it answers 200
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 1 "$1" 2>/dev/null; do
    (( SECONDS < deadline )) || { echo "up.sh: $1 not ready after $2 s" >&2; return 1; }
    sleep 0.1
  done
}

redis_port=$((base + 100))
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --loglevel warning \
  >"$dir/redis.log" 2>&1 &
echo "redis $!" >> "$dir/pids"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

# One secret for the HMAC on the nodes' messages (SFU_CLUSTER_SECRET to choose it).
secret=${SFU_CLUSTER_SECRET:-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')}
servers=""
for i in $(seq "$n"); do
  port=$((base + i))
  # shellcheck disable=SC2086
  "$sfu" --listen "127.0.0.1:$port" --rtc-listen "127.0.0.1:$(( media_base ? media_base + 100 * i : 0 ))" --node-id "n$i" \
    --redis "redis://127.0.0.1:$redis_port" --cluster-secret "$secret" ${SFU_CLUSTER_NODE_ARGS:-} >"$dir/n$i.log" 2>&1 &
  echo "node $! n$i $port" >> "$dir/pids"
  servers+="    server n$i 127.0.0.1:$port check"$'\n'
done
# The shipped config with this cluster's balancer port and nodes.
awk -v bind="    bind 127.0.0.1:$base" -v servers="$servers" '
  /^    bind / { print bind; next }
  /^    server / { next }
  /# @NODES@/ { print; printf "%s", servers; next }
  { print }' "$(dirname "$0")/haproxy.cfg" > "$dir/haproxy.cfg"
haproxy -f "$dir/haproxy.cfg" -db >"$dir/haproxy.log" 2>&1 &
echo "haproxy $!" >> "$dir/pids"

for i in $(seq "$n"); do wait_http "http://127.0.0.1:$((base + i))/readyz" 20; done
wait_http "http://127.0.0.1:$base/readyz" 10
trap - ERR
echo "redis redis://127.0.0.1:$redis_port"
echo "balancer http://127.0.0.1:$base"
for i in $(seq "$n"); do echo "node n$i http://127.0.0.1:$((base + i))"; done
