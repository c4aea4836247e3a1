# Shared helpers of the bench/ scripts: free ports, a private Redis, and
# parsing wrk's output into one "bench NAME key=value ..." line.

# free_port: a loopback port nobody listens on, from 20000-32000: below
# the kernel's ephemeral range, which every outgoing connection (curl,
# hiredis, ZeroMQ) draws from, so none of them can take it before the
# server binds (tests/integration/harness.py does the same).
free_port() {
  python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
else:
    raise SystemExit("no free port in 20000-32000")'
}

# start_redis DIR PORT FSYNC: a private redis-server with AOF on.
start_redis() {
  redis-server --port "$2" --bind 127.0.0.1 --dir "$1" --appendonly yes \
    --appendfsync "$3" --save "" --daemonize no >"$1/redis.log" 2>&1 &
  echo $!
}

wait_redis() {
  for _ in $(seq 1 200); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis on $1 did not start" >&2
  return 1
}

# wait_until SECONDS WHAT CMD...: runs CMD every 50 ms until it succeeds;
# after SECONDS says WHAT did not happen and fails.
wait_until() {
  local secs=$1 what=$2 deadline; shift 2
  deadline=$(( $(date +%s%3N) + secs * 1000 ))
  until "$@"; do
    if [ "$(date +%s%3N)" -gt "$deadline" ]; then
      echo "timed out after ${secs} s: $what" >&2
      return 1
    fi
    sleep 0.05
  done
}

# listeners PORT: how many sockets listen on 127.0.0.1:PORT (/proc/net/tcp).
listeners() {
  awk -v p="$(printf '%04X' "$1")" '$2 == "0100007F:" p && $4 == "0A"' /proc/net/tcp | wc -l
}

wait_http() {
  for _ in $(seq 1 200); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "$1 did not answer" >&2
  return 1
}

# wrk_summary FILE: "rps=.. p50_ms=.. p99_ms=.. errors=.." from wrk --latency.
wrk_summary() {
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { non2xx = $NF }
    /Socket errors/ { serr = $0 }
    END {
      printf "rps=%d p50_ms=%.3f p99_ms=%.3f non2xx=%d", rps, p50, p99, non2xx + 0
    }' "$1"
}

# ---- shared by submit/e2e/inflight/delivery/scaling ----------------------

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# need_tools: installs nginx and wrk with apt when missing (idempotent).
need_tools() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  if [ ${#missing[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "bench: installing ${missing[*]}" >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends "${missing[@]}" >&2
  fi
  export PATH="$PATH:/usr/sbin"
}

# need_bullmq: bench/bullmq/node_modules from the committed lock file.
need_bullmq() {
  local d="$BENCH_DIR/bullmq"
  if [ ! -f "$d/node_modules/.package-lock.json" ] ||
     [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
    echo "bench: npm ci in bench/bullmq" >&2
    (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# start_nginx DIR PORT [WORKERS]: nginx in the foreground with a private
# prefix made from bench/nginx/nginx.conf.in; echoes its pid.
start_nginx() {
  local dir=$1 port=$2 workers=${3:-1}
  mkdir -p "$dir/logs" "$dir/tmp"
  chmod 755 "$dir"
  sed -e "s|@PREFIX@|$dir|g" -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$workers|g" \
    "$BENCH_DIR/nginx/nginx.conf.in" >"$dir/nginx.conf"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
    >"$dir/nginx.out" 2>&1 &
  echo $!
}

# reelay_env REDIS_PORT HTTP_PORT SIM_PORT NBROKER NDELIVERER: exports the
# REELAY_* overrides of a loopback deployment (as tests/integration does).
reelay_env() {
  local rport=$1 hport=$2 sport=$3 nb=${4:-1} nd=${5:-1} i ing="" dis="" com=""
  for ((i = 0; i < nb; i++)); do
    ing+="${ing:+,}tcp://127.0.0.1:$(free_port)"
    dis+="${dis:+,}tcp://127.0.0.1:$(free_port)"
  done
  for ((i = 0; i < nd; i++)); do com+="${com:+,}tcp://127.0.0.1:$(free_port)"; done
  export REELAY_CONFIG="$PWD/deploy/reelay.ini"
  export REELAY_REDIS_HOST=127.0.0.1 REELAY_REDIS_PORT=$rport REELAY_REDIS_EMBEDDED=false
  export REELAY_HTTP_LISTEN=127.0.0.1:$hport
  export REELAY_ZMQ_INGRESS=$ing REELAY_ZMQ_DISPATCH=$dis REELAY_ZMQ_COMPLETION=$com
  export REELAY_PROCESSES_BROKER=$nb REELAY_PROCESSES_DELIVERER=$nd
  export REELAY_PROVIDER_SIM_KLING_BASE_URL=http://127.0.0.1:$sport
  export REELAY_PROVIDER_SIM_SEEDANCE_BASE_URL=http://127.0.0.1:$sport/api/v3
  export REELAY_SECURITY_MASTER_KEY=${REELAY_SECURITY_MASTER_KEY:-$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')}
  export REELAY_LAUNCHER_LOG_LEVEL=warn REELAY_HEALTH_INTERVAL_S=3600
  export REELAY_WEBHOOK_OUTBOX_SCAN_MS=${REELAY_WEBHOOK_OUTBOX_SCAN_MS:-100}
  # The receivers are on loopback, which the SSRF guard refuses unless
  # allowed.
  export REELAY_WEBHOOK_ALLOW=127.0.0.0/8
  reelay_keys "${tmp:-$PWD/run}/keys"
}

# reelay_keys DIR: CURVE key pairs of every role and the allow files of
# every link in DIR (docs/security.md), made with `reelay keygen`, and
# the environment pointing at them. CURVE=false runs the links without
# CURVE (to measure its cost: bench/README.md).
reelay_keys() {
  local dir=$1 name
  mkdir -p "$dir"
  for name in broker worker deliverer cli; do
    [ -f "$dir/$name.key" ] ||
      "${build:-build}/reelay" keygen -c deploy/reelay.ini --dir "$dir" "$name" >/dev/null
  done
  grep -hv '^#' "$dir/worker.pub" >"$dir/dispatch.allow"
  grep -hv '^#' "$dir/worker.pub" >"$dir/completion.allow"
  grep -hv '^#' "$dir/cli.pub" >"$dir/ingress.allow"
  export REELAY_ZMQ_KEYS_DIR=$dir REELAY_ZMQ_CURVE=${CURVE:-true}
}

# start_listening LOG BIN ARGS...: starts a tool that prints "listening
# HOST:PORT" on stdout; sets LISTEN_PID and LISTEN_PORT.
start_listening() {
  local log=$1; shift
  "$@" >"$log.out" 2>"$log" &
  LISTEN_PID=$!
  for _ in $(seq 1 200); do
    LISTEN_PORT=$(awk '/^listening /{n=split($2,a,":"); print a[n]; exit}' "$log.out" 2>/dev/null)
    [ -n "$LISTEN_PORT" ] && return 0
    sleep 0.05
  done
  echo "$* did not print its listening line" >&2
  return 1
}

# stop_pids PID...: SIGTERM each by pid, SIGKILL after 5 s.
stop_pids() {
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

# bench_scratch: a temp dir in $tmp and a pid list in pids (append every
# process started); on exit every one of them is stopped and $tmp removed.
bench_scratch() {
  tmp=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  stop_pids "${pids[@]}" 2>/dev/null || true
  rm -rf "$tmp"
}

# rss_kb PID: resident set size in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# cpu_ticks PID: utime+stime in clock ticks.
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
now_ms() { date +%s%3N; }

# The state is split into partitions (common/rl_keys.h): a counter or a
# set size is the sum over every partition's key.
# rl_sum PORT CMD PATTERN [FIELD]: CMD (zcard, hget, llen) summed over
# the keys matching PATTERN, e.g. rl_sum "$rport" zcard 'rl:outbox:*'.
rl_sum() {
  local port=$1 cmd=$2 pattern=$3 field=${4:-} k s=0 v
  for k in $(redis-cli -p "$port" --scan --pattern "$pattern"); do
    v=$(redis-cli -p "$port" "$cmd" "$k" $field)
    s=$((s + ${v:-0}))
  done
  echo "$s"
}
# rl_key BUILDER ARGS...: a key name as tests/integration/rkeys.py (the
# mirror of common/rl_keys.c) builds it, e.g. rl_key acct acct_bench.
rl_key() {
  python3 -c 'import sys; sys.path.insert(0, "tests/integration"); import rkeys
a = sys.argv[2:]
print(getattr(rkeys, sys.argv[1])(*[int(x) if x.isdigit() and sys.argv[1] in ("queue", "outbox", "stats", "workers", "dispatched") else x for x in a]))' "$@"
}
