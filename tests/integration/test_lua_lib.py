"""Unit tests of the shared Lua helpers and the webhook outbox's Redis
side, run by a real Redis: history_append and record_attempt
(common/lua/_lib.lua; the latter behind outbox_done and
outbox_done_many) and outbox_claim.lua, EVALed with the shared prelude as
embed.cmake prepends it, on keys of throwaway accounts (the money helpers
are test_lua_money.py).

  - job_finish sent again under its fence answers as the first time and
    writes nothing twice;
  - history_append adds an entry to the history's JSON text, to an empty
    or missing history, and starts afresh from one that is not an array;
  - a record lands once however often it is sent (its reply was lost),
    a record under an old claim token or for a job that is gone changes
    nothing;
  - the attempt log keeps its last 100 records;
  - a delivery recorded after a failed one (a fail-open delivery racing
    a claimed attempt) takes the job off the failed list; a failed
    record after a delivery leaves it delivered and unlisted;
  - one claim of several jobs of one account and key hands each of them
    the sealed key and the account's webhook settings (read once per
    batch), and each its own fields;
  - account_get and key_revoke answer "changed" when the account's key
    index is not the one their caller read (and declared) any more.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402

# record_attempt(jk, lk, dk, ref, token, outcome, delay, json, ttl,
#                fail_open, now)
RECORD = ("local a, j = ARGV[1], ARGV[2]\n"
          "local k = { job = KEYS[1], log = KEYS[2], dedup = KEYS[3], "
          "outbox = KEYS[4], stats = KEYS[5], whfail = KEYS[6] }\n"
          "return record_attempt(k, a .. '|' .. j, ARGV[3], ARGV[4], "
          "'1000', ARGV[5], '604800', ARGV[6] == '1', tonumber(ARGV[7]))")


def record_keys(a, j):
    """outbox_done's KEYS for job j of account a (status completed): all
    of the account's partition."""
    p = rkeys.partition(a)
    return [rkeys.job(a, j), rkeys.deliveries(a, j),
            rkeys.dedup(a, j, "completed"), rkeys.outbox(p), rkeys.stats(p),
            rkeys.whfail(a)]


def key_hash(a):
    """The made-up hash of the API key account a's jobs were submitted
    with, steered into a's partition (as the C side draws a key whose
    hash lands there), so its record shares the scripts' partition."""
    return rkeys.steer_to("kh_" + a, a)


class LuaLib(harness.LuaTestCase):

    def record(self, a, j, token, outcome, rec, now, fail_open=False):
        return self.r.call("EVAL", self.lib + RECORD, "6",
                           *record_keys(a, j), a, j, token,
                           outcome, json.dumps(rec), "1" if fail_open
                           else "0", str(now))

    def new_job(self, a, j, token="1"):
        jk = rkeys.job(a, j)
        self.r.call("HSET", jk, "id", j, "status", "completed",
                    "wh_token", token, "wh_state", "pending",
                    "key_hash", key_hash(a))
        self.r.call("ZADD", rkeys.of_acct(rkeys.outbox, a), "0",
                    rkeys.ref(a, j))
        return jk

    def test_history_append(self):
        jk = rkeys.job("acct_hist", "vgen_h1")
        append = ("history_append(KEYS[1], {status = ARGV[1], at = "
                  "tonumber(ARGV[2]), reason = ARGV[3] ~= '' and ARGV[3] "
                  "or nil}) "
                  "return redis.call('HGET', KEYS[1], 'history')")

        def run(status, at, reason=""):
            return json.loads(self.r.call("EVAL", self.lib + append, "1", jk,
                                          status, str(at), reason))
        for start in (None, "", "[]", "[ ]", "{\"not\":\"a list\"}", "[1"):
            self.r.call("DEL", jk)
            if start is not None:
                self.r.call("HSET", jk, "history", start)
            self.assertEqual(run("pending", 1), [{"status": "pending",
                                                  "at": 1}], start)
        h = run("processing", 2, 'quote " and ] inside')
        h = run("completed", 3)
        self.assertEqual(h, [
            {"status": "pending", "at": 1},
            {"status": "processing", "at": 2,
             "reason": 'quote " and ] inside'},
            {"status": "completed", "at": 3}])

    def test_job_finish_again_under_its_fence(self):
        # A terminal write sent again (its reply was lost) gets the same
        # answer and writes nothing twice: one history entry, one
        # refund, one outbox entry, one count. Another fence is stale.
        a, j = "acct_fin1", "vgen_fin1"
        p = rkeys.partition(a)
        jk = rkeys.job(a, j)
        self.r.call("HSET", rkeys.acct(a), "credits", "0")
        self.r.call("HSET", jk, "id", j, "status", "processing", "state",
                    "leased", "fence", "2", "owner", "w1", "credits", "3",
                    "webhook_url", "http://127.0.0.1:9/h", "history", "[]",
                    "active", "1")
        finish = self.lib + harness.lua_source("job_finish.lua")

        def run(fence):
            return self.r.call("EVAL", finish, "9", jk,
                               rkeys.worker_jobs(p, "w1"),
                               rkeys.acct(a), rkeys.ledger(a),
                               rkeys.outbox(p), rkeys.stats(p),
                               rkeys.render_avg(p),
                               rkeys.apikey(key_hash(a)),
                               rkeys.finished(p), fence,
                               rkeys.ref(a, j), "completed", "done", "2",
                               "output_url", "http://x/v.mp4")
        stats0 = int(self.r.hget(rkeys.stats(p), "jobs_completed") or 0)
        first = run("2")
        self.assertEqual(first[0], "ok", first)
        again = run("2")
        self.assertEqual(again, first)
        h = self.r.hgetall(jk)
        self.assertEqual([e["status"] for e in json.loads(h["history"])],
                         ["completed"])
        self.assertEqual((h["state"], h["credits_refunded"]), ("done", "1"))
        self.assertEqual(len(self.r.lrange(rkeys.ledger(a))), 1)
        self.assertEqual(int(self.r.hget(rkeys.stats(p), "jobs_completed")),
                         stats0 + 1)
        self.assertIsNotNone(self.r.zscore(rkeys.outbox(p),
                                           rkeys.ref(a, j)))
        self.assertEqual(run("1"), ["stale"])

    def test_record_lands_once(self):
        a, j = "acct_rec1", "vgen_rec1"
        jk = self.new_job(a, j, token="3")
        rec = {"attempt": 1, "at": 5, "outcome": "retry"}
        for _ in range(3):  # sent again: its reply was lost
            self.assertEqual(self.record(a, j, "3", "retry", rec, 5), "ok")
        self.assertEqual(len(self.r.lrange(rkeys.deliveries(a, j))), 1)
        h = self.r.hgetall(jk)
        self.assertEqual((h["wh_attempts"], h["wh_last_at"],
                          h["wh_next_at"]), ("1", "5", "1005"))
        self.assertEqual(self.r.zscore(rkeys.of_acct(rkeys.outbox, a),
                                       rkeys.ref(a, j)), 1005.0)

    def test_stale_and_gone_change_nothing(self):
        a, j = "acct_rec2", "vgen_rec2"
        jk = self.new_job(a, j, token="4")
        before = self.r.hgetall(jk)
        rec = {"attempt": 1, "at": 7, "outcome": "delivered"}
        self.assertEqual(self.record(a, j, "3", "delivered", rec, 7),
                         "stale")
        self.assertEqual(self.r.hgetall(jk), before)
        self.assertEqual(self.r.lrange(rkeys.deliveries(a, j)), [])
        self.assertIsNone(self.r.call("GET",
                                      rkeys.dedup(a, j, "completed")))
        gone = "vgen_gone"
        self.assertEqual(self.record(a, gone, "", "delivered", rec, 7, True),
                         "stale")
        self.assertEqual(self.r.call("EXISTS", rkeys.job(a, gone),
                                     rkeys.deliveries(a, gone)), 0)

    def test_attempt_log_keeps_last_100(self):
        a, j = "acct_rec3", "vgen_rec3"
        self.new_job(a, j)
        for n in range(1, 106):  # fail-open retries: no token to check
            self.assertEqual(self.record(a, j, "", "retry",
                                         {"attempt": n}, n, True), "ok")
        log = [json.loads(x) for x in self.r.lrange(rkeys.deliveries(a, j))]
        self.assertEqual([x["attempt"] for x in log], list(range(6, 106)))
        self.assertEqual(self.r.hget(rkeys.job(a, j), "wh_attempts"), "105")

    def test_delivered_after_failed_unlists(self):
        a, j = "acct_rec4", "vgen_rec4"
        jk = self.new_job(a, j, token="2")
        wf = rkeys.whfail(a)
        self.assertEqual(self.record(a, j, "2", "failed",
                                     {"attempt": 1, "outcome": "failed"},
                                     10), "ok")
        self.assertEqual(self.r.zscore(wf, j), 10.0)
        self.assertEqual(self.r.hget(jk, "wh_state"), "failed")
        self.assertEqual(self.record(a, j, "", "delivered",
                                     {"attempt": 1, "fail_open": True},
                                     11, True), "ok")
        self.assertIsNone(self.r.zscore(wf, j))
        self.assertEqual(self.r.hget(jk, "wh_state"), "delivered")
        self.assertEqual(self.r.call(
            "GET", rkeys.dedup(a, j, "completed")), "delivered")

    def test_failed_after_delivered_stays_delivered(self):
        a, j = "acct_rec5", "vgen_rec5"
        jk = self.new_job(a, j, token="2")
        self.assertEqual(self.record(a, j, "", "delivered",
                                     {"attempt": 1, "fail_open": True},
                                     10, True), "ok")
        self.assertEqual(self.record(a, j, "2", "failed",
                                     {"attempt": 1, "outcome": "failed"},
                                     11), "ok")
        self.assertIsNone(self.r.zscore(rkeys.whfail(a), j))
        h = self.r.hgetall(jk)
        self.assertEqual((h["wh_state"], h["wh_attempts"], h["wh_last_at"]),
                         ("delivered", "2", "11"))
        self.assertIsNone(self.r.zscore(rkeys.of_acct(rkeys.outbox, a),
                                        rkeys.ref(a, j)))

    def test_claim_batch_shares_key_and_settings(self):
        a = "acct_claim1"
        jobs = ["vgen_c1", "vgen_c2", "vgen_c3"]
        for n, j in enumerate(jobs):
            self.new_job(a, j)
            self.r.call("HSET", rkeys.job(a, j), "prompt", "p%d" % n)
        self.r.call("HSET", rkeys.acct(a), "wh_signing", "both",
                    "wh_schedule", "[1,2]")
        refs = [rkeys.ref(a, j) for j in jobs]
        # KEYS: the outbox, then each ref's job, dedup keys (completed,
        # failed) and account; ARGV: lease, ttl, n, (ref, "1") pairs,
        # the fields to read.
        keys = [rkeys.of_acct(rkeys.outbox, a)]
        for j in jobs:
            keys += [rkeys.job(a, j), rkeys.dedup(a, j, "completed"),
                     rkeys.dedup(a, j, "failed"), rkeys.acct(a)]
        pairs = []
        for ref in refs:
            pairs += [ref, "1"]
        out = self.r.call("EVAL",
                          self.lib + harness.lua_source("outbox_claim.lua"),
                          str(len(keys)), *keys, "30000", "604800",
                          str(len(refs)), *pairs, "id", "prompt", "status")
        self.assertEqual([o[0] for o in out], refs)
        for n, o in enumerate(out):
            self.assertEqual(o[1], "2")  # the token, bumped by the claim
            # The key the job was submitted with, by its hash: the
            # deliverer reads its sealed copy from the key's record.
            self.assertEqual(o[2], key_hash(a))
            fields = dict(zip(o[3::2], o[4::2]))
            self.assertEqual(fields, {
                "id": jobs[n], "prompt": "p%d" % n, "status": "completed",
                "acct:wh_signing": "both", "acct:wh_schedule": "[1,2]"})
            self.assertEqual(self.r.call(
                "GET", rkeys.dedup(a, jobs[n], "completed")), "sending:2")

    def test_key_index_changed_since_read(self):
        """account_get and key_revoke declare the key records of the
        index their caller read; a key added since is "changed", and
        nothing is revoked."""
        a = "acct_idx1"
        ks = rkeys.acct_keys(a)
        # Made-up key hashes in a's partition (as the C side draws keys),
        # so every KEYS of a call is of one partition.
        h1, h2 = rkeys.steer_to("h1_0", a), rkeys.steer_to("h2_0", a)
        for kid, h in (("key_1", h1), ("key_2", h2)):
            self.r.call("HSET", rkeys.apikey(h), "acct", a, "prefix", kid)
            self.r.call("HSET", ks, kid, h)
        read = ["key_1", h1]  # read before key_2 was added
        recs = [rkeys.apikey(h1)]
        got = self.r.call(
            "EVAL", self.lib + harness.lua_source("key_revoke.lua"),
            str(2 + len(recs)), rkeys.apikey(h1), ks, *recs, a, "key_1",
            *read)
        self.assertEqual(got, ["changed"])
        got = self.r.call(
            "EVAL", self.lib + harness.lua_source("account_get.lua"),
            str(4 + len(recs)), rkeys.apikey(h1), ks, rkeys.acct(a),
            rkeys.ledger(a), *recs, a, "", "0", *read)
        self.assertEqual(got, ["changed"])
        read += ["key_2", h2]
        recs += [rkeys.apikey(h2)]
        got = self.r.call(
            "EVAL", self.lib + harness.lua_source("key_revoke.lua"),
            str(2 + len(recs)), rkeys.apikey(h1), ks, *recs, a, "key_1",
            *read)
        self.assertEqual(got, ["ok"])
        self.assertEqual(self.r.call("HEXISTS", rkeys.apikey(h2),
                                     "revoked_at"), 0)
        self.assertEqual(self.r.call("HEXISTS", rkeys.apikey(h1),
                                     "revoked_at"), 1)


if __name__ == "__main__":
    harness.main()
