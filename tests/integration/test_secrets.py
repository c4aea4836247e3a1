"""Secrets stay off command lines and files stay private.

A `reelay up` deployment (embedded Redis, simulator, receiver, every
role) started under a permissive umask, over a data directory an older
launcher left readable to all: no process's /proc/PID/cmdline holds a
secret (the Redis password, the master key, the demo API key, the
simulator's Kling keys), every directory under the data directory is
0700 and every file 0600 (Redis's AOF included), the embedded Redis
listens on loopback with a password, and `reelay audit` beside it finds
the password by itself. The same cmdline check runs over a test cluster.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

# The simulator's Kling access and secret key in deploy/reelay.ini.
SIM_KLING = ("sim-ak", "sim-sk")


def process_tree(root):
    """{pid: cmdline bytes} of root and every live descendant."""
    parents = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parents[int(d)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(p for p, pp in parents.items() if pp == pid
                    and p not in tree)
    out = {}
    for pid in tree:
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                out[pid] = f.read()
        except OSError:
            continue
    return out


def read_first_line(path):
    with open(path) as f:
        return f.readline().strip()


class SecretsTestCase(harness.PerTestClusterCase):

    def assert_no_secret_in_cmdlines(self, cmdlines, named_secrets):
        """cmdlines: {pid: bytes}; named_secrets: {name: value}."""
        self.assertTrue(cmdlines)
        for name, value in named_secrets.items():
            self.assertTrue(value, name)
            for pid, cmd in cmdlines.items():
                self.assertNotIn(value.encode(), cmd,
                                 "%s in the command line of pid %d: %r"
                                 % (name, pid, cmd.replace(b"\0", b" ")))


class LauncherDeployment(SecretsTestCase):

    def setUp(self):
        super().setUp()
        P = harness.free_port
        self.tmp = tempfile.mkdtemp(prefix="reelay-secrets-")
        self.addCleanup(self.cleanup_tmp)
        self.data = os.path.join(self.tmp, "run")
        self.ports = dict(redis=P(), http=P(), ing=P(), dsp=P(), cmp=P(),
                          sim=P(), rcv=P())
        sim = "http://127.0.0.1:%d" % self.ports["sim"]
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("REELAY_")}
        self.env.update({
            "REELAY_REDIS_PORT": str(self.ports["redis"]),
            "REELAY_REDIS_EMBEDDED": "true",
            "REELAY_HTTP_LISTEN": "127.0.0.1:%d" % self.ports["http"],
            "REELAY_ZMQ_INGRESS": "tcp://127.0.0.1:%d" % self.ports["ing"],
            "REELAY_ZMQ_DISPATCH": "tcp://127.0.0.1:%d" % self.ports["dsp"],
            "REELAY_ZMQ_COMPLETION": "tcp://127.0.0.1:%d" % self.ports["cmp"],
            "REELAY_LAUNCHER_DATA_DIR": self.data,
            "REELAY_LAUNCHER_SIMULATOR_LISTEN":
                "127.0.0.1:%d" % self.ports["sim"],
            "REELAY_LAUNCHER_RECEIVER_LISTEN":
                "127.0.0.1:%d" % self.ports["rcv"],
            "REELAY_PROVIDER_SIM_KLING_BASE_URL": sim,
            "REELAY_PROVIDER_SIM_SEEDANCE_BASE_URL": sim + "/api/v3",
            "REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS": "100",
            "REELAY_PROVIDER_SIM_SEEDANCE_POLL_INTERVAL_MS": "100",
            "REELAY_HEALTH_INTERVAL_S": "3600",
        })
        self.up = None

    def cleanup_tmp(self):
        if self.up is not None and self.up.poll() is None:
            tree = process_tree(self.up.pid)
            self.up.terminate()
            try:
                self.up.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in tree:  # only what this launcher started
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                self.up.wait()
        if os.environ.get("REELAY_KEEP_TMP"):
            sys.stderr.write("REELAY_KEEP_TMP: kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_up(self):
        # What an older launcher left: a data directory and a log
        # readable to everyone.
        os.makedirs(os.path.join(self.data, "logs"), mode=0o755)
        os.chmod(self.data, 0o755)
        old_log = os.path.join(self.data, "logs", "broker-0.log")
        with open(old_log, "w") as f:
            f.write("an older run\n")
        os.chmod(old_log, 0o644)
        self.log = open(os.path.join(self.tmp, "up.log"), "wb")
        self.addCleanup(self.log.close)
        # A permissive umask: the launcher must not depend on it.
        self.up = subprocess.Popen(
            [os.path.join(self.BIN, "reelay"), "up", "-c", harness.CONFIG],
            env=self.env, cwd=self.tmp, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT, umask=0o022)
        self.url = "http://127.0.0.1:%d" % self.ports["http"]
        wait_for(lambda: self.up.poll() is None and harness.http_get(
            self.url + "/readyz", timeout=2).status == 200, 30,
            "reelay up: broker ready")

    def up_log(self):
        with open(os.path.join(self.tmp, "up.log"), "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def run_job(self, key):
        """A Kling job (the simulator checks its JWT with the keys it was
        handed) to a completed, verified webhook."""
        hook = "http://127.0.0.1:%d/webhooks/up" % self.ports["rcv"]
        r = harness.http_post_json(
            self.url + "/v1/video/generations",
            video_body(prompt="secrets [sim render_ms=100]",
                       webhook_url=hook),
            headers={"Authorization": "Bearer " + key})
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]

        def delivered():
            path = os.path.join(self.data, "deliveries.jsonl")
            if not os.path.exists(path):
                return False
            with open(path) as f:
                recs = [json.loads(ln) for ln in f if ln.strip()]
            return [d for d in recs if d.get("verified") and
                    d["headers"].get("x-creativeai-delivery-id") == jid]
        wait_for(delivered, 20, "the job's verified webhook")

    def test_cmdlines_modes_and_redis(self):
        try:
            self.start_up()
            key = read_first_line(os.path.join(self.data, "demo-key"))
            self.run_job(key)
            password = read_first_line(os.path.join(self.data,
                                                    "redis.password"))
            self.check_cmdlines(key, password)
            self.check_redis(password)
            self.check_modes()
            r = subprocess.run([os.path.join(self.BIN, "reelay"), "audit",
                                "-c", harness.CONFIG], env=self.env,
                               cwd=self.tmp, capture_output=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r)
            self.assertIn(b"audit ok: accounts=1 jobs=1 violations=0",
                          r.stdout)
        except BaseException:
            sys.stderr.write(self.up_log())
            raise

    def check_cmdlines(self, key, password):
        tree = process_tree(self.up.pid)
        names = {os.path.basename(c.split(b"\0")[0].split()[0]).decode()
                 for c in tree.values() if c}
        self.assertTrue({"reelay", "redis-server", "reelay-simulator",
                         "reelay-receiver", "reelay-broker", "reelay-worker",
                         "reelay-deliverer"} <= names, names)
        self.assert_no_secret_in_cmdlines(tree, {
            "the Redis password": password,
            "the master key": read_first_line(os.path.join(self.data,
                                                           "master.key")),
            "the demo API key": key,
            "the Kling access key": SIM_KLING[0],
            "the Kling secret key": SIM_KLING[1],
        })
        # The simulator got its keys through its environment instead.
        sim = [p for p, c in tree.items()
               if b"reelay-simulator" in c.split(b"\0")[0]]
        self.assertEqual(len(sim), 1, tree)
        with open("/proc/%d/environ" % sim[0], "rb") as f:
            environ = f.read().split(b"\0")
        self.assertIn(b"REELAY_SIM_KLING_SK=" + SIM_KLING[1].encode(),
                      environ)

    def check_redis(self, password):
        port = self.ports["redis"]
        anonymous = harness.Redis(port)
        self.addCleanup(anonymous.close)
        with self.assertRaises(harness.RedisError) as e:
            anonymous.call("PING")
        self.assertIn("NOAUTH", str(e.exception))
        r = harness.Redis(port, password=password)
        self.addCleanup(r.close)
        self.assertEqual(r.call("CONFIG", "GET", "bind"),
                         ["bind", "127.0.0.1"])
        self.assertEqual(r.call("CONFIG", "GET", "protected-mode"),
                         ["protected-mode", "yes"])
        self.assertEqual(r.call("CONFIG", "GET", "appendonly"),
                         ["appendonly", "yes"])
        self.assertEqual(r.call("CONFIG", "GET", "dir")[1],
                         os.path.realpath(os.path.join(self.data, "redis")))
        with open(os.path.join(self.data, "redis.conf")) as f:
            self.assertNotIn(password, f.read())

    def check_modes(self):
        want = {"master.key", "redis.password", "redis.conf", "demo-key",
                "deliveries.jsonl", "logs/broker-0.log", "logs/redis.log",
                "logs/worker-0.log", "logs/receiver.log"}
        seen, wrong = set(), []
        for top, dirs, files in os.walk(self.data):
            for name in dirs + files:
                path = os.path.join(top, name)
                st = os.lstat(path)
                mode = stat.S_IMODE(st.st_mode)
                rel = os.path.relpath(path, self.data)
                seen.add(rel)
                if stat.S_ISDIR(st.st_mode) and mode != 0o700:
                    wrong.append((rel, oct(mode)))
                elif stat.S_ISREG(st.st_mode) and mode != 0o600:
                    wrong.append((rel, oct(mode)))
        self.assertEqual(stat.S_IMODE(os.stat(self.data).st_mode), 0o700)
        self.assertEqual(wrong, [])
        self.assertTrue(want <= seen, want - seen)
        aof = [p for p in seen if p.startswith("redis/appendonlydir/")]
        self.assertTrue(any(p.endswith(".aof") for p in aof), seen)


class HarnessCluster(SecretsTestCase):

    def test_cmdlines_of_a_cluster(self):
        c = self.cluster()
        acct, key = c.create_account(10)
        c.start_extra_receiver(name="receiver-extra")
        rc, status, doc, out = c.cli_submit(
            key, video_body(prompt="over zmq [sim render_ms=50]"))
        self.assertEqual(status, 202, out)
        c.wait_job(key, doc["id"])
        cmdlines = {}
        for p in c.procs:
            if p.alive():
                cmdlines.update(process_tree(p.pid))
        self.assertGreaterEqual(len(cmdlines), 6, cmdlines)
        self.assert_no_secret_in_cmdlines(cmdlines, {
            "the Redis password": c.redis_password,
            "the master key": c.master_key,
            "the API key": key,
            "the Kling access key": SIM_KLING[0],
            "the Kling secret key": SIM_KLING[1],
        })


if __name__ == "__main__":
    harness.main()
