"""[limits] max_active_jobs: the most jobs one account may have accepted
and not yet completed or failed, through any door (/v1, the task API of
task API, the ZeroMQ ingress). accept.lua counts them in the account
hash's active_jobs and marks each job 'active'; every terminal write takes the
mark and one off the counter, once.

- Broker-only deployment (nothing moves behind the test's back, so
  "nothing written" is a whole-Redis snapshot comparison): at the limit
  /v1 answers 429 concurrency_limit with Retry-After, the task API 429
  {"message": "Concurrency limit reached", "limit": N, "current": M},
  the ingress 429 too; nothing is written or charged; an Idempotency-Key
  replay of an accepted job is still answered; other accounts are not
  limited.
- Every terminal path gives the slot back exactly once: completed,
  failed (content rejected) and failed by the reaper (recovery limit);
  replaying the terminal write (job_finish.lua with the job's fence,
  job_fail on a failed job) does not decrement twice. `reelay audit`
  checks the counter against the jobs, and fails when it is off.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, video_body  # noqa: E402
from task_client import TaskClient, TaskApiError  # noqa: E402

VOLATILE = ("rl:lock:*", "rl:workers:*", "rl:stats:*")
LUA = os.path.join(harness.SOURCE, "common", "lua")
LIMIT_BODY_KEYS = ["message", "limit", "current"]


def script(name, tail=""):
    """The text Redis runs for common/lua/<name>.lua (the "_" helpers
    prepended, as embed.cmake does), with `tail` appended."""
    parts = []
    for f in sorted(os.listdir(LUA)):
        if f.startswith("_") and f.endswith(".lua"):
            with open(os.path.join(LUA, f)) as fh:
                parts.append(fh.read() + "\n")
    if name:
        with open(os.path.join(LUA, name + ".lua")) as fh:
            parts.append(fh.read())
    return "".join(parts) + tail


class Base(harness.ClusterTestCase):
    def snapshot(self):
        return self.c.redis.snapshot(exclude=VOLATILE)

    def assert_unchanged(self, before, what):
        diff = harness.snapshot_diff(before, self.snapshot())
        self.assertEqual(diff, "", "%s changed Redis:\n%s" % (what, diff))

    def active(self, acct):
        return self.c.redis.hget(rkeys.acct(acct), "active_jobs")

    def assert_v1_refused(self, r, limit, current):
        err = self.assert_error(r, 429, param=None, code="concurrency_limit")
        self.assertEqual(err["type"], "rate_limit_error", err)
        self.assertIn("at most %d" % limit, err["message"], err)
        self.assertIn("has %d jobs" % current, err["message"], err)
        self.assertEqual(r.headers.get("retry-after"), "5", r.headers)

    def assert_task_refused(self, cl, limit, current, prompt="refused"):
        with self.assertRaises(TaskApiError) as cm:
            cl.create_task("seedance", prompt)
        e = cm.exception
        self.assertEqual(e.status, 429, e)
        self.assertEqual(e.body, {"message": "Concurrency limit reached",
                                  "limit": limit, "current": current}, e)
        self.assertEqual(list(e.body), LIMIT_BODY_KEYS, e.body)
        self.assertEqual(e.headers.get("retry-after"), "5", e.headers)

    def audit(self):
        return self.c.audit()


class Refusal(Base):
    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False,
                   env={"REELAY_LIMITS_MAX_ACTIVE_JOBS": "2",
                        "REELAY_JOBS_MAX_RECOVERIES": "0"})

    def test_a_refused_at_the_limit_by_every_door(self):
        c = self.c
        acct, key = c.create_account(50)
        other, other_key = c.create_account(50)
        body = video_body(prompt="first of two")
        r1 = c.submit(key, body, headers={"Idempotency-Key": "lim-1"})
        self.assertEqual(r1.status, 202, r1)
        tid = TaskClient(c.url("/api/v1"), key).create_task(
            "seedance", "second of two")
        self.assertEqual(self.active(acct), "2")
        for jid in (r1.json()["id"], tid):
            self.assertEqual(c.job_hash(acct, jid).get("active"), "1")

        snap = self.snapshot()
        self.assert_v1_refused(c.submit(key, video_body(prompt="third")), 2, 2)
        self.assert_task_refused(TaskClient(c.url("/api/v1"), key), 2, 2)
        rc, status, doc, out = c.cli_submit(key, video_body(prompt="zmq"))
        self.assertEqual(status, 429, out)
        self.assertEqual(doc["error"]["code"], "concurrency_limit", out)
        # A replay of the accepted job is answered as before.
        r = c.submit(key, body, headers={"Idempotency-Key": "lim-1"})
        self.assertEqual((r.status, r.body), (202, r1.body), r)
        self.assert_unchanged(snap, "refusals at the limit")
        self.assertEqual(c.account(key)["credits"], 50 - 3 - 2)

        # The limit is per account.
        r = c.submit(other_key, video_body(prompt="other account"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.active(other), "1")

    def test_b_reaper_failure_releases_once(self):
        """A job failed by the reaper (recovery limit 0, its worker's
        lease long expired) gives its slot back; fail_job run again on
        it does not give a second one back."""
        c = self.c
        acct, key = c.create_account(50)
        jids = []
        for i in range(2):
            r = c.submit(key, video_body(prompt="reaped %d" % i))
            self.assertEqual(r.status, 202, r)
            jids.append(r.json()["id"])
        self.assert_v1_refused(c.submit(key, video_body()), 2, 2)
        rc, out = self.audit()
        self.assertEqual(rc, 0, out)

        # Job 0 as a dead worker left it: claimed, leased, lease expired.
        # Its queue, lease and worker set are those of its account's
        # partition.
        p = rkeys.partition(acct)
        ref = rkeys.ref(acct, jids[0])
        jk = rkeys.job(acct, jids[0])
        c.redis.call("LREM", rkeys.queue(p), 0, ref)
        c.redis.call("HSET", jk, "state", "leased", "owner", "w-test-dead",
                     "status", "processing", "fence", "1")
        c.redis.call("SADD", rkeys.worker_jobs(p, "w-test-dead"), ref)
        c.redis.call("ZADD", rkeys.workers(p), 1, "w-test-dead")
        wait_for(lambda: c.job_hash(acct, jids[0]).get("status") == "failed",
                 10, "the reaper fails %s" % jids[0])
        h = c.job_hash(acct, jids[0])
        self.assertEqual(h.get("error_code"), "recovery_limit", h)
        self.assertNotIn("active", h)
        self.assertEqual(self.active(acct), "1")
        self.assertEqual(c.account(key)["credits"], 50 - 3)  # refunded
        rc, out = self.audit()
        self.assertEqual(rc, 0, out)

        # A second terminal write of the same job (job_fail again) moves
        # the counter no further. job_fail(k, ref, j, code, message, now),
        # k: job, acct, ledger, outbox, stats, finished (all of the
        # partition).
        c.redis.call("EVAL", script(None, "job_fail({job = KEYS[1], "
                                    "acct = KEYS[2], ledger = KEYS[3], "
                                    "outbox = KEYS[4], stats = KEYS[5], "
                                    "finished = KEYS[6]}, "
                                    "ARGV[1], ARGV[2], 'again', 'again', "
                                    "now_ms()) return 1"),
                     6, jk, rkeys.acct(acct), rkeys.ledger(acct),
                     rkeys.outbox(p), rkeys.stats(p), rkeys.finished(p), ref,
                     jids[0])
        self.assertEqual(self.active(acct), "1")

        r = c.submit(key, video_body(prompt="after the reaper"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.active(acct), "2")

    def test_c_audit_sees_a_wrong_counter(self):
        c = self.c
        acct, key = c.create_account(50)
        r = c.submit(key, video_body(prompt="audited"))
        self.assertEqual(r.status, 202, r)
        c.redis.call("HINCRBY", rkeys.acct(acct), "active_jobs", 1)
        try:
            rc, out = self.audit()
            self.assertEqual(rc, 1, out)
            self.assertIn("VIOLATION %s active_jobs is not the number of "
                          "jobs pending or processing" % acct, out)
        finally:
            c.redis.call("HINCRBY", rkeys.acct(acct), "active_jobs", -1)
        rc, out = self.audit()
        self.assertEqual(rc, 0, out)


class Release(Base):
    CLUSTER = dict(workers=1, deliverers=0, receiver=False,
                   env={"REELAY_LIMITS_MAX_ACTIVE_JOBS": "1"})

    def test_completed_and_failed_release_once(self):
        c = self.c
        acct, key = c.create_account(50)
        cl = TaskClient(c.url("/api/v1"), key)

        # Completed (/v1): the slot comes back once.
        r = c.submit(key, video_body(prompt="slow one [sim render_ms=800]"))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        self.assert_v1_refused(c.submit(key, video_body()), 1, 1)
        self.assert_task_refused(cl, 1, 1)
        self.assertEqual(c.wait_job(key, jid)["status"], "completed")
        self.assertEqual(self.active(acct), "0")
        self.assertNotIn("active", c.job_hash(acct, jid))

        # The terminal write replayed with the job's own fence: answered
        # as the first one was (a retry whose reply was lost), writing
        # nothing, so the counter stays; under another fence: stale.
        h = c.job_hash(acct, jid)
        p = rkeys.partition(acct)

        def replay(fence):
            # KEYS all of the account's partition (the key record too:
            # its hash was drawn to land there).
            return c.redis.call(
                "EVAL", script("job_finish"), 9,
                rkeys.job(acct, jid), rkeys.worker_jobs(p, "w-test-replay"),
                rkeys.acct(acct), rkeys.ledger(acct), rkeys.outbox(p),
                rkeys.stats(p), rkeys.render_avg(p),
                rkeys.apikey(h["key_hash"]), rkeys.finished(p),
                fence, rkeys.ref(acct, jid), "completed", "replayed", "3")
        self.assertEqual(replay(h["fence"])[0], "ok")
        self.assertEqual(c.job_hash(acct, jid), h)
        self.assertEqual(replay(str(int(h["fence"]) + 1)), ["stale"])
        self.assertEqual(self.active(acct), "0")

        # Failed (task API, content rejected): refunded, slot back once.
        tid = cl.create_task("seedance",
                             "rejected [sim fail=content render_ms=300]")
        self.assert_task_refused(cl, 1, 1)
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "fail", rec)
        self.assertEqual(self.active(acct), "0")
        self.assertNotIn("active", c.job_hash(acct, tid))

        # Free again, and the books agree.
        tid2 = cl.create_task("seedance", "after [sim render_ms=0]")
        self.assertEqual(cl.wait(tid2, timeout=20)["status"], "success")
        self.assertEqual(self.active(acct), "0")
        self.assertEqual(c.account(key)["credits"], 50 - 3 - 2)
        rc, out = self.audit()
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
