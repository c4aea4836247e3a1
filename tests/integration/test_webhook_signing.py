"""Webhook signatures: the CreativeAI headers byte for byte for accounts
that keep the default, X-Reelay-Timestamp and X-Reelay-Sequence on every
delivery, every attempt signed afresh (new timestamp, same id), Standard
Webhooks signing alongside or instead of the CreativeAI scheme
(PUT /v1/account/webhooks), and both secrets signing during a rotation's
grace period only."""

import base64
import calendar
import hashlib
import hmac
import json
import os
import sys
import time
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

GRACE_S = 3
SEED_ORDER = ["id", "object", "status", "model", "prompt", "output_url",
              "credits", "failover_used", "completed_at"]
STD_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def auth(key):
    return {"Authorization": "Bearer " + key}


def std_sign(secret, msg_id, ts, body):
    """Standard Webhooks: v1,base64(HMAC-SHA256(base64-decoded secret,
    "id.timestamp.body"))."""
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%s." % (msg_id, ts)).encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def std_valid(headers, body, secret):
    want = std_sign(secret, headers["webhook-id"],
                    headers["webhook-timestamp"], body)
    return any(hmac.compare_digest(want, s)
               for s in headers["webhook-signature"].split(" "))


class Signing(harness.ClusterTestCase):
    CLUSTER = dict(retry_schedule="0,1.1",
                   env={"REELAY_WEBHOOK_ROTATION_GRACE_S": str(GRACE_S)})

    def settings(self, key, body, status=200):
        r = harness.http_request("PUT", self.c.url("/v1/account/webhooks"),
                                 body=json.dumps(body), headers=auth(key))
        self.assertEqual(r.status, status, r)
        return r.json()

    def account(self, signing=None):
        """A new account, with the signing scheme given; returns (key,
        secret or None)."""
        _, key = self.c.create_account(50)
        if signing is None:
            return key, None
        doc = self.settings(key, {"signing": signing})
        self.assertEqual((doc["object"], doc["signing"], doc["schedule"],
                          doc["has_secret"]),
                         ("account.webhooks", signing, "default", True), doc)
        self.assertTrue(doc["secret"].startswith("whsec_"), doc)
        self.c.receiver_control({"whsec": doc["secret"]})
        return key, doc["secret"]

    def deliver(self, key, tag, prompt_extra="", attempts=1):
        r = self.c.submit(key, video_body(
            prompt="signing %s [sim render_ms=50%s]" % (tag, prompt_extra),
            webhook_url=self.c.webhook_url(tag)))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        ds = wait_for(lambda: len(self.c.deliveries(jid)) >= attempts and
                      self.c.deliveries(jid)[-1]["answered"] == 200 and
                      self.c.deliveries(jid), 15,
                      "%d attempt(s) of %s, the last one 2xx" % (attempts,
                                                                 jid))
        return jid, ds

    def test_python_verifier_matches_published_vectors(self):
        # The verifier this file uses, against docs/webhooks.md's vectors.
        body = (b'{"id":"vgen_abc123","object":"video.generation",'
                b'"status":"completed","model":"kling-v3","prompt":"Product '
                b'reveal animation on white background","output_url":'
                b'"https://cdn.creativeai.run/output/video-abc123.mp4",'
                b'"credits":3,"failover_used":false,"completed_at":'
                b'"2026-03-10T14:23:01Z"}')
        self.assertTrue(harness.verify_signature(
            "sha256=439b334f97f944568661381a8a5865852c2483a96884e5cfd75aa5462"
            "b749f1a", body, "rk_test_4f9c2a7e1b8d"))
        self.assertEqual(std_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                  "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                  "1614265330", b'{"test": 2432232314}'),
                         "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

    def test_default_account_gets_the_seed_headers(self):
        key, _ = self.account()
        t0 = int(time.time())
        jid, ds = self.deliver(key, "seed")
        d = ds[0]
        h, body = d["headers"], d["body"].encode()
        self.assertEqual(d["path"], "/webhooks/seed")
        self.assertEqual(h["content-type"], "application/json")
        self.assertEqual(h["x-creativeai-event"], "video.generation.completed")
        self.assertEqual(h["x-creativeai-delivery-id"], jid)
        self.assertEqual(h["x-creativeai-signature"],
                         "sha256=" + harness.sign(key, body))
        self.assertTrue(d["verified"], d)
        for name in STD_HEADERS:
            self.assertNotIn(name, h)
        self.assertIsNone(d["standard_verified"])
        self.assertTrue(t0 - 1 <= int(h["x-reelay-timestamp"]) <=
                        time.time() + 1, h)
        self.assertEqual(h["x-reelay-attempt"], "1")
        job = self.c.get_job(key, jid).json()
        self.assertEqual(int(h["x-reelay-sequence"]),
                         len(job["status_history"]), job)
        doc = json.loads(body, object_pairs_hook=OrderedDict)
        self.assertEqual(list(doc)[:len(SEED_ORDER)], SEED_ORDER, doc)
        self.assertEqual((doc["id"], doc["status"]), (jid, "completed"))

    def test_failed_job_event(self):
        key, _ = self.account()
        jid, ds = self.deliver(key, "fails", " fail=content")
        h, body = ds[0]["headers"], ds[0]["body"].encode()
        self.assertEqual(h["x-creativeai-event"], "video.generation.failed")
        self.assertEqual(h["x-creativeai-signature"],
                         "sha256=" + harness.sign(key, body))
        self.assertEqual(json.loads(body)["status"], "failed")

    def test_sequence_grows_with_the_status_history(self):
        # A job that failed over has more statuses behind it than one
        # that did not; the sequence is the length of that history.
        key, _ = self.account()
        plain, ds = self.deliver(key, "seq-plain")
        moved, dm = self.deliver(key, "seq-failover",
                                 " kling.submit=429 kling.submit_times=1")
        seqs = []
        for jid, d in ((plain, ds[0]), (moved, dm[0])):
            job = self.c.get_job(key, jid).json()
            seqs.append(int(d["headers"]["x-reelay-sequence"]))
            self.assertEqual(seqs[-1], len(job["status_history"]), job)
            statuses = [e["status"] for e in job["status_history"]]
            self.assertEqual(statuses[-1], "completed", job)
        self.assertTrue(self.c.get_job(key, moved).json()["failover_used"])
        self.assertGreater(seqs[1], seqs[0], seqs)
        self.assertGreaterEqual(seqs[0], 2, seqs)

    def test_retry_is_signed_afresh(self):
        key, secret = self.account("both")
        self.c.receiver_control({"fail_next": 1, "status": 500})
        jid, ds = self.deliver(key, "afresh", attempts=2)
        self.assertEqual([d["answered"] for d in ds], [500, 200])
        (h1, b1), (h2, b2) = [(d["headers"], d["body"].encode()) for d in ds]
        self.assertEqual(b1, b2)
        self.assertEqual((h1["x-reelay-attempt"], h2["x-reelay-attempt"]),
                         ("1", "2"))
        self.assertEqual(h1["x-creativeai-delivery-id"],
                         h2["x-creativeai-delivery-id"])
        self.assertEqual(h1["webhook-id"], h2["webhook-id"])
        self.assertEqual(h1["webhook-id"], "msg_%s_completed" % jid)
        self.assertEqual(h1["x-reelay-sequence"], h2["x-reelay-sequence"])
        self.assertGreater(int(h2["x-reelay-timestamp"]),
                           int(h1["x-reelay-timestamp"]))
        for h in (h1, h2):
            self.assertEqual(h["webhook-timestamp"], h["x-reelay-timestamp"])
        self.assertNotEqual(h1["webhook-signature"], h2["webhook-signature"])
        for h, b in ((h1, b1), (h2, b2)):
            self.assertTrue(std_valid(h, b, secret), h)
            self.assertEqual(h["x-creativeai-signature"],
                             "sha256=" + harness.sign(key, b))

    def test_standard_webhooks_instead_of_the_seed_scheme(self):
        key, secret = self.account("standard")
        again = self.settings(key, {})
        self.assertNotIn("secret", again)  # shown once
        self.assertEqual((again["signing"], again["has_secret"]),
                         ("standard", True))
        jid, ds = self.deliver(key, "standard")
        d = ds[0]
        h, body = d["headers"], d["body"].encode()
        self.assertNotIn("x-creativeai-signature", h)
        self.assertFalse(d["verified"])
        self.assertEqual(h["x-creativeai-delivery-id"], jid)
        self.assertEqual(h["webhook-id"], "msg_%s_completed" % jid)
        self.assertTrue(abs(int(h["webhook-timestamp"]) - time.time()) < 5)
        sigs = h["webhook-signature"].split(" ")
        self.assertEqual(len(sigs), 1, sigs)
        self.assertTrue(std_valid(h, body, secret), h)
        self.assertTrue(d["standard_verified"], d)
        # Back to the default: the CreativeAI headers only.
        self.assertEqual(self.settings(key, {"signing": "creativeai"})[
            "signing"], "creativeai")
        jid, ds = self.deliver(key, "back")
        for name in STD_HEADERS:
            self.assertNotIn(name, ds[0]["headers"])
        self.assertTrue(ds[0]["verified"])

    def test_rotation_signs_with_both_secrets_for_the_grace(self):
        key, old = self.account("standard")
        doc = self.settings(key, {"rotate_secret": True})
        new = doc["secret"]
        self.assertNotEqual(new, old)
        self.assertTrue(doc["previous_secret_expires_at"], doc)
        self.c.receiver_control({"whsec": new})
        jid, ds = self.deliver(key, "rotating")
        h, body = ds[0]["headers"], ds[0]["body"].encode()
        sigs = h["webhook-signature"].split(" ")
        self.assertEqual(len(sigs), 2, sigs)
        self.assertTrue(std_valid(h, body, old))
        self.assertTrue(std_valid(h, body, new))
        # Once the grace period is over only the new secret signs.
        wait_for(lambda: time.time() > doc_expiry(doc) + 0.2, GRACE_S + 5,
                 "the end of the grace period")
        jid, ds = self.deliver(key, "rotated")
        h, body = ds[0]["headers"], ds[0]["body"].encode()
        self.assertEqual(len(h["webhook-signature"].split(" ")), 1, h)
        self.assertTrue(std_valid(h, body, new))
        self.assertFalse(std_valid(h, body, old))

    def test_settings_refusals(self):
        key, _ = self.account()
        for body, param in (({"signing": "md5"}, "signing"),
                            ({"schedule": "weekly"}, "schedule"),
                            ({"rotate_secret": "yes"}, "rotate_secret"),
                            ([], "signing")):
            r = harness.http_request("PUT", self.c.url(
                "/v1/account/webhooks"), body=json.dumps(body),
                headers=auth(key))
            self.assert_error(r, 400, param=param)
        r = harness.http_request("PUT", self.c.url("/v1/account/webhooks"),
                                 body="{}")
        self.assert_error(r, 401)
        doc = self.settings(key, {})
        self.assertEqual((doc["signing"], doc["has_secret"]),
                         ("creativeai", False), doc)
        self.assertNotIn("secret", doc)


def doc_expiry(doc):
    """previous_secret_expires_at (ISO 8601, seconds) as epoch seconds,
    rounded up: the grace ends within that second."""
    t = time.strptime(doc["previous_secret_expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    return calendar.timegm(t) + 1


if __name__ == "__main__":
    harness.main()
