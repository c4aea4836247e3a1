"""A real local Redis Cluster (and a standalone master with a replica)
for the integration tests. Python 3 standard library only, like
harness.py, whose RESP client, free ports and waits it uses.

RedisCluster starts 3 masters and 3 replicas (Debian's redis-server,
`cluster-enabled yes`, each with its own directory under a temporary
one, loopback ports below the ephemeral range, a cluster bus port of its
own, `requirepass` + `masterauth`), builds the cluster with
`redis-cli --cluster create ... --cluster-replicas 1 --cluster-yes` (the
password in REDISCLI_AUTH, never on a command line), and waits until
every node says `cluster_state:ok`, agrees on the slot map and every
replica's link is up. Every wait is deadline-bounded polling
(harness.wait_for), never a bare sleep; deadlines are generous so that
the tests hold on a busy two-core machine. Every process is stopped by
its pid (SIGCONT, SIGTERM, then SIGKILL) when the `with` block ends,
and at interpreter exit as a last resort.

    with rcluster.RedisCluster() as rc:
        rc.seeds()                  # "127.0.0.1:p1,127.0.0.1:p2,..."
        rc.master_for_slot(12182)   # port of the master serving it
        rc.kill_master(port)        # SIGKILL, returns the promoted port
        rc.reshard(100, src, dst)   # redis-cli --cluster reshard
        rc.migrate_begin(slot, src, dst) / rc.migrate_end(slot, dst)

Pair starts a standalone master and one replica (no cluster), for WAIT
in single-node mode.
"""

import atexit
import os
import shutil
import signal
import subprocess
import tempfile

import harness
from harness import Redis, RedisError, free_port, wait_for

NODE_TIMEOUT_MS = 2000  # cluster-node-timeout: failure detection
START_S = 60            # a node answers PING
FORM_S = 180            # the cluster forms, a failover completes
CLI_S = 300             # one redis-cli --cluster run

_live = []  # every server process started, for the atexit last resort


def _kill_all():
    for p in list(_live):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                os.kill(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


atexit.register(_kill_all)


class Node:
    """One redis-server: its port, process and a RESP client."""

    def __init__(self, port, bus_port, directory, password):
        self.port = port
        self.bus_port = bus_port
        self.dir = directory
        self.password = password
        self.proc = None
        self.stopped = False  # SIGSTOPped

    @property
    def addr(self):
        return "127.0.0.1:%d" % self.port

    def client(self, timeout=5.0):
        return Redis(self.port, password=self.password, timeout=timeout)

    def call(self, *args):
        r = self.client()
        try:
            return r.call(*args)
        finally:
            r.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, lines):
        os.makedirs(self.dir, exist_ok=True)
        conf = os.path.join(self.dir, "redis.conf")
        base = ["port %d" % self.port, "bind 127.0.0.1",
                'dir "%s"' % self.dir,
                'logfile "%s"' % os.path.join(self.dir, "redis.log"),
                'save ""', "appendonly no",
                "requirepass %s" % self.password,
                "masterauth %s" % self.password]
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(base + list(lines)) + "\n")
        self.proc = subprocess.Popen(["redis-server", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _live.append(self.proc)

    def restart(self):
        """Starts the server again with the configuration it had (a
        cluster node rejoins from its nodes.conf)."""
        conf = os.path.join(self.dir, "redis.conf")
        self.proc = subprocess.Popen(["redis-server", conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _live.append(self.proc)
        self.stopped = False

    def wait_ping(self):
        wait_for(lambda: self.call("PING") == "PONG", START_S,
                 "redis-server on %d answering PING" % self.port)

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)
        self.stopped = sig == signal.SIGSTOP

    def stop(self):
        """SIGCONT, SIGTERM by pid; SIGKILL after 10 s."""
        p = self.proc
        if p is None or p.poll() is not None:
            return
        try:
            os.kill(p.pid, signal.SIGCONT)
            os.kill(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
        except ProcessLookupError:
            pass

    def info(self, section):
        text = self.call("INFO", section)
        out = {}
        for line in text.splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out


class _Servers:
    """What RedisCluster and Pair share: a temporary directory, a
    password, nodes, and stopping them all."""

    def __init__(self, prefix):
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.password = "pw-" + os.urandom(12).hex()
        self.nodes = []

    def _new_node(self, name):
        return Node(free_port(), free_port(), os.path.join(self.tmp, name),
                    self.password)

    def node(self, port):
        for n in self.nodes:
            if n.port == port:
                return n
        raise KeyError(port)

    def env(self):
        """An environment with the password for redis-cli."""
        env = dict(os.environ)
        env["REDISCLI_AUTH"] = self.password
        return env

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        for n in self.nodes:
            n.stop()
        if not os.environ.get("REELAY_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)


class RedisCluster(_Servers):
    def __init__(self, masters=3, replicas_per_master=1):
        super().__init__("reelay-rcluster-")
        self.nmasters = masters
        self.nreplicas = replicas_per_master

    # ---- life ----------------------------------------------------------

    def start(self):
        count = self.nmasters * (1 + self.nreplicas)
        for i in range(count):
            n = self._new_node("node-%d" % i)
            n.start(["cluster-enabled yes",
                     "cluster-config-file nodes.conf",
                     "cluster-port %d" % n.bus_port,
                     "cluster-node-timeout %d" % NODE_TIMEOUT_MS,
                     # A replica may always take over (its link may have
                     # been down a while on a loaded machine), and stays
                     # with its master after a reshard.
                     "cluster-replica-validity-factor 0",
                     "cluster-allow-replica-migration no"])
            self.nodes.append(n)
        for n in self.nodes:
            n.wait_ping()
        self.cli(["--cluster", "create"] + [n.addr for n in self.nodes] +
                 ["--cluster-replicas", str(self.nreplicas),
                  "--cluster-yes"])
        self.wait_healthy()

    def cli(self, args):
        """Runs redis-cli with args (bounded); returns its output."""
        r = subprocess.run(["redis-cli"] + args, env=self.env(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=CLI_S)
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode != 0:
            raise AssertionError("redis-cli %s failed (%d): %s"
                                 % (" ".join(args[:2]), r.returncode,
                                    out[-2000:]))
        return out

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def wait_healthy(self, timeout=FORM_S):
        """Every live node: cluster_state:ok, the same slot map covering
        every slot with live masters, and every replica's link up."""
        def healthy():
            maps = set()
            for n in self.live():
                if n.stopped:
                    continue
                if n.info("cluster").get("cluster_enabled") != "1":
                    return False
                state = n.call("CLUSTER", "INFO")
                if "cluster_state:ok" not in state:
                    return False
                maps.add(tuple(sorted(self._ranges(n))))
            if len(maps) != 1:
                return False
            ranges = next(iter(maps))
            if sum(b - a + 1 for a, b, _ in ranges) != 16384:
                return False
            masters = {p for _, _, p in ranges}
            if not all(self.node(p).alive() for p in masters):
                return False
            for n in self.live():
                if n.stopped or n.port in masters:
                    continue
                rep = n.info("replication")
                if rep.get("role") != "slave" or \
                        rep.get("master_link_status") != "up":
                    return False
            return True
        wait_for(healthy, timeout, "the Redis cluster healthy", interval=0.2)

    # ---- reading the map -------------------------------------------------

    def _ranges(self, node):
        """[(start, end, master port)] as node sees it."""
        out = []
        for e in node.call("CLUSTER", "SLOTS"):
            out.append((int(e[0]), int(e[1]), int(e[2][1])))
        return out

    def _any(self):
        for n in self.live():
            if not n.stopped:
                return n
        raise AssertionError("no live node")

    def seeds(self):
        return ",".join(n.addr for n in self.nodes)

    def masters(self):
        """Ports of the masters serving slots, sorted."""
        return sorted({p for _, _, p in self._ranges(self._any())})

    def master_for_slot(self, slot):
        for a, b, p in self._ranges(self._any()):
            if a <= slot <= b:
                return p
        raise AssertionError("slot %d has no master" % slot)

    def replicas_of(self, master_port):
        mid = self.node_id(master_port)
        out = []
        for line in self._any().call("CLUSTER", "NODES").splitlines():
            f = line.split()
            if len(f) > 3 and f[3] == mid and "fail" not in f[2]:
                out.append(int(f[1].split("@")[0].rsplit(":", 1)[1]))
        return out

    def node_id(self, port):
        return self.node(port).call("CLUSTER", "MYID")

    def keyslot(self, key):
        return int(self._any().call("CLUSTER", "KEYSLOT", key))

    def slot_count(self, port):
        return sum(b - a + 1 for a, b, p in self._ranges(self._any())
                   if p == port)

    # ---- faults and changes ----------------------------------------------

    def kill_master(self, port):
        """SIGKILLs the master on port and waits until one of its
        replicas took over and the cluster is healthy again. Returns the
        new master's port."""
        replicas = self.replicas_of(port)
        assert replicas, "master %d has no replica" % port
        self.node(port).proc.kill()
        self.node(port).proc.wait(timeout=10)

        def promoted():
            for r in replicas:
                n = self.node(r)
                if n.alive() and n.info("replication").get("role") == \
                        "master" and self.slot_count(r) > 0:
                    return r
            return None
        new = wait_for(promoted, FORM_S, "a replica of %d promoted" % port,
                       interval=0.2)
        self.wait_healthy()
        return new

    def rejoin(self, port):
        """Starts the killed node on port again: it comes back as a
        replica of the master that took over, and the cluster is healthy
        again (its replica link up) when this returns."""
        n = self.node(port)
        n.restart()
        n.wait_ping()
        wait_for(lambda: n.info("replication").get("role") == "slave",
                 FORM_S, "node %d back as a replica" % port, interval=0.2)
        self.wait_healthy()

    def reshard(self, slots, src, dst):
        """Moves `slots` slots from master src to master dst with
        redis-cli --cluster reshard, then waits until every node agrees."""
        self.cli(["--cluster", "reshard", self.node(src).addr,
                  "--cluster-from", self.node_id(src),
                  "--cluster-to", self.node_id(dst),
                  "--cluster-slots", str(slots), "--cluster-yes"])
        self.wait_healthy()

    def migrate_begin(self, slot, src, dst):
        """The first half of moving one slot by hand: dst IMPORTING,
        src MIGRATING, and every key of the slot MIGRATEd to dst. Until
        migrate_end, src answers ASK for those keys."""
        s, d = self.node(src), self.node(dst)
        d.call("CLUSTER", "SETSLOT", slot, "IMPORTING", self.node_id(src))
        s.call("CLUSTER", "SETSLOT", slot, "MIGRATING", self.node_id(dst))
        while True:
            keys = s.call("CLUSTER", "GETKEYSINSLOT", slot, 100)
            if not keys:
                return
            s.call("MIGRATE", "127.0.0.1", dst, "", 0, 10000, "AUTH",
                   self.password, "KEYS", *keys)

    def migrate_end(self, slot, src, dst):
        """The second half: the slot belongs to dst, told to every
        master; then waits until every node agrees."""
        s = self.node(src)
        while True:  # keys written to src since migrate_begin, if any
            keys = s.call("CLUSTER", "GETKEYSINSLOT", slot, 100)
            if not keys:
                break
            s.call("MIGRATE", "127.0.0.1", dst, "", 0, 10000, "AUTH",
                   self.password, "KEYS", *keys)
        did = self.node_id(dst)
        self.node(dst).call("CLUSTER", "SETSLOT", slot, "NODE", did)
        s.call("CLUSTER", "SETSLOT", slot, "NODE", did)
        for p in self.masters():
            if p not in (src, dst):
                try:
                    self.node(p).call("CLUSTER", "SETSLOT", slot, "NODE",
                                      did)
                except RedisError:
                    pass  # gossip tells it anyway
        self.wait_healthy()


class Pair(_Servers):
    """A standalone Redis master and one replica of it."""

    def __init__(self):
        super().__init__("reelay-rpair-")

    def start(self):
        self.master = self._new_node("master")
        self.replica = self._new_node("replica")
        self.master.start([])
        self.replica.start(["replicaof 127.0.0.1 %d" % self.master.port])
        self.nodes = [self.master, self.replica]
        for n in self.nodes:
            n.wait_ping()
        wait_for(lambda: self.replica.info("replication").get(
            "master_link_status") == "up", FORM_S, "the replica linked")


__all__ = ["RedisCluster", "Pair", "Node", "harness"]


class ClusterClient(Redis):
    """harness.Redis's interface over a RedisCluster: each command goes
    to the master of its first key's slot (argument 1; EVAL/EVALSHA: the
    first KEY), a command with no key to any master; MOVED and ASK are
    followed (the map read again), TRYAGAIN and CLUSTERDOWN retried for
    up to FORM_S. For tests that look into Redis while reelay runs on the
    cluster."""

    def __init__(self, rc, timeout=5.0):
        self.rc = rc
        self.timeout = timeout
        self.clients = {}
        self.map = []
        self.sock = None

    def _slot(self, args):
        name = str(args[0]).upper()
        if name in ("EVAL", "EVALSHA"):
            if len(args) > 3 and int(args[2]) > 0:
                return _keyslot(str(args[3]))
            return None
        if name in ("PING", "INFO", "TIME", "DBSIZE", "SCAN", "KEYS",
                    "CONFIG", "SLOWLOG", "CLUSTER", "SCRIPT", "FLUSHALL",
                    "COMMAND"):
            return None
        return _keyslot(str(args[1])) if len(args) > 1 else None

    def _refresh(self):
        self.map = self.rc._ranges(self.rc._any())

    def _port(self, slot):
        if not self.map:
            self._refresh()
        if slot is None:
            return self.map[0][2]
        for a, b, p in self.map:
            if a <= slot <= b:
                return p
        self._refresh()
        raise ConnectionError("slot %d has no master" % slot)

    def _client(self, port):
        c = self.clients.get(port)
        if c is None:
            c = Redis(port, password=self.rc.password, timeout=self.timeout)
            self.clients[port] = c
        return c

    def call(self, *args):
        port = self._port(self._slot(args))
        asking = False
        for _ in range(200):
            c = self._client(port)
            try:
                if asking:
                    c.call("ASKING")
                return c.call(*args)
            except RedisError as e:
                text = str(e)
                if text.startswith(("MOVED ", "ASK ")):
                    port = int(text.split()[2].rsplit(":", 1)[1])
                    asking = text.startswith("ASK ")
                    if not asking:
                        self._refresh()
                    continue
                if text.startswith(("TRYAGAIN", "CLUSTERDOWN")):
                    harness.time.sleep(0.05)
                    self._refresh()
                    port = self._port(self._slot(args))
                    continue
                raise
            except (OSError, ConnectionError):
                self.clients.pop(port, None)
                harness.time.sleep(0.1)
                self._refresh()
                port = self._port(self._slot(args))
        raise ConnectionError("no answer for %r" % (args[:2],))

    def close(self):
        for c in self.clients.values():
            c.close()
        self.clients = {}

    def keys(self, pattern="*"):
        out = []
        for p in self.rc.masters():
            out += self._client(p).keys(pattern)
        return out

    def scan(self, pattern="*"):
        return self.keys(pattern)


def _crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _keyslot(key):
    k = key.encode()
    s = k.find(b"{")
    if s >= 0:
        e = k.find(b"}", s + 1)
        if e > s + 1:
            k = k[s + 1:e]
    return _crc16(k) % 16384
