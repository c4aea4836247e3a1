#!/usr/bin/env bash
# bench inflight: ONE worker process holding JOBS renders in flight at once
# against the provider simulator (render time RENDER_MS, so that every job
# is still rendering while we measure; poll interval 10 s). Measures:
#   rss_idle_kb     worker VmRSS once ready, before any job
#   rss_peak_kb     worker VmHWM with all jobs in flight
#   bytes_per_job   (rss_peak - rss_idle) * 1024 / jobs in flight
#   cpu_us_per_poll worker utime+stime (/proc/PID/stat) over WINDOW s /
#                   polls in that window (the worker's GET /stats "polls")
#   polls_per_s     achieved poll rate; ideal = inflight / 10 s
#   late_p50_ms, late_p99_ms, late_max_ms
#                   poll lateness: actual minus scheduled start of every
#                   timer-driven poll since the worker started (its own
#                   histogram, GET /stats poll_late_*), the fill included
#   bench/inflight.sh [JOBS] [WINDOW_S]      (default 100000 20)
# Environment: RENDER_MS (600000), POLL_MS (10000), CONC (64), BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
jobs=${1:-100000}
window=${2:-20}
build=${BUILD:-build}
render=${RENDER_MS:-600000}
poll=${POLL_MS:-10000}
conc=${CONC:-64}
need_tools
bench_scratch
d=$tmp
rport=$(free_port); hport=$(free_port); stport=$(free_port)
rpid=$(start_redis "$d" "$rport" everysec); pids+=("$rpid")
wait_redis "$rport"
start_listening "$d/sim.log" "$build/reelay-simulator" --listen 127.0.0.1:0 --log-level warn
spid=$LISTEN_PID sport=$LISTEN_PORT; pids+=("$spid")
reelay_env "$rport" "$hport" "$sport" 1 1
max=$((jobs + 1000)); [ "$max" -gt 1000000 ] && max=1000000
export REELAY_JOBS_WORKER_MAX_INFLIGHT=$max
export REELAY_HEALTH_WORKER_STATUS_LISTEN=127.0.0.1:$stport
export REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS=$poll
export REELAY_JOBS_MAX_WAIT_S=$((render / 1000 + 600))
key=$("$build/reelay" account create -c deploy/reelay.ini --credits 1000000000 | awk '/api_key/ {print $2}')
"$build/reelay-broker" -c deploy/reelay.ini 2>"$d/broker.log" & bpid=$!; pids+=("$bpid")
"$build/reelay-worker" -c deploy/reelay.ini 2>"$d/worker.log" & wpid=$!; pids+=("$wpid")
wait_http "http://127.0.0.1:$hport/readyz"
wait_http "http://127.0.0.1:$stport/readyz"
sleep 1 # the idle baseline: what the worker holds before any job
rss_idle=$(rss_kb "$wpid")
t0=$(now_ms)
sub=$(REELAY_BENCH_KEY=$key node bench/e2e-client.js --label inflight_submit --no-wait \
  --url "http://127.0.0.1:$hport/v1/video/generations" \
  --n "$jobs" --conc "$conc" --prompt "Slow render for the in-flight bench [sim render_ms=$render steps=0]")
echo "$sub"
stats() { curl -fs "http://127.0.0.1:$stport/stats"; }
jf() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# all in flight: inflight == jobs and every job submitted upstream
deadline=$(( $(now_ms) + 90000 ))
while :; do
  s=$(stats); inf=$(jf inflight <<<"$s"); subs=$(jf submits <<<"$s")
  [ "$inf" -ge "$jobs" ] && [ "$subs" -ge "$jobs" ] && break
  [ "$(now_ms)" -gt "$deadline" ] && { echo "only $inf in flight ($subs submitted) after 90 s" >&2; break; }
  sleep 0.5
done
t_all=$(now_ms)
echo "bench inflight_fill jobs=$jobs inflight=$inf submits=$subs fill_secs=$(awk -v a="$t0" -v b="$t_all" 'BEGIN{printf "%.1f", (b-a)/1000}')"
# let every job get into its 10 s polling rhythm, then measure
sleep $(( poll / 1000 + 2 ))
s0=$(stats); c0=$(cpu_ticks "$wpid"); m0=$(now_ms)
sleep "$window"
s1=$(stats); c1=$(cpu_ticks "$wpid"); m1=$(now_ms)
rss_now=$(rss_kb "$wpid"); rss_peak=$(hwm_kb "$wpid")
inf=$(jf inflight <<<"$s1")
p0=$(jf polls <<<"$s0"); p1=$(jf polls <<<"$s1")
late="late_p50_ms=$(jf poll_late_p50_ms <<<"$s1") late_p99_ms=$(jf poll_late_p99_ms <<<"$s1") late_max_ms=$(jf poll_late_max_ms <<<"$s1")"
hz=$(getconf CLK_TCK)
# the worker's own counters at the end: recoveries and failovers show
# whether it kept up (claimed > jobs: jobs were re-dispatched)
jq_stats() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(' '.join('w_%s=%s' % (k, d[k]) for k in ('claimed','submits','failovers','failed','dropped')))" "$1"; }
awk -v j="$jobs" -v inf="$inf" -v idle="$rss_idle" -v peak="$rss_peak" -v now="$rss_now" \
    -v c0="$c0" -v c1="$c1" -v hz="$hz" -v p0="$p0" -v p1="$p1" -v m0="$m0" -v m1="$m1" \
    -v poll="$poll" -v late="$late" \
    -v extra="$(jq_stats "$s1")" 'BEGIN {
  polls = p1 - p0; secs = (m1 - m0) / 1000
  cpu_us = (c1 - c0) * 1000000 / hz
  printf "bench inflight jobs=%d inflight=%d rss_idle_kb=%d rss_peak_kb=%d rss_now_kb=%d bytes_per_job=%.0f ", j, inf, idle, peak, now, (peak - idle) * 1024 / (inf > 0 ? inf : 1)
  printf "window_s=%.1f polls=%d polls_per_s=%.0f ideal_polls_per_s=%.0f cpu_pct=%.1f cpu_us_per_poll=%.1f %s\n", secs, polls, polls / secs, inf * 1000 / poll, cpu_us / secs / 10000, (polls > 0 ? cpu_us / polls : 0), late " " extra
}'
