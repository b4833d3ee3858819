#!/usr/bin/env bash
# Runs one command against Janus' VideoRoom inside a private network
# namespace, then cleans everything up (also on Ctrl-C / errors).
#
#   sudo bench/janus/janus-netns.sh [--cpu N] [--timeout SECONDS] [--keep-logs DIR] -- COMMAND...
#
# Creates namespace sfubench-<pid> with a veth pair (10.200.0.1/24 and
# 10.200.0.2/24, see lib.sh), writes a minimal Janus config (VideoRoom +
# WebSockets on ws://10.200.0.1:8188, ICE gathering on that veth only),
# starts Janus there (pinned with taskset when --cpu is given), waits until
# it answers, runs COMMAND inside the namespace with JANUS_URL set, and
# stops Janus and deletes the namespace. COMMAND is killed after --timeout
# (default 300 s). Example:
#
#   sudo bench/janus/janus-netns.sh -- build/bench/load/sfu-load --target janus \
#        --url ws://10.200.0.1:8188/ --rooms 1 --publishers 2 --subscribers 4 --duration 20
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

cpu= timeout_s=300 keep=
while [ $# -gt 0 ]; do
  case $1 in
    --cpu) cpu=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --keep-logs) keep=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [--cpu N] [--timeout S] [--keep-logs DIR] -- COMMAND..." >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "no command given" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root (ip netns)" >&2; exit 2; }
command -v janus >/dev/null || { echo "janus not installed: deploy/install-deps.sh --bench" >&2; exit 2; }

ns=sfubench-$$
work=$(mktemp -d /tmp/sfu-janus.XXXXXX)
port=8188
cleanup() {
  janus_stop
  bench_netns_down "$ns"
  if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$work/janus.log" "$keep/" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_netns_up "$ns" || { echo "could not create namespace $ns" >&2; exit 1; }
janus_write_config "$work" "$BENCH_ADDR" "$port"
pin=()
[ -n "$cpu" ] && pin=(taskset -c "$cpu")
janus_start "$ns" "$work" "$BENCH_ADDR" "$port" "$work/janus.log" "${pin[@]}" || exit 1
echo "janus $(janus --version 2>/dev/null | head -1) up at ws://$BENCH_ADDR:$port/ (pid $JANUS_PID, ns $ns)" >&2

JANUS_URL=ws://$BENCH_ADDR:$port/ ip netns exec "$ns" env JANUS_URL="ws://$BENCH_ADDR:$port/" \
  timeout --kill-after=5 "$timeout_s" "$@"
rc=$?
exit $rc
