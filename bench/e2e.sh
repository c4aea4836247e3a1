#!/usr/bin/env bash
# bench e2e: JOBS jobs through the whole reelay pipeline on loopback
# (broker -> worker -> provider simulator with zero render time and one
# poll -> deliverer -> reelay-receiver, which verifies every signature),
# then the same jobs through the BullMQ reference (bench/bullmq/service.js
# + pipeline.js: a Worker with concurrency 100 calling the same simulator
# on its Kling API and POSTing the same signed webhook to a receiver).
# bench/e2e-client.js submits with CONC requests in the air, keeps
# id -> send time, and matches every verified webhook to its job.
#   bench/e2e.sh [JOBS] [CONC]            (default 10000 64; target: 50000)
# Environment: FSYNC (always), POLL_MS (10, provider poll interval, both
# pipelines), BROKERS/WORKERS/DELIVERERS (1 each), BULLMQ=0 to skip the
# reference, TIMEOUT (s per pipeline, default 60 + JOBS/200), BUILD.
# Lines: "bench e2e_run ..." per pipeline, last "bench e2e ...". Each
# run also reports the CPU its own processes used per job (cpu_ms_per_job:
# utime+stime of broker, worker, deliverer and Redis, or of the BullMQ
# service, its worker and its Redis; the simulator, receiver and client
# are shared and left out): on a box both pipelines saturate, the work
# per job is the figure that tells them apart. first_attempt_p50_ms /
# first_attempt_p99_ms: from each job's terminal write to the start of its
# first webhook attempt (bench/first_attempt.lua, read from Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
jobs=${1:-10000}
conc=${2:-64}
build=${BUILD:-build}
fsync=${FSYNC:-always}
poll=${POLL_MS:-10}
nb=${BROKERS:-1} nw=${WORKERS:-1} nd=${DELIVERERS:-1}
bull=${BULLMQ:-1}
timeout=${TIMEOUT:-$((60 + jobs / 200))}
need_tools
[ "$bull" = 1 ] && need_bullmq
bench_scratch
prompt="Product reveal animation on white background, slow dolly-in, soft studio light, 35mm lens [sim render_ms=0 steps=0]"

run_reelay() {
  local d="$tmp/reelay" rport hport i
  mkdir -p "$d"
  rport=$(free_port); hport=$(free_port)
  local rpid; rpid=$(start_redis "$d" "$rport" "$fsync"); pids+=("$rpid")
  wait_redis "$rport"
  start_listening "$d/sim.log" "$build/reelay-simulator" --listen 127.0.0.1:0 --log-level warn
  local spid=$LISTEN_PID sport=$LISTEN_PORT; pids+=("$spid")
  reelay_env "$rport" "$hport" "$sport" "$nb" "$nd"
  export REELAY_PROCESSES_WORKER=$nw
  export REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS=$poll
  export REELAY_PROVIDER_SIM_SEEDANCE_POLL_INTERVAL_MS=$poll
  local key
  key=$("$build/reelay" account create -c deploy/reelay.ini --credits 1000000000 | awk '/api_key/ {print $2}')
  (umask 077 && printf '%s\n' "$key" >"$d/key")  # never on a command line
  start_listening "$d/rcv.log" "$build/reelay-receiver" --listen 127.0.0.1:0 \
    --key-file "$d/key" --out "$d/deliveries.jsonl" --max-deliveries 10 --log-level warn
  local cpid=$LISTEN_PID cport=$LISTEN_PORT; pids+=("$cpid")
  local rp=()
  for ((i = 0; i < nb; i++)); do
    "$build/reelay-broker" -c deploy/reelay.ini --index "$i" 2>"$d/broker-$i.log" & rp+=($!)
  done
  for ((i = 0; i < nw; i++)); do
    "$build/reelay-worker" -c deploy/reelay.ini --index "$i" 2>"$d/worker-$i.log" & rp+=($!)
  done
  for ((i = 0; i < nd; i++)); do
    "$build/reelay-deliverer" -c deploy/reelay.ini --index "$i" 2>"$d/deliverer-$i.log" & rp+=($!)
  done
  pids+=("${rp[@]}")
  wait_http "http://127.0.0.1:$hport/readyz"
  # Every worker holds its lease on every partition (16 keys), and the
  # broker has heard its capacity.
  workers_in() { [ "$(rl_sum "$rport" zcard 'rl:workers:*')" -ge $((nw * 16)) ] &&
    curl -fs "http://127.0.0.1:$hport/readyz" | python3 -c \
      "import json,sys; sys.exit(json.load(sys.stdin)['workers'] < $nw)"; }
  wait_until 10 "$nw workers registered with the broker" workers_in
  local c0; c0=$(cpu_sum "${rp[@]}" "$rpid")
  REELAY_LINE=$(REELAY_BENCH_KEY=$key node bench/e2e-client.js --label e2e_run --url "http://127.0.0.1:$hport/v1/video/generations" \
    --n "$jobs" --conc "$conc" --prompt "$prompt" \
    --webhook "http://127.0.0.1:$cport/webhooks/creativeai" \
    --receiver "http://127.0.0.1:$cport" --deliveries "$d/deliveries.jsonl" --timeout "$timeout")
  REELAY_LINE+=" cpu_ms_per_job=$(cpu_per_job "$jobs" "$c0" "${rp[@]}" "$rpid")"
  local fa; fa=$(redis-cli -p "$rport" --eval bench/first_attempt.lua)
  REELAY_LINE+=" first_attempt_p50_ms=$(field p50_ms " $fa") first_attempt_p99_ms=$(field p99_ms " $fa")"
  echo "$REELAY_LINE pipeline=reelay brokers=$nb workers=$nw deliverers=$nd fsync=$fsync"
  stop_pids "${rp[@]}" "$cpid" "$spid" "$rpid"
}

run_bullmq() {
  local d="$tmp/bullmq" rport hport
  mkdir -p "$d"
  rport=$(free_port); hport=$(free_port)
  local rpid; rpid=$(start_redis "$d" "$rport" "$fsync"); pids+=("$rpid")
  wait_redis "$rport"
  start_listening "$d/sim.log" "$build/reelay-simulator" --listen 127.0.0.1:0 --log-level warn
  local spid=$LISTEN_PID sport=$LISTEN_PORT; pids+=("$spid")
  export REDIS_PORT=$rport SIM_URL=http://127.0.0.1:$sport POLL_MS=$poll CONCURRENCY=100
  export MASTER_KEY=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  local key
  key=$(node bench/bullmq/service.js account 1000000000 | awk '/api_key/ {print $2}')
  (umask 077 && printf '%s\n' "$key" >"$d/key")  # never on a command line
  start_listening "$d/rcv.log" "$build/reelay-receiver" --listen 127.0.0.1:0 \
    --key-file "$d/key" --out "$d/deliveries.jsonl" --max-deliveries 10 --log-level warn
  local cpid=$LISTEN_PID cport=$LISTEN_PORT; pids+=("$cpid")
  node bench/bullmq/service.js serve "$hport" >"$d/service.log" 2>&1 & local svc=$!
  node bench/bullmq/pipeline.js worker >"$d/worker.log" 2>&1 & local wk=$!
  pids+=("$svc" "$wk")
  wait_http "http://127.0.0.1:$hport/readyz"
  wait_until 10 "the BullMQ worker ready" grep -q ready "$d/worker.log"
  local c0; c0=$(cpu_sum "$svc" "$wk" "$rpid")
  BULL_LINE=$(REELAY_BENCH_KEY=$key node bench/e2e-client.js --label e2e_run --url "http://127.0.0.1:$hport/v1/video/generations" \
    --n "$jobs" --conc "$conc" --prompt "$prompt" \
    --webhook "http://127.0.0.1:$cport/webhooks/creativeai" \
    --receiver "http://127.0.0.1:$cport" --deliveries "$d/deliveries.jsonl" --timeout "$timeout")
  BULL_LINE+=" cpu_ms_per_job=$(cpu_per_job "$jobs" "$c0" "$svc" "$wk" "$rpid")"
  echo "$BULL_LINE pipeline=bullmq concurrency=100 fsync=$fsync"
  stop_pids "$svc" "$wk" "$cpid" "$spid" "$rpid"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
# cpu_sum PID...: their utime+stime together, in clock ticks.
cpu_sum() {
  local t=0 p
  for p in "$@"; do t=$((t + $(cpu_ticks "$p"))); done
  echo "$t"
}
# cpu_per_job JOBS T0 PID...: the ms of CPU those processes used since
# cpu_sum said T0 (just before the load: start-up is not counted), per job.
cpu_per_job() {
  local n=$1 t0=$2 t; shift 2
  t=$(( $(cpu_sum "$@") - t0 ))
  awk -v t="$t" -v hz="$(getconf CLK_TCK)" -v n="$n" 'BEGIN { printf "%.3f", t * 1000 / hz / n }'
}
run_reelay
line="bench e2e jobs=$jobs fsync=$fsync poll_ms=$poll brokers=$nb workers=$nw deliverers=$nd"
line+=" reelay_jobs_per_s=$(field jobs_per_s "$REELAY_LINE") reelay_p99_ms=$(field p99_ms "$REELAY_LINE") reelay_lost=$(field lost "$REELAY_LINE") reelay_cpu_ms_per_job=$(field cpu_ms_per_job "$REELAY_LINE")"
line+=" reelay_first_attempt_p99_ms=$(field first_attempt_p99_ms "$REELAY_LINE")"
if [ "$bull" = 1 ]; then
  run_bullmq
  line+=" bullmq_jobs_per_s=$(field jobs_per_s "$BULL_LINE") bullmq_p99_ms=$(field p99_ms "$BULL_LINE") bullmq_lost=$(field lost "$BULL_LINE") bullmq_cpu_ms_per_job=$(field cpu_ms_per_job "$BULL_LINE")"
  line+=" bullmq_cpu_over_reelay=$(awk -v a="$(field cpu_ms_per_job "$BULL_LINE")" -v b="$(field cpu_ms_per_job "$REELAY_LINE")" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "na" }')"
  line+=" reelay_over_bullmq=$(awk -v a="$(field jobs_per_s "$REELAY_LINE")" -v b="$(field jobs_per_s "$BULL_LINE")" 'BEGIN{ if (b > 0) printf "%.3f", a/b; else print "na" }')"
fi
echo "$line"
