#!/usr/bin/env bash
# Installs every build and test dependency of the SFU from Debian 12 packages.
# Idempotent and non-interactive: packages already present are skipped, so a
# second run costs one dpkg query. Run as root (or with sudo available).
#
#   deploy/install-deps.sh            build + test dependencies
#   deploy/install-deps.sh --runtime  only what the server needs to build and run
#   deploy/install-deps.sh --bench    also the load-benchmark comparison
#                                     (bench/compare.sh): Janus and gnuplot
set -euo pipefail

runtime_only=0
bench=0
for arg in "$@"; do
  case "$arg" in
    --runtime) runtime_only=1 ;;
    --bench) bench=1 ;;
    *) echo "install-deps: unknown option $arg (use --runtime or --bench)" >&2; exit 2 ;;
  esac
done

# Build toolchain and the libraries the server links.
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libssl-dev libsrtp2-dev libusrsctp-dev libuv1-dev
  nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libhiredis-dev
  curl ca-certificates
)
# Tests, benchmarks and fuzzers (clang provides libFuzzer and the sanitizers).
if (( ! runtime_only )); then
  packages+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    clang libclang-rt-14-dev llvm
    python3 iproute2 util-linux openssl
    chromium fonts-liberation
    firefox-esr python3-aiortc coturn prometheus redis-server haproxy
  )
  # Node.js for the browser tests' npm tooling, unless a node is already on PATH.
  command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
fi
# The Janus side of the load benchmark (Debian 12 ships janus 1.1.2) and the
# CPU-vs-packets plot; iproute2 for the benchmark's network namespace.
if (( bench )); then
  packages+=(janus gnuplot-nox iproute2 util-linux)
fi

missing=()
for p in "${packages[@]}"; do
  # dpkg-query prints "install ok installed" only for fully installed packages.
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if (( ${#missing[@]} == 0 )); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
(( EUID != 0 )) && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
