"""Crash safety: processes die (kill -9, named crash points, SIGSTOP),
Redis dies or stalls, ZeroMQ messages are lost, and every accepted job
still reaches exactly one terminal state, is charged once and is
delivered once.

Each test runs its own small cluster (its knobs differ) and is bounded:
every wait has a deadline. The short lease / reaper settings make a lost
worker's jobs come back within about a second.
"""

import fnmatch
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

# Fast recovery: a lease of 1 s, a reaper sweep every 200 ms.
FAST = {
    "REELAY_JOBS_LEASE_MS": "1000",
    "REELAY_JOBS_REAPER_INTERVAL_MS": "200",
    "REELAY_JOBS_CLAIM_TIMEOUT_MS": "1000",
}

CRASH_RC = 99

# An answer "at once" (503 while Redis is away, not a request hanging to
# the 30 s request timeout), with room for a loaded machine: below the
# 5 s the test clients wait.
PROMPT_S = 4.0
# What a loaded machine may add to a bound the product's timers set.
LOAD_S = 3.0


# ---- helpers ---------------------------------------------------------------

def spawn_role(c, role, i, extra=None, name=None):
    """Starts one more role process with extra environment; it is
    stopped with the cluster (by pid)."""
    env = c.env()
    if role == "broker":
        env["REELAY_HTTP_LISTEN"] = "127.0.0.1:%d" % c.http_ports[i]
    env.update(extra or {})
    return c._spawn(name or "%s-%d-%d" % (role, i, len(c.procs)), [
        os.path.join(c.bin, "reelay-" + role), "-c", c.config,
        "--index", str(i)], env=env)


def worker_pid(owner):
    """The pid inside a worker id "worker-HOST-PID-RND"."""
    try:
        return int(owner.rsplit("-", 2)[-2])
    except (ValueError, IndexError, AttributeError):
        return None


def registered_pids(c):
    """The pids of the workers that hold a lease in every partition (a
    worker holds one per partition: rl:workers:{P})."""
    sets = [{worker_pid(w) for w in c.redis.zrange(k)}
            for k in rkeys.all_of(rkeys.workers)]
    return set.intersection(*sets)


def wait_worker_registered(c, proc, timeout=10):
    wait_for(lambda: proc.alive() and proc.pid in registered_pids(c),
             timeout, "%s (pid %d) in every rl:workers:{P}" % (proc.name,
                                                              proc.pid))


def wait_exit(proc, timeout, what=None):
    wait_for(lambda: not proc.alive(), timeout,
             what or "%s to exit" % proc.name)
    return proc.popen.returncode


def wait_broker_ready(c, i=0, timeout=15):
    url = c.url("/readyz", i)
    wait_for(lambda: harness.http_get(url, timeout=2).status == 200,
             timeout, "broker %d /readyz == 200" % i)


def status_ports(n=2):
    """Free ports for n workers' status endpoints, and the environment
    entry that gives worker i the i-th."""
    ports = [harness.free_port() for _ in range(n)]
    return ports, {"REELAY_HEALTH_WORKER_STATUS_LISTEN": ",".join(
        "127.0.0.1:%d" % p for p in ports)}


def submit_ok(tc, c, key, prompt):
    """Submits a job with this prompt; asserts the 202 and returns its
    id."""
    r = c.submit(key, video_body(prompt=prompt))
    tc.assertEqual(r.status, 202, r)
    return r.json()["id"]


def worker_stats(port):
    """GET /stats of the worker status endpoint on port."""
    r = harness.http_get("http://127.0.0.1:%d/stats" % port)
    assert r.status == 200, r
    return r.json()


def ledger(c, acct, job_id=None):
    out = [json.loads(e) for e in c.redis.lrange(rkeys.ledger(acct))]
    if job_id is not None:
        out = [e for e in out if e.get("job") == job_id]
    return out


def debits(c, acct, job_id):
    return [e for e in ledger(c, acct, job_id) if e["type"] == "debit"]


def refunds(c, acct, job_id):
    return [e for e in ledger(c, acct, job_id) if e["type"] == "refund"]


def audit_ok(tc, c):
    rc, out = c.audit()
    tc.assertEqual(rc, 0, "reelay audit failed:\n" + out)


def job_ids(c, acct):
    return c.redis.zrange(rkeys.acct_jobs(acct))


def history(h):
    return json.loads(h.get("history") or "[]")


def terminal_entries(h):
    return [e for e in history(h) if e.get("status") in
            ("completed", "failed")]


def redis_terminal(c, acct, jid):
    h = c.job_hash(acct, jid)
    return h if h.get("status") in ("completed", "failed") else None


def wait_terminal(c, acct, jid, timeout=20):
    try:
        return wait_for(lambda: redis_terminal(c, acct, jid), timeout,
                        "job %s terminal (in Redis)" % jid, interval=0.05)
    except harness.WaitTimeout as e:
        h = c.job_hash(acct, jid)
        ref = rkeys.ref(acct, jid)
        p = rkeys.partition(acct)
        raise harness.WaitTimeout(
            "%s; job state=%s status=%s owner=%s fence=%s; queued=%s "
            "dispatched=%r; %s=%r" % (
                e, h.get("state"), h.get("status"), h.get("owner"),
                h.get("fence"), ref in c.redis.lrange(rkeys.queue(p), 0, -1),
                c.redis.zscore(rkeys.dispatched(p), ref), rkeys.workers(p),
                c.redis.zrange(rkeys.workers(p), 0, -1, withscores=True)))


def wait_delivered_once(tc, c, acct, jid, timeout=15, settle=1.0):
    """Waits for one 2xx delivery of jid and for the outbox to be done,
    then checks that no second 2xx comes."""
    wait_for(lambda: any(200 <= d.get("answered", 0) < 300
                         for d in c.deliveries(jid)),
             timeout, "a 2xx delivery of %s" % jid)
    wait_for(lambda: c.job_hash(acct, jid).get("wh_state") == "delivered",
             timeout, "wh_state of %s == delivered" % jid)
    holds_for(lambda: len([d for d in c.deliveries(jid)
                           if 200 <= d.get("answered", 0) < 300]) == 1,
              settle, "exactly one 2xx delivery of %s" % jid)


def broker_readyz(c, broker=0):
    return harness.http_get(c.url("/readyz", broker), timeout=2).status


def post_raw(c, key, body, headers=None, broker=0, timeout=10):
    h = {"Authorization": "Bearer " + key}
    h.update(headers or {})
    return harness.http_post_json(c.url("/v1/video/generations", broker),
                                  body, headers=h, timeout=timeout)


class RecoveryCase(harness.PerTestClusterCase):
    """Each test builds its own cluster, with fast recovery (FAST)."""

    ENV = FAST

    def assert_alive(self, procs):
        dead = [p.name for p in procs if not p.alive()]
        self.assertEqual(dead, [], "processes died: %s" % dead)


# ---- the tests -------------------------------------------------------------

class Recovery(RecoveryCase):

    def test_worker_kill9_mid_render_resumes_same_task(self):
        c = self.cluster(workers=2, poll_interval_ms=100)
        acct, key = c.create_account(50)
        prompt = "kill9 mid render [sim render_ms=3000]"
        r = c.submit(key, video_body(prompt=prompt,
                                     webhook_url=c.webhook_url("k9")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        # Rendering: the task id is recorded and a worker owns the job.
        h = wait_for(lambda: (lambda h: h if h.get("task_id") and
                              h.get("owner") and
                              h.get("status") == "processing" else None)(
            c.job_hash(acct, jid)), 10, "job %s rendering" % jid)
        task_id, owner = h["task_id"], h["owner"]
        victim = [w for w in c.workers if w.pid == worker_pid(owner)]
        self.assertEqual(len(victim), 1, (owner, [w.pid for w in c.workers]))
        os.kill(victim[0].pid, signal.SIGKILL)
        wait_exit(victim[0], 5)
        done = wait_terminal(c, acct, jid, 15)
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(done["task_id"], task_id, "a new upstream task")
        self.assertEqual(done.get("recoveries"), "1", done)
        self.assertEqual(len(terminal_entries(done)), 1, done["history"])
        self.assertTrue(any("requeued" in (e.get("reason") or "")
                            for e in history(done)), done["history"])
        tasks = c.sim_tasks(prompt)
        self.assertEqual(len(tasks), 1, "second render: %r" % tasks)
        self.assertEqual(tasks[0]["task_id"], task_id)
        self.assertEqual(len(debits(c, acct, jid)), 1, ledger(c, acct))
        self.assertEqual(refunds(c, acct, jid), [])
        wait_delivered_once(self, c, acct, jid)
        audit_ok(self, c)
        survivor = [w for w in c.workers if w is not victim[0]]
        self.assert_alive(survivor + c.brokers + c.deliverers)

    def test_redis_sigkill_aof_restart(self):
        c = self.cluster(workers=1, poll_interval_ms=100,
                         retry_schedule="0,3,3")
        acct, key = c.create_account(200)
        ids = []
        # Five finish fast and their first webhook attempt fails, so
        # their outbox entries are pending when Redis dies...
        c.receiver_control({"fail_next": 5, "status": 500})
        for i in range(5):
            r = c.submit(key, video_body(
                prompt="aof fast %d [sim render_ms=100]" % i,
                webhook_url=c.webhook_url("aof")))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        for j in ids:
            wait_for(lambda: len(c.redis.lrange(rkeys.deliveries(acct, j)))
                     == 1, 15, "first (failed) attempt of %s" % j)
        # ...and fifteen are still rendering.
        for i in range(15):
            r = c.submit(key, video_body(
                prompt="aof slow %d [sim render_ms=2500]" % i,
                webhook_url=c.webhook_url("aof")))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        before_ledger = ledger(c, acct)
        outbox = rkeys.of_acct(rkeys.outbox, acct)  # its partition's
        before_outbox = set(c.redis.zrange(outbox))
        before_credits = c.redis.hget(rkeys.acct(acct), "credits")
        os.kill(c.redis_proc.pid, signal.SIGKILL)
        c.redis_proc.popen.wait(timeout=5)
        c.redis.close()
        c.start_redis()  # same port, same --dir: replays the AOF
        for j in ids:
            h = c.job_hash(acct, j)
            self.assertTrue(h, "job %s lost by the Redis restart" % j)
        after_ledger = ledger(c, acct)
        # The ledger may only have grown (terminal writes after the
        # snapshot above); every debit from before is still there.
        self.assertEqual(after_ledger[-len(before_ledger):], before_ledger)
        for j in ids:
            self.assertEqual(len(debits(c, acct, j)), 1, j)
        self.assertEqual(len(before_outbox), 5, before_outbox)
        self.assertTrue(before_outbox <= set(c.redis.zrange(outbox)),
                        "outbox entries lost by the Redis restart")
        self.assertIsNotNone(before_credits)
        wait_broker_ready(c, 0, 20)
        for j in ids:
            done = wait_terminal(c, acct, j, 25)
            self.assertEqual(done["status"], "completed", done)
            self.assertEqual(len(terminal_entries(done)), 1, done)
        # Every job was debited before the kill and completed: the
        # balance the AOF brought back is the one from before.
        self.assertEqual(c.redis.hget(rkeys.acct(acct), "credits"),
                         before_credits)
        for j in ids:
            wait_for(lambda: c.job_hash(acct, j).get("wh_state") ==
                     "delivered", 20, "delivery of %s" % j)
            ok = [d for d in c.deliveries(j)
                  if 200 <= d.get("answered", 0) < 300]
            self.assertGreaterEqual(len(ok), 1, j)
        # Jobs submitted after the restart work too.
        r = c.submit(key, video_body(prompt="after aof [sim render_ms=100]"))
        self.assertEqual(r.status, 202, r)
        wait_terminal(c, acct, r.json()["id"], 15)
        audit_ok(self, c)
        self.assert_alive(c.brokers + c.workers + c.deliverers)

    def test_redis_stalled_api_503(self):
        # Redis stalls longer than the worker lease here (1.5 s > 1 s):
        # the worker drops its jobs ("lease lost") and must not strand
        # them - they have to be recovered and completed.
        c = self.cluster(workers=1, poll_interval_ms=100,
                         env={"REELAY_REDIS_COMMAND_TIMEOUT_MS": "300"})
        acct, key = c.create_account(100)
        start_credits = int(c.redis.hget(rkeys.acct(acct), "credits"))
        pre = []
        for i in range(3):
            r = c.submit(key, video_body(
                prompt="pre stall %d [sim render_ms=1000]" % i,
                webhook_url=c.webhook_url("st")))
            self.assertEqual(r.status, 202, r)
            pre.append(r.json()["id"])
        os.kill(c.redis_proc.pid, signal.SIGSTOP)
        stopped_at = time.monotonic()
        answers = []
        try:
            for i in range(3):
                t0 = time.monotonic()
                r = post_raw(c, key, video_body(
                    prompt="during stall %d [sim render_ms=200]" % i,
                    webhook_url=c.webhook_url("st")),
                    {"Idempotency-Key": "stall-%d" % i}, timeout=5)
                took = time.monotonic() - t0
                answers.append((r, took))
            g0 = time.monotonic()
            g = c.get_job(key, pre[0])
            gtook = time.monotonic() - g0
            # The stall lasts 1.5 s (longer than the lease), and the
            # broker says it is not ready all along.
            wait_for(lambda: broker_readyz(c) == 503, 10,
                     "broker /readyz 503 during the stall")
            holds_for(lambda: broker_readyz(c) == 503,
                      max(0.0, 1.5 - (time.monotonic() - stopped_at)),
                      "broker /readyz 503 during the stall")
        finally:
            os.kill(c.redis_proc.pid, signal.SIGCONT)
        for r, took in answers:
            self.assertEqual(r.status, 503, r)
            self.assertIn("retry-after", r.headers, r.headers)
            self.assertLess(took, PROMPT_S, "request took %.2fs" % took)
        self.assertIn(g.status, (200, 503), g)
        self.assertLess(gtook, PROMPT_S)
        wait_broker_ready(c, 0, 10)
        # Nothing half-written: a submission answered 503 either does not
        # exist at all or exists whole (job + debit, found again by its
        # Idempotency-Key); every job present completes and is charged
        # once.
        for i in range(3):
            r = post_raw(c, key, video_body(
                prompt="during stall %d [sim render_ms=200]" % i,
                webhook_url=c.webhook_url("st")),
                {"Idempotency-Key": "stall-%d" % i})
            self.assertEqual(r.status, 202, r)
        ids = job_ids(c, acct)
        self.assertEqual(len(ids), 6, ids)
        total = 0
        for j in ids:
            self.assertEqual(len(debits(c, acct, j)), 1, j)
            total += debits(c, acct, j)[0]["credits"]
            done = wait_terminal(c, acct, j, 20)
            self.assertEqual(done["status"], "completed", done)
            self.assertEqual(len(terminal_entries(done)), 1, done)
        self.assertEqual(int(c.redis.hget(rkeys.acct(acct), "credits")),
                         start_credits - total)
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_redis_unreachable_api_503(self):
        # redis-server stopped (SIGTERM: connections refused, not a
        # stall) for longer than the lease, then restarted on the same
        # port and directory.
        lease = int(FAST["REELAY_JOBS_LEASE_MS"]) / 1000.0
        c = self.cluster(workers=1, poll_interval_ms=100,
                         env={"REELAY_REDIS_RECONNECT_MAX_MS": "200"})
        acct, key = c.create_account(100)
        start = int(c.redis.hget(rkeys.acct(acct), "credits"))
        ids = []
        for i in range(4):
            r = c.submit(key, video_body(
                prompt="unreachable %d [sim render_ms=1500]" % i,
                webhook_url=c.webhook_url("ur")))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        wait_for(lambda: all(c.job_hash(acct, j).get("task_id")
                             for j in ids), 10, "every job rendering")
        before_ids = sorted(job_ids(c, acct))
        before_ledger = ledger(c, acct)
        roles = c.brokers + c.workers + c.deliverers
        os.kill(c.redis_proc.pid, signal.SIGTERM)
        c.redis_proc.popen.wait(timeout=10)
        c.redis.close()
        down = time.monotonic()
        answers = []
        try:
            for i in range(3):
                t0 = time.monotonic()
                r = post_raw(c, key, video_body(
                    prompt="while down %d [sim render_ms=200]" % i,
                    webhook_url=c.webhook_url("ur")),
                    {"Idempotency-Key": "down-%d" % i}, timeout=5)
                answers.append((r, time.monotonic() - t0))
            t0 = time.monotonic()
            g = c.get_job(key, ids[0])
            answers.append((g, time.monotonic() - t0))
            # Every role keeps running through the outage (longer than
            # the lease: the worker loses it and drops its jobs).
            holds_for(lambda: all(p.alive() for p in roles),
                      max(0.0, lease + 0.5 - (time.monotonic() - down)),
                      "every role alive while Redis is down")
        finally:
            c.start_redis()  # same port, same --dir: replays the AOF
        for r, took in answers:
            self.assertEqual(r.status, 503, r)
            self.assertIn("retry-after", r.headers, r.headers)
            self.assertLess(took, PROMPT_S, "answered in %.2f s" % took)
            self.assert_error_json(r)
        # Nothing was written for the answers 503: the same jobs and
        # the same ledger as before the outage.
        self.assertEqual(sorted(job_ids(c, acct)), before_ids)
        self.assertEqual(ledger(c, acct)[-len(before_ledger):],
                         before_ledger)
        self.assertEqual(len([e for e in ledger(c, acct)
                              if e["type"] == "debit"]), 4)
        wait_broker_ready(c, 0, 15)
        # Every accepted job completes, is charged once and delivered.
        for j in ids:
            done = wait_terminal(c, acct, j, 20)
            self.assertEqual(done["status"], "completed", done)
            self.assertEqual(len(terminal_entries(done)), 1, done)
            self.assertEqual(len(debits(c, acct, j)), 1, j)
            self.assertEqual(refunds(c, acct, j), [])
        for j in ids:
            wait_delivered_once(self, c, acct, j, settle=0.2)
        # The client's retries of the refused submissions now go in.
        for i in range(3):
            r = post_raw(c, key, video_body(
                prompt="while down %d [sim render_ms=200]" % i,
                webhook_url=c.webhook_url("ur")),
                {"Idempotency-Key": "down-%d" % i})
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
            done = wait_terminal(c, acct, ids[-1], 15)
            self.assertEqual(done["status"], "completed", done)
        charged = sum(debits(c, acct, j)[0]["credits"] for j in ids)
        self.assertEqual(len(job_ids(c, acct)), 7)
        self.assertEqual(int(c.redis.hget(rkeys.acct(acct), "credits")),
                         start - charged)
        audit_ok(self, c)
        self.assert_alive(roles)

    def assert_error_json(self, r):
        doc = r.json()
        self.assertTrue({"type", "code", "message"} <= set(doc["error"]), doc)

    def test_silent_worker_is_forgotten(self):
        # A worker that stops answering heartbeats (SIGSTOP) is dropped by
        # the broker, with the credit it had: within heartbeat_ms *
        # heartbeat_liveness of its last message plus one heartbeat
        # period (the broker checks once per period) and 0.3 s, and what
        # a loaded machine may add (LOAD_S).
        ports, env = status_ports()
        c = self.cluster(workers=2, poll_interval_ms=100, env=env)
        e = c.env()
        beat = int(e["REELAY_ZMQ_HEARTBEAT_MS"]) / 1000.0
        liveness = int(e.get("REELAY_ZMQ_HEARTBEAT_LIVENESS", "3"))
        bound = beat * liveness + beat + 0.3 + LOAD_S
        acct, key = c.create_account(200)

        def peers():
            return harness.http_get(c.url("/readyz")).json()["workers"]
        wait_for(lambda: peers() == 2, 10, "broker knows 2 workers")
        victim = c.workers[1]
        live0 = worker_stats(ports[0])["claimed"]
        reaped0 = rkeys.stat(c.redis, "reaped")
        blog = c.brokers[0].log_path

        def broker_lines(what):
            with open(blog, "rb") as f:
                return [ln for ln in f.read().decode("utf-8", "replace")
                        .splitlines() if what in ln and
                        "-%d-" % victim.pid in ln]
        os.kill(victim.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            wait_for(lambda: peers() == 1, bound + 10, "broker forgets the "
                     "silent worker", interval=0.01)
            took = time.monotonic() - t0
            sys.stderr.write("silent worker forgotten after %.2f s (bound "
                             "%.2f s)\n" % (took, bound))
            self.assertLessEqual(took, bound)
            self.assertEqual(len(broker_lines("forgetting worker")), 1,
                             c.brokers[0].tail())
            self.assertIn("heartbeats missed",
                          broker_lines("forgetting worker")[0])
            # New jobs all go to the live worker, at once: none is sent
            # to the stopped one and requeued after the claim timeout.
            ids = [submit_ok(self, c, key,
                             "while silent %d [sim render_ms=300]" % i)
                   for i in range(6)]
            for j in ids:
                done = wait_terminal(c, acct, j, 30)
                self.assertEqual(done["status"], "completed", done)
                self.assertEqual(done.get("fence"), "1", done)
            self.assertEqual(worker_stats(ports[0])["claimed"] - live0, 6)
            self.assertEqual(rkeys.stat(c.redis, "reaped"), reaped0)
        finally:
            os.kill(victim.pid, signal.SIGCONT)
        # It rejoins (under a new lease owner id: its lease lapsed) and
        # takes work again.
        wait_for(lambda: peers() == 2, 30, "the worker rejoins")
        wait_for(lambda: len(broker_lines("joined")) == 2, 30,
                 "a second 'joined' line for the worker")
        victim0 = worker_stats(ports[1])["claimed"]
        more = []

        def victim_claims():
            if worker_stats(ports[1])["claimed"] > victim0:
                return True
            if len(more) < 10:
                r = c.submit(key, video_body(
                    prompt="after rejoin %d [sim render_ms=500]" % len(more)))
                self.assertEqual(r.status, 202, r)
                more.append(r.json()["id"])
            return False
        wait_for(victim_claims, 30, "the rejoined worker claims a job",
                 interval=0.1)
        for j in more:
            self.assertEqual(wait_terminal(c, acct, j, 30)["status"],
                             "completed")
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_lease_lost_during_a_hung_poll(self):
        # The worker is frozen past its lease while its poll of the job
        # hangs upstream. Thawed, it sees the lease lost and drops the
        # job, cancelling the poll; the job, recovered, is claimed again
        # and completes. The worker then holds nothing: before, the
        # cancelled poll kept its reference to the dropped job, which
        # was never freed and stayed counted in flight (and
        # LeakSanitizer reported it at exit).
        ports, env = status_ports(1)
        env["REELAY_PROVIDER_SIM_KLING_POLL_TIMEOUT_MS"] = "600000"
        c = self.cluster(workers=1, poll_interval_ms=100, env=env)
        acct, key = c.create_account(50)
        jid = submit_ok(self, c, key,
                        "hung poll lease [sim render_ms=300 poll_hang=1]")
        wait_for(lambda: [t for t in c.sim_tasks("hung poll lease")
                          if t["polls"] >= 1], 30,
                 "the first poll of %s in the air" % jid)
        worker = c.workers[0]
        os.kill(worker.pid, signal.SIGSTOP)
        try:
            wait_for(lambda: c.job_hash(acct, jid).get("recoveries") == "1",
                     30, "the reaper to recover the frozen worker's job")
        finally:
            os.kill(worker.pid, signal.SIGCONT)
        wait_for(lambda: worker.log_count("lease lost") >= 1, 30,
                 "the worker to see its lease lost")
        self.assertEqual(wait_terminal(c, acct, jid, 60)["status"],
                         "completed")
        wait_for(lambda: worker_stats(ports[0])["inflight"] == 0, 30,
                 "the worker to hold no job")
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_zombie_worker_is_fenced(self):
        # Worker 0 (the zombie) holds every job, mid-render, when it is
        # SIGSTOPped; worker 1 takes them over and finishes them while
        # it is stopped (for at least twice the lease); then SIGCONT.
        # The lease is 5 s here, not 1 s: worker 1 must keep its own
        # lease all along (on a loaded machine under ASan a 1 s lease
        # lapsed now and then, and worker 1's refused write was counted
        # as the zombie's).
        lease = 5.0
        ports, env = status_ports()
        env["REELAY_JOBS_LEASE_MS"] = str(int(lease * 1000))
        c = self.cluster(workers=1, poll_interval_ms=100, env=env)
        acct, key = c.create_account(100)
        start = int(c.redis.hget(rkeys.acct(acct), "credits"))
        zombie = c.workers[0]
        ids = []
        for i in range(4):
            r = c.submit(key, video_body(
                prompt="zombie %d [sim render_ms=3000]" % i,
                webhook_url=c.webhook_url("z")))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])

        def rendering():
            hs = [c.job_hash(acct, j) for j in ids]
            polled = {t["task_id"] for t in c.sim_tasks("zombie ")
                      if t["polls"] > 0}
            return hs if all(h.get("task_id") in polled and
                             worker_pid(h.get("owner")) == zombie.pid
                             for h in hs) else None
        tasks0 = {j: h["task_id"] for j, h in
                  zip(ids, wait_for(rendering, 30, "the zombie rendering "
                                    "every job"))}
        other = c.start_worker(1)
        wait_worker_registered(c, other)
        z0 = worker_stats(ports[0])
        stale0 = rkeys.stat(c.redis, "stale_writes")
        os.kill(zombie.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        try:
            # Worker 1 re-leases and finishes every job; the zombie stays
            # stopped at least twice the lease (the pause this test is about).
            wait_for(lambda: all(redis_terminal(c, acct, j) and
                                 c.job_hash(acct, j).get("wh_state") ==
                                 "delivered" for j in ids) and
                     time.monotonic() - stopped >= 2 * lease, 60,
                     "every job finished and delivered by worker 1")
            sim0 = c.sim_stats()["submits"]
            # Every task is over, so worker 1 polls none of them again.
            polls0 = {t["task_id"]: t["polls"]
                      for t in c.sim_tasks("zombie ")}
            before = c.redis.snapshot()
        finally:
            os.kill(zombie.pid, signal.SIGCONT)
        # The zombie finds its lease lost and drops every job (each
        # once, whether at the lease check or at a refused write), then
        # renews under a new owner id: it holds nothing it could act on.
        wait_for(lambda: (lambda s: s["inflight"] == 0 and
                          s["dropped"] - z0["dropped"] == 4)(
                              worker_stats(ports[0])), 30,
                 "the zombie to drop its 4 jobs")
        wait_for(lambda: harness.http_get("http://127.0.0.1:%d/readyz" %
                                          ports[0]).status == 200, 30,
                 "the zombie to hold a lease again")
        z1, o1 = worker_stats(ports[0]), worker_stats(ports[1])
        # It submitted nothing upstream after SIGCONT: not by its own
        # count, not by the simulator's, and each job still has the one
        # task the zombie started (worker 1 resumed it).
        self.assertEqual(z1["submits"], z0["submits"], (z0, z1))
        self.assertEqual(c.sim_stats()["submits"], sim0)
        # Nor polled: its poll timers were due when it woke, and a worker
        # without a held lease asks the provider nothing.
        self.assertEqual({t["task_id"]: t["polls"]
                          for t in c.sim_tasks("zombie ")}, polls0)
        for i, j in enumerate(ids):
            ts = c.sim_tasks("zombie %d " % i)
            self.assertEqual([t["task_id"] for t in ts], [tasks0[j]], ts)
        # Every write it attempted was refused: each refusal Redis
        # counted (stale_writes, summed over rl:stats:{P}) is one the
        # zombie counted, worker 1 had none, and no job, ledger, account
        # or outbox key changed since SIGCONT (an accepted write would
        # show) - only the lease bookkeeping of its new owner id and the
        # counters.
        stale1 = rkeys.stat(c.redis, "stale_writes")
        sys.stderr.write("zombie: %d writes refused after SIGCONT\n"
                         % (stale1 - stale0))
        self.assertEqual(stale1 - stale0,
                         z1["stale_writes"] - z0["stale_writes"])
        self.assertEqual(o1["stale_writes"], 0, o1)
        volatile = ("rl:workers:*", "rl:wjobs:*", "rl:stats:*",
                    "rl:lock:*", "rl:health*", "rl:dispatched:*")
        diff = harness.snapshot_diff(
            {k: v for k, v in before.items() if not any(
                fnmatch.fnmatchcase(k, p) for p in volatile)},
            c.redis.snapshot(exclude=volatile))
        self.assertEqual(diff, "", "Redis changed after SIGCONT")
        # Each job is terminal once, with worker 1's result; charged once.
        self.assertEqual(o1["completed"], 4, o1)
        for j in ids:
            done = c.job_hash(acct, j)
            self.assertEqual(done["status"], "completed", done)
            self.assertEqual(len(terminal_entries(done)), 1, done)
            self.assertEqual(done.get("recoveries"), "1", done)
            self.assertEqual(done["task_id"], tasks0[j])
            self.assertEqual(len(debits(c, acct, j)), 1)
            self.assertEqual(refunds(c, acct, j), [])
            wait_delivered_once(self, c, acct, j, settle=0.2)
        charged = sum(debits(c, acct, j)[0]["credits"] for j in ids)
        self.assertEqual(int(c.redis.hget(rkeys.acct(acct), "credits")),
                         start - charged)
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_poison_job_recovery_limit(self):
        c = self.cluster(workers=0, poll_interval_ms=100,
                         env={"REELAY_JOBS_MAX_RECOVERIES": "2"})
        acct, key = c.create_account(50)
        start = int(c.redis.hget(rkeys.acct(acct), "credits"))
        prompt = "poison [sim render_ms=300]"
        r = c.submit(key, video_body(prompt=prompt,
                                     webhook_url=c.webhook_url("p")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        deaths = 0
        deadline = time.monotonic() + 30
        while not redis_terminal(c, acct, jid):
            self.assertLess(time.monotonic(), deadline, "poison loop")
            w = spawn_role(c, "worker", 0,
                           {"REELAY_CRASH_AT": "worker_after_submit"})

            def gone_or_done():
                return (not w.alive()) or redis_terminal(c, acct, jid)
            wait_for(gone_or_done, 10, "crashing worker to die")
            if not w.alive():
                self.assertEqual(w.popen.returncode, CRASH_RC, w.tail())
                deaths += 1
            else:
                w.stop()
            # Wait for the reaper to act on the dead worker's lease.
            wait_for(lambda: c.job_hash(acct, jid).get("state") != "leased",
                     10, "lease of the dead worker reaped")
        done = c.job_hash(acct, jid)
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(done.get("error_code"), "recovery_limit", done)
        self.assertEqual(deaths, 3, "worker deaths before the limit")
        self.assertEqual(len(terminal_entries(done)), 1, done["history"])
        self.assertTrue(done.get("refunded_at"))
        self.assertEqual(len(debits(c, acct, jid)), 1)
        rf = refunds(c, acct, jid)
        self.assertEqual(len(rf), 1, rf)
        self.assertEqual(rf[0]["credits"], int(done["credits"]))
        self.assertEqual(int(c.redis.hget(rkeys.acct(acct), "credits")),
                         start)
        self.assertLessEqual(len(c.sim_tasks(prompt)), 3)
        wait_delivered_once(self, c, acct, jid)
        d = [x for x in c.deliveries(jid) if x["answered"] == 200][0]
        self.assertEqual(d["headers"].get("x-creativeai-event"),
                         "video.generation.failed")
        # The fleet keeps working.
        good = spawn_role(c, "worker", 1)
        r = c.submit(key, video_body(prompt="after poison [sim render_ms=200]"))
        self.assertEqual(r.status, 202, r)
        ok = wait_terminal(c, acct, r.json()["id"], 15)
        self.assertEqual(ok["status"], "completed", ok)
        audit_ok(self, c)
        self.assert_alive([good] + c.brokers + c.deliverers)

    def test_poison_job_lease_loss(self):
        # A job whose worker keeps losing its lease (SIGSTOP past the
        # lease) and comes back each time: the worker's own renewal
        # retires its old owner id (heartbeat.lua ends that lease), and
        # the reaper takes the job back from it. Those recoveries count
        # too, so past max_recoveries the job is failed and refunded,
        # not requeued for ever.
        c = self.cluster(workers=1, poll_interval_ms=100, env={
            "REELAY_JOBS_MAX_RECOVERIES": "1",
            "REELAY_JOBS_REAPER_INTERVAL_MS": "200"})
        acct, key = c.create_account(50)
        start = int(c.redis.hget(rkeys.acct(acct), "credits"))
        w = c.workers[0]
        prompt = "lease loser [sim render_ms=20000]"
        r = c.submit(key, video_body(prompt=prompt,
                                     webhook_url=c.webhook_url("ll")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]

        def redis_ms():
            t = c.redis.call("TIME")
            return int(t[0]) * 1000 + int(t[1]) // 1000

        def lose_lease():
            h = wait_for(lambda: (lambda h: h if h.get("state") == "leased"
                                  and h.get("task_id") else None)(
                c.job_hash(acct, jid)), 10, "job leased and rendering")
            owner = h["owner"]
            # Its lease in the job's partition (it holds one in each).
            leases = rkeys.of_acct(rkeys.workers, acct)
            os.kill(w.pid, signal.SIGSTOP)
            try:
                wait_for(lambda: (c.redis.zscore(leases, owner) or 0)
                         < redis_ms(), 5, "the lease of %s lapsed" % owner)
            finally:
                os.kill(w.pid, signal.SIGCONT)
            return owner
        first = lose_lease()
        h = wait_for(lambda: (lambda h: h if h.get("recoveries") == "1" and
                              h.get("owner") not in ("", first) else None)(
            c.job_hash(acct, jid)), 10, "job recovered once and taken again")
        self.assertEqual(h["status"], "processing", h)
        lose_lease()
        done = wait_terminal(c, acct, jid, 10)
        self.assertEqual(done["status"], "failed", done)
        self.assertEqual(done.get("error_code"), "recovery_limit", done)
        self.assertEqual(done.get("recoveries"), "2", done)
        self.assertEqual(len(terminal_entries(done)), 1, done["history"])
        self.assertTrue(done.get("refunded_at"))
        self.assertEqual(len(debits(c, acct, jid)), 1)
        self.assertEqual(len(refunds(c, acct, jid)), 1)
        self.assertEqual(int(c.redis.hget(rkeys.acct(acct), "credits")),
                         start)
        # Both recoveries were the reaper's, from the retired ids, and
        # the worker resumed the same upstream task after the first.
        self.assertEqual(rkeys.stat(c.redis, "reaped"), 2)
        self.assertEqual(len(c.sim_tasks(prompt)), 1)
        wait_delivered_once(self, c, acct, jid)
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_duplicate_dispatch_to_the_holder(self):
        # The reaper requeues a dispatched ref whose claim came late, so a
        # ref can be queued (and dispatched) again after its claim; sent
        # to the worker that holds the job, claim.lua's same-owner branch
        # answers ok with the same token. The worker must take no second
        # copy of the job: no second render, no second poller (a second
        # copy of a job with a task resumes it and says so: resumed_at).
        port = harness.free_port()
        c = self.cluster(workers=1, poll_interval_ms=100, env={
            "REELAY_HEALTH_WORKER_STATUS_LISTEN": "127.0.0.1:%d" % port})
        acct, key = c.create_account(50)
        prompt = "dispatched twice [sim render_ms=2500]"
        r = c.submit(key, video_body(prompt=prompt,
                                     webhook_url=c.webhook_url("dup")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        ref = rkeys.ref(acct, jid)
        queue = rkeys.of_ref(rkeys.queue, ref)  # its partition's
        wait_for(lambda: c.job_hash(acct, jid).get("task_id"), 10,
                 "job %s submitted upstream" % jid)
        claimed = worker_stats(port)["claimed"]
        c.redis.call("RPUSH", queue, ref)
        wait_for(lambda: ref not in c.redis.lrange(queue), 5,
                 "the duplicate ref dispatched")
        done = wait_terminal(c, acct, jid, 15)
        self.assertEqual(done["status"], "completed", done)
        self.assertNotIn("resumed_at", done)
        self.assertEqual(done.get("attempts"), "1", done)
        self.assertEqual(done.get("fence"), "1", done)
        self.assertEqual(len(c.sim_tasks(prompt)), 1)
        self.assertEqual(worker_stats(port)["claimed"], claimed)
        self.assertEqual(len(terminal_entries(done)), 1, done["history"])
        wait_delivered_once(self, c, acct, jid)
        # The ignored dispatch gave its credit back: the worker takes
        # new work.
        r = c.submit(key, video_body(prompt="after the duplicate "
                                     "[sim render_ms=100]"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(wait_terminal(c, acct, r.json()["id"], 10)
                         ["status"], "completed")
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_lost_dispatch_messages(self):
        c = self.cluster(workers=2, poll_interval_ms=100,
                         env={"REELAY_DROP_DISPATCH": "0.5"})
        acct, key = c.create_account(200)
        ids = []
        for i in range(20):
            r = c.submit(key, video_body(
                prompt="drop dispatch %d [sim render_ms=200]" % i,
                webhook_url=c.webhook_url("dd")))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        for j in ids:
            done = wait_terminal(c, acct, j, 30)
            self.assertEqual(done["status"], "completed", done)
            self.assertEqual(len(terminal_entries(done)), 1, done)
            self.assertEqual(len(debits(c, acct, j)), 1)
        for j in ids:
            wait_delivered_once(self, c, acct, j, settle=0.05)
        reaped = rkeys.stat(c.redis, "reaped")
        sys.stderr.write("drop dispatch 0.5: reaped=%d\n" % reaped)
        self.assertGreater(reaped, 0, "no dispatch was lost and requeued?")
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_claim_window(self):
        # A worker grants credit for at most [jobs] claim_window
        # unanswered claims: while it is frozen, two jobs are dispatched
        # to it and the rest wait in the queue, in order (before, all of
        # them were dispatched at once; on a busy Redis their claims came
        # after the claim deadline, and the reaper requeued them behind
        # everything else). Thawed, it takes them all; nothing is reaped.
        # The freeze lasts as long as the machine is slow: the claim
        # deadline and the worker's lease are far beyond it (at 1 s, the
        # reaper rightly put the two refs back while the worker was
        # frozen under load; a lost lease would have the worker ignore
        # them).
        c = self.cluster(workers=1, poll_interval_ms=100,
                         env={"REELAY_JOBS_CLAIM_WINDOW": "2",
                              "REELAY_JOBS_CLAIM_TIMEOUT_MS": "600000",
                              "REELAY_JOBS_LEASE_MS": "600000",
                              "REELAY_JOBS_MAX_WAIT_S": "600"})
        acct, key = c.create_account(200)

        def submit(tag):
            return submit_ok(self, c, key,
                             "claim window %s [sim render_ms=50]" % tag)
        first = submit("first")  # the worker is up and has granted
        wait_terminal(c, acct, first, 30)
        worker = c.workers[0]
        os.kill(worker.pid, signal.SIGSTOP)
        try:
            ids = [submit(i) for i in range(20)]

            def split():  # over every partition (all of acct's here)
                return (rkeys.total(c.redis, "ZCARD", rkeys.dispatched),
                        rkeys.total(c.redis, "LLEN", rkeys.queue))
            wait_for(lambda: split() == (2, 18), 30,
                     "2 jobs dispatched and 18 queued")
            holds_for(lambda: split() == (2, 18), 0.5,
                      "no more dispatched to the frozen worker")
        finally:
            os.kill(worker.pid, signal.SIGCONT)
        for j in ids:
            done = wait_terminal(c, acct, j, 60)
            self.assertEqual(done["status"], "completed", done)
        self.assertEqual(rkeys.stat(c.redis, "reaped"), 0)
        self.assertEqual(rkeys.stat(c.redis, "stale_writes"), 0)
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_jobs_spread_by_load(self):
        # Both workers grant the same credit (their claim windows, full
        # again as soon as a claim is answered), so the broker sends each
        # job to the one with fewer jobs in flight: long renders
        # submitted one after another are split evenly, not piled on the
        # first worker (credit alone ties every time).
        ports, env = status_ports()
        env["REELAY_JOBS_CLAIM_WINDOW"] = "4"
        c = self.cluster(workers=2, poll_interval_ms=100, env=env)
        acct, key = c.create_account(200)
        wait_for(lambda: harness.http_get(c.url("/readyz")).json()
                 ["workers"] == 2, 10, "broker knows 2 workers")
        ids = []
        for i in range(20):
            ids.append(submit_ok(self, c, key,
                                 "spread %d [sim render_ms=4000]" % i))
            wait_for(lambda: sum(worker_stats(p)["claimed"]
                                 for p in ports) == i + 1, 10,
                     "job %d claimed" % i)
        claimed = [worker_stats(p)["claimed"] for p in ports]
        self.assertLessEqual(abs(claimed[0] - claimed[1]), 4, claimed)
        for j in ids:
            self.assertEqual(wait_terminal(c, acct, j, 30)["status"],
                             "completed")
        self.assertEqual(rkeys.stat(c.redis, "reaped"), 0)
        self.assert_alive(c.procs)

    def test_lost_claim_replies(self):
        # Half the replies to claims are lost: the worker claims again,
        # claim.lua's same-owner branch answers, and (the job having no
        # upstream task yet) says the first claim's intent stands, so the
        # first submit uses attempt 1 without another intent write.
        c = self.cluster(workers=1, poll_interval_ms=100,
                         env={"REELAY_DROP_CLAIM_REPLY": "0.5"})
        acct, key = c.create_account(200)
        ids = []
        for i in range(12):
            r = c.submit(key, video_body(
                prompt="lost claim reply %d [sim render_ms=200]" % i))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        for j in ids:
            done = wait_terminal(c, acct, j, 30)
            self.assertEqual(done["status"], "completed", done)
            self.assertEqual(done.get("attempts"), "1", done)
            self.assertEqual(done.get("fence"), "1", done)
            self.assertEqual(len(debits(c, acct, j)), 1)
        for i in range(12):
            ts = c.sim_tasks("lost claim reply %d " % i)
            self.assertEqual(len(ts), 1, ts)
        # Replies were lost (the draws are the same in every run).
        self.assertGreater(harness.fault_drops(c.workers[0], "claim_reply"),
                           0)
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_job_given_up_is_handed_back(self):
        # Every terminal write fails to go out, as with Redis refusing
        # writes for longer than the worker's retries, while the lease
        # holds. The worker gives each such job up; its lease hands it
        # back: recovered once (requeued, claimed again), then past
        # max_recoveries failed and refunded. Without the hand-back the
        # job would stay leased to a live worker forever.
        c = self.cluster(workers=1, poll_interval_ms=100,
                         env={"REELAY_DROP_FINISH_SEND": "1.0",
                              "REELAY_JOBS_MAX_RECOVERIES": "1"})
        acct, key = c.create_account(200)
        r = c.submit(key, video_body(prompt="given up [sim render_ms=200]"))
        self.assertEqual(r.status, 202, r)
        j = r.json()["id"]
        done = wait_terminal(c, acct, j, 120)
        self.assertEqual(done["status"], "failed", done)
        self.assertIn("recovery_limit", json.dumps(done))
        self.assertEqual(rkeys.stat(c.redis, "given_up"), 2)
        self.assertEqual(rkeys.stat(c.redis, "given_up_failed"), 1)
        # Rendered once (the second claim polls the task the first one
        # recorded), charged once, refunded once.
        self.assertEqual(len(c.sim_tasks("given up ")), 1)
        self.assertEqual(len(debits(c, acct, j)), 1)
        self.assertEqual(len(refunds(c, acct, j)), 1)
        self.assertEqual(c.redis.hget(rkeys.acct(acct), "credits"),
                         "200")
        # An empty set is no key: nothing is left leased to anyone.
        wait_for(lambda: c.redis.keys("rl:wjobs:*") == [], 30,
                 "no job left in a worker's set")
        self.assertGreater(
            harness.fault_drops(c.workers[0], "finish_send"), 40)
        audit_ok(self, c)
        self.assert_alive(c.procs)

    def test_lost_completion_messages(self):
        c = self.cluster(workers=1, deliverers=2, poll_interval_ms=100,
                         env={"REELAY_DROP_COMPLETION": "1.0"})
        acct, key = c.create_account(200)
        ids = []
        for i in range(15):
            r = c.submit(key, video_body(
                prompt="drop completion %d [sim render_ms=200]" % i,
                webhook_url=c.webhook_url("dc")))
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        for j in ids:
            wait_terminal(c, acct, j, 20)
        for j in ids:
            wait_delivered_once(self, c, acct, j, settle=0.05)
        holds_for(lambda: all(len(c.deliveries(j)) == 1 for j in ids), 1.0,
                  "one delivery per job")
        # Every COMPLETION was lost: the outbox scan delivered them all.
        wait_for(lambda: harness.fault_drops(c.workers[0], "completion")
                 == len(ids), 30, "every COMPLETION dropped")
        audit_ok(self, c)
        self.assert_alive(c.procs)


# ---- the launcher ------------------------------------------------------------

def children_of(pid):
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            ppid = int(st.rsplit(")", 1)[1].split()[1])
            state = st.rsplit(")", 1)[1].split()[0]
            if ppid != pid or state == "Z":
                continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().split(b"\0")
            out[int(d)] = [x.decode() for x in cmd if x]
        except (OSError, IndexError, ValueError):
            continue
    return out


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# The children of `reelay up` (embedded Redis, simulator, receiver, one
# process per role), by the name of their binary.
CHILDREN = ("reelay-worker", "reelay-broker", "reelay-deliverer",
            "reelay-simulator", "reelay-receiver", "redis-server")


class Launcher(harness.PerTestClusterCase):

    def test_launcher_restarts_every_killed_child(self):
        P = harness.free_port
        tmp = tempfile.mkdtemp(prefix="reelay-up-")
        ports = dict(redis=P(), http=P(), ing=P(), dsp=P(), cmp=P(),
                     sim=P(), rcv=P())
        sim = "http://127.0.0.1:%d" % ports["sim"]
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("REELAY_")}
        env.update({
            "REELAY_REDIS_PORT": str(ports["redis"]),
            "REELAY_REDIS_EMBEDDED": "true",
            "REELAY_HTTP_LISTEN": "127.0.0.1:%d" % ports["http"],
            "REELAY_ZMQ_INGRESS": "tcp://127.0.0.1:%d" % ports["ing"],
            "REELAY_ZMQ_DISPATCH": "tcp://127.0.0.1:%d" % ports["dsp"],
            "REELAY_ZMQ_COMPLETION": "tcp://127.0.0.1:%d" % ports["cmp"],
            "REELAY_ZMQ_HEARTBEAT_MS": "200",
            "REELAY_LAUNCHER_DATA_DIR": tmp,
            "REELAY_LAUNCHER_SIMULATOR_LISTEN": "127.0.0.1:%d" % ports["sim"],
            "REELAY_LAUNCHER_RECEIVER_LISTEN": "127.0.0.1:%d" % ports["rcv"],
            "REELAY_PROVIDER_SIM_KLING_BASE_URL": sim,
            "REELAY_PROVIDER_SIM_SEEDANCE_BASE_URL": sim + "/api/v3",
            "REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS": "100",
            "REELAY_PROVIDER_SIM_SEEDANCE_POLL_INTERVAL_MS": "100",
            "REELAY_JOBS_LEASE_MS": "1000",
            "REELAY_JOBS_REAPER_INTERVAL_MS": "200",
            "REELAY_WEBHOOK_OUTBOX_SCAN_MS": "100",
            "REELAY_HEALTH_INTERVAL_S": "3600",
        })
        log = open(os.path.join(tmp, "up.log"), "wb")
        up = subprocess.Popen([os.path.join(self.BIN, "reelay"), "up", "-c",
                               harness.CONFIG], env=env, cwd=tmp,
                              stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT)
        log.close()
        seen = set()
        try:
            def role_pids(name):
                # redis-server rewrites its title: "/usr/bin/redis-server
                # 127.0.0.1:PORT" in one argument.
                return [p for p, cmd in children_of(up.pid).items()
                        if cmd and os.path.basename(cmd[0]).split()[0] ==
                        name]

            url = "http://127.0.0.1:%d" % ports["http"]
            wait_for(lambda: up.poll() is None and harness.http_get(
                url + "/readyz", timeout=2).status == 200, 30,
                "reelay up: broker ready")
            wait_for(lambda: len(role_pids("reelay-worker")) == 1 and
                     os.path.exists(os.path.join(tmp, "demo-key")), 10,
                     "worker-0 running")
            # Every child the launcher runs, one after the other: each
            # comes back with a new pid.
            for name in CHILDREN:
                seen.update(children_of(up.pid))
                old = wait_for(lambda: role_pids(name), 15,
                               "%s running" % name)
                self.assertEqual(len(old), 1, (name, old))
                os.kill(old[0], signal.SIGKILL)
                wait_for(lambda: [p for p in role_pids(name)
                                  if p != old[0]], 15,
                         "%s restarted with a new pid" % name)
            seen.update(children_of(up.pid))
            wait_for(lambda: harness.http_get(url + "/readyz", timeout=2)
                     .status == 200, 20, "broker ready after the restarts")
            with open(os.path.join(tmp, "demo-key")) as f:
                key = f.read().strip()
            hook = "http://127.0.0.1:%d/webhooks/up" % ports["rcv"]
            r = harness.http_post_json(
                url + "/v1/video/generations",
                video_body(prompt="launcher [sim render_ms=200]",
                           webhook_url=hook),
                headers={"Authorization": "Bearer " + key})
            self.assertEqual(r.status, 202, r)
            jid = r.json()["id"]

            def done():
                g = harness.http_get(url + "/v1/video/generations/" + jid,
                                     headers={"Authorization": "Bearer " +
                                              key})
                return g.status == 200 and g.json()["status"] == "completed"
            wait_for(done, 20, "job completed after the restarts")

            def delivered():
                path = os.path.join(tmp, "deliveries.jsonl")
                if not os.path.exists(path):
                    return False
                with open(path) as f:
                    recs = [json.loads(ln) for ln in f if ln.strip()]
                return [d for d in recs if d.get("verified") and
                        d["headers"].get("x-creativeai-delivery-id") == jid]
            wait_for(delivered, 20, "its webhook at the restarted receiver")
            new = {n: role_pids(n) for n in CHILDREN}
            seen.update(children_of(up.pid))
            self.assertTrue(all(len(p) == 1 and pid_alive(p[0])
                                for p in new.values()), new)
            os.kill(up.pid, signal.SIGTERM)
            up.wait(timeout=20)
            wait_for(lambda: not any(pid_alive(p) for p in seen), 10,
                     "every launcher child gone: %r" % sorted(seen))
        except BaseException:
            try:
                with open(os.path.join(tmp, "up.log"), "rb") as f:
                    sys.stderr.write(f.read()[-4000:].decode("utf-8",
                                                             "replace"))
            except OSError:
                pass
            raise
        finally:
            if up.poll() is None:
                seen.update(children_of(up.pid))
                up.terminate()
                try:
                    up.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    up.kill()
                    up.wait()
            for p in seen:  # only pids the launcher started for this test
                if pid_alive(p):
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            if not os.environ.get("REELAY_KEEP_TMP"):
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
