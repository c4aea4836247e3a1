#!/usr/bin/env bash
# Configures and builds reelay into build/ (or build-asan/ with --sanitize:
# AddressSanitizer + UndefinedBehaviorSanitizer; build-release/ with
# --release). The default is the dev/test
# build (scripts/run, scripts/test): it compiles the named crash points
# and fault injection the recovery tests drive (REELAY_CRASH_POINTS=ON),
# which a release build leaves off (docs/operations.md, Crash safety).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
opts=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREELAY_CRASH_POINTS=ON)
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  opts=(-DCMAKE_BUILD_TYPE=Debug -DREELAY_SANITIZE=ON -DREELAY_CRASH_POINTS=ON)
elif [ "${1:-}" = "--release" ]; then
  # What an operator builds: -O3, no crash points. scripts/test compiles
  # it (the optimiser finds warnings, and so -Werror errors, that -O2
  # does not).
  dir=build-release
  opts=(-DCMAKE_BUILD_TYPE=Release)
fi
# Configured once per directory (each has fixed options); after that
# `cmake --build` re-runs the configuration itself when a CMakeLists.txt
# changes.
if [ ! -f "$dir/CMakeCache.txt" ]; then
  echo "build.sh: configuring $dir"
  cmake -S . -B "$dir" "${opts[@]}" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
