"""Idempotency-Key and the per-key rate limit of POST
/v1/video/generations, black-box, on a broker-only deployment (no worker
or deliverer changes Redis behind the test's back, so "nothing written"
is checked by comparing whole-Redis snapshots).

- the same key and body, sequentially and 20 at once: one job, one
  debit, byte-identical 202 bodies with the same id;
- the same key with another body: 422 naming Idempotency-Key, nothing
  written; a 402 or 429 stores no key (the key stays free);
- [limits] rate_per_s=5, rate_burst=5: 5 accepted, then 429 with
  Retry-After and nothing written, accepted again once a token is back,
  and over a sustained run no more than burst + rate x time."""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

# Keys a broker-only deployment may touch on its own (locks of the
# periodic tasks, the worker registry, counters; one of each kind per
# partition).
VOLATILE = ("rl:lock:*", "rl:workers:*", "rl:stats:*")


def run_threads(n, fn):
    """Runs fn(i) in n threads released together; returns the results
    in order (an exception is returned as its value)."""
    out = [None] * n
    barrier = threading.Barrier(n)

    def body(i):
        try:
            barrier.wait(10)
            out[i] = fn(i)
        except Exception as e:  # reported by the caller's assertions
            out[i] = e
    ts = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return out


class Base(harness.ClusterTestCase):
    def snapshot(self):
        return self.c.redis.snapshot(exclude=VOLATILE)

    def assert_unchanged(self, before, what):
        after = self.snapshot()
        diff = harness.snapshot_diff(before, after)
        self.assertEqual(diff, "", "%s changed Redis:\n%s" % (what, diff))

    def submit(self, key, body, idem=None, raw=None):
        h = {"Idempotency-Key": idem} if idem is not None else {}
        return self.c.submit(key, body, headers=h, raw=raw)

    def jobs_of(self, acct):
        return self.c.redis.zrange(rkeys.acct_jobs(acct))

    def debits_of(self, key):
        return [e for e in self.c.ledger(key) if e["type"] == "debit"]


class Idempotency(Base):
    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False)

    def test_a_same_key_same_body_sequential(self):
        c = self.c
        acct, key = c.create_account(50)
        body = json.dumps(video_body(prompt="idem sequential"))
        r1 = self.submit(key, None, idem="idem-seq-1", raw=body)
        self.assertEqual(r1.status, 202, r1)
        snap = self.snapshot()
        replies = [self.submit(key, None, idem="idem-seq-1", raw=body)
                   for _ in range(3)]
        for r in replies:
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.body, r1.body)
            self.assertEqual(r.headers.get("location"),
                             r1.headers.get("location"))
        # A replay writes nothing at all.
        self.assert_unchanged(snap, "a replay")
        jid = r1.json()["id"]
        self.assertEqual(r1.headers.get("location"),
                         "/v1/video/generations/" + jid)
        self.assertEqual(self.jobs_of(acct), [jid])
        self.assertEqual(len(self.debits_of(key)), 1)
        self.assertEqual(c.account(key)["credits"], 47)
        self.assertEqual(c.account(key)["usage"]["jobs"], 1)
        self.assertEqual(rkeys.total(c.redis, "LLEN", rkeys.queue), 1)
        self.assertEqual(c.redis.lrange(rkeys.of_acct(rkeys.queue, acct)),
                         [rkeys.ref(acct, jid)])
        # The stored key lives for 24 hours.
        ttl = c.redis.call("TTL", rkeys.idem(acct, "idem-seq-1"))
        self.assertTrue(86400 - 120 <= ttl <= 86400, ttl)
        # Another key is another job.
        r2 = self.submit(key, None, idem="idem-seq-2", raw=body)
        self.assertEqual(r2.status, 202, r2)
        self.assertNotEqual(r2.json()["id"], jid)
        # Without a key the same body is a new job every time.
        r3 = self.submit(key, None, raw=body)
        r4 = self.submit(key, None, raw=body)
        self.assertEqual((r3.status, r4.status), (202, 202))
        self.assertNotEqual(r3.json()["id"], r4.json()["id"])
        self.assertEqual(len(self.jobs_of(acct)), 4)
        self.assertEqual(c.account(key)["credits"], 50 - 4 * 3)

    def test_b_scope_is_the_account(self):
        c = self.c
        acct, key = c.create_account(50)
        body = video_body(model="seedance", prompt="idem scope")
        r1 = self.submit(key, body, idem="shared-idem")
        self.assertEqual(r1.status, 202, r1)
        # Another key of the same account replays.
        k2 = harness.http_post_json(c.url("/v1/account/keys"), {},
                                    headers={"Authorization":
                                             "Bearer " + key})
        self.assertEqual(k2.status, 201, k2)
        r2 = self.submit(k2.json()["api_key"], body, idem="shared-idem")
        self.assertEqual(r2.status, 202, r2)
        self.assertEqual(r2.body, r1.body)
        # Another account with the same key gets its own job.
        acct_b, key_b = c.create_account(50)
        r3 = self.submit(key_b, body, idem="shared-idem")
        self.assertEqual(r3.status, 202, r3)
        self.assertNotEqual(r3.json()["id"], r1.json()["id"])
        self.assertEqual(self.jobs_of(acct), [r1.json()["id"]])
        self.assertEqual(self.jobs_of(acct_b), [r3.json()["id"]])
        self.assertEqual(c.account(key)["credits"], 48)
        self.assertEqual(c.account(key_b)["credits"], 48)

    def test_c_concurrent_same_key_same_body(self):
        c = self.c
        acct, key = c.create_account(50)
        raw = json.dumps(video_body(prompt="idem concurrent 20"))
        before = c.account(key)["credits"]
        rs = run_threads(20, lambda i: self.submit(key, None,
                                                   idem="idem-conc-20",
                                                   raw=raw))
        for r in rs:
            self.assertIsInstance(r, harness.Response, r)
            self.assertEqual(r.status, 202, r)
        self.assertEqual({r.body for r in rs}, {rs[0].body})
        ids = {r.json()["id"] for r in rs}
        self.assertEqual(len(ids), 1, ids)
        self.assertEqual(self.jobs_of(acct), list(ids))
        self.assertEqual(len(self.debits_of(key)), 1)
        self.assertEqual(c.account(key)["credits"], before - 3)
        self.assertEqual(c.account(key)["usage"]["jobs"], 1)

    def test_d_concurrent_same_key_two_bodies(self):
        """20 at once, alternating two bodies under one key: exactly one
        body wins; its requests all get the same 202, the others 422."""
        c = self.c
        acct, key = c.create_account(50)
        raws = [json.dumps(video_body(prompt="idem race A")),
                json.dumps(video_body(prompt="idem race B"))]
        rs = run_threads(20, lambda i: self.submit(key, None,
                                                   idem="idem-race",
                                                   raw=raws[i % 2]))
        ok = [(i, r) for i, r in enumerate(rs)
              if isinstance(r, harness.Response) and r.status == 202]
        self.assertTrue(ok, rs)
        win = ok[0][0] % 2
        for i, r in enumerate(rs):
            self.assertIsInstance(r, harness.Response, r)
            if i % 2 == win:
                self.assertEqual(r.status, 202, r)
                self.assertEqual(r.body, ok[0][1].body)
            else:
                self.assert_error(r, 422, "Idempotency-Key")
        self.assertEqual(len(self.jobs_of(acct)), 1)
        self.assertEqual(len(self.debits_of(key)), 1)
        self.assertEqual(c.account(key)["credits"], 47)

    def test_e_same_key_other_body_is_422(self):
        c = self.c
        acct, key = c.create_account(50)
        body = video_body(prompt="idem conflict")
        r1 = self.submit(key, body, idem="idem-422")
        self.assertEqual(r1.status, 202, r1)
        snap = self.snapshot()
        others = [video_body(prompt="idem conflict!"),
                  video_body(prompt="idem conflict", model="seedance"),
                  video_body(prompt="idem conflict", duration="10s"),
                  video_body(prompt="idem conflict",
                             webhook_url="http://127.0.0.1:9/x")]
        for o in others:
            r = self.submit(key, o, idem="idem-422")
            e = self.assert_error(r, 422, "Idempotency-Key")
            self.assertEqual(e["code"], "idempotency_key_reused", e)
            self.assertIn("Idempotency-Key", e["message"])
            self.assertNotIn("location", r.headers)
        self.assert_unchanged(snap, "a 422")
        # The original still replays after the conflicts.
        r2 = self.submit(key, body, idem="idem-422")
        self.assertEqual((r2.status, r2.body), (202, r1.body))
        self.assertEqual(c.account(key)["credits"], 47)
        self.assertEqual(len(self.jobs_of(acct)), 1)

    def test_f_bad_idempotency_keys(self):
        c = self.c
        acct, key = c.create_account(50)
        snap = self.snapshot()
        for bad in ("x" * 256, "has space", "tab\there", "caf\u00e9"):
            try:
                r = self.submit(key, video_body(prompt="bad idem"),
                                idem=bad)
            except (UnicodeEncodeError, ValueError):
                continue  # http.client refuses to send it at all
            self.assert_error(r, 400, "Idempotency-Key")
        self.assert_unchanged(snap, "a bad Idempotency-Key")
        r = self.submit(key, video_body(prompt="long idem"), idem="y" * 255)
        self.assertEqual(r.status, 202, r)
        # An unknown or missing key is 401 whatever the Idempotency-Key.
        snap = self.snapshot()
        self.assert_error(self.submit("rk_" + "z" * 40, video_body(),
                                      idem="y" * 255), 401)
        self.assert_unchanged(snap, "a 401")

    def test_g_402_stores_nothing_and_replay_beats_balance(self):
        c = self.c
        acct, key = c.create_account(3)
        body = video_body(prompt="idem last credits")
        r1 = self.submit(key, body, idem="idem-402-a")
        self.assertEqual(r1.status, 202, r1)
        self.assertEqual(c.account(key)["credits"], 0)
        # A replay is not a new charge: 202 even with a zero balance.
        r2 = self.submit(key, body, idem="idem-402-a")
        self.assertEqual((r2.status, r2.body), (202, r1.body))
        # A 402 writes nothing, the key stays unused.
        snap = self.snapshot()
        e = self.assert_error(self.submit(key, body, idem="idem-402-b"), 402)
        self.assertEqual(e["code"], "insufficient_credits", e)
        self.assert_error(self.submit(key, body), 402)
        self.assert_unchanged(snap, "a 402")
        self.assertFalse(c.redis.exists(rkeys.idem(acct, "idem-402-b")))
        # So a cheaper body may use it later (not a 422).
        acct2, key2 = c.create_account(2)
        self.assert_error(self.submit(key2, body, idem="k"), 402)
        r3 = self.submit(key2, video_body(model="seedance",
                                          prompt="idem cheaper"), idem="k")
        self.assertEqual(r3.status, 202, r3)
        self.assertEqual(c.account(key2)["credits"], 0)


class RateLimit(Base):
    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False,
                   env={"REELAY_LIMITS_RATE_PER_S": "5",
                        "REELAY_LIMITS_RATE_BURST": "5"})
    RATE = 5
    BURST = 5
    BODY = video_body(model="seedance", prompt="rate limited")  # 2 credits

    def drain(self, key):
        """Submits until the key's bucket refuses with 429 (bounded: the
        burst plus what refills meanwhile)."""
        for _ in range(self.BURST + 50):
            r = self.submit(key, self.BODY)
            if r.status != 202:
                self.assert_error(r, 429)
                return
        self.fail("the bucket of %s never ran out" % key)

    def new_key(self, key):
        r = harness.http_post_json(self.c.url("/v1/account/keys"), {},
                                   headers={"Authorization": "Bearer " + key})
        self.assertEqual(r.status, 201, r)
        return r.json()["api_key"]

    def test_a_burst_then_429_then_accepted_again(self):
        c = self.c
        acct, key = c.create_account(1000)
        t0 = time.monotonic()
        rs = [self.submit(key, self.BODY, idem="rl-%d" % i)
              for i in range(self.BURST)]
        for r in rs:
            self.assertEqual(r.status, 202, r)
        # The bucket is empty now: the next one is refused unless the
        # whole burst took longer than a refill (1/rate s).
        r = self.submit(key, self.BODY)
        elapsed = time.monotonic() - t0
        if elapsed < 0.8 / self.RATE:
            e = self.assert_error(r, 429)
            self.assertEqual(e["code"], "rate_limited", e)
            self.assertEqual(e["type"], "rate_limit_error", e)
            ra = r.headers.get("retry-after")
            self.assertIsNotNone(ra, r.headers)
            self.assertRegex(ra, r"^[1-9][0-9]*$")
            # at most the time one token takes, rounded up to seconds
            self.assertLessEqual(int(ra), 1)

        # 429s write nothing (neither job, ledger, balance nor bucket):
        # take a snapshot on an empty bucket and refuse a few at once;
        # retried if a token came back between the two snapshots.
        def refused_changes_nothing():
            snap = self.snapshot()
            rr = [self.submit(key, self.BODY) for _ in range(3)]
            if any(x.status != 429 for x in rr):
                return False  # a token came back: try again
            for x in rr:
                self.assert_error(x, 429)
                self.assertIn("retry-after", x.headers)
            self.assert_unchanged(snap, "a 429")
            return True
        wait_for(refused_changes_nothing, 10, "3 refusals in a row")
        a = c.account(key)
        jobs = len(self.jobs_of(acct))
        self.assertEqual(a["credits"], 1000 - 2 * jobs)
        self.assertEqual(a["usage"]["jobs"], jobs)
        self.assertEqual(len(self.debits_of(key)), jobs)

        # Drain, then wait (polling) for the next token: it comes back
        # within 1/rate s (plus slack), not before the bucket had one.
        self.drain(key)
        t_empty = time.monotonic()
        ok = wait_for(lambda: self.submit(key, self.BODY).status == 202,
                      10, "a submission accepted again", interval=0.01)
        took = time.monotonic() - t_empty
        self.assertTrue(ok)
        # 3 s: what a loaded machine may add (the bucket refills in 0.2 s,
        # not once a second or never).
        self.assertLess(took, 1.0 / self.RATE + 3.0, took)
        # Replays do not take a token: with the bucket empty again, an
        # earlier Idempotency-Key is still answered (its first 202).
        self.drain(key)
        rep = self.submit(key, self.BODY, idem="rl-0")
        self.assertEqual((rep.status, rep.body), (202, rs[0].body))

    def test_b_bucket_is_per_key(self):
        c = self.c
        acct, key = c.create_account(1000)
        key2 = self.new_key(key)
        self.drain(key)
        self.assert_error(self.submit(key, self.BODY), 429)
        # The account's other key has its own full bucket.
        got = [self.submit(key2, self.BODY).status
               for _ in range(self.BURST)]
        self.assertEqual(got, [202] * self.BURST)
        # And another account is not touched by either.
        _, key3 = c.create_account(100)
        self.assertEqual(self.submit(key3, self.BODY).status, 202)

    def test_c_sustained_rate(self):
        """Hammered for ~2 s from 4 threads, a fresh key gets burst +
        rate x time submissions accepted (within one token or two)."""
        c = self.c
        acct, key = c.create_account(1000)
        stop = [False]
        counts = {}
        lock = threading.Lock()
        t0 = time.monotonic()

        def hammer(i):
            while not stop[0]:
                st = self.submit(key, self.BODY).status
                with lock:
                    counts[st] = counts.get(st, 0) + 1
        ts = [threading.Thread(target=hammer, args=(i,)) for i in range(4)]
        for t in ts:
            t.start()

        def hammering():
            with lock:
                other = set(counts) - {202, 429}
            return not other and all(t.is_alive() for t in ts)
        holds_for(hammering, 2.0, "4 threads submitting, each answer 202 "
                  "or 429", interval=0.05)
        stop[0] = True
        for t in ts:
            t.join(10)
        elapsed = time.monotonic() - t0
        accepted = counts.get(202, 0)
        self.assertEqual(set(counts) - {202, 429}, set(), counts)
        self.assertGreater(counts.get(429, 0), 10, counts)
        hi = self.BURST + self.RATE * elapsed + 1
        lo = self.BURST + self.RATE * (elapsed - 0.5) - 2
        self.assertTrue(lo <= accepted <= hi,
                        "accepted %d not in [%.1f, %.1f] over %.2fs (%r)"
                        % (accepted, lo, hi, elapsed, counts))
        # Exactly the accepted ones are charged and stored.
        self.assertEqual(len(self.jobs_of(acct)), accepted)
        self.assertEqual(c.account(key)["credits"], 1000 - 2 * accepted)
        self.assertEqual(len(self.debits_of(key)), accepted)

    def test_d_402_writes_nothing_under_a_rate_limit(self):
        """docs/api.md: a 402 writes nothing. With a rate limit on, the refused
        submission must not take a token either (accept.lua takes the
        token before it looks at the balance: reported)."""
        c = self.c
        acct, key = c.create_account(2)
        snap = self.snapshot()
        r = self.submit(key, video_body(prompt="too dear"))  # 3 > 2
        self.assert_error(r, 402)
        after = self.snapshot()
        # The money and the job side first: no job, ledger or balance.
        self.assertEqual(self.jobs_of(acct), [])
        self.assertEqual(c.account(key)["credits"], 2)
        self.assertEqual(len(c.ledger(key)), 1)
        kk = [k for k in after if k.startswith("rl:key:") and
              after[k][1].get("acct") == acct]
        self.assertEqual(len(kk), 1, kk)
        other = {k: v for k, v in after.items() if k != kk[0]}
        other_before = {k: v for k, v in snap.items() if k != kk[0]}
        self.assertEqual(harness.snapshot_diff(other_before, other), "")
        # Then the whole of Redis, the key's bucket included.
        self.assert_unchanged(snap, "a 402 (with [limits] rate_per_s)")


if __name__ == "__main__":
    harness.main()
