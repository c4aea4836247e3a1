#!/usr/bin/env bash
# Runs every benchmark once with its defaults (about 12 minutes on 2
# cores) and prints each one's lines; the "bench NAME ..." summary lines
# are also collected at the end. Every part also runs alone:
#   bench/submit.sh [SECONDS] [CONNECTIONS]
#   bench/accept_lua.sh [N]        (the Redis side of submit, alone)
#   bench/e2e.sh [JOBS] [CONC]
#   bench/inflight.sh [JOBS] [WINDOW_S]
#   bench/delivery.sh [JOBS] [WRK_SECONDS]
#   bench/scaling.sh [SUBMIT_SECONDS] [E2E_JOBS]
#   bench/retention.py [JOBS] [THREADS]
# QUICK=1 shrinks every count (a smoke run of about 4 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if [ "${QUICK:-0}" = 1 ]; then
  parts=("submit.sh 3" "accept_lua.sh 50000" "e2e.sh 2000" "inflight.sh 10000 10" "delivery.sh 3000 3" "scaling.sh 3 2000" "retention.py 2000")
else
  parts=("submit.sh" "accept_lua.sh" "e2e.sh" "inflight.sh" "delivery.sh" "scaling.sh" "retention.py")
fi
for p in "${parts[@]}"; do
  echo "== bench/$p" >&2
  # shellcheck disable=SC2086
  bench/$p | tee -a "$out"
done
echo "== summary" >&2
grep -E '^bench (submit_summary|accept_lua|e2e|inflight|delivery|scaling|retention) ' "$out"
