"""Webhook retry rules: which failures are retried (timeouts, connection
and DNS errors, 408, 429, 5xx), Retry-After on 429/503 honoured within
its cap, 410 and the other 4xx (and 3xx: redirects are not followed)
permanent, the schedule and timeout from the config (defaults 0 s, 5 s,
30 s and 10 s), the per-account long schedule with jitter, and a job
whose attempts all fail keeping its result and recording the failure.
"""

import email.utils
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

SCHEDULE = "0,0.3,0.6"
TIMEOUT_MS = 800
SLACK_MS = 250                      # timers, scan period and clocks
# How much later than scheduled a step may be seen on a loaded machine
# (a timer fires late, a record is written late; never early): far less
# than the gap between the steps each check tells apart.
LATE_MS = 4000


def auth(key):
    return {"Authorization": "Bearer " + key}


class ClassifyBase(harness.ClusterTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(500)

    def submit(self, url, tag, key=None):
        r = self.c.submit(key or self.key, video_body(
            prompt="classify %s [sim render_ms=50]" % tag, webhook_url=url))
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def final(self, jid, acct=None, timeout=40):
        """Waits for the delivery of jid to end; returns its job hash."""
        acct = acct or self.acct
        ref = "%s|%s" % (acct, jid)
        c = self.c
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state") in
                 ("delivered", "failed") and
                 rkeys.outbox_score(c.redis, ref) is None, timeout,
                 "the delivery of %s to end" % jid)
        return c.job_hash(acct, jid)

    def log(self, jid, acct=None):
        return [json.loads(x) for x in self.c.redis.lrange(
            rkeys.deliveries(acct or self.acct, jid))]

    def wait_attempts(self, jid, n, acct=None, timeout=40):
        return wait_for(lambda: len(self.log(jid, acct)) >= n and
                        self.log(jid, acct), timeout,
                        "%d attempt(s) of %s recorded" % (n, jid))

    def next_delay_ms(self, jid, acct=None):
        """How long after the end of the last recorded attempt the next
        one is due (wh_next_at is Redis time, like the record's at)."""
        last = self.log(jid, acct)[-1]
        h = self.c.job_hash(acct or self.acct, jid)
        return int(h["wh_next_at"]) - (last["at"] + last["latency_ms"])

    def receivers(self, n):
        return [self.c.start_extra_receiver() for _ in range(n)]


class Classify(ClassifyBase):
    CLUSTER = dict(retry_schedule=SCHEDULE, webhook_timeout_ms=TIMEOUT_MS)

    def test_retryable_statuses(self):
        statuses = [408, 429, 500, 502, 503, 504]
        bases = self.receivers(len(statuses))
        jobs = []
        for s, base in zip(statuses, bases):
            self.c.receiver_control({"fail_next": 1, "status": s}, base)
            jobs.append(self.submit(base + "/hook", "retry-%d" % s))
        for s, base, jid in zip(statuses, bases, jobs):
            h = self.final(jid)
            self.assertEqual(h["wh_state"], "delivered", (s, h))
            self.assertEqual([d["answered"] for d in
                              self.c.deliveries(jid, base)], [s, 200], s)
            self.assertEqual([(e["status"], e["outcome"])
                              for e in self.log(jid)],
                             [(s, "retry"), (200, "delivered")])

    def test_permanent_statuses_and_redirects(self):
        # 410 stops retrying like every other 4xx; a 3xx is not followed
        # (its Location would take the webhook elsewhere).
        target = self.c.start_extra_receiver()
        cases = [(400, {}), (401, {}), (404, {}), (410, {}), (422, {}),
                 (302, {"Location": target + "/elsewhere"}),
                 (307, {"Location": target + "/elsewhere"})]
        bases = self.receivers(len(cases))
        jobs = []
        for (s, hdrs), base in zip(cases, bases):
            self.c.receiver_control({"fail_next": 1, "status": s,
                                     "headers": hdrs}, base)
            jobs.append(self.submit(base + "/hook", "perm-%d" % s))
        for (s, _), base, jid in zip(cases, bases, jobs):
            h = self.final(jid)
            self.assertEqual(h["wh_state"], "failed", (s, h))
            self.assertEqual(h["wh_attempts"], "1", (s, h))
            self.assertEqual([(e["status"], e["outcome"])
                              for e in self.log(jid)], [(s, "failed")])
        # The receivers would answer 200 now: nobody tried again.
        holds_for(lambda: all(len(self.c.deliveries(j, b)) == 1
                              for b, j in zip(bases, jobs)), 0.8,
                  "one attempt per permanent failure")
        self.assertEqual(self.c.deliveries(base=target), [],
                         "a redirect was followed")

    def test_retry_after_honoured_on_429_and_503(self):
        bases = self.receivers(3)
        date = email.utils.formatdate(time.time() + 3, usegmt=True)
        cases = [(429, "2", 2000), (503, date, 1800), (500, "5", None)]
        jobs = []
        for (s, ra, _), base in zip(cases, bases):
            self.c.receiver_control({"fail_next": 1, "status": s,
                                     "headers": {"Retry-After": ra}}, base)
            jobs.append(self.submit(base + "/hook", "ra-%d" % s))
        for (s, ra, least), base, jid in zip(cases, bases, jobs):
            self.assertEqual(self.final(jid)["wh_state"], "delivered", s)
            ds = self.c.deliveries(jid, base)
            self.assertEqual([d["answered"] for d in ds], [s, 200])
            gap = ds[1]["at_ms"] - ds[0]["at_ms"]
            if least is None:  # not a 429/503: the schedule's 0.3 s,
                # not its Retry-After of 5 s
                self.assertLess(gap, 300 + LATE_MS, (s, ra, gap))
            else:
                self.assertGreaterEqual(gap, least - SLACK_MS, (s, ra, gap))
                self.assertLess(gap, least + LATE_MS, (s, ra, gap))

    def test_retry_after_is_capped(self):
        base = self.c.start_extra_receiver()
        self.c.receiver_control({"fail_next": 1, "status": 429, "headers": {
            "Retry-After": "999999"}}, base)
        jid = self.submit(base + "/hook", "ra-cap")
        self.wait_attempts(jid, 1)
        wait_for(lambda: self.c.job_hash(self.acct, jid).get("wh_next_at"),
                 30, "the retry scheduled")
        delay = self.next_delay_ms(jid)
        self.assertGreater(delay, 3600 * 1000 - 5000, delay)
        self.assertLess(delay, 3600 * 1000 + 5000, delay)

    def test_timeout_connection_and_dns_errors_retried(self):
        closed = "http://127.0.0.1:%d/hook" % harness.free_port()
        dns = "http://no-such-host.invalid/hook"
        self.c.receiver_control({"hang_next": 1})
        hung = self.submit(self.c.webhook_url("hang"), "timeout")
        refused = self.submit(closed, "refused")
        unresolved = self.submit(dns, "dns")
        h = self.final(hung)
        self.assertEqual(h["wh_state"], "delivered", h)
        first = self.log(hung)[0]
        self.assertEqual((first["status"], first["outcome"]), (0, "retry"))
        self.assertIn("timed out", first["error"])
        self.assertGreaterEqual(first["latency_ms"], TIMEOUT_MS - 50)
        self.assertLess(first["latency_ms"], TIMEOUT_MS + LATE_MS)
        for jid, words in ((refused, "connect"), (unresolved, "resolve")):
            h = self.final(jid)
            self.assertEqual(h["wh_state"], "failed", h)
            log = self.log(jid)
            self.assertEqual([e["outcome"] for e in log],
                             ["retry", "retry", "failed"], log)
            for e in log:
                self.assertEqual(e["status"], 0, e)
                self.assertIn(words, e["error"].lower(), e)

    def test_all_attempts_fail_result_stays_and_failure_recorded(self):
        base = self.c.start_extra_receiver()
        self.c.receiver_control({"fail_next": 3, "status": 500}, base)
        jid = self.submit(base + "/hook", "allfail")
        h = self.final(jid)
        self.assertEqual((h["wh_state"], h["wh_attempts"]), ("failed", "3"))
        holds_for(lambda: len(self.c.deliveries(jid, base)) == 3, 0.8,
                  "no fourth attempt")
        g = self.c.get_job(self.key, jid)
        self.assertEqual(g.status, 200, g)
        job = g.json()
        self.assertEqual(job["status"], "completed", job)
        self.assertTrue(job["output_url"], job)
        wh = job["webhook"]
        self.assertEqual((wh["state"], wh["attempts"]), ("failed", 3), job)
        self.assertTrue(wh["last_attempt_at"], job)
        self.assertNotIn("next_attempt_at", wh, job)
        r = harness.http_get(self.c.url("/v1/video/generations/%s/"
                                        "deliveries" % jid),
                             headers=auth(self.key))
        self.assertEqual(r.json()["webhook_state"], "failed", r)
        r = harness.http_get(self.c.url("/v1/webhooks/failed"),
                             headers=auth(self.key))
        self.assertIn(jid, [e["id"] for e in r.json()["data"]], r)

    def test_long_schedule_per_account(self):
        # The account asks for the long schedule ([webhook] long_schedule,
        # 0, 60, 300, ... s, each delay jittered by +-10 %); another
        # account keeps the default on the same deliverer.
        c = self.c
        acct, key = c.create_account(50)
        r = harness.http_request("PUT", c.url("/v1/account/webhooks"),
                                 body=json.dumps({"schedule": "long"}),
                                 headers=auth(key))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["schedule"], "long", r)
        base = c.start_extra_receiver()
        c.receiver_control({"fail_next": 4, "status": 503}, base)
        jobs = [self.submit(base + "/long", "long-%d" % i, key)
                for i in range(3)]
        delays = []
        for jid in jobs:
            self.wait_attempts(jid, 1, acct)
            wait_for(lambda: c.job_hash(acct, jid).get("wh_next_at"), 30,
                     "the retry of %s scheduled" % jid)
            delays.append(self.next_delay_ms(jid, acct))
        for d in delays:
            self.assertGreaterEqual(d, 54000 - SLACK_MS, delays)
            self.assertLessEqual(d, 66000 + LATE_MS, delays)
        self.assertGreater(len(set(delays)), 1, "no jitter: %r" % delays)
        # The second retry of one of them: 300 s +- 10 %.
        jid = jobs[0]
        c.redis.call("ZADD", rkeys.of_acct(rkeys.outbox, acct), 0,
                     rkeys.ref(acct, jid))
        self.wait_attempts(jid, 2, acct)
        wait_for(lambda: self.next_delay_ms(jid, acct) > 100000, 30,
                 "the second retry scheduled")
        d = self.next_delay_ms(jid, acct)
        self.assertGreaterEqual(d, 270000 - SLACK_MS, d)
        self.assertLessEqual(d, 330000 + LATE_MS, d)
        # The default account's next job still retries at 0.3 s.
        c.receiver_control({"fail_next": 1, "status": 503}, base)
        other = self.submit(base + "/default", "not-long")
        self.assertEqual(self.final(other)["wh_state"], "delivered")


class ConfigDefaults(harness.Cluster):
    """A cluster whose deliverer takes [webhook] retry_schedule and
    timeout_ms from deploy/reelay.ini instead of the harness's short
    test values."""

    def env(self):
        e = super().env()
        del e["REELAY_WEBHOOK_RETRY_SCHEDULE"]
        del e["REELAY_WEBHOOK_TIMEOUT_MS"]
        return e


class Defaults(ClassifyBase):

    @classmethod
    def setUpClass(cls):
        cls.c = ConfigDefaults(cls.BIN).__enter__()
        cls.addClassCleanup(cls.c.stop)
        cls.acct, cls.key = cls.c.create_account(50)

    def test_default_schedule_and_timeout(self):
        # Attempt 1 hangs until the 10 s timeout; attempt 2 is due 5 s
        # later, attempt 3 30 s after attempt 2, and there is no fourth.
        # The waits between attempts are skipped by making the entry due.
        c = self.c
        ref = lambda j: rkeys.ref(self.acct, j)  # noqa: E731
        outbox = rkeys.of_acct(rkeys.outbox, self.acct)  # its partition's
        c.receiver_control({"hang_next": 1})
        jid = self.submit(c.webhook_url("defaults"), "defaults")
        log = self.wait_attempts(jid, 1, timeout=20)
        self.assertIn("timed out", log[0]["error"], log)
        self.assertGreaterEqual(log[0]["latency_ms"], 10000 - 50, log)
        self.assertLess(log[0]["latency_ms"], 10000 + LATE_MS, log)
        wait_for(lambda: c.job_hash(self.acct, jid).get("wh_next_at"), 30,
                 "attempt 2 scheduled")
        self.assertGreater(self.next_delay_ms(jid), 5000 - SLACK_MS)
        self.assertLess(self.next_delay_ms(jid), 5000 + LATE_MS)
        c.receiver_control({"fail_next": 2, "status": 500})
        c.redis.call("ZADD", outbox, 0, ref(jid))
        self.wait_attempts(jid, 2)
        wait_for(lambda: self.next_delay_ms(jid) > 20000, 30,
                 "attempt 3 scheduled")
        self.assertGreater(self.next_delay_ms(jid), 30000 - SLACK_MS)
        self.assertLess(self.next_delay_ms(jid), 30000 + LATE_MS)
        c.redis.call("ZADD", outbox, 0, ref(jid))
        h = self.final(jid)
        self.assertEqual((h["wh_state"], h["wh_attempts"]), ("failed", "3"))
        self.assertEqual([e["outcome"] for e in self.log(jid)],
                         ["retry", "retry", "failed"])


if __name__ == "__main__":
    harness.main()
