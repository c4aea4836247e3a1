"""Health checks (docs/operations.md): the status endpoints of the roles
without an API (rl_status: GET /healthz, /readyz, /stats) and the
broker's /healthz and /readyz, as Kubernetes probes use them.

Two workers and two deliverers run on one host, each on the entry of its
--index in [health] worker_status_listen / [webhook]
deliverer_status_listen (set here through the environment). Liveness is
200 whenever the process runs; readiness is 503 while Redis is down or
stalled (connected is not enough) and 200 again once it answers.
"""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import wait_for, holds_for, http_get  # noqa: E402

COMMAND_TIMEOUT_MS = 400
LOAD_S = 3.0  # what a loaded machine may add to a bound the timers set
WORKER_KEYS = {"inflight", "claimed", "submits", "polls", "completed",
               "failed", "stale_writes", "dropped"}
DELIVERER_KEYS = {"inflight", "delivered", "retried", "failed", "stale",
                  "fail_open", "records_lost"}


class Health(harness.ClusterTestCase):

    @classmethod
    def setUpClass(cls):
        P = harness.free_port
        cls.wports = [P(), P()]
        cls.dports = [P(), P()]
        cls.CLUSTER = dict(workers=2, deliverers=2, env={
            "REELAY_HEALTH_WORKER_STATUS_LISTEN": ",".join(
                "127.0.0.1:%d" % p for p in cls.wports),
            "REELAY_WEBHOOK_DELIVERER_STATUS_LISTEN": ",".join(
                "127.0.0.1:%d" % p for p in cls.dports),
            "REELAY_REDIS_COMMAND_TIMEOUT_MS": str(COMMAND_TIMEOUT_MS),
            "REELAY_REDIS_RECONNECT_MAX_MS": "200",
        })
        super().setUpClass()

    # -- helpers --

    def endpoints(self):
        """(name, base URL, role) of every status endpoint."""
        out = [("worker-%d" % i, "http://127.0.0.1:%d" % p, "worker")
               for i, p in enumerate(self.wports)]
        out += [("deliverer-%d" % i, "http://127.0.0.1:%d" % p, "deliverer")
                for i, p in enumerate(self.dports)]
        out.append(("broker-0", self.c.url(""), "broker"))
        return out

    def status(self, base, path):
        return http_get(base + path, timeout=2).status

    def assert_live(self):
        for name, base, _ in self.endpoints():
            self.assertEqual(self.status(base, "/healthz"), 200, name)

    def wait_ready(self, want, timeout):
        for name, base, _ in self.endpoints():
            wait_for(lambda: self.status(base, "/readyz") == want, timeout,
                     "%s /readyz == %d" % (name, want))

    def assert_roles_alive(self):
        c = self.c
        self.assertEqual([p.name for p in c.brokers + c.workers +
                          c.deliverers if not p.alive()], [])

    def wait_all_ready(self):
        self.wait_ready(200, 15)

    # -- tests --

    def test_status_endpoints(self):
        self.wait_all_ready()
        for name, base, role in self.endpoints():
            r = http_get(base + "/healthz")
            self.assertEqual(r.status, 200, (name, r))
            if role != "broker":
                self.assertEqual(r.json(), {"status": "ok", "role": role})
                self.assertEqual(http_get(base + "/nope").status, 404)
                stats = http_get(base + "/stats").json()
                want = WORKER_KEYS if role == "worker" else DELIVERER_KEYS
                self.assertTrue(want <= set(stats), (name, stats))
            r = http_get(base + "/readyz")
            self.assertEqual(r.status, 200, (name, r))
            self.assertEqual(r.json()["status"], "ok", (name, r.json()))

    def test_index_beyond_the_list_refuses_to_start(self):
        for role, key in (("worker", "worker_status_listen"),
                          ("deliverer", "deliverer_status_listen")):
            env = self.c.env()
            env["REELAY_ZMQ_COMPLETION"] = ",".join(
                self.c.completion + ["tcp://127.0.0.1:%d" %
                                     harness.free_port()])
            p = self.c._spawn("%s-2-bad" % role, [
                os.path.join(self.c.bin, "reelay-" + role), "-c",
                self.c.config, "--index", "2"], env=env)
            wait_for(lambda: not p.alive(), 10, "%s --index 2 to exit" % role)
            self.assertNotEqual(p.popen.returncode, 0)
            self.assertIn(key + ": --index 2: the list has 2 entries",
                          p.tail())

    def test_readiness_follows_redis_down(self):
        c = self.c
        self.wait_all_ready()
        os.kill(c.redis_proc.pid, signal.SIGKILL)
        c.redis_proc.popen.wait(timeout=5)
        c.redis.close()
        try:
            # Connection refused: every role says so at once.
            self.wait_ready(503, 3)
            self.assert_live()
        finally:
            c.start_redis()  # same port, same AOF directory
        self.wait_ready(200, 10)
        self.assert_live()
        self.assert_roles_alive()

    def test_readiness_follows_redis_stall(self):
        # A stopped Redis keeps its connections, and a reconnect to it
        # succeeds in the kernel's backlog: readiness must go 503 anyway
        # (a command waited half its deadline, or nothing was answered
        # since the reconnect) and stay so through the drops and
        # reconnects the command deadline causes: within a role's
        # command period plus half the deadline (+ 0.5 s). The deliverers
        # and the broker send a command every 100 ms here (outbox scan,
        # reaper), a worker every lease/3 (its renewal) - sooner than its
        # lease lapses (0.9 lease), so a worker's 503 must come from
        # Redis not answering.
        c = self.c
        self.wait_all_ready()
        lease_s = int(c.env()["REELAY_JOBS_LEASE_MS"]) / 1000.0
        half_s = COMMAND_TIMEOUT_MS / 2000.0
        os.kill(c.redis_proc.pid, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            for name, base, role in self.endpoints():
                bound = (lease_s / 3 if role == "worker" else 0.1) + \
                    half_s + 0.5 + LOAD_S
                wait_for(lambda: self.status(base, "/readyz") == 503,
                         max(0.1, bound - (time.monotonic() - t0)),
                         "%s /readyz 503 while Redis is stalled" % name)
            sys.stderr.write("stall: every /readyz 503 after %.2f s\n"
                             % (time.monotonic() - t0))
            holds_for(lambda: all(self.status(b, "/readyz") == 503 and
                                  self.status(b, "/healthz") == 200
                                  for _, b, _ in self.endpoints()),
                      2.5 * COMMAND_TIMEOUT_MS / 1000.0,
                      "503 through reconnects to the stalled Redis")
        finally:
            os.kill(c.redis_proc.pid, signal.SIGCONT)
        self.wait_ready(200, 10)
        self.assert_live()
        self.assert_roles_alive()


if __name__ == "__main__":
    harness.main()
