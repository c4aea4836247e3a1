"""Webhook retries on the (shortened) schedule: 3 attempts at most, the
result stays pollable when all fail, delivered once when one succeeds."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

SCHEDULE = [0, 0.3, 0.6]   # delay before each attempt, after the last one
SLACK = 0.05               # clock granularity (receiver at_ms vs timers)
UPPER = 4.5                # below the default 5 s / 30 s steps, with room
                           # for a loaded machine


class WebhookRetry(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1,
                   retry_schedule=",".join(str(s) for s in SCHEDULE))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def submit(self, tag):
        r = self.c.submit(self.key, video_body(
            prompt="retry %s [sim render_ms=200]" % tag,
            webhook_url=self.c.webhook_url(tag)))
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def wait_final(self, jid, state):
        c = self.c
        ref = "%s|%s" % (self.acct, jid)
        wait_for(lambda: c.job_hash(self.acct, jid).get("wh_state") == state,
                 30, "wh_state of %s == %s" % (jid, state))
        wait_for(lambda: rkeys.outbox_score(c.redis, ref) is None, 30,
                 "outbox entry of %s gone" % jid)

    def check_spacing(self, ds):
        at = [d["at_ms"] / 1000.0 for d in ds]
        for i in range(1, len(at)):
            gap = at[i] - at[i - 1]
            self.assertGreaterEqual(gap, SCHEDULE[i] - SLACK,
                                    "attempt %d came %.3fs after attempt %d"
                                    % (i + 1, gap, i))
            self.assertLess(gap, SCHEDULE[i] + UPPER,
                            "attempt %d came %.3fs after attempt %d"
                            % (i + 1, gap, i))

    def test_all_attempts_fail(self):
        c = self.c
        c.receiver_control({"fail_next": 3, "status": 500})
        jid = self.submit("allfail")
        wait_for(lambda: len(c.deliveries(jid)) >= 3, 15,
                 "3 delivery attempts of %s" % jid)
        self.wait_final(jid, "failed")
        # Past the schedule and after the system gave up: no 4th attempt.
        holds_for(lambda: len(c.deliveries(jid)) == 3, 1.0,
                  "exactly 3 attempts of %s" % jid)
        ds = c.deliveries(jid)
        self.assertEqual([d["answered"] for d in ds], [500, 500, 500])
        for d in ds:
            self.assertTrue(harness.verify_signature(
                d["headers"].get("x-creativeai-signature"),
                d["body"].encode(), self.key))
            self.assertEqual(d["headers"].get("x-creativeai-delivery-id"),
                             jid)
        # Every attempt carries the same payload.
        self.assertEqual(len({d["body"] for d in ds}), 1)
        self.check_spacing(ds)
        h = c.job_hash(self.acct, jid)
        self.assertEqual(h.get("wh_state"), "failed", h)
        self.assertEqual(h.get("wh_attempts"), "3", h)
        self.assertNotEqual(
            c.redis.get(rkeys.dedup(self.acct, jid, "completed")),
            "delivered")
        self.assertEqual(
            len(c.redis.lrange(rkeys.deliveries(self.acct, jid))), 3)
        # The result is still available by polling.
        g = c.get_job(self.key, jid)
        self.assertEqual(g.status, 200, g)
        self.assertEqual(g.json()["status"], "completed", g)
        self.assertTrue(g.json()["output_url"], g)

    def test_third_attempt_succeeds(self):
        c = self.c
        c.receiver_control({"fail_next": 2, "status": 500})
        jid = self.submit("thirdok")
        wait_for(lambda: len(c.deliveries(jid)) >= 3, 15,
                 "3 delivery attempts of %s" % jid)
        self.wait_final(jid, "delivered")
        holds_for(lambda: len(c.deliveries(jid)) == 3, 1.0,
                  "exactly 3 attempts of %s" % jid)
        ds = c.deliveries(jid)
        self.assertEqual([d["answered"] for d in ds], [500, 500, 200])
        self.check_spacing(ds)
        self.assertEqual(c.redis.get(rkeys.dedup(self.acct, jid, "completed")),
                         "delivered")
        self.assertEqual(c.job_hash(self.acct, jid).get("wh_attempts"), "3")


if __name__ == "__main__":
    harness.main()
