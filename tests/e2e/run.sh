#!/usr/bin/env bash
# Runs the browser end-to-end tests against the sfu binary given as $1.
# As root, the tests run in a private network namespace whose only interface
# is loopback, so no traffic can leave the machine (shared/BROWSER-TESTING.md).
# Firefox's ICE needs a default route to find its addresses: one via lo.
set -euo pipefail
cd "$(dirname "$0")"
export SFU_BIN="$1"
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/puppeteer-core ] || [ ! -d node_modules/ws ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
run_tests=(node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs)
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  exec unshare --net bash -c 'ip link set lo up && ip route add default dev lo src 127.0.0.1 && exec "$@"' _ "${run_tests[@]}"
fi
exec "${run_tests[@]}"
