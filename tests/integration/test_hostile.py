"""Hostile input against a live deployment: after each attack the
process that took it is the same process (same pid, still alive), it
answered with a clear 4xx and the usual error object, nothing was
written to Redis, and a real client is still served."""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import video_body  # noqa: E402

VOLATILE = ("rl:lock:*",)


def raw_http(port, data, timeout=10.0):
    """Sends raw bytes to 127.0.0.1:port and reads until the peer closes
    or one whole answer (headers and Content-Length body) has arrived.
    Returns (status, headers dict with lower-case names, body bytes);
    status is None when the connection closed with no answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            head, sep, body = buf.partition(b"\r\n\r\n")
            if sep:
                status, headers = _head(head)
                n = int(headers.get("content-length", "-1"))
                if n >= 0 and len(body) >= n:
                    return status, headers, body[:n]
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
        head, sep, body = buf.partition(b"\r\n\r\n")
        if not sep:
            return None, {}, buf
        status, headers = _head(head)
        return status, headers, body
    finally:
        s.close()


def _head(head):
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = \
            v.strip().decode("latin-1")
    return status, headers


class HostileCase(harness.ClusterTestCase):
    """Shared checks: the broker's pid before and after, Redis unchanged,
    a real client served."""

    def setUp(self):
        self.pid = self.c.brokers[0].pid
        self.before = self.c.redis.snapshot(exclude=VOLATILE)

    def tearDown(self):
        after = self.c.redis.snapshot(exclude=VOLATILE)
        self.assertEqual(self.before, after, "Redis changed:\n" +
                         harness.snapshot_diff(self.before, after))
        self.assert_same_broker()

    def assert_same_broker(self):
        self.c.check_alive()
        self.assertEqual(self.c.brokers[0].pid, self.pid)
        r = harness.http_get(self.c.url("/healthz"))
        self.assertEqual(r.status, 200, r)

    @property
    def port(self):
        return int(self.c.url("/").split(":")[2].split("/")[0])

    def assert_json_4xx(self, status, headers, body, want=None):
        self.assertIsNotNone(status, "no answer: %r" % body[:200])
        if want is not None:
            self.assertEqual(status, want, body[:300])
        self.assertTrue(400 <= status < 500, (status, body[:300]))
        self.assertTrue(headers.get("content-type", "").startswith(
            "application/json"), headers)
        doc = json.loads(body.decode("utf-8"))
        return doc


class CrashClass(HostileCase):
    """Outside bytes that are not valid UTF-8 (or are control
    characters) end up quoted in an error: the error is still rendered,
    as valid JSON, and the broker lives on."""

    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def test_path_not_utf8(self):
        for path in (b"/\xff", b"/v1/\xc0\xaf", b"/api/v1/jobs/\xed\xa0\x80",
                     b"/v1/video/generations/\xff/x", b"/\x7f\x01"):
            with self.subTest(path=path):
                st, h, body = raw_http(
                    self.port, b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n"
                    b"Connection: close\r\n\r\n")
                doc = self.assert_json_4xx(st, h, body, 404)
                self.assertEqual(doc["error"]["code"], "route_not_found")
                self.assertIn("\\xFF" if b"\xff" in path else "\\x",
                              doc["error"]["message"])

    def test_method_not_allowed_path_not_utf8(self):
        st, h, body = raw_http(
            self.port, b"DELETE /v1/video/generations HTTP/1.1\r\n"
            b"Host: x\r\nConnection: close\r\n\r\n")
        self.assert_json_4xx(st, h, body, 405)

    def test_job_id_not_utf8(self):
        auth = b"Authorization: Bearer " + self.key.encode() + b"\r\n"
        for door in (b"/v1/video/generations/vgen_\xff\xfe",
                     b"/api/v1/jobs/recordInfo?taskId=task_\xff"):
            with self.subTest(door=door):
                st, h, body = raw_http(
                    self.port, b"GET " + door + b" HTTP/1.1\r\nHost: x\r\n" +
                    auth + b"Connection: close\r\n\r\n")
                self.assertIsNotNone(st)
                self.assertTrue(400 <= st < 500, (st, body))
                json.loads(body.decode("utf-8"))

    def test_body_not_utf8(self):
        auth = b"Authorization: Bearer " + self.key.encode() + b"\r\n"
        bodies = [
            b'{"model":"kling-v3","prompt":"\xff","duration":"5s"}',
            b'{"\xff\xfe":1}',
            b'{"model":"\xc3","prompt":"x"}',
            b'\xff',
        ]
        for door in (b"/v1/video/generations", b"/api/v1/jobs/createTask"):
            for raw in bodies:
                with self.subTest(door=door, raw=raw):
                    st, h, body = raw_http(
                        self.port, b"POST " + door + b" HTTP/1.1\r\n"
                        b"Host: x\r\nContent-Type: application/json\r\n" +
                        auth + b"Content-Length: %d\r\n" % len(raw) +
                        b"Connection: close\r\n\r\n" + raw)
                    self.assertIsNotNone(st)
                    self.assertTrue(400 <= st < 500 or
                                    (door.startswith(b"/api") and st == 200),
                                    (st, body))
                    json.loads(body.decode("utf-8"))

    def test_header_values_not_utf8(self):
        for hdr in (b"Authorization: Bearer \xff\xfe\r\n",
                    b"Idempotency-Key: \xff\r\n",
                    b"Content-Type: \xff\r\n"):
            with self.subTest(hdr=hdr):
                raw = json.dumps(video_body()).encode()
                st, h, body = raw_http(
                    self.port, b"POST /v1/video/generations HTTP/1.1\r\n"
                    b"Host: x\r\n" + hdr +
                    b"Content-Length: %d\r\n" % len(raw) +
                    b"Connection: close\r\n\r\n" + raw)
                self.assert_json_4xx(st, h, body)


if __name__ == "__main__":
    harness.main()
