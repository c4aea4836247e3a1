"""Redis credentials: every process authenticates ([redis] username,
password, password_file), the least-privilege ACL of docs/security.md is
enough for everything reelay does and no more, and a wrong or missing
password makes every role "not ready" (and the CLI fail cleanly) instead
of crashing, until Redis accepts the password the roles retry with.
"""

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, http_get, video_body  # noqa: E402

DOCS = os.path.join(harness.SOURCE, "docs", "security.md")
USER = "reelay"


def acl_rules():
    """The ACL SETUSER rules of docs/security.md (the block that starts
    with "ACL SETUSER reelay"), as a list, with ">PASSWORD" in place."""
    with open(DOCS) as f:
        text = f.read()
    m = re.search(r"^ACL SETUSER reelay (.*?)^```", text, re.M | re.S)
    if m is None:
        raise AssertionError("no 'ACL SETUSER reelay' block in %s" % DOCS)
    return m.group(1).split()


def acl_file_lines():
    """{where: rules} of the one-line ACL file form of the same user in
    docs/security.md and deploy/redis.conf."""
    out = {}
    for path in (DOCS, os.path.join(harness.SOURCE, "deploy", "redis.conf")):
        with open(path) as f:
            m = re.search(r"^#? ?user reelay on #SHA256 (.*)$", f.read(),
                          re.M)
        if m is None:
            raise AssertionError("no 'user reelay' line in %s" % path)
        out[path] = m.group(1).split()
    return out


def source_commands():
    """Every Redis command the sources send: redis.call/pcall in the Lua
    scripts, and in C the first word of redisCommand/redisAppendCommand
    formats and of argument vectors built for Redis."""
    found = set()
    lua = os.path.join(harness.SOURCE, "common", "lua")
    for name in os.listdir(lua):
        if name.endswith(".lua"):
            with open(os.path.join(lua, name)) as f:
                found.update(m.upper() for m in re.findall(
                    r"redis\.p?call\(\s*['\"](\w+)['\"]", f.read()))
    c_patterns = [
        r"redis(?:Append)?Command\(\s*\w+,\s*\"([A-Za-z]+)",
        r"\*\s*\w+\[[^\]]*\]\s*=\s*\{\s*\"([A-Z]+)\"",
        r"\b(?:av|argv)\[0\]\s*=\s*\"([A-Z]+)\"",
    ]
    for d in ("common", "broker", "worker", "deliverer", "launcher"):
        top = os.path.join(harness.SOURCE, d)
        for name in os.listdir(top):
            if not name.endswith(".c"):
                continue
            with open(os.path.join(top, name)) as f:
                text = f.read()
            if "redis" not in text.lower():
                continue
            for p in c_patterns:
                found.update(m.upper() for m in re.findall(p, text))
    return found


class LeastPrivilegeAcl(harness.PerTestClusterCase):

    def test_acl_covers_every_command_in_the_sources(self):
        # "+cluster|slots" allows one subcommand of CLUSTER.
        allowed = {r[1:].split("|")[0].upper() for r in acl_rules()
                   if r.startswith("+")}
        found = source_commands()
        # The scan must see the commands it knows are there.
        self.assertTrue({"EVALSHA", "EVAL", "PING", "HGETALL", "HINCRBY",
                         "ZADD", "SMEMBERS", "TIME"} <= found, found)
        # AUTH needs no permission: a user can always authenticate.
        self.assertEqual(sorted(found - allowed - {"AUTH"}), [],
                         "commands the sources send that the ACL of "
                         "docs/security.md does not allow")
        self.assertEqual(sorted(allowed - found), [],
                         "ACL entries no source sends")
        # The ACL file form says the same, wherever it is written.
        want = [r for r in acl_rules()
                if r not in ("reset", "on", ">PASSWORD")]
        for path, rules in acl_file_lines().items():
            self.assertEqual(rules, want, path)

    def test_flow_and_audit_as_the_acl_user(self):
        password = secrets.token_hex(16)
        pwdir = tempfile.mkdtemp(prefix="reelay-acl-")
        self.addCleanup(shutil.rmtree, pwdir, True)
        pwfile = os.path.join(pwdir, "redis-password")
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (password + "\n").encode())
        os.close(fd)
        rules = [">" + password if r == ">PASSWORD" else r
                 for r in acl_rules()]

        def create_user(c):
            c.redis.call("ACL", "SETUSER", USER, *rules)
            c.redis.call("ACL", "LOG", "RESET")

        # Every process, and every `reelay` command the harness runs,
        # authenticates as the ACL user with the password from a file.
        c = self.cluster(redis_setup=create_user, env={
            "REELAY_REDIS_USERNAME": USER,
            "REELAY_REDIS_PASSWORD": "",
            "REELAY_REDIS_PASSWORD_FILE": pwfile,
        })
        # The three roles are connected as the ACL user (the deliverer
        # may still be on its way when the cluster says it is up).
        wait_for(lambda: len([
            ln for ln in c.redis.call("CLIENT", "LIST").splitlines()
            if " user=%s " % USER in ln]) >= 3, 15,
            "broker, worker and deliverer connected as %s" % USER)

        acct, key = c.create_account(50)
        ok = c.submit(key, video_body(prompt="acl ok [sim render_ms=100]",
                                      webhook_url=c.webhook_url("acl")))
        self.assertEqual(ok.status, 202, ok)
        bad = c.submit(key, video_body(
            prompt="acl fail [sim fail=permanent render_ms=100]",
            webhook_url=c.webhook_url("acl")))
        self.assertEqual(bad.status, 202, bad)
        done = c.outcome(acct, key, ok.json()["id"])
        self.assertEqual(done["job"]["status"], "completed", done["job"])
        self.assertTrue(done["deliveries"][0]["verified"], done)
        failed = c.outcome(acct, key, bad.json()["id"])
        self.assertEqual(failed["job"]["status"], "failed", failed["job"])
        self.assertTrue(failed["job"].get("refunded_at"), failed["job"])
        self.assertEqual(c.account(key)["credits"], 50 - 3)

        rc, out = c.audit()
        self.assertEqual(rc, 0, out)
        self.assertIn("audit ok: accounts=1 jobs=2 violations=0", out)

        # Nothing reelay did was refused by the ACL...
        denied = c.redis.call("ACL", "LOG")
        self.assertEqual(denied, [], "ACL refusals: %r" % (denied,))
        # ...and the user can do nothing else.
        as_user = harness.Redis(c.redis_port, password=password,
                                username=USER)
        self.addCleanup(as_user.close)
        self.assertEqual(as_user.call("PING"), "PONG")
        for cmd in (["CONFIG", "GET", "maxmemory"], ["FLUSHALL"],
                    ["KEYS", "*"], ["SET", "other:key", "1"],
                    ["GET", "other:key"], ["ACL", "WHOAMI"],
                    ["PUBLISH", "rl:chan", "x"]):
            with self.assertRaises(harness.RedisError, msg=cmd) as e:
                as_user.call(*cmd)
            self.assertIn("NOPERM", str(e.exception), cmd)


class WrongPassword(harness.PerTestClusterCase):

    def test_roles_not_ready_until_the_password_works(self):
        P = harness.free_port
        wport, dport = P(), P()
        c = self.cluster(env={
            "REELAY_HEALTH_WORKER_STATUS_LISTEN": "127.0.0.1:%d" % wport,
            "REELAY_WEBHOOK_DELIVERER_STATUS_LISTEN": "127.0.0.1:%d" % dport,
            "REELAY_REDIS_RECONNECT_MAX_MS": "300",
        })
        acct, key = c.create_account(10)
        wbase = "http://127.0.0.1:%d" % wport
        dbase = "http://127.0.0.1:%d" % dport
        # Restart every role: the broker and the worker with a wrong
        # password, the deliverer with none (Redis answers NOAUTH).
        for p in c.brokers + c.workers + c.deliverers:
            p.stop()
        good = c.redis_password
        c.extra_env["REELAY_REDIS_PASSWORD"] = "wrong-" + good
        c.start_broker(0)
        c.start_worker(0)
        c.extra_env["REELAY_REDIS_PASSWORD"] = ""
        c.start_deliverer(0)
        for base in (c.url(""), wbase, dbase):
            wait_for(lambda: http_get(base + "/healthz", timeout=2).status
                     == 200, 15, "%s /healthz" % base)
        # Several failed attempts (the backoff retries), each role alive
        # and not ready, one error line per role however many attempts.
        for base in (wbase, dbase):
            wait_for(lambda: http_get(base + "/stats").json()
                     ["redis_auth_failures"] >= 3, 15,
                     "%s: 3 AUTH failures" % base)
        for base in (c.url(""), wbase, dbase):
            self.assertEqual(http_get(base + "/readyz").status, 503, base)
        r = c.submit(key, video_body(prompt="not while unauthenticated"))
        self.assertEqual(r.status, 503, r)
        self.assertIn("retry-after", r.headers)
        self.assert_roles_alive(c)
        for p in c.brokers + c.workers:
            self.assertEqual(p.log_count("authentication as the default "
                                         "user failed (WRONGPASS"), 1,
                             p.tail())
        self.assertEqual(c.deliverers[0].log_count(
            "the server requires a password ([redis] password or "
            "password_file)"), 1, c.deliverers[0].tail())

        # The command-line tools stop at once, with a reason, no crash.
        env = c.env()
        env["REELAY_REDIS_PASSWORD"] = "wrong-" + good
        r = subprocess.run(
            [os.path.join(c.bin, "reelay"), "audit", "-c", c.config],
            env=env, cwd=c.tmp, capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 2, r)
        self.assertIn(b"refused AUTH as the default user: WRONGPASS",
                      r.stderr)
        env["REELAY_REDIS_PASSWORD"] = ""
        r = subprocess.run(
            [os.path.join(c.bin, "reelay"), "account", "create", "-c",
             c.config], env=env, cwd=c.tmp, capture_output=True,
            timeout=30)
        self.assertEqual(r.returncode, 1, r)
        self.assertIn(b"requires a password", r.stderr)

        # Redis takes the roles' password now: the broker and the worker
        # authenticate at their next retry, without a restart.
        c.redis.call("ACL", "SETUSER", "default", ">wrong-" + good)
        for base in (c.url(""), wbase):
            wait_for(lambda: http_get(base + "/readyz", timeout=2).status
                     == 200, 15, "%s /readyz == 200" % base)
        for p in c.brokers + c.workers:
            wait_for(lambda: p.log_count("authenticated, answering again")
                     == 1, 10, "%s says it authenticated" % p.name)
        self.assertEqual(http_get(dbase + "/readyz").status, 503)
        self.assert_roles_alive(c)

    def assert_roles_alive(self, c):
        self.assertEqual([p.name for p in c.brokers + c.workers +
                          c.deliverers if not p.alive()], [])


if __name__ == "__main__":
    harness.main()
