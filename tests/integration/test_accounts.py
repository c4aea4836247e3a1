"""Accounts, API keys and the ledger, black-box: sign-up in the three
[accounts] signup modes, GET /v1/account, extra keys, revocation (at
once; the last active key stays), the plaintext key never stored in
Redis (nor its append-only file) nor written to a log, a job signed with
the key it was submitted with even after that key is revoked, and the
ledger (newest first, grant/debit/refund naming job and reason, paged)."""

import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

ADMIN = "adm-" + "7" * 28


class Accounts(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, retry_schedule="0,0.3,0.6",
                   env={"REELAY_ACCOUNTS_SIGNUP": "open",
                        "REELAY_ACCOUNTS_SIGNUP_PER_HOUR": "1000",
                        "REELAY_ACCOUNTS_ADMIN_TOKEN": ADMIN})

    # every API key this class saw in plain text (for the leak scan)
    seen_keys = []

    # -- helpers --

    def restart_broker(self, **env):
        """Restarts broker 0 with these REELAY_* overrides (None removes
        one) and waits until it is ready."""
        c = self.c
        for k, v in env.items():
            if v is None:
                c.extra_env.pop(k, None)
            else:
                c.extra_env[k] = v
        c.brokers[0].stop()
        c.procs.remove(c.brokers[0])
        c.start_broker(0)
        c.wait_ready()

    def signup(self, body=None, token=None, raw=None):
        h = {"Authorization": "Bearer " + token} if token else {}
        r = harness.http_post_json(self.c.url("/v1/accounts"),
                                   body if body is not None else {},
                                   headers=h, raw=raw)
        if r.status == 201:
            type(self).seen_keys.append(r.json()["api_key"])
        return r

    def auth(self, key):
        return {"Authorization": "Bearer " + key}

    def get(self, path, key):
        return harness.http_get(self.c.url(path), headers=self.auth(key))

    def new_key(self, key):
        r = harness.http_post_json(self.c.url("/v1/account/keys"), {},
                                   headers=self.auth(key))
        if r.status == 201:
            type(self).seen_keys.append(r.json()["api_key"])
        return r

    def revoke(self, key, key_id):
        return harness.http_request(
            "DELETE", self.c.url("/v1/account/keys/" + key_id),
            headers=self.auth(key))

    def check_account_doc(self, doc, acct, credits, **usage):
        self.assertEqual(doc["object"], "account", doc)
        self.assertEqual(doc["id"], acct, doc)
        self.assertEqual(doc["credits"], credits, doc)
        u = doc["usage"]
        self.assertEqual(set(u), {"jobs", "jobs_completed", "jobs_failed",
                                  "credits_granted", "credits_debited",
                                  "credits_refunded"}, u)
        for k, v in usage.items():
            self.assertEqual(u[k], v, (k, u))
        self.assertRegex(doc["created_at"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    # -- sign-up --

    def test_a_signup_open(self):
        self.restart_broker(REELAY_ACCOUNTS_SIGNUP="open")
        r = self.signup()
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(doc["object"], "account", doc)
        self.assertTrue(doc["id"].startswith("acct_"), doc)
        self.assertRegex(doc["api_key"], r"^rk_[0-9A-Za-z]{40}$")
        self.assertRegex(doc["key_id"], r"^key_[0-9a-f]{16}$")
        self.assertEqual(doc["credits"], 50, doc)
        a = self.get("/v1/account", doc["api_key"])
        self.assertEqual(a.status, 200, a)
        self.check_account_doc(a.json(), doc["id"], 50, jobs=0,
                               jobs_completed=0, jobs_failed=0,
                               credits_granted=50, credits_debited=0,
                               credits_refunded=0)
        # Two sign-ups: two accounts, two keys.
        r2 = self.signup(raw=b"")
        self.assertEqual(r2.status, 201, r2)
        self.assertNotEqual(r2.json()["id"], doc["id"])
        self.assertNotEqual(r2.json()["api_key"], doc["api_key"])
        # In open mode only the admin may choose the credits.
        e = self.assert_error(self.signup({"credits": 7}), 400, "credits")
        self.assertTrue(e["message"], e)
        # Garbage bodies.
        self.assert_error(self.signup(raw=b"[1,2]"), 400)
        self.assert_error(self.signup(raw=b"{not json"), 400)
        # The open mode still honours the admin token's credits.
        r3 = self.signup({"credits": 11}, token=ADMIN)
        self.assertEqual(r3.status, 201, r3)
        self.assertEqual(r3.json()["credits"], 11)
        self.assertEqual(self.c.account(r3.json()["api_key"])["credits"], 11)
        # The usage works for a real job too.
        st = self.c.submit(doc["api_key"], video_body(
            model="seedance", prompt="usage [sim render_ms=0]"))
        self.assertEqual(st.status, 202, st)
        self.c.wait_job(doc["api_key"], st.json()["id"])
        self.check_account_doc(self.c.account(doc["api_key"]), doc["id"],
                               48, jobs=1, jobs_completed=1, jobs_failed=0,
                               credits_granted=50, credits_debited=2,
                               credits_refunded=0)

    def test_b_signup_admin(self):
        self.restart_broker(REELAY_ACCOUNTS_SIGNUP="admin")
        before = rkeys.total(self.c.redis, "SCARD", rkeys.accounts)
        e = self.assert_error(self.signup(), 403)
        self.assertEqual(e["type"], "permission_error", e)
        self.assert_error(self.signup({"credits": 7}), 403)
        self.assert_error(self.signup({}, token="wrong-token"), 403)
        self.assert_error(self.signup({}, token=ADMIN + "x"), 403)
        self.assert_error(self.signup({}, token=ADMIN[:-1]), 403)
        self.assertEqual(
            rkeys.total(self.c.redis, "SCARD", rkeys.accounts), before)
        r = self.signup({"credits": 7}, token=ADMIN)
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertEqual(doc["credits"], 7, doc)
        self.check_account_doc(self.c.account(doc["api_key"]), doc["id"], 7,
                               credits_granted=7, jobs=0)
        # Without a body: the signup_credits default.
        r = self.signup(token=ADMIN, raw=b"")
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["credits"], 50)
        r = self.signup({"credits": 0}, token=ADMIN)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.c.account(r.json()["api_key"])["credits"], 0)
        for bad in (-1, 1000000001, "7", 7.5, None):
            self.assert_error(self.signup({"credits": bad}, token=ADMIN),
                              400, "credits")
        self.assertEqual(rkeys.total(self.c.redis, "SCARD", rkeys.accounts),
                         before + 3)

    def test_c_signup_admin_without_token_configured(self):
        # admin mode with an empty admin_token: nobody may sign up.
        self.restart_broker(REELAY_ACCOUNTS_SIGNUP="admin",
                            REELAY_ACCOUNTS_ADMIN_TOKEN=None)
        try:
            self.assert_error(self.signup(), 403)
            self.assert_error(self.signup({}, token=ADMIN), 403)
            self.assert_error(self.signup({}, token=""), 403)
        finally:
            self.c.extra_env["REELAY_ACCOUNTS_ADMIN_TOKEN"] = ADMIN

    def test_d_signup_closed(self):
        self.restart_broker(REELAY_ACCOUNTS_SIGNUP="closed")
        before = rkeys.total(self.c.redis, "SCARD", rkeys.accounts)
        self.assert_error(self.signup(), 403)
        self.assert_error(self.signup({}, token=ADMIN), 403)
        self.assert_error(self.signup({"credits": 7}, token=ADMIN), 403)
        self.assertEqual(
            rkeys.total(self.c.redis, "SCARD", rkeys.accounts), before)
        self.restart_broker(REELAY_ACCOUNTS_SIGNUP="open")

    # -- keys --

    def test_e_keys_create_list_revoke(self):
        c = self.c
        r = self.signup({"credits": 30}, token=ADMIN)
        self.assertEqual(r.status, 201, r)
        acct, key_a, id_a = (r.json()["id"], r.json()["api_key"],
                             r.json()["key_id"])
        r = self.new_key(key_a)
        self.assertEqual(r.status, 201, r)
        k = r.json()
        self.assertEqual(k["object"], "api_key", k)
        key_b, id_b = k["api_key"], k["id"]
        self.assertRegex(key_b, r"^rk_[0-9A-Za-z]{40}$")
        self.assertRegex(id_b, r"^key_[0-9a-f]{16}$")
        self.assertEqual(k["prefix"], key_b[:10])
        self.assertNotEqual(key_b, key_a)
        self.assertNotEqual(id_b, id_a)

        # Both keys submit on the same account.
        for key in (key_a, key_b):
            s = c.submit(key, video_body(model="seedance",
                                         prompt="keys [sim render_ms=0]"))
            self.assertEqual(s.status, 202, s)
        self.assertEqual(c.account(key_b)["id"], acct)
        self.assertEqual(c.account(key_a)["credits"], 26)

        ls = self.get("/v1/account/keys", key_b)
        self.assertEqual(ls.status, 200, ls)
        data = ls.json()["data"]
        self.assertEqual(ls.json()["object"], "list")
        by_id = {d["id"]: d for d in data}
        self.assertEqual(set(by_id), {id_a, id_b}, data)
        self.assertEqual(by_id[id_a]["prefix"], key_a[:10])
        self.assertEqual(by_id[id_b]["prefix"], key_b[:10])
        for d in data:
            self.assertEqual(d["object"], "api_key", d)
            self.assertIsNone(d["revoked_at"], d)
            self.assertRegex(d["created_at"], r"^\d{4}-\d\d-\d\dT")
            # The listing never shows a key.
            self.assertNotIn("api_key", d)
        self.assertNotIn(key_a, ls.body.decode())
        self.assertNotIn(key_b, ls.body.decode())

        # Revoke A (with B): A is refused at once, B goes on.
        job_a = c.submit(key_a, video_body(
            model="seedance", prompt="before revoke [sim render_ms=0]"))
        self.assertEqual(job_a.status, 202, job_a)
        rv = self.revoke(key_b, id_a)
        self.assertEqual(rv.status, 200, rv)
        self.assertEqual(rv.json(), {"object": "api_key", "id": id_a,
                                     "revoked": True})
        e = self.assert_error(c.submit(key_a, video_body(
            model="seedance", prompt="after revoke")), 401)
        self.assertEqual(e["code"], "invalid_api_key", e)
        self.assert_error(self.get("/v1/account", key_a), 401)
        self.assert_error(self.get("/v1/account/keys", key_a), 401)
        self.assert_error(self.get("/v1/account/ledger", key_a), 401)
        self.assert_error(c.get_job(key_a, job_a.json()["id"]), 401)
        self.assert_error(self.new_key(key_a), 401)
        self.assert_error(self.revoke(key_a, id_b), 401)
        # B still works, sees A's job, and A shows as revoked.
        s = c.submit(key_b, video_body(model="seedance",
                                       prompt="still works [sim render_ms=0]"))
        self.assertEqual(s.status, 202, s)
        self.assertEqual(c.get_job(key_b, job_a.json()["id"]).status, 200)
        data = {d["id"]: d for d in self.get("/v1/account/keys",
                                             key_b).json()["data"]}
        self.assertRegex(data[id_a]["revoked_at"] or "", r"^\d{4}-")
        self.assertIsNone(data[id_b]["revoked_at"])
        # Revoking again is harmless; unknown ids are 404.
        self.assertEqual(self.revoke(key_b, id_a).status, 200)
        self.assert_error(self.revoke(key_b, "key_0000000000000000"), 404)
        self.assert_error(self.revoke(key_b, "nonsense"), 404)
        # B is the last active key: it cannot be revoked.
        e = self.assert_error(self.revoke(key_b, id_b), 409)
        self.assertEqual(e["code"], "last_key", e)
        self.assertEqual(self.get("/v1/account", key_b).status, 200)
        # Another account's key id is not found from this account.
        other = self.signup({}, token=ADMIN).json()
        self.assert_error(self.revoke(key_b, other["key_id"]), 404)
        self.assertEqual(self.get("/v1/account", other["api_key"]).status,
                         200)
        # A third key, then B can go.
        key_c = self.new_key(key_b).json()
        self.assertEqual(self.revoke(key_c["api_key"], id_b).status, 200)
        self.assert_error(self.get("/v1/account", key_b), 401)
        self.assertEqual(c.account(key_c["api_key"])["id"], acct)
        e = self.assert_error(self.revoke(key_c["api_key"], key_c["id"]),
                              409)

    def test_f_too_many_keys(self):
        r = self.signup({}, token=ADMIN).json()
        key = r["api_key"]
        made = 1
        while made < 10:
            k = self.new_key(key)
            self.assertEqual(k.status, 201, k)
            made += 1
        e = self.assert_error(self.new_key(key), 409)
        self.assertEqual(e["code"], "too_many_keys", e)
        self.assertEqual(len(self.get("/v1/account/keys",
                                      key).json()["data"]), 10)

    def test_g_job_signed_with_revoked_key(self):
        """A job submitted with key A and delivered after A's revocation is
        signed with A."""
        c = self.c
        r = self.signup({"credits": 20}, token=ADMIN).json()
        acct, key_a, id_a = r["id"], r["api_key"], r["key_id"]
        key_b = self.new_key(key_a).json()["api_key"]
        c.receiver_control({"key": key_a})
        c.receiver_control({"key": key_b})
        s = c.submit(key_a, video_body(
            prompt="signed with A [sim render_ms=1500]",
            webhook_url=c.webhook_url("revoked")))
        self.assertEqual(s.status, 202, s)
        jid = s.json()["id"]
        self.assertEqual(self.revoke(key_b, id_a).status, 200)
        # Revoked before the job ended (so before its delivery).
        h = c.job_hash(acct, jid)
        self.assertNotIn(h.get("status"), ("completed", "failed"), h)
        self.assertEqual(len(c.deliveries(jid)), 0)
        self.assert_error(c.get_job(key_a, jid), 401)
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state")
                 == "delivered", 20, "wh_state of %s == delivered" % jid)
        ds = c.deliveries(jid)
        self.assertEqual(len(ds), 1, ds)
        d = ds[0]
        sig = d["headers"].get("x-creativeai-signature")
        raw = d["body"].encode()
        self.assertTrue(harness.verify_signature(sig, raw, key_a),
                        "not signed with the revoked key A: %r" % sig)
        self.assertFalse(harness.verify_signature(sig, raw, key_b))
        self.assertTrue(d["verified"], d)
        self.assertEqual(d.get("verified_key"), key_a, d)
        self.assertEqual(json.loads(d["body"])["status"], "completed")
        self.assertEqual(c.get_job(key_b, jid).json()["status"],
                         "completed")

    # -- ledger --

    def test_h_ledger(self):
        c = self.c
        r = self.signup({"credits": 20}, token=ADMIN).json()
        acct, key = r["id"], r["api_key"]
        jobs = {}
        for name, body in (
                ("ok", video_body(prompt="ledger ok [sim render_ms=0]")),
                ("fail", video_body(prompt="ledger fail "
                                    "[sim fail=content render_ms=0]")),
                ("failover", video_body(prompt="ledger failover "
                                        "[sim kling.submit=429 "
                                        "render_ms=0]")),
                ("seedance", video_body(model="seedance", prompt="ledger sd "
                                        "[sim render_ms=0]"))):
            s = c.submit(key, body)
            self.assertEqual(s.status, 202, s)
            jobs[name] = s.json()["id"]
            # one at a time, so the ledger order is known
            c.wait_job(key, jobs[name])
        final = {n: c.get_job(key, j).json() for n, j in jobs.items()}
        self.assertEqual(final["ok"]["status"], "completed")
        self.assertEqual(final["fail"]["status"], "failed")
        self.assertEqual(final["failover"]["status"], "completed")
        self.assertIs(final["failover"]["failover_used"], True)
        self.assertEqual(final["failover"]["credits"], 2)

        full = self.get("/v1/account/ledger?limit=100", key)
        self.assertEqual(full.status, 200, full)
        doc = full.json()
        self.assertEqual(doc["object"], "list")
        self.assertIs(doc["has_more"], False)
        self.assertIsNone(doc["next_cursor"])
        entries = doc["data"]
        got = [(e["type"], e["job"], e["credits"]) for e in entries]
        want = [("debit", jobs["seedance"], 2),
                ("refund", jobs["failover"], 1),
                ("debit", jobs["failover"], 3),
                ("refund", jobs["fail"], 3),
                ("debit", jobs["fail"], 3),
                ("debit", jobs["ok"], 3),
                ("grant", "", 20)]
        self.assertEqual(got, want, entries)
        reasons = [e["reason"] for e in entries]
        self.assertEqual(reasons[-1], "signup")
        for e in entries:
            self.assertIsInstance(e["reason"], str)
            self.assertTrue(e["reason"], e)
            self.assertRegex(e["created_at"],
                             r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
            self.assertNotIn("at", e)
        self.assertEqual(entries[0]["reason"], "submit")
        self.assertIn("cheaper", entries[1]["reason"])
        self.assertEqual(entries[3]["reason"],
                         final["fail"]["error"]["code"])
        # newest first: times never increase down the list, balances
        # chain (each entry's balance = the older one's +- its credits)
        times = [e["created_at"] for e in entries]
        self.assertEqual(times, sorted(times, reverse=True))
        bal = 0
        for e in reversed(entries):
            bal += -e["credits"] if e["type"] == "debit" else e["credits"]
            self.assertEqual(e["balance"], bal, e)
        self.assertEqual(bal, 20 - 3 - 3 + 3 - 3 + 1 - 2)
        self.check_account_doc(c.account(key), acct, bal, jobs=4,
                               jobs_completed=3, jobs_failed=1,
                               credits_granted=20, credits_debited=11,
                               credits_refunded=4)
        # Default page: 20 entries (all 7 here).
        self.assertEqual(self.get("/v1/account/ledger", key).json()["data"],
                         entries)

        # Pages of 2 (and 3) add up to the whole list.
        for limit in (1, 2, 3, 7):
            pages, cursor, seen = 0, None, []
            while True:
                q = "/v1/account/ledger?limit=%d" % limit
                if cursor is not None:
                    q += "&cursor=%d" % cursor
                p = self.get(q, key)
                self.assertEqual(p.status, 200, p)
                pd = p.json()
                self.assertLessEqual(len(pd["data"]), limit)
                seen.extend(pd["data"])
                pages += 1
                if not pd["has_more"]:
                    self.assertIsNone(pd["next_cursor"], pd)
                    break
                # The cursor counts the entries older than the page.
                self.assertEqual(pd["next_cursor"], len(entries) - len(seen),
                                 pd)
                cursor = pd["next_cursor"]
                self.assertLess(pages, 20)
            self.assertEqual(seen, entries, limit)
            self.assertEqual(pages, -(-len(entries) // limit))
        # Nothing older than the oldest: empty, no more; a cursor beyond
        # the newest starts at the newest.
        p = self.get("/v1/account/ledger?limit=5&cursor=0", key).json()
        self.assertEqual((p["data"], p["has_more"], p["next_cursor"]),
                         ([], False, None))
        p = self.get("/v1/account/ledger?cursor=1000", key).json()
        self.assertEqual(p["data"], entries)
        # Pages stay put while new entries arrive: page 1, then a new
        # debit, then page 2 goes on where page 1 ended.
        p1 = self.get("/v1/account/ledger?limit=3", key).json()
        self.assertEqual(p1["data"], entries[:3])
        r = c.submit(key, video_body(prompt="ledger while paging"))
        self.assertEqual(r.status, 202, r)
        p2 = self.get("/v1/account/ledger?limit=3&cursor=%d"
                      % p1["next_cursor"], key).json()
        self.assertEqual(p2["data"], entries[3:6], p2)
        newest = self.get("/v1/account/ledger?limit=1", key).json()
        self.assertEqual(newest["data"][0]["job"], r.json()["id"])
        # Bad limits and cursors.
        for q in ("limit=0", "limit=101", "limit=-1", "limit=abc",
                  "limit=", "limit=2x", "limit=1.5"):
            self.assert_error(self.get("/v1/account/ledger?" + q, key),
                              400, "limit")
        for q in ("cursor=-1", "cursor=abc", "cursor=", "limit=2&cursor=x"):
            self.assert_error(self.get("/v1/account/ledger?" + q, key),
                              400, "cursor")
        self.assertEqual(self.get("/v1/account/ledger?limit=100",
                                  key).status, 200)
        self.assert_error(self.get("/v1/account/ledger", "rk_" + "x" * 40),
                          401)
        self.assert_error(harness.http_get(c.url("/v1/account/ledger")), 401)

    # -- a master key made after the broker started --

    def test_y_master_key_made_after_start(self):
        c = self.c
        path = os.path.join(c.tmp, "master.key")
        self.assertFalse(os.path.exists(path))
        self.restart_broker(REELAY_SECURITY_MASTER_KEY="")
        try:
            self.assert_error(self.signup(), 503, code="no_master_key")
            # What `reelay` makes on first use, with the key every other
            # process of the cluster has.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(c.master_key + "\n")
            r = wait_for(lambda: (lambda r: r if r.status == 201 else None)(
                self.signup()), 5, "a sign-up once master.key exists")
            key = r.json()["api_key"]
            self.assertEqual(self.get("/v1/account", key).status, 200)
        finally:
            self.restart_broker(REELAY_SECURITY_MASTER_KEY=None)
            if os.path.exists(path):
                os.unlink(path)

    # -- the plaintext key is never stored nor logged (runs last) --

    def test_z_plaintext_key_never_stored_or_logged(self):
        c = self.c
        # Keys of its own (so it holds run alone): 5 sign-ups with a
        # second key each, plus whatever the other tests made.
        for _ in range(5):
            r = self.signup()
            self.assertEqual(r.status, 201, r)
            self.assertEqual(self.new_key(r.json()["api_key"]).status, 201)
        keys = list(type(self).seen_keys)
        # CLI-made keys of the harness too.
        acct, cli_key = c.create_account(5)
        keys.append(cli_key)
        self.assertGreaterEqual(len(keys), 10)
        needles = set()
        for k in keys:
            needles.add(k)
            needles.add(k[10:])   # everything after the stored prefix
        # A canary proves the scan looks inside hash values.
        canary = "rk_" + "C" * 40
        c.redis.call("HSET", "rl:test:canary", "f", "x" + canary + "y")
        needles.add(canary)
        hits = []
        n_values = 0
        for rk in c.redis.scan("*"):
            t, v = c.redis.value(rk)
            parts = [rk]
            if isinstance(v, dict):
                for f, x in v.items():
                    parts += [f, x]
            elif isinstance(v, list):
                for x in v:
                    parts += list(x) if isinstance(x, (list, tuple)) else [x]
            elif v is not None:
                parts.append(v)
            for p in parts:
                n_values += 1
                s = json.dumps(p) if not isinstance(p, str) else p
                for nd in needles:
                    if nd in s:
                        hits.append((rk, t, nd[:12]))
        self.assertEqual(hits, [("rl:test:canary", "hash", canary[:12])],
                         "plaintext API keys in Redis")
        c.redis.call("DEL", "rl:test:canary")
        needles.discard(canary)
        self.assertGreater(n_values, 100)
        # The sealed copies are there (and differ from the keys).
        sealed = [c.redis.hget(k, "sealed")
                  for k in c.redis.scan("rl:key:*")]
        self.assertTrue(sealed and all(s and s.startswith("v1.")
                                       for s in sealed), sealed)
        # Redis's own files (append-only file, any dump).
        c.redis.call("BGREWRITEAOF")
        wait_for(lambda: "aof_rewrite_in_progress:0" in
                 c.redis.call("INFO", "persistence") and
                 "aof_rewrite_scheduled:0" in
                 c.redis.call("INFO", "persistence"), 10,
                 "the AOF rewrite to finish")
        files = [f for f in glob.glob(os.path.join(c.tmp, "**"),
                                      recursive=True) if os.path.isfile(f)]
        redis_files = [f for f in files
                       if "appendonly" in f or f.endswith(".rdb")]
        self.assertTrue(redis_files, files)
        logs = [f for f in files if f.endswith(".log")]
        self.assertTrue(any(os.path.basename(f).startswith("broker")
                            for f in logs), logs)
        leaks = []
        for f in redis_files + logs:
            with open(f, "rb") as fh:
                data = fh.read().decode("utf-8", "replace")
            for nd in needles:
                if nd in data:
                    leaks.append((os.path.relpath(f, c.tmp), nd[:12]))
        self.assertEqual(sorted(set(leaks)), [],
                         "plaintext API keys in files")


if __name__ == "__main__":
    harness.main()
