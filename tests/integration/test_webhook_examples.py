"""The webhook verification examples of examples/ (docs/webhooks.md) run
on real deliveries recorded by the receiver from a running stack: the
Node (node:crypto), Python (hmac) and C (libcrypto) verifiers of the
CreativeAI scheme, and the Standard Webhooks verifiers (Node with the
standardwebhooks npm package, Python, C). Each must accept the real
delivery and reject a tampered body, a wrong key and, for the timestamped
scheme, a stale timestamp (validly signed, too old) and a forged one;
each also checks the test vectors of docs/webhooks.md.

The npm package comes from scripts/deps.sh, which installs it with
`npm ci` from the committed package-lock.json into
build-deps/node/node_modules: the test needs no network and writes
nothing in examples/. verify-standard.mjs (and verify.mjs, which it
imports) run from a copy in the test's temporary directory, beside a
link to those node_modules (an ES module resolves its imports from its
own directory up, not from NODE_PATH)."""

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

EXAMPLES = os.path.join(harness.SOURCE, "examples")
STALE_S = 600  # beyond the 5-minute tolerance of every verifier

SEED_VECTOR = {
    "key": "rk_test_4f9c2a7e1b8d",
    "body": b'{"id":"vgen_abc123","object":"video.generation","status":'
            b'"completed","model":"kling-v3","prompt":"Product reveal '
            b'animation on white background","output_url":"https://cdn.'
            b'creativeai.run/output/video-abc123.mp4","credits":3,'
            b'"failover_used":false,"completed_at":"2026-03-10T14:23:01Z"}',
    "headers": {"x-creativeai-signature": "sha256=439b334f97f944568661381a"
                "8a5865852c2483a96884e5cfd75aa5462b749f1a"},
}
STD_VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "body": b'{"test": 2432232314}',
    "headers": {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "webhook-timestamp": "1614265330",
                "webhook-signature":
                    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
}


def std_sign(secret, msg_id, ts, body):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%s." % (msg_id, ts)).encode() + body,
                   hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


NODE_MODULES = os.path.join(harness.SOURCE, "build-deps", "node",
                            "node_modules")


def node_examples(work):
    """Copies the Node examples into `work` beside a link to the
    installed node_modules; returns the path of verify-standard.mjs
    there."""
    if not os.path.isdir(os.path.join(NODE_MODULES, "standardwebhooks")):
        raise AssertionError("%s has no standardwebhooks: run "
                             "scripts/deps.sh" % NODE_MODULES)
    for name in ("verify.mjs", "verify-standard.mjs"):
        shutil.copy(os.path.join(EXAMPLES, name), work)
    os.symlink(NODE_MODULES, os.path.join(work, "node_modules"))
    return os.path.join(work, "verify-standard.mjs")


class Examples(harness.ClusterTestCase):
    CLUSTER = dict(retry_schedule="0,0.2")

    @classmethod
    def setUpClass(cls):
        if shutil.which("node") is None:
            raise AssertionError("node is not installed (scripts/deps.sh)")
        cls.c_verifier = os.path.join(cls.BIN, "reelay-example-verify")
        if not os.access(cls.c_verifier, os.X_OK):
            raise AssertionError("missing %s (build first)" % cls.c_verifier)
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="reelay-examples-")
        cls.addClassCleanup(shutil.rmtree, cls.work, ignore_errors=True)
        cls.verify_standard = node_examples(cls.work)
        c = cls.c
        _, cls.seed_key = c.create_account(20)
        _, cls.std_key = c.create_account(20)
        cls.secret = cls.settings(cls.std_key, {"signing": "both"})["secret"]
        cls.seed = cls.delivery(cls.seed_key, "seed")
        cls.std = cls.delivery(cls.std_key, "std")
        cls.new_secret = cls.settings(cls.std_key,
                                      {"rotate_secret": True})["secret"]
        cls.rotating = cls.delivery(cls.std_key, "rotating")

    @classmethod
    def settings(cls, key, body):
        r = harness.http_request("PUT", cls.c.url("/v1/account/webhooks"),
                                 body=json.dumps(body),
                                 headers={"Authorization": "Bearer " + key})
        assert r.status == 200, r
        return r.json()

    @classmethod
    def delivery(cls, key, tag):
        """(headers, raw body) of a real delivery of a new job."""
        c = cls.c
        r = c.submit(key, video_body(prompt="examples %s [sim render_ms=50]"
                                     % tag, webhook_url=c.webhook_url(tag)))
        assert r.status == 202, r
        jid = r.json()["id"]
        d = wait_for(lambda: c.deliveries(jid) and c.deliveries(jid)[0], 15,
                     "the delivery of %s" % jid)
        return dict(d["headers"]), d["body"].encode()

    # running the verifiers

    def run_verifier(self, verifier, headers, body):
        argv, secret_env = verifier
        n = len(os.listdir(self.work))
        hpath = os.path.join(self.work, "h%d.txt" % n)
        bpath = os.path.join(self.work, "b%d.json" % n)
        with open(hpath, "w") as f:
            for name, value in headers.items():
                f.write("%s: %s\r\n" % (name, value))
        with open(bpath, "wb") as f:
            f.write(body)
        env = {k: v for k, v in os.environ.items()
               if k not in ("REELAY_API_KEY", "REELAY_WEBHOOK_SECRET")}
        env.update(secret_env)
        r = subprocess.run(argv + [hpath, bpath], cwd=EXAMPLES, env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=30)
        out = r.stdout.decode().strip()
        return r.returncode, out, r.stderr.decode()

    # Each verifier: its command line and its environment. The key or
    # secret is only ever in the environment.

    def seed_verifiers(self, key):
        env = {"REELAY_API_KEY": key}
        return {"node": (["node", "verify.mjs"], env),
                "python": ([sys.executable, "verify.py", "--key"], env),
                "c": ([self.c_verifier, "--key"], env)}

    def std_verifiers(self, secret, now=None):
        env = {"REELAY_WEBHOOK_SECRET": secret}
        out = {"python": ([sys.executable, "verify.py", "--secret"], env),
               "c": ([self.c_verifier, "--secret"], env)}
        if now is not None:
            for argv, _ in out.values():
                argv += ["--now", str(now)]
        else:  # the npm package always measures against the clock
            out["node-standardwebhooks"] = (["node", self.verify_standard],
                                            env)
        return out

    def test_secret_never_on_the_command_line(self):
        """Without the variable each verifier refuses (2) and says which
        variable to set; an old-style secret argument is a usage error."""
        headers, body = self.seed
        both = dict(self.seed_verifiers(self.seed_key),
                    **{"std-" + k: v for k, v in
                       self.std_verifiers(self.secret).items()})
        for name, (argv, env) in both.items():
            with self.subTest(verifier=name):
                rc, out, err = self.run_verifier((argv, {}), headers, body)
                self.assertEqual(rc, 2, (out, err))
                self.assertIn(list(env)[0], err)
        for name, (argv, env) in self.seed_verifiers(self.seed_key).items():
            if name == "node":
                continue  # takes no options
            with self.subTest(verifier=name, old_style=True):
                rc, out, err = self.run_verifier(
                    (argv + [self.seed_key], env), headers, body)
                self.assertEqual(rc, 2, (out, err))

    def expect(self, verifiers, headers, body, valid, what):
        for name, verifier in verifiers.items():
            rc, out, err = self.run_verifier(verifier, headers, body)
            if valid:
                self.assertEqual((rc, out), (0, "valid"),
                                 "%s on %s: %s %s" % (name, what, out, err))
            else:
                self.assertEqual(rc, 1, "%s on %s: rc %d %s %s" % (
                    name, what, rc, out, err))
                self.assertTrue(out.startswith("invalid"), (name, what, out))

    # the CreativeAI scheme

    def test_seed_scheme_real_delivery(self):
        headers, body = self.seed
        self.assertNotIn("webhook-signature", headers)
        self.expect(self.seed_verifiers(self.seed_key), headers, body, True,
                    "a real delivery")

    def test_seed_scheme_rejects_tampering(self):
        headers, body = self.seed
        doc = json.loads(body)
        doc["output_url"] = "https://attacker.example/v.mp4"
        tampered = json.dumps(doc, separators=(",", ":")).encode()
        verifiers = self.seed_verifiers(self.seed_key)
        self.expect(verifiers, headers, tampered, False, "a tampered body")
        self.expect(verifiers, headers, body + b" ", False, "a padded body")
        self.expect(self.seed_verifiers(self.std_key), headers, body, False,
                    "another account's key")
        no_sig = {k: v for k, v in headers.items()
                  if k != "x-creativeai-signature"}
        self.expect(verifiers, no_sig, body, False, "no signature")
        # The right number of characters, one of them not ASCII: more
        # bytes than the signature (a byte-length compare must reject it,
        # not throw).
        sig = headers["x-creativeai-signature"]
        odd = dict(headers, **{"x-creativeai-signature": sig[:-1] + "\u00e9"})
        self.expect(verifiers, odd, body, False, "a non-ASCII signature")

    def test_seed_scheme_vector(self):
        v = SEED_VECTOR
        self.expect(self.seed_verifiers(v["key"]), v["headers"], v["body"],
                    True, "the published vector")

    # Standard Webhooks

    def test_standard_real_delivery(self):
        headers, body = self.std
        self.assertIn("webhook-signature", headers)
        self.expect(self.std_verifiers(self.secret), headers, body, True,
                    "a real delivery")
        # "both": the CreativeAI signature is on it too.
        self.expect(self.seed_verifiers(self.std_key), headers, body, True,
                    "the same delivery, CreativeAI scheme")

    def test_standard_rejects_tampering_and_stale_timestamps(self):
        headers, body = self.std
        verifiers = self.std_verifiers(self.secret)
        self.expect(verifiers, headers, body.replace(b"completed",
                                                     b"Completed", 1),
                    False, "a tampered body")
        self.expect(self.std_verifiers(self.new_secret), headers, body,
                    False, "a secret that did not sign it")
        # A replay with a newer timestamp but the old signature.
        forged = dict(headers, **{"webhook-timestamp": str(
            int(headers["webhook-timestamp"]) + 1)})
        self.expect(verifiers, forged, body, False, "a forged timestamp")
        # Validly signed, but ten minutes old.
        old = str(int(time.time()) - STALE_S)
        stale = dict(headers, **{
            "webhook-timestamp": old,
            "webhook-signature": std_sign(self.secret, headers["webhook-id"],
                                          old, body)})
        self.expect(verifiers, stale, body, False, "a stale timestamp")
        # The same stale request is fine at its own time: only the age
        # made it fail.
        self.expect(self.std_verifiers(self.secret, now=old), stale, body,
                    True, "the stale request at its own time")

    def test_standard_rotation_either_secret(self):
        headers, body = self.rotating
        self.assertEqual(len(headers["webhook-signature"].split(" ")), 2,
                         headers)
        for secret in (self.secret, self.new_secret):
            self.expect(self.std_verifiers(secret), headers, body, True,
                        "a delivery signed during a rotation")

    def test_standard_vector(self):
        v = STD_VECTOR
        ts = int(v["headers"]["webhook-timestamp"])
        self.expect(self.std_verifiers(v["secret"], now=ts), v["headers"],
                    v["body"], True, "the published vector")
        self.expect(self.std_verifiers(v["secret"]), v["headers"],
                    v["body"], False, "the published vector, years later")


if __name__ == "__main__":
    harness.main()
