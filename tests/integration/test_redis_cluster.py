"""Redis Cluster and WAIT: the real client (common/rl_redis.c, through
reelay-cluster-drive) against a real 3-master, 3-replica cluster
(rcluster.py), and against a standalone master with a replica.

- routing: every command of many keys reaches its slot's master the
  first time (no MOVED, no ASK), the key is stored there, and the
  client's slot of each key is the cluster's CLUSTER KEYSLOT; an
  embedded script with two KEYS of one slot runs.
- resharding under load: a slot moved by hand (ASK while its keys are
  on the way, MOVED after) and 1000 slots moved by redis-cli, while
  200 chains of SET/GET run: every reply correct, none lost, never a
  redirection seen by a callback, both redirect counters moved; an MGET
  of a slot split by a move is retried on TRYAGAIN until it can run.
- failover: SIGKILL of a master under the same load: replies are
  correct or NULL, never a redirection; once its replica is promoted
  every chain gets answers again.
- WAIT: durable writes are answered once a replica confirmed them (after
  a NOSCRIPT too), and NULL, counted in wait_short, while the replica is
  stopped; on a cluster and on one server with a replica.
- the CLI's blocking client (rl_rsync): routed SET/GET through an ASK,
  a command on every master; `reelay audit` on the cluster.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rcluster  # noqa: E402
from harness import wait_for  # noqa: E402

BIN = harness.parse_bin()
DRIVE = os.path.join(BIN, "reelay-cluster-drive")
RUN_S = 300      # one driver run, at most
PROGRESS_S = 180  # the loop makes the progress waited for


class Drive:
    """reelay-cluster-drive in `loop` mode (or `mget`), its progress
    lines read by a thread; stop() ends it (loop) or waits for its end
    (mget) and returns the summary."""

    def __init__(self, args, password, mode="loop"):
        env = dict(os.environ, REELAY_REDIS_PASSWORD=password)
        self.proc = subprocess.Popen([DRIVE, mode] + args, env=env,
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.last = None
        self.summary = None
        self.err = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            obj = json.loads(line)
            with self.lock:
                if "summary" in obj:
                    self.summary = obj
                else:
                    self.last = obj

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line.decode("utf-8", "replace"))

    def progress(self):
        with self.lock:
            return dict(self.last) if self.last else None

    def wait(self, cond, what, timeout=PROGRESS_S):
        def check():
            p = self.progress()
            assert self.proc.poll() is None, \
                "driver exited: %s" % "".join(self.err[-20:])
            return p is not None and cond(p)
        wait_for(check, timeout, what, interval=0.1)
        return self.progress()

    def stop(self):
        try:
            self.proc.stdin.write(b"stop\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        rc = self.proc.wait(timeout=RUN_S)
        wait_for(lambda: self.summary is not None, 30, "the summary line")
        assert rc == 0, "driver exit %d: %s" % (rc, "".join(self.err[-20:]))
        return self.summary

    def kill(self):
        """Ends it (when still running) and closes its pipes."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass


def run_drive(mode, args, password):
    """Runs the driver in route or durable mode; returns its summary."""
    env = dict(os.environ, REELAY_REDIS_PASSWORD=password)
    r = subprocess.run([DRIVE, mode] + args, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=RUN_S)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 0, "driver exit %d: %s" % (r.returncode,
                                                      err[-3000:])
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert lines and "summary" in lines[-1], r.stdout
    return lines[-1]


def route_key(i):
    """The keys `route` mode writes (cluster_drive.c, s_route_key)."""
    if i % 3 == 0:
        return "route:%d" % i
    if i % 3 == 1:
        return "x{t%d}y" % (i // 7)
    return "{}%d{a\x01}" % i


def assert_clean(test, s):
    """No wrong reply, no redirection seen, every callback once, none
    pending."""
    test.assertEqual(s["bad"], 0, s)
    test.assertEqual(s["leaks"], 0, s)
    test.assertEqual(s["twice"], 0, s)
    test.assertEqual(s["pending"], 0, s)


class ClusterCase(unittest.TestCase):
    """One cluster for the tests that leave it healthy."""

    @classmethod
    def setUpClass(cls):
        cls.rc = rcluster.RedisCluster()
        cls.rc.__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.rc.stop()

    def seeds_args(self, timeout_ms=10000):
        return ["--cluster", self.rc.seeds(), "--timeout-ms", str(timeout_ms)]


class Routing(ClusterCase):

    def test_routes_every_key_to_its_master(self):
        n = 600
        s = run_drive("route", self.seeds_args() + ["--keys", str(n)],
                      self.rc.password)
        assert_clean(self, s)
        self.assertEqual(s["ok"], n, s)
        self.assertEqual(s["slot_ok"], n, s)       # == CLUSTER KEYSLOT
        self.assertEqual(s["script_ok"], 2, s)     # job_get, KEYS in a slot
        self.assertEqual((s["null"], s["refused"]), (0, 0), s)
        # Sent to the right master the first time: never redirected.
        self.assertEqual((s["moved"], s["ask"]), (0, 0), s)
        # And stored there: each master holds its own slots' keys.
        clients = {p: self.rc.node(p).client() for p in self.rc.masters()}
        try:
            for i in range(n):
                k = route_key(i)
                master = self.rc.master_for_slot(self.rc.keyslot(k))
                self.assertEqual(clients[master].call("GET", k), k, k)
        finally:
            for c in clients.values():
                c.close()


class CommandLine(ClusterCase):
    """The CLI's blocking client and the CLI itself on the cluster."""

    def write_config(self):
        tmp = os.path.join(self.rc.tmp, "cli")
        os.makedirs(tmp, exist_ok=True)
        path = os.path.join(tmp, "reelay.ini")
        with open(path, "w") as f:
            f.write("[redis]\nembedded = false\ncluster = %s\n"
                    "[launcher]\ndata_dir = %s\n" % (self.rc.seeds(), tmp))
        return path

    def test_blocking_client_routes_and_follows_ask(self):
        rc = self.rc
        ini = self.write_config()
        # "sync:{0}" is on its way to another master: ASK for it.
        slot = rc.keyslot("sync:{0}")
        src = rc.master_for_slot(slot)
        dst = [m for m in rc.masters() if m != src][0]
        rc.node(src).call("SET", "sync:{0}", "old")
        rc.migrate_begin(slot, src, dst)
        try:
            s = run_drive("sync", ["--config", ini, "--keys", "300"],
                          rc.password)
        finally:
            rc.migrate_end(slot, src, dst)
        self.assertEqual((s["ok"], s["bad"], s["each"]), (300, 0, 0), s)
        self.assertGreaterEqual(s["ask"], 2, s)  # SET and GET of sync:{0}
        total = sum(rc.node(m).call("DBSIZE") for m in rc.masters())
        self.assertEqual(s["dbsize"], total, s)

    def test_audit(self):
        # Twenty accounts made by `reelay account create` (its script's
        # keys share the account's partition: one slot, one master),
        # spread over the masters, audit clean: the audit reads each
        # partition's account set and each account's keys on its own
        # master.
        ini = self.write_config()
        env = dict(os.environ, REELAY_REDIS_PASSWORD=self.rc.password,
                   REELAY_SECURITY_MASTER_KEY="ab" * 32)
        reelay = os.path.join(BIN, "reelay")
        for _ in range(20):
            r = subprocess.run([reelay, "account", "create", "-c", ini,
                                "--credits", "5"], env=env,
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=RUN_S)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
        holders = [m for m in self.rc.masters()
                   if any(k.startswith("rl:acct:") for k in
                          self.rc.node(m).call("KEYS", "rl:acct:*"))]
        self.assertGreater(len(holders), 1, "accounts on one master only")
        r = subprocess.run([reelay, "audit", "-c", ini], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=RUN_S)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        self.assertIn("audit ok: accounts=20 ", out)
        # A wrong password: refused at once, a clear message, no hang.
        env["REELAY_REDIS_PASSWORD"] = "wrong"
        r = subprocess.run([reelay, "audit", "-c", ini], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=RUN_S)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"Redis Cluster at", r.stderr)
        self.assertIn(b"refused AUTH", r.stderr)


class Resharding(ClusterCase):

    def test_moved_and_ask_under_load(self):
        rc = self.rc
        d = Drive(self.seeds_args() + ["--keys", "200"], rc.password)
        try:
            d.wait(lambda p: p["ok"] > 2000, "the loop running")
            # One slot by hand, holding a key of the loop: its key
            # migrates first (ASK), then the slot (MOVED).
            slot = rc.keyslot("drive:{0}")
            src = rc.master_for_slot(slot)
            dst = [m for m in rc.masters() if m != src][0]
            rc.migrate_begin(slot, src, dst)
            d.wait(lambda p: p["ask"] > 0, "an ASK followed")
            rc.migrate_end(slot, src, dst)
            d.wait(lambda p: p["moved"] > 0, "a MOVED followed")
            self.assertIsNotNone(rc.node(dst).call("GET", "drive:{0}"))
            # Then many slots with redis-cli, under the same load.
            a, b = [m for m in rc.masters() if m != dst][:2]
            before = d.progress()
            rc.reshard(1000, a, b)
            d.wait(lambda p: p["ok"] > before["ok"] + 2000 and
                   p["waiting"] == 0, "the loop after the reshard")
            s = d.stop()
        finally:
            d.kill()
        assert_clean(self, s)
        # No failure: nothing lost, nothing unknown, nothing refused.
        self.assertEqual((s["stale"], s["null"], s["unknown"]), (0, 0, 0), s)
        self.assertGreater(s["moved"], 1, s)
        self.assertGreater(s["ask"], 0, s)
        self.assertGreater(s["refreshes"], 1, s)

    def test_tryagain_while_a_slot_is_split(self):
        # Two keys of one slot, one moved ahead of the slot: a command
        # on both is answered TRYAGAIN until the move ends, then MOVED.
        rc = self.rc
        slot = rc.keyslot("{m}a")
        src = rc.master_for_slot(slot)
        dst = [m for m in rc.masters() if m != src][0]
        s_node, d_node = rc.node(src), rc.node(dst)
        s_node.call("SET", "{m}a", "A")
        s_node.call("SET", "{m}b", "B")
        d_node.call("CLUSTER", "SETSLOT", slot, "IMPORTING", rc.node_id(src))
        s_node.call("CLUSTER", "SETSLOT", slot, "MIGRATING", rc.node_id(dst))
        s_node.call("MIGRATE", "127.0.0.1", dst, "", 0, 10000, "AUTH",
                    rc.password, "KEYS", "{m}a")
        d = Drive(self.seeds_args(60000) + ["--tag", "m", "--count", "1"],
                  rc.password, mode="mget")
        try:
            d.wait(lambda p: p["retries"] > 0, "a TRYAGAIN retried")
            rc.migrate_end(slot, src, dst)
            s = d.stop()
        finally:
            d.kill()
            if rc.master_for_slot(slot) != dst:
                rc.migrate_end(slot, src, dst)
        assert_clean(self, s)
        self.assertEqual((s["ok"], s["null"]), (1, 0), s)
        self.assertGreater(s["retries"], 0, s)
        self.assertGreater(s["moved"], 0, s)


class WaitReplicas(ClusterCase):

    def test_durable_writes_wait_for_a_replica(self):
        rc = self.rc
        args = self.seeds_args(4000) + ["--wait-replicas", "1", "--tag", "w"]
        for m in rc.masters():  # the script's first run: NOSCRIPT, EVAL
            rc.node(m).call("SCRIPT", "FLUSH")
        s = run_drive("durable", args + ["--count", "5"], rc.password)
        assert_clean(self, s)
        self.assertEqual((s["ok"], s["script_ok"], s["null"]), (5, 1, 0), s)
        self.assertEqual(s["wait_short"], 0, s)

        # The replica of the key's master stopped: WAIT counts 0 within
        # its timeout (half the 4 s deadline): NULL, counted.
        master = rc.master_for_slot(rc.keyslot("{w}"))
        replicas = rc.replicas_of(master)
        self.assertTrue(replicas)
        for m in rc.masters():
            rc.node(m).call("SCRIPT", "FLUSH")
        for r in replicas:
            rc.node(r).signal(signal.SIGSTOP)
        try:
            s = run_drive("durable", args + ["--count", "2"], rc.password)
        finally:
            for r in replicas:
                rc.node(r).signal(signal.SIGCONT)
        assert_clean(self, s)
        self.assertEqual((s["ok"], s["script_ok"], s["null"]), (0, 0, 3), s)
        self.assertEqual(s["wait_short"], 3, s)
        rc.wait_healthy()


class Failover(unittest.TestCase):
    """A cluster of its own: a master dies."""

    def test_sigkill_of_a_master_under_load(self):
        with rcluster.RedisCluster() as rc:
            d = Drive(["--cluster", rc.seeds(), "--timeout-ms", "3000",
                       "--keys", "200"], rc.password)
            try:
                d.wait(lambda p: p["ok"] > 2000, "the loop running")
                victim = rc.master_for_slot(rc.keyslot("drive:{0}"))
                rc.kill_master(victim)
                after = d.progress()
                # Every chain answered again, the dead master's included.
                d.wait(lambda p: p["connected"] and p["waiting"] == 0 and
                       p["ok"] > after["ok"] + 4000, "answers after the "
                       "failover")
                s = d.stop()
            finally:
                d.kill()
        assert_clean(self, s)
        self.assertGreater(s["reconnects"], 0, s)
        self.assertGreater(s["refreshes"], 1, s)


class SingleNodeWait(unittest.TestCase):
    """WAIT with one server (no cluster) and its replica."""

    def test_durable_writes_on_one_server(self):
        with rcluster.Pair() as pair:
            args = ["--port", str(pair.master.port), "--timeout-ms", "4000",
                    "--tag", "w"]
            pair.master.call("SCRIPT", "FLUSH")
            s = run_drive("durable", args + ["--wait-replicas", "1"],
                          pair.password)
            assert_clean(self, s)
            self.assertEqual((s["ok"], s["script_ok"], s["null"]),
                             (3, 1, 0), s)
            self.assertEqual((s["wait_short"], s["moved"]), (0, 0), s)
            pair.replica.signal(signal.SIGSTOP)
            try:
                s = run_drive("durable", args + ["--wait-replicas", "1",
                                                 "--count", "2"],
                              pair.password)
                # wait_replicas = 0: no WAIT, answered as before.
                plain = run_drive("durable", args, pair.password)
            finally:
                pair.replica.signal(signal.SIGCONT)
            assert_clean(self, s)
            self.assertEqual((s["ok"], s["null"], s["wait_short"]),
                             (0, 3, 3), s)
            self.assertEqual((plain["ok"], plain["script_ok"],
                              plain["wait_short"]), (3, 1, 0), plain)


if __name__ == "__main__":
    unittest.main(verbosity=2)
