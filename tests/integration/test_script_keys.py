"""The declared contract of every Lua script (common/lua): each key a
script touches is one its caller built in C and passed in KEYS.

  - statically: no script of DECLARED makes a key name, i.e. holds no
    string literal that starts with "rl:" (_lib.lua's keyed helpers take
    their keys from the table their script fills from KEYS);
  - at run time: a whole deployment (broker, worker, deliverer) takes
    accounts, keys, jobs over both front doors, renders them, delivers
    and redelivers webhooks, reads every view and sweeps, while a MONITOR
    connection records every command Redis runs. Each command a script
    runs (MONITOR's "lua" lines, which follow the EVALSHA, or the
    launcher's EVAL, that ran them)
    touches only keys (COMMAND GETKEYS) among that EVALSHA's KEYS, and
    every script of DECLARED the run exercises is seen at least once;
  - the keys of one call of a script of ONE_SLOT all hash to one slot
    (CRC16 of the hash tag, as Redis Cluster computes it).

Scripts not yet converted to declared keys are listed in PENDING and
skipped: the list only shrinks.
"""

import hashlib
import signal
import os
import re
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, video_body  # noqa: E402
from task_client import TaskClient  # noqa: E402
import rkeys  # noqa: E402

LUA_DIR = os.path.join(harness.SOURCE, "common", "lua")
SCRIPTS = sorted(f[:-4] for f in os.listdir(LUA_DIR)
                 if f.endswith(".lua") and not f.startswith("_"))
# Every script declares its keys, all of one partition (one hash slot).
DECLARED = SCRIPTS
ONE_SLOT = set(SCRIPTS)
# Declared scripts this run does not reach: outbox_done records only a
# fail-open delivery (Redis away; test_dedup), outbox_defer only an
# entry whose host is busy (test_webhook_isolation). Their keys are
# checked statically here, not at run time. The retention step's run
# only once a job's retention has passed: test_retention.py
# (Flow.test_h_retention_scripts_declare_their_keys) watches them the
# same way.
NOT_EXERCISED = {"outbox_done", "outbox_defer", "retain_due", "retain_read",
                 "retain_remove", "retain_ledger_read", "retain_ledger_pop"}

MONITOR_LINE = re.compile(r'^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$')
QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unquote(s):
    """The bytes of one MONITOR argument (sdscatrepr escapes), as text."""
    out, i = bytearray(), 0
    simple = {"n": 10, "r": 13, "t": 9, "a": 7, "b": 8, "\\": 92, '"': 34}
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out.append(simple.get(n, ord(n)))
            i += 2
            continue
        out.extend(c.encode())
        i += 1
    return out.decode("utf-8", "replace")


def crc16(data):
    """CRC16-CCITT (XMODEM), Redis Cluster's key hash."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def slot(key):
    k = key.encode()
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return crc16(k) % 16384


class Monitor:
    """Every command Redis runs while it is open, as (origin, [args])."""

    def __init__(self, port, password):
        self.sock = socket.create_connection(("127.0.0.1", port))
        if password:
            pw = password.encode()
            self.sock.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n"
                              % (len(pw), pw))
        self.sock.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
        self.lines = []
        self.stopped = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buf = b""
        while not self.stopped:
            try:
                chunk = self.sock.recv(1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                self.lines.append(line.decode("utf-8", "replace"))

    def close(self):
        self.stopped = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)

    def commands(self):
        for line in self.lines:
            if not line.startswith("+"):
                continue
            m = MONITOR_LINE.match(line[1:])
            if m:
                yield m.group(1), [unquote(a) for a in
                                   QUOTED.findall(m.group(2))]


class ScriptKeys(harness.ClusterTestCase):
    CLUSTER = dict(workers=1, deliverers=1, retry_schedule="0,0.3,0.6")

    def test_static_no_key_names(self):
        for name in DECLARED:
            with open(os.path.join(LUA_DIR, name + ".lua")) as f:
                bad = [line for line in f if re.search(r"""['"]rl:""",
                                                         line)]
            self.assertEqual(bad, [], "%s.lua makes a key name" % name)

    def exercise(self):
        c = self.c
        acct, key = c.create_account(100)
        jids = []
        for i in range(3):
            r = c.submit(key, video_body(webhook_url=c.webhook_url("sk")))
            self.assertEqual(r.status, 202, r)
            jids.append(r.json()["id"])
        for jid in jids:
            c.wait_job(key, jid)
            wait_for(lambda: c.job_hash(acct, jid).get("wh_state")
                     == "delivered", 30, "delivery of %s" % jid)
        h = {"Authorization": "Bearer " + key}
        self.assertEqual(harness.http_get(
            c.url("/v1/video/generations/%s/deliveries" % jids[0]),
            headers=h).status, 200)
        harness.http_post_json(
            c.url("/v1/video/generations/%s/redeliver" % jids[0]), {},
            headers=h)
        # One delivery that fails for good, so that the failed list and
        # its recovery have a job to read and requeue.
        base = c.start_extra_receiver()
        c.receiver_control({"fail_next": 3, "status": 500}, base)
        r = c.submit(key, video_body(webhook_url=base + "/sk-failed"))
        self.assertEqual(r.status, 202, r)
        bad = r.json()["id"]
        wait_for(lambda: c.job_hash(acct, bad).get("wh_state") == "failed",
                 30, "the failed delivery of %s" % bad)
        r = harness.http_get(c.url("/v1/webhooks/failed"), headers=h)
        self.assertEqual([e["id"] for e in r.json()["data"]], [bad], r)
        r = harness.http_post_json(c.url("/v1/webhooks/recover"),
                                   {"from": 0}, headers=h)
        self.assertEqual(r.json()["recovered"], 1, r)
        harness.http_request("PUT", c.url("/v1/account/webhooks"),
                             body=b'{"signing": "creativeai"}',
                             headers=dict(h, **{
                                 "Content-Type": "application/json"}))
        c.account(key)
        c.ledger(key)
        r = harness.http_post_json(c.url("/v1/account/keys"), {}, headers=h)
        if r.status in (200, 201):
            kid = r.json().get("id")
            if kid:
                harness.http_request("DELETE",
                                     c.url("/v1/account/keys/" + kid),
                                     headers=h)
        tc = TaskClient(c.url("/api/v1"), key)
        tid = tc.create_task("kling-v3", "a task through the second door")
        tc.wait(tid)
        self.exercise_reaper(acct, key)

    def exercise_reaper(self, acct, key):
        """The reaper's steps: a dead worker's job (reap_worker), then
        that job at the head of a queue no worker takes (reap_expire),
        and a dispatched ref never claimed (reap_unclaimed)."""
        c = self.c
        r = c.submit(key, video_body(prompt="held [sim render_ms=60000]"))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        wait_for(lambda: c.job_hash(acct, jid).get("task_id"), 30,
                 "job %s rendering" % jid)
        w = c.workers[0]
        os.kill(w.pid, signal.SIGKILL)
        wait_for(lambda: not w.alive(), 10, "the worker to exit")
        wait_for(lambda: c.job_hash(acct, jid).get("state") == "queued",
                 30, "job %s taken back from the dead worker" % jid)
        # Two sweeps after that one, each known by a dispatched ref never
        # claimed that it takes away: the second began after the first
        # ended, and the first met the job at the head of its queue.
        for n in range(2):
            ref = rkeys.ref(acct, "vgen_never_claimed_%d" % n)
            c.redis.call("ZADD", rkeys.of_acct(rkeys.dispatched, acct),
                         "0", ref)
            wait_for(lambda: c.redis.zscore(
                rkeys.of_acct(rkeys.dispatched, acct), ref) is None, 30,
                "the unclaimed ref %s swept" % ref)

    def test_runtime_keys_declared(self):
        c = self.c
        shas = {harness.script_sha(s): s for s in SCRIPTS}
        mon = Monitor(c.redis_port, c.redis_password)
        try:
            self.exercise()
        finally:
            mon.close()
        getkeys = harness.Redis(c.redis_port, password=c.redis_password)
        seen, problems = set(), []
        current = None  # (name, declared keys) of the script running
        for origin, args in mon.commands():
            if not args:
                continue
            if origin != "lua":
                current = None
                if args[0].lower() in ("evalsha", "eval") and len(args) > 2:
                    # The launcher's blocking connection sends EVAL with
                    # the source (launcher/admin.c): named by its SHA1.
                    sha = args[1] if args[0].lower() == "evalsha" else \
                        hashlib.sha1(args[1].encode()).hexdigest()
                    name = shas.get(sha)
                    nk = int(args[2])
                    keys = args[3:3 + nk]
                    current = (name, set(keys))
                    if name is not None:
                        seen.add(name)
                        if name in ONE_SLOT and \
                                len({slot(k) for k in keys}) > 1:
                            problems.append("%s: KEYS span slots: %r"
                                            % (name, keys))
                continue
            if current is None or current[0] is None:
                continue
            try:
                touched = getkeys.call("COMMAND", "GETKEYS", *args)
            except harness.RedisError:
                touched = []  # a command with no key (TIME)
            for k in touched or []:
                if k not in current[1]:
                    problems.append("%s: %s touches %r, not in KEYS %r" % (
                        current[0], args[0], k, sorted(current[1])))
        getkeys.close()
        self.assertEqual(problems[:20], [])
        missing = set(DECLARED) - seen - NOT_EXERCISED
        self.assertEqual(missing, set(), "declared scripts never run")


if __name__ == "__main__":
    harness.main()
