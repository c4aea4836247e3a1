"""The webhook SSRF guard: URLs whose host is (or resolves to) an address
that is not globally reachable (loopback, private, link-local / cloud
metadata, multicast, unspecified, CGNAT, documentation, benchmarking,
reserved, ...) or one of this machine's own addresses are refused at
connect time, without any traffic, in every spelling of the address;
[webhook] allow opens named ranges (this cluster's config opens
127.0.0.1/32 for the receiver, nothing else), but this machine's own
addresses only when it names them exactly; redirects are not followed;
URLs with credentials or longer than 2 KiB are refused at submit with
400.

"Without traffic" is proven on a second receiver listening on
127.0.0.2, a loopback address outside the allowlist, and for this
machine's own address on a listener on 0.0.0.0 (or ::) of a free port:
each would record any connection, and records none. The own address is
the first non-loopback one `ip -j addr` lists; a machine without one
gets a dummy interface (or a veth pair) holding a documentation address
for the length of this file, when the test runs as root (set
REELAY_TEST_SSRF_MAKE_ADDRESS=1 to take that path anyway); otherwise the
own-address tests are skipped.
"""

import http.server
import ipaddress
import json
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402

MAX_URL = 2048
# A refusal made before any connection takes no network time; the bound
# leaves room for a loaded machine and stays below the webhook timeout.
# (The listener's empty count is what shows no connection was made.)
REFUSED_MS = 1000


def auth(key):
    return {"Authorization": "Bearer " + key}


# ---- this machine's own address ------------------------------------------

class Own:
    """A non-loopback address of this machine: family, its text as
    inet_ntop spells it (as the guard names it), and URLs to it."""

    def __init__(self, family, addr):
        self.family = family
        self.addr = socket.inet_ntop(family, socket.inet_pton(family, addr))

    def url(self, port, path):
        host = self.addr if self.family == socket.AF_INET else \
            "[%s]" % self.addr
        return "http://%s:%d%s" % (host, port, path)

    def network(self):
        """A range around the address (its /24 or /64), to open in
        [webhook] allow without naming the address."""
        bits = 24 if self.family == socket.AF_INET else 64
        return str(ipaddress.ip_network("%s/%d" % (self.addr, bits),
                                        strict=False))


OWN = None       # the Own the tests use, or None
OWN_SKIP = None  # why there is none
MADE_IFACE = None  # the interface setUpModule created, removed after


def _listed_addresses():
    """(family, address) of every interface, as `ip -j addr` lists them:
    IPv4 other than 127/8 first, then IPv6 of global scope (a link-local
    one would need its zone in the URL)."""
    out = subprocess.run(["ip", "-j", "addr"], capture_output=True,
                         timeout=10, check=True).stdout
    v4, v6 = [], []
    for link in json.loads(out.decode()):
        for a in link.get("addr_info", []):
            ip = ipaddress.ip_address(a["local"])
            if ip.is_loopback:
                continue
            if a["family"] == "inet":
                v4.append((socket.AF_INET, a["local"]))
            elif a["family"] == "inet6" and a.get("scope") == "global":
                v6.append((socket.AF_INET6, a["local"]))
    return v4 + v6


def _ip(*args):
    subprocess.run(["ip"] + list(args), check=True, timeout=10,
                   capture_output=True)


def _make_address():
    """Gives this machine a documentation address of its own on a new
    dummy interface (or, without the dummy driver, one end of a veth
    pair); returns (interface, address)."""
    name = "rlssrf%d" % (os.getpid() % 100000)
    addr = "198.51.100.%d" % (2 + os.getpid() % 250)
    try:
        _ip("link", "add", name, "type", "dummy")
    except subprocess.CalledProcessError:
        _ip("link", "add", name, "type", "veth", "peer", "name", name + "p")
        _ip("link", "set", name + "p", "up")
    try:
        _ip("addr", "add", addr + "/32", "dev", name)
        _ip("link", "set", name, "up")
    except BaseException:
        _ip("link", "del", name)
        raise
    return name, addr


def setUpModule():
    global OWN, OWN_SKIP, MADE_IFACE
    if shutil.which("ip") is None:
        OWN_SKIP = "no `ip` command to list this machine's addresses"
        return
    listed = _listed_addresses()
    if listed and not os.environ.get("REELAY_TEST_SSRF_MAKE_ADDRESS"):
        OWN = Own(*listed[0])
        return
    if os.geteuid() != 0:
        OWN_SKIP = ("this machine has no non-loopback address, and only "
                    "root can give it one (a dummy interface)")
        return
    MADE_IFACE, addr = _make_address()
    OWN = Own(socket.AF_INET, addr)


def tearDownModule():
    if MADE_IFACE is not None:
        _ip("link", "del", MADE_IFACE)


def own_or_skip():
    if OWN is None:
        raise unittest.SkipTest(OWN_SKIP)
    return OWN


class Listener:
    """An HTTP server on the wildcard address (0.0.0.0, or :: for IPv6)
    of a free port, in a thread: it answers 200 to every POST and counts
    the connections it accepts."""

    def __init__(self, family):
        outer = self
        self.connections = 0
        self.requests = []  # (path, headers) of each POST
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                with outer.lock:
                    outer.requests.append((self.path, {
                        k.lower(): v for k, v in self.headers.items()}))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            address_family = family
            daemon_threads = True
            allow_reuse_address = True

            def verify_request(self, request, client):
                with outer.lock:
                    outer.connections += 1
                return True

        wildcard = "0.0.0.0" if family == socket.AF_INET else "::"
        for _ in range(50):
            self.port = harness.free_port()
            try:
                self.server = Server((wildcard, self.port), Handler)
                break
            except OSError:
                continue
        else:
            raise AssertionError("no free port on %s" % wildcard)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return self.connections

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
        return False


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
                 rkeys.outbox_score(c.redis, ref) is None, timeout,
                 "the delivery of %s to end" % jid)
        return c.job_hash(self.acct, jid)

    def log(self, jid):
        return [json.loads(x) for x in self.c.redis.lrange(
            rkeys.deliveries(self.acct, jid))]

    def deliverer_log(self):
        with open(self.c.deliverers[0].log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def assert_own_address_refused(self):
        """A webhook to this machine's own address, where a listener on
        the wildcard address would answer, is refused as "this host"
        before any connection."""
        own = own_or_skip()
        with Listener(own.family) as lis:
            url = own.url(lis.port, "/hook")
            jid = self.submit(url, "this-host")
            h = self.final(jid)
            self.assertEqual((h["wh_state"], h["wh_attempts"]),
                             ("failed", "1"), h)
            (e,) = self.log(jid)
            self.assertEqual((e["status"], e["outcome"], e["url"]),
                             (0, "failed", url), e)
            self.assertEqual(e["error"], "address not allowed: %s "
                             "(this host)" % own.addr, e)
            self.assertLessEqual(e["latency_ms"], REFUSED_MS, e)
            holds_for(lambda: lis.count() == 0, 0.5,
                      "no connection to the listener")
            self.assertIn("webhook connect to %s refused: this host "
                          "address not allowed" % own.addr,
                          self.deliverer_log())
            # The listener does answer whoever may reach it there.
            r = harness.http_post_json(url, {"probe": 1})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(lis.count(), 1)


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
            self.assertLessEqual(e["latency_ms"], REFUSED_MS, e)
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

    def test_own_address_refused(self):
        self.assert_own_address_refused()

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


class OwnAddressRangeOpened(GuardBase):
    """[webhook] allow opening the network around this machine's address
    does not open the address itself."""

    @classmethod
    def setUpClass(cls):
        own = own_or_skip()
        cls.CLUSTER = dict(env={"REELAY_WEBHOOK_ALLOW": "127.0.0.1/32, %s"
                                % own.network()})
        super().setUpClass()

    def test_own_address_refused_in_an_opened_range(self):
        self.assert_own_address_refused()


class OwnAddressNamed(GuardBase):
    """[webhook] allow naming this machine's address opens it."""

    @classmethod
    def setUpClass(cls):
        cls.own = own_or_skip()
        cls.CLUSTER = dict(env={"REELAY_WEBHOOK_ALLOW": "127.0.0.1/32, %s"
                                % cls.own.addr})
        super().setUpClass()

    def test_named_own_address_is_delivered(self):
        with Listener(self.own.family) as lis:
            jid = self.submit(self.own.url(lis.port, "/hook"), "named")
            self.assertEqual(self.final(jid)["wh_state"], "delivered")
            with lis.lock:
                ((path, headers),) = lis.requests
            self.assertEqual(path, "/hook")
            self.assertEqual(headers["x-creativeai-delivery-id"], jid)


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
