#!/usr/bin/env bash
# bench submit: wrk POSTs ~300-byte job bodies to reelay's broker on
# loopback (Redis with AOF appendfsync=always, the project default, then
# everysec). No worker runs, so the figure is the accept path alone:
# auth, validation, the atomic debit+persist+queue script, the 202.
# In the same run, with the same wrk settings, two references:
#   nginx   a fixed 202 JSON body on POST (the HTTP ceiling of this box)
#   bullmq  bench/bullmq/service.js: Node http, key hash -> account in
#           Redis, Lua credit check-and-debit + job hash + ledger,
#           queue.add (a Redis of its own, same appendfsync)
#   bench/submit.sh [SECONDS] [CONNECTIONS]
# Environment: BROKERS=N (reelay brokers sharing the port, default 1),
# REFS=0 (skip nginx and BullMQ), FSYNCS="always everysec", BUILD=build.
# Lines: "bench submit fsync=.. conns=.. rps=.. p50_ms=.. p99_ms=.. non2xx=..
# accepted=.." per fsync, "bench submit_ref server=..", and last one
# "bench submit_summary ..." with the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
secs=${1:-10}
conns=${2:-64}
build=${BUILD:-build}
brokers=${BROKERS:-1}
refs=${REFS:-1}
fsyncs=${FSYNCS:-always everysec}
need_tools
[ "$refs" = 1 ] && need_bullmq
bench_scratch
declare -A R

# wrk_line FILE: the summary of one wrk run; sets LAST_RPS.
wrk_run() {
  local out=$1 url=$2 key=$3
  REELAY_BENCH_KEY=$key wrk -t2 -c"$conns" -d"${secs}s" --latency \
    -s bench/submit.lua "$url" >"$out"
  LAST_SUMMARY=$(wrk_summary "$out")
  LAST_RPS=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$LAST_SUMMARY")
}

run_reelay() {
  local fsync=$1 d="$tmp/reelay-$1" rport hport i
  mkdir -p "$d"
  rport=$(free_port); hport=$(free_port)
  local rpid; rpid=$(start_redis "$d" "$rport" "$fsync"); pids+=("$rpid")
  wait_redis "$rport"
  reelay_env "$rport" "$hport" 1 "$brokers" 1
  local key bp=()
  key=$("$build/reelay" account create -c deploy/reelay.ini --credits 1000000000 | awk '/api_key/ {print $2}')
  for ((i = 0; i < brokers; i++)); do
    "$build/reelay-broker" -c deploy/reelay.ini --index "$i" 2>"$d/broker-$i.log" &
    bp+=($!); pids+=($!)
  done
  # One broker answering is enough for readyz; wait until every broker
  # of the shared port (SO_REUSEPORT) has its own listening socket.
  wait_http "http://127.0.0.1:$hport/readyz"
  all_listening() { [ "$(listeners "$hport")" -ge "$brokers" ]; }
  wait_until 10 "$brokers brokers listening on $hport" all_listening
  wrk_run "$d/wrk.txt" "http://127.0.0.1:$hport/v1/video/generations" "$key"
  local accepted
  accepted=$(rl_sum "$rport" hget 'rl:stats:*' jobs_accepted)
  echo "bench submit fsync=$fsync conns=$conns $LAST_SUMMARY accepted=$accepted${BROKERS:+ brokers=$brokers}"
  R[reelay_$fsync]=$LAST_RPS
  stop_pids "${bp[@]}" "$rpid"
}

run_bullmq() {
  local fsync=$1 d="$tmp/bullmq-$1" rport hport
  mkdir -p "$d"
  rport=$(free_port); hport=$(free_port)
  local rpid; rpid=$(start_redis "$d" "$rport" "$fsync"); pids+=("$rpid")
  wait_redis "$rport"
  local key
  key=$(REDIS_PORT=$rport node bench/bullmq/service.js account 1000000000 | awk '/api_key/ {print $2}')
  REDIS_PORT=$rport node bench/bullmq/service.js serve "$hport" >"$d/service.log" 2>&1 &
  local spid=$!; pids+=("$spid")
  wait_http "http://127.0.0.1:$hport/readyz"
  wrk_run "$d/wrk.txt" "http://127.0.0.1:$hport/v1/video/generations" "$key"
  local accepted
  accepted=$(redis-cli -p "$rport" eval "return #redis.call('keys','bq:job:*')" 0)
  echo "bench submit_ref server=bullmq fsync=$fsync conns=$conns $LAST_SUMMARY accepted=$accepted"
  R[bullmq_$fsync]=$LAST_RPS
  stop_pids "$spid" "$rpid"
}

run_nginx() {
  local d="$tmp/nginx" port
  port=$(free_port)
  local npid; npid=$(start_nginx "$d" "$port" 1); pids+=("$npid")
  wait_http "http://127.0.0.1:$port/ceiling/x"
  wrk_run "$d/wrk.txt" "http://127.0.0.1:$port/v1/video/generations" none
  echo "bench submit_ref server=nginx workers=1 conns=$conns $LAST_SUMMARY"
  R[nginx]=$LAST_RPS
  stop_pids "$npid"
}

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "na" }'; }

[ "$refs" = 1 ] && run_nginx
for f in $fsyncs; do
  run_reelay "$f"
  [ "$refs" = 1 ] && run_bullmq "$f"
done
line="bench submit_summary conns=$conns secs=$secs brokers=$brokers"
for f in $fsyncs; do
  line+=" reelay_${f}_rps=${R[reelay_$f]}"
  if [ "$refs" = 1 ]; then
    line+=" bullmq_${f}_rps=${R[bullmq_$f]}"
    line+=" reelay_over_nginx_${f}=$(ratio "${R[reelay_$f]}" "${R[nginx]}")"
    line+=" reelay_over_bullmq_${f}=$(ratio "${R[reelay_$f]}" "${R[bullmq_$f]}")"
  fi
done
[ "$refs" = 1 ] && line+=" nginx_rps=${R[nginx]}"
echo "$line"
