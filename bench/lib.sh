# Shared helpers of the bench/ scripts: free ports, a private Redis, and
# parsing wrk's output into one "bench NAME key=value ..." line.

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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
