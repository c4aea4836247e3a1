#!/usr/bin/env bash
# Installs every Debian package reelay needs to build, run, test and
# benchmark. Idempotent: installs only what is missing. Run by both README
# commands and by .ci/run, so nothing is ever installed by hand.
#
# It also installs the examples' npm package (examples/package-lock.json)
# into build-deps/node/node_modules, ignored by git like every build
# directory, for test_webhook_examples: the tests then need no network
# and leave examples/ as it is in git.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
  build-essential cmake pkg-config          # toolchain
  libzmq3-dev libhiredis-dev libcurl4-openssl-dev libssl-dev
  libmsgpack-dev libevent-dev libjansson-dev libinih-dev
  libjemalloc-dev                           # the allocator (CMakeLists)
  libcmocka-dev                             # unit tests
  clang libclang-rt-dev                     # fuzz targets (libFuzzer)
  clang-format clang-tidy                   # check-source, scripts/tidy
  redis-server                              # the embedded default and tests
  redis-tools                               # redis-cli --cluster (rcluster.py)
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

# npm installs the examples' Standard Webhooks package (below). Debian
# ships it apart from nodejs; a nodejs that bundles npm (and conflicts
# with that package) needs nothing more.
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

# The examples' npm package, exactly as the committed lock file pins it;
# installed again only when package.json or the lock file change.
node_dir=build-deps/node
want=$(cat examples/package.json examples/package-lock.json | sha256sum |
       cut -d' ' -f1)
if [ ! -d "$node_dir/node_modules/standardwebhooks" ] ||
   [ "$(cat "$node_dir/.inputs.sha256" 2>/dev/null)" != "$want" ]; then
  echo "deps: npm ci of examples/package-lock.json into $node_dir"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp examples/package.json examples/package-lock.json "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$node_dir/.inputs.sha256"
fi
