#!/usr/bin/env bash
# Installs every dependency, builds, and runs the whole test suite:
#   1. GCC RelWithDebInfo build: unit tests, loopback integration tests
#      against the real binary, benchmark smoke run (ctest).
#   2. GCC Release (-O3) build under -Werror of what users run and measure
#      (sfu, sfu-load, sfu-bench): -O3 inlines further and warns about
#      things RelWithDebInfo's -O2 never sees.
#   3. GCC build with ThreadSanitizer: the SCTP tests (usrsctp is shared by
#      every worker thread; SctpThreads.* transfer from several at once), then
#      the signaling chaos test against the whole server binary (control
#      thread and two media workers under TSan).
#   4. Clang build with ASan + UBSan: the unit tests again, then every
#      libFuzzer target for SFU_FUZZ_SECONDS each (default 20), failing on
#      any finding.
# Exit status is non-zero if anything fails. Build trees: build/,
# build-release/, build-tsan/, build-san/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
phase() { echo "=== $1 (at ${SECONDS}s)"; }

jobs=$(nproc)
fuzz_seconds=${SFU_FUZZ_SECONDS:-20}

phase "[1/4] GCC build: unit, integration, benchmark smoke"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSFU_BUILD_TESTS=ON -DSFU_BUILD_BENCH=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

phase "[2/4] GCC Release (-O3) build under -Werror: sfu, sfu-load, sfu-bench"
cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release -DSFU_WERROR=ON -DSFU_BUILD_TESTS=OFF \
  -DSFU_BUILD_BENCH=ON >/dev/null
cmake --build build-release -j "$jobs"

phase "[3/4] GCC ThreadSanitizer build: SCTP tests, chaos against the server"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSFU_SANITIZE=thread \
  -DSFU_BUILD_TESTS=ON -DSFU_BUILD_BENCH=OFF -DSFU_E2E=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target sfu_sctp_tests sfu
TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/sfu_sctp_tests
# A race report aborts the server (halt_on_error), which the test reports
# with the server's log tail; exitcode=66 also fails a report at exit. The
# slow-reader scenario needs a flood faster than a TSan server produces (it
# runs in the other two builds); time limits are scaled for TSan's pace.
TSAN_OPTIONS="halt_on_error=1 exitcode=66" SFU_CHAOS_SECONDS=15 SFU_CHAOS_TIME_SCALE=5 \
  python3 tests/integration/chaos_test.py build-tsan/server/sfu \
  -k random_chaos -k two_peers -k thousand -k reconnect

phase "[4/4] Clang ASan+UBSan build: unit tests and fuzzers (${fuzz_seconds}s each)"
CC=clang CXX=clang++ cmake -S . -B build-san -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSFU_SANITIZE=address,undefined -DSFU_BUILD_TESTS=ON -DSFU_BUILD_BENCH=OFF -DSFU_BUILD_FUZZERS=ON \
  -DSFU_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
cmake --build build-san -j "$jobs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Fuzzers run one at a time: each uses a whole core and a fixed time budget.
ctest --test-dir build-san --output-on-failure -j "$jobs" -LE fuzz --timeout 900
ctest --test-dir build-san --output-on-failure -j 1 -L fuzz
phase "done"
