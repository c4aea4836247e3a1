"""Webhook delivery endpoints: the attempt log of a job
(GET /v1/video/generations/{id}/deliveries), deliberate redelivery
(POST .../redeliver), the events whose delivery failed
(GET /v1/webhooks/failed?since=T) and their recovery over a time range
(POST /v1/webhooks/recover)."""

import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

RESPONSE_CAP = 1024  # bytes of a response body the attempt log keeps
PATTERN = "0123456789abcdef"  # the receiver's reply_bytes text


def auth(key):
    return {"Authorization": "Bearer " + key}


def iso_ms(text):
    """Epoch ms of an ISO 8601 UTC time such as 2026-03-10T14:23:01Z."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


class WebhookApi(harness.ClusterTestCase):
    CLUSTER = dict(retry_schedule="0,0.2,0.4", webhook_timeout_ms=1000)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(300)
        cls.other_acct, cls.other_key = cls.c.create_account(10)

    # helpers

    def submit(self, tag, url=None, render_ms=50, key=None):
        body = video_body(prompt="api %s [sim render_ms=%d]" % (tag,
                                                                render_ms))
        if url is not False:
            body["webhook_url"] = url or self.c.webhook_url(tag)
        r = self.c.submit(key or self.key, body)
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def final(self, jid, state, acct=None):
        acct = acct or self.acct
        ref = "%s|%s" % (acct, jid)
        c = self.c
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state") == state
                 and rkeys.outbox_score(c.redis, ref) is None, 15,
                 "wh_state of %s == %s" % (jid, state))

    def get(self, path, key=None):
        return harness.http_get(self.c.url(path), headers=auth(
            key or self.key))

    def post(self, path, obj=None, key=None, raw=None):
        """POSTs obj as JSON with key's (default: the class account's)
        Authorization."""
        return harness.http_post_json(self.c.url(path), obj,
                                      headers=auth(key or self.key), raw=raw)

    def deliveries(self, jid, key=None):
        r = self.get("/v1/video/generations/%s/deliveries" % jid, key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def failed(self, query="", key=None):
        r = self.get("/v1/webhooks/failed" + query, key)
        self.assertEqual(r.status, 200, r)
        return r.json()

    # the attempt log

    def test_deliveries_lists_every_attempt(self):
        c = self.c
        t0 = int(time.time() * 1000)
        c.receiver_control({"fail_next": 1, "status": 500,
                            "reply_bytes": 3000})
        try:
            jid = self.submit("log")
            self.final(jid, "delivered")
        finally:
            c.receiver_control({"reply_bytes": 0})
        closed = "http://127.0.0.1:%d/nobody" % harness.free_port()
        down = self.submit("log-down", url=closed)
        self.final(down, "failed")
        t1 = int(time.time() * 1000)

        doc = self.deliveries(jid)
        self.assertEqual(doc["object"], "list")
        self.assertEqual((doc["job_id"], doc["status"], doc["webhook_url"],
                          doc["webhook_state"], doc["attempts"]),
                         (jid, "completed", c.webhook_url("log"),
                          "delivered", 2), doc)
        a1, a2 = doc["data"]
        for n, a in ((1, a1), (2, a2)):
            self.assertEqual(a["object"], "webhook.attempt", a)
            self.assertEqual(a["attempt"], n, a)
            self.assertEqual(a["url"], c.webhook_url("log"), a)
            self.assertTrue(t0 - 1000 <= iso_ms(a["at"]) <= t1, a)
            self.assertIsInstance(a["latency_ms"], int, a)
            self.assertTrue(0 <= a["latency_ms"] < 1000, a)
            self.assertIsNone(a["error"], a)
            self.assertFalse(a["fail_open"], a)
            self.assertNotIn("deliberate", a)
        self.assertEqual((a1["status"], a1["outcome"]), (500, "retry"))
        self.assertEqual((a2["status"], a2["outcome"]), (200, "delivered"))
        # The response body is kept, cut to 1 KiB.
        want = (PATTERN * (RESPONSE_CAP // len(PATTERN) + 1))[:RESPONSE_CAP]
        self.assertEqual(a1["response"], want)
        self.assertEqual(a2["response"], want)

        doc = self.deliveries(down)
        self.assertEqual((doc["webhook_state"], doc["attempts"]),
                         ("failed", 3), doc)
        for a in doc["data"]:
            self.assertEqual((a["status"], a["response"]), (0, ""), a)
            self.assertIn("connect", a["error"].lower(), a)
        self.assertEqual([a["outcome"] for a in doc["data"]],
                         ["retry", "retry", "failed"])

    def test_deliveries_errors(self):
        jid = self.submit("log-errors")
        self.final(jid, "delivered")
        path = "/v1/video/generations/%s/deliveries" % jid
        r = harness.http_get(self.c.url(path))
        self.assert_error(r, 401)
        self.assert_error(self.get(path, self.other_key), 404, param="id")
        self.assert_error(self.get("/v1/video/generations/vgen_nosuchjob"
                                   "0000/deliveries"), 404, param="id")
        self.assert_error(self.get("/v1/video/generations/not-a-job/"
                                   "deliveries"), 404, param="id")
        # A job without a webhook_url has an empty log.
        quiet = self.submit("no-hook", url=False)
        self.c.wait_job(self.key, quiet)
        doc = self.deliveries(quiet)
        self.assertEqual((doc["webhook_url"], doc["webhook_state"],
                          doc["data"]), ("", "none", []), doc)

    # redelivery

    def test_redeliver_sends_the_last_event_again(self):
        c = self.c
        jid = self.submit("again")
        self.final(jid, "delivered")
        stat0 = rkeys.stat(c.redis, "webhooks_redelivered")
        first = c.deliveries(jid)
        self.assertEqual([d["answered"] for d in first], [200])
        for n in (2, 3):
            r = self.post("/v1/video/generations/%s/redeliver" % jid)
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.json(), {
                "object": "webhook.redelivery", "id": jid,
                "status": "completed",
                "event": "video.generation.completed", "queued": True})
            wait_for(lambda: len(c.deliveries(jid)) == n, 10,
                     "redelivery %d of %s" % (n - 1, jid))
            self.final(jid, "delivered")
        holds_for(lambda: len(c.deliveries(jid)) == 3, 0.5,
                  "no delivery beyond the two asked for")
        ds = c.deliveries(jid)
        self.assertEqual(len({d["body"] for d in ds}), 1, "same event")
        for d in ds:
            self.assertEqual(d["answered"], 200)
            self.assertTrue(d["verified"], d)
            self.assertEqual(d["headers"]["x-creativeai-delivery-id"], jid)
        self.assertEqual(c.redis.get(rkeys.dedup(self.acct, jid, "completed")),
                         "delivered")
        data = self.deliveries(jid)["data"]
        self.assertEqual([(e["object"], e.get("event"), e.get("attempt"),
                           e.get("deliberate")) for e in data], [
            ("webhook.attempt", None, 1, None),
            ("webhook.event", "redeliver", None, True),
            ("webhook.attempt", None, 1, True),
            ("webhook.event", "redeliver", None, True),
            ("webhook.attempt", None, 1, True)], data)
        self.assertEqual(data[1]["status"], "completed", data)
        self.assertEqual(rkeys.stat(c.redis, "webhooks_redelivered"),
                         stat0 + 2)

    def test_redeliver_refusals(self):
        running = self.submit("running", render_ms=5000)
        path = "/v1/video/generations/%s/redeliver" % running
        self.assert_error(self.post(path), 409, param="id",
                          code="job_not_terminal")
        quiet = self.submit("no-hook-again", url=False)
        self.c.wait_job(self.key, quiet)
        self.assert_error(self.post("/v1/video/generations/%s/redeliver"
                                    % quiet), 409, param="id",
                          code="no_webhook_url")
        self.assert_error(self.post("/v1/video/generations/%s/redeliver"
                                    % quiet, key=self.other_key), 404,
                          param="id")
        self.assert_error(self.post("/v1/video/generations/vgen_nosuch"
                                    "000000/redeliver"), 404, param="id")
        r = harness.http_post_json(self.c.url(path), None)
        self.assert_error(r, 401)
        self.assert_error(self.post("/v1/video/generations/%s" % quiet),
                          405)
        self.assertEqual(self.c.job_hash(self.acct, quiet).get("wh_state"),
                         "none")

    # failed events and their recovery

    def test_failed_since_and_recover(self):
        # An account of its own, so that only these two events fail.
        c = self.c
        acct, key = c.create_account(20)
        base = c.start_extra_receiver()
        t0 = time.time()
        c.receiver_control({"fail_next": 6, "status": 503}, base)
        early = self.submit("early", url=base + "/early", key=key)
        self.final(early, "failed", acct)
        mid = time.time()
        late = self.submit("late", url=base + "/late", key=key)
        self.final(late, "failed", acct)

        since0 = datetime.datetime.fromtimestamp(
            int(t0) - 1, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = self.failed("?since=" + since0, key)
        self.assertEqual([e["id"] for e in doc["data"]], [early, late], doc)
        for e in doc["data"]:
            self.assertEqual((e["object"], e["status"], e["event"],
                              e["attempts"]),
                             ("webhook.failed_event", "completed",
                              "video.generation.completed", 3), e)
            self.assertTrue(e["webhook_url"].startswith(base), e)
            self.assertTrue(int(t0) * 1000 - 1000 <= iso_ms(e["failed_at"])
                            <= time.time() * 1000, e)
        self.assertEqual(self.failed(key=key)["data"], doc["data"])
        doc = self.failed("?since=%.3f" % mid, key)
        self.assertEqual([e["id"] for e in doc["data"]], [late], doc)
        self.assertFalse(doc["has_more"])
        doc = self.failed("?since=%s&limit=1" % since0, key)
        self.assertEqual([e["id"] for e in doc["data"]], [early], doc)
        self.assertTrue(doc["has_more"], doc)
        for q, param in (("?since=yesterday", "since"),
                         ("?limit=0", "limit"), ("?limit=x", "limit"),
                         ("?limit=1001", "limit")):
            self.assert_error(self.get("/v1/webhooks/failed" + q, key), 400,
                              param=param)
        mine = [e["id"] for e in self.failed(key=self.other_key)["data"]]
        self.assertNotIn(early, mine)

        # Recover the late one only; the receiver answers 200 again.
        r = self.post("/v1/webhooks/recover", {"from": mid,
                                               "to": time.time() + 1}, key)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json(), {"object": "webhook.recovery",
                                    "recovered": 1, "has_more": False})
        self.final(late, "delivered", acct)
        ok = [d for d in c.deliveries(late, base) if d["answered"] == 200]
        self.assertEqual(len(ok), 1)
        self.assertEqual(c.job_hash(acct, early)["wh_state"], "failed")
        self.assertEqual([e["id"] for e in self.failed(
            "?since=" + since0, key)["data"]], [early])
        # Then everything since t0, with "to" defaulting to now.
        r = self.post("/v1/webhooks/recover", {"from": since0}, key)
        self.assertEqual(r.json()["recovered"], 1, r)
        self.final(early, "delivered", acct)
        self.assertEqual(self.failed("?since=" + since0, key)["data"], [])
        r = self.post("/v1/webhooks/recover", {"from": since0}, key)
        self.assertEqual(r.json()["recovered"], 0, r)
        holds_for(lambda: len(c.deliveries(late, base)) == 4 and
                  len(c.deliveries(early, base)) == 4, 0.5,
                  "3 failed attempts and 1 recovery each")
        data = self.deliveries(late, key)["data"]
        self.assertEqual((data[3]["event"], data[3]["reason"]),
                         ("redeliver", "recover"), data)
        self.assertTrue(data[4]["deliberate"], data)

    def test_task_api_callbacks_have_a_log_and_redelivery(self):
        # A task-API job (taskId "task_...") is listed by
        # /v1/webhooks/failed when its callback fails; its log and its
        # redelivery answer to that same id.
        c = self.c
        acct, key = c.create_account(20)
        base = c.start_extra_receiver()
        c.receiver_control({"fail_next": 3, "status": 500}, base)
        r = harness.http_post_json(c.url("/api/v1/jobs/createTask"), {
            "model": "seedance", "callBackUrl": base + "/kinovi",
            "inputs": {"prompt": "api task [sim render_ms=50]"}},
            headers=auth(key))
        self.assertEqual(r.status, 200, r)
        tid = r.json()["taskId"]
        self.assertTrue(tid.startswith("task_"), tid)
        self.final(tid, "failed", acct)
        self.assertEqual([e["id"] for e in self.failed(key=key)["data"]],
                         [tid])
        doc = self.deliveries(tid, key)
        self.assertEqual((doc["job_id"], doc["webhook_state"],
                          [a["status"] for a in doc["data"]]),
                         (tid, "failed", [500, 500, 500]), doc)
        r = self.post("/v1/video/generations/%s/redeliver" % tid, key=key)
        self.assertEqual(r.status, 202, r)
        self.final(tid, "delivered", acct)
        ds = c.deliveries(base=base)
        self.assertEqual([d["answered"] for d in ds], [500, 500, 500, 200])
        self.assertEqual(json.loads(ds[-1]["body"])["data"]["taskId"], tid)
        self.assertEqual(self.failed(key=key)["data"], [])
        self.assert_error(self.get("/v1/video/generations/%s/deliveries"
                                   % tid), 404, param="id")

    def test_recover_refusals(self):
        for body, param in (({}, "from"), ({"from": "soon"}, "from"),
                            ({"from": 100, "to": 50}, "to"),
                            ([1, 2], "from")):
            self.assert_error(self.post("/v1/webhooks/recover", body), 400,
                              param=param)
        self.assert_error(self.post("/v1/webhooks/recover", raw="{"), 400)
        r = harness.http_post_json(self.c.url("/v1/webhooks/recover"),
                                   {"from": 0})
        self.assert_error(r, 401)

    def test_times_out_of_range_and_malformed_bodies(self):
        # A time past epoch second 1e12 is refused naming its field, as
        # a number or as text; a body that is not JSON is malformed_json
        # (param null), not a field's fault.
        for body, param in (({"from": 1e300}, "from"),
                            ({"from": 1e12}, "from"),
                            ({"from": 0, "to": 1e300}, "to"),
                            ({"from": "1e300"}, "from")):
            self.assert_error(self.post("/v1/webhooks/recover", body), 400,
                              param=param, code="invalid_field")
        self.assert_error(self.get("/v1/webhooks/failed?since=1e300"), 400,
                          param="since")
        self.assert_error(self.post("/v1/webhooks/recover", raw="{"), 400,
                          param=None, code="malformed_json")
        r = harness.http_request("PUT", self.c.url("/v1/account/webhooks"),
                                 body="{nope", headers=auth(self.key))
        self.assert_error(r, 400, param=None, code="malformed_json")

    def test_job_routes(self):
        # The router answers every unknown path and method alike.
        jid = self.submit("routes", url=False)
        base = "/v1/video/generations/" + jid
        err = self.assert_error(self.post(base + "/other"), 404,
                                code="route_not_found")
        self.assertEqual(err["type"], "not_found", err)
        self.assert_error(self.get(base + "/redeliver"), 405,
                          code="method_not_allowed")
        self.assert_error(self.post(base), 405, code="method_not_allowed")
        self.assert_error(self.get(base + "/deliveries/x"), 404,
                          code="route_not_found")


if __name__ == "__main__":
    harness.main()
