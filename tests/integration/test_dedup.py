"""Dedup per (job, status): the same completion announced twice is
delivered once, also when the copies land in one claim; two deliverers
on one outbox deliver each job once; a burst of completions claimed in
batches is delivered once each."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
import zmtp_push  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402


class DedupBase(harness.ClusterTestCase):

    def submit(self, key, tag):
        r = self.c.submit(key, video_body(
            prompt="dedup %s [sim render_ms=200]" % tag,
            webhook_url=self.c.webhook_url(tag)))
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def wait_delivered(self, acct, jids, timeout=30):
        c = self.c

        def pending():
            return [j for j in jids
                    if c.job_hash(acct, j).get("wh_state") != "delivered" or
                    c.redis.zscore(rkeys.of_acct(rkeys.outbox, acct),
                                   rkeys.ref(acct, j)) is not None]
        wait_for(lambda: not pending(), timeout,
                 "%d job(s) delivered and out of the outbox" % len(jids))

    def counts(self, jids):
        per = {j: 0 for j in jids}
        for d in self.c.deliveries():
            j = d["headers"].get("x-creativeai-delivery-id")
            if j in per and d["answered"] == 200:
                per[j] += 1
        return per


class DedupOneDeliverer(DedupBase):
    CLUSTER = dict(workers=1, deliverers=1)

    def test_reannounced_completion_delivered_once(self):
        c = self.c
        acct, key = c.create_account(50)
        jid = self.submit(key, "again")
        ref = rkeys.ref(acct, jid)
        outbox = rkeys.of_ref(rkeys.outbox, ref)  # its partition's
        self.wait_delivered(acct, [jid])
        self.assertEqual(len(c.deliveries(jid)), 1)
        dedup = rkeys.dedup(acct, jid, "completed")
        self.assertEqual(c.redis.get(dedup), "delivered")
        dlv_before = c.redis.lrange(rkeys.deliveries(acct, jid))

        # A worker re-emitting the completion after a crash: the ref is
        # back in the outbox, due now.
        for _ in range(2):
            self.assertEqual(c.redis.call("ZADD", outbox, 0, ref), 1)
            wait_for(lambda: c.redis.zscore(outbox, ref) is None, 30,
                     "the deliverer to take the re-added outbox entry")
        holds_for(lambda: len(c.deliveries(jid)) == 1, 1.0,
                  "exactly one delivery of %s" % jid)
        self.assertEqual(c.redis.get(dedup), "delivered")
        self.assertEqual(c.job_hash(acct, jid).get("wh_state"), "delivered")
        self.assertEqual(c.redis.lrange(rkeys.deliveries(acct, jid)),
                         dlv_before, "no new delivery attempt recorded")


class AnnouncedTogether(DedupBase):
    """Completions announced within one loop turn are claimed together,
    64 refs to a script call: a burst of many more than that (the worker
    finishes them back to back) is delivered exactly once each, none
    fail-open and nothing left in the outbox. The outbox scan is ten
    minutes away (past the end of the test however slow the machine) and
    the receiver may take them all at once, so that the announcements
    claim them all (the scan would claim them first on waking, and a busy
    host's deliveries are deferred to the scan). The jobs may wait in the
    queue as long as the test lasts."""
    CLUSTER = dict(workers=1, deliverers=1, poll_interval_ms=50, env={
        "REELAY_WEBHOOK_OUTBOX_SCAN_MS": "600000",
        "REELAY_WEBHOOK_PER_HOST_CONCURRENCY": "256",
        "REELAY_JOBS_MAX_WAIT_S": "600"})
    N = 200

    def test_burst_of_completions(self):
        c = self.c
        acct, key = c.create_account(3 * (self.N + 1))
        # One job first, delivered from its announcement (the scan is a
        # minute away): the worker's PUSH is connected to the deliverer,
        # so what it sends while the deliverer is paused is queued, not
        # refused for want of a peer (and left to the scan).
        first = self.submit(key, "burst-first")
        self.wait_delivered(acct, [first])
        jids = []
        # The deliverer is paused while every job finishes, so their
        # COMPLETIONs wait in its socket and arrive in one loop turn.
        dlv = c.deliverers[0]
        os.kill(dlv.pid, signal.SIGSTOP)
        try:
            for i in range(self.N):
                r = c.submit(key, video_body(
                    prompt="burst %03d [sim render_ms=0 steps=0]" % i,
                    webhook_url=c.webhook_url("burst")))
                self.assertEqual(r.status, 202, r)
                jids.append(r.json()["id"])
            wait_for(lambda: all(c.job_hash(acct, j).get("status") ==
                                 "completed" for j in jids), 120,
                     "every job completed")
            with harness.ScriptCalls(c.redis) as rec:
                os.kill(dlv.pid, signal.SIGCONT)
                self.wait_delivered(acct, jids, timeout=60)
        finally:
            os.kill(dlv.pid, signal.SIGCONT)
        # Claimed together: calls of several refs each, at most 24 (one
        # account's jobs: all of one partition, as a claim must be). A
        # claim declares the outbox and four keys per ref (job, its two
        # dedup keys, its account): its ref count is read from its
        # number of keys, which the slow log keeps whole.
        nrefs = [(k - 1) // 4 for k in rec.numkeys("outbox_claim")]
        self.assertEqual(sum(nrefs), self.N, nrefs)
        self.assertGreater(max(nrefs), 1, nrefs)
        self.assertLessEqual(max(nrefs), 24, nrefs)
        self.assertLess(len(nrefs), self.N, nrefs)
        holds_for(lambda: len(c.deliveries()) == self.N + 1, 1.0,
                  "exactly %d deliveries" % (self.N + 1))
        self.assertEqual(self.counts(jids), {j: 1 for j in jids})
        self.assertEqual(rkeys.stat(c.redis, "webhooks_fail_open"), 0)
        self.assertEqual(rkeys.total(c.redis, "ZCARD", rkeys.outbox), 0)
        c.check_alive()


class AnnouncedTwiceTogether(DedupBase):
    """The same completion announced three times within one loop turn:
    its ref is listed three times in one outbox_claim call and claimed
    once (one token, one attempt). The worker's own COMPLETION is lost
    and the scan is ten minutes away, so only these copies can start
    it."""
    CLUSTER = dict(workers=1, deliverers=1, env={
        "REELAY_DROP_COMPLETION": "1.0",
        "REELAY_WEBHOOK_OUTBOX_SCAN_MS": "600000"})

    def test_same_ref_claimed_once_per_batch(self):
        c = self.c
        acct, key = c.create_account(50)
        jid = self.submit(key, "thrice")
        wait_for(lambda: c.job_hash(acct, jid).get("status") == "completed",
                 30, "job %s completed" % jid)
        # The worker's own COMPLETION was lost: nothing is delivered. (The
        # worker logs the drop just after its terminal write: wait for
        # the line, the status may be seen first.)
        wait_for(lambda: harness.fault_drops(c.workers[0], "completion")
                 == 1, 30, "the worker to drop its COMPLETION")
        holds_for(lambda: c.deliveries(jid) == [], 0.5,
                  "no delivery before the copies are pushed")
        frame = zmtp_push.completion_of(c.redis, acct, jid)
        ref = rkeys.ref(acct, jid)
        with harness.ScriptCalls(c.redis) as rec:
            rc, out = zmtp_push.push(c, c.completion[0], frame, repeat=3)
            self.assertEqual(rc, 0, out)
            self.wait_delivered(acct, [jid])
        # One claim listing the ref three times: KEYS (the outbox, then
        # job, dedup keys and account of each ref: 13), then lease, ttl,
        # the ref count and a (ref, "1") pair per ref.
        claims = [a for a in rec.calls("outbox_claim") if ref in a]
        self.assertEqual([(a[15], a[16:22:2]) for a in claims],
                         [("3", [ref] * 3)], claims)
        holds_for(lambda: len(c.deliveries(jid)) == 1, 1.0,
                  "exactly one delivery of %s" % jid)
        self.assertEqual(c.job_hash(acct, jid).get("wh_token"), "1")
        log = c.redis.lrange(rkeys.deliveries(acct, jid))
        self.assertEqual(len(log), 1, log)
        c.check_alive()


class DedupTwoDeliverers(DedupBase):
    CLUSTER = dict(workers=1, deliverers=2)
    N = 20

    def test_two_deliverers_each_job_once(self):
        c = self.c
        acct, key = c.create_account(3 * self.N)
        jids = [self.submit(key, "two-%02d" % i) for i in range(self.N)]
        self.assertEqual(len(set(jids)), self.N)
        self.wait_delivered(acct, jids, timeout=60)
        self.assertEqual(self.counts(jids), {j: 1 for j in jids})

        # Both deliverers race for every completion again.
        for j in jids:
            c.redis.call("ZADD", rkeys.of_acct(rkeys.outbox, acct), 0,
                         rkeys.ref(acct, j))
        self.wait_delivered(acct, jids, timeout=30)
        holds_for(lambda: len(c.deliveries()) == self.N, 1.0,
                  "exactly %d deliveries in all" % self.N)
        self.assertEqual(self.counts(jids), {j: 1 for j in jids})
        for j in jids:
            self.assertEqual(c.redis.get(rkeys.dedup(acct, j, "completed")),
                             "delivered")
        self.assertEqual(c.redis.hget(rkeys.acct(acct), "credits"), "0")
        c.check_alive()


if __name__ == "__main__":
    harness.main()
