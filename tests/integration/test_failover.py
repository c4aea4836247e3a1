"""Failover across providers: 429 / 5xx / capacity / hang at submit,
capacity mid-render, the chain's price rule (never a more expensive
backup, a cheaper one refunds the difference once), content and
permanent failures (no failover, full refund once), the circuit breaker
per provider and the provider health endpoint.

Default catalog (deploy/reelay.ini): kling-v3 (sim-kling, 3 credits for
5s) fails over to seedance (sim-seedance, 2) then kling-o3-pro (sim-kling,
upstream kling-v2-master, 5: always more than what was charged)."""

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

START = 50
SEEDANCE_UPSTREAM = "seedance-1-0-pro-250528"
KLING_UPSTREAM = "kling-v3"
O3_UPSTREAM = "kling-v2-master"


def hops(history):
    """The failover entries of a status history."""
    return [e for e in history
            if str(e.get("reason", "")).startswith("failover from ")]


class FailoverAsserts:
    """Assertions shared by the classes of this file (mixed into a
    ClusterTestCase)."""

    def run_job(self, directives, model="kling-v3", tag=None):
        """A fresh account with START credits submits one job whose prompt
        carries a unique tag and the [sim ...] directives. Returns
        (acct, key, job id, tag)."""
        c = self.c
        acct, key = c.create_account(START)
        tag = tag or "fo-" + secrets.token_hex(5)
        r = c.submit(key, video_body(
            prompt="%s %s" % (tag, directives), model=model,
            webhook_url=c.webhook_url(tag)))
        self.assertEqual(r.status, 202, r)
        return acct, key, r.json()["id"], tag

    def assert_money(self, o, key, charged, refunded):
        """Debited `charged` once, refunded `refunded` in at most one
        entry, and the balance, GET /v1/account, the ledger, GET job and
        the webhook all agree."""
        acct = o["account"]
        self.assertEqual(acct["credits"], START - charged + refunded, acct)
        self.assertEqual(acct["usage"]["credits_debited"], charged, acct)
        self.assertEqual(acct["usage"]["credits_refunded"], refunded, acct)
        debits = [e for e in o["ledger"] if e["type"] == "debit"]
        refunds = [e for e in o["ledger"] if e["type"] == "refund"]
        self.assertEqual([e["credits"] for e in debits], [charged],
                         o["ledger"])
        self.assertEqual([e["credits"] for e in refunds],
                         [refunded] if refunded else [], o["ledger"])
        self.assertEqual(len(o["ledger"]), len(debits) + len(refunds),
                         o["ledger"])
        h = o["hash"]
        self.assertEqual(int(h["credits"]), charged, h)
        self.assertEqual(int(h.get("credits_refunded") or 0), refunded, h)
        self.assertEqual(o["job"]["credits"], charged - refunded, o["job"])
        if o.get("hook") is not None:
            self.assertEqual(o["hook"]["credits"], charged - refunded,
                             o["hook"])
        # Nothing more moves afterwards (idempotent refund).
        holds_for(lambda: self.c.account(key)["credits"] ==
                  START - charged + refunded and
                  len(self.c.ledger(key, o["job"]["id"])) ==
                  len(o["ledger"]), 0.3, "balance and ledger stable")

    def assert_hook(self, o, key, status, failover_used):
        """Exactly one signed delivery of the right event whose body
        agrees with the stored job."""
        self.assertEqual(len(o["deliveries"]), 1, o["deliveries"])
        d = o["deliveries"][0]
        hdr = o["hook_headers"]
        self.assertEqual(hdr.get("x-creativeai-event"),
                         "video.generation." + status, hdr)
        self.assertTrue(harness.verify_signature(
            hdr.get("x-creativeai-signature"), d["body"].encode(), key))
        b = o["hook"]
        self.assertEqual(b["id"], o["job"]["id"])
        self.assertEqual(b["status"], status, b)
        self.assertIs(b["failover_used"], failover_used, b)
        self.assertIsInstance(b["elapsed_seconds"], int, b)
        h = o["hash"]
        self.assertEqual(b["elapsed_seconds"],
                         (int(h["completed_at"]) - int(h["created_at"]))
                         // 1000, (b, h.get("created_at")))
        hist = b["status_history"]
        self.assertEqual(hist[0]["status"], "pending", hist)
        self.assertEqual(hist[-1]["status"], status, hist)
        self.assertEqual(hist, o["job"]["status_history"])
        if status == "completed":
            self.assertNotIn("error", b)
            self.assertTrue(b["output_url"], b)
        else:
            self.assertIsNone(b["output_url"], b)
            self.assertEqual(b["error"]["code"], h["error_code"], b)
            self.assertEqual(b["error"]["message"], h["error_message"], b)
            self.assertEqual(b["error"], o["job"]["error"])
        return b

    def assert_where(self, o, provider, model, failover_used):
        h = o["hash"]
        self.assertEqual(h["status"], o["job"]["status"], h)
        self.assertEqual(h.get("provider"), provider, h)
        self.assertEqual(h.get("model_used"), model, h)
        self.assertEqual(h.get("failover_used"),
                         "1" if failover_used else "0", h)
        self.assertIs(o["job"]["failover_used"], failover_used, o["job"])
        self.assertEqual(o["job"]["model"], h["model"])

    def tasks_by(self, o, api, upstream=None):
        return [t for t in o["tasks"] if t["api"] == api and
                (upstream is None or t["model"] == upstream)]

    def submit_failover(self, directive, reason_part):
        """One kling-v3 job whose Kling submit fails: rendered by seedance,
        billed 2 (3 debited, 1 refunded once), no kling-o3-pro task."""
        acct, key, jid, tag = self.run_job(directive)
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-seedance", "seedance", True)
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["model"], SEEDANCE_UPSTREAM)
        self.assertEqual(sd[0]["status"], "succeeded", sd)
        self.assertEqual(sd[0]["task_id"], o["hash"]["task_id"])
        self.assertEqual(self.tasks_by(o, "kling"), [], o["tasks"])
        self.assert_money(o, key, 3, 1)
        refund = [e for e in o["ledger"] if e["type"] == "refund"][0]
        self.assertIn("cheaper", refund["reason"], refund)
        b = self.assert_hook(o, key, "completed", True)
        self.assertEqual(b["model"], "kling-v3", b)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 1, b["status_history"])
        self.assertIn("failover from kling-v3 to seedance", hs[0]["reason"])
        self.assertIn(reason_part, hs[0]["reason"])
        return o


# Nine models (one and eight backups, the most a chain may hold) whose
# names have the most characters a name may have: the chain stored with
# the job is 369 bytes long.
LONG_NAMES = ["m%d-" % i + "x" * 37 for i in range(1, 10)]


def long_chain_catalog(c):
    with open(harness.CONFIG) as f:
        out = [f.read(), "\n"]
    for i, name in enumerate(LONG_NAMES):
        assert len(name) == 40
        out.append("[model.%s]\nprovider = sim-kling\nupstream_model = "
                   "kling-v3\nprices = 5s:1\n" % name)
        if i == 0:   # a line holds 198 characters: continued, indented
            out.append("failover = %s\n  %s\n  %s\n" % (
                ", ".join(LONG_NAMES[1:4]), ", ".join(LONG_NAMES[4:7]),
                ", ".join(LONG_NAMES[7:])))
        out.append("\n")
    return "".join(out)


class LongestChain(FailoverAsserts, harness.ClusterTestCase):
    """The whole chain is kept with the job, whatever its length: a job
    refused at submit by eight providers in turn completes on the ninth
    model (the chain was once cut at 255 bytes, mid-name)."""

    CLUSTER = dict(workers=1, deliverers=1, config_text=long_chain_catalog,
                   env={"REELAY_HEALTH_BREAKER_FAILURES": "1000"})

    def test_nine_models_of_forty_characters(self):
        acct, key, jid, _tag = self.run_job(
            "[sim submit=capacity submit_times=8]", model=LONG_NAMES[0])
        self.assertEqual(self.c.job_hash(acct, jid)["chain"],
                         ",".join(LONG_NAMES))
        job = self.c.wait_job(key, jid, timeout=60)
        self.assertEqual(job["status"], "completed", job)
        self.assertTrue(job["failover_used"], job)
        steps = hops(job["status_history"])
        self.assertEqual(len(steps), 8, job["status_history"])
        self.assertIn(LONG_NAMES[8], steps[-1]["reason"], steps[-1])


class SubmitAndCapacityFailover(FailoverAsserts, harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, env={
        # The failures below would otherwise open sim-kling's breaker.
        "REELAY_HEALTH_BREAKER_FAILURES": "100",
        "REELAY_PROVIDER_SIM_KLING_SUBMIT_TIMEOUT_MS": "500",
    })

    # 1
    def test_a_429_at_submit(self):
        self.submit_failover("[sim kling.submit=429]",
                             "rate_limited at submit")

    # 2
    def test_b_5xx_at_submit(self):
        for code in ("500", "503"):
            with self.subTest(code=code):
                self.submit_failover("[sim kling.submit=%s]" % code,
                                     "transient at submit")

    def test_b_capacity_at_submit(self):
        self.submit_failover("[sim kling.submit=capacity]",
                             "capacity at submit")

    def test_b_submit_hang_past_timeout(self):
        o = self.submit_failover("[sim kling.submit=hang]",
                                 "transient at submit: request timed out")
        # Failed over after the 500 ms submit timeout, not before.
        h = o["hash"]
        self.assertGreaterEqual(
            int(h["completed_at"]) - int(h["created_at"]), 500, h)

    # 3
    def test_c_capacity_mid_render_on_kling(self):
        acct, key, jid, tag = self.run_job(
            "[sim kling.fail=capacity kling.fail_after_polls=2]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-seedance", "seedance", True)
        kl = self.tasks_by(o, "kling")
        self.assertEqual(len(kl), 1, o["tasks"])
        self.assertEqual(kl[0]["model"], KLING_UPSTREAM)
        self.assertEqual(kl[0]["status"], "failed", kl)
        self.assertEqual(kl[0]["polls"], 3, kl)  # failed on poll 2+1
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["status"], "succeeded", sd)
        self.assertEqual(self.tasks_by(o, "kling", O3_UPSTREAM), [])
        # No second debit; the cheaper backup refunds 1 once.
        self.assert_money(o, key, 3, 1)
        b = self.assert_hook(o, key, "completed", True)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 1, b["status_history"])
        self.assertIn("failover from kling-v3 to seedance: capacity "
                      "mid-render", hs[0]["reason"])
        self.assertIn("resource exhausted", hs[0]["reason"])
        reasons = [e.get("reason", "") for e in b["status_history"]]
        i_k = [i for i, r in enumerate(reasons)
               if r.startswith("submitted to sim-kling")]
        i_s = [i for i, r in enumerate(reasons)
               if r.startswith("submitted to sim-seedance")]
        i_h = reasons.index(hs[0]["reason"])
        self.assertTrue(i_k and i_s and i_k[0] < i_h < i_s[0], reasons)

    # 4a
    def test_d_capacity_on_seedance_backup_too_expensive(self):
        acct, key, jid, tag = self.run_job(
            "[sim seedance.fail=capacity seedance.fail_after_polls=1]",
            model="seedance")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        # kling-o3-pro (5) costs more than the 2 charged: skipped.
        self.assertEqual(self.tasks_by(o, "kling"), [], o["tasks"])
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["status"], "failed", sd)
        self.assert_where(o, "sim-seedance", "seedance", False)
        self.assert_money(o, key, 2, 2)
        self.assertTrue(o["hash"].get("refunded_at"), o["hash"])
        self.assertIsNotNone(o["job"]["refunded_at"], o["job"])
        b = self.assert_hook(o, key, "failed", False)
        err = b["error"]
        self.assertEqual(err["code"], "capacity", err)
        self.assertIn("no provider left", err["message"])
        self.assertIn("The service is overloaded", err["message"])
        self.assertIn("ServerOverloaded", err["message"])
        self.assertEqual(hops(b["status_history"]), [])

    # 4b
    def test_e_kling_to_seedance_then_capacity_on_seedance(self):
        acct, key, jid, tag = self.run_job(
            "[sim kling.submit=429 seedance.fail=capacity "
            "seedance.fail_after_polls=1]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "failed", o["job"])
        self.assertEqual(self.tasks_by(o, "kling"), [], o["tasks"])
        self.assertEqual(len(self.tasks_by(o, "seedance")), 1, o["tasks"])
        self.assert_where(o, "sim-seedance", "seedance", True)
        # Full refund of the 3 charged, in one entry (no partial refund
        # of 1 first: that happens only on completion).
        self.assert_money(o, key, 3, 3)
        self.assertTrue(o["hash"].get("refunded_at"), o["hash"])
        b = self.assert_hook(o, key, "failed", True)
        self.assertEqual(b["error"]["code"], "capacity", b)
        self.assertIn("no provider left", b["error"]["message"])
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 1, b["status_history"])
        self.assertIn("failover from kling-v3 to seedance: rate_limited",
                      hs[0]["reason"])

    # 7
    def test_f_content_rejected_no_failover(self):
        cases = [
            ("kling-v3", "[sim fail=content]", "sim-kling",
             "Failure to pass the risk control system: content policy",
             "task_failed", 3),
            ("seedance", "[sim fail=content]", "sim-seedance",
             "The output video may contain sensitive information.",
             "OutputVideoSensitiveContentDetected", 2),
            # At submit: the input policy (Kling code 1301, HTTP 400).
            ("kling-v3", "[sim submit=400]", "sim-kling",
             "input may contain sensitive content", "1301", 3),
        ]
        for model, directive, provider, msg, pcode, price in cases:
            with self.subTest(model=model, directive=directive):
                acct, key, jid, tag = self.run_job(directive, model=model)
                o = self.c.outcome(acct, key, jid, tag)
                self.assertEqual(o["job"]["status"], "failed", o["job"])
                self.assert_where(o, provider, model, False)
                api = "kling" if provider == "sim-kling" else "seedance"
                other = "seedance" if api == "kling" else "kling"
                self.assertEqual(self.tasks_by(o, other), [], o["tasks"])
                self.assertLessEqual(len(self.tasks_by(o, api)), 1)
                self.assert_money(o, key, price, price)
                b = self.assert_hook(o, key, "failed", False)
                err = b["error"]
                self.assertEqual(err["code"], "content_rejected", err)
                self.assertIn(msg, err["message"])
                self.assertIn("code %s" % pcode, err["message"])
                self.assertEqual(err.get("provider"), provider, err)
                self.assertEqual(hops(b["status_history"]), [])

    # 8
    def test_g_permanent_failure(self):
        """fail=permanent: a terminal task failure that is neither capacity
        nor content. The code fails the job (no failover: only capacity
        mid-render and submit errors fail over) and refunds it once."""
        for model, provider, msg, price in (
                ("kling-v3", "sim-kling", "video generation failed", 3),
                ("seedance", "sim-seedance", "The video generation failed",
                 2)):
            with self.subTest(model=model):
                acct, key, jid, tag = self.run_job(
                    "[sim fail=permanent render_ms=200]", model=model)
                o = self.c.outcome(acct, key, jid, tag)
                self.assertEqual(o["job"]["status"], "failed", o["job"])
                self.assert_where(o, provider, model, False)
                self.assertEqual(len(o["tasks"]), 1, o["tasks"])
                self.assertEqual(o["tasks"][0]["status"], "failed")
                self.assert_money(o, key, price, price)
                b = self.assert_hook(o, key, "failed", False)
                self.assertEqual(b["error"]["code"], "permanent", b)
                self.assertIn(msg, b["error"]["message"])
                self.assertEqual(hops(b["status_history"]), [])


class AffordableThirdModel(FailoverAsserts, harness.ClusterTestCase):
    """kling-o3-pro repriced to 3 so that the chain's third model is
    affordable for a kling-v3 job: a Seedance task abandoned mid-render is
    cancelled upstream (DELETE) and the job goes on on kling-o3-pro."""
    CLUSTER = dict(workers=1, deliverers=1, env={
        "REELAY_HEALTH_BREAKER_FAILURES": "100",
        "REELAY_MODEL_KLING_O3_PRO_PRICES": "5s:3, 10s:6",
    })

    def test_a_seedance_abandoned_mid_render_is_cancelled(self):
        acct, key, jid, tag = self.run_job(
            "[sim kling.submit=429 kling.submit_times=1 "
            "seedance.poll_5xx=6]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-kling", "kling-o3-pro", True)
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["polls"], 6, sd)
        self.assertIs(sd[0]["cancelled"], True, sd)
        self.assertEqual(sd[0]["status"], "cancelled", sd)
        o3 = self.tasks_by(o, "kling", O3_UPSTREAM)
        self.assertEqual(len(o3), 1, o["tasks"])
        self.assertEqual(o3[0]["status"], "succeed", o3)  # Kling spelling
        self.assertEqual(self.tasks_by(o, "kling", KLING_UPSTREAM), [])
        # Rendered at the charged price: no refund at all.
        self.assert_money(o, key, 3, 0)
        b = self.assert_hook(o, key, "completed", True)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 2, b["status_history"])
        self.assertIn("failover from kling-v3 to seedance", hs[0]["reason"])
        self.assertIn("failover from seedance to kling-o3-pro: 6 "
                      "consecutive transient poll failures", hs[1]["reason"])

    def test_b_seedance_capacity_mid_render_to_third_model(self):
        acct, key, jid, tag = self.run_job(
            "[sim kling.submit=429 kling.submit_times=1 "
            "seedance.fail=capacity seedance.fail_after_polls=1]")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-kling", "kling-o3-pro", True)
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["status"], "failed", sd)
        # Already failed upstream: no DELETE, which on Ark would delete
        # the finished task's record (docs/providers.md).
        self.assertIs(sd[0]["cancelled"], False, sd)
        self.assertIs(sd[0]["deleted"], False, sd)
        self.assertEqual(len(self.tasks_by(o, "kling", O3_UPSTREAM)), 1)
        self.assert_money(o, key, 3, 0)
        b = self.assert_hook(o, key, "completed", True)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 2, b["status_history"])
        self.assertIn("failover from seedance to kling-o3-pro: capacity "
                      "mid-render", hs[1]["reason"])


class QueueBudget(FailoverAsserts, harness.ClusterTestCase):
    """A task the provider keeps queued (Runway THROTTLED, fal IN_QUEUE)
    past the provider's max_queue_ms is a capacity signal: the job fails
    over mid-render and the abandoned, still-waiting task is cancelled;
    without an affordable backup the job keeps waiting instead."""
    CLUSTER = dict(workers=1, deliverers=1, env={
        "REELAY_HEALTH_BREAKER_FAILURES": "100",
        "REELAY_PROVIDER_SIM_SEEDANCE_MAX_QUEUE_MS": "800",
        "REELAY_MODEL_KLING_O3_PRO_PRICES": "5s:2, 10s:4",
    })

    def test_a_queued_too_long_fails_over(self):
        acct, key, jid, tag = self.run_job(
            "[sim seedance.queue_ms=60000 render_ms=200]", model="seedance")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-kling", "kling-o3-pro", True)
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["status"], "cancelled", sd)  # DELETE sent
        self.assertGreaterEqual(sd[0]["polls"], 2, sd)
        self.assert_money(o, key, 2, 0)
        b = self.assert_hook(o, key, "completed", True)
        hs = hops(b["status_history"])
        self.assertEqual(len(hs), 1, b["status_history"])
        self.assertIn("failover from seedance to kling-o3-pro: capacity: "
                      "still queued at sim-seedance", hs[0]["reason"])
        self.assertIn("max_queue_ms 800", hs[0]["reason"])



class QueueBudgetNoBackup(FailoverAsserts, harness.ClusterTestCase):
    """The same budget with kling-o3-pro at its default price (5): a
    seedance job (2) has no affordable backup, so it waits out the queue
    instead of failing."""
    CLUSTER = dict(workers=1, deliverers=1, env={
        "REELAY_HEALTH_BREAKER_FAILURES": "100",
        "REELAY_PROVIDER_SIM_SEEDANCE_MAX_QUEUE_MS": "800",
    })

    def test_a_no_backup_keeps_waiting(self):
        acct, key, jid, tag = self.run_job(
            "[sim seedance.queue_ms=1500 render_ms=200]", model="seedance")
        o = self.c.outcome(acct, key, jid, tag)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assert_where(o, "sim-seedance", "seedance", False)
        sd = self.tasks_by(o, "seedance")
        self.assertEqual(len(sd), 1, o["tasks"])
        self.assertEqual(sd[0]["status"], "succeeded", sd)
        self.assertEqual(self.tasks_by(o, "kling"), [])
        self.assert_money(o, key, 2, 0)


class BreakerAndHealth(FailoverAsserts, harness.ClusterTestCase):
    """Kling and Seedance on two simulator processes, so that a forced
    behaviour of the Kling one leaves Seedance alone."""
    CLUSTER = dict(workers=1, deliverers=1, seedance_simulator=True, env={
        "REELAY_HEALTH_BREAKER_FAILURES": "2",
        "REELAY_HEALTH_INTERVAL_S": "1",
        "REELAY_ACCOUNTS_ADMIN_TOKEN": "adm",
    })

    def providers(self, token="adm"):
        h = {"Authorization": "Bearer " + token} if token else {}
        return harness.http_get(self.c.url("/v1/admin/providers"),
                                headers=h)

    def entry(self, name):
        r = self.providers()
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        return {e["provider"]: e for e in doc["data"]}.get(name)

    # 10
    def test_a_circuit_breaker_skips_kling(self):
        c = self.c
        r = harness.http_post_json(c.sim_url + "/_sim/behaviour",
                                   {"submit": 429, "count": 100})
        self.assertEqual(r.status, 200, r)
        try:
            k0 = c.sim_stats()["submits"]
            for n in (1, 2, 3):
                acct, key, jid, tag = self.run_job("[sim render_ms=100]")
                o = c.outcome(acct, key, jid, tag)
                self.assertEqual(o["job"]["status"], "completed", o)
                self.assert_where(o, "sim-seedance", "seedance", True)
                self.assert_money(o, key, 3, 1)
                b = self.assert_hook(o, key, "completed", True)
                hs = hops(b["status_history"])
                self.assertEqual(len(hs), 1, b["status_history"])
                # Kling was asked for the first two only.
                self.assertEqual(c.sim_stats()["submits"] - k0,
                                 min(n, 2), n)
                if n < 3:
                    self.assertIn("rate_limited at submit", hs[0]["reason"])
                else:
                    self.assertIn("circuit breaker open", hs[0]["reason"])
                self.assertEqual(len(self.tasks_by(o, "seedance")), 1)
                self.assertEqual(self.tasks_by(o, "kling"), [])
            self.assertEqual(c.sim_stats(base=c.sd_url)["submits"], 3)
            # The health record carries this worker's breaker state.
            wait_for(lambda: (self.entry("sim-kling") or {}).get("breaker")
                     == "open", 5, "sim-kling breaker open in health")
        finally:
            harness.http_post_json(c.sim_url + "/_sim/behaviour",
                                   {"submit": "ok"})

    # 11
    def test_b_provider_health_needs_admin_token(self):
        self.assertEqual(self.providers(token=None).status, 403)
        r = self.providers(token="wrong")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"]["code"], "admin_only", r)

        def both_up():
            return all((self.entry(n) or {}).get("up") is True
                       for n in ("sim-kling", "sim-seedance"))
        wait_for(both_up, 5, "sim-kling and sim-seedance up")
        e = self.entry("sim-seedance")
        self.assertEqual(e["type"], "seedance", e)
        self.assertEqual(self.entry("sim-kling")["type"], "kling")

    def test_c_provider_down_when_simulator_stops(self):
        c = self.c
        t0 = self.entry("sim-seedance")["checked_at"]
        c.sd_proc.stop()
        wait_for(lambda: (self.entry("sim-seedance") or {}).get("up")
                 is False, 6, "sim-seedance up == false")
        e = self.entry("sim-seedance")
        self.assertGreater(e["checked_at"], t0, e)
        self.assertTrue(e["error"], e)
        self.assertIs(self.entry("sim-kling")["up"], True)


if __name__ == "__main__":
    harness.main()
