"""Bad input gets a clear JSON error naming the field and changes
nothing in Redis (invariant 6). Only Redis and one broker run, so every
key can be compared before and after (rl:lock:* are the broker's own
reaper locks, one per partition, refreshed on a timer, so they are left
out)."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import video_body  # noqa: E402

VOLATILE = ("rl:lock:*",)


class BadInput(harness.ClusterTestCase):
    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.c
        cls.acct, cls.key = c.create_account(50)
        cls.poor_acct, cls.poor_key = c.create_account(2)
        # One accepted job (no worker runs, so it stays queued) for the
        # cross-account GET.
        r = c.submit(cls.key, video_body())
        assert r.status == 202, r
        cls.jid = r.json()["id"]

    def setUp(self):
        self.before = self.c.redis.snapshot(exclude=VOLATILE)

    def tearDown(self):
        after = self.c.redis.snapshot(exclude=VOLATILE)
        self.assertEqual(self.before, after, "Redis changed:\n" +
                         harness.snapshot_diff(self.before, after))
        # Bad input never crashes a process.
        self.c.check_alive()
        self.assertEqual(harness.http_get(self.c.url("/healthz")).status,
                         200)

    def post(self, body=None, key="", raw=None, headers=None):
        return self.c.submit(self.key if key == "" else key, body, raw=raw,
                             headers=headers)

    def test_auth(self):
        self.assert_error(self.post(video_body(), key="rk_" + "z" * 40),
                          401, code="invalid_api_key")
        self.assert_error(self.post(video_body(), key=None), 401)
        self.assert_error(self.post(video_body(), key=None,
                                    headers={"Authorization": "Basic eDp5"}),
                          401)
        self.assert_error(self.post(video_body(), key="not-a-key"), 401)

    def test_malformed_json(self):
        for raw in ('{"model":', "not json", "", "[1,2]", '{"a":1}}'):
            self.assert_error(self.post(raw=raw), 400, param=None,
                              code="malformed_json")

    def test_fields(self):
        cases = [
            (video_body(model="no-such-model"), "model"),
            ({"model": "kling-v3", "duration": "5s",
              "aspect_ratio": "16:9"}, "prompt"),
            (video_body(prompt=""), "prompt"),
            (video_body(prompt="x" * 2501), "prompt"),
            (video_body(duration="7s"), "duration"),
            (video_body(duration=7), "duration"),
            (video_body(duration="five"), "duration"),
            (video_body(aspect_ratio="4:3"), "aspect_ratio"),
            (video_body(aspect_ratio="wide"), "aspect_ratio"),
            (video_body(webhook_url="ftp://x"), "webhook_url"),
            (video_body(webhook_url="http://user:pw@host/"), "webhook_url"),
            (video_body(webhook_url="not a url"), "webhook_url"),
        ]
        for body, param in cases:
            with self.subTest(body=json.dumps(body)[:120]):
                self.assert_error(self.post(body), 400, param=param)

    def test_unknown_field(self):
        err = self.assert_error(self.post(video_body(colour="red")), 400)
        self.assertEqual(err["param"], "colour", err)

    def test_body_too_large(self):
        raw = json.dumps(video_body(prompt="a" * 70000))
        self.assertGreater(len(raw), 65536)
        self.assert_error(self.post(raw=raw), 413)

    def test_insufficient_credits(self):
        c = self.c
        # kling-v3 5s costs 3; the account has 2.
        self.assert_error(c.submit(self.poor_key, video_body()), 402)
        self.assertEqual(c.redis.hget(rkeys.acct(self.poor_acct),
                                      "credits"), "2")
        self.assertEqual(c.redis.keys(rkeys.job(self.poor_acct, "*")), [])
        self.assertEqual(c.redis.call("ZCARD",
                                      rkeys.acct_jobs(self.poor_acct)), 0)

    def test_get_foreign_and_malformed_ids(self):
        c = self.c
        self.assertEqual(c.get_job(self.key, self.jid).status, 200)
        self.assert_error(c.get_job(self.poor_key, self.jid), 404)
        for bad in ("vgen_bad!", "xx", "vgen_" + "A" * 200, "%00",
                    self.jid + "x"):
            with self.subTest(id=bad):
                self.assert_error(c.get_job(self.key, bad), 404)

    def test_ingress_bad_input(self):
        c = self.c
        for body, status, param in (
                ('{"model":', 400, None),
                (json.dumps(video_body(model="nope")), 400, "model"),
                (json.dumps(video_body(duration="7s")), 400, "duration")):
            with self.subTest(body=body[:60]):
                rc, st, doc, out = c.cli_submit(self.key, body)
                self.assertNotEqual(rc, 0, out)
                self.assertEqual(st, status, out)
                err = doc["error"]
                self.assertTrue({"type", "code", "message", "param"}
                                <= set(err), err)
                self.assertEqual(err["param"], param, err)
        rc, st, doc, out = c.cli_submit(self.poor_key, video_body())
        self.assertEqual(st, 402, out)


if __name__ == "__main__":
    harness.main()
