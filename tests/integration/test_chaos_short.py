"""A short run of the chaos suite (tests/chaos/chaos.py): ~300 jobs with
a mix of outcomes while processes (Redis among them) are SIGKILLed and
restarted and the webhook receiver fails or hangs; then every invariant
is checked. The suite prints its summary line; any violation fails."""

import os
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
        p = subprocess.run(args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=240)
        out = p.stdout.decode("utf-8", "replace")
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


if __name__ == "__main__":
    BIN = harness.parse_bin()
    unittest.main(verbosity=2)
