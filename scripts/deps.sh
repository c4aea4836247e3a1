#!/usr/bin/env bash
# Installs every Debian package reelay needs to build, run, test and
# benchmark. Idempotent: installs only what is missing. Run by both README
# commands and by .ci/run, so nothing is ever installed by hand.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config          # toolchain
  libzmq3-dev libhiredis-dev libcurl4-openssl-dev libssl-dev
  libmsgpack-dev libevent-dev libjansson-dev libinih-dev
  libjemalloc-dev                           # the allocator (CMakeLists)
  libcmocka-dev                             # unit tests
  clang libclang-rt-dev                     # fuzz targets (libFuzzer)
  redis-server                              # the embedded default and tests
  python3                                   # integration test harness
  nodejs                                    # webhook examples run in tests
  curl wrk                                  # README walkthrough, bench/
  stress-ng                                 # scripts/test --stress
)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# npm installs the examples' Standard Webhooks package (tests run npm ci
# in examples/). Debian ships it apart from nodejs; a nodejs that bundles
# npm (and conflicts with that package) needs nothing more.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
