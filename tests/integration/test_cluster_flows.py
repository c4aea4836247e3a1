"""reelay on a real Redis Cluster: every role and the CLI with
[redis] cluster = the seeds of a local cluster of Debian's redis-server
(3 masters, 3 replicas, rcluster.py) and wait_replicas = 1.

- The core flows pass on it: accounts on several masters, submit through
  both doors, render, failover, webhook delivered once and signed,
  polling, and `reelay audit` clean.
- A master killed with SIGKILL under load while its replica takes over:
  every job that was answered 202 ends (none lost), each delivered once,
  and the audit is clean.
- Slots moved with `redis-cli --cluster reshard` under load: the same.

Every wait is a deadline-bounded poll; the load is bounded in count.
"""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import rcluster  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, video_body  # noqa: E402
from task_client import TaskClient  # noqa: E402

BIN = harness.parse_bin()

JOB_S = 120      # a job of the load reaches its end
LOAD = 40        # jobs submitted around a fault


class ClusterFlows(harness.unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.rc = rcluster.RedisCluster()
        cls.rc.start()
        try:
            cls.c = harness.Cluster(
                BIN, workers=2, deliverers=1, redis_cluster=cls.rc,
                env={"REELAY_REDIS_WAIT_REPLICAS": "1"})
            cls.c.start()
        except BaseException:
            cls.rc.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.c.stop()
        finally:
            cls.rc.stop()

    def audit_clean(self):
        rc, out = self.c.audit()
        self.assertEqual(rc, 0, out)
        self.assertIn("audit ok", out)

    def delivered_once(self, jids):
        """Each job of jids delivered exactly once, signature verified
        by the receiver (with the key it was submitted with)."""
        def each():
            got = {}
            for d in self.c.deliveries():
                jid = d.get("headers", {}).get("x-creativeai-delivery-id")
                if jid in jids:
                    self.assertTrue(d.get("verified"), d)
                    got[jid] = got.get(jid, 0) + 1
            return got if len(got) == len(jids) else None
        got = wait_for(each, JOB_S, "a delivery of each of %d jobs"
                       % len(jids))
        # Exactly one each, also a while later (no late duplicate).
        harness.holds_for(lambda: each() == got, 2.0,
                          "one delivery per job")
        self.assertEqual(set(got.values()), {1}, got)

    def test_a_core_flows(self):
        c = self.c
        # Accounts whose partitions lie on more than one master.
        accts = [c.create_account(50) for _ in range(6)]
        masters = {self.rc.master_for_slot(rcluster._keyslot(rkeys.acct(a)))
                   for a, _ in accts}
        self.assertGreater(len(masters), 1, masters)
        jids = []
        for a, key in accts:
            r = c.submit(key, video_body(webhook_url=c.webhook_url("cf")))
            self.assertEqual(r.status, 202, r)
            jids.append((a, key, r.json()["id"]))
        for a, key, jid in jids:
            job = c.wait_job(key, jid, timeout=JOB_S)
            self.assertEqual(job["status"], "completed", job)
        # Failover at submit: the requested provider refuses.
        a, key = accts[0]
        r = c.submit(key, video_body(
            prompt="cluster failover [sim kling.submit=429]",
            webhook_url=c.webhook_url("cf")))
        self.assertEqual(r.status, 202, r)
        fo = c.wait_job(key, r.json()["id"], timeout=JOB_S)
        self.assertEqual(fo["status"], "completed", fo)
        self.assertTrue(fo.get("failover_used"), fo)
        # The second door.
        tc = TaskClient(c.url("/api/v1"), accts[1][1])
        tid = tc.create_task("kling-v3", "a task on the cluster")
        rec = tc.wait(tid, timeout=JOB_S)
        self.assertIsNotNone(rec)
        self.delivered_once({j for _, _, j in jids} | {fo["id"]})
        self.audit_clean()
        c.check_alive()

    def load_around(self, fault):
        """Submits LOAD jobs from 4 threads while fault() runs; returns
        (key per job id of every 202, the other answers)."""
        c = self.c
        accts = [c.create_account(500) for _ in range(4)]
        accepted, other = {}, []
        lock = threading.Lock()

        def submit(i):
            a, key = accts[i % len(accts)]
            try:
                r = c.submit(key, video_body(
                    prompt="load %d [sim render_ms=1500]" % i,
                    webhook_url=c.webhook_url("load")))
            except (OSError, harness.http.client.HTTPException) as e:
                with lock:
                    other.append(repr(e))
                return
            with lock:
                if r.status == 202:
                    accepted[r.json()["id"]] = key
                else:
                    other.append(r.status)

        def run(start):
            for i in range(start, LOAD, 4):
                submit(i)
        ts = [threading.Thread(target=run, args=(s,)) for s in range(4)]
        for t in ts:
            t.start()
        # The fault strikes once the load is on: a few jobs answered.
        wait_for(lambda: len(accepted) + len(other) >= LOAD // 8, JOB_S,
                 "the load started")
        fault()
        for t in ts:
            t.join(JOB_S)
        self.assertGreater(len(accepted), 0, other)
        # Only refusals Redis's absence explains (503), nothing else.
        self.assertTrue(all(o == 503 for o in other), other)
        return accepted, other

    def finish_all(self, accepted):
        for jid, key in accepted.items():
            job = self.c.wait_job(key, jid, timeout=JOB_S)
            self.assertEqual(job["status"], "completed", job)
        self.delivered_once(set(accepted))
        self.audit_clean()

    def test_b_master_killed_under_load(self):
        rc = self.rc
        victim = rc.masters()[0]
        promoted = []

        def fault():
            promoted.append(rc.kill_master(victim))
            # Back as a replica of the promoted master: durable writes
            # (wait_replicas = 1) to its slots are confirmed again.
            rc.rejoin(victim)
        accepted, _ = self.load_around(fault)
        self.assertTrue(promoted)
        self.finish_all(accepted)
        self.c.check_alive()

    def test_c_reshard_under_load(self):
        rc = self.rc
        src, dst = rc.masters()[0], rc.masters()[1]

        def fault():
            rc.reshard(1000, src, dst)
        accepted, _ = self.load_around(fault)
        self.finish_all(accepted)
        self.c.check_alive()


if __name__ == "__main__":
    harness.main()
