"""Status polling of the upstream task: transient poll failures (5xx,
malformed bodies) tolerated up to 5 in a row with exponential backoff
capped at 4x the poll interval, the 6th failing over (or failing the job
when no affordable backup is left), and the phases / progress / ETA /
last poll time recorded from each poll and shown by GET."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, video_body  # noqa: E402
from test_failover import FailoverAsserts, hops  # noqa: E402

INTERVAL_MS = 100
PHASES = ["Queued", "Preparing", "Rendering", "Encoding", "Finishing"]


class TransientPolls(FailoverAsserts, harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, poll_interval_ms=INTERVAL_MS,
                   env={"REELAY_HEALTH_BREAKER_FAILURES": "100"})

    def poll_times(self, tag, api, until_polls, timeout=15.0):
        """Samples /_sim/tasks and returns the monotonic time at which the
        task's poll count reached 1, 2, ... until_polls."""
        seen = {}

        def done():
            ts = [t for t in self.c.sim_tasks(tag) if t["api"] == api]
            if ts:
                n = ts[0]["polls"]
                now = time.monotonic()
                for k in range(1, n + 1):
                    seen.setdefault(k, now)
            return len(seen) >= until_polls
        wait_for(done, timeout, "%d polls of the %s task" % (until_polls,
                                                             api),
                 interval=0.01)
        return [seen[k] for k in range(1, until_polls + 1)]

    # 5: five in a row are tolerated, with capped exponential backoff
    def test_a_five_5xx_tolerated_with_capped_backoff(self):
        acct, key, jid, tag = self.run_job("[sim kling.poll_5xx=5]")
        at = self.poll_times(tag, "kling", 6)
        gaps = [(b - a) * 1000 for a, b in zip(at, at[1:])]
        # interval << n, capped at 4 x interval: 200, 400, 400, 400, 400
        # (uncapped: 200, 400, 800, 1600, 3200; no backoff: 100 each).
        lo = [150, 300, 300, 300, 300]
        hi = [350, 650, 650, 650, 650]
        for g, a, b in zip(gaps, lo, hi):
            self.assertTrue(a <= g <= b, "poll gaps %r ms" % gaps)
        total = (at[5] - at[0]) * 1000
        self.assertTrue(1650 <= total <= 2600, "5 failing polls took %d ms"
                        % total)
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-kling", "kling-v3", False)
        kl = self.tasks_by(o, "kling")
        self.assertEqual(len(kl), 1, o["tasks"])
        self.assertEqual(kl[0]["polls"], 6, kl)
        self.assertEqual(self.tasks_by(o, "seedance"), [], o["tasks"])
        self.assert_money(o, key, 3, 0)
        b = self.assert_hook(o, key, "completed", False)
        self.assertEqual(hops(b["status_history"]), [])

    def test_b_malformed_polls_tolerated(self):
        acct, key, jid, tag = self.run_job(
            "[sim kling.malformed=poll kling.malformed_times=4]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-kling", "kling-v3", False)
        self.assertEqual(self.tasks_by(o, "kling")[0]["polls"], 5)
        self.assert_money(o, key, 3, 0)
        self.assert_hook(o, key, "completed", False)

    # 5: the 6th in a row fails over to the next affordable model
    def test_c_six_5xx_on_kling_fail_over_to_seedance(self):
        acct, key, jid, tag = self.run_job("[sim kling.poll_5xx=6]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-seedance", "seedance", True)
        kl = self.tasks_by(o, "kling")
        self.assertEqual(len(kl), 1, o["tasks"])
        self.assertEqual(kl[0]["polls"], 6, kl)
        self.assertIs(kl[0]["cancelled"], False)  # Kling has no cancel API
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["status"], "succeeded", sd)
        self.assert_money(o, key, 3, 1)
        b = self.assert_hook(o, key, "completed", True)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 1, b["status_history"])
        self.assertIn("failover from kling-v3 to seedance: 6 consecutive "
                      "transient poll failures", hs[0]["reason"])
        # Six failing polls took the capped backoff (~2.2 s) before the
        # hop, not 6 x 100 ms.
        h = o["hash"]
        self.assertGreaterEqual(int(h["completed_at"]) -
                                int(h["created_at"]), 1900, h)

    # 5: the 6th in a row with no affordable backup fails and refunds
    def test_d_six_5xx_on_seedance_only_job_fails(self):
        acct, key, jid, tag = self.run_job("[sim seedance.poll_5xx=6]",
                                           model="seedance")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        self.assert_where(o, "sim-seedance", "seedance", False)
        self.assertEqual(self.tasks_by(o, "kling"), [], o["tasks"])
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["polls"], 6, sd)
        self.assert_money(o, key, 2, 2)
        self.assertTrue(o["hash"].get("refunded_at"), o["hash"])
        b = self.assert_hook(o, key, "failed", False)
        err = b["error"]
        self.assertEqual(err["code"], "transient", err)
        self.assertIn("no provider left: 6 consecutive transient poll "
                      "failures", err["message"])
        self.assertEqual(err.get("provider"), "sim-seedance", err)


class Phases(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, poll_interval_ms=INTERVAL_MS)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def watch(self, prompt):
        """Submits, then GETs the job every 50 ms until it ends; returns
        (final job, samples of the processing states)."""
        c = self.c
        r = c.submit(self.key, video_body(prompt=prompt))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        samples = []

        def done():
            g = c.get_job(self.key, jid)
            self.assertEqual(g.status, 200, g)
            j = g.json()
            if j["status"] == "processing":
                # last_poll_at in the API has 1 s resolution; the job
                # hash keeps the milliseconds.
                j["_last_poll_ms"] = c.job_hash(self.acct, jid).get(
                    "last_poll_at")
                samples.append(j)
            return j if j["status"] in ("completed", "failed") else None
        final = wait_for(done, 60, "job %s to end" % jid, interval=0.05)
        return final, samples

    def check_run(self, final, samples):
        self.assertEqual(final["status"], "completed", final)
        self.assertGreater(len(samples), 10, samples)
        polled = [s for s in samples if s["last_poll_at"] is not None]
        self.assertTrue(polled, samples)
        for s in polled:
            self.assertIn(s["phase"], PHASES, s)
            self.assertIsInstance(s["eta_seconds"], int, s)
            self.assertGreaterEqual(s["eta_seconds"], 0, s)
            self.assertIsInstance(s["progress"], int, s)
            self.assertIsInstance(s["elapsed_seconds"], int, s)
        # Phases only move forward, progress never goes back, the poll
        # time keeps advancing.
        idx = [PHASES.index(s["phase"]) for s in polled]
        self.assertEqual(idx, sorted(idx), [s["phase"] for s in polled])
        prog = [s["progress"] for s in polled]
        self.assertEqual(prog, sorted(prog), prog)
        self.assertGreater(prog[-1], prog[0], prog)
        lp = [s["last_poll_at"] for s in polled]
        self.assertEqual(lp, sorted(lp))
        self.assertGreaterEqual(len(set(lp)), 2, lp)
        ms = [int(s["_last_poll_ms"]) for s in polled
              if s["_last_poll_ms"]]
        self.assertEqual(ms, sorted(ms))
        self.assertGreater(len(set(ms)), 10, ms)
        self.assertTrue({s["phase"] for s in polled} -
                        {"Queued"}, "never past Queued: %r" % idx)
        # The final status chain lists the phases in order.
        hist = final["status_history"]
        self.assertEqual([hist[0]["status"], hist[-1]["status"]],
                         ["pending", "completed"], hist)
        ph = [e["phase"] for e in hist
              if e["status"] == "processing" and "phase" in e]
        order = [PHASES.index(p) for p in ph]
        self.assertEqual(order, sorted(order), ph)
        self.assertIn("Preparing", ph)
        for e in hist:
            self.assertRegex(e["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsNone(final["phase"])
        self.assertIsNone(final["eta_seconds"])
        self.assertEqual(final["progress"], 100)
        return [s["phase"] for s in polled], ph

    # 9
    def test_a_phases_eta_and_last_poll(self):
        # 5 s: dozens of samples and polls even when a loaded machine
        # slows the test's GETs (more than ten of each are needed).
        prompt = "Phased [sim render_ms=5000 steps=6]"
        final, samples = self.watch(prompt)
        self.check_run(final, samples)
        # This model's render time average is now known (job_finish keeps
        # it); a worker loads averages when it connects, so a new worker
        # process bases progress and ETA on it and the next job walks
        # through the later phases too. (Averages are kept per partition:
        # the account's, which the next job of the account shares.)
        c = self.c
        avg = rkeys.of_acct(rkeys.render_avg, self.acct)
        wait_for(lambda: c.redis.hget(avg, "kling-v3"), 5,
                 "%s kling-v3" % avg)
        c.workers[0].stop()
        w = c.start_worker(0)
        # It holds a lease in every partition (one each).
        wait_for(lambda: w.alive() and all(
            any("-%d-" % w.pid in m for m in c.redis.zrange(k))
            for k in rkeys.all_of(rkeys.workers)),
            10, "the new worker in every rl:workers:{P}")
        final, samples = self.watch(prompt)
        seen, ph = self.check_run(final, samples)
        self.assertIn("Rendering", ph, ph)
        self.assertTrue({"Encoding", "Finishing"} & set(ph), ph)
        polled = [s for s in samples if s["last_poll_at"] is not None]
        self.assertGreaterEqual(max(s["progress"] for s in polled), 50,
                                [s["progress"] for s in polled])
        etas = [s["eta_seconds"] for s in polled
                if s["phase"] != "Queued"]
        self.assertGreater(etas[0], etas[-1], etas)


if __name__ == "__main__":
    harness.main()
