#!/usr/bin/env python3
"""bench/retention.py [JOBS=10000] [THREADS=16]: Redis memory per
retained job, and what the retention step gives back (REAPER_MS: the
reaper period the step runs at, default 1000, the product's).

One deployment on loopback (tests/integration/harness.py: Redis, broker,
worker, deliverer, simulator, receiver, started and stopped by pid), the
broker keeping every job ([jobs] retention_days = 0). JOBS jobs of the
default body (~60-byte prompt, kling-v3 5 s, a webhook to the receiver,
`[sim render_ms=0]`) are submitted by THREADS keep-alive clients; once
every one is completed and its webhook delivered, Redis is measured
against what it held before them (after a warm-up job): INFO memory
used_memory, the sum of MEMORY USAGE over every key, and the key count.
Then the broker is restarted with a retention of ~1.7 s
(retention_days = 0.00002), every job leaves Redis for the archive, and
Redis is measured again.

Last line: bench retention jobs=N bytes_per_job=.. used_memory_per_job=..
keys_per_job=.. after_bytes_delta=.. after_keys_delta=.. removal_s=..
removal_jobs_per_s=.. archive_bytes_per_job=..
"""

import glob
import http.client
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

SHORT = "0.00002"  # days: 1.728 s


def measure(r):
    info = r.call("INFO", "memory")
    used = int(next(ln.split(":")[1] for ln in info.splitlines()
                    if ln.startswith("used_memory:")))
    keys = r.scan("*")
    usage = sum(int(r.call("MEMORY", "USAGE", k, "SAMPLES", "0") or 0)
               for k in keys)
    return used, usage, len(keys)


def submit_all(c, key, n, threads):
    body = json.dumps(video_body(prompt="bench retention [sim render_ms=0]",
                                 webhook_url=c.webhook_url("ret"))).encode()
    left = [n]
    lock = threading.Lock()
    errors = []

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", c.http_ports[0],
                                          timeout=30)
        while True:
            with lock:
                if left[0] == 0:
                    break
                left[0] -= 1
            conn.request("POST", "/v1/video/generations", body=body,
                         headers={"Authorization": "Bearer " + key,
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 202:
                errors.append(resp.status)
        conn.close()
    ts = [threading.Thread(target=run) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise SystemExit("bench retention: %d submissions refused: %r"
                         % (len(errors), errors[:5]))


def restart_broker(c, retention):
    c.brokers[0].stop()
    c.extra_env["REELAY_JOBS_RETENTION_DAYS"] = retention
    c.start_broker(0)
    wait_for(lambda: harness.http_get(c.url("/readyz"), timeout=2).status
             == 200, 60, "broker restarted")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    bin_dir = os.path.join(HERE, "..", os.environ.get("BUILD", "build"))
    # The step runs once a reaper period: the product's default, 1 s
    # (the test harness's 100 ms would flatter the removal rate).
    env = {"REELAY_JOBS_RETENTION_DAYS": SHORT,
           "REELAY_LAUNCHER_LOG_LEVEL": "warn",
           "REELAY_JOBS_MAX_WAIT_S": "600",
           "REELAY_JOBS_REAPER_INTERVAL_MS": os.environ.get("REAPER_MS",
                                                            "1000")}
    with harness.Cluster(bin_dir, poll_interval_ms=10, env=env) as c:
        r = c.redis
        acct, key = c.create_account(10 ** 9)
        submit_all(c, key, 1, 1)  # warm-up: it comes and goes
        wait_for(lambda: rkeys.stat(r, "jobs_removed") == 1
                 and r.call("LLEN", rkeys.ledger(acct)) == 0, 60,
                 "the warm-up job archived")
        restart_broker(c, "0")
        before = measure(r)
        t0 = time.monotonic()
        submit_all(c, key, n, threads)
        wait_for(lambda: rkeys.stat(r, "webhooks_delivered") >= n + 1,
                 600, "every webhook delivered")
        ran = time.monotonic() - t0
        full = measure(r)
        restart_broker(c, SHORT)
        t1 = time.monotonic()
        wait_for(lambda: rkeys.total(r, "ZCARD", rkeys.finished) == 0 and
                 r.call("LLEN", rkeys.ledger(acct)) == 0, 600,
                 "every job archived")
        removal = time.monotonic() - t1
        after = measure(r)
        arch = sum(os.path.getsize(p) for p in glob.glob(
            os.path.join(c.tmp, "archive", "jobs-*.jsonl")))
    print("bench retention_run jobs=%d threads=%d run_s=%.1f before=%r "
          "full=%r after=%r" % (n, threads, ran, before, full, after))
    print("bench retention jobs=%d bytes_per_job=%.0f used_memory_per_job="
          "%.0f keys_per_job=%.2f after_bytes_delta=%d after_keys_delta=%d "
          "removal_s=%.1f removal_jobs_per_s=%.0f archive_bytes_per_job=%.0f"
          % (n, (full[1] - before[1]) / n, (full[0] - before[0]) / n,
             (full[2] - before[2]) / n, after[1] - before[1],
             after[2] - before[2], removal, n / removal if removal else 0,
             arch / (n + 1)))


if __name__ == "__main__":
    main()
