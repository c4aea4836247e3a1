#!/usr/bin/env bash
# bench scaling: the submit and end-to-end figures with 1 and 2 processes
# per role on this machine. Brokers share the HTTP port (SO_REUSEPORT) and
# each binds its own ingress/dispatch endpoint; deliverers each bind a
# completion endpoint (bench/lib.sh reelay_env lists them).
#   bench/scaling.sh [SUBMIT_SECONDS] [E2E_JOBS]     (default 8 10000)
# Environment: FSYNC (always), PROCS ("1 2"), BUILD.
set -euo pipefail
cd "$(dirname "$0")/.."
sub_secs=${1:-8}
e2e_jobs=${2:-10000}
fsync=${FSYNC:-always}
procs=${PROCS:-1 2}
line="bench scaling fsync=$fsync"
for n in $procs; do
  # Each part's own lines go to stderr; they are captured first, not teed
  # to /dev/stderr, which would reopen (and truncate) a redirected log.
  s=$(BROKERS=$n REFS=0 FSYNCS=$fsync bench/submit.sh "$sub_secs" 64)
  printf '%s\n' "$s" >&2
  s=$(grep '^bench submit fsync=' <<<"$s")
  e=$(BROKERS=$n WORKERS=$n DELIVERERS=$n BULLMQ=0 FSYNC=$fsync bench/e2e.sh "$e2e_jobs" 64)
  printf '%s\n' "$e" >&2
  e=$(grep '^bench e2e ' <<<"$e")
  line+=" submit_rps_$n=$(sed -n 's/.* rps=\([0-9]*\).*/\1/p' <<<"$s")"
  line+=" submit_p99_ms_$n=$(sed -n 's/.* p99_ms=\([^ ]*\).*/\1/p' <<<"$s")"
  line+=" e2e_jobs_per_s_$n=$(sed -n 's/.* reelay_jobs_per_s=\([^ ]*\).*/\1/p' <<<"$e")"
  line+=" e2e_lost_$n=$(sed -n 's/.* reelay_lost=\([^ ]*\).*/\1/p' <<<"$e")"
done
echo "$line"
