"""Black-box integration harness for reelay.

Real processes on free loopback ports: a real redis-server (with a random
password, so every process authenticates), the provider
simulator, the webhook receiver, and N brokers / workers / deliverers run
from the build directory with environment overrides of
deploy/reelay.ini. Python 3 standard library only.

Every wait is a deadline-bounded poll (wait_for); nothing sleeps blindly.
Every process started here is stopped by its pid (SIGTERM, then SIGKILL
after a grace period), and the stop fails the test when one did not exit
cleanly or a sanitizer reported in its log; the temporary directory is
removed unless REELAY_KEEP_TMP is set. docs/internals.md (Tests) has the
rules for tests that hold on a busy machine.

Usage from a test file:

    import harness
    BIN = harness.parse_bin()          # strips --bin DIR from sys.argv
    ...
    with harness.Cluster(BIN, workers=1) as c:
        acct, key = c.create_account(50)
        status, job = c.submit(key, {...})
"""

import fcntl
import fnmatch
import hashlib
import hmac
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

import rkeys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("REELAY_SOURCE") or os.path.normpath(
    os.path.join(HERE, "..", ".."))
DEFAULT_BIN = os.path.join(SOURCE, "build")
CONFIG = os.path.join(SOURCE, "deploy", "reelay.ini")

POLL_S = 0.02  # condition polling period of wait_for


# ---- command line --------------------------------------------------------

def parse_bin(argv=None):
    """Removes "--bin DIR" / "--bin=DIR" from sys.argv and returns DIR
    (default: build/ of the source tree), so unittest.main() never sees
    it."""
    argv = sys.argv if argv is None else argv
    out = DEFAULT_BIN
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--bin" and i + 1 < len(argv):
            out = argv[i + 1]
            del argv[i:i + 2]
            continue
        if a.startswith("--bin="):
            out = a[len("--bin="):]
            del argv[i]
            continue
        i += 1
    return os.path.abspath(out)


# ---- waiting -------------------------------------------------------------

class WaitTimeout(AssertionError):
    pass


def wait_for(cond, timeout, what, interval=POLL_S):
    """Polls cond() every `interval` seconds until it returns a truthy
    value, which is returned. Raises WaitTimeout naming `what` (and the
    last value or exception seen) when `timeout` seconds pass. Errors of a
    service not ready yet (any exception) are retried; an assertion
    inside cond() is not: it must hold on every poll, and fails at once."""
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = cond()
            last_exc = None
            if last:
                return last
        except AssertionError:
            raise
        except Exception as e:  # conditions may hit not-yet-ready services
            last_exc = e
        if time.monotonic() >= deadline:
            detail = ("last exception: %r" % (last_exc,) if last_exc
                      is not None else "last value: %r" % (last,))
            raise WaitTimeout("timed out after %.1fs waiting for %s (%s)"
                              % (timeout, what, detail))
        time.sleep(interval)


def holds_for(cond, duration, what, interval=POLL_S):
    """Asserts that cond() stays truthy for `duration` seconds (checked
    every `interval`). Used only to confirm that nothing more happens
    after the system says it is done, never as a wait for progress."""
    deadline = time.monotonic() + duration
    while True:
        v = cond()
        if not v:
            raise AssertionError("%s stopped holding (value %r)" % (what, v))
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---- ports ---------------------------------------------------------------

_reserved = set()
_reserved_lock = threading.Lock()
# Ports are also reserved across the test processes ctest runs side by
# side: a port is this process's only while it holds an flock on
# <tmp>/reelay-test-ports/<port> (released by the kernel when the
# process ends, however it ends). Without it two processes can both
# find a port free and the second server to bind it fails.
_PORT_DIR = os.path.join(tempfile.gettempdir(), "reelay-test-ports")
_port_locks = []


# Listening ports come from below the kernel's ephemeral range: a port the
# kernel hands out for bind(0) is also what every outgoing connection
# (curl, hiredis, ZeroMQ) is given, so between our check and the server's
# bind another process's connection could take it. Below the range only
# other listeners compete, and each test process draws from a random
# spot so that parallel tests rarely probe the same ports.
PORT_LOW, PORT_HIGH = 20000, 32000


def _lock_port(port):
    """Takes port's cross-process lock; False when another process of
    the suite holds it."""
    os.makedirs(_PORT_DIR, exist_ok=True)
    fd = os.open(os.path.join(_PORT_DIR, str(port)),
                 os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _port_locks.append(fd)  # held until the process ends
    return True


def free_port():
    """A loopback TCP port that was free a moment ago, outside the
    ephemeral range. Ports handed out by this process are never handed
    out twice, nor one another test process of the suite holds
    (_lock_port)."""
    with _reserved_lock:
        for _ in range(1000):
            port = random.randrange(PORT_LOW, PORT_HIGH)
            if port in _reserved or not _lock_port(port):
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            finally:
                s.close()
            _reserved.add(port)
            return port
    raise RuntimeError("no free port")


# ---- RESP client ---------------------------------------------------------

class RedisError(Exception):
    pass


class Redis:
    """A tiny blocking RESP2 client: enough to read and poke state. With a
    password, AUTH [username] password is the first command of every
    connection."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, password=None,
                 username=None):
        self.addr = (host, port)
        self.timeout = timeout
        self.password = password
        self.username = username
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(self.addr, timeout=self.timeout)
        self.buf = b""
        if self.password:
            auth = [self.username] if self.username else []
            try:
                self._send(["AUTH"] + auth + [self.password])
                r = self._reply()
            except (OSError, ConnectionError):
                self.close()
                raise
            if isinstance(r, RedisError):
                self.close()
                raise r

    def _send(self, args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            if not isinstance(a, bytes):
                a = str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RedisError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n).decode("utf-8",
                                                            "replace")
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise RedisError("bad RESP type %r" % line)

    def call(self, *args):
        if self.sock is None:
            self._connect()
        try:
            self._send(args)
            r = self._reply()
        except (OSError, ConnectionError):
            self.close()
            raise
        if isinstance(r, RedisError):
            raise r
        return r

    # conveniences
    def ping(self):
        return self.call("PING") == "PONG"

    def get(self, k):
        return self.call("GET", k)

    def hgetall(self, k):
        r = self.call("HGETALL", k) or []
        return dict(zip(r[0::2], r[1::2]))

    def hget(self, k, f):
        return self.call("HGET", k, f)

    def zrange(self, k, start=0, stop=-1, withscores=False):
        if withscores:
            r = self.call("ZRANGE", k, start, stop, "WITHSCORES")
            return [(m, float(s)) for m, s in zip(r[0::2], r[1::2])]
        return self.call("ZRANGE", k, start, stop)

    def zcard(self, k):
        return self.call("ZCARD", k)

    def zscore(self, k, m):
        r = self.call("ZSCORE", k, m)
        return None if r is None else float(r)

    def exists(self, k):
        return self.call("EXISTS", k)

    def dbsize(self):
        return self.call("DBSIZE")

    def keys(self, pattern="*"):
        return self.call("KEYS", pattern)

    def scan(self, pattern="*"):
        cursor, out = "0", []
        while True:
            cursor, batch = self.call("SCAN", cursor, "MATCH", pattern,
                                      "COUNT", 1000)
            out.extend(batch)
            if cursor == "0":
                return sorted(set(out))

    def lrange(self, k, a=0, b=-1):
        return self.call("LRANGE", k, a, b)

    def value(self, k):
        """(type, value) of any key, in a comparable form."""
        t = self.call("TYPE", k)
        if t == "string":
            return t, self.call("GET", k)
        if t == "hash":
            return t, self.hgetall(k)
        if t == "list":
            return t, self.call("LRANGE", k, 0, -1)
        if t == "set":
            return t, sorted(self.call("SMEMBERS", k))
        if t == "zset":
            return t, self.zrange(k, withscores=True)
        if t == "stream":
            return t, self.call("XRANGE", k, "-", "+")
        return t, None

    def snapshot(self, exclude=()):
        """{key: (type, value)} of every key (TTLs ignored) except those
        matching one of the fnmatch patterns in `exclude`."""

        snap = {}
        for k in self.scan("*"):
            if any(fnmatch.fnmatchcase(k, p) for p in exclude):
                continue
            snap[k] = self.value(k)
        return snap


def snapshot_diff(a, b):
    """A readable description of how two snapshots differ ('' if equal)."""
    lines = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            lines.append("+ %s = %r" % (k, b[k]))
        elif k not in b:
            lines.append("- %s = %r" % (k, a[k]))
        elif a[k] != b[k]:
            lines.append("~ %s: %r -> %r" % (k, a[k], b[k]))
    return "\n".join(lines)


# ---- HTTP ----------------------------------------------------------------

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-cased names
        self.body = body        # bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<HTTP %d %r>" % (self.status, self.body[:300])


def http_request(method, url, body=None, headers=None, timeout=10.0):
    """One request on a fresh connection; never raises on HTTP errors."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        path = u.path or "/"
        if u.query:
            path += "?" + u.query
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        return Response(r.status, hdrs, data)
    finally:
        conn.close()


def http_get(url, headers=None, timeout=10.0):
    return http_request("GET", url, headers=headers, timeout=timeout)


def http_post_json(url, obj, headers=None, timeout=10.0, raw=None):
    """POSTs obj as JSON (or the bytes/str `raw` verbatim)."""
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    body = raw if raw is not None else json.dumps(obj)
    if isinstance(body, str):
        body = body.encode()
    return http_request("POST", url, body=body, headers=h, timeout=timeout)


# ---- signatures ----------------------------------------------------------

def sign(key, raw_body):
    if isinstance(key, str):
        key = key.encode()
    if isinstance(raw_body, str):
        raw_body = raw_body.encode()
    return hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def verify_signature(header, raw_body, key):
    """True when header is "sha256=HEX" of HMAC-SHA256(key, raw_body);
    compared in constant time."""
    if not isinstance(header, str) or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(key, raw_body).encode(),
                               header[len("sha256="):].encode())


def lua_source(name):
    """The text of common/lua/<name>."""
    with open(os.path.join(SOURCE, "common", "lua", name)) as f:
        return f.read()


def fault_drops(proc, what):
    """How many messages rl_fault_drop(what) dropped in proc (each drop
    is logged: common/rl_crash.h)."""
    return proc.log_count("fault point: %s dropped" % what)


def script_sha(name):
    """The SHA1 EVALSHA names the embedded script `name` by:
    common/lua/_lib.lua, a newline, then name.lua (embed.cmake)."""
    lua = os.path.join(SOURCE, "common", "lua")
    with open(os.path.join(lua, "_lib.lua"), "rb") as f:
        text = f.read() + b"\n"
    with open(os.path.join(lua, name + ".lua"), "rb") as f:
        text += f.read()
    return hashlib.sha1(text).hexdigest()


class ScriptCalls:
    """Records every command Redis runs (slowlog-log-slower-than 0) while
    the `with` block runs; calls(name) then lists the arguments (after
    the SHA and numkeys) of each EVALSHA of the embedded script `name`,
    oldest first. The slow log keeps at most 32 arguments of a call and
    128 bytes of each."""

    def __init__(self, redis):
        self.redis = redis

    def __enter__(self):
        self.before = self.redis.call("CONFIG", "GET",
                                      "slowlog-log-slower-than")[1]
        self.redis.call("CONFIG", "SET", "slowlog-max-len", "100000")
        self.redis.call("SLOWLOG", "RESET")
        self.redis.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        return self

    def __exit__(self, *exc):
        self.redis.call("CONFIG", "SET", "slowlog-log-slower-than",
                        self.before)
        self.entries = self.redis.call("SLOWLOG", "GET", "-1")
        return False

    def calls(self, name):
        sha = script_sha(name)
        return [e[3][3:] for e in reversed(self.entries)
                if e[3][0].lower() == "evalsha" and e[3][1] == sha]

    def numkeys(self, name):
        """The number of KEYS of each call of `name`, oldest first (read
        even when the slow log cut the call's arguments short)."""
        sha = script_sha(name)
        return [int(e[3][2]) for e in reversed(self.entries)
                if e[3][0].lower() == "evalsha" and e[3][1] == sha]


# ---- processes -----------------------------------------------------------

# Lines a sanitizer prints when it finds a bug (AddressSanitizer,
# LeakSanitizer, UndefinedBehaviorSanitizer). Any of them in any
# process log fails the test, whether or not the process went on.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")

# Exit statuses of a process that died on its own of a bug (a fault, an
# abort): reported at stop even when the test did not look. The tests
# themselves only ever send SIGKILL, SIGTERM, SIGSTOP and SIGCONT, and
# a crash point exits 99.
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS,
                 signal.SIGFPE, signal.SIGILL)

# How long a process has to exit after SIGTERM before it is killed (and
# the test fails). A deliverer drains first, which takes up to its
# webhook timeout; on a loaded machine (and under AddressSanitizer)
# everything is slower.
STOP_GRACE_S = 30.0


class Proc:
    """One process started by the harness. `term_rcs`: the exit statuses
    that are a clean stop after SIGTERM (0 for every role, the tools and
    redis-server: each handles SIGTERM and exits 0)."""

    def __init__(self, name, popen, log_path, term_rcs=(0,), log_start=0):
        self.name = name
        self.popen = popen
        self.log_path = log_path
        # Where this process's part of the log starts: a process started
        # again under the same name appends to the same file.
        self.log_start = log_start
        self.term_rcs = tuple(term_rcs)
        self.problems = []   # what went wrong when it was stopped

    @property
    def pid(self):
        return self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def stop(self, grace=STOP_GRACE_S):
        """SIGTERM by pid, SIGKILL after `grace` seconds; then closes the
        pipe its listening address was read from, if any. Returns the
        exit status. A process that had to be killed, or that exited
        after SIGTERM with a status not in term_rcs, or that had died of
        a crash signal before, is noted in self.problems (checked by
        Cluster.stop)."""
        try:
            return self._stop(grace)
        finally:
            if self.popen.stdout is not None:
                self.popen.stdout.close()

    def _stop(self, grace):
        p = self.popen
        if p.poll() is not None:
            rc = p.returncode
            if rc < 0 and -rc in CRASH_SIGNALS:
                self._problem("had died of signal %d (%s)" % (
                    -rc, signal.Signals(-rc).name))
            return rc
        try:
            os.kill(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            rc = p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = p.wait(timeout=5)
            self._problem("did not exit within %.0f s of SIGTERM (killed)"
                          % grace)
            return rc
        if rc not in self.term_rcs:
            self._problem("exited with status %s after SIGTERM (expected "
                          "%s)" % (rc, " or ".join(map(str, self.term_rcs))))
        return rc

    def _problem(self, text):
        msg = "%s (pid %d) %s" % (self.name, self.pid, text)
        if msg not in self.problems:
            self.problems.append(msg)

    def sanitizer_lines(self, end=None, limit=5):
        """The first lines of this process's part of its log (up to byte
        `end`, where the next process of the same log starts) in which a
        sanitizer reported a bug."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.log_start)
                raw = f.read() if end is None else f.read(
                    max(0, end - self.log_start))
                text = raw.decode("utf-8", "replace")
        except OSError:
            return []
        out = [ln for ln in text.splitlines()
               if any(m in ln for m in SANITIZER_MARKS)]
        return out[:limit]

    def log_count(self, text):
        """How often text occurs in this process's log."""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace").count(text)

    def tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError as e:
            return "(no log: %s)" % e


class Cluster:
    """A whole deployment on loopback. Construct, then start() (or use as
    a context manager). Knobs are keyword arguments; `env` adds or
    overrides REELAY_* variables for every role."""

    def __init__(self, bin_dir=DEFAULT_BIN, brokers=1, workers=1,
                 deliverers=1, retry_schedule="0,0.3,0.6",
                 webhook_timeout_ms=2000, poll_interval_ms=100,
                 env=None, simulator=True, receiver=True,
                 seedance_simulator=False, config_text=None,
                 redis_password=None, redis_setup=None, curve=True,
                 redis_cluster=None):
        self.bin = bin_dir
        # redis_cluster: a running rcluster.RedisCluster the roles use
        # ([redis] cluster = its seeds) instead of a redis-server of
        # their own; self.redis then routes by slot (ClusterClient).
        self.redis_cluster = redis_cluster
        if redis_cluster is not None:
            redis_password = redis_cluster.password
        # redis_password: the password of Redis's default user, which
        # every process (and self.redis) authenticates with; None: a new
        # random one, so every test exercises AUTH; "": none.
        # redis_setup: a callable(cluster) run once Redis answers and
        # before anything else starts (e.g. to create an ACL user).
        self.redis_password = (secrets.token_hex(16) if redis_password is None
                               else redis_password)
        self.redis_setup = redis_setup
        # curve: CURVE + ZAP on every ZeroMQ link (the default); the key
        # pairs and allow files are made in <tmp>/keys either way.
        self.curve = curve
        # config_text: a custom configuration for every process instead
        # of deploy/reelay.ini, for catalogs with providers of their own.
        # A string, or a callable(cluster) -> string called once the
        # simulator listens (so it can name self.sim_url); written to
        # <tmp>/reelay-test.ini. The environment overrides still apply.
        self.config_text = config_text
        self.config = CONFIG
        # seedance_simulator: run a second simulator process that serves
        # sim-seedance alone (the first one then serves sim-kling only),
        # so /_sim/behaviour and /_sim/stats of one provider do not
        # touch the other.
        self.want_seedance_sim = seedance_simulator and simulator
        self.sd_proc = None
        self.n_brokers = brokers
        self.n_workers = workers
        self.n_deliverers = deliverers
        self.retry_schedule = retry_schedule
        self.webhook_timeout_ms = webhook_timeout_ms
        self.poll_interval_ms = poll_interval_ms
        self.extra_env = dict(env or {})
        self.want_simulator = simulator
        self.want_receiver = receiver
        self.tmp = None
        self.procs = []      # every Proc started, in start order
        self.brokers = []
        self.workers = []
        self.deliverers = []
        self.redis_proc = None
        self.sim_proc = None
        self.rcv_proc = None
        self.redis = None
        self.keys = []       # API keys the receiver verifies with
        self.failed = False
        self.stopped = False     # stop() ran
        self.stop_problems = []  # what stop() found wrong

    # -- lifecycle --

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.dump_logs()
            self.stop(check=False)
            raise
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            self.failed = True
            self.dump_logs()
        # With an exception on its way, the stop's problems are printed
        # (by stop) rather than raised over it.
        self.stop(check=et is None)
        return False

    def check_binaries(self):
        need = ["reelay", "reelay-broker", "reelay-zpeer"]
        if self.n_workers:
            need.append("reelay-worker")
        if self.n_deliverers:
            need.append("reelay-deliverer")
        if self.want_simulator:
            need.append("reelay-simulator")
        if self.want_receiver:
            need.append("reelay-receiver")
        missing = [b for b in need
                   if not os.access(os.path.join(self.bin, b), os.X_OK)]
        if missing:
            raise AssertionError("missing in %s: %s (build first)"
                                 % (self.bin, ", ".join(missing)))
        if shutil.which("redis-server") is None:
            raise AssertionError("redis-server is not on PATH")

    def start(self):
        self.check_binaries()
        self.tmp = tempfile.mkdtemp(prefix="reelay-it-")
        self.redis_port = free_port()
        self.http_ports = [free_port() for _ in range(self.n_brokers)]
        self.ingress = ["tcp://127.0.0.1:%d" % free_port()
                        for _ in range(self.n_brokers)]
        self.dispatch = ["tcp://127.0.0.1:%d" % free_port()
                         for _ in range(self.n_brokers)]
        self.completion = ["tcp://127.0.0.1:%d" % free_port()
                           for _ in range(max(1, self.n_deliverers))]
        self.master_key = secrets.token_hex(32)
        self.make_keys()
        if self.redis_cluster is not None:
            import rcluster
            self.redis = rcluster.ClusterClient(self.redis_cluster)
        else:
            self.start_redis()
        if self.redis_setup is not None:
            self.redis_setup(self)
        if self.want_simulator:
            self.start_simulator()
        if self.want_seedance_sim:
            self.start_seedance_simulator()
        if self.config_text is not None:
            self.write_config()
        if self.want_receiver:
            self.start_receiver()
        for i in range(self.n_brokers):
            self.start_broker(i)
        for i in range(self.n_workers):
            self.start_worker(i)
        for i in range(self.n_deliverers):
            self.start_deliverer(i)
        self.wait_ready()
        return self

    def stop(self, check=True):
        """Stops every process (newest first), then removes the temporary
        directory. With `check`, raises AssertionError when a process had
        to be killed, exited after SIGTERM with an unexpected status, had
        died of a crash signal, or logged a sanitizer report; the logs of
        those processes are printed first (and the directory kept while
        REELAY_KEEP_TMP is set, as always). A second call does nothing."""
        if self.stopped:
            return []
        self.stopped = True
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:  # keep stopping the others
                p.problems.append("%s: stopping it raised %r" % (p.name, e))
        if self.redis is not None:
            self.redis.close()
        problems = []
        bad = []
        for i, p in enumerate(self.procs):
            later = [q.log_start for q in self.procs[i + 1:]
                     if q.log_path == p.log_path]
            lines = p.sanitizer_lines(later[0] if later else None)
            mine = list(p.problems) + [
                "%s (pid %d) logged: %s" % (p.name, p.pid, ln)
                for ln in lines]
            if mine:
                bad.append(p)
                problems.extend(mine)
        if problems and self.tmp and os.path.isdir(self.tmp):
            for p in bad:
                sys.stderr.write("\n----- %s (pid %d, exited %s) log tail "
                                 "-----\n%s\n" % (p.name, p.pid,
                                                    p.popen.returncode,
                                                    p.tail(80)))
        if self.tmp and os.path.isdir(self.tmp):
            if os.environ.get("REELAY_KEEP_TMP"):
                sys.stderr.write("REELAY_KEEP_TMP: kept %s\n" % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
        self.stop_problems = problems
        if problems:
            text = "unclean stop of the cluster:\n  " + "\n  ".join(problems)
            if check:
                raise AssertionError(text)
            sys.stderr.write(text + "\n")
        return problems

    def dump_logs(self, n=40):
        for p in self.procs:
            sys.stderr.write("\n----- %s (pid %d, %s) log tail -----\n%s\n"
                             % (p.name, p.pid,
                                "alive" if p.alive() else
                                "exited %s" % p.popen.returncode,
                                p.tail(n)))

    # -- environment --

    def env(self):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("REELAY_") and k not in ("REELAY_KEEP_TMP",):
                del e[k]
        sim = "http://127.0.0.1:%d" % getattr(self, "sim_port", 1)
        e.update({
            "REELAY_CONFIG": self.config,
            "REELAY_REDIS_HOST": "127.0.0.1",
            "REELAY_REDIS_PORT": str(self.redis_port),
            "REELAY_REDIS_EMBEDDED": "false",
            "REELAY_REDIS_PASSWORD": self.redis_password,
            "REELAY_REDIS_CLUSTER": (self.redis_cluster.seeds()
                                     if self.redis_cluster is not None
                                     else ""),
            "REELAY_HTTP_LISTEN": "127.0.0.1:%d" % self.http_ports[0],
            "REELAY_ZMQ_INGRESS": ",".join(self.ingress),
            "REELAY_ZMQ_DISPATCH": ",".join(self.dispatch),
            "REELAY_ZMQ_COMPLETION": ",".join(self.completion),
            "REELAY_ZMQ_HEARTBEAT_MS": "200",
            "REELAY_PROCESSES_BROKER": str(max(1, self.n_brokers)),
            "REELAY_PROCESSES_WORKER": str(max(1, self.n_workers)),
            "REELAY_PROCESSES_DELIVERER": str(max(1, self.n_deliverers)),
            "REELAY_WEBHOOK_RETRY_SCHEDULE": self.retry_schedule,
            "REELAY_WEBHOOK_TIMEOUT_MS": str(self.webhook_timeout_ms),
            "REELAY_WEBHOOK_OUTBOX_SCAN_MS": "100",
            # The host breaker's pause, shortened like the schedule (30 s
            # by default, as long as the last retry gap).
            "REELAY_WEBHOOK_HOST_COOLDOWN_MS": "600",
            "REELAY_PROVIDER_SIM_KLING_BASE_URL": sim,
            "REELAY_PROVIDER_SIM_SEEDANCE_BASE_URL":
                "http://127.0.0.1:%d/api/v3" % getattr(
                    self, "sd_port", getattr(self, "sim_port", 1)),
            "REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS":
                str(self.poll_interval_ms),
            "REELAY_PROVIDER_SIM_SEEDANCE_POLL_INTERVAL_MS":
                str(self.poll_interval_ms),
            "REELAY_JOBS_MAX_WAIT_S": "30",
            "REELAY_JOBS_LEASE_MS": "2000",
            "REELAY_JOBS_CLAIM_TIMEOUT_MS": "1000",
            "REELAY_JOBS_REAPER_INTERVAL_MS": "100",
            "REELAY_SECURITY_MASTER_KEY": self.master_key,
            "REELAY_LAUNCHER_DATA_DIR": self.tmp,
            "REELAY_LAUNCHER_LOG_LEVEL": "info",
            "REELAY_HEALTH_INTERVAL_S": "3600",
            "REELAY_ZMQ_CURVE": "true" if self.curve else "false",
            "REELAY_ZMQ_KEYS_DIR": getattr(self, "keys_dir", ""),
        })
        e.update(self.extra_env)
        return e

    # -- CURVE keys (docs/security.md) --

    KEY_PAIRS = ("broker", "worker", "deliverer", "cli")

    def make_keys(self):
        """The key pair of every role (`reelay keygen`) and the allow file
        of every link, in <tmp>/keys, as `reelay up` makes them."""
        self.keys_dir = os.path.join(self.tmp, "keys")
        for name in self.KEY_PAIRS:
            self.keygen(name)
        self.write_allow("dispatch", [self.public_key("worker")])
        self.write_allow("completion", [self.public_key("worker")])
        self.write_allow("ingress", [self.public_key("cli")])

    def keygen(self, name, directory=None):
        """`reelay keygen NAME --dir DIR` (default: the cluster's keys);
        returns the path of NAME.key."""
        directory = directory or self.keys_dir
        r = self.reelay("keygen", "-c", self.config, "--dir", directory,
                        name)
        if r.returncode != 0:
            raise AssertionError("reelay keygen %s: %s" % (
                name, (r.stdout + r.stderr).decode()))
        return os.path.join(directory, name + ".key")

    def public_key(self, name, directory=None):
        """The Z85 public key in NAME.pub."""
        path = os.path.join(directory or self.keys_dir, name + ".pub")
        with open(path) as f:
            return [ln.strip() for ln in f
                    if ln.strip() and not ln.startswith("# ")][0]

    def write_allow(self, domain, keys):
        """Replaces <keys>/<domain>.allow (by rename, as an editor
        saves) with these public keys."""
        path = os.path.join(self.keys_dir, domain + ".allow")
        with open(path + ".new", "w") as f:
            f.write("# test allow file\n")
            for k in keys:
                f.write(k + "\n")
        os.chmod(path + ".new", 0o600)
        os.replace(path + ".new", path)

    def zpeer(self, mode, endpoint, *args, key="worker", server="broker",
              timeout=30.0):
        """Runs tools/zpeer.c (reelay-zpeer MODE ENDPOINT ARGS) with the
        key pair `key` (a name in the cluster's keys, a path to a .key
        file, or None for the NULL mechanism) and the public key of
        `server`. Returns (exit status, stdout)."""
        argv = [os.path.join(self.bin, "reelay-zpeer"), mode, endpoint]
        if key is not None:
            path = key if os.sep in key else os.path.join(
                self.keys_dir, key + ".key")
            argv += ["--key-file", path, "--server-pub",
                     os.path.join(self.keys_dir, server + ".pub")]
        r = subprocess.run(argv + list(args), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr).decode("utf-8",
                                                          "replace")

    def write_config(self):
        """Writes config_text to the temporary directory and makes it the
        configuration of every process started from now on."""
        text = self.config_text
        if callable(text):
            text = text(self)
        path = os.path.join(self.tmp, "reelay-test.ini")
        with open(path, "w") as f:
            f.write(text)
        self.config = path
        return path

    def _spawn(self, name, argv, env=None, stdout=subprocess.DEVNULL):
        log = os.path.join(self.tmp, name + ".log")
        f = open(log, "ab")
        start = f.seek(0, os.SEEK_END)
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=stdout, stderr=f,
                                 env=env if env is not None else self.env(),
                                 cwd=self.tmp)
        finally:
            f.close()
        proc = Proc(name, p, log, log_start=start)
        self.procs.append(proc)
        return proc

    def _read_listening(self, proc, timeout=30.0):
        """Reads the "listening HOST:PORT" line from proc's stdout."""
        box = {}

        def reader():
            for raw in proc.popen.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith("listening ") and "port" not in box:
                    box["port"] = int(line.rsplit(":", 1)[1])
            # keep draining until EOF so the child never blocks on a pipe

        t = threading.Thread(target=reader, daemon=True)
        t.start()

        def port():
            if "port" in box:
                return box["port"]
            if not proc.alive():
                raise AssertionError("%s exited (rc %s) before listening"
                                     % (proc.name, proc.popen.returncode))
            return None
        deadline = time.monotonic() + timeout
        while True:
            p = port()
            if p:
                return p
            if time.monotonic() >= deadline:
                raise WaitTimeout("%s did not print its listening line "
                                  "within %.1fs" % (proc.name, timeout))
            time.sleep(POLL_S)

    # -- components --

    def write_private(self, name, text):
        """Writes text to <tmp>/name, mode 0600 from the start; returns
        the path. For secrets that must not go on a command line."""
        path = os.path.join(self.tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def start_redis(self, extra_conf=()):
        """Starts (or restarts: same port, same AOF) redis-server with its
        settings and password in a file, not on its command line;
        `extra_conf`: more lines of redis.conf. Returns once it answers
        PING (so once it has loaded its dataset)."""
        lines = ["port %d" % self.redis_port, "bind 127.0.0.1",
                 'dir "%s"' % self.tmp, "appendonly yes",
                 "appendfsync always", 'save ""', 'logfile ""']
        lines += list(extra_conf)
        if self.redis_password:
            lines.append("user default on resetpass >%s ~* &* +@all"
                         % self.redis_password)
        conf = self.write_private("redis.conf", "\n".join(lines) + "\n")
        self.redis_proc = self._spawn("redis", ["redis-server", conf])
        self.redis = Redis(self.redis_port, password=self.redis_password)
        wait_for(lambda: self.redis.ping(), 30, "redis-server PING")

    def start_simulator(self):
        env = self.env()
        env.update({"REELAY_SIM_KLING_AK": "sim-ak",
                    "REELAY_SIM_KLING_SK": "sim-sk"})
        self.sim_proc = self._spawn("simulator", [
            os.path.join(self.bin, "reelay-simulator"),
            "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE)
        self.sim_port = self._read_listening(self.sim_proc)
        self.sim_url = "http://127.0.0.1:%d" % self.sim_port

    def start_seedance_simulator(self):
        self.sd_proc = self._spawn("simulator-seedance", [
            os.path.join(self.bin, "reelay-simulator"),
            "--listen", "127.0.0.1:0", "--name", "sd"],
            stdout=subprocess.PIPE)
        self.sd_port = self._read_listening(self.sd_proc)
        self.sd_url = "http://127.0.0.1:%d" % self.sd_port

    def start_receiver(self):
        self.rcv_out = os.path.join(self.tmp, "deliveries.jsonl")
        self.rcv_proc = self._spawn("receiver", [
            os.path.join(self.bin, "reelay-receiver"),
            "--listen", "127.0.0.1:0", "--out", self.rcv_out],
            stdout=subprocess.PIPE)
        self.rcv_port = self._read_listening(self.rcv_proc)
        self.rcv_url = "http://127.0.0.1:%d" % self.rcv_port

    def _role(self, role, i):
        env = self.env()
        if role == "broker":
            env["REELAY_HTTP_LISTEN"] = "127.0.0.1:%d" % self.http_ports[i]
        return self._spawn("%s-%d" % (role, i), [
            os.path.join(self.bin, "reelay-" + role), "-c", self.config,
            "--index", str(i)], env=env)

    def start_broker(self, i):
        p = self._role("broker", i)
        if i < len(self.brokers):
            self.brokers[i] = p
        else:
            self.brokers.append(p)
        return p

    def start_worker(self, i):
        p = self._role("worker", i)
        if i < len(self.workers):
            self.workers[i] = p
        else:
            self.workers.append(p)
        return p

    def start_deliverer(self, i):
        p = self._role("deliverer", i)
        if i < len(self.deliverers):
            self.deliverers[i] = p
        else:
            self.deliverers.append(p)
        return p

    def check_alive(self):
        dead = [p for p in self.procs if not p.alive()]
        if dead:
            raise AssertionError("process(es) died: %s" % ", ".join(
                "%s (rc %s)" % (p.name, p.popen.returncode) for p in dead))

    def wait_ready(self, timeout=60.0):
        for i in range(len(self.brokers)):
            url = self.url("/readyz", i)
            wait_for(lambda: self.check_alive() is None and
                     http_get(url, timeout=2).status == 200,
                     timeout, "broker %d /readyz == 200" % i)
        n = len([w for w in self.workers if w.alive()])
        if n:
            # A worker holds one lease per partition: every partition's
            # rl:workers:{P} has each live worker.
            wait_for(lambda: self.check_alive() is None and
                     all(self.redis.zcard(k) >= n
                         for k in rkeys.all_of(rkeys.workers)),
                     timeout, "ZCARD rl:workers:{P} >= %d, every P" % n)

    # -- API --

    def url(self, path, broker=0):
        return "http://127.0.0.1:%d%s" % (self.http_ports[broker], path)

    def reelay(self, *args, timeout=15.0):
        """Runs build/reelay with the cluster's environment."""
        return subprocess.run([os.path.join(self.bin, "reelay")] + list(args),
                              env=self.env(), cwd=self.tmp,
                              stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=timeout)

    def audit(self, timeout=60.0):
        """Runs `reelay audit` on the cluster's config: (exit status,
        stdout + stderr as text)."""
        r = self.reelay("audit", "-c", self.config, timeout=timeout)
        return r.returncode, (r.stdout + r.stderr).decode("utf-8", "replace")

    def create_account(self, credits=50):
        """Returns (account id, API key); the receiver learns the key."""
        r = self.reelay("account", "create", "-c", self.config,
                        "--credits", str(credits))
        out = r.stdout.decode()
        if r.returncode != 0:
            raise AssertionError("account create failed (rc %d): %s %s" % (
                r.returncode, out, r.stderr.decode()))
        acct = key = None
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "account":
                acct = parts[1]
            elif len(parts) == 2 and parts[0] == "api_key":
                key = parts[1]
        if not (acct and acct.startswith("acct_") and key and
                key.startswith("rk_")):
            raise AssertionError("unexpected account create output: %r"
                                 % out)
        if self.want_receiver:
            self.receiver_control({"key": key})
        self.keys.append(key)
        return acct, key

    def cli_submit(self, key, body, idem=None):
        """`reelay submit` over the ZeroMQ ingress: (rc, status, json)."""
        path = self.write_private("submit-key-%s" % secrets.token_hex(4),
                                  key + "\n")
        args = ["submit", "-c", self.config, "--key-file", path]
        if idem:
            args += ["--idempotency-key", idem]
        args.append(body if isinstance(body, str) else json.dumps(body))
        r = self.reelay(*args)
        out = r.stdout.decode().strip()
        status, doc = None, None
        if out:
            head, _, rest = out.partition(" ")
            try:
                status = int(head)
                doc = json.loads(rest)
            except ValueError:
                pass
        return r.returncode, status, doc, out + r.stderr.decode()

    def submit(self, key, body, broker=0, headers=None, raw=None):
        h = {}
        if key is not None:
            h["Authorization"] = "Bearer " + key
        h.update(headers or {})
        return http_post_json(self.url("/v1/video/generations", broker),
                              body, headers=h, raw=raw)

    def get_job(self, key, job_id, broker=0):
        h = {"Authorization": "Bearer " + key} if key else {}
        return http_get(self.url("/v1/video/generations/" + job_id, broker),
                        headers=h)

    def wait_job(self, key, job_id, statuses=("completed", "failed"),
                 timeout=60.0):
        def done():
            r = self.get_job(key, job_id)
            if r.status == 200 and r.json().get("status") in statuses:
                return r.json()
            return None
        return wait_for(done, timeout, "job %s to reach %s" % (
            job_id, "/".join(statuses)), interval=0.05)

    def job_hash(self, acct, job_id):
        return self.redis.hgetall(rkeys.job(acct, job_id))

    # -- receiver --

    def start_extra_receiver(self, host="127.0.0.1", name=None):
        """Starts one more receiver listening on `host` (any loopback
        address, e.g. 127.0.0.2) that verifies with every key created so
        far; returns its base URL. Stopped with the cluster."""
        keys = self.write_private(
            "receiver-keys-%d" % len(self.procs),
            "".join(k + "\n" for k in self.keys))
        argv = [os.path.join(self.bin, "reelay-receiver"),
                "--listen", "%s:0" % host, "--key-file", keys]
        proc = self._spawn(name or "receiver-%d" % len(self.procs), argv,
                           stdout=subprocess.PIPE)
        return "http://%s:%d" % (host, self._read_listening(proc))

    def receiver_control(self, cmd, base=None):
        """POSTs cmd to /_control of the receiver at `base` (default: the
        cluster's)."""
        r = http_post_json((base or self.rcv_url) + "/_control", cmd)
        if r.status != 200:
            raise AssertionError("receiver /_control %r: %r" % (cmd, r))
        return r.json()

    def deliveries(self, job_id=None, base=None):
        """The records of the receiver at `base` (default: the
        cluster's), only those of job_id when given."""
        r = http_get((base or self.rcv_url) + "/_deliveries")
        if r.status != 200:
            raise AssertionError("receiver /_deliveries: %r" % r)
        out = r.json()
        if job_id is not None:
            out = [d for d in out
                   if d.get("headers", {}).get("x-creativeai-delivery-id")
                   == job_id]
        return out

    def outcome(self, acct, key, job_id, tag=None, webhook=True,
                timeout=60.0):
        """Waits for a job to end (and, with webhook, for its delivery)
        and gathers what tests assert on: GET job, the Redis job hash,
        GET /v1/account, the job's ledger entries (oldest first), the
        webhook (parsed body and headers) and the simulator tasks whose
        prompt contains `tag` (of both simulators when there are two)."""
        job = self.wait_job(key, job_id, timeout=timeout)
        o = {"job": job}
        if webhook:
            wait_for(lambda: self.job_hash(acct, job_id).get("wh_state")
                     == "delivered", timeout,
                     "wh_state of %s == delivered" % job_id)
            ds = self.deliveries(job_id)
            o["deliveries"] = ds
            o["hook"] = json.loads(ds[0]["body"]) if ds else None
            o["hook_headers"] = ds[0]["headers"] if ds else None
        o["hash"] = self.job_hash(acct, job_id)
        o["account"] = self.account(key)
        o["ledger"] = list(reversed(self.ledger(key, job_id)))
        if tag is not None and self.want_simulator:
            o["tasks"] = self.sim_tasks(tag)
            if self.want_seedance_sim:
                o["tasks"] += self.sim_tasks(tag, base=self.sd_url)
        return o

    def webhook_url(self, tag="hook"):
        return "%s/webhooks/%s" % (self.rcv_url, tag)

    # -- simulator --

    def sim_get(self, path):
        return http_get(self.sim_url + path)

    def sim_tasks(self, contains=None, base=None):
        """The simulator's /_sim/tasks (of `base`, default the first
        simulator), only those whose prompt contains `contains`."""
        r = http_get((base or self.sim_url) + "/_sim/tasks")
        if r.status != 200:
            raise AssertionError("/_sim/tasks: %r" % r)
        return [t for t in r.json()
                if contains is None or contains in t.get("prompt", "")]

    def sim_stats(self, base=None):
        r = http_get((base or self.sim_url) + "/_sim/stats")
        if r.status != 200:
            raise AssertionError("/_sim/stats: %r" % r)
        return r.json()

    # -- account (public API) --

    def account(self, key):
        """GET /v1/account as JSON."""
        r = http_get(self.url("/v1/account"),
                     headers={"Authorization": "Bearer " + key})
        if r.status != 200:
            raise AssertionError("GET /v1/account: %r" % r)
        return r.json()

    def ledger(self, key, job_id=None, limit=100):
        """GET /v1/account/ledger entries (newest first), only those of
        job_id when given."""
        r = http_get(self.url("/v1/account/ledger?limit=%d" % limit),
                     headers={"Authorization": "Bearer " + key})
        if r.status != 200:
            raise AssertionError("GET /v1/account/ledger: %r" % r)
        data = r.json()["data"]
        if job_id is not None:
            data = [e for e in data if e.get("job") == job_id]
        return data


def video_body(prompt="Product reveal animation on white background",
               model="kling-v3", duration="5s", aspect_ratio="16:9",
               webhook_url=None, **extra):
    b = {"model": model, "prompt": prompt, "duration": duration,
         "aspect_ratio": aspect_ratio}
    if webhook_url is not None:
        b["webhook_url"] = webhook_url
    b.update(extra)
    return b


# ---- unittest glue -------------------------------------------------------


class ClusterTestCase(unittest.TestCase):
    """One Cluster per test class (CLUSTER holds its keyword arguments).
    When a test fails, the tail of every process log is printed."""

    CLUSTER = {}
    BIN = DEFAULT_BIN

    @classmethod
    def setUpClass(cls):
        # A class cleanup also runs when a subclass's setUpClass fails
        # after this (tearDownClass would not).
        cls.c = Cluster(cls.BIN, **cls.CLUSTER).__enter__()
        cls.addClassCleanup(cls.c.stop)

    def run(self, result=None):
        before = (len(result.failures) + len(result.errors)) if result else 0
        out = super().run(result)
        if result is not None and \
                len(result.failures) + len(result.errors) > before:
            c = getattr(type(self), "c", None)
            if c is not None and c.tmp:
                sys.stderr.write("\n===== %s failed; logs in %s =====\n"
                                 % (self.id(), c.tmp))
                c.dump_logs()
        return out

    # shared helpers

    def assert_error(self, r, status, param="", code=None):
        """r is an HTTP Response: status, JSON {"error":{type, code,
        message, param}}, param as given ("" = don't care)."""
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.headers.get("content-type", "").startswith(
            "application/json"), r.headers)
        doc = r.json()
        self.assertEqual(list(doc), ["error"], doc)
        err = doc["error"]
        self.assertTrue({"type", "code", "message", "param"} <= set(err), err)
        for f in ("type", "code", "message"):
            self.assertIsInstance(err[f], str, err)
            self.assertTrue(err[f], err)
        if param != "":
            self.assertEqual(err["param"], param, err)
        if code is not None:
            self.assertEqual(err["code"], code, err)
        return err


class LuaTestCase(ClusterTestCase):
    """Tests of the Lua scripts and their shared helpers against a real
    Redis (a broker only: nothing else touches it). self.r is the Redis
    client, self.lib the prelude (_lib.lua and a newline) that
    embed.cmake puts before every script."""
    CLUSTER = dict(brokers=1, workers=0, deliverers=0, simulator=False,
                   receiver=False)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.r = cls.c.redis
        cls.lib = lua_source("_lib.lua") + "\n"


class PerTestClusterCase(unittest.TestCase):
    """Each test builds its own clusters with `self.cluster(...)`
    (ENV: environment every cluster of the class starts with); they are
    stopped after the test, and when it failed the tail of every process
    log is printed first."""

    BIN = DEFAULT_BIN
    ENV = {}

    def cluster(self, **kw):
        env = dict(self.ENV)
        env.update(kw.pop("env", {}))
        c = Cluster(self.BIN, env=env, **kw).__enter__()
        self._clusters.append(c)
        return c

    def setUp(self):
        self._clusters = []

    def run(self, result=None):
        self._result = result
        self._bad0 = self._bad_count()
        return super().run(result)

    def _bad_count(self):
        r = getattr(self, "_result", None)
        return (len(r.failures) + len(r.errors)) if r is not None else 0

    def tearDown(self):
        if self._bad_count() > self._bad0:
            for c in self._clusters:
                sys.stderr.write("\n===== %s failed; logs of %s =====\n"
                                 % (self.id(), c.tmp))
                c.dump_logs(60)
        problems = []
        for c in self._clusters:  # every one stopped, then the verdict
            problems += c.stop(check=False)
        if problems:
            self.fail("unclean stop of the cluster(s):\n  " +
                      "\n  ".join(problems))


def main():
    """Parses --bin, hands it to every ClusterTestCase and
    PerTestClusterCase, runs unittest."""
    ClusterTestCase.BIN = PerTestClusterCase.BIN = parse_bin()
    unittest.main(verbosity=2)
