"""Time limits: the job's maximum wait (failed, refunded exactly once,
failure webhook with error context and elapsed time), and upstream
requests that never answer (submit and poll timeouts count as transient
failures: a hung submit fails over, hung polls are tolerated up to 5 in a
row and the 6th fails over)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for  # noqa: E402
from test_failover import FailoverAsserts, hops  # noqa: E402

MAX_WAIT_S = 2


class MaxWait(FailoverAsserts, harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, poll_interval_ms=100, env={
        "REELAY_JOBS_MAX_WAIT_S": str(MAX_WAIT_S),
    })

    def check_timeout(self, model, price):
        c = self.c
        acct, key, jid, tag = self.run_job("[sim render_ms=60000]",
                                           model=model)
        o = c.outcome(acct, key, jid, tag)
        h = o["hash"]
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        took = int(h["completed_at"]) - int(h["created_at"])
        # Never early; late by what a loaded machine adds, far less
        # than the minute the render would take.
        self.assertTrue(MAX_WAIT_S * 1000 <= took <= MAX_WAIT_S * 1000 +
                        5000, "failed after %d ms" % took)
        self.assertEqual(h["error_code"], "timeout", h)
        msg = h["error_message"]
        self.assertIn("maximum wait of %d s" % MAX_WAIT_S, msg)
        self.assertRegex(msg, r"waited [0-9]+ s")
        self.assertIn("last phase", msg)
        self.assertEqual(len(o["tasks"]), 1, o["tasks"])
        self.assertIs(o["job"]["failover_used"], False)
        # Refunded exactly once; nothing moves afterwards while the
        # reaper keeps scanning (it runs every 100 ms here).
        self.assertTrue(h.get("refunded_at"), h)
        self.assertIsNotNone(o["job"]["refunded_at"], o["job"])
        self.assert_money(o, key, price, price)
        before = c.job_hash(acct, jid)
        holds_for(lambda: c.job_hash(acct, jid).get("refunded_at") ==
                  before["refunded_at"] and
                  len(c.ledger(key, jid)) == 2, 1.0,
                  "one refund, refunded_at unchanged")
        b = self.assert_hook(o, key, "failed", False)
        self.assertEqual(b["error"]["code"], "timeout", b)
        self.assertIn("maximum wait", b["error"]["message"])
        self.assertGreaterEqual(b["elapsed_seconds"], MAX_WAIT_S, b)
        self.assertEqual(o["job"]["error"]["code"], "timeout")
        self.assertGreaterEqual(o["job"]["elapsed_seconds"], MAX_WAIT_S)
        # The money adds up for every account.
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)
        self.assertIn("violations=0", out)
        return o

    # 6
    def test_a_max_wait_kling(self):
        self.check_timeout("kling-v3", 3)

    def test_b_max_wait_seedance(self):
        self.check_timeout("seedance", 2)


class MaxWaitUnclaimed(FailoverAsserts, harness.ClusterTestCase):
    """No worker runs, so no worker can time the job out: the broker's
    reaper fails a job still queued at its maximum wait, refunds it once
    and its failure webhook goes out."""
    CLUSTER = dict(workers=0, deliverers=1, env={
        "REELAY_JOBS_MAX_WAIT_S": str(MAX_WAIT_S),
    })

    def test_a_queued_job_times_out(self):
        c = self.c
        acct, key, jid, tag = self.run_job("[sim render_ms=100]")
        o = c.outcome(acct, key, jid, tag, timeout=MAX_WAIT_S + 10)
        h = o["hash"]
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        took = int(h["completed_at"]) - int(h["created_at"])
        # Never early; late by what a loaded machine adds, far less
        # than the minute the render would take.
        self.assertTrue(MAX_WAIT_S * 1000 <= took <= MAX_WAIT_S * 1000 +
                        5000, "failed after %d ms" % took)
        self.assertEqual(h["error_code"], "timeout", h)
        self.assertIn("maximum wait of %d s" % MAX_WAIT_S,
                      h["error_message"])
        self.assertIn("no worker took it", h["error_message"])
        self.assertEqual(h.get("fence"), "0", h)  # never claimed
        self.assertEqual(o["tasks"], [])          # nothing rendered
        self.assertNotIn(rkeys.ref(acct, jid),
                         c.redis.lrange(rkeys.of_acct(rkeys.queue, acct)))
        self.assert_money(o, key, 3, 3)
        b = self.assert_hook(o, key, "failed", False)
        self.assertEqual(b["error"]["code"], "timeout", b)
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)


    def test_b_malformed_head_ref_does_not_block(self):
        # A malformed ref at the head of the queue is popped like a stale
        # one, so the sweep still reaches (and fails) the job behind it.
        # The job's partition is not known before its account is made:
        # the first malformed ref heads every partition's queue (so the
        # job's too); the second heads the job's partition's queue.
        c = self.c
        for q in rkeys.all_of(rkeys.queue):
            c.redis.call("LPUSH", q, "no-bar-in-this-ref")
        acct, key, jid, tag = self.run_job("[sim render_ms=100]")
        c.redis.call("LPUSH", rkeys.of_acct(rkeys.queue, acct), "also|")
        o = c.outcome(acct, key, jid, tag, timeout=MAX_WAIT_S + 10)
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        self.assertEqual(o["hash"]["error_code"], "timeout", o["hash"])
        self.assertEqual(c.redis.lrange(rkeys.of_acct(rkeys.queue, acct)),
                         [])
        # Every other partition's sweep pops its malformed head as well.
        wait_for(lambda: rkeys.total(c.redis, "LLEN", rkeys.queue) == 0, 5,
                 "every partition's queue empty")


class Hangs(FailoverAsserts, harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, poll_interval_ms=100, env={
        "REELAY_HEALTH_BREAKER_FAILURES": "100",
        "REELAY_PROVIDER_SIM_KLING_SUBMIT_TIMEOUT_MS": "300",
        "REELAY_PROVIDER_SIM_SEEDANCE_SUBMIT_TIMEOUT_MS": "300",
        "REELAY_PROVIDER_SIM_KLING_POLL_TIMEOUT_MS": "200",
        "REELAY_PROVIDER_SIM_SEEDANCE_POLL_TIMEOUT_MS": "200",
    })

    def no_held_requests(self):
        """Every hung request was given up by the worker (the simulator
        saw its connection close)."""
        wait_for(lambda: self.c.sim_stats()["held"] == 0, 5,
                 "no request held by the simulator")

    # 2 (hang at submit)
    def test_a_submit_hang_fails_over(self):
        o = self.submit_failover("[sim kling.submit=hang]",
                                 "transient at submit: request timed out")
        h = o["hash"]
        self.assertGreaterEqual(int(h["completed_at"]) -
                                int(h["created_at"]), 300, h)
        self.no_held_requests()

    def test_b_submit_hang_without_backup_fails(self):
        acct, key, jid, tag = self.run_job("[sim seedance.submit=hang]",
                                           model="seedance")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        self.assertEqual(o["tasks"], [])
        self.assert_where(o, "sim-seedance", "seedance", False)
        self.assert_money(o, key, 2, 2)
        b = self.assert_hook(o, key, "failed", False)
        self.assertEqual(b["error"]["code"], "transient", b)
        self.assertIn("no provider left: transient at submit: request "
                      "timed out", b["error"]["message"])
        self.no_held_requests()

    def test_c_poll_hangs_tolerated(self):
        acct, key, jid, tag = self.run_job("[sim kling.poll_hang=3]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-kling", "kling-v3", False)
        kl = self.tasks_by(o, "kling")
        self.assertEqual(len(kl), 1, o["tasks"])
        self.assertEqual(kl[0]["polls"], 4, kl)
        self.assertEqual(self.tasks_by(o, "seedance"), [])
        self.assert_money(o, key, 3, 0)
        b = self.assert_hook(o, key, "completed", False)
        self.assertEqual(hops(b["status_history"]), [])
        # 3 x (200 ms timeout) + backoff 200 + 400 + 400 at least.
        h = o["hash"]
        self.assertGreaterEqual(int(h["completed_at"]) -
                                int(h["created_at"]), 1600, h)
        self.no_held_requests()

    def test_d_six_poll_hangs_fail_over(self):
        acct, key, jid, tag = self.run_job("[sim kling.poll_hang=6]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-seedance", "seedance", True)
        kl = self.tasks_by(o, "kling")
        self.assertEqual(len(kl), 1, o["tasks"])
        self.assertEqual(kl[0]["polls"], 6, kl)
        self.assertEqual(len(self.tasks_by(o, "seedance")), 1, o["tasks"])
        self.assert_money(o, key, 3, 1)
        b = self.assert_hook(o, key, "completed", True)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 1, b["status_history"])
        self.assertIn("6 consecutive transient poll failures (last: "
                      "request timed out)", hs[0]["reason"])
        self.no_held_requests()


if __name__ == "__main__":
    harness.main()
