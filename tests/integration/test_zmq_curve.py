"""ZeroMQ links authenticated (docs/security.md, "ZeroMQ: CURVE and
ZAP"): on dispatch, completion and ingress a peer with no key (the NULL
mechanism) or with a valid key its link does not list gets nothing: no
DISPATCH, no COMPLETION acted on (not even fail-open while Redis is
down), no submission; a listed key works; an allow file edited while
everything runs takes effect without a restart, both ways; a worker
refused at first connects once its key is listed; denials are counted
and logged rate-limited; key files are checked at start.

The peers are tools/zpeer.c (reelay-zpeer), which reports what the
server made of its handshake.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
import zmtp_push  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402


def log_text(proc):
    with open(proc.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class Peer:
    """A reelay-zpeer worker running in the background; lines() is what
    it printed so far."""

    def __init__(self, c, key, seconds):
        argv = [os.path.join(c.bin, "reelay-zpeer"), "worker",
                c.dispatch[0], "--seconds", str(seconds), "--credit", "5"]
        if key is not None:
            argv += ["--key-file", key, "--server-pub",
                     os.path.join(c.keys_dir, "broker.pub")]
        self.p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT)
        self.out = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for raw in self.p.stdout:
            self.out.append(raw.decode("utf-8", "replace").strip())

    def lines(self):
        return list(self.out)

    def dispatches(self):
        return [ln for ln in self.lines() if ln.startswith("dispatch ")]

    def wait(self, timeout=30):
        rc = self.p.wait(timeout=timeout)
        self.t.join(5)
        self.p.stdout.close()
        return rc

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.wait()


class CurveCase(harness.PerTestClusterCase):

    def intruder(self, c):
        """A valid key pair that no allow file lists."""
        other = os.path.join(c.tmp, "other-keys")
        os.makedirs(other, exist_ok=True)
        return c.keygen("intruder", other), c.public_key("intruder", other)

    def queued_job(self, c, key, tag):
        r = c.submit(key, video_body(prompt="curve %s [sim render_ms=100]"
                                     % tag))
        self.assertEqual(r.status, 202, r)
        return r.json()["id"]

    def pending(self, c, acct, jid):
        return c.job_hash(acct, jid).get("status") == "pending"


class Dispatch(CurveCase):

    def test_only_listed_workers_get_dispatches(self):
        c = self.cluster(workers=0, deliverers=0)
        acct, key = c.create_account(50)
        jid = self.queued_job(c, key, "dispatch")
        broker = c.brokers[0]
        ipath, ipub = self.intruder(c)

        # No key: the CURVE server refuses the NULL mechanism.
        rc, out = c.zpeer("worker", c.dispatch[0], "--seconds", "2",
                          key=None)
        self.assertEqual(rc, 3, out)
        self.assertIn("handshake refused", out)
        self.assertNotIn("dispatch ", out)
        # A valid key that dispatch.allow does not list: ZAP says 400.
        rc, out = c.zpeer("worker", c.dispatch[0], "--seconds", "2",
                          key=ipath)
        self.assertEqual(rc, 3, out)
        self.assertIn("handshake refused auth 400", out)
        self.assertNotIn("dispatch ", out)
        wait_for(lambda: "zap: denied key %s" % ipub in log_text(broker),
                 10, "the broker logs the denied key")
        self.assertTrue(self.pending(c, acct, jid))
        self.assertNotIn("joined", log_text(broker))

        # The listed worker key gets the job at once.
        rc, out = c.zpeer("worker", c.dispatch[0], "--seconds", "3",
                          key="worker")
        self.assertEqual(rc, 0, out)
        self.assertIn("handshake ok", out)
        self.assertIn("dispatch %s %s" % (acct, jid), out)
        c.check_alive()

    def test_allow_file_edits_without_restart(self):
        c = self.cluster(workers=0, deliverers=0)
        acct, key = c.create_account(50)
        broker = c.brokers[0]
        ipath, ipub = self.intruder(c)
        worker_pub = c.public_key("worker")

        # Listed by an edit: admitted, and dispatched to.
        c.write_allow("dispatch", [worker_pub, ipub])
        peer = Peer(c, ipath, seconds=60)
        try:
            wait_for(lambda: "heartbeat" in peer.lines(), 15,
                     "the broker's heartbeat at the newly listed peer")
            jid = self.queued_job(c, key, "listed")
            wait_for(lambda: "dispatch %s %s" % (acct, jid) in peer.lines(),
                     15, "DISPATCH of %s to the newly listed peer" % jid)

            # Unlisted by an edit while connected: forgotten within the
            # reload period, and sent nothing more.
            c.write_allow("dispatch", [worker_pub])
            wait_for(lambda: "key no longer in dispatch.allow"
                     in log_text(broker), 15,
                     "the broker forgets the unlisted peer")
            n = len(peer.dispatches())
            jid2 = self.queued_job(c, key, "unlisted")
            holds_for(lambda: self.pending(c, acct, jid2) and
                      len(peer.dispatches()) == n, 2.0,
                      "no DISPATCH to the unlisted peer")
            self.assertEqual(peer.p.poll(), None)
        finally:
            peer.stop()
        # And a new connection with that key is refused.
        rc, out = c.zpeer("worker", c.dispatch[0], "--seconds", "1",
                          key=ipath)
        self.assertIn("handshake refused auth 400", out)
        self.assertEqual(rc, 3, out)
        c.check_alive()

    def test_refused_worker_connects_once_listed(self):
        # The worker starts before its key is listed on either link: it
        # is refused, says so, and keeps trying until an edit lists it.
        c = self.cluster(workers=0, deliverers=1)
        c.write_allow("dispatch", [])
        acct, key = c.create_account(50)
        w = c.start_worker(0)
        wait_for(lambda: "refused our CURVE handshake" in log_text(w), 15,
                 "the worker logs the refused handshake")
        jid = self.queued_job(c, key, "late")
        holds_for(lambda: self.pending(c, acct, jid), 1.0,
                  "nothing dispatched to the unlisted worker")
        c.write_allow("dispatch", [c.public_key("worker")])
        job = c.wait_job(key, jid, timeout=60)
        self.assertEqual(job["status"], "completed", job)
        c.check_alive()


class Ingress(CurveCase):

    def test_only_listed_services_submit(self):
        c = self.cluster(workers=0, deliverers=0)
        acct, key = c.create_account(50)
        body = json.dumps(video_body(prompt="over ingress"))
        kf = c.write_private("api-key", key + "\n")
        ipath, ipub = self.intruder(c)
        keys_before = c.redis.scan("rl:job:*")

        rc, out = c.zpeer("submit", c.ingress[0], "--api-key-file", kf, body,
                          key=None)
        self.assertEqual((rc, out.strip()), (3, "handshake refused"))
        rc, out = c.zpeer("submit", c.ingress[0], "--api-key-file", kf, body,
                          key=ipath)
        self.assertEqual((rc, out.strip()), (3, "handshake refused"))
        self.assertEqual(c.redis.scan("rl:job:*"), keys_before)
        self.assertEqual(c.account(key)["credits"], 50)
        wait_for(lambda: "zap: denied key %s" % ipub
                 in log_text(c.brokers[0]), 10, "the denial logged")

        # reelay submit uses cli.key, which ingress.allow lists.
        rc, st, doc, out = c.cli_submit(key, body)
        self.assertEqual((rc, st), (0, 202), out)
        # Listed by an edit: the service's key works at once.
        c.write_allow("ingress", [c.public_key("cli"), ipub])
        rc, out = c.zpeer("submit", c.ingress[0], "--api-key-file", kf, body,
                          key=ipath)
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.startswith("reply 202 "), out)
        # And unlisted again: refused again.
        c.write_allow("ingress", [c.public_key("cli")])
        rc, out = c.zpeer("submit", c.ingress[0], "--api-key-file", kf, body,
                          key=ipath)
        self.assertEqual((rc, out.strip()), (3, "handshake refused"))
        # The CLI says why when its key is not listed.
        c.write_allow("ingress", [ipub])
        rc, st, doc, out = c.cli_submit(key, body)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("refused our CURVE key", out)
        self.assertEqual(c.account(key)["credits"], 50 - 2 * 3)
        c.check_alive()


class Completion(CurveCase):

    def test_forged_completion_during_redis_outage(self):
        # The attack: Redis is down, so a deliverer delivers fail-open
        # from the COMPLETION alone, signed with the job's real key. A
        # forged one names the attacker's URL. Only a listed worker's
        # COMPLETION may get that far.
        status_port = harness.free_port()
        c = self.cluster(workers=1, deliverers=1, env={
            "REELAY_REDIS_RECONNECT_MAX_MS": "300",
            "REELAY_WEBHOOK_DELIVERER_STATUS_LISTEN":
                "127.0.0.1:%d" % status_port})
        acct, key = c.create_account(50)
        r = c.submit(key, video_body(prompt="curve real [sim render_ms=100]",
                                     webhook_url=c.webhook_url("real")))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        wait_for(lambda: c.job_hash(acct, jid).get("wh_state") ==
                 "delivered", 20, "the real webhook delivered")
        real = zmtp_push.completion_of(c.redis, acct, jid)
        h = c.job_hash(acct, jid)
        sealed = c.redis.hget(rkeys.apikey(h["key_hash"]), "sealed")
        fields = {k: h[k] for k in zmtp_push.COMPLETION_FIELDS if k in h}
        fields["webhook_url"] = c.webhook_url("forged")
        forged = zmtp_push.completion(acct, jid, "completed", sealed, fields)
        self.assertNotEqual(forged, real)
        dlv = c.deliverers[0]
        ipath, ipub = self.intruder(c)

        c.redis_proc.stop(grace=10)
        wait_for(lambda: "disconnected" in log_text(dlv), 15,
                 "the deliverer sees Redis gone")

        def forged_hits():
            return [d for d in c.deliveries()
                    if "/webhooks/forged" in d.get("path", "")]

        rc, out = zmtp_push.push(c, c.completion[0], forged, key=None)
        self.assertEqual(rc, 3, out)
        rc, out = zmtp_push.push(c, c.completion[0], forged, key=ipath)
        self.assertEqual(rc, 3, out)
        self.assertIn("handshake refused auth 400", out)
        stats = "http://127.0.0.1:%d/stats" % status_port
        wait_for(lambda: harness.http_get(stats).json()["zap_denied"] == 1,
                 10, "one ZAP denial counted")
        holds_for(lambda: forged_hits() == [], 1.5,
                  "no webhook for a forged COMPLETION")
        self.assertIn("zap: denied key %s" % ipub, log_text(dlv))

        # The control: the same frame from a listed key is delivered
        # fail-open, so the path the refusals closed was open.
        c.write_allow("completion", [c.public_key("worker"), ipub])
        rc, out = zmtp_push.push(c, c.completion[0], forged, key=ipath)
        self.assertEqual(rc, 0, out)
        wait_for(lambda: len(forged_hits()) == 1, 20,
                 "the listed key's COMPLETION delivered fail-open")
        self.assertTrue(dlv.alive() and c.workers[0].alive())

    def test_denials_logged_rate_limited(self):
        status_port = harness.free_port()
        c = self.cluster(workers=0, deliverers=1, env={
            "REELAY_WEBHOOK_DELIVERER_STATUS_LISTEN":
                "127.0.0.1:%d" % status_port})
        ipath, _ = self.intruder(c)
        n = 20
        t0 = time.monotonic()
        for _ in range(n):
            rc, out = zmtp_push.push(c, c.completion[0], b"\x90", key=ipath)
            self.assertEqual(rc, 3, out)
        stats = "http://127.0.0.1:%d/stats" % status_port
        wait_for(lambda: harness.http_get(stats).json()["zap_denied"] == n,
                 10, "%d ZAP denials counted" % n)
        elapsed = time.monotonic() - t0
        lines = log_text(c.deliverers[0]).count("zap: denied")
        # One line at once, then at most one summary per 10 s.
        self.assertGreaterEqual(lines, 1)
        self.assertLessEqual(lines, 2 + int(elapsed / 10), lines)
        c.check_alive()


class KeyFiles(CurveCase):

    def check(self, c, role, env=None):
        e = c.env()
        e.update(env or {})
        r = subprocess.run([os.path.join(c.bin, "reelay-" + role), "-c",
                            c.config, "--check-config"], env=e,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=15)
        return r.returncode, (r.stdout + r.stderr).decode()

    def test_keygen_and_startup_checks(self):
        c = self.cluster(brokers=1, workers=0, deliverers=0,
                         simulator=False, receiver=False)
        d = os.path.join(c.tmp, "gen")
        path = c.keygen("svc-a", d)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(d).st_mode & 0o777, 0o700)
        self.assertEqual(len(c.public_key("svc-a", d)), 40)
        r = c.reelay("keygen", "-c", c.config, "--dir", d, "svc-a")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"not overwritten", r.stderr)

        for role in ("broker", "worker", "deliverer"):
            rc, out = self.check(c, role)
            self.assertEqual(rc, 0, out)
        key = os.path.join(c.keys_dir, "broker.key")
        os.chmod(key, 0o644)
        rc, out = self.check(c, "broker")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(key, out)
        self.assertIn("chmod 600", out)
        os.chmod(key, 0o600)
        # The secret from the environment instead of the file.
        with open(key) as f:
            secret = [ln.strip() for ln in f if not ln.startswith("# ")][0]
        os.rename(key, key + ".away")
        rc, out = self.check(c, "broker")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(key, out)
        rc, out = self.check(c, "broker", {"REELAY_ZMQ_SECRET_BROKER":
                                           secret})
        self.assertEqual(rc, 0, out)
        os.rename(key + ".away", key)
        allow = os.path.join(c.keys_dir, "completion.allow")
        with open(allow, "a") as f:
            f.write("not-a-key\n")
        rc, out = self.check(c, "deliverer")
        self.assertNotEqual(rc, 0, out)
        self.assertIn(allow + ":3:", out)
        os.unlink(os.path.join(c.keys_dir, "deliverer.pub"))
        rc, out = self.check(c, "worker")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("deliverer.pub", out)


class Launcher(unittest.TestCase):

    def test_up_makes_keys_and_allow_files(self):
        P = harness.free_port
        tmp = tempfile.mkdtemp(prefix="reelay-up-keys-")
        ing = "tcp://127.0.0.1:%d" % P()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("REELAY_")}
        env.update({
            "REELAY_REDIS_PORT": str(P()),
            "REELAY_HTTP_LISTEN": "127.0.0.1:%d" % P(),
            "REELAY_ZMQ_INGRESS": ing,
            "REELAY_ZMQ_DISPATCH": "tcp://127.0.0.1:%d" % P(),
            "REELAY_ZMQ_COMPLETION": "tcp://127.0.0.1:%d" % P(),
            "REELAY_LAUNCHER_DATA_DIR": tmp,
            "REELAY_LAUNCHER_SIMULATOR": "false",
            "REELAY_LAUNCHER_RECEIVER": "false",
            "REELAY_HEALTH_INTERVAL_S": "3600",
        })
        log = open(os.path.join(tmp, "up.log"), "wb")
        up = subprocess.Popen([os.path.join(harness.PerTestClusterCase.BIN,
                                            "reelay"), "up", "-c",
                               harness.CONFIG], env=env, cwd=tmp,
                              stdin=subprocess.DEVNULL, stdout=log,
                              stderr=subprocess.STDOUT)
        log.close()
        try:
            wait_for(lambda: up.poll() is None and os.path.exists(
                os.path.join(tmp, "demo-key")), 30, "reelay up started")
            keys = os.path.join(tmp, "keys")
            self.assertEqual(stat.S_IMODE(os.stat(keys).st_mode), 0o700)
            for name in ("broker", "worker", "deliverer", "cli"):
                m = stat.S_IMODE(os.stat(os.path.join(
                    keys, name + ".key")).st_mode)
                self.assertEqual(m, 0o600, name)
            for link, peer in (("dispatch", "worker"),
                               ("completion", "worker"),
                               ("ingress", "cli")):
                path = os.path.join(keys, link + ".allow")
                self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
                with open(os.path.join(keys, peer + ".pub")) as f:
                    pub = [ln.strip() for ln in f
                           if not ln.startswith("#")][0]
                with open(path) as f:
                    listed = [ln.split()[0] for ln in f
                              if ln.strip() and not ln.startswith("#")]
                self.assertEqual(listed, [pub], link)
            r = subprocess.run(
                [os.path.join(harness.PerTestClusterCase.BIN, "reelay"),
                 "submit", "-c", harness.CONFIG, "--key-file",
                 os.path.join(tmp, "demo-key"),
                 json.dumps(video_body())], env=env, cwd=tmp,
                stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r)
            self.assertTrue(r.stdout.startswith(b"202 "), r)
        finally:
            up.send_signal(signal.SIGTERM)
            try:
                up.wait(timeout=20)
            except subprocess.TimeoutExpired:
                up.kill()
                up.wait()
            if not os.environ.get("REELAY_KEEP_TMP"):
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
