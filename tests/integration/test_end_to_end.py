"""End to end: submit over HTTP and over the ZeroMQ ingress, render on the
provider simulator, deliver the signed webhook exactly once, poll."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

SEED_ORDER = ["id", "object", "status", "model", "prompt", "output_url",
              "credits", "failover_used", "completed_at"]
PHASES = {"Queued", "Preparing", "Rendering", "Encoding", "Finishing"}


class EndToEnd(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, retry_schedule="0,0.3,0.6")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def ref(self, job_id):
        return "%s|%s" % (self.acct, job_id)

    def test_a_webhook_delivered_exactly_once(self):
        c = self.c
        acct, key = c.create_account(50)
        prompt = "Product reveal animation on white background"
        r = c.submit(key, video_body(prompt=prompt,
                                          webhook_url=c.webhook_url("e2e")))
        self.assertEqual(r.status, 202, r)
        job = r.json()
        jid = job["id"]
        self.assertTrue(jid.startswith("vgen_"), job)
        self.assertEqual(job["object"], "video.generation")
        self.assertEqual(job["status"], "pending")
        # Invariant 1: in Redis before the answer went out.
        self.assertTrue(c.redis.exists(rkeys.job(acct, jid)))

        wait_for(lambda: len(c.deliveries(jid)) >= 1, 20,
                 "the first webhook delivery of %s" % jid)
        # Done as far as the system is concerned: delivered and no longer
        # in the outbox; after that, and past the whole retry window,
        # there must still be exactly one delivery.
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state")
                 == "delivered", 10, "wh_state == delivered")
        ref = "%s|%s" % (acct, jid)
        wait_for(lambda: rkeys.outbox_score(c.redis, ref) is None,
                 10, "outbox entry of %s gone" % jid)
        holds_for(lambda: len(c.deliveries(jid)) == 1, 1.2,
                  "exactly one delivery of %s" % jid)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, jid, "completed")),
                         "delivered")

        d = c.deliveries(jid)[0]
        self.assertEqual(d["answered"], 200)
        self.assertEqual(d["path"], "/webhooks/e2e")
        h = d["headers"]
        self.assertEqual(h.get("x-creativeai-event"),
                         "video.generation.completed")
        self.assertEqual(h.get("x-creativeai-delivery-id"), jid)
        self.assertTrue(h.get("content-type", "").startswith(
            "application/json"), h)
        raw = d["body"]
        self.assertIsInstance(raw, str)
        # Signature computed independently with the account's API key.
        self.assertTrue(harness.verify_signature(
            h.get("x-creativeai-signature"), raw.encode("utf-8"), key),
            "signature %r does not verify" % h.get("x-creativeai-signature"))
        self.assertFalse(harness.verify_signature(
            h.get("x-creativeai-signature"), raw.encode("utf-8"),
            key + "x"))

        pairs = json.loads(raw, object_pairs_hook=lambda p: p)
        names = [k for k, _ in pairs]
        self.assertEqual(names[:len(SEED_ORDER)], SEED_ORDER,
                         "webhook body key order: %r" % names)
        self.assertEqual(len(names), len(set(names)), names)
        body = json.loads(raw)
        self.assertEqual(body["id"], jid)
        self.assertEqual(body["object"], "video.generation")
        self.assertEqual(body["status"], "completed")
        self.assertEqual(body["model"], "kling-v3")
        self.assertEqual(body["prompt"], prompt)
        self.assertIsInstance(body["output_url"], str)
        self.assertTrue(body["output_url"].startswith("http"), body)
        self.assertEqual(body["credits"], 3)
        self.assertIs(body["failover_used"], False)
        self.assertRegex(body["completed_at"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        g = c.get_job(key, jid)
        self.assertEqual(g.status, 200, g)
        gj = g.json()
        self.assertEqual(gj["status"], "completed")
        self.assertEqual(gj["output_url"], body["output_url"])
        self.assertEqual(gj["completed_at"], body["completed_at"])
        self.assertEqual(gj["credits"], 3)
        # Charged once (a fresh account): 50 - 3.
        self.assertEqual(c.redis.hget(rkeys.acct(acct), "credits"),
                         "47")

    def test_b_polling_without_webhook(self):
        c = self.c
        r = c.submit(self.key, video_body(
            prompt="Polled job [sim render_ms=1500 steps=3]"))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        self.assertIsNone(r.json().get("webhook_url"))
        seen = set()
        phases = set()

        def completed():
            g = c.get_job(self.key, jid)
            self.assertEqual(g.status, 200, g)
            j = g.json()
            seen.add(j["status"])
            if j["status"] == "processing":
                phases.add(j.get("phase"))
            self.assertIn("phase", j)
            self.assertIn("status_history", j)
            self.assertIsInstance(j["status_history"], list)
            return j if j["status"] in ("completed", "failed") else None

        j = wait_for(completed, 20, "polled job %s to finish" % jid,
                     interval=0.05)
        self.assertEqual(j["status"], "completed", j)
        self.assertTrue(j["output_url"], j)
        self.assertIn("processing", seen)
        self.assertTrue(phases and phases <= PHASES, phases)
        hist = [e["status"] for e in j["status_history"]]
        self.assertEqual(hist[0], "pending", hist)
        self.assertIn("processing", hist)
        self.assertEqual(hist[-1], "completed", hist)
        for e in j["status_history"]:
            self.assertIn("at", e)
        # Nothing to deliver: no webhook, nothing in the outbox.
        self.assertEqual(c.job_hash(self.acct, jid).get("wh_state"), "none")
        self.assertIsNone(rkeys.outbox_score(c.redis, self.ref(jid)))
        self.assertEqual(c.deliveries(jid), [])

    def test_c_zmq_ingress(self):
        c = self.c
        rc, status, doc, out = c.cli_submit(
            self.key, video_body(prompt="Over ZeroMQ [sim render_ms=300]"))
        self.assertEqual(rc, 0, out)
        self.assertEqual(status, 202, out)
        jid = doc["id"]
        self.assertTrue(jid.startswith("vgen_"), doc)
        self.assertEqual(doc["status"], "pending", doc)
        j = c.wait_job(self.key, jid)
        self.assertEqual(j["status"], "completed", j)
        self.assertTrue(j["output_url"], j)

        rc, status, doc, out = c.cli_submit(
            "rk_" + "x" * 40, video_body(prompt="bad key"))
        self.assertNotEqual(rc, 0, out)
        self.assertEqual(status, 401, out)
        self.assertIsInstance(doc, dict, out)
        err = doc.get("error")
        self.assertIsInstance(err, dict, out)
        self.assertTrue({"type", "code", "message", "param"} <= set(err), err)

    def test_d_failover_webhook(self):
        """A 429 at submit fails over to the cheaper seedance: charged 3,
        refunded 1, failover_used true in the signed webhook."""
        c = self.c
        acct, key = c.create_account(50)
        r = c.submit(key, video_body(
            prompt="failover [sim kling.submit=429 render_ms=200]",
            webhook_url=c.webhook_url("failover")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state")
                 == "delivered", 20, "wh_state of %s == delivered" % jid)
        ds = c.deliveries(jid)
        self.assertEqual(len(ds), 1, ds)
        body = json.loads(ds[0]["body"])
        self.assertEqual(body["status"], "completed", body)
        self.assertIs(body["failover_used"], True, body)
        self.assertEqual(body["model"], "kling-v3", body)
        self.assertEqual(body["credits"], 2, body)
        self.assertTrue(harness.verify_signature(
            ds[0]["headers"].get("x-creativeai-signature"),
            ds[0]["body"].encode(), key))
        a = c.redis.hgetall(rkeys.acct(acct))
        self.assertEqual((a["credits"], a["debited"], a["refunded"]),
                         ("48", "3", "1"), a)

    def test_e_failed_job_webhook(self):
        """A content rejection fails the job (no failover), refunds it in
        full and delivers video.generation.failed."""
        c = self.c
        acct, key = c.create_account(50)
        r = c.submit(key, video_body(
            prompt="rejected [sim fail=content render_ms=200]",
            webhook_url=c.webhook_url("failed")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        j = c.wait_job(key, jid)
        self.assertEqual(j["status"], "failed", j)
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state")
                 == "delivered", 20, "wh_state of %s == delivered" % jid)
        ds = c.deliveries(jid)
        self.assertEqual(len(ds), 1, ds)
        h = ds[0]["headers"]
        self.assertEqual(h.get("x-creativeai-event"),
                         "video.generation.failed")
        self.assertEqual(h.get("x-creativeai-delivery-id"), jid)
        self.assertTrue(harness.verify_signature(
            h.get("x-creativeai-signature"), ds[0]["body"].encode(), key))
        body = json.loads(ds[0]["body"])
        self.assertEqual(body["id"], jid)
        self.assertEqual(body["status"], "failed", body)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, jid, "failed")),
                         "delivered")
        a = c.redis.hgetall(rkeys.acct(acct))
        self.assertEqual(a["credits"], "50", a)
        self.assertTrue(c.job_hash(acct, jid).get("refunded_at"))


if __name__ == "__main__":
    harness.main()
