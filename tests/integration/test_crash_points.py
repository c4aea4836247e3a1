"""Crash points: every named point swept (docs/operations.md).

Every named crash point (common/rl_crash.h) is run in its role: a
process of that role started with REELAY_CRASH_AT=<point> exits (status
99, no cleanup, like kill -9) exactly there; a healthy process of the
same role takes over; then the invariants are checked - the job is
terminal exactly once, debited once, refunded only if it failed, its
webhook answered 2xx exactly once, `reelay audit` is clean - and so is
the time recovery took: from the crash to the moment the job moves again
under a healthy process, at most

    lease + reaper interval + poll interval + MARGIN_S

(1.0 + 0.2 + 0.1 s here, FAST in test_recovery.py). MARGIN_S covers
what the bound leaves out: starting the healthy replacement (it starts
once the crash is seen), the claim and submit round trips, and the 10 ms
step at which the test sees the crash.

"Moves again" is, per point: the first poll of the job's upstream task
by the new owner (broker_after_accept, worker_after_submit), the 2xx
delivery of its webhook (worker_after_finish: the outbox scan delivers
what the push never sent) or its next delivery attempt's 2xx
(deliverer_between_attempts). Needs a build with REELAY_CRASH_POINTS=ON
(scripts/build.sh).

The retention step's points (broker_after_archive,
broker_after_ledger_archive: the records written and fsync'd, not yet
removed from Redis) are checked the same way, "moving again" being
their removal by the broker started after the crash, within the
retention lock it waits out (RETAIN_LOCK_MIN_MS, 2 s, as the
RecoveryCase reaper period is short) + reaper interval + MARGIN_S; the
invariants there: nothing lost, the records archived twice and
exported once, the books exact.
"""

import glob
import json
import subprocess
import os
import re
import sys
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
import test_recovery as rec  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

LEASE_S = int(rec.FAST["REELAY_JOBS_LEASE_MS"]) / 1000.0
REAPER_S = int(rec.FAST["REELAY_JOBS_REAPER_INTERVAL_MS"]) / 1000.0
POLL_S = 0.1          # the clusters' provider poll interval
MARGIN_S = 5.0       # a loaded machine; far below max_wait_s (30 s)
BOUND_S = LEASE_S + REAPER_S + POLL_S + MARGIN_S
GAP_S = 0.3           # the retry gap of the deliverer point
RETENTION_DAYS = "0.00002"  # 1.728 s: the retention of the broker points
RETAIN_LOCK_S = 2.0   # RETAIN_LOCK_MIN_MS (broker/retain.h)
RETAIN_BOUND_S = RETAIN_LOCK_S + REAPER_S + MARGIN_S

SOURCE_DIRS = ("broker", "worker", "deliverer", "common", "launcher")


def crash_points_in_source():
    """Every rl_crash_point("name") in the C sources."""
    names = set()
    for d in SOURCE_DIRS:
        for path in glob.glob(os.path.join(harness.SOURCE, d, "*.c")):
            with open(path) as f:
                names.update(re.findall(r'rl_crash_point\("([a-z_]+)"\)',
                                        f.read()))
    return names


def wait_crashed(tc, proc, timeout=10):
    """Waits for proc to exit at its crash point; returns the wall time
    (s) it was seen gone (at most 10 ms after it exited)."""
    wait_for(lambda: not proc.alive(), timeout,
             "%s to reach its crash point" % proc.name, interval=0.01)
    seen = time.time()
    tc.assertEqual(proc.popen.returncode, rec.CRASH_RC, proc.tail())
    log = open(proc.log_path, "rb").read().decode("utf-8", "replace")
    tc.assertIn("crash point '%s' reached" % proc.crash_at, log)
    return seen


def ok_deliveries(c, jid):
    return [d for d in c.deliveries(jid) if 200 <= d.get("answered", 0) < 300]


class CrashPoints(rec.RecoveryCase):

    def crashing(self, c, role, i, point, name=None):
        p = rec.spawn_role(c, role, i, {"REELAY_CRASH_AT": point},
                           name=name or "%s-%d-crashing" % (role, i))
        p.crash_at = point
        return p

    def assert_invariants(self, c, acct, jid, status="completed"):
        done = rec.wait_terminal(c, acct, jid, 20)
        self.assertEqual(done["status"], status, done)
        self.assertEqual(len(rec.terminal_entries(done)), 1, done["history"])
        self.assertEqual(len(rec.debits(c, acct, jid)), 1,
                         rec.ledger(c, acct))
        if status == "failed":
            self.assertEqual(len(rec.refunds(c, acct, jid)), 1)
        else:
            self.assertEqual(rec.refunds(c, acct, jid), [])
        rec.wait_delivered_once(self, c, acct, jid)
        rec.audit_ok(self, c)
        return done

    def assert_recovered(self, point, crashed_at, moved_ms, bound=BOUND_S):
        took = moved_ms / 1000.0 - crashed_at
        sys.stderr.write("crash point %s: recovered %.3f s after the crash "
                         "(bound %.2f s)\n" % (point, took, bound))
        self.assertLessEqual(took, bound, "%s: recovery took %.3f s"
                             % (point, took))

    # -- the sweep -----------------------------------------------------

    def test_every_crash_point_is_swept(self):
        swept = {n[len("test_point_"):] for n in dir(self)
                 if n.startswith("test_point_")}
        self.assertEqual(crash_points_in_source(), swept)

    def test_point_broker_after_accept(self):
        # Broker 0 dies after accept.lua answered and before the 202;
        # broker 1 dispatches the job from the queue.
        c = self.cluster(brokers=2, workers=1, poll_interval_ms=100)
        acct, key = c.create_account(50)
        c.brokers[0].stop()
        bad = self.crashing(c, "broker", 0, "broker_after_accept")
        rec.wait_broker_ready(c, 0)
        prompt = "crash after accept [sim render_ms=300]"
        body = video_body(prompt=prompt, webhook_url=c.webhook_url("cba"))
        idem = "idem-crash-after-accept-1"
        with self.assertRaises((http.client.HTTPException, OSError)):
            rec.post_raw(c, key, body, {"Idempotency-Key": idem})
        crashed = wait_crashed(self, bad)
        # Invariant 1: the job is in Redis although no 202 went out.
        ids = rec.job_ids(c, acct)
        self.assertEqual(len(ids), 1, ids)
        jid = ids[0]
        task = wait_for(lambda: [t for t in c.sim_tasks(prompt)
                                 if t["polls"] > 0], 10,
                        "the job's task polled")[0]
        self.assert_recovered("broker_after_accept", crashed,
                              task["first_poll_ms"])
        # The client retries with the same key against a restarted
        # broker 0: the same job, no second debit.
        good = rec.spawn_role(c, "broker", 0, name="broker-0-restarted")
        rec.wait_broker_ready(c, 0)
        r = rec.post_raw(c, key, body, {"Idempotency-Key": idem})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["id"], jid)
        self.assert_invariants(c, acct, jid)
        self.assertEqual(rec.job_ids(c, acct), [jid])
        self.assertEqual(len(c.sim_tasks(prompt)), 1)
        self.assert_alive([good, c.brokers[1]] + c.workers + c.deliverers)

    def worker_crashes(self, point, prompt):
        """A cluster whose only worker crashes at `point` on one job
        (prompt); a healthy worker starts once the crash is seen.
        Returns (cluster, acct, key, job id, crash time, healthy worker,
        crashed worker)."""
        c = self.cluster(workers=0, poll_interval_ms=100)
        acct, key = c.create_account(50)
        bad = self.crashing(c, "worker", 0, point)
        rec.wait_worker_registered(c, bad)
        r = c.submit(key, video_body(prompt=prompt,
                                     webhook_url=c.webhook_url(point)))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        crashed = wait_crashed(self, bad)
        good = rec.spawn_role(c, "worker", 1)
        return c, acct, key, jid, crashed, good, bad

    def test_point_worker_after_submit(self):
        prompt = "crash after submit [sim render_ms=500]"
        c, acct, key, jid, crashed, good, _ = self.worker_crashes(
            "worker_after_submit", prompt)
        self.assertEqual(len(c.sim_tasks(prompt)), 1)
        # The task id was never recorded, but the intent was: Redis knew
        # attempt 1 had been started before the provider saw it.
        h = c.job_hash(acct, jid)
        self.assertEqual(h.get("task_id", ""), "")
        self.assertEqual(h.get("attempts"), "1", h)
        # The crash lost the task id, so the new owner submits again
        # (one render for nothing, never more) under the next attempt
        # number: a fresh external_task_id.
        second = wait_for(lambda: [t for t in c.sim_tasks(prompt)
                                   if t.get("external_task_id") ==
                                   jid + "-2" and t["polls"] > 0], 10,
                          "the new owner's task polled")[0]
        self.assert_recovered("worker_after_submit", crashed,
                              second["first_poll_ms"])
        done = self.assert_invariants(c, acct, jid)
        self.assertEqual(done.get("recoveries"), "1", done)
        self.assertEqual(done["task_id"], second["task_id"])
        self.assertEqual(done.get("attempts"), "2", done)
        ext = sorted(t.get("external_task_id") for t in c.sim_tasks(prompt))
        self.assertEqual(ext, [jid + "-1", jid + "-2"])
        self.assert_alive([good] + c.brokers + c.deliverers)

    def test_point_worker_after_finish(self):
        prompt = "crash after finish [sim render_ms=300]"
        c, acct, key, jid, crashed, good, bad = self.worker_crashes(
            "worker_after_finish", prompt)
        h = c.job_hash(acct, jid)
        # The terminal write landed before the crash; the COMPLETION push
        # never happened: the outbox scan delivers.
        self.assertEqual(h.get("status"), "completed", h)
        self.assertEqual(len(rec.terminal_entries(h)), 1, h["history"])
        first = wait_for(lambda: ok_deliveries(c, jid), 10,
                         "a 2xx delivery of %s" % jid)[0]
        self.assert_recovered("worker_after_finish", crashed, first["at_ms"])
        self.assert_invariants(c, acct, jid)
        self.assertEqual(len(c.sim_tasks(prompt)), 1)
        # The dead worker's lease expired meanwhile: a done job must not
        # have been requeued.
        wait_for(lambda: not any(rec.worker_pid(w) == bad.pid for w in
                                 rkeys.zmembers(c.redis, rkeys.workers)),
                 BOUND_S + 1, "the dead worker reaped (every partition)")
        h = c.job_hash(acct, jid)
        self.assertEqual(h.get("state"), "done", h)
        self.assertEqual(len(rec.terminal_entries(h)), 1, h["history"])
        self.assert_alive([good] + c.brokers + c.deliverers)

    def test_point_deliverer_between_attempts(self):
        c = self.cluster(workers=1, deliverers=0, poll_interval_ms=100,
                         retry_schedule="0,%g,%g" % (GAP_S, GAP_S))
        acct, key = c.create_account(50)
        bad = self.crashing(c, "deliverer", 0, "deliverer_between_attempts")
        c.receiver_control({"fail_next": 1, "status": 500})
        r = c.submit(key, video_body(prompt="dlv crash [sim render_ms=200]",
                                     webhook_url=c.webhook_url("dc")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        crashed = wait_crashed(self, bad, 15)
        good = rec.spawn_role(c, "deliverer", 0)
        # Attempt 1 failed and its retry was recorded before the crash.
        dlv_key = rkeys.deliveries(acct, jid)
        log = [json.loads(x) for x in c.redis.lrange(dlv_key)]
        self.assertEqual([(e["attempt"], e["outcome"]) for e in log],
                         [(1, "retry")], log)
        self.assertEqual([d["answered"] for d in c.deliveries(jid)], [500])
        second = wait_for(lambda: ok_deliveries(c, jid), 10,
                          "attempt 2 of %s" % jid)[0]
        self.assert_recovered("deliverer_between_attempts", crashed,
                              second["at_ms"])
        first_at = c.deliveries(jid)[0]["at_ms"]
        self.assertGreaterEqual(second["at_ms"] - first_at,
                                GAP_S * 1000 - 50, c.deliveries(jid))
        self.assert_invariants(c, acct, jid)
        self.assertEqual([d["answered"] for d in c.deliveries(jid)],
                         [500, 200])
        log = [json.loads(x) for x in c.redis.lrange(dlv_key)]
        self.assertEqual([e.get("attempt") for e in log], [1, 2], log)
        self.assertEqual(c.job_hash(acct, jid).get("wh_attempts"), "2")
        self.assert_alive([good] + c.brokers + c.workers)

    # -- the retention step's points -------------------------------------

    def retention_crashes(self, point):
        """A cluster whose only broker crashes at `point` while the
        retention step moves one job out; a healthy broker starts once
        the crash is seen. Returns (cluster, acct, job id, crash time,
        healthy broker)."""
        c = self.cluster(workers=1, env={
            "REELAY_JOBS_RETENTION_DAYS": RETENTION_DAYS})
        acct, key = c.create_account(50)
        c.brokers[0].stop()
        bad = self.crashing(c, "broker", 0, point)
        rec.wait_broker_ready(c, 0)
        r = c.submit(key, video_body(prompt="retain [sim render_ms=50]",
                                     webhook_url=c.webhook_url(point)))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        crashed = wait_crashed(self, bad, 30)
        good = rec.spawn_role(c, "broker", 0, name="broker-0-restarted")
        return c, acct, jid, crashed, good

    def archived(self, c, kind):
        out = []
        for path in sorted(glob.glob(os.path.join(c.tmp, "archive",
                                                  kind + "-*.jsonl"))):
            with open(path) as f:
                out += [json.loads(ln) for ln in f if ln.strip()]
        return out

    def exported(self, c):
        r = subprocess.run([os.path.join(c.bin, "reelay"), "export", "-c",
                            c.config, "--since", "2000-01-01"],
                           env=c.env(), cwd=c.tmp, capture_output=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return [json.loads(ln) for ln in r.stdout.decode().splitlines()]

    def test_point_broker_after_archive(self):
        c, acct, jid, crashed, good = self.retention_crashes(
            "broker_after_archive")
        jk = rkeys.job(acct, jid)
        # Archived and fsync'd, not removed: it is in both places.
        self.assertEqual(c.redis.hget(jk, "wh_state"), "delivered")
        self.assertEqual([j["id"] for j in self.archived(c, "jobs")], [jid])
        wait_for(lambda: not c.redis.exists(jk), RETAIN_BOUND_S + 5,
                 "the job removed by the healthy broker")
        self.assert_recovered("broker_after_archive", crashed,
                              time.time() * 1000, RETAIN_BOUND_S)
        # Archived again before the removal: a duplicate, never a loss,
        # and the same record but for when it was archived.
        twice = self.archived(c, "jobs")
        self.assertEqual([j["id"] for j in twice], [jid, jid])
        for j in twice:
            del j["archived_at"]
        self.assertEqual(twice[0], twice[1])
        jobs = [r for r in self.exported(c) if r["type"] == "job"]
        self.assertEqual([(j["id"], j["status"]) for j in jobs],
                         [(jid, "completed")])
        rec.audit_ok(self, c)
        self.assert_alive([good] + c.workers + c.deliverers)

    def test_point_broker_after_ledger_archive(self):
        c, acct, jid, crashed, good = self.retention_crashes(
            "broker_after_ledger_archive")
        lk = rkeys.ledger(acct)
        # The job went; its ledger entries are archived, not popped.
        self.assertFalse(c.redis.exists(rkeys.job(acct, jid)))
        self.assertEqual(c.redis.call("LLEN", lk), 2)
        self.assertEqual(sorted(e["seq"] for e in
                                self.archived(c, "ledger")), [1, 2])
        wait_for(lambda: c.redis.call("LLEN", lk) == 0, RETAIN_BOUND_S + 5,
                 "the ledger popped by the healthy broker")
        self.assert_recovered("broker_after_ledger_archive", crashed,
                              time.time() * 1000, RETAIN_BOUND_S)
        self.assertEqual(sorted(e["seq"] for e in
                                self.archived(c, "ledger")), [1, 1, 2, 2])
        ledger = [r for r in self.exported(c) if r["type"] == "ledger"]
        self.assertEqual(sorted(e["seq"] for e in ledger), [1, 2])
        a = c.redis.hgetall(rkeys.acct(acct))
        self.assertEqual((a["ledger_archived"], a["carried_granted"],
                          a["carried_debited"]), ("2", "50", "3"))
        rec.audit_ok(self, c)
        self.assert_alive([good] + c.workers + c.deliverers)


if __name__ == "__main__":
    harness.main()
