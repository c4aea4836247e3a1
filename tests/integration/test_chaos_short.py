"""A short run of the chaos suite (tests/chaos/chaos.py): ~300 jobs with
a mix of outcomes while processes (Redis among them) are SIGKILLed and
restarted and the webhook receiver fails or hangs; then every invariant
is checked. The suite prints its summary line; any violation fails."""

import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN = harness.DEFAULT_BIN
CHAOS = os.path.join(harness.SOURCE, "tests", "chaos", "chaos.py")


class ChaosShort(unittest.TestCase):

    def test_chaos_short(self):
        args = [sys.executable, CHAOS, "--bin", BIN, "--jobs", "300",
                "--seconds", "25", "--drain-seconds", "60"]
        seed = os.environ.get("REELAY_CHAOS_SEED")
        if seed:
            args += ["--seed", seed]
        env = dict(os.environ)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        # Its own process group: should it overrun, SIGTERM makes it stop
        # the stack it started, and SIGKILL of the group takes the rest.
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=env, start_new_session=True)
        try:
            raw, _ = p.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                raw, _ = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                raw, _ = p.communicate()
            sys.stderr.write(raw.decode("utf-8", "replace")[-20000:])
            self.fail("the chaos run overran 240 s")
        out = raw.decode("utf-8", "replace")
        sys.stderr.write(out[-20000:])
        summary = [ln for ln in out.splitlines()
                   if ln.startswith("chaos jobs=")]
        self.assertEqual(len(summary), 1, "no summary line")
        fields = dict(kv.split("=", 1) for kv in summary[0].split()[1:])
        self.assertEqual(set(fields), {"jobs", "accepted", "kills",
                                       "redis_restarts", "deliveries",
                                       "duplicates", "violations",
                                       "seconds"})
        self.assertEqual(p.returncode, 0, "chaos run failed:\n" + out[-6000:])
        self.assertEqual(fields["violations"], "0")
        self.assertGreater(int(fields["kills"]), 0)
        self.assertGreater(int(fields["accepted"]), 0)


class OverlapCheck(unittest.TestCase):
    """The "no job rendered by two workers at once" invariant flags
    overlapping polling intervals of a job's tasks, and only those."""

    def test_overlap_is_a_violation(self):
        sys.path.insert(0, os.path.dirname(CHAOS))
        import chaos
        ch = chaos.Chaos.__new__(chaos.Chaos)
        ch.violations, ch.overlaps = [], 0
        ch.lock = __import__("threading").RLock()

        def task(tid, first, last, polls=1):
            return {"task_id": tid, "first_poll_ms": first,
                    "last_poll_ms": last, "polls": polls}
        ch.check_one_render_at_a_time("j1", [task("a", 100, 200),
                                             task("b", 200, 300),
                                             task("c", 0, 0, polls=0)])
        self.assertEqual(ch.violations, [])
        ch.check_one_render_at_a_time("j2", [task("b", 150, 300),
                                             task("a", 100, 200)])
        self.assertEqual([k for k, _ in ch.violations],
                         ["rendered_twice_at_once"])
        self.assertEqual(ch.overlaps, 1)


if __name__ == "__main__":
    BIN = harness.parse_bin()
    unittest.main(verbosity=2)
