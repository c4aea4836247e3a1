"""Unit tests of the money helpers every credit movement goes through
(common/lua/_lib.lua), run by a real Redis: each test EVALs the shared
prelude (as embed.cmake prepends it) followed by a few lines that call
one helper, on keys of a throwaway account.

  - job_refund refunds what is left of a job's charge exactly once,
    however often it is asked (crash and retry, a worker and the reaper);
  - money_move changes the balance and appends its ledger entry
    together, and its counters add up;
  - the token bucket (bucket_peek / bucket_spend) fills at its rate up to
    its burst, a refused take changes nothing, and the wait it reports is
    exact; the clock is passed in, so the arithmetic is tested without
    sleeping.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402

class LuaMoney(harness.LuaTestCase):

    def run_lua(self, body, keys, *argv):
        """EVALs the prelude and body with KEYS keys (of one partition)."""
        return self.r.call("EVAL", self.lib + body, str(len(keys)), *keys,
                           *argv)

    def money_keys(self, a, j=None):
        """KEYS 1 account, 2 ledger[, 3 job]: k.acct, k.ledger, k.job of
        the keyed money helpers."""
        return [rkeys.acct(a), rkeys.ledger(a)] + (
            [rkeys.job(a, j)] if j is not None else [])

    def ledger(self, a):
        return [json.loads(e) for e in self.r.lrange(rkeys.ledger(a))]

    def new_job(self, a, j, charged):
        self.r.call("HSET", rkeys.acct(a), "credits", "10", "granted",
                    "10")
        self.r.call("HSET", rkeys.job(a, j), "credits",
                    str(charged), "status", "failed")

    # job_refund(k, j, reason, now) with k = {acct, ledger, job}
    REFUND = ("return job_refund({acct = KEYS[1], ledger = KEYS[2], "
              "job = KEYS[3]}, ARGV[1], 'failed', ARGV[2])")

    def test_refund_job_once(self):
        a, j = "acct_refund1", "vgen_r1"
        self.new_job(a, j, 3)
        keys = self.money_keys(a, j)
        self.assertEqual(self.run_lua(self.REFUND, keys, j, "1000"), 3)
        for at in ("1001", "2000", "3000"):  # asked again and again
            self.assertEqual(self.run_lua(self.REFUND, keys, j, at), 0)
        h = self.r.hgetall(rkeys.job(a, j))
        self.assertEqual(h["refunded_at"], "1000")
        self.assertEqual(h["credits_refunded"], "3")
        acct = self.r.hgetall(rkeys.acct(a))
        self.assertEqual((acct["credits"], acct["refunded"]), ("13", "3"))
        es = self.ledger(a)
        self.assertEqual(len(es), 1, es)
        self.assertEqual((es[0]["type"], es[0]["credits"], es[0]["job"],
                          es[0]["balance"]), ("refund", 3, j, 13))

    def test_refund_after_partial_refund(self):
        # A job billed a cheaper backup (1 of 3 back already), then
        # failed: only what is left comes back, once.
        a, j = "acct_refund2", "vgen_r2"
        self.new_job(a, j, 3)
        self.r.call("HSET", rkeys.job(a, j), "credits_refunded", "1")
        keys = self.money_keys(a, j)
        self.assertEqual(self.run_lua(self.REFUND, keys, j, "5"), 2)
        self.assertEqual(self.run_lua(self.REFUND, keys, j, "6"), 0)
        self.assertEqual(self.r.hget(rkeys.acct(a), "credits"), "12")
        self.assertEqual([e["credits"] for e in self.ledger(a)], [2])

    def test_ledger_move_counters(self):
        a = "acct_ledger1"
        keys = self.money_keys(a)
        # money_move(k, kind, delta, j, reason, now), k = {acct, ledger}
        move = ("return money_move({acct = KEYS[1], ledger = KEYS[2]}, "
                "ARGV[1], tonumber(ARGV[2]), ARGV[3], 'test', ARGV[4])")
        self.assertEqual(self.run_lua(move, keys, "grant", "50", "", "1"),
                         50)
        self.assertEqual(self.run_lua(move, keys, "debit", "-3", "j1", "2"),
                         47)
        self.assertEqual(self.run_lua(move, keys, "refund", "3", "j1", "3"),
                         50)
        acct = self.r.hgetall(rkeys.acct(a))
        self.assertEqual((acct["credits"], acct["granted"], acct["debited"],
                          acct["refunded"], acct["updated_at"]),
                         ("50", "50", "3", "3", "3"))
        es = self.ledger(a)  # newest first
        self.assertEqual([(e["type"], e["credits"], e["balance"])
                          for e in es],
                         [("refund", 3, 50), ("debit", 3, 47),
                          ("grant", 50, 50)])

    def bucket(self, k, rate, burst, now, spend):
        """Peeks (and when spend and a whole token is there, spends) at
        time `now`; returns (tokens seen, wait ms)."""
        body = ("local t = bucket_peek(KEYS[1], tonumber(ARGV[1]), "
                "tonumber(ARGV[2]), tonumber(ARGV[3])) "
                "local wait = 0 "
                "if t < 1 then wait = bucket_wait_ms(t, tonumber(ARGV[1])) "
                "elseif ARGV[4] == '1' then "
                "bucket_spend(KEYS[1], t, tonumber(ARGV[3])) end "
                "return {tostring(t), wait}")
        t, wait = self.run_lua(body, [k], str(rate), str(burst), str(now),
                               "1" if spend else "0")
        return float(t), wait

    def test_bucket_burst_then_rate(self):
        k = rkeys.apikey("bucket1")  # the bucket is the key record's
        # A new bucket is full: `burst` takes at one instant...
        for i in range(3):
            t, wait = self.bucket(k, 2, 3, 1000, True)
            self.assertEqual((t, wait), (3 - i, 0))
        # ...then it is empty: refused, and the wait is one token at 2/s.
        t, wait = self.bucket(k, 2, 3, 1000, True)
        self.assertEqual((t, wait), (0.0, 500))
        before = self.r.hgetall(k)
        self.bucket(k, 2, 3, 1100, True)  # still short: changes nothing
        self.assertEqual(self.r.hgetall(k), before)
        t, wait = self.bucket(k, 2, 3, 1250, True)
        self.assertEqual((t, wait), (0.5, 250))
        t, wait = self.bucket(k, 2, 3, 1500, True)  # one whole token
        self.assertEqual((t, wait), (1.0, 0))
        # It never holds more than the burst, however long it rests.
        t, _ = self.bucket(k, 2, 3, 10 ** 9, False)
        self.assertEqual(t, 3.0)

    def test_bucket_peek_spends_nothing(self):
        k = rkeys.apikey("bucket2")
        for _ in range(5):
            t, wait = self.bucket(k, 1, 2, 5000, False)
            self.assertEqual((t, wait), (2.0, 0))
        self.assertEqual(self.r.hgetall(k), {})


if __name__ == "__main__":
    harness.main()
