"""Every provider adapter against the simulator's API of its type: Kling,
Seedance, Runway, OpenAI, Replicate, fal, Kinovi, Luma, MiniMax and Veo.

A test catalog (written to the cluster's temp dir, on top of
deploy/reelay.ini) adds one provider per new type, pointing at the one
simulator under that API's base path (tools/sim_apis.h), and per type two
models: t-<api> that fails over to kling-backup (sim-kling, cheaper) and
t-<api>-solo with no failover. t-kling fails over to t-seedance-solo.

For each API: the happy path completes with the API's output URL, a 429
at submit fails over (or fails the job when there is no backup), a
content rejection fails the job with content_rejected and no failover, and
a streak of 5xx while polling is tolerated. All jobs are submitted at
once in setUpClass and checked per scenario."""

import os
import secrets
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_get, video_body  # noqa: E402

MP4_HEAD = b"\x00\x00\x00\x18ftyp"

# api, provider type, base path under the simulator, upstream model,
# duration (s), the simulator's spelling of success.
APIS = [
    ("kling", "kling", None, "kling-v3", 5, "succeed"),
    ("seedance", "seedance", None, "seedance-1-0-pro-250528", 5,
     "succeeded"),
    ("runway", "runway", "/runway", "gen4_turbo", 5, "SUCCEEDED"),
    ("openai", "openai", "/openai/v1", "sora-2", 4, "completed"),
    ("replicate", "replicate", "/replicate/v1", "kwaivgi/kling-v2.1", 5,
     "succeeded"),
    ("fal", "fal", "/fal", "fal-ai/kling-video/v2.1/standard/text-to-video",
     5, "COMPLETED"),
    ("kinovi", "kinovi", "/kinovi/api/v1", "seedance-20", 5, "success"),
    ("luma", "luma", "/luma/dream-machine/v1", "ray-2", 5, "completed"),
    ("minimax", "minimax", "/minimax", "MiniMax-Hailuo-02", 6, "Success"),
    ("veo", "veo", "/veo/v1beta", "veo-3.1-generate-preview", 8, "done"),
]
SPEC = {a[0]: a for a in APIS}

# scenario -> (model suffix, directive template; {api} is the API name)
SCENARIOS = {
    "happy": ("", "[sim render_ms=300 steps=2]"),
    "r429": ("", "[sim {api}.submit=429]"),
    "r429solo": ("-solo", "[sim {api}.submit=429]"),
    "content": ("", "[sim fail=content render_ms=200]"),
    "fivexx": ("", "[sim poll_5xx=3 steps=1 render_ms=200]"),
    "capacity": ("", "[sim {api}.fail=capacity render_ms=200]"),
}

# The APIs whose adapter classifies the simulator's capacity failure
# (Ark ServerOverloaded, Kling "resource exhausted", fal error_type
# runner_scheduling_failure, Kinovi error.code 4011, a Veo operation
# error with gRPC code 8 RESOURCE_EXHAUSTED) as CAPACITY, and the ones
# whose failure is a retryable one (Runway failureCode INTERNAL, after a
# THROTTLED wait): both fail over mid-render. OpenAI, Replicate, Luma
# and MiniMax have no documented mid-render capacity failure and end
# PERMANENT.
CAPACITY_APIS = ("kling", "seedance", "fal", "kinovi", "veo")
RETRYABLE_FAILURE_APIS = ("runway",)


def provider_name(api):
    return "sim-" + api


def catalog(c):
    """deploy/reelay.ini plus the providers and models of this file."""
    with open(harness.CONFIG) as f:
        out = [f.read(), "\n"]
    for api, ptype, path, _up, _d, _ok in APIS:
        if path is None:
            continue
        out.append("[provider.%s]\ntype = %s\nbase_url = %s%s\n"
                   "key = sim-%s-key\npoll_interval_ms = 100\n\n"
                   % (provider_name(api), ptype, c.sim_url, path, api))
    durations = sorted({a[4] for a in APIS})
    out.append("[model.kling-backup]\nprovider = sim-kling\n"
               "upstream_model = kling-v1\nprices = %s\n\n"
               % ", ".join("%ds:1" % d for d in durations))
    for solo in (True, False):
        for api, _t, _p, upstream, dur, _ok in APIS:
            out.append("[model.t-%s%s]\nprovider = %s\nupstream_model = %s\n"
                       "prices = %ds:2\n" % (api, "-solo" if solo else "",
                                             provider_name(api), upstream,
                                             dur))
            if not solo:
                out.append("failover = %s\n" % (
                    "t-seedance-solo" if api == "kling" else "kling-backup"))
            out.append("\n")
    return "".join(out)


class Adapters(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, config_text=catalog, env={
        # Scripted 429s would otherwise open the providers' breakers.
        "REELAY_HEALTH_BREAKER_FAILURES": "1000",
    })

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.c
        cls.acct, cls.key = c.create_account(400)
        cls.jobs = {}
        for api, _t, _p, _u, dur, _ok in APIS:
            for sc, (suffix, directive) in SCENARIOS.items():
                tag = "ad-%s-%s-%s" % (api, sc, secrets.token_hex(4))
                body = video_body(
                    prompt="%s a lighthouse at dusk %s"
                    % (tag, directive.format(api=api)),
                    model="t-%s%s" % (api, suffix), duration="%ds" % dur)
                r = c.submit(cls.key, body)
                if r.status != 202:
                    raise AssertionError("submit %s/%s: %r" % (api, sc, r))
                cls.jobs[(api, sc)] = (r.json()["id"], tag)

    def finish(self, api, sc):
        """(job JSON, Redis job hash, simulator tasks of the job's tag)."""
        jid, tag = self.jobs[(api, sc)]
        job = self.c.wait_job(self.key, jid, timeout=40)
        return job, self.c.job_hash(self.acct, jid), self.c.sim_tasks(tag)

    def expected_url(self, api, task_id):
        base = self.c.sim_url
        if api == "openai":
            return "%s/openai/v1/videos/%s/content" % (base, task_id)
        if api == "veo":
            return "%s/veo/v1beta/files/%s:download?alt=media" % (base,
                                                                  task_id)
        return "%s/output/%s.mp4" % (base, task_id)

    def test_a_happy_path(self):
        for api, _t, _p, upstream, _d, ok in APIS:
            with self.subTest(api=api):
                job, h, tasks = self.finish(api, "happy")
                self.assertEqual(job["status"], "completed", job)
                self.assertEqual(len(tasks), 1, tasks)
                t = tasks[0]
                self.assertEqual((t["api"], t["model"], t["status"]),
                                 (api, upstream, ok), t)
                self.assertGreaterEqual(t["polls"], 1, t)
                self.assertEqual(job["output_url"],
                                 self.expected_url(api, t["task_id"]), job)
                self.assertEqual(h.get("provider"), provider_name(api), h)
                self.assertEqual(h.get("failover_used"), "0", h)
                self.assertFalse(job["failover_used"], job)
                # The output answers a few MP4 bytes (with the key where
                # the API wants one).
                hdr = {"Authorization": "Bearer sim-openai-key"} \
                    if api == "openai" else {"x-goog-api-key": "k"} \
                    if api == "veo" else {}
                r = http_get(job["output_url"], headers=hdr)
                self.assertEqual(r.status, 200, r)
                self.assertTrue(r.body.startswith(MP4_HEAD), r)

    def test_b_429_at_submit_fails_over(self):
        for api, *_ in APIS:
            with self.subTest(api=api):
                job, h, tasks = self.finish(api, "r429")
                self.assertEqual(job["status"], "completed", job)
                backup_api = "seedance" if api == "kling" else "kling"
                backup = "t-seedance-solo" if api == "kling" \
                    else "kling-backup"
                self.assertEqual(h.get("provider"),
                                 provider_name(backup_api), h)
                self.assertEqual(h.get("model_used"), backup, h)
                self.assertEqual(h.get("failover_used"), "1", h)
                self.assertTrue(job["failover_used"], job)
                self.assertEqual([t["api"] for t in tasks], [backup_api],
                                 tasks)
                hops = [e["reason"] for e in job["status_history"]
                        if str(e.get("reason", "")).startswith("failover")]
                self.assertEqual(len(hops), 1, job["status_history"])
                self.assertIn("failover from t-%s to %s: rate_limited at "
                              "submit" % (api, backup), hops[0])

    def test_c_429_without_backup_fails(self):
        for api, *_ in APIS:
            with self.subTest(api=api):
                job, h, tasks = self.finish(api, "r429solo")
                self.assertEqual(job["status"], "failed", job)
                self.assertEqual(job["error"]["code"], "rate_limited", job)
                self.assertIn("no provider left", job["error"]["message"])
                self.assertEqual(tasks, [])
                self.assertFalse(job["failover_used"], job)

    def test_d_content_rejected(self):
        for api, *_ in APIS:
            with self.subTest(api=api):
                job, h, tasks = self.finish(api, "content")
                self.assertEqual(job["status"], "failed", job)
                self.assertEqual(job["error"]["code"], "content_rejected",
                                 job)
                self.assertEqual(h.get("provider"), provider_name(api), h)
                self.assertFalse(job["failover_used"], job)
                self.assertEqual([t["api"] for t in tasks], [api], tasks)

    def test_e_5xx_streak_tolerated(self):
        for api, *_ in APIS:
            with self.subTest(api=api):
                job, h, tasks = self.finish(api, "fivexx")
                self.assertEqual(job["status"], "completed", job)
                self.assertEqual(h.get("provider"), provider_name(api), h)
                self.assertFalse(job["failover_used"], job)
                self.assertEqual(len(tasks), 1, tasks)
                # three 5xx answers, then at least one real one
                self.assertGreaterEqual(tasks[0]["polls"], 4, tasks)

    def test_f_capacity_mid_render_fails_over(self):
        for api in CAPACITY_APIS + RETRYABLE_FAILURE_APIS:
            kind = "capacity" if api in CAPACITY_APIS else "transient"
            with self.subTest(api=api):
                job, h, tasks = self.finish(api, "capacity")
                self.assertEqual(job["status"], "completed", job)
                self.assertEqual(h.get("failover_used"), "1", h)
                hops = [e["reason"] for e in job["status_history"]
                        if str(e.get("reason", "")).startswith("failover")]
                self.assertEqual(len(hops), 1, job["status_history"])
                self.assertIn("%s mid-render" % kind, hops[0])
                self.assertEqual(sorted(t["api"] for t in tasks), sorted(
                    [api, "seedance" if api == "kling" else "kling"]))


if __name__ == "__main__":
    harness.main()
