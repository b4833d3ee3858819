#!/usr/bin/env bash
# Installs what the server needs, builds it, and starts it in the foreground
# on http://127.0.0.1:8080 (extra arguments go to the sfu binary; Ctrl-C stops).
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh --runtime
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSFU_BUILD_TESTS=OFF -DSFU_BUILD_BENCH=OFF >/dev/null
cmake --build build -j "$(nproc)" --target sfu
exec ./build/server/sfu "$@"
