"""Retention (docs/retention.md): finished jobs leave Redis once
[jobs] retention_days has passed, archived first.

Flow (one cluster, run as the least-privilege ACL user of
docs/security.md, so a command the step sends outside that list fails
it): a warm-up job comes and goes, and Redis's keys and memory are
measured (the baseline); the broker is restarted keeping every job
(retention 0) and N jobs of every kind run (completed and failed, with
and without a webhook, a webhook that fails for good, tasks, jobs with
an Idempotency-Key): every key they own is there; the broker is
restarted with a retention of RETENTION_DAYS, and

  - every job leaves with its hash, attempt log, dedup keys, task index
    entry, its entries in the account's job index, failed-delivery index
    and its partition's rl:finished:{P}; the idempotency records stay,
    with their TTL;
  - the ledger drains into the archive (the account's carried sums and
    ledger_archived say so), and `reelay audit` stays clean, yet still
    fails on an account corrupted after the archive;
  - Redis holds the baseline's keys again, and the sum of their MEMORY
    USAGE is within MEMORY_SLACK bytes of the baseline's (counters of
    rl:stats:{P}, rl:render_avg:{P} and the account may grow by a few
    fields);
  - the archive (0700 directory, 0600 files) holds every job and every
    ledger entry exactly once;
  - `reelay export` gives every job once with its final status and
    credits, every ledger entry once, skips bad archive lines with a
    count, and refuses bad dates and directories with exit status 2;
  - GET of a removed job is 404, as for an unknown one (both doors);
  - the retention scripts touch only the keys they declare (MONITOR),
    and the ACL refused nothing.

PendingWebhook: a job whose webhook is still pending stays, however old
(the step moves its rl:finished:{P} entry on), and goes once delivered.
RetentionZero: retention 0 removes nothing. ArchiveOff: jobs leave, no
archive is written, the books still add up. TwoBrokers: both brokers
run the step; the lock lets one archive each job, once.
The crash between the archive write and the removal is swept in
test_crash_points.py.

Every key is named by rkeys (common/rl_keys.h): the account's keys and
its partition's index of finished jobs, ledger work set and lock; a
count over every partition where the test means "anywhere in Redis".
"""

import glob
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
import test_redis_auth as acl  # noqa: E402
import test_script_keys as sk  # noqa: E402
from harness import wait_for, holds_for, video_body  # noqa: E402
from task_client import TaskClient  # noqa: E402

RETENTION_DAYS = "0.00002"  # 1.728 s
RETENTION_S = 1.728
MEMORY_SLACK = 2048  # bytes: counters that gain a field, longer numbers
# Keys that come and go on their own (locks, leases, health records) and
# the idempotency records, which expire by their TTL (24 h), not here.
VOLATILE = ("rl:lock:*", "rl:workers:*", "rl:wjobs:*",
            "rl:provider_health", "rl:idem:*")
WAIT_S = 60  # bounds of every wait: far above what a loaded machine needs


def stable_keys(r):
    import fnmatch
    return sorted(k for k in r.scan("*")
                  if not any(fnmatch.fnmatchcase(k, p) for p in VOLATILE))


def memory(r, keys):
    return sum(int(r.call("MEMORY", "USAGE", k, "SAMPLES", "0") or 0)
               for k in keys)


def archive_lines(c, kind):
    """Every record of kind ("jobs" | "ledger") in the cluster's archive,
    parsed, in file order."""
    out = []
    for path in sorted(glob.glob(os.path.join(c.tmp, "archive",
                                              kind + "-*.jsonl"))):
        with open(path) as f:
            out += [json.loads(ln) for ln in f if ln.strip()]
    return out


def wait_drained(c, acct, timeout=WAIT_S):
    """Waits until no job of acct is left in Redis and its ledger has
    gone to the archive."""
    wait_for(lambda: rkeys.total(c.redis, "ZCARD", rkeys.finished) == 0 and
             c.redis.zcard(rkeys.acct_jobs(acct)) == 0 and
             c.redis.call("LLEN", rkeys.ledger(acct)) == 0 and
             rkeys.total(c.redis, "SCARD", rkeys.retain_ledger) == 0,
             timeout, "jobs and ledger of %s archived" % acct)


def restart_broker(c, retention):
    """Broker 0 again, with another retention (only brokers read it)."""
    c.brokers[0].stop()
    c.extra_env["REELAY_JOBS_RETENTION_DAYS"] = retention
    p = c.start_broker(0)
    url = c.url("/readyz")

    def ready():
        if not p.alive():
            raise AssertionError("%s exited: %s" % (p.name, p.tail()))
        return harness.http_get(url, timeout=2).status == 200
    wait_for(ready, WAIT_S, "broker 0 restarted")


def export(c, *args):
    r = c.reelay("export", "-c", c.config, *args, timeout=60)
    return (r.returncode, r.stdout.decode(), r.stderr.decode())


def owned_keys(acct, jid, kind):
    """The keys job jid owns alone (the dedup key only when delivered)."""
    keys = [rkeys.job(acct, jid)]
    if kind in ("ok", "fail", "idem", "dead"):
        keys.append(rkeys.deliveries(acct, jid))
    if kind in ("ok", "fail", "idem"):
        status = "failed" if kind == "fail" else "completed"
        keys.append(rkeys.dedup(acct, jid, status))
    if kind == "task":
        keys.append(rkeys.taskidx(jid))
    return keys


class Flow(harness.ClusterTestCase):
    """The phases run once (setUpClass); each test checks one aspect."""

    @classmethod
    def setUpClass(cls):
        cls.pwdir = tempfile.mkdtemp(prefix="reelay-ret-")
        password = "ret-" + os.urandom(12).hex()
        pwfile = os.path.join(cls.pwdir, "redis-password")
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, (password + "\n").encode())
        os.close(fd)
        rules = [">" + password if r == ">PASSWORD" else r
                 for r in acl.acl_rules()]

        def create_user(c):
            c.redis.call("ACL", "SETUSER", acl.USER, *rules)
            c.redis.call("ACL", "LOG", "RESET")
        cls.CLUSTER = dict(workers=1, deliverers=1,
                           retry_schedule="0,0.3,0.6",
                           redis_setup=create_user, env={
                               "REELAY_REDIS_USERNAME": acl.USER,
                               "REELAY_REDIS_PASSWORD": "",
                               "REELAY_REDIS_PASSWORD_FILE": pwfile,
                               "REELAY_JOBS_RETENTION_DAYS": RETENTION_DAYS,
                           })
        super().setUpClass()
        cls.addClassCleanup(shutil.rmtree, cls.pwdir, True)
        cls.run_phases()

    @classmethod
    def run_phases(cls):
        c = cls.c
        cls.acct, cls.key = c.create_account(1000)
        acct, key = cls.acct, cls.key
        # Warm-up: the first job makes the keys every later one shares
        # (counters, averages); once it and its ledger are gone, that
        # is the baseline.
        r = c.submit(key, video_body(prompt="warm [sim render_ms=50]",
                                     webhook_url=c.webhook_url("warm")))
        cls.warm = r.json()["id"]
        wait_drained(c, acct)
        cls.base_keys = stable_keys(c.redis)
        cls.base_mem = memory(c.redis, cls.base_keys)

        # Keep everything while N jobs run.
        restart_broker(c, "0")
        cls.jobs = cls.submit_all()
        cls.before = {}
        for jid, kind in cls.jobs.items():
            h = cls.wait_settled(jid, kind)
            cls.before[jid] = h
        cls.full_keys = stable_keys(c.redis)
        cls.full_mem = memory(c.redis, cls.full_keys)

        # Now let them go, watching what the scripts touch.
        cls.mon = sk.Monitor(c.redis_port, c.redis_password)
        try:
            restart_broker(c, RETENTION_DAYS)
            wait_drained(c, acct)
        finally:
            cls.mon.close()
        cls.after_keys = stable_keys(c.redis)
        cls.after_mem = memory(c.redis, cls.after_keys)
        sys.stderr.write(
            "retention: %d jobs; stable keys %d -> %d -> %d; MEMORY USAGE "
            "sum %d -> %d -> %d bytes (%.0f bytes a job while retained)\n"
            % (len(cls.jobs), len(cls.base_keys), len(cls.full_keys),
               len(cls.after_keys), cls.base_mem, cls.full_mem,
               cls.after_mem,
               (cls.full_mem - cls.base_mem) / float(len(cls.jobs))))

    @classmethod
    def submit_all(cls):
        """{job id: kind} of every kind of job."""
        c, key = cls.c, cls.key
        jobs = {}

        def v1(kind, prompt, hook=True, headers=None, url=None):
            body = video_body(prompt=prompt, webhook_url=(
                url or c.webhook_url("ret-" + kind)) if hook else None)
            r = c.submit(key, body, headers=headers)
            assert r.status == 202, r
            jobs[r.json()["id"]] = kind
        for i in range(6):
            v1("ok", "ret ok %d [sim render_ms=50]" % i)
        for i in range(3):
            v1("fail", "ret fail %d [sim fail=permanent render_ms=50]" % i)
        for i in range(3):
            v1("plain", "ret plain %d [sim render_ms=50]" % i, hook=False)
        for i in range(3):
            v1("idem", "ret idem %d [sim render_ms=50]" % i,
               headers={"Idempotency-Key": "ret-idem-%d" % i})
        dead = c.start_extra_receiver()
        c.receiver_control({"fail_next": 6, "status": 500}, dead)
        for i in range(2):
            v1("dead", "ret dead %d [sim render_ms=50]" % i,
               url=dead + "/ret-dead")
        tc = TaskClient(c.url("/api/v1"), key)
        for i in range(3):
            jobs[tc.create_task("kling-v3", "ret task %d [sim render_ms=50]"
                                % i)] = "task"
        return jobs

    @classmethod
    def wait_settled(cls, jid, kind):
        """Waits until jid is terminal and its webhook settled; returns
        its hash."""
        c, acct = cls.c, cls.acct
        want = {"ok": "delivered", "fail": "delivered", "idem": "delivered",
                "dead": "failed", "plain": "none", "task": "none"}[kind]

        def settled():
            h = c.job_hash(acct, jid)
            return h if h.get("state") == "done" and \
                h.get("wh_state") == want else None
        return wait_for(settled, WAIT_S, "%s (%s) settled" % (jid, kind))

    # -- the checks ---------------------------------------------------------

    def test_a_every_key_of_a_job_was_there_then_gone(self):
        c, acct = self.c, self.acct
        for jid, kind in self.jobs.items():
            for k in owned_keys(acct, jid, kind):
                self.assertIn(k, self.full_keys, (jid, kind))
                self.assertFalse(c.redis.exists(k), (jid, kind, k))
            self.assertIsNone(c.redis.zscore(rkeys.acct_jobs(acct), jid))
            self.assertIsNone(c.redis.zscore(rkeys.whfail(acct), jid))
            self.assertEqual(rkeys.partition(jid), rkeys.partition(acct))
        dead = [j for j, k in self.jobs.items() if k == "dead"]
        self.assertEqual(len(dead), 2)
        # The idempotency records stay until their own TTL.
        for i in range(3):
            k = rkeys.idem(acct, "ret-idem-%d" % i)
            self.assertTrue(c.redis.exists(k), k)
            self.assertGreater(c.redis.call("TTL", k), 0, k)
        self.assertEqual(rkeys.stat(c.redis, "jobs_removed"),
                         len(self.jobs) + 1)

    def test_b_memory_back_at_the_baseline(self):
        self.assertEqual(self.after_keys, self.base_keys)
        # The jobs did take memory while they were kept...
        self.assertGreater(self.full_mem - self.base_mem,
                           500 * len(self.jobs))
        # ...and it is all back.
        self.assertLessEqual(abs(self.after_mem - self.base_mem),
                             MEMORY_SLACK,
                             (self.base_mem, self.full_mem, self.after_mem))

    def test_c_ledger_archived_and_audit_clean(self):
        c, acct = self.c, self.acct
        a = c.redis.hgetall(rkeys.acct(acct))
        entries = archive_lines(c, "ledger")
        self.assertEqual(int(a["ledger_archived"]), len(entries))
        sums = {"grant": 0, "debit": 0, "refund": 0}
        for e in entries:
            sums[e["entry"]["type"]] += e["entry"]["credits"]
        self.assertEqual((int(a["carried_granted"]), int(a["carried_debited"]),
                          int(a.get("carried_refunded", 0))),
                         (sums["grant"], sums["debit"], sums["refund"]))
        self.assertEqual((a["granted"], a["debited"], a.get("refunded", "0")),
                         tuple(str(sums[k]) for k in ("grant", "debit",
                                                      "refund")))
        self.assertGreater(sums["refund"], 0)  # the failed ones
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)
        self.assertIn("%d ledger entries archived" % len(entries), out)

    def test_d_archive_holds_each_record_once(self):
        c = self.c
        d = os.path.join(c.tmp, "archive")
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        files = glob.glob(os.path.join(d, "*.jsonl"))
        self.assertTrue(files)
        for f in files:
            self.assertRegex(os.path.basename(f),
                             r"^(jobs|ledger)-\d{4}-\d\d-\d\d\.jsonl$")
            self.assertEqual(stat.S_IMODE(os.stat(f).st_mode), 0o600, f)
        jobs = archive_lines(c, "jobs")
        ids = [j["id"] for j in jobs]
        self.assertEqual(sorted(ids), sorted(list(self.jobs) + [self.warm]))
        for j in jobs:
            if j["id"] == self.warm:
                continue
            h = self.before[j["id"]]
            self.assertEqual(j["status"], h["status"])
            self.assertEqual(j["fields"]["wh_state"], h["wh_state"])
            self.assertEqual(len(j["deliveries"]),
                             int(h.get("wh_attempts", 0)))
            self.assertTrue(j["history"], j)
            self.assertGreater(j["archived_at"], j["completed_at"])
        seqs = [e["seq"] for e in archive_lines(c, "ledger")]
        self.assertEqual(sorted(seqs), list(range(1, len(seqs) + 1)))

    def check_export(self, out):
        recs = [json.loads(ln) for ln in out.splitlines()]
        jobs = [r for r in recs if r["type"] == "job"]
        ledger = [r for r in recs if r["type"] == "ledger"]
        self.assertEqual(len(jobs) + len(ledger), len(recs))
        by_id = {}
        for j in jobs:
            self.assertNotIn(j["id"], by_id)
            by_id[j["id"]] = j
        self.assertEqual(set(by_id), set(self.jobs) | {self.warm})
        for jid, h in self.before.items():
            want = int(h["credits"]) - int(h.get("credits_refunded") or 0)
            self.assertEqual((by_id[jid]["status"], by_id[jid]["credits"]),
                             (h["status"], want), jid)
        seqs = sorted(e["seq"] for e in ledger)
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        debits = sum(e["entry"]["credits"] for e in ledger
                     if e["entry"]["type"] == "debit")
        self.assertEqual(debits, int(self.c.redis.hget(
            rkeys.acct(self.acct), "debited")))
        return recs

    def test_e_export_round_trip(self):
        rc, out, err = export(self.c, "--since", "2000-01-01")
        self.assertEqual(rc, 0, err)
        self.check_export(out)
        self.assertIn("0 duplicates and 0 bad lines skipped", err)
        # A range that holds none of them.
        rc, out, err = export(self.c, "--since", "2000-01-01", "--until",
                              "2000-01-02")
        self.assertEqual((rc, out), (0, ""), err)

    def test_f_export_bad_lines_and_options(self):
        c = self.c
        copy = tempfile.mkdtemp(prefix="reelay-arch-")
        self.addCleanup(shutil.rmtree, copy, True)
        for f in glob.glob(os.path.join(c.tmp, "archive", "*.jsonl")):
            shutil.copy(f, copy)
        jobs_file = sorted(glob.glob(os.path.join(copy, "jobs-*")))[0]
        with open(jobs_file) as f:
            good = f.read().splitlines()
        with open(jobs_file, "a") as f:
            f.write("not json at all\n")
            f.write('{"type":"job","id":"x"}\n')
            f.write("\x00\xff garbage\n")
            f.write(good[0] + "\n")  # a duplicate (a crash would write)
            f.write('{"type":"job","id":"vgen_torn","acct":"a","crea')
        with open(os.path.join(copy, "README"), "w") as f:
            f.write("not an archive file\n")
        rc, out, err = export(c, "--since", "2000-01-01", "--archive-dir",
                              copy)
        self.assertEqual(rc, 0, err)
        self.check_export(out)
        self.assertIn("1 duplicates and 4 bad lines skipped", err)
        self.assertEqual(len(re.findall(r"jobs-.*\.jsonl:\d+: skipped", err)),
                         4, err)
        for args, what in (
                ([], "--since DATE is required"),
                (["--since", "yesterday"], "--since 'yesterday' is not a date"),
                (["--since", "2024-02-30"], "is not a date"),
                (["--since", "2024-01-02", "--until", "2024-01-01T10:00Z"],
                 "--until '2024-01-01T10:00Z' is not a date"),
                (["--since", "2024-01-02", "--until", "2024-01-02"],
                 "--until must be after --since"),
                (["--since", "2024-01-01", "--archive-dir",
                  os.path.join(copy, "missing")], "No such file")):
            rc, out, err = export(c, *args)
            self.assertEqual((rc, out), (2, ""), (args, err))
            self.assertIn(what, err, args)

    def test_g_removed_job_answers_404(self):
        c, key = self.c, self.key
        h = {"Authorization": "Bearer " + key}
        for jid, kind in self.jobs.items():
            if kind == "task":
                r = harness.http_get(c.url("/api/v1/jobs/recordInfo?taskId="
                                           + jid), headers=h)
                self.assertEqual(r.status, 404, r)
                continue
            r = c.get_job(key, jid)
            self.assert_error(r, 404, code="job_not_found")
            unknown = c.get_job(key, "vgen_" + "x" * 24)
            self.assertEqual(r.json()["error"]["message"].replace(jid, "ID"),
                             unknown.json()["error"]["message"].replace(
                                 "vgen_" + "x" * 24, "ID"))

    def test_h_retention_scripts_declare_their_keys(self):
        getkeys = harness.Redis(self.c.redis_port,
                                password=self.c.redis_password)
        self.addCleanup(getkeys.close)
        shas = {harness.script_sha(s): s for s in sk.SCRIPTS}
        seen, problems, current = set(), [], None
        for origin, args in self.mon.commands():
            if not args:
                continue
            if origin != "lua":
                current = None
                if args[0].lower() == "evalsha" and len(args) > 2:
                    name = shas.get(args[1])
                    current = (name, set(args[3:3 + int(args[2])]))
                    seen.add(name)
                    # Keys of one partition (one slot on a cluster).
                    parts = {rkeys.key_partition(k) for k in current[1]}
                    if (name or "").startswith("retain_") and (
                            len(parts) != 1 or None in parts):
                        problems.append("%s: keys of partitions %r: %r" % (
                            name, parts, sorted(current[1])))
                continue
            if current is None or not (current[0] or "").startswith(
                    "retain_"):
                continue
            try:
                touched = getkeys.call("COMMAND", "GETKEYS", *args)
            except harness.RedisError:
                touched = []
            problems += ["%s: %s %r" % (current[0], args[0], k)
                         for k in touched or [] if k not in current[1]]
        self.assertEqual(problems[:10], [])
        self.assertTrue({"retain_due", "retain_read", "retain_remove",
                         "retain_ledger_read", "retain_ledger_pop"} <= seen,
                        seen)

    def test_i_acl_refused_nothing(self):
        self.assertEqual(self.c.redis.call("ACL", "LOG"), [])

    def test_z_audit_catches_corruption_after_archiving(self):
        c, ak = self.c, rkeys.acct(self.acct)
        for field, delta, what in (
                ("carried_debited", 1, "ledger does not add up"),
                ("debited", 3, "grants - debits + refunds != balance"),
                ("credits", 5, "grants - debits + refunds != balance"),
                ("carried_refunded", -1000, "negative archived ledger sums")):
            c.redis.call("HINCRBY", ak, field, delta)
            try:
                rc, out = c.audit()
                self.assertEqual(rc, 1, out)
                self.assertIn(what, out, field)
            finally:
                c.redis.call("HINCRBY", ak, field, -delta)
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)


class PendingWebhook(harness.PerTestClusterCase):

    def test_job_with_pending_webhook_stays_until_delivered(self):
        c = self.cluster(deliverers=0,
                         env={"REELAY_JOBS_RETENTION_DAYS": RETENTION_DAYS})
        acct, key = c.create_account(50)
        r = c.submit(key, video_body(prompt="pend [sim render_ms=50]",
                                     webhook_url=c.webhook_url("pend")))
        jid = r.json()["id"]
        ref = rkeys.ref(acct, jid)
        done = c.wait_job(key, jid)
        self.assertEqual(done["status"], "completed")
        jk = rkeys.job(acct, jid)
        finished = int(c.redis.hget(jk, "completed_at"))
        self.assertEqual(c.redis.hget(jk, "wh_state"), "pending")
        # The step looked at it and put it off (its entry moved on)...
        fk = rkeys.of_ref(rkeys.finished, ref)
        wait_for(lambda: float(c.redis.zscore(fk, ref) or 0) >
                 finished, WAIT_S, "the step to put the job off")
        # ...and keeps it while the webhook is pending, however old.
        holds_for(lambda: c.redis.exists(jk), 3 * RETENTION_S,
                  "the job with a pending webhook kept")
        self.assertFalse(glob.glob(os.path.join(c.tmp, "archive",
                                                "jobs-*.jsonl")))
        # Delivered, it goes.
        c.start_deliverer(0)
        wait_for(lambda: not c.redis.exists(jk), WAIT_S, "the job removed")
        jobs = archive_lines(c, "jobs")
        self.assertEqual([j["id"] for j in jobs], [jid])
        self.assertEqual(jobs[0]["fields"]["wh_state"], "delivered")
        self.assertEqual(len(c.deliveries(jid)), 1)


class RetentionZero(harness.PerTestClusterCase):

    def test_retention_zero_removes_nothing(self):
        c = self.cluster(env={"REELAY_JOBS_RETENTION_DAYS": "0"})
        acct, key = c.create_account(50)
        ids = []
        for i in range(3):
            r = c.submit(key, video_body(prompt="zero %d [sim render_ms=50]"
                                         % i,
                                         webhook_url=c.webhook_url("zero")))
            ids.append(r.json()["id"])
        for jid in ids:
            wait_for(lambda: c.job_hash(acct, jid).get("wh_state") ==
                     "delivered", WAIT_S, "%s delivered" % jid)
        quiet = VOLATILE + ("rl:stats:*",)
        snap = c.redis.snapshot(exclude=quiet)
        holds_for(lambda: c.redis.snapshot(exclude=quiet) == snap,
                  3 * RETENTION_S, "Redis unchanged")
        self.assertEqual(rkeys.total(c.redis, "ZCARD", rkeys.finished), 3)
        self.assertEqual(c.redis.zcard(rkeys.of_acct(rkeys.finished, acct)),
                         3)
        self.assertEqual([k for k in rkeys.all_of(rkeys.retain_lock)
                          if c.redis.exists(k)], [])
        self.assertFalse(os.path.exists(os.path.join(c.tmp, "archive")))


class ArchiveOff(harness.PerTestClusterCase):

    def test_jobs_leave_without_an_archive(self):
        c = self.cluster(env={"REELAY_JOBS_RETENTION_DAYS": RETENTION_DAYS,
                              "REELAY_JOBS_ARCHIVE": "false"})
        acct, key = c.create_account(50)
        for i in range(3):
            r = c.submit(key, video_body(prompt="off %d [sim render_ms=50]"
                                         % i))
            self.assertEqual(r.status, 202, r)
        wait_for(lambda: rkeys.stat(c.redis, "jobs_removed") == 3, WAIT_S,
                 "three jobs removed")
        wait_drained(c, acct)
        self.assertFalse(os.path.exists(os.path.join(c.tmp, "archive")))
        a = c.redis.hgetall(rkeys.acct(acct))
        self.assertEqual((a["ledger_archived"], a["carried_debited"]),
                         ("4", "9"))
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)
        rc, out, err = export(c, "--since", "2000-01-01")
        self.assertEqual((rc, out), (0, ""), err)


class Misplaced(harness.PerTestClusterCase):

    def test_members_of_another_partition_leave_the_index(self):
        """A ref or an account of another partition in a partition's
        finished index or ledger work set (by hand, or a bug) names
        nothing that partition holds: each round drops it, so a head of
        128 such refs cannot stop the partition's retention."""
        c = self.cluster(env={"REELAY_JOBS_RETENTION_DAYS": RETENTION_DAYS})
        acct, key = c.create_account(50)
        p = rkeys.partition(acct)
        other = next(a for a in ("acct_o%d" % i for i in range(1000))
                     if rkeys.partition(a) != p)
        refs = [rkeys.ref(other, "vgen_x%d" % i) for i in range(130)]
        args = []
        for ref in refs:
            args += ["1", ref]
        c.redis.call("ZADD", rkeys.finished(p), *args)
        c.redis.call("SADD", rkeys.retain_ledger(p), other)
        r = c.submit(key, video_body(prompt="behind [sim render_ms=50]"))
        self.assertEqual(r.status, 202, r)
        jid = r.json()["id"]
        wait_for(lambda: not c.redis.exists(rkeys.job(acct, jid)), WAIT_S,
                 "the job removed past 130 misplaced refs")
        wait_for(lambda: c.redis.zcard(rkeys.finished(p)) == 0 and
                 not c.redis.call("SISMEMBER", rkeys.retain_ledger(p),
                                  other), WAIT_S,
                 "the misplaced members dropped")
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)


class TwoBrokers(harness.PerTestClusterCase):

    def test_each_job_archived_once(self):
        c = self.cluster(brokers=2,
                         env={"REELAY_JOBS_RETENTION_DAYS": RETENTION_DAYS})
        acct, key = c.create_account(100)
        ids = []
        for i in range(12):
            r = c.submit(key, video_body(prompt="two %d [sim render_ms=50]"
                                         % i), broker=i % 2)
            self.assertEqual(r.status, 202, r)
            ids.append(r.json()["id"])
        wait_drained(c, acct)
        self.assertEqual(sorted(j["id"] for j in archive_lines(c, "jobs")),
                         sorted(ids))
        seqs = sorted(e["seq"] for e in archive_lines(c, "ledger"))
        self.assertEqual(seqs, list(range(1, 14)))
        rc, out = c.audit()
        self.assertEqual(rc, 0, out)


if __name__ == "__main__":
    harness.main()
