#!/usr/bin/env bash
# bench delivery: ONE deliverer process signing and POSTing webhooks to a
# keep-alive local receiver (nginx answering 200, 1 worker process).
# Feeding it honestly: the full pipeline (broker, worker, simulator with
# zero render) runs JOBS jobs with NO deliverer, until the outbox holds
# every terminal job; then broker and worker are stopped and one
# deliverer is started, and the drain is timed:
#   deliveries_per_s  (JOBS-1) / (last - first webhook) from nginx's $msec log
#   drain_s           deliverer start -> outbox empty (includes its start-up)
#   deliverer_cpu_us_per_delivery, redis_cpu_us_per_delivery
#                     CPU of each during the drain, per delivery
# Then wrk POSTs a webhook-sized body to the same nginx: the ceiling.
#   bench/delivery.sh [JOBS] [WRK_SECONDS]     (default 20000 5)
# Environment: FSYNC (always), CONCURRENCY (deliverer's
# delivery_concurrency, default from reelay.ini: 256), BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
jobs=${1:-20000}
wsecs=${2:-5}
build=${BUILD:-build}
fsync=${FSYNC:-always}
need_tools
bench_scratch
d=$tmp
rport=$(free_port); hport=$(free_port); nport=$(free_port)
rpid=$(start_redis "$d" "$rport" "$fsync"); pids+=("$rpid")
wait_redis "$rport"
npid=$(start_nginx "$d/nginx" "$nport" 1); pids+=("$npid")
wait_http "http://127.0.0.1:$nport/ceiling/x"
start_listening "$d/sim.log" "$build/reelay-simulator" --listen 127.0.0.1:0 --log-level warn
spid=$LISTEN_PID sport=$LISTEN_PORT; pids+=("$spid")
reelay_env "$rport" "$hport" "$sport" 1 1
export REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS=10
[ -n "${CONCURRENCY:-}" ] && export REELAY_WEBHOOK_DELIVERY_CONCURRENCY=$CONCURRENCY
key=$("$build/reelay" account create -c deploy/reelay.ini --credits 1000000000 | awk '/api_key/ {print $2}')
"$build/reelay-broker" -c deploy/reelay.ini 2>"$d/broker.log" & bpid=$!; pids+=("$bpid")
"$build/reelay-worker" -c deploy/reelay.ini 2>"$d/worker.log" & wpid=$!; pids+=("$wpid")
wait_http "http://127.0.0.1:$hport/readyz"
fill=$(REELAY_BENCH_KEY=$key node bench/e2e-client.js --label delivery_fill --no-wait \
  --url "http://127.0.0.1:$hport/v1/video/generations" --n "$jobs" \
  --conc 64 --prompt "Delivery bench [sim render_ms=0 steps=0]" \
  --webhook "http://127.0.0.1:$nport/webhooks/creativeai")
echo "$fill"
accepted=$(sed -n 's/.* accepted=\([0-9]*\).*/\1/p' <<<"$fill")
[ "${accepted:-0}" -gt 0 ] || { echo "no job accepted" >&2; exit 1; }
outbox_full() { [ "$(rl_sum "$rport" zcard 'rl:outbox:*')" -ge "$accepted" ]; }
wait_until 150 "the outbox holding all $accepted jobs" outbox_full
stop_pids "$wpid" "$bpid"
redis-cli -p "$rport" config resetstat >/dev/null
t0=$(now_ms)
"$build/reelay-deliverer" -c deploy/reelay.ini 2>"$d/deliverer.log" & dpid=$!; pids+=("$dpid")
c0="" r0=$(cpu_ticks "$rpid")
deadline=$(( t0 + 150000 ))
while [ "$(rl_sum "$rport" zcard 'rl:outbox:*')" -gt 0 ]; do
  [ -z "$c0" ] && c0=$(cpu_ticks "$dpid")
  [ "$(now_ms)" -gt "$deadline" ] && { echo "outbox did not drain" >&2; break; }
  sleep 0.05
done
t1=$(now_ms)
c1=$(cpu_ticks "$dpid") r1=$(cpu_ticks "$rpid")
left=$(rl_sum "$rport" zcard 'rl:outbox:*')
stop_pids "$dpid"
# What Redis ran for the drain: calls and its own usec per delivery.
redis-cli -p "$rport" info commandstats | tr -d '\r' | awk -F'[:,=]' -v n="$jobs" '
  /^cmdstat_/ { sub("cmdstat_", "", $1)
    printf "bench delivery_redis cmd=%s calls_per_delivery=%.2f usec_per_delivery=%.1f\n", $1, $3 / n, $5 / n }'

log="$d/nginx/logs/webhooks.log"
read -r got ok first last < <(awk '{ n++; if ($2 == 200) ok++; if (f == "" || $1 < f) f = $1; if ($1 > l) l = $1 }
  END { printf "%d %d %s %s\n", n, ok, f, l }' "$log")
wrk -t2 -c64 -d"${wsecs}s" --latency -s bench/webhook.lua "http://127.0.0.1:$nport/ceiling/x" >"$d/wrk.txt"
ceil=$(wrk_summary "$d/wrk.txt")
ceil_rps=$(sed -n 's/.*rps=\([0-9]*\).*/\1/p' <<<"$ceil")
awk -v n="$jobs" -v got="$got" -v ok="$ok" -v f="$first" -v l="$last" -v t0="$t0" -v t1="$t1" \
    -v left="$left" -v ceil="$ceil_rps" -v c0="${c0:-0}" -v c1="$c1" -v hz="$(getconf CLK_TCK)" \
    -v r0="$r0" -v r1="$r1" 'BEGIN {
  rate = (l > f) ? (got - 1) / (l - f) : 0
  printf "bench delivery jobs=%d received=%d ok=%d outbox_left=%d deliveries_per_s=%.0f drain_s=%.2f ", n, got, ok, left, rate, (t1 - t0) / 1000
  printf "deliverer_cpu_us_per_delivery=%.1f redis_cpu_us_per_delivery=%.1f nginx_wrk_rps=%d deliverer_over_ceiling=%.3f\n", (c1 - c0) * 1000000 / hz / (got > 0 ? got : 1), (r1 - r0) * 1000000 / hz / (got > 0 ? got : 1), ceil, (ceil > 0 ? rate / ceil : 0)
}'
