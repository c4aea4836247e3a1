"""`reelay audit` finds what it promises to find. A real stack runs a
completed job, a failed (refunded) one and one that failed over to a
cheaper model (partly refunded); the audit passes. Then Redis is
tampered with, one way at a time, the way a bug would leave it: the
audit must fail, naming the account (and the job) and the rule broken,
and pass again once the damage is undone."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import video_body  # noqa: E402


class Audit(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=0, receiver=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.c
        cls.acct, cls.key = c.create_account(20)
        cls.jobs = {}
        for name, prompt, model in (
                ("completed", "audit ok [sim render_ms=50]", "kling-v3"),
                ("failed", "audit bad [sim fail=content render_ms=50]",
                 "kling-v3"),
                ("failover", "audit fo [sim kling.submit=429 render_ms=50]",
                 "kling-v3")):
            r = c.submit(cls.key, video_body(prompt=prompt, model=model))
            assert r.status == 202, r
            cls.jobs[name] = r.json()["id"]
        for name, jid in cls.jobs.items():
            job = c.wait_job(cls.key, jid)
            want = "failed" if name == "failed" else "completed"
            assert job["status"] == want, job

    def audit(self):
        return self.c.audit()

    def assert_clean(self):
        rc, out = self.audit()
        self.assertEqual(rc, 0, out)
        self.assertIn("violations=0", out)

    def assert_caught(self, rule, job=None):
        rc, out = self.audit()
        self.assertEqual(rc, 1, out)
        lines = [ln.strip() for ln in out.splitlines() if "VIOLATION" in ln]
        want = "VIOLATION %s %s" % (self.acct, rule)
        if job:
            want += " job " + job
        self.assertIn(want, lines, out)
        self.assertRegex(out, r"audit FAILED: .* violations=[1-9]")

    def ledger_key(self):
        return rkeys.ledger(self.acct)

    def acct_key(self):
        return rkeys.acct(self.acct)

    def push_entry(self, kind, credits, job):
        """An extra ledger entry (and the counters that go with it, so
        only the per-job rule is broken). Returns a function undoing it."""
        r, ak = self.c.redis, self.acct_key()
        sign = -1 if kind == "debit" else 1
        field = {"debit": "debited", "refund": "refunded"}[kind]
        entry = json.dumps({"type": kind, "credits": credits, "job": job,
                            "reason": "tampered", "balance": 0, "at": 1})
        r.call("LPUSH", self.ledger_key(), entry)
        r.call("HINCRBY", ak, "credits", str(sign * credits))
        r.call("HINCRBY", ak, field, str(credits))

        def undo():
            r.call("LREM", self.ledger_key(), "1", entry)
            r.call("HINCRBY", ak, "credits", str(-sign * credits))
            r.call("HINCRBY", ak, field, str(-credits))
        return undo

    def test_a_clean_run_passes(self):
        self.assert_clean()
        rc, out = self.audit()
        self.assertIn("%s balance" % self.acct, out)

    def test_b_balance_off(self):
        r = self.c.redis
        r.call("HINCRBY", self.acct_key(), "credits", "5")
        try:
            self.assert_caught("grants - debits + refunds != balance")
        finally:
            r.call("HINCRBY", self.acct_key(), "credits", "-5")
        self.assert_clean()

    def test_c_refunded_twice(self):
        jid = self.jobs["failed"]
        undo = self.push_entry("refund", 3, jid)
        try:
            self.assert_caught("failed but not refunded exactly once", jid)
        finally:
            undo()
        self.assert_clean()

    def test_d_completed_refunded(self):
        jid = self.jobs["completed"]
        undo = self.push_entry("refund", 3, jid)
        try:
            self.assert_caught("completed but refunded", jid)
        finally:
            undo()
        self.assert_clean()

    def test_e_debited_twice(self):
        jid = self.jobs["failover"]
        undo = self.push_entry("debit", 3, jid)
        try:
            self.assert_caught("not debited exactly once for its charge",
                               jid)
        finally:
            undo()
        self.assert_clean()

    def test_f_counters_disagree_with_the_ledger(self):
        r = self.c.redis
        # Balance and counters moved together, but no ledger entry.
        r.call("HINCRBY", self.acct_key(), "credits", "2")
        r.call("HINCRBY", self.acct_key(), "granted", "2")
        try:
            self.assert_caught("ledger does not add up to the counters")
        finally:
            r.call("HINCRBY", self.acct_key(), "credits", "-2")
            r.call("HINCRBY", self.acct_key(), "granted", "-2")
        self.assert_clean()

    def test_g_unreadable_amounts_are_caught(self):
        # Not a number is a violation of its own, not a 0 that may add up.
        r, ak = self.c.redis, self.acct_key()
        jid = self.jobs["completed"]
        jk = rkeys.job(self.acct, jid)
        refunded = r.hget(ak, "refunded") or "0"
        r.call("HSET", ak, "refunded", refunded + "x")
        try:
            self.assert_caught("account counters are not numbers")
        finally:
            r.call("HSET", ak, "refunded", refunded)
        self.assert_clean()
        charged = r.hget(jk, "credits")
        r.call("HSET", jk, "credits", " " + charged)
        try:
            self.assert_caught("credits of the job are not a number", jid)
        finally:
            r.call("HSET", jk, "credits", charged)
        self.assert_clean()
        for entry in ({"type": "refund", "credits": "0", "job": jid},
                      {"type": "bonus", "credits": 0, "job": jid},
                      {"credits": 0}, "not json"):
            raw = entry if isinstance(entry, str) else json.dumps(entry)
            r.call("LPUSH", self.ledger_key(), raw)
            try:
                self.assert_caught("ledger entries unreadable")
            finally:
                r.call("LREM", self.ledger_key(), "1", raw)
        self.assert_clean()


if __name__ == "__main__":
    harness.main()
