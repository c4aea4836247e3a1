"""A small client of the Kinovi-style task API (docs/task-api.md and
docs/providers.md), written against the DOCUMENTED shape only, as a team
migrating from that service would write it: base URL + Bearer key,

    POST {base}/jobs/createTask  {model, callBackUrl?, inputs:{prompt,
                                  duration, aspectRatio, outputResolution,
                                  ...}}           -> 200 {"taskId": ...}
    GET  {base}/jobs/recordInfo?taskId=...       -> {taskId, model, status,
                                  creditsUsed, output, error, createTime,
                                  completeTime, ...}

polling recordInfo until status is "success" or "fail". It knows nothing
of reelay (no /v1 endpoint, no harness). Python 3 standard library only.
"""

import http.client
import json
import time
import urllib.parse

TERMINAL = ("success", "fail")


class TaskApiError(Exception):
    """A non-2xx answer: .status, .body (parsed JSON or raw text),
    .headers (lower-cased names)."""

    def __init__(self, status, body, headers):
        super().__init__("HTTP %d: %r" % (status, body))
        self.status = status
        self.body = body
        self.headers = headers


class TaskClient:
    def __init__(self, base_url, api_key, timeout=10.0):
        # e.g. "http://127.0.0.1:8080/api/v1" (was https://kinovi.ai/api/v1)
        self.base = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout

    # -- transport --

    def _request(self, method, path, body=None):
        u = urllib.parse.urlsplit(self.base + path)
        conn = http.client.HTTPConnection(u.hostname, u.port,
                                          timeout=self.timeout)
        headers = {"Authorization": "Bearer %s" % self.api_key}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            target = u.path + ("?" + u.query if u.query else "")
            conn.request(method, target, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            conn.close()
        try:
            doc = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        if not 200 <= r.status < 300:
            raise TaskApiError(r.status, doc, hdrs)
        return doc

    # -- the documented calls --

    def create_task(self, model, prompt, duration="5", aspect_ratio=None,
                    output_resolution=None, callback_url=None,
                    **more_inputs):
        """POST /jobs/createTask; returns the taskId."""
        inputs = {"prompt": prompt}
        if duration is not None:
            inputs["duration"] = duration
        if aspect_ratio is not None:
            inputs["aspectRatio"] = aspect_ratio
        if output_resolution is not None:
            inputs["outputResolution"] = output_resolution
        inputs.update(more_inputs)
        body = {"model": model, "inputs": inputs}
        if callback_url is not None:
            body["callBackUrl"] = callback_url
        return self.create_raw(body)["taskId"]

    def create_raw(self, body):
        """POST /jobs/createTask with a body as given; returns the JSON."""
        return self._request("POST", "/jobs/createTask", body)

    def record_info(self, task_id):
        """GET /jobs/recordInfo?taskId=...; returns the record."""
        q = urllib.parse.urlencode({"taskId": task_id})
        return self._request("GET", "/jobs/recordInfo?" + q)

    def wait(self, task_id, timeout=60.0, interval=0.1, on_record=None):
        """Polls recordInfo every `interval` s until status is success or
        fail; returns the final record. on_record(rec) sees every one."""
        deadline = time.monotonic() + timeout
        while True:
            rec = self.record_info(task_id)
            if on_record is not None:
                on_record(rec)
            if rec.get("status") in TERMINAL:
                return rec
            if time.monotonic() >= deadline:
                raise TimeoutError("task %s still %r after %.1fs"
                                   % (task_id, rec.get("status"), timeout))
            time.sleep(interval)
