"""The second front door: the Kinovi-style task API (docs/task-api.md)
(POST /api/v1/jobs/createTask, GET /api/v1/jobs/recordInfo) driven by a
client written against the documented shape only (task_client.py), with
callbacks received by that API's documented webhook handler run on
Node (kinovi_handler.js). Same engine underneath: real Redis, broker,
worker, deliverer and provider simulator on loopback (harness.py).

Observed and documented here (f): a task is not visible through the /v1
door: GET /v1/video/generations/{taskId} answers 404 job_not_found for the
owner's key (the /v1 route only takes vgen_ ids), and recordInfo answers
400 "Invalid taskId" for a vgen_ id. The two doors share the engine, the
account and the ledger, not the id space.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for  # noqa: E402
from task_client import TaskClient, TaskApiError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
HANDLER_JS = os.path.join(HERE, "kinovi_handler.js")
NODE = shutil.which("node")
NEED_NODE = ("node (Node.js >= 18) is not on PATH: the task API's webhook "
             "handler example (tests/integration/kinovi_handler.js) cannot "
             "run; install the 'nodejs' package (scripts/deps.sh does)")

ENVELOPE_ORDER = ["code", "message", "data"]
DATA_ORDER = ["taskId", "orderId", "model", "state", "creditsUsed", "output",
              "error", "createTime", "completeTime", "updateTime"]
RECORD_KEYS = {"taskId", "model", "status", "creditsUsed", "output", "error",
               "createTime", "completeTime"}
MSG_2038 = ("Your input text violates platform rules. Please modify and "
            "try again.")


def ordered_keys(raw):
    """Top-level and data key order of a raw JSON callback body."""
    top = json.loads(raw, object_pairs_hook=lambda p: p)
    names = [k for k, _ in top]
    data = dict(top).get("data")
    return names, ([k for k, _ in data] if isinstance(data, list) else None)


def now_ms():
    return int(time.time() * 1000)


class TaskApi(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, retry_schedule="0,0.3,0.6",
                   receiver=False)

    @classmethod
    def setUpClass(cls):
        # scripts/deps.sh installs node, so its absence is a broken
        # machine: fail every test of the class loudly rather than skip
        # them (ctest counts a skip as a pass).
        if NODE is None:
            raise AssertionError(NEED_NODE)
        super().setUpClass()
        c = cls.c
        cls.base = c.url("/api/v1")
        try:
            p = c._spawn("kinovi-handler", [NODE, HANDLER_JS],
                         stdout=subprocess.PIPE)
            port = c._read_listening(p)
        except BaseException:
            c.dump_logs()
            c.stop()
            raise
        cls.hook = "http://127.0.0.1:%d" % port

    # -- helpers --

    def account(self, credits=50):
        acct, key = self.c.create_account(credits)
        self.control({"key": key})
        return acct, key, TaskClient(self.base, key)

    def control(self, cmd):
        r = harness.http_post_json(self.hook + "/_control", cmd)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def hstate(self):
        r = harness.http_get(self.hook + "/_state")
        self.assertEqual(r.status, 200, r)
        return r.json()

    def hlog(self, task_id=None):
        r = harness.http_get(self.hook + "/_log")
        self.assertEqual(r.status, 200, r)
        out = r.json()
        if task_id is not None:
            out = [e for e in out if e["headers"].get(
                "x-creativeai-delivery-id") == task_id]
        return out

    def callback_url(self, tag="kinovi"):
        return "%s/api/webhook/%s" % (self.hook, tag)

    def balance(self, key):
        r = harness.http_get(self.c.url("/v1/account"),
                             headers={"Authorization": "Bearer " + key})
        self.assertEqual(r.status, 200, r)
        return r.json()["credits"]

    def ledger(self, key):
        r = harness.http_get(self.c.url("/v1/account/ledger"),
                             headers={"Authorization": "Bearer " + key})
        self.assertEqual(r.status, 200, r)
        return r.json()["data"]

    def wait_delivered(self, acct, tid):
        c = self.c
        wait_for(lambda: c.job_hash(acct, tid).get("wh_state")
                 == "delivered", 20, "wh_state of %s == delivered" % tid)
        wait_for(lambda: rkeys.outbox_score(c.redis, "%s|%s" % (acct, tid))
                 is None, 10, "outbox entry of %s gone" % tid)

    def the_callback(self, acct, key, tid, n=1):
        """Waits for the system to be done delivering tid, checks that the
        handler saw exactly n requests for it (the last one answered 200),
        verifies the signature of each, and returns the last one."""
        self.wait_delivered(acct, tid)
        holds_for(lambda: len(self.hlog(tid)) == n, 1.0,
                  "exactly %d callback request(s) for %s" % (n, tid))
        log = self.hlog(tid)
        for e in log:
            self.assertEqual(e["path"], "/api/webhook/kinovi", e)
            self.assertTrue(e["signature_ok"], e)
            self.assertTrue(harness.verify_signature(
                e["headers"].get("x-creativeai-signature"),
                e["body"].encode("utf-8"), key), e)
            self.assertFalse(harness.verify_signature(
                e["headers"].get("x-creativeai-signature"),
                e["body"].encode("utf-8"), key + "x"))
            self.assertTrue(e["headers"].get("content-type", "")
                            .startswith("application/json"), e)
        self.assertEqual(log[-1]["answered"], 200, log)
        return log[-1]

    def assert_envelope(self, raw):
        top, data = ordered_keys(raw)
        self.assertEqual(top, ENVELOPE_ORDER, "envelope keys: %r" % top)
        self.assertEqual(data, DATA_ORDER, "data keys: %r" % data)
        body = json.loads(raw)
        self.assertIs(type(body["code"]), int, body)
        self.assertEqual(body["code"], 200, body)
        self.assertEqual(body["message"], "success", body)
        return body

    def assert_record_shape(self, rec):
        self.assertTrue(RECORD_KEYS <= set(rec), rec)
        self.assertIn(rec["status"],
                      ("waiting", "generating", "success", "fail"), rec)
        self.assertIs(type(rec["creditsUsed"]), int, rec)
        self.assertIs(type(rec["createTime"]), int, rec)

    # -- (a) success --------------------------------------------------------

    def test_a_success_record_and_callback(self):
        c = self.c
        acct, key, cl = self.account(50)
        t0 = now_ms()
        tid = cl.create_task(
            "kling-v3", "A beautiful landscape [sim render_ms=1200 steps=3]",
            duration="5", aspect_ratio="16:9", output_resolution="720p",
            callback_url=self.callback_url())
        t1 = now_ms()
        self.assertRegex(tid, r"^task_[0-9A-Za-z]+$")
        # Credits are reserved at createTask.
        self.assertEqual(self.balance(key), 47)

        seen = []
        rec = cl.wait(tid, timeout=30, interval=0.1,
                      on_record=lambda r: (self.assert_record_shape(r),
                                           seen.append(r["status"])))
        self.assertEqual(rec["status"], "success", rec)
        self.assertTrue(set(seen[:-1]) <= {"waiting", "generating"}, seen)
        self.assertTrue(seen[:-1], "no in-progress status seen: %r" % seen)
        self.assertEqual(seen[0], "waiting", seen)
        self.assertEqual(rec["taskId"], tid)
        self.assertEqual(rec["model"], "kling-v3")
        self.assertEqual(rec["creditsUsed"], 3)
        self.assertIsNone(rec["error"])
        self.assertIsInstance(rec["output"], list, rec)
        self.assertEqual(len(rec["output"]), 1, rec)
        out = rec["output"][0]
        self.assertTrue(out["url"].startswith("http"), out)
        self.assertEqual((out["width"], out["height"]), (1280, 720), out)
        # Milliseconds, not seconds.
        self.assertGreaterEqual(rec["createTime"], t0 - 2000, rec)
        self.assertLessEqual(rec["createTime"], t1 + 2000, rec)
        self.assertIs(type(rec["completeTime"]), int, rec)
        self.assertIs(type(rec["updateTime"]), int, rec)
        self.assertGreaterEqual(rec["completeTime"], rec["createTime"], rec)
        self.assertLessEqual(rec["completeTime"], now_ms() + 2000, rec)
        self.assertGreaterEqual(rec["updateTime"], rec["completeTime"], rec)

        # The documented handler got exactly one callback, saved it.
        e = self.the_callback(acct, key, tid)
        self.assertEqual(e["headers"].get("x-creativeai-event"),
                         "video.generation.completed", e)
        body = self.assert_envelope(e["body"])
        d = body["data"]
        self.assertEqual(d["taskId"], tid)
        self.assertEqual(d["orderId"], "order_" + tid[len("task_"):], d)
        self.assertEqual(d["model"], "kling-v3")
        self.assertEqual(d["state"], "success")
        self.assertEqual(d["creditsUsed"], 3)
        self.assertEqual(d["output"], rec["output"])
        self.assertIsNone(d["error"])
        self.assertEqual(d["createTime"], rec["createTime"])
        self.assertEqual(d["completeTime"], rec["completeTime"])
        self.assertIs(type(d["updateTime"]), int, d)
        self.assertGreaterEqual(d["updateTime"], d["completeTime"], d)
        st = self.hstate()
        self.assertEqual(st["saved"].get(tid), out["url"], st)
        self.assertNotIn(tid, st["failed"], st)
        self.assertEqual(st["bad_signatures"], 0, st)
        self.assertEqual(self.balance(key), 47)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, tid, "completed")),
                         "delivered")

    def test_a_sizes_and_duration_forms(self):
        """duration as the docs' string "5" and the repo's int 5; output
        size from aspectRatio and outputResolution (short side = lines);
        no outputResolution means 720p."""
        acct, key, cl = self.account(50)
        cases = [
            (5, "9:16", "720p", (720, 1280)),
            ("5", "16:9", "1080p", (1920, 1080)),
            (5, "16:9", None, (1280, 720)),
        ]
        tids = [cl.create_task("seedance", "size %d [sim render_ms=0]" % i,
                               duration=dur, aspect_ratio=ar,
                               output_resolution=res)
                for i, (dur, ar, res, _) in enumerate(cases)]
        for tid, (dur, ar, res, size) in zip(tids, cases):
            rec = cl.wait(tid, timeout=20)
            self.assertEqual(rec["status"], "success", rec)
            self.assertEqual(rec["creditsUsed"], 2, rec)
            o = rec["output"][0]
            self.assertEqual((o["width"], o["height"]), size,
                             "%s %s %s: %r" % (dur, ar, res, rec))
        self.assertEqual(self.balance(key), 50 - 3 * 2)

    def test_a_kinovi_model_names(self):
        """Kinovi's own model names (aliases of seedance in
        deploy/reelay.ini) are accepted through both doors. The task, its
        callback and the /v1 job report the name the client sent; the
        engine runs (and prices) the catalog model."""
        c = self.c
        acct, key, cl = self.account(50)
        tid = cl.create_task("seedance-20", "kinovi name [sim render_ms=300]",
                             duration=5, callback_url=self.callback_url())
        first = cl.record_info(tid)
        self.assertEqual(first["model"], "seedance-20", first)
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "success", rec)
        self.assertEqual(rec["model"], "seedance-20", rec)
        self.assertEqual(rec["creditsUsed"], 2, rec)  # seedance's price
        e = self.the_callback(acct, key, tid)
        d = self.assert_envelope(e["body"])["data"]
        self.assertEqual(d["model"], "seedance-20", d)
        self.assertEqual(d["creditsUsed"], 2, d)
        h = c.job_hash(acct, tid)
        self.assertEqual(h.get("model"), "seedance-20", h)
        self.assertEqual(h.get("model_used"), "seedance", h)
        self.assertEqual(h.get("chain"), "seedance,kling-o3-pro", h)
        self.assertEqual(h.get("failover_used"), "0", h)
        tasks = c.sim_tasks("kinovi name")
        self.assertEqual([t["model"] for t in tasks],
                         ["seedance-1-0-pro-250528"], tasks)

        # The /v1 door takes them too and echoes the name sent.
        r = c.submit(key, harness.video_body(
            model="seedance2-fast", prompt="v1 alias [sim render_ms=0]"))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json()["model"], "seedance2-fast", r)
        j = c.wait_job(key, r.json()["id"])
        self.assertEqual(j["status"], "completed", j)
        self.assertEqual(j["model"], "seedance2-fast", j)
        self.assertEqual(j["credits"], 2, j)
        self.assertEqual(self.balance(key), 50 - 2 - 2)

    # -- (b) errors ---------------------------------------------------------

    def assert_message(self, exc, status, message, exact=True):
        self.assertEqual(exc.status, status, exc)
        self.assertTrue(exc.headers.get("content-type", "")
                        .startswith("application/json"), exc.headers)
        self.assertIsInstance(exc.body, dict, exc)
        self.assertEqual(exc.body.get("message"), message, exc.body)
        if exact:
            self.assertEqual(list(exc.body), ["message"], exc.body)
        return exc.body

    def test_b_create_errors(self):
        c = self.c
        acct, key, cl = self.account(50)
        hash_before = c.redis.hgetall(rkeys.acct(acct))

        # Missing prompt.
        with self.assertRaises(TaskApiError) as cm:
            cl.create_raw({"model": "kling-v3",
                           "inputs": {"duration": "5",
                                      "aspectRatio": "16:9"}})
        b = self.assert_message(cm.exception, 400,
                                "Invalid inputs for model", exact=False)
        self.assertEqual(list(b), ["message", "errors"], b)
        self.assertIsInstance(b["errors"], list, b)
        self.assertEqual(len(b["errors"]), 1, b)
        self.assertEqual(b["errors"][0]["field"], "inputs.prompt", b)
        self.assertIsInstance(b["errors"][0].get("message"), str, b)

        # Unknown model (seedance-20 is an alias in deploy/reelay.ini).
        with self.assertRaises(TaskApiError) as cm:
            cl.create_task("seedance-99", "A beautiful landscape")
        self.assert_message(cm.exception, 400, "Unknown model")

        # Bad key.
        bad = TaskClient(self.base, "rk_" + "x" * 40)
        with self.assertRaises(TaskApiError) as cm:
            bad.create_task("kling-v3", "A beautiful landscape")
        self.assert_message(cm.exception, 401, "Invalid API Key")
        with self.assertRaises(TaskApiError) as cm:
            TaskClient(self.base, "").create_task("kling-v3", "x")
        self.assertEqual(cm.exception.status, 401, cm.exception)

        # Nothing of that was charged or written to the account.
        self.assertEqual(c.redis.hgetall(rkeys.acct(acct)), hash_before)

        # Too few credits: 2 available, kling-v3 costs 3 for 5 s.
        acct2, key2, cl2 = self.account(2)
        with self.assertRaises(TaskApiError) as cm:
            cl2.create_task("kling-v3", "A beautiful landscape")
        b = self.assert_message(cm.exception, 402, "Insufficient credits",
                                exact=False)
        self.assertEqual(b, {"message": "Insufficient credits",
                             "required": 3, "available": 2})
        self.assertEqual(self.balance(key2), 2)

        # Unknown inputs keys (documented ones we do not use, and made-up
        # ones) are ignored: accepted.
        tid = cl.create_task("seedance", "ignored keys [sim render_ms=0]",
                             duration=5, aspect_ratio="1:1",
                             generate_audio=True, seed=42, mode="keyframe",
                             not_a_field={"x": 1})
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "success", rec)
        self.assertEqual((rec["output"][0]["width"],
                          rec["output"][0]["height"]), (720, 720), rec)

    def test_b_invalid_input_fields(self):
        """Every invalid input is named in errors[].field by its task API
        name (as docs/task-api.md shows for inputs.prompt)."""
        acct, key, cl = self.account(50)
        cases = [
            ({"callBackUrl": "not a url"}, {}, "callBackUrl"),
            ({}, {"duration": "7"}, "inputs.duration"),
            ({}, {"duration": 7}, "inputs.duration"),
            ({}, {"aspectRatio": "2:1"}, "inputs.aspectRatio"),
            ({}, {"prompt": ""}, "inputs.prompt"),
            ({}, {"imageUrls": ["not a url"]}, "inputs.imageUrls"),
            ({}, {"outputResolution": "8k"}, "inputs.outputResolution"),
        ]
        for top, inputs, field in cases:
            body = {"model": "kling-v3",
                    "inputs": dict({"prompt": "fields"}, **inputs)}
            body.update(top)
            with self.assertRaises(TaskApiError, msg=field) as cm:
                cl.create_raw(body)
            b = self.assert_message(cm.exception, 400,
                                    "Invalid inputs for model", exact=False)
            self.assertEqual([e.get("field") for e in b["errors"]], [field],
                             "%r -> %r" % (body, b))
        self.assertEqual(self.balance(key), 50)

    def test_b_every_invalid_input_named(self):
        """errors[] lists every invalid input, not only the first; the
        /v1 door keeps its one-error shape for the same mistakes."""
        c = self.c
        acct, key, cl = self.account(50)
        before = c.redis.hgetall(rkeys.acct(acct))
        body = {"model": "kling-v3", "callBackUrl": "not a url",
                "inputs": {"prompt": "", "duration": "7",
                           "aspectRatio": "2:1",
                           "imageUrls": ["not a url"],
                           "outputResolution": "8k"}}
        with self.assertRaises(TaskApiError) as cm:
            cl.create_raw(body)
        b = self.assert_message(cm.exception, 400,
                                "Invalid inputs for model", exact=False)
        self.assertEqual(list(b), ["message", "errors"], b)
        fields = [e.get("field") for e in b["errors"]]
        self.assertEqual(sorted(fields), sorted([
            "callBackUrl", "inputs.prompt", "inputs.duration",
            "inputs.aspectRatio", "inputs.imageUrls",
            "inputs.outputResolution"]), b)
        for e in b["errors"]:
            self.assertEqual(list(e), ["field", "message"], e)
            self.assertIsInstance(e["message"], str, e)
            self.assertTrue(e["message"], e)

        # An unknown model among them: the inputs are judged against a
        # model, so that is the one answer.
        body["model"] = "no-such-model"
        with self.assertRaises(TaskApiError) as cm:
            cl.create_raw(body)
        self.assert_message(cm.exception, 400, "Unknown model")
        self.assertEqual(c.redis.hgetall(rkeys.acct(acct)), before)

        # /v1: the same mistakes, one error naming the first field.
        r = c.submit(key, {"model": "kling-v3", "prompt": "",
                           "duration": "7", "aspect_ratio": "2:1",
                           "webhook_url": "not a url"})
        err = self.assert_error(r, 400, param="prompt")
        self.assertEqual(err["code"], "missing_prompt", err)
        self.assertEqual(c.redis.hgetall(rkeys.acct(acct)), before)

    def refused(self, cl, inputs, model="kling-v3"):
        """createTask with `inputs` (prompt added) must be a 400; returns
        its errors[]."""
        with self.assertRaises(TaskApiError, msg=repr(inputs)) as cm:
            cl.create_raw({"model": model,
                           "inputs": dict({"prompt": "refused"}, **inputs)})
        b = self.assert_message(cm.exception, 400,
                                "Invalid inputs for model", exact=False)
        return b["errors"]

    def test_b_images_media_durations_explicit(self):
        """Nothing is dropped silently: one image URL (the first frame)
        reaches the provider, more are refused; reference videos and audio
        are refused; a duration the model is not priced for (Kinovi allows
        4..15) is refused naming inputs.duration; the priced ones pass."""
        c = self.c
        acct, key, cl = self.account(50)
        img = "https://img.example/first.png"
        two = self.refused(cl, {"imageUrls": [img, img + "?last"]})
        self.assertEqual([e["field"] for e in two], ["inputs.imageUrls"])
        self.assertIn("at most 1", two[0]["message"], two)
        for bad in ({"imageUrls": img}, {"imageUrls": ["not a url"]}):
            self.assertEqual([e["field"] for e in self.refused(cl, bad)],
                             ["inputs.imageUrls"], bad)
        # The older name of the same input, and not both at once.
        self.assertEqual([e["field"] for e in self.refused(
            cl, {"urls": ["not a url"]})], ["inputs.urls"])
        self.assertEqual([e["field"] for e in self.refused(
            cl, {"urls": [img], "imageUrls": [img]})], ["inputs.urls"])
        for name in ("videoUrls", "audioUrls"):
            errs = self.refused(cl, {name: ["https://media.example/a"]})
            self.assertEqual([e["field"] for e in errs], ["inputs." + name])
        for d in (4, "4", 6, 15, "15"):
            errs = self.refused(cl, {"duration": d})
            self.assertEqual([e["field"] for e in errs], ["inputs.duration"])
            self.assertIn('"5s", "10s"', errs[0]["message"], errs)
        self.assertEqual(self.balance(key), 50)

        # One image: passed on as the first frame (Kling image2video).
        tid = cl.create_task("kling-v3", "first frame [sim render_ms=0]",
                             imageUrls=[img], videoUrls=[], audioUrls=[])
        self.assertEqual(cl.wait(tid, timeout=20)["status"], "success")
        self.assertEqual(c.job_hash(acct, tid).get("image_url"), img)
        self.assertEqual([t["endpoint"] for t in c.sim_tasks("first frame")],
                         ["image2video"])
        tid = cl.create_task("kling-v3", "older name [sim render_ms=0]",
                             urls=[img])
        self.assertEqual(cl.wait(tid, timeout=20)["status"], "success")
        self.assertEqual(c.job_hash(acct, tid).get("image_url"), img)
        # A priced duration other than 5: 10 s of seedance costs 4.
        tid = cl.create_task("seedance", "ten seconds [sim render_ms=0]",
                             duration=10, imageUrls=[])
        rec = cl.wait(tid, timeout=20)
        self.assertEqual((rec["status"], rec["creditsUsed"]), ("success", 4))
        self.assertEqual(c.job_hash(acct, tid).get("duration"), "10")
        self.assertNotIn("image_url", c.job_hash(acct, tid))
        self.assertEqual(self.balance(key), 50 - 3 - 3 - 4)

    def test_b_record_errors(self):
        acct, key, cl = self.account(50)
        other_acct, other_key, other = self.account(50)
        tid = cl.create_task("seedance", "mine [sim render_ms=0]")

        # Another account's task.
        with self.assertRaises(TaskApiError) as cm:
            other.record_info(tid)
        self.assertEqual(cm.exception.status, 403, cm.exception)
        self.assertIsInstance(cm.exception.body.get("message"), str)

        # An unknown task.
        with self.assertRaises(TaskApiError) as cm:
            cl.record_info("task_" + secrets.token_hex(12))
        self.assertEqual(cm.exception.status, 404, cm.exception)
        self.assertIsInstance(cm.exception.body.get("message"), str)

        # Malformed taskIds.
        for bad in ("", "abc", "task_", "task_../x", "task_a-b",
                    "task_" + "a" * 60):
            with self.assertRaises(TaskApiError, msg=repr(bad)) as cm:
                cl.record_info(bad)
            self.assertEqual(cm.exception.status, 400,
                             "%r: %r" % (bad, cm.exception))
            self.assertIsInstance(cm.exception.body.get("message"), str)
        r = harness.http_get(self.c.url("/api/v1/jobs/recordInfo"),
                             headers={"Authorization": "Bearer " + key})
        self.assertEqual(r.status, 400, r)

        # Bad key on recordInfo.
        with self.assertRaises(TaskApiError) as cm:
            TaskClient(self.base, "rk_" + "y" * 40).record_info(tid)
        self.assert_message(cm.exception, 401, "Invalid API Key")

        # The owner still sees it.
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "success", rec)

    # -- (c) failure --------------------------------------------------------

    def test_c_content_rejected(self):
        c = self.c
        acct, key, cl = self.account(50)
        tid = cl.create_task("kling-v3",
                             "rejected [sim fail=content render_ms=200]",
                             duration="5", aspect_ratio="16:9",
                             callback_url=self.callback_url())
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "fail", rec)
        self.assertIsNone(rec["output"], rec)
        self.assertEqual(rec["error"], {"code": "2038", "message": MSG_2038},
                         rec)
        # Documented: recordInfo keeps showing the reserved credits.
        self.assertEqual(rec["creditsUsed"], 3, rec)

        e = self.the_callback(acct, key, tid)
        self.assertEqual(e["headers"].get("x-creativeai-event"),
                         "video.generation.failed", e)
        body = self.assert_envelope(e["body"])
        d = body["data"]
        self.assertEqual(d["taskId"], tid)
        self.assertEqual(d["state"], "fail", d)
        self.assertEqual(d["creditsUsed"], 0, d)
        self.assertIsNone(d["output"], d)
        self.assertEqual(d["error"], {"code": "2038", "message": MSG_2038},
                         d)
        self.assertIsNone(d["completeTime"], d)
        self.assertIs(type(d["createTime"]), int, d)
        self.assertIs(type(d["updateTime"]), int, d)
        self.assertGreaterEqual(d["updateTime"], d["createTime"], d)
        st = self.hstate()
        self.assertEqual(st["failed"].get(tid), MSG_2038, st)
        self.assertNotIn(tid, st["saved"], st)

        # Refunded in full.
        self.assertEqual(self.balance(key), 50)
        self.assertTrue(c.job_hash(acct, tid).get("refunded_at"))
        mine = [x for x in self.ledger(key) if x.get("job") == tid]
        self.assertEqual(sorted((x["type"], x["credits"]) for x in mine),
                         [("debit", 3), ("refund", 3)], mine)

    def test_c_capacity_no_affordable_backup(self):
        """seedance (2 credits) runs out of capacity mid-render; its only
        backup, kling-o3-pro, costs 5: no affordable backup, code 4011."""
        acct, key, cl = self.account(50)
        tid = cl.create_task(
            "seedance", "busy [sim seedance.fail=capacity "
            "seedance.fail_after_polls=1 render_ms=200]",
            duration="5", callback_url=self.callback_url())
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "fail", rec)
        self.assertEqual(rec["error"]["code"], "4011", rec)
        self.assertIsInstance(rec["error"]["message"], str, rec)
        self.assertEqual(rec["creditsUsed"], 2, rec)
        e = self.the_callback(acct, key, tid)
        d = self.assert_envelope(e["body"])["data"]
        self.assertEqual(d["state"], "fail", d)
        self.assertEqual(d["model"], "seedance", d)
        self.assertEqual(d["error"], rec["error"], d)
        self.assertEqual(d["creditsUsed"], 0, d)
        self.assertIsNone(d["completeTime"], d)
        self.assertEqual(self.hstate()["failed"].get(tid),
                         rec["error"]["message"])
        self.assertEqual(self.balance(key), 50)
        # No failover to the dearer model happened.
        self.assertEqual(self.c.job_hash(acct, tid).get("failover_used"),
                         "0")

    # -- (d) failover -------------------------------------------------------

    def test_d_failover(self):
        acct, key, cl = self.account(50)
        tid = cl.create_task("kling-v3",
                             "failover [sim kling.submit=429 render_ms=200]",
                             duration="5", aspect_ratio="16:9",
                             output_resolution="720p",
                             callback_url=self.callback_url())
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "success", rec)
        # docs/task-api.md: after a failover, `model` is the backup that rendered
        # the task; recordInfo and the callback agree.
        self.assertEqual(rec["model"], "seedance", rec)
        self.assertEqual(rec["creditsUsed"], 2, rec)
        e = self.the_callback(acct, key, tid)
        d = self.assert_envelope(e["body"])["data"]
        self.assertEqual(d["state"], "success", d)
        self.assertEqual(d["creditsUsed"], 2, d)
        self.assertEqual(d["model"], rec["model"], d)
        self.assertEqual(d["output"], rec["output"], d)
        self.assertEqual(self.hstate()["saved"].get(tid),
                         rec["output"][0]["url"])
        h = self.c.job_hash(acct, tid)
        self.assertEqual(h.get("failover_used"), "1", h)
        self.assertEqual(self.balance(key), 48)
        mine = [x for x in self.ledger(key) if x.get("job") == tid]
        # Newest first: the refund of the difference, then the debit.
        self.assertEqual([(x["type"], x["credits"]) for x in mine],
                         [("refund", 1), ("debit", 3)], mine)
        self.assertEqual([x["balance"] for x in mine], [48, 47], mine)

    # -- (e) retried callback, deduped by the handler -----------------------

    def test_e_retry_then_dedupe(self):
        c = self.c
        acct, key, cl = self.account(50)
        before = self.hstate()
        self.control({"fail_next": 1, "status": 500})
        tid = cl.create_task("seedance", "retried [sim render_ms=200]",
                             duration=5, callback_url=self.callback_url())
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "success", rec)
        self.the_callback(acct, key, tid, n=2)
        log = self.hlog(tid)
        self.assertEqual([x["answered"] for x in log], [500, 200], log)
        self.assertEqual(log[0]["body"], log[1]["body"], log)
        self.assertEqual([x["headers"].get("x-reelay-attempt")
                          for x in log], ["1", "2"], log)
        st = self.hstate()
        self.assertEqual(st["saved"].get(tid), rec["output"][0]["url"], st)
        self.assertEqual(st["duplicates"], before["duplicates"], st)
        self.assertEqual(len(st["saved"]), len(before["saved"]) + 1, st)
        dlv = c.redis.lrange(rkeys.deliveries(acct, tid))
        self.assertEqual(len(dlv), 2, dlv)
        h = c.job_hash(acct, tid)
        self.assertEqual(h.get("wh_attempts"), "2", h)
        self.assertEqual(c.redis.get(rkeys.dedup(acct, tid, "completed")),
                         "delivered")

    def test_e_handler_dedupes_second_callback(self):
        """The handler's taskId dedupe itself: the same signed callback
        replayed is counted as a duplicate and not saved again."""
        acct, key, cl = self.account(50)
        tid = cl.create_task("seedance", "replayed [sim render_ms=0]",
                             callback_url=self.callback_url())
        cl.wait(tid, timeout=20)
        e = self.the_callback(acct, key, tid)
        before = self.hstate()
        r = harness.http_request(
            "POST", self.callback_url(), body=e["body"].encode("utf-8"),
            headers={"Content-Type": "application/json",
                     "X-CreativeAI-Signature":
                         e["headers"]["x-creativeai-signature"],
                     "X-CreativeAI-Delivery-Id": tid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"message": "ok"})
        st = self.hstate()
        self.assertEqual(st["duplicates"], before["duplicates"] + 1, st)
        self.assertEqual(st["saved"], before["saved"], st)
        self.assertEqual(st["bad_signatures"], before["bad_signatures"], st)

    # -- (f) the /v1 door ---------------------------------------------------

    def test_f_task_not_visible_via_v1(self):
        acct, key, cl = self.account(50)
        tid = cl.create_task("seedance", "one door [sim render_ms=0]")
        rec = cl.wait(tid, timeout=20)
        self.assertEqual(rec["status"], "success", rec)
        g = self.c.get_job(key, tid)
        err = self.assert_error(g, 404, code="job_not_found")
        self.assertEqual(err["param"], "id", err)
        # The job does exist in the shared store, under the same account.
        self.assertEqual(self.c.job_hash(acct, tid).get("api"), "kinovi")
        # And the other way round: a /v1 job is not a task.
        r = self.c.submit(key, harness.video_body(
            prompt="v1 job [sim render_ms=0]"))
        self.assertEqual(r.status, 202, r)
        with self.assertRaises(TaskApiError) as cm:
            cl.record_info(r.json()["id"])
        self.assertEqual(cm.exception.status, 400, cm.exception)


class TaskApiRateLimit(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, receiver=False,
                   env={"REELAY_LIMITS_RATE_PER_S": "1",
                        "REELAY_LIMITS_RATE_BURST": "1"})

    def test_rate_limited(self):
        c = self.c
        acct, key = c.create_account(50)
        cl = TaskClient(c.url("/api/v1"), key)
        tid = cl.create_task("kling-v3", "first [sim render_ms=0]")
        self.assertTrue(tid.startswith("task_"), tid)
        before = c.redis.hgetall(rkeys.acct(acct))
        with self.assertRaises(TaskApiError) as cm:
            cl.create_task("kling-v3", "second [sim render_ms=0]")
        e = cm.exception
        self.assertEqual(e.status, 429, e)
        self.assertIsInstance(e.body, dict, e)
        self.assertIsInstance(e.body.get("message"), str, e)
        self.assertTrue(e.headers.get("retry-after"), e.headers)
        # Nothing charged or written for the refused one.
        self.assertEqual(c.redis.hgetall(rkeys.acct(acct)), before)
        self.assertEqual(c.redis.zcard(rkeys.acct_jobs(acct)), 1)
        # After the bucket refills, accepted again.
        tid2 = wait_for(lambda: self._try(cl), 5, "a createTask accepted "
                        "after the rate-limit bucket refilled", interval=0.2)
        self.assertNotEqual(tid, tid2)
        self.assertEqual(cl.wait(tid2, timeout=20)["status"], "success")

    @staticmethod
    def _try(cl):
        try:
            return cl.create_task("kling-v3", "third [sim render_ms=0]")
        except TaskApiError as e:
            if e.status == 429:
                return None
            raise


if __name__ == "__main__":
    harness.main()
