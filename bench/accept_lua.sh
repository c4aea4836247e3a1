#!/usr/bin/env bash
# bench accept_lua: the Redis side of one accepted job, alone. redis-benchmark
# runs the embedded accept script (common/lua/_lib.lua + accept.lua, as
# embed.cmake joins them) N times with a ~300-byte job's arguments and a
# new random job id each time (16 connections, pipeline 8), against a
# private Redis with AOF appendfsync FSYNC. No broker, no HTTP: what is
# left is the cost of the design's one atomic accept (key lookup, balance
# check, job hash, index, ledger entry and debit, queue, counters) on
# one Redis thread, and so the most accepts one Redis can take.
#   bench/accept_lua.sh [N=200000]
# Environment: FSYNC (always), REDIS_ARGS (extra redis-server arguments).
# Line: "bench accept_lua fsync=.. calls=.. usec_per_call=..
# redis_cpu_us_per_accept=.. redis_ceiling_per_s=.. failed=.."
#   usec_per_call          Redis's own timing of the script (INFO commandstats)
#   redis_cpu_us_per_accept  main-thread utime+stime / N: the script plus
#                          protocol, AOF propagation and fsync
#   redis_ceiling_per_s    1e6 / redis_cpu_us_per_accept
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
n=${1:-200000}
fsync=${FSYNC:-always}
bench_scratch
port=$(free_port)
redis-server --port "$port" --bind 127.0.0.1 --dir "$tmp" --appendonly yes \
  --appendfsync "$fsync" --save "" --daemonize no ${REDIS_ARGS:-} \
  >"$tmp/redis.log" 2>&1 &
rpid=$!; pids+=("$rpid")
wait_redis "$port"
rc() { redis-cli -p "$port" "$@"; }
sha=$(rc script load "$(cat common/lua/_lib.lua; echo; cat common/lua/accept.lua)")
# The key record lies in the account's partition, as a drawn key's does;
# every key the script touches is declared, as common/rl_state_job.c
# declares them.
kh=$(python3 -c 'import sys; sys.path.insert(0, "tests/integration")
import rkeys; print(rkeys.steer_to("benchkeyhash", "acct_bench"))')
p=$(python3 -c 'import sys; sys.path.insert(0, "tests/integration")
import rkeys; print(rkeys.partition("acct_bench"))')
kkey=$(rl_key apikey "$kh")
akey=$(rl_key acct acct_bench)
rc hset "$kkey" acct acct_bench >/dev/null
rc hset "$akey" credits 1000000000000 >/dev/null
keys=("$kkey" "$akey" "$(rl_key job acct_bench vgen___rand_int__)"
  "$(rl_key acct_jobs acct_bench)" "$(rl_key ledger acct_bench)"
  "$(rl_key queue "$p")" "$(rl_key stats "$p")")
main_cpu() {
  rc info cpu | awk -F: '/used_cpu_(user|sys)_main_thread/ {s += $2} END {print s}'
}
rc config resetstat >/dev/null
c0=$(main_cpu)
now=$(now_ms)
# KEYS and ARGV as common/rl_state_job.c sends them: key hash, job id,
# idempotency key, body hash, price, created_at, 202 body, idempotency
# TTL, rate, burst, active limit, account, then the job's field/value
# pairs.
redis-benchmark -p "$port" -n "$n" -c 16 -P 8 -r 1000000000 -q \
  evalsha "$sha" "${#keys[@]}" "${keys[@]}" "$kh" vgen___rand_int__ "" "" 3 \
  "$now" "" 86400 0 0 0 acct_bench api v1 model kling-v2 \
  prompt "A red fox running through fresh snow at dawn, cinematic, slow motion" \
  duration 5 aspect_ratio 16:9 webhook_url http://127.0.0.1:9/webhooks \
  chain kling-v2,seedance-1-pro provider kling \
  history "[{\"status\":\"pending\",\"phase\":\"Queued\",\"at\":$now,\"reason\":\"accepted\"}]" \
  deadline_at $((now + 600000)) >/dev/null
c1=$(main_cpu)
stats=$(rc info commandstats | grep '^cmdstat_evalsha:')
calls=$(sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p' <<<"$stats")
per=$(sed -n 's/.*usec_per_call=\([0-9.]*\),.*/\1/p' <<<"$stats")
failed=$(sed -n 's/.*failed_calls=\([0-9]*\).*/\1/p' <<<"$stats")
accepted=$(rc hget "$(rl_key stats "$p")" jobs_accepted)
cpu=$(awk -v a="$c0" -v b="$c1" -v n="$n" 'BEGIN { printf "%.1f", (b - a) * 1e6 / n }')
ceiling=$(awk -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? 1e6 / c : 0) }')
echo "bench accept_lua fsync=$fsync calls=$calls accepted=$accepted usec_per_call=$per redis_cpu_us_per_accept=$cpu redis_ceiling_per_s=$ceiling failed=$failed"
# A figure only counts when the calls were accepts: a refused key or a
# failing script is cheap and would inflate the ceiling. Random ids
# repeat now and then (collisions, refused): allow 1 %.
if [ "${calls:-0}" -ne "$n" ] || [ "${failed:-1}" -ne 0 ] ||
   [ "${accepted:-0}" -lt $((n * 99 / 100)) ]; then
  echo "accept_lua: $n calls expected, $calls made, $failed failed, $accepted accepted" >&2
  exit 1
fi
