"""Webhook delivery semantics (docs/webhooks.md, "Delivery semantics"):
at least once until a 2xx or the attempts run out, and a (job, status)
pair delivered successfully at most once while Redis is up, also when
the same completion is announced again to two deliverers or a second
deliverer takes over an entry whose claim ran out; with Redis stopped or
stalled, delivery goes ahead (fail-open), logged and counted, and is not
repeated once Redis is back.

The kill -9 of a deliverer between two attempts is
test_recovery.py:test_deliverer_kill9_between_attempts; retries on the
schedule are test_webhook_retry.py.
"""

import json
import os
import re
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
import zmtp_push  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402


def ok_count(c, jid):
    return len([d for d in c.deliveries(jid)
                if 200 <= d.get("answered", 0) < 300])


def attempt_log(c, acct, jid):
    return [json.loads(x) for x in
            c.redis.lrange(rkeys.deliveries(acct, jid))]


def log_text(proc):
    with open(proc.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class SemanticsCase(harness.PerTestClusterCase):
    """Each test builds its own cluster with `self.cluster(...)`."""

    def submit(self, c, key, tag, render_ms=100):
        r = c.submit(key, video_body(
            prompt="semantics %s [sim render_ms=%d]" % (tag, render_ms),
            webhook_url=c.webhook_url(tag)))
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def wait_done(self, c, acct, jid, state="delivered", timeout=15):
        ref = "%s|%s" % (acct, jid)
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state") == state and
                 rkeys.outbox_score(c.redis, ref) is None, timeout,
                 "wh_state of %s == %s and out of the outbox" % (jid, state))


class Dedup(SemanticsCase):

    def push_copies(self, c, frame):
        """Three copies of frame to every deliverer, all at once (one
        CURVE peer per deliverer, pushing in parallel), well within the
        attempt in the air."""
        out = {}

        def one(ep):
            out[ep] = zmtp_push.push(c, ep, frame, repeat=3)
        threads = [threading.Thread(target=one, args=(ep,))
                   for ep in c.completion]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        self.assertEqual([out.get(ep, (None,))[0] for ep in c.completion],
                         [0] * len(c.completion), out)

    def test_same_completion_to_two_deliverers_at_once(self):
        # The worker's own COMPLETION is lost and the outbox scan is ten
        # minutes away (past the end of the test however slow the
        # machine), so only the copies sent here can start a delivery:
        # both deliverers get the same completion at the same moment,
        # three times over.
        c = self.cluster(deliverers=2, env={
            "REELAY_DROP_COMPLETION": "1.0",
            "REELAY_WEBHOOK_OUTBOX_SCAN_MS": "600000"})
        acct, key = c.create_account(50)
        jid = self.submit(c, key, "atonce")
        wait_for(lambda: c.job_hash(acct, jid).get("status") == "completed",
                 30, "job %s completed" % jid)
        self.assertEqual(c.deliveries(jid), [])
        frame = zmtp_push.completion_of(c.redis, acct, jid)
        for _ in range(3):
            threads = [threading.Thread(target=zmtp_push.push,
                                        args=(c, ep, frame))
                       for ep in c.completion]
            for t in threads:
                t.start()
            for t in threads:
                t.join(10)
        self.wait_done(c, acct, jid, timeout=30)
        holds_for(lambda: len(c.deliveries(jid)) == 1, 1.0,
                  "exactly one delivery of %s" % jid)
        self.assertEqual(ok_count(c, jid), 1)
        log = attempt_log(c, acct, jid)
        self.assertEqual([e["outcome"] for e in log], ["delivered"], log)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, jid, "completed")),
                         "delivered")
        c.check_alive()

    def test_completion_announced_again_to_two_deliverers(self):
        # The worker's COMPLETION and three more copies of it, sent to
        # both deliverers while the first attempt is in the air and again
        # after the delivery: one 2xx in all. The attempt is held until
        # its timeout, long enough for the copies to be pushed and the
        # check after them on a loaded machine (at 1.5 s, it could time
        # out and be retried in between).
        c = self.cluster(deliverers=2, retry_schedule="0,0.3,0.6",
                         webhook_timeout_ms=10000)
        acct, key = c.create_account(50)
        c.receiver_control({"hang_next": 1})
        jid = self.submit(c, key, "twice")
        wait_for(lambda: len(c.deliveries(jid)) == 1, 30,
                 "the first attempt of %s at the receiver" % jid)
        frame = zmtp_push.completion_of(c.redis, acct, jid)
        self.push_copies(c, frame)
        # The claim of the attempt in the air holds the entry: no copy
        # starts a second attempt while it lasts.
        holds_for(lambda: len(c.deliveries(jid)) == 1, 0.5,
                  "one attempt in the air")
        self.assertEqual(harness.http_get(c.rcv_url + "/_health").json()
                         ["held"], 1, "the first attempt ended too soon")
        self.wait_done(c, acct, jid, timeout=40)
        self.assertEqual([d["answered"] for d in c.deliveries(jid)],
                         [0, 200])
        self.push_copies(c, frame)
        holds_for(lambda: len(c.deliveries(jid)) == 2, 1.0,
                  "no delivery after the 2xx")
        self.assertEqual(ok_count(c, jid), 1)
        log = attempt_log(c, acct, jid)
        self.assertEqual([e["outcome"] for e in log], ["retry", "delivered"],
                         log)
        self.assertIn("timed out", log[0]["error"] or "", log)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, jid, "completed")),
                         "delivered")
        c.check_alive()

    def test_second_deliverer_takes_over_expired_claim(self):
        # Deliverer 0 claims the entry and is frozen mid-attempt (the
        # receiver holds the request). Its claim runs out, deliverer 1
        # takes the entry over and delivers; deliverer 0 thaws, its
        # attempt ends without a 2xx, and its record is refused as stale.
        # The attempt's timeout leaves ample time to freeze deliverer 0
        # before it ends (at 1 s, a slow freeze let it end and be
        # recorded as a retry first).
        c = self.cluster(deliverers=2, retry_schedule="0,0.3,0.6",
                         webhook_timeout_ms=8000)
        acct, key = c.create_account(50)
        c.deliverers[1].stop()
        first = c.deliverers[0]
        c.receiver_control({"hang_next": 1})
        jid = self.submit(c, key, "takeover")
        wait_for(lambda: len(c.deliveries(jid)) == 1, 30,
                 "the first attempt of %s at the receiver" % jid)
        token = c.job_hash(acct, jid).get("wh_token")
        os.kill(first.pid, signal.SIGSTOP)
        try:
            self.assertEqual(harness.http_get(c.rcv_url + "/_health").json()
                             ["held"], 1, "the attempt ended before the "
                             "freeze")
            second = c.start_deliverer(1)
            # The claim lease is the webhook timeout plus 5 s.
            wait_for(lambda: len(c.deliveries(jid)) == 2, 40,
                     "deliverer 1 to take the entry over")
            self.wait_done(c, acct, jid, timeout=30)
        finally:
            os.kill(first.pid, signal.SIGCONT)
        self.assertNotEqual(c.job_hash(acct, jid).get("wh_token"), token)
        wait_for(lambda: "stale token" in log_text(first), 30,
                 "deliverer 0 to have its record refused as stale")
        holds_for(lambda: len(c.deliveries(jid)) == 2, 1.0,
                  "no third request")
        self.assertEqual([d["answered"] for d in c.deliveries(jid)],
                         [0, 200])
        log = attempt_log(c, acct, jid)
        self.assertEqual([e["outcome"] for e in log], ["delivered"], log)
        self.assertEqual(c.job_hash(acct, jid).get("wh_state"), "delivered")
        self.assertTrue(first.alive() and second.alive())


class FailOpen(SemanticsCase):
    """One delivery slot: job A's attempt hangs and holds it, so job B's
    COMPLETION waits in the deliverer while Redis is taken away; when A's
    attempt times out, B is delivered without Redis."""

    # A's attempt must outlast B's render and the stop of Redis, with
    # room to spare on a loaded machine: at 4 s it timed out first under
    # load, and B was delivered with Redis up (or A's retry took the
    # failure meant for B). Nothing waits for it but B's delivery.
    KNOBS = dict(deliverers=1, retry_schedule="0,0.3,0.6",
                 webhook_timeout_ms=12000,
                 env={"REELAY_WEBHOOK_DELIVERY_CONCURRENCY": "1",
                      "REELAY_REDIS_COMMAND_TIMEOUT_MS": "400",
                      "REELAY_REDIS_RECONNECT_MAX_MS": "300"})

    def hold_slot_then(self, c, key, acct):
        c.receiver_control({"hang_next": 1})
        a = self.submit(c, key, "slot")
        wait_for(lambda: len(c.deliveries(a)) == 1, 30,
                 "job A's attempt held by the receiver")
        b = self.submit(c, key, "failopen")
        wait_for(lambda: c.job_hash(acct, b).get("status") == "completed",
                 30, "job B completed")
        self.assertEqual(c.deliveries(b), [], "B delivered too early")
        return a, b

    def assert_slot_still_held(self, c, a):
        st = harness.http_get(c.rcv_url + "/_health").json()
        self.assertEqual((st["held"], len(c.deliveries(a))), (1, 1),
                         "A's attempt ended before Redis went away")

    def check_after(self, c, acct, a, b):
        dlv = c.deliverers[0]
        self.wait_done(c, acct, b, timeout=40)
        self.wait_done(c, acct, a, timeout=40)
        holds_for(lambda: ok_count(c, a) == 1 and ok_count(c, b) == 1, 1.5,
                  "one 2xx for A and one for B")
        self.assertEqual(len(c.deliveries(b)), 1, c.deliveries(b))
        log_b = attempt_log(c, acct, b)
        self.assertEqual([(e["outcome"], e["fail_open"]) for e in log_b],
                         [("delivered", True)], log_b)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, b, "completed")),
                         "delivered")
        # A's first attempt (in the air when Redis went) is recorded
        # after all, and its retry delivered it.
        log_a = attempt_log(c, acct, a)
        self.assertEqual([e["outcome"] for e in log_a], ["retry",
                                                         "delivered"], log_a)
        self.assertFalse(any(e["fail_open"] for e in log_a), log_a)
        self.assertEqual(rkeys.stat(c.redis, "webhooks_fail_open"), 1)
        # Logged where it was decided, and counted by the process.
        self.assertIn("job %s: Redis unavailable; delivering fail-open" % b,
                      log_text(dlv))
        self.assertEqual(dlv.stop(grace=10), 0)
        self.assertIn("fail-open 1 (dropped 0, waited ", log_text(dlv))

    def test_redis_stopped_during_delivery(self):
        c = self.cluster(**self.KNOBS)
        acct, key = c.create_account(50)
        a, b = self.hold_slot_then(c, key, acct)
        c.redis_proc.stop(grace=10)  # SIGTERM: Redis shuts down
        c.redis.close()
        self.assert_slot_still_held(c, a)
        wait_for(lambda: ok_count(c, b) == 1, 40,
                 "B delivered while Redis is down")
        self.assertEqual(c.deliveries(b)[0]["verified"], True)
        c.start_redis()  # same port and AOF: everything comes back
        self.check_after(c, acct, a, b)

    def account(self, c, settings):
        """A new account with these webhook settings (PUT
        /v1/account/webhooks); its secret is given to the receiver."""
        acct, key = c.create_account(50)
        r = harness.http_request("PUT", c.url("/v1/account/webhooks"),
                                 body=json.dumps(settings),
                                 headers={"Authorization": "Bearer " + key})
        self.assertEqual(r.status, 200, r)
        if r.json().get("secret"):
            c.receiver_control({"whsec": r.json()["secret"]})
        return acct, key

    def stop_redis(self, c):
        c.redis_proc.stop(grace=10)  # SIGTERM: Redis shuts down
        c.redis.close()

    def test_redis_stopped_standard_signing(self):
        # The account signs with Standard Webhooks only. B's fail-open
        # delivery is built from the worker's COMPLETION, which carries
        # the account's scheme and its secret, still sealed: it is
        # signed as a claimed delivery would be, and verifies.
        c = self.cluster(**self.KNOBS)
        acct, key = self.account(c, {"signing": "standard"})
        a, b = self.hold_slot_then(c, key, acct)
        self.stop_redis(c)
        self.assert_slot_still_held(c, a)
        wait_for(lambda: ok_count(c, b) == 1, 40,
                 "B delivered while Redis is down")
        (d,) = c.deliveries(b)
        self.assertTrue(d["standard_verified"], d)
        self.assertEqual(d["headers"]["webhook-id"], "msg_%s_completed" % b)
        self.assertNotIn("x-creativeai-signature", d["headers"])
        c.start_redis()
        self.check_after(c, acct, a, b)

    def test_redis_stopped_long_schedule(self):
        # The account asked for the long schedule (1 min +-10 % before
        # the second attempt; this cluster's default is 0.3 s). B's
        # fail-open attempt fails, and its retry waits the minute; once
        # Redis is back, the kept retry record hands that due time over.
        c = self.cluster(**self.KNOBS)
        acct, key = self.account(c, {"schedule": "long"})
        a, b = self.hold_slot_then(c, key, acct)
        c.receiver_control({"fail_next": 1})  # A is held: this is B's
        self.stop_redis(c)
        wait_for(lambda: len(c.deliveries(b)) == 1, 40,
                 "B attempted while Redis is down")
        self.assertEqual(c.deliveries(b)[0]["answered"], 500)
        holds_for(lambda: len(c.deliveries(b)) == 1, 2.0,
                  "no retry of B on the default schedule")
        c.start_redis()
        wait_for(lambda: [e["outcome"] for e in attempt_log(c, acct, b)] ==
                 ["retry"], 30, "B's retry record written")
        log_b = attempt_log(c, acct, b)
        self.assertTrue(log_b[0]["fail_open"], log_b)
        due_s = int(c.job_hash(acct, b)["wh_next_at"]) / 1000.0
        self.assertGreater(due_s - log_b[0]["at"] / 1000.0, 50, log_b)
        self.assertEqual(len(c.deliveries(b)), 1)

    def test_redis_loading_after_restart(self):
        # Redis comes back slowly: for a second or more it answers
        # LOADING while it reads its AOF (key-load-delay: 0.1 ms per
        # command read, and the test adds 10000 writes; it answers
        # between every 1024 commands read). The deliverer's
        # kept records (A's attempt, B's fail-open delivery) must be
        # written once it answers; before, LOADING was taken as the
        # script's answer and both records were dropped, and B was
        # delivered a second time from the outbox.
        c = self.cluster(**self.KNOBS)
        acct, key = c.create_account(50)
        a, b = self.hold_slot_then(c, key, acct)
        c.redis.call("EVAL", "for i = 1, 10000 do "
                     "redis.call('SET', 'fill:' .. i, 'x') end", 0)
        self.stop_redis(c)
        self.assert_slot_still_held(c, a)
        wait_for(lambda: ok_count(c, b) == 1, 40,
                 "B delivered while Redis is down")
        c.start_redis(extra_conf=["key-load-delay 100"])
        self.check_after(c, acct, a, b)
        self.assertIn("the server is loading its dataset",
                      log_text(c.deliverers[0]))
        self.assertNotIn("(kept): LOADING", log_text(c.deliverers[0]))

    def test_redis_stalled_during_delivery(self):
        c = self.cluster(**self.KNOBS)
        acct, key = c.create_account(50)
        a, b = self.hold_slot_then(c, key, acct)
        os.kill(c.redis_proc.pid, signal.SIGSTOP)
        try:
            self.assert_slot_still_held(c, a)
            wait_for(lambda: ok_count(c, b) == 1, 40,
                     "B delivered while Redis is stalled")
        finally:
            os.kill(c.redis_proc.pid, signal.SIGCONT)
        self.check_after(c, acct, a, b)


class FailOpenHostCap(SemanticsCase):
    """Fail-open deliveries keep to the per-host limit: two slots, one
    attempt per host. A and A2 hang at two receivers and hold both slots
    while B's and C's COMPLETIONs (both to the first receiver) wait in
    the deliverer; Redis goes away. When A and A2 time out two slots are
    free, but the first receiver takes one attempt at a time: the first
    of B and C hangs there, and the other waits for it (before, it went
    out at once beside it)."""

    # As in FailOpen: A and A2 must outlast the renders of B and C and
    # the stop of Redis on a loaded machine.
    TIMEOUT_MS = 12000
    KNOBS = dict(deliverers=1, retry_schedule="0,0.3,0.6",
                 webhook_timeout_ms=TIMEOUT_MS,
                 env={"REELAY_WEBHOOK_DELIVERY_CONCURRENCY": "2",
                      "REELAY_WEBHOOK_PER_HOST_CONCURRENCY": "1",
                      "REELAY_WEBHOOK_HOST_BREAKER_FAILURES": "1000",
                      "REELAY_REDIS_COMMAND_TIMEOUT_MS": "400",
                      "REELAY_REDIS_RECONNECT_MAX_MS": "300"})

    def held(self, base):
        return harness.http_get(base + "/_health").json()["held"]

    def test_fail_open_waits_for_busy_host(self):
        c = self.cluster(**self.KNOBS)
        acct, key = c.create_account(50)
        other = c.start_extra_receiver(name="receiver-other")
        c.receiver_control({"hang_next": 1})
        c.receiver_control({"hang_next": 1}, other)
        a = self.submit(c, key, "a")
        r = c.submit(key, video_body(prompt="semantics a2 [sim render_ms=100]",
                                     webhook_url=other + "/webhooks/a2"))
        self.assertEqual(r.status, 202, r)
        wait_for(lambda: self.held(c.rcv_url) == 1 and self.held(other) == 1,
                 30, "A and A2 held: both slots taken")
        b = self.submit(c, key, "b")
        cc = self.submit(c, key, "c")
        for j in (b, cc):
            wait_for(lambda: c.job_hash(acct, j).get("status") ==
                     "completed", 30, "job %s completed" % j)
        c.receiver_control({"hang_next": 1})  # the first of B and C
        self.stop_redis(c)
        self.assertEqual((c.deliveries(b), c.deliveries(cc)), ([], []))
        self.assertEqual((self.held(c.rcv_url), self.held(other)), (1, 1),
                         "A or A2 ended before Redis went away")

        def tries():
            return len(c.deliveries(b)) + len(c.deliveries(cc))
        wait_for(lambda: tries() == 1 and self.held(c.rcv_url) == 1,
                 self.TIMEOUT_MS / 1000.0 + 10,
                 "the first fail-open attempt held at the first receiver")
        first, second = (b, cc) if c.deliveries(b) else (cc, b)
        # A2's slot is free, but the host is busy: the second waits.
        holds_for(lambda: tries() == 1, 1.5,
                  "no second attempt at the busy host")
        wait_for(lambda: ok_count(c, second) == 1,
                 self.TIMEOUT_MS / 1000.0 + 10,
                 "the second delivered once the first timed out")
        t_first = c.deliveries(first)[0]["at_ms"]
        t_second = c.deliveries(second)[0]["at_ms"]
        self.assertGreaterEqual(t_second - t_first, self.TIMEOUT_MS * 0.9)
        # The first's retry (in memory, Redis still away) asks the host
        # again and is delivered once the second is done.
        wait_for(lambda: ok_count(c, first) == 1, 30,
                 "the first's fail-open retry delivered")
        c.start_redis()
        for j in (a, b, cc):
            self.wait_done(c, acct, j, timeout=40)
        holds_for(lambda: ok_count(c, b) == 1 and ok_count(c, cc) == 1, 1.0,
                  "one 2xx each for B and C")
        dlv = c.deliverers[0]
        self.assertEqual(dlv.stop(grace=10), 0)
        m = re.search(r"fail-open (\d+) \(dropped 0, waited (\d+)\)",
                      log_text(dlv))
        self.assertIsNotNone(m, log_text(dlv)[-2000:])
        self.assertGreaterEqual(int(m.group(1)), 2)
        self.assertGreaterEqual(int(m.group(2)), 1)

    stop_redis = FailOpen.stop_redis


if __name__ == "__main__":
    harness.main()
