"""Provider answers are outside input (docs/security.md, Provider
answers): a hostile provider, scripted with the simulator's task_id= and
output_url= directives (tools/sim_script.h), against a real cluster.

- A task id holding "../../../admin?x=1" is data: every poll goes to the
  task's own URL with the id percent-encoded, and the simulator's request
  log (GET /_sim/requests) shows no request to any other path.
- A task id holding CR LF is refused at submit (a permanent provider
  error): the job fails over, and that task is never polled.
- An output URL that is not a plain absolute http(s) URL (javascript:,
  data:, file:, a path, user:pass@, CR LF) is never handed to the
  customer: with no backup left the job fails (error code "permanent",
  "bad_output_url" in the message), its credits come back in one refund
  entry of the ledger, and the webhook says failed.

Default catalog (deploy/reelay.ini): kling-v3 (sim-kling, 3 credits)
fails over to seedance (sim-seedance, 2), then kling-o3-pro (5, never
affordable); seedance has no affordable backup."""

import os
import re
import secrets
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_get, video_body  # noqa: E402

START = 50
TRAVERSAL = "../../../admin?x=1&t="
KLING_POLL = "/v1/videos/text2video/"
ARK_TASKS = "/api/v3/contents/generations/tasks"
# Every path a worker may call on the simulator: the APIs of these jobs,
# and the providers' base URLs its health check asks.
API_PATHS = ("/v1/videos/text2video", ARK_TASKS)
BASE_PATHS = ("/", "/api/v3")
HOSTILE_OUTPUTS = ("javascript", "data", "file", "relative", "userinfo",
                   "crlf")


def escaped(task_id):
    """The id as one percent-encoded path segment (RFC 3986 unreserved
    characters kept), as the worker must send it."""
    return urllib.parse.quote(task_id, safe="")


class ProviderAnswers(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, env={
        "REELAY_HEALTH_BREAKER_FAILURES": "1000",
        "REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS": "100",
        "REELAY_PROVIDER_SIM_SEEDANCE_POLL_INTERVAL_MS": "100",
    })

    @classmethod
    def setUpClass(cls):
        """Every job is submitted at once; each test checks its own."""
        super().setUpClass()
        cls.jobs = {}
        cases = [("traversal-kling", "kling-v3",
                  "[sim kling.task_id=traversal render_ms=300 steps=2]"),
                 ("traversal-seedance", "seedance",
                  "[sim seedance.task_id=traversal render_ms=300 steps=2]"),
                 ("crlf-kling", "kling-v3",
                  "[sim kling.task_id=crlf render_ms=200]"),
                 ("userinfo-both", "kling-v3",
                  "[sim output_url=userinfo render_ms=200]")]
        cases += [("out-" + kind, "seedance",
                   "[sim output_url=%s render_ms=200]" % kind)
                  for kind in HOSTILE_OUTPUTS]
        for name, model, directive in cases:
            cls.jobs[name] = cls.submit(model, directive)

    @classmethod
    def submit(cls, model, directive):
        c = cls.c
        acct, key = c.create_account(START)
        tag = "pa-" + secrets.token_hex(5)
        r = c.submit(key, video_body(prompt="%s a lighthouse %s"
                                     % (tag, directive), model=model,
                                     webhook_url=c.webhook_url(tag)))
        if r.status != 202:
            raise AssertionError("submit %s: %r" % (directive, r))
        return acct, key, r.json()["id"], tag

    def outcome(self, name):
        acct, key, jid, tag = self.jobs[name]
        return key, self.c.outcome(acct, key, jid, tag)

    def requests(self):
        r = http_get(self.c.sim_url + "/_sim/requests")
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertLess(doc["total"], 4096, "the request log wrapped")
        return doc["requests"]

    def naming(self, plain):
        """The logged requests whose target holds the simulator's plain
        id `plain` (not a longer one it is a prefix of)."""
        pat = re.compile(re.escape(plain) + r"(?![0-9])")
        return [e for e in self.requests() if pat.search(e["uri"])]

    def assert_only_api_paths(self):
        """No request of the whole run left the APIs' own paths, and no
        request path climbs out of one with a dot segment."""
        for e in self.requests():
            path = e["uri"].split("?", 1)[0]
            self.assertTrue(path.startswith(API_PATHS) or
                            path in BASE_PATHS, e)
            segments = path.split("/")
            self.assertNotIn("admin", segments, e)
            self.assertNotIn("..", segments, e)
            self.assertNotIn(".", segments, e)

    def assert_failed_refunded(self, key, o, price, hops):
        """Failed with a permanent provider error naming the refused
        output URL; debited `price` and refunded it in one entry; the
        failed webhook, GET job and the job hash agree."""
        job, h = o["job"], o["hash"]
        self.assertEqual(job["status"], "failed", job)
        self.assertIsNone(job.get("output_url"), job)
        self.assertFalse(h.get("output_url"), h)
        self.assertEqual(job["error"]["code"], "permanent", job)
        msg = job["error"]["message"]
        self.assertIn("no provider left", msg)
        self.assertIn("output URL refused", msg)
        self.assertIn("code bad_output_url", msg)
        self.assertEqual([(e["type"], e["credits"]) for e in o["ledger"]],
                         [("debit", price), ("refund", price)], o["ledger"])
        self.assertEqual(o["account"]["credits"], START, o["account"])
        self.assertEqual(int(h["credits_refunded"]), price, h)
        self.assertEqual(len(o["deliveries"]), 1, o["deliveries"])
        self.assertEqual(o["hook_headers"].get("x-creativeai-event"),
                         "video.generation.failed", o["hook_headers"])
        self.assertTrue(harness.verify_signature(
            o["hook_headers"].get("x-creativeai-signature"),
            o["deliveries"][0]["body"].encode(), key))
        b = o["hook"]
        self.assertEqual(b["status"], "failed", b)
        self.assertIsNone(b["output_url"], b)
        self.assertEqual(b["error"], job["error"])
        # Every task rendered upstream; none of their URLs was served.
        self.assertEqual(len(o["tasks"]), hops, o["tasks"])
        for t in o["tasks"]:
            self.assertIn(t["status"], ("succeed", "succeeded"), t)

    def test_a_hostile_output_urls_fail_the_job_with_refund(self):
        for kind in HOSTILE_OUTPUTS:
            with self.subTest(output_url=kind):
                key, o = self.outcome("out-" + kind)
                self.assert_failed_refunded(key, o, 2, 1)
                self.assertEqual(o["hash"].get("provider"), "sim-seedance")

    def test_b_hostile_output_url_fails_over_then_fails(self):
        key, o = self.outcome("userinfo-both")
        self.assert_failed_refunded(key, o, 3, 2)
        self.assertEqual(o["hash"].get("failover_used"), "1", o["hash"])
        hops = [e for e in o["job"]["status_history"]
                if str(e.get("reason", "")).startswith("failover from")]
        self.assertEqual(len(hops), 1, o["job"]["status_history"])
        self.assertIn("failover from kling-v3 to seedance: Kling output URL "
                      "refused: credentials (userinfo) in the URL",
                      hops[0]["reason"])

    def traversal(self, name, api, poll_path, provider):
        """The job completed where it was sent; its task id (../ and ?
        in it) was stored as it is and every request naming the task
        went to poll_path + the encoded id."""
        key, o = self.outcome(name)
        self.assertEqual(o["job"]["status"], "completed", o["job"])
        self.assertEqual(o["hash"].get("provider"), provider, o["hash"])
        self.assertEqual(o["hash"].get("failover_used"), "0", o["hash"])
        tasks = [t for t in o["tasks"] if t["api"] == api]
        self.assertEqual(len(tasks), 1, o["tasks"])
        tid = tasks[0]["task_id"]
        self.assertTrue(tid.startswith(TRAVERSAL), tid)
        self.assertEqual(o["hash"]["task_id"], tid)
        self.assertGreaterEqual(tasks[0]["polls"], 3, tasks)
        mine = self.naming(tid[len(TRAVERSAL):])
        want = {"method": "GET", "uri": poll_path + escaped(tid)}
        self.assertEqual(mine, [want] * tasks[0]["polls"], mine)
        self.assert_only_api_paths()

    def test_c_traversal_task_id_is_escaped_kling(self):
        self.traversal("traversal-kling", "kling", KLING_POLL, "sim-kling")

    def test_c_traversal_task_id_is_escaped_seedance(self):
        self.traversal("traversal-seedance", "seedance", ARK_TASKS + "/",
                       "sim-seedance")

    def test_d_crlf_task_id_is_refused(self):
        key, o = self.outcome("crlf-kling")
        job = o["job"]
        self.assertEqual(job["status"], "completed", job)
        self.assertEqual(o["hash"].get("provider"), "sim-seedance")
        kl = [t for t in o["tasks"] if t["api"] == "kling"]
        self.assertEqual(len(kl), 1, o["tasks"])
        self.assertTrue(kl[0]["task_id"].endswith("\r\nX-Injected: 1"), kl)
        self.assertEqual(kl[0]["polls"], 0, kl)
        self.assertEqual(self.naming(kl[0]["task_id"].split("\r", 1)[0]), [])
        self.assertNotIn("\r", o["hash"].get("task_id", ""))
        hops = [e for e in job["status_history"]
                if str(e.get("reason", "")).startswith("failover from")]
        self.assertEqual(len(hops), 1, job["status_history"])
        self.assertIn("permanent at submit: Kling task_id refused: not "
                      "printable ASCII", hops[0]["reason"])
        # The cheaper backup rendered it: 1 of the 3 credits back.
        self.assertEqual([(e["type"], e["credits"]) for e in o["ledger"]],
                         [("debit", 3), ("refund", 1)], o["ledger"])
        self.assert_only_api_paths()


if __name__ == "__main__":
    harness.main()
