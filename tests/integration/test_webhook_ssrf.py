"""The webhook SSRF guard: URLs whose host is (or resolves to) a
loopback, private, link-local (cloud metadata), multicast, unspecified or
CGNAT address are refused at connect time, without any traffic, in every
spelling of the address; [webhook] allow opens named ranges (this cluster's config opens
127.0.0.1/32 for the receiver, nothing else); redirects are not
followed; URLs with credentials or longer than 2 KiB are refused at
submit with 400.

"Without traffic" is proven on a second receiver listening on
127.0.0.2, a loopback address outside the allowlist: it would record
any request, and records none.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

MAX_URL = 2048


def auth(key):
    return {"Authorization": "Bearer " + key}


class GuardBase(harness.ClusterTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(300)

    def submit(self, url, tag):
        r = self.c.submit(self.key, video_body(
            prompt="ssrf %s [sim render_ms=50]" % tag, webhook_url=url))
        self.assertEqual(r.status, 202, (url, r))
        return r.json()["id"]

    def final(self, jid, timeout=15):
        ref = "%s|%s" % (self.acct, jid)
        c = self.c
        wait_for(lambda: c.job_hash(self.acct, jid).get("wh_state") in
                 ("delivered", "failed") and
                 c.redis.zscore("rl:outbox", ref) is None, timeout,
                 "the delivery of %s to end" % jid)
        return c.job_hash(self.acct, jid)

    def log(self, jid):
        return [json.loads(x) for x in self.c.redis.lrange(
            "rl:dlv:{%s}:%s" % (self.acct, jid))]

    def deliverer_log(self):
        with open(self.c.deliverers[0].log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


class Guard(GuardBase):
    CLUSTER = dict(retry_schedule="0,0.2,0.4")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.near = cls.c.start_extra_receiver("127.0.0.2", "receiver-near")
        cls.near_port = int(cls.near.rsplit(":", 1)[1])

    def assert_no_traffic_to_near(self):
        self.assertEqual(self.c.deliveries(base=self.near), [])

    def test_refused_addresses(self):
        # (url, the address the refusal names, its class)
        p = self.near_port
        cases = [
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254",
             "link-local"),
            ("http://10.0.0.1/hook", "10.0.0.1", "private"),
            ("http://127.0.0.2:%d/hook" % p, "127.0.0.2", "loopback"),
            ("http://[::1]:%d/hook" % p, "::1", "loopback"),
            ("http://[::ffff:127.0.0.2]:%d/hook" % p, "::ffff:127.0.0.2",
             "loopback"),
            ("http://[::ffff:169.254.169.254]/", "::ffff:169.254.169.254",
             "link-local"),
            ("http://2852039166/latest", "169.254.169.254", "link-local"),
            ("http://0xa9fea9fe/latest", "169.254.169.254", "link-local"),
            ("http://10.1/hook", "10.0.0.1", "private"),
            ("http://192.168.1.1/hook", "192.168.1.1", "private"),
            ("http://172.16.5.4/hook", "172.16.5.4", "private"),
            ("http://[fd00::1]/hook", "fd00::1", "private"),
            ("http://[fe80::1]/hook", "fe80::1", "link-local"),
            ("http://100.64.0.1/hook", "100.64.0.1", "cgnat"),
            ("http://224.0.0.1/hook", "224.0.0.1", "multicast"),
            ("http://0.0.0.0:%d/hook" % p, "0.0.0.0", "unspecified"),
        ]
        jobs = [self.submit(url, "refused-%d" % i)
                for i, (url, _, _) in enumerate(cases)]
        for (url, addr, cls), jid in zip(cases, jobs):
            h = self.final(jid)
            self.assertEqual((h["wh_state"], h["wh_attempts"]),
                             ("failed", "1"), (url, h))
            (e,) = self.log(jid)
            self.assertEqual((e["status"], e["outcome"], e["url"]),
                             (0, "failed", url), e)
            self.assertEqual(e["error"], "address not allowed: %s (%s)"
                             % (addr, cls), e)
            # No DNS, no connect: refused before a socket is opened.
            self.assertLessEqual(e["latency_ms"], 50, e)
            job = self.c.get_job(self.key, jid).json()
            self.assertEqual(job["status"], "completed", job)
            self.assertEqual(job["webhook"]["state"], "failed", job)
        # The connect-time guard refused each address curl was about to
        # connect to (logged), and the near receiver saw nothing.
        log = self.deliverer_log()
        for _, addr, cls in cases:
            self.assertIn("webhook connect to %s refused: %s address not "
                          "allowed" % (addr, cls), log)
        self.assert_no_traffic_to_near()
        failed = harness.http_get(self.c.url("/v1/webhooks/failed"),
                                  headers=auth(self.key)).json()["data"]
        self.assertTrue(set(jobs) <= {e["id"] for e in failed}, failed)
        # The near receiver does answer whoever may reach it.
        r = harness.http_post_json(self.near + "/probe", {"probe": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(self.c.deliveries(base=self.near)), 1)
        self.c.receiver_control({"reset": True}, self.near)

    def test_allowed_address_is_delivered(self):
        jid = self.submit(self.c.webhook_url("allowed"), "allowed")
        self.assertEqual(self.final(jid)["wh_state"], "delivered")
        self.assertEqual([d["answered"] for d in self.c.deliveries(jid)],
                         [200])

    def test_redirect_to_a_refused_address_not_followed(self):
        self.c.receiver_control({"fail_next": 1, "status": 307, "headers": {
            "Location": self.near + "/metadata"}})
        jid = self.submit(self.c.webhook_url("redirect"), "redirect")
        h = self.final(jid)
        self.assertEqual((h["wh_state"], h["wh_attempts"]), ("failed", "1"))
        self.assertEqual([(e["status"], e["outcome"]) for e in self.log(jid)],
                         [(307, "failed")])
        holds_for(lambda: self.c.deliveries(base=self.near) == [], 0.5,
                  "nothing sent to the redirect's target")

    def test_submit_refuses_credentials_and_long_urls(self):
        base = self.c.webhook_url("x")
        before = self.c.account(self.key)["credits"]
        long_url = base + "?" + "a" * (MAX_URL - len(base) - 1)
        self.assertEqual(len(long_url), MAX_URL)
        for url in ("http://user:secret@127.0.0.1/hook",
                    "http://user@127.0.0.1/hook",
                    "https://:secret@example.com/hook",
                    long_url + "a",
                    "ftp://127.0.0.1/hook", "/relative/hook"):
            r = self.c.submit(self.key, video_body(
                prompt="ssrf bad url [sim render_ms=50]", webhook_url=url))
            self.assert_error(r, 400, param="webhook_url",
                              code="invalid_webhook_url")
        # The task API's callBackUrl goes through the same check.
        r = harness.http_post_json(self.c.url("/api/v1/jobs/createTask"), {
            "model": "seedance", "callBackUrl":
                "http://user:secret@127.0.0.1/hook",
            "inputs": {"prompt": "a beautiful landscape"}},
            headers=auth(self.key))
        self.assertEqual(r.status, 400, r)
        self.assertIn("callBackUrl", r.body.decode(), r)
        self.assertEqual(self.c.account(self.key)["credits"], before)
        # Exactly 2 KiB is accepted (and delivered: it is allowed).
        jid = self.submit(long_url, "long-url")
        self.assertEqual(self.final(jid)["wh_state"], "delivered")


class Allowlist(GuardBase):
    """[webhook] allow opens exactly what it names."""
    CLUSTER = dict(env={"REELAY_WEBHOOK_ALLOW":
                        "127.0.0.1/32, 127.0.0.2/32"})

    def test_allowlisted_range_is_delivered(self):
        near = self.c.start_extra_receiver("127.0.0.2", "receiver-near")
        jid = self.submit(near + "/hook", "near")
        self.assertEqual(self.final(jid)["wh_state"], "delivered")
        self.assertEqual([d["answered"] for d in
                          self.c.deliveries(jid, near)], [200])
        # 127.0.0.3 is not named: still refused.
        jid = self.submit("http://127.0.0.3:%s/hook" % near.rsplit(":", 1)[1],
                          "not-named")
        self.assertEqual(self.final(jid)["wh_state"], "failed")
        self.assertIn("127.0.0.3 (loopback)", self.log(jid)[0]["error"])


class NoAllowlist(GuardBase):
    """Without an allowlist (the compiled-in default) even the local
    receiver is refused."""
    CLUSTER = dict(env={"REELAY_WEBHOOK_ALLOW": ""})

    def test_loopback_refused_without_allowlist(self):
        jid = self.submit(self.c.webhook_url("local"), "local")
        h = self.final(jid)
        self.assertEqual((h["wh_state"], h["wh_attempts"]), ("failed", "1"))
        self.assertEqual(self.log(jid)[0]["error"],
                         "address not allowed: 127.0.0.1 (loopback)")
        self.assertEqual(self.c.deliveries(), [])

    def test_host_name_refused_at_connect(self):
        # A name is resolved by curl; the guard judges the addresses it
        # resolved to (what DNS rebinding would change), so it is refused
        # without traffic, and the error names them (localhost may be
        # 127.0.0.1 and ::1).
        port = self.c.webhook_url("x").rsplit(":", 1)[1].split("/")[0]
        jid = self.submit("http://localhost:%s/hook" % port, "name")
        h = self.final(jid)
        self.assertEqual((h["wh_state"], h["wh_attempts"]), ("failed", "1"))
        (e,) = self.log(jid)
        named = e["error"][len("address not allowed: "):].split(", ")
        self.assertTrue(e["error"].startswith("address not allowed: "), e)
        self.assertTrue(set(named) <= {"127.0.0.1 (loopback)",
                                       "::1 (loopback)"} and named, e)
        self.assertEqual(self.c.deliveries(), [])


if __name__ == "__main__":
    harness.main()
