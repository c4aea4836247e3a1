#!/usr/bin/env bash
# bench submit: wrk POSTs ~300-byte job bodies to one broker process on
# loopback (Redis with AOF appendfsync=always, the project default, then
# everysec). No worker runs, so the figure is the accept path alone:
# auth, validation, the atomic debit+persist+queue script, the 202.
#   bench/submit.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
secs=${1:-10}
conns=${2:-64}
build=${BUILD:-build}
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

run_one() {
  local fsync=$1
  local rport hport
  rport=$(free_port); hport=$(free_port)
  mkdir -p "$tmp/$fsync"
  local rpid; rpid=$(start_redis "$tmp/$fsync" "$rport" "$fsync"); pids+=("$rpid")
  wait_redis "$rport"
  export REELAY_REDIS_PORT=$rport REELAY_HTTP_LISTEN=127.0.0.1:$hport
  export REELAY_ZMQ_INGRESS=tcp://127.0.0.1:$(free_port)
  export REELAY_ZMQ_DISPATCH=tcp://127.0.0.1:$(free_port)
  export REELAY_LAUNCHER_LOG_LEVEL=warn
  local key
  key=$("$build/reelay" account create -c deploy/reelay.ini --credits 1000000000 | awk '/api_key/ {print $2}')
  "$build/reelay-broker" -c deploy/reelay.ini 2>"$tmp/$fsync/broker.log" &
  local bpid=$!; pids+=("$bpid")
  wait_http "http://127.0.0.1:$hport/readyz"
  REELAY_BENCH_KEY=$key wrk -t2 -c"$conns" -d"${secs}s" --latency \
    -s bench/submit.lua "http://127.0.0.1:$hport/v1/video/generations" \
    >"$tmp/$fsync/wrk.txt"
  local accepted
  accepted=$(redis-cli -p "$rport" hget rl:stats jobs_accepted)
  echo "bench submit fsync=$fsync conns=$conns $(wrk_summary "$tmp/$fsync/wrk.txt") accepted=$accepted"
  kill "$bpid" "$rpid"; wait "$bpid" "$rpid" 2>/dev/null || true
}

run_one always
run_one everysec
