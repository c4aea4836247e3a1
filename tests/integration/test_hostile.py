"""Hostile input against a live deployment: after each attack the
process that took it is the same process (same pid, still alive), it
answered with a clear 4xx and the usual error object, nothing was
written to Redis, and a real client is still served."""

import json
import os
import re
import resource
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import zmtp_push  # noqa: E402
from harness import video_body, wait_for  # noqa: E402

# Written on timers, not by requests: the reaper's lock and the workers'
# heartbeats.
# Written on their own schedule by the roles, not by any request: the
# worker's provider health check lands whenever its period comes round.
VOLATILE = ("rl:lock:*", "rl:workers:*", "rl:hb:*", "rl:provider_health")


def raw_http(port, data, timeout=10.0, src=None):
    """Sends raw bytes to 127.0.0.1:port (from the loopback address src,
    a client of its own, when given) and reads until the peer closes or
    one whole answer (headers and Content-Length body) has arrived.
    Returns (status, headers dict with lower-case names, body bytes);
    status is None when the connection closed with no answer."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(src, 0) if src else None)
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


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def closed_by_peer(sock, timeout):
    """Waits up to timeout for the peer to close sock (EOF or reset);
    returns the bytes received meanwhile, or None when still open."""
    sock.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return got
        if not chunk:
            return got
        got += chunk
    return None


def post_raw(headers, body=b"", path=b"/v1/video/generations",
             version=b"HTTP/1.1"):
    return (b"POST " + path + b" " + version + b"\r\nHost: x\r\n" +
            b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body)


LIMITS = {
    "REELAY_HTTP_MAX_HEADER_BYTES": "4096",
    "REELAY_HTTP_MAX_HEADERS": "20",
    "REELAY_HTTP_IDLE_TIMEOUT_MS": "1500",
    "REELAY_HTTP_REQUEST_TIMEOUT_MS": "2500",
    "REELAY_HTTP_MAX_CONNECTIONS": "24",
}


class HttpLimits(HostileCase):
    """[http] limits on the broker's listener, tried with raw sockets."""

    @classmethod
    def setUpClass(cls):
        cls.wport = harness.free_port()
        env = dict(LIMITS)
        env["REELAY_HEALTH_WORKER_STATUS_LISTEN"] = "127.0.0.1:%d" % cls.wport
        cls.CLUSTER = dict(workers=1, deliverers=0, simulator=False,
                           receiver=False, env=env)
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def auth(self):
        return b"Authorization: Bearer " + self.key.encode()

    def test_header_bytes_over_limit_431(self):
        big = b"X-Pad: " + b"a" * 5000
        st, h, body = raw_http(self.port, post_raw([big, self.auth()]))
        doc = self.assert_json_4xx(st, h, body, 431)
        self.assertEqual(doc["error"]["code"], "headers_too_large")
        self.assertEqual(h.get("connection"), "close")

    def test_too_many_headers_431(self):
        hdrs = [b"X-H%d: 1" % i for i in range(25)] + [self.auth()]
        st, h, body = raw_http(self.port, post_raw(hdrs))
        doc = self.assert_json_4xx(st, h, body, 431)
        self.assertEqual(doc["error"]["code"], "headers_too_large")

    def test_header_section_cut_by_evhttp(self):
        """Past twice the limit the section is not even held: 413 and
        the connection closed, whatever the client keeps sending."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nX-Pad: ")
            try:
                for _ in range(200):          # up to 12.8 MB
                    s.sendall(b"a" * 65536)
            except (BrokenPipeError, ConnectionResetError):
                pass
            got = closed_by_peer(s, 15)
            self.assertIsNotNone(got, "the broker kept the connection")
            if got:   # else the reset came before the answer was read
                self.assertRegex(got[:12], rb"^HTTP/1\.1 4(00|13|31)",
                                 got[:100])
                self.assertIn(b"application/json", got)
        finally:
            s.close()

    def test_header_flood_memory_bounded(self):
        """Ten connections each sending 40 MB of one header: the
        broker's memory stays bounded and is not kept."""
        pid = self.c.brokers[0].pid
        before = rss_kb(pid)
        socks = []
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", self.port),
                                         timeout=10)
            s.sendall(b"GET / HTTP/1.1\r\nX-Flood: ")
            socks.append(s)
        chunk = b"b" * 65536
        for _ in range(40 * 16):              # 40 MB per connection
            alive = 0
            for s in socks:
                try:
                    s.send(chunk)
                    alive += 1
                except (BrokenPipeError, ConnectionResetError,
                        socket.timeout, BlockingIOError):
                    pass
            if alive == 0:
                break
        for s in socks:
            s.close()
        growth = rss_kb(pid) - before
        self.assertLess(growth, 32 * 1024,
                        "broker grew by %d kB under a header flood" % growth)

    def test_idle_connection_closed(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            self.assertIsNotNone(closed_by_peer(s, 30),
                                 "an idle connection stayed open")
        finally:
            s.close()

    def test_trickled_request_closed(self):
        """A byte every 300 ms never trips the idle timeout; the request
        deadline closes the connection all the same."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.settimeout(0.3)
        closed = False
        try:
            deadline = time.monotonic() + 60
            msg = b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"z" * 10000
            i = 0
            while time.monotonic() < deadline and not closed:
                try:
                    s.send(msg[i:i + 1])
                    i = (i + 1) % len(msg)
                    if s.recv(4096) == b"":
                        closed = True
                except socket.timeout:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
        finally:
            s.close()
        self.assertTrue(closed, "a trickling request was never closed")

    def test_keep_alive_served(self):
        """The limits leave a well-behaved keep-alive client alone."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            for _ in range(3):
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                buf = b""
                while b"}" not in buf:
                    chunk = s.recv(4096)
                    self.assertTrue(chunk, "closed after %r" % buf)
                    buf += chunk
                self.assertTrue(buf.startswith(b"HTTP/1.1 200"), buf)
        finally:
            s.close()

    def test_connection_cap(self):
        """At the cap the broker stops accepting without spinning;
        closing one connection lets a waiting client in."""
        n = int(LIMITS["REELAY_HTTP_MAX_CONNECTIONS"])
        held = [socket.create_connection(("127.0.0.1", self.port),
                                         timeout=10) for _ in range(n)]
        try:
            # Each held connection has started a request, so the idle
            # timeout does not free them while the waiting client waits.
            for s in held:
                s.sendall(b"GET /healthz HTTP/1.1\r\n")
            waiting = socket.create_connection(("127.0.0.1", self.port),
                                               timeout=10)
            waiting.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                            b"Connection: close\r\n\r\n")
            waiting.settimeout(0.5)
            try:
                early = waiting.recv(4096)
            except socket.timeout:
                early = None
            self.assertIsNone(early, "served past the cap: %r" % early)
            held.pop().close()
            waiting.settimeout(20)
            buf = b""
            while True:
                chunk = waiting.recv(4096)
                if not chunk:
                    break
                buf += chunk
            self.assertTrue(buf.startswith(b"HTTP/1.1 200"), buf[:200])
            waiting.close()
        finally:
            for s in held:
                s.close()
        log = self.c.brokers[0].log_count("connections open")
        self.assertLess(log, 5, "the cap was logged %d times" % log)

    def test_status_listener_limited(self):
        """A worker's status endpoint has the same limits."""
        pid = self.c.workers[0].pid
        big = b"X-Pad: " + b"a" * 5000
        st, h, body = raw_http(
            self.wport, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big +
            b"\r\n\r\n")
        self.assertEqual(st, 431, body)
        st, h, body = raw_http(
            self.wport, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab")
        self.assertEqual(st, 400, body)
        self.c.check_alive()
        self.assertEqual(self.c.workers[0].pid, pid)


class AcceptErrors(HostileCase):
    """Out of file descriptors, accept() fails: the listener pauses
    instead of spinning on it, logs rarely, and serves again once
    descriptors are free. Tried on a worker's status listener (the same
    code as the broker's), whose open-file limit the test lowers."""

    @classmethod
    def setUpClass(cls):
        cls.wport = harness.free_port()
        cls.CLUSTER = dict(workers=1, deliverers=0, simulator=False,
                           receiver=False, env={
                               "REELAY_HEALTH_WORKER_STATUS_LISTEN":
                                   "127.0.0.1:%d" % cls.wport})
        super().setUpClass()

    def stats(self):
        r = harness.http_get("http://127.0.0.1:%d/stats" % self.wport)
        self.assertEqual(r.status, 200, r)
        return r.json()["http"]

    def test_out_of_descriptors(self):
        w = self.c.workers[0]
        pid = w.pid
        nfd = len(os.listdir("/proc/%d/fd" % pid))
        soft = resource.prlimit(pid, resource.RLIMIT_NOFILE)[0]
        resource.prlimit(pid, resource.RLIMIT_NOFILE,
                         (nfd + 4, resource.prlimit(
                             pid, resource.RLIMIT_NOFILE)[1]))
        socks = []
        try:
            for _ in range(40):
                s = socket.create_connection(("127.0.0.1", self.wport),
                                             timeout=10)
                socks.append(s)
            # Past the limit the kernel queues the rest: accept() fails
            # for them until descriptors are free again.
            harness.wait_for(lambda: self.accept_errors_logged(w), 30,
                             "an accept error was logged")
            # Out of descriptors for a while: the listener must not spin.
            harness.holds_for(w.alive, 2.0, "the worker stays up")
        finally:
            for s in socks:
                s.close()
            resource.prlimit(pid, resource.RLIMIT_NOFILE,
                             (soft, resource.prlimit(
                                 pid, resource.RLIMIT_NOFILE)[1]))
        harness.wait_for(lambda: self.stats()["open"] <= 1, 30,
                         "the held connections closed")
        st = self.stats()
        self.assertGreater(st["accept_errors"], 0, st)
        # Paused 100 ms after each failure: a few dozen while the test
        # held the descriptors. A listener spinning on a readable socket
        # fails accept() hundreds of thousands of times a second.
        self.assertLess(st["accept_errors"], 5000, st)
        self.assertLessEqual(w.log_count("accept:"), 3,
                             "accept errors flooded the log")
        self.assertEqual(self.c.workers[0].pid, pid)
        self.c.check_alive()

    def accept_errors_logged(self, w):
        return w.log_count("accept:") >= 1


ADMIN = "adm-" + "9" * 40


class Guessing(HostileCase):
    """A client guessing API keys or the admin token is slowed down: past
    its budget of failures every request from its address gets 429 with
    Retry-After, whatever it sends, while other clients are served. Open
    sign-up is limited per address."""

    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False,
                   env={"REELAY_LIMITS_AUTH_FAILURES_BURST": "5",
                        "REELAY_LIMITS_AUTH_FAILURES_PER_MIN": "1",
                        "REELAY_ACCOUNTS_ADMIN_TOKEN": ADMIN,
                        "REELAY_ACCOUNTS_SIGNUP": "open",
                        "REELAY_ACCOUNTS_SIGNUP_PER_HOUR": "3"})

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def get(self, path, token, src):
        """GET path with Bearer token from source address src (any
        127/8 address is this machine, and a client of its own)."""
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + token.encode() + b"\r\n"
                  b"Connection: close\r\n\r\n")
        got = closed_by_peer(s, 15) or b""
        s.close()
        head, _, body = got.partition(b"\r\n\r\n")
        status = int(head.split(b" ")[1]) if head else None
        return status, head, body

    def test_key_guessing(self):
        src = "127.0.0.21"
        for i in range(5):
            st, _, _ = self.get("/v1/account", "rk_" + "x" * 40 + str(i), src)
            self.assertEqual(st, 401)
        st, head, body = self.get("/v1/account", "rk_" + "y" * 40, src)
        self.assertEqual(st, 429, body)
        self.assertIn(b"too_many_auth_failures", body)
        self.assertRegex(head, rb"(?i)retry-after: \d+")
        # Even the right key waits: a guesser cannot tell a hit.
        st, _, body = self.get("/v1/account", self.key, src)
        self.assertEqual(st, 429, body)
        # Another client is served.
        st, _, body = self.get("/v1/account", self.key, "127.0.0.22")
        self.assertEqual(st, 200, body)

    def test_task_door_guessing(self):
        src = "127.0.0.23"
        for i in range(5):
            st, _, _ = self.get("/api/v1/jobs/recordInfo?taskId=task_abc",
                                "bad-%d" % i, src)
            self.assertEqual(st, 401)
        st, _, body = self.get("/api/v1/jobs/recordInfo?taskId=task_abc",
                               self.key, src)
        self.assertEqual(st, 429, body)

    def test_admin_token_guessing(self):
        src = "127.0.0.24"
        for i in range(5):
            st, _, _ = self.get("/v1/admin/providers", "adm-%d" % i, src)
            self.assertEqual(st, 403)
        st, _, body = self.get("/v1/admin/providers", ADMIN, src)
        self.assertEqual(st, 429, body)
        st, _, body = self.get("/v1/admin/providers", ADMIN, "127.0.0.25")
        self.assertEqual(st, 200, body)

    def test_open_signup_per_address(self):
        src = "127.0.0.26"

        def signup():
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
            got = closed_by_peer(s, 15) or b""
            s.close()
            return int(got.split(b" ")[1]), got

        for _ in range(3):
            st, got = signup()
            self.assertEqual(st, 201, got)
        st, got = signup()
        self.assertEqual(st, 429, got)
        self.assertIn(b"signup_rate_limited", got)
        # Three accounts were made: the snapshot check does not apply.
        self.before = self.c.redis.snapshot(exclude=VOLATILE)


def mp_str(b):
    """A msgpack str of the raw bytes b (valid UTF-8 or not)."""
    n = len(b)
    if n < 32:
        return bytes([0xa0 | n]) + b
    if n < 0x100:
        return b"\xd9" + bytes([n]) + b
    return b"\xda" + struct.pack(">H", n) + b


def submit_frame(api_key, idem, body):
    """A SUBMIT frame: [1, 6, api_key, idempotency_key, body]."""
    return b"\x95\x01\x06" + mp_str(api_key) + mp_str(idem) + mp_str(body)


class IngressCrashClass(HostileCase):
    """The same class of bytes on the ZeroMQ ingress, from a service with
    a listed key: each request is answered with a 4xx REPLY whose body is
    the usual error object, and the broker lives on."""

    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def request(self, frames):
        paths = []
        for i, f in enumerate(frames):
            path = os.path.join(self.c.tmp, "frame-%d" % i)
            with open(path, "wb") as fh:
                fh.write(f)
            paths.append(path)
        args = []
        for p in paths:
            args += ["--frame", p]
        rc, out = self.c.zpeer("request", self.c.ingress[0], *args,
                               key="cli")
        return rc, [l for l in out.splitlines() if l.startswith(("reply",
                                                                 "undec",
                                                                 "no "))]

    def test_hostile_frames_answered(self):
        key = self.key.encode()
        job = json.dumps(video_body()).encode()
        frames = [
            submit_frame(key, b"", b'{"model":"\xff","prompt":"x"}'),
            submit_frame(key, b"", b'{"\xff\xfe":1}'),
            submit_frame(key, b"", b"\xc3"),
            submit_frame(key, b"\xff\xfe", job),          # idempotency key
            submit_frame(b"\xff" * 40, b"", job),          # API key
            submit_frame(key, b"\x00\x01", job),
            b"\x95\x01\x06\xa1\xff",                     # cut short
            b"\xff\xfe\xfd",                               # not msgpack
            b"\x93\x01\x63\xa0",                          # unknown type
            b"",                                          # empty
        ]
        rc, lines = self.request(frames)
        self.assertEqual(len(lines), len(frames), lines)
        for frame, line in zip(frames, lines):
            with self.subTest(frame=frame):
                parts = line.split(" ", 2)
                self.assertEqual(parts[0], "reply", line)
                self.assertTrue(400 <= int(parts[1]) < 500, line)
                doc = json.loads(parts[2])
                self.assertEqual(list(doc), ["error"], doc)
                self.assertTrue(doc["error"]["message"], doc)
        self.assertEqual(rc, 0)


class Gauntlet(harness.ClusterTestCase):
    """Every kind of attack above, one after another, against one whole
    deployment (broker, worker, deliverer, simulator, receiver); then no
    process has restarted, the broker's memory is bounded, nothing was
    written or charged, and a real client's job still goes from submit to
    a verified webhook, with the audit clean. (Each attack is tried in
    depth by its own class here and in test_zmq_curve, test_webhook_ssrf,
    test_provider_answers, test_redis_auth and test_secrets.)"""

    CLUSTER = dict(workers=1, deliverers=1,
                   env={"REELAY_LIMITS_AUTH_FAILURES_BURST": "5"})

    # Written on timers or by the roles' own bookkeeping, not by requests.
    TIMERS = ("rl:lock:*", "rl:workers:*", "rl:hb:*", "rl:wjobs:*",
              "rl:provider_health", "rl:health:*")

    def attack_http(self, port):
        raw_http(port, b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n")
        raw_http(port, b"POST /v1/video/generations HTTP/1.1\r\nHost: x"
                 b"\r\nContent-Length: 2\r\nContent-Length: 9\r\n\r\n{}")
        raw_http(port, b"GARBAGE\r\n\r\n")
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            s.sendall(b"GET / HTTP/1.1\r\nX-Flood: ")
            for _ in range(64):
                s.sendall(b"f" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            s.close()
        for i in range(10):                 # past the guessing budget
            raw_http(port, b"GET /v1/account HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer rk_guess%d\r\n\r\n" % i,
                     src="127.0.0.41")

    def attack_zmq(self, c, acct):
        # A fake worker with no key, then one with a key nobody listed.
        rc, out = c.zpeer("worker", c.dispatch[0], "--seconds", "1",
                          key=None)
        self.assertNotIn("dispatch", out)
        other = os.path.join(c.tmp, "other-keys")
        os.makedirs(other, exist_ok=True)
        rc, out = c.zpeer("worker", c.dispatch[0], "--seconds", "1",
                          key=c.keygen("intruder", other))
        self.assertNotIn("dispatch", out)
        # A forged COMPLETION without a key.
        forged = zmtp_push.completion(acct, "vgen_" + "F" * 24, "completed",
                                      "sealed", {"id": "vgen_" + "F" * 24,
                                                 "status": "completed"})
        rc, out = zmtp_push.push(c, c.completion[0], forged, key=None)
        self.assertNotEqual(rc, 0, out)
        # Hostile frames on the ingress from a listed service.
        path = os.path.join(c.tmp, "hostile-frame")
        with open(path, "wb") as f:
            f.write(b"\x95\x01\x06\xa1\xff")
        c.zpeer("request", c.ingress[0], "--frame", path, key="cli")

    def test_gauntlet(self):
        c = self.c
        acct, key = c.create_account(50)
        port = int(c.url("/").split(":")[2].split("/")[0])
        pids = {p.name: p.pid for p in c.procs}
        rss0 = rss_kb(c.brokers[0].pid)
        before = c.redis.snapshot(exclude=self.TIMERS)

        self.attack_http(port)
        self.attack_zmq(c, acct)

        c.check_alive()
        self.assertEqual({p.name: p.pid for p in c.procs}, pids)
        self.assertLess(rss_kb(c.brokers[0].pid) - rss0, 32 * 1024)
        after = c.redis.snapshot(exclude=self.TIMERS)
        self.assertEqual(before, after, "Redis changed:\n" +
                         harness.snapshot_diff(before, after))
        # A real client, from another address than the guesser's.
        r = c.submit(key, video_body(prompt="after the gauntlet",
                                     webhook_url=c.webhook_url("real")))
        self.assertEqual(r.status, 202, r)
        job = c.wait_job(key, r.json()["id"], timeout=60)
        self.assertEqual(job["status"], "completed", job)
        wait_for(lambda: [d for d in c.deliveries(job["id"])
                          if d.get("verified")], 30, "a verified webhook")
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)


class Framing(HostileCase):
    """A request that two parsers could read two ways is refused and its
    connection closed: nothing hidden in its body runs."""

    CLUSTER = dict(workers=0, deliverers=0, simulator=False, receiver=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acct, cls.key = cls.c.create_account(50)

    def smuggle(self, headers, body, version=b"HTTP/1.1"):
        """Sends a request with a second one hidden after it; returns
        every answer received before the connection closed."""
        hidden = (b"POST /v1/video/generations HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer " + self.key.encode() + b"\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(self.job) + self.job)
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        try:
            s.sendall(post_raw(headers, body + hidden, version=version))
            got = closed_by_peer(s, 15)
        finally:
            s.close()
        self.assertIsNotNone(got, "the connection stayed open")
        return got

    @property
    def job(self):
        return json.dumps(video_body()).encode()

    def assert_refused(self, got, code=b"ambiguous_framing"):
        """One 400 with the API's error object, then the close: whichever
        layer saw the ambiguity first (evhttp refuses some itself)."""
        self.assertRegex(got[:13], rb"^HTTP/1\.[01] 400", got[:200])
        self.assertEqual(len(re.findall(rb"HTTP/1\.[01] \d\d\d", got)), 1,
                         got)
        self.assertIn(b"application/json", got)
        self.assertTrue(code in got or b"malformed_request" in got, got)

    def test_two_content_lengths(self):
        self.assert_refused(self.smuggle(
            [b"Content-Length: 2", b"Content-Length: 40"], b"{}"))

    def test_two_equal_content_lengths(self):
        self.assert_refused(self.smuggle(
            [b"Content-Length: 2", b"Content-Length: 2"], b"{}"))

    def test_content_length_not_digits(self):
        for v in (b"+2", b"0x2", b"2,2", b"-2", b"2.0"):
            with self.subTest(v=v):
                self.assert_refused(self.smuggle([b"Content-Length: " + v],
                                                 b"{}"))

    def test_transfer_encoding_with_content_length(self):
        self.assert_refused(self.smuggle(
            [b"Transfer-Encoding: chunked", b"Content-Length: 7"],
            b"2\r\n{}\r\n0\r\n\r\n"))

    def test_unknown_transfer_encoding(self):
        for te in (b"gzip", b"chunked, gzip", b"xchunked"):
            with self.subTest(te=te):
                self.assert_refused(self.smuggle(
                    [b"Transfer-Encoding: " + te], b""))

    def test_transfer_encoding_on_http10(self):
        self.assert_refused(self.smuggle(
            [b"Transfer-Encoding: chunked"], b"0\r\n\r\n",
            version=b"HTTP/1.0"))

    def test_unknown_version(self):
        """Only HTTP/1.0 and 1.1 are served: another version is answered
        (as HTTP/1.1, 505) and the connection closed."""
        for v in (b"HTTP/1.2", b"HTTP/1.49"):
            with self.subTest(v=v):
                got = self.smuggle([b"Content-Length: 2"], b"{}", version=v)
                self.assertRegex(got[:13], rb"^HTTP/1\.1 505", got[:200])
                self.assertIn(b"http_version_not_supported", got)
                self.assertEqual(
                    len(re.findall(rb"HTTP/1\.[01] \d\d\d", got)), 1, got)
        for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTX/1.1"):
            with self.subTest(v=v):
                got = self.smuggle([b"Content-Length: 2"], b"{}", version=v)
                self.assertRegex(got[:13], rb"^HTTP/1\.[01] (400|505)",
                                 got[:200])
                self.assertIn(b"application/json", got)

    def test_refused_connections_leave_nothing(self):
        """Connections the server closes itself hold no descriptor after,
        and libevent's warnings do not reach the log per connection (it
        warns at such a close: rl_httpd's filter drops its socket after
        evhttp freed the connection)."""
        broker = self.c.brokers[0]
        pid = broker.pid
        # The peer sees the close once the broker has closed its socket.
        self.smuggle([b"Content-Length: 2", b"Content-Length: 4"], b"{}")
        nfd = len(os.listdir("/proc/%d/fd" % pid))
        for i in range(60):
            self.smuggle([b"Content-Length: 2", b"Content-Length: 4"], b"{}")
            self.smuggle([b"Content-Length: 2"], b"{}", version=b"HTTP/1.3")
        wait_for(lambda: len(os.listdir("/proc/%d/fd" % pid)) <= nfd, 30,
                 "descriptors back to %d" % nfd)
        self.assertLessEqual(broker.log_count("libevent:"), 10)

    def test_chunked_alone_accepted(self):
        """One 'Transfer-Encoding: chunked' and nothing else is fine."""
        body = self.job
        chunked = b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n"
        st, h, resp = raw_http(self.port, post_raw(
            [b"Authorization: Bearer " + self.key.encode(),
             b"Transfer-Encoding: chunked", b"Connection: close"], chunked))
        self.assertEqual(st, 202, resp)
        # It wrote a job: the snapshot check does not apply.
        self.before = self.c.redis.snapshot(exclude=VOLATILE)


if __name__ == "__main__":
    harness.main()
