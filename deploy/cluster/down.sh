#!/usr/bin/env bash
# Stops what deploy/cluster/up.sh started (the pids it recorded in
# SFU_CLUSTER_DIR, default /tmp/sfu-cluster): HAProxy, then the nodes with
# SIGTERM (they leave the registry; drained after --drain-timeout), then
# Redis. Nothing else is touched.
set -uo pipefail
dir=${SFU_CLUSTER_DIR:-/tmp/sfu-cluster}
[[ -e "$dir/pids" ]] || { echo "down.sh: nothing recorded in $dir" >&2; exit 0; }
stop() {  # pid, seconds before SIGKILL
  kill -TERM "$1" 2>/dev/null || return 0
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    (( SECONDS < deadline )) || { kill -KILL "$1" 2>/dev/null; break; }
    sleep 0.1
  done
}
while read -r kind pid _; do [[ "$kind" == haproxy ]] && stop "$pid" 5; done < "$dir/pids"
while read -r kind pid _; do [[ "$kind" == node ]] && kill -TERM "$pid" 2>/dev/null; done < "$dir/pids"
while read -r kind pid _; do [[ "$kind" == node ]] && stop "$pid" 45; done < "$dir/pids"
while read -r kind pid _; do [[ "$kind" == redis ]] && stop "$pid" 5; done < "$dir/pids"
rm -f "$dir/pids"
echo "down.sh: stopped"
