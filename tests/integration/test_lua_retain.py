"""The retention step's scripts (common/lua/retain_*.lua), run by a real
Redis on keys of throwaway accounts, EVALed with the shared prelude as
embed.cmake prepends it (the broker of the cluster keeps every job:
retention 0, so only these calls touch the keys):

  - retain_remove removes a job that may go with everything that is
    its alone (hash, attempt log, both dedup keys, its task index entry
    when it names the account, its entries in the account's job index,
    failed-delivery index and its partition's rl:finished:{P}), and
    keeps a job that is not done, whose webhook is pending or whose ref
    is in the outbox (its rl:finished:{P} entry moved on by `recheck`),
    one that finished within the retention (its entry back at its
    finish), one that changed since its archived copy, and one it was
    told was not archived; run again it changes nothing; another
    holder's lock makes it skip;
  - every way a job ends puts it in its partition's rl:finished:{P}, at
    its completed_at;
  - retain_due names the refs due and accounts to look at, and drops
    from rl:finished:{P} a ref no job can have (not "A|J", too long);
  - retain_read gives each job's verdict and, for one that may go, its
    hash and attempt log;
  - retain_ledger_pop counts and pops the oldest entries that may go
    (old enough, readable, their job gone), carries their sums in the
    account, counts them in ledger_archived, refuses a replay (its
    ledger_archived moved), and takes the account off the work set when
    nothing more may go;
  - account_get's ledger cursor counts archived entries, so a page does
    not move when the tail goes to the archive.

Every key is named by rkeys (common/rl_keys.h): the retention's index,
work set and lock are those of the account's partition, and every call
declares keys of one partition only (checked here before each EVAL, as
Redis Cluster would refuse it), so made-up job ids are steered into
their account's partition as the broker draws them (a job's task index
entry is named from its id alone).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402

HOLDER = "test-holder"
RETENTION = 10000  # ms
RECHECK = 60000


def now_ms():
    return int(time.time() * 1000)


def lock(a):
    """The retention lock of a's partition."""
    return rkeys.of_acct(rkeys.retain_lock, a)


def fin(a):
    """The index of finished jobs of a's partition."""
    return rkeys.of_acct(rkeys.finished, a)


def work(a):
    """The ledger work set of a's partition."""
    return rkeys.of_acct(rkeys.retain_ledger, a)


def job_id(a, name):
    """A made-up job id of account a, in a's partition as the broker
    draws them (rl_keys_steer_id): retain_remove declares the task index
    entry named from the id of every job it is given. "_0" is appended so
    that names differing in their last character stay apart."""
    return rkeys.steer_to(name + "_0", a)


def job_keys(a, j):
    """retain_remove's seven keys of job j of account a."""
    return [rkeys.job(a, j), rkeys.deliveries(a, j), rkeys.acct_jobs(a),
            rkeys.whfail(a), rkeys.dedup(a, j, "completed"),
            rkeys.dedup(a, j, "failed"), rkeys.taskidx(j)]


class LuaRetain(harness.LuaTestCase):
    CLUSTER = dict(harness.LuaTestCase.CLUSTER,
                   env={"REELAY_JOBS_RETENTION_DAYS": "0"})

    def script(self, name):
        return self.lib + harness.lua_source(name + ".lua")

    def run_script(self, name, keys, argv):
        """EVALs script `name`, its keys all of one partition first
        checked."""
        parts = {rkeys.key_partition(k) for k in keys}
        self.assertEqual(len(parts), 1, (name, keys))
        self.assertIsNotNone(next(iter(parts)), (name, keys))
        return self.r.call("EVAL", self.script(name), str(len(keys)),
                           *(list(keys) + list(argv)))

    def done_job(self, a, j, age_ms, **extra):
        """A finished job of account a, finished age_ms ago, with an
        attempt log, a dedup key, index entries."""
        at = now_ms() - age_ms
        f = {"id": j, "acct": a, "status": "completed", "state": "done",
             "completed_at": str(at), "created_at": str(at - 1000),
             "wh_state": "delivered", "wh_token": "1", "wh_attempts": "1",
             "credits": "3"}
        f.update(extra)
        args = []
        for k, v in f.items():
            args += [k, v]
        self.r.call("HSET", rkeys.job(a, j), *args)
        self.r.call("RPUSH", rkeys.deliveries(a, j), '{"attempt":1}')
        self.r.call("SET", rkeys.dedup(a, j, "completed"), "delivered")
        self.r.call("ZADD", rkeys.acct_jobs(a), str(at - 1000), j)
        self.r.call("ZADD", fin(a), str(at), rkeys.ref(a, j))
        return at

    def remove(self, a, jobs, holder=HOLDER, version=None):
        """retain_remove of jobs of a; version: per job (token, attempts,
        state), "-" (any) or "!" (not archived). Default "-"."""
        keys = [lock(a), fin(a), rkeys.of_acct(rkeys.outbox, a), work(a),
                rkeys.of_acct(rkeys.stats, a)]
        argv = [holder, "5000", str(RETENTION), str(RECHECK)]
        for i, j in enumerate(jobs):
            keys += job_keys(a, j)
            v = (version or {}).get(j, "-")
            argv.append(rkeys.ref(a, j))
            argv += [v, v, v] if isinstance(v, str) else list(v)
        return self.run_script("retain_remove", keys, argv)

    def gone(self, a, j):
        keys = job_keys(a, j)
        self.assertEqual([self.r.exists(k) for k in
                          (keys[0], keys[1], keys[4], keys[5])], [0] * 4)
        self.assertIsNone(self.r.zscore(rkeys.acct_jobs(a), j))
        self.assertIsNone(self.r.zscore(rkeys.whfail(a), j))
        self.assertIsNone(self.r.zscore(fin(a), rkeys.ref(a, j)))

    def test_remove_what_may_go_and_keep_the_rest(self):
        a = "acct_rm1"
        old = RETENTION + 5000
        j = {n: job_id(a, n) for n in (
            "vgen_ok", "task_t1", "task_t2", "vgen_pending", "vgen_outbox",
            "vgen_leased", "vgen_young", "vgen_moved", "vgen_notarch",
            "vgen_gone")}
        self.assertEqual(len(set(j.values())), len(j))
        self.done_job(a, j["vgen_ok"], old)
        self.r.call("ZADD", rkeys.whfail(a), "1", j["vgen_ok"])
        self.done_job(a, j["task_t1"], old)
        self.r.call("SET", rkeys.taskidx(j["task_t1"]), a)
        self.done_job(a, j["task_t2"], old)
        self.r.call("SET", rkeys.taskidx(j["task_t2"]), "acct_other")
        self.done_job(a, j["vgen_pending"], old, wh_state="pending")
        self.done_job(a, j["vgen_outbox"], old)
        self.r.call("ZADD", rkeys.of_acct(rkeys.outbox, a), "1",
                    rkeys.ref(a, j["vgen_outbox"]))
        self.done_job(a, j["vgen_leased"], old, state="leased",
                      status="processing")
        young_at = self.done_job(a, j["vgen_young"], 1000)
        self.r.call("ZADD", fin(a), "1", rkeys.ref(a, j["vgen_young"]))
        self.done_job(a, j["vgen_moved"], old)
        self.done_job(a, j["vgen_notarch"], old)
        self.r.call("ZADD", fin(a), "1", rkeys.ref(a, j["vgen_gone"]))
        self.r.call("ZADD", rkeys.acct_jobs(a), "1", j["vgen_gone"])
        stats = rkeys.of_acct(rkeys.stats, a)
        removed0 = int(self.r.hget(stats, "jobs_removed") or 0)

        jobs = [j[n] for n in (
            "vgen_ok", "task_t1", "task_t2", "vgen_pending", "vgen_outbox",
            "vgen_leased", "vgen_young", "vgen_moved", "vgen_notarch",
            "vgen_gone")]
        version = {j["vgen_moved"]: ("1", "0", "delivered"),  # attempts moved
                   j["vgen_ok"]: ("1", "1", "delivered"),
                   j["vgen_notarch"]: "!"}
        # Another holder has the lock: nothing happens.
        self.r.call("SET", lock(a), "someone-else", "PX", "5000")
        self.assertEqual(self.remove(a, jobs, version=version), ["skipped"])
        self.assertTrue(self.r.exists(rkeys.job(a, j["vgen_ok"])))
        self.r.call("DEL", lock(a))

        t0 = now_ms()
        got = self.remove(a, jobs, version=version)
        # removed: ok, t1, t2; busy: pending, outbox, leased, young;
        # changed: moved, notarch; gone: gone
        self.assertEqual(got, ["ok", 3, 4, 2, 1])
        for n in ("vgen_ok", "task_t1", "task_t2", "vgen_gone"):
            self.gone(a, j[n])
        self.assertFalse(self.r.exists(rkeys.taskidx(j["task_t1"])))
        self.assertEqual(self.r.get(rkeys.taskidx(j["task_t2"])),
                         "acct_other")
        for n in ("vgen_pending", "vgen_outbox", "vgen_leased"):
            self.assertTrue(self.r.exists(rkeys.job(a, j[n])))
            score = float(self.r.zscore(fin(a), rkeys.ref(a, j[n])))
            # looked at again `recheck` after the retention, from now
            self.assertGreaterEqual(score, t0 - RETENTION + RECHECK)
        self.assertEqual(
            float(self.r.zscore(fin(a), rkeys.ref(a, j["vgen_young"]))),
            young_at)
        for n in ("vgen_moved", "vgen_notarch"):
            self.assertTrue(self.r.exists(rkeys.job(a, j[n])))
        self.assertEqual(int(self.r.hget(stats, "jobs_removed")),
                         removed0 + 3)
        self.assertEqual(self.r.call("SISMEMBER", work(a), a), 1)
        self.assertEqual(self.r.get(lock(a)), HOLDER)

        # Again: the ones removed are only cleaned up after.
        quiet = ("rl:lock:*", "rl:stats:*", "rl:workers:*")
        snap = self.r.snapshot(exclude=quiet)
        got = self.remove(a, [j["vgen_ok"], j["task_t1"]],
                          version={j["vgen_ok"]: ("1", "1", "delivered")})
        self.assertEqual(got, ["ok", 0, 0, 0, 2])
        self.assertEqual(harness.snapshot_diff(
            snap, self.r.snapshot(exclude=quiet)), "")

    def test_every_terminal_write_indexes_the_job(self):
        # job_finish.lua is covered by test_retention.py (completed and
        # failed); here the two other ways a job ends: past its maximum
        # wait at the head of the queue (reap_expire.lua, the unkeyed
        # fail_job) and found so by a claim (claim.lua, the keyed
        # job_fail). Both index it in its partition's rl:finished:{P}.
        a = "acct_ix1"
        p = rkeys.partition(a)
        reaped, claimed = job_id(a, "vgen_reaped"), job_id(a, "vgen_claimed")
        self.r.call("HSET", rkeys.acct(a), "credits", "0")
        past = str(now_ms() - 1000)
        for j in (reaped, claimed):
            self.r.call("HSET", rkeys.job(a, j), "id", j,
                        "status", "pending", "state", "queued", "credits",
                        "3", "created_at", past, "deadline_at", past,
                        "fence", "0", "active", "1")
        self.r.call("RPUSH", rkeys.queue(p), rkeys.ref(a, reaped))
        jk = rkeys.job(a, reaped)
        harness.wait_for(lambda: self.r.hget(jk, "state") == "done", 30,
                         "the broker's reaper to time the job out")
        self.assertEqual(float(self.r.zscore(fin(a), rkeys.ref(a, reaped))),
                         float(self.r.hget(jk, "completed_at")))
        jk = rkeys.job(a, claimed)
        got = self.run_script("claim", [
            jk, rkeys.worker_jobs(p, "w-ix"), rkeys.dispatched(p),
            rkeys.workers(p), rkeys.acct(a), rkeys.ledger(a),
            rkeys.outbox(p), rkeys.stats(p), rkeys.finished(p)],
            [rkeys.ref(a, claimed), "w-ix", "0"])
        self.assertEqual(got, ["refused", "expired"])
        self.assertEqual(float(self.r.zscore(fin(a), rkeys.ref(a, claimed))),
                         float(self.r.hget(jk, "completed_at")))
        # Indexed in their own partition's index only.
        for q in range(rkeys.PARTITIONS):
            if q != p:
                for j in (reaped, claimed):
                    self.assertIsNone(self.r.zscore(rkeys.finished(q),
                                                    rkeys.ref(a, j)))

    def test_due_drops_refs_no_job_can_have(self):
        a = "acct_due1"
        d1, young = job_id(a, "vgen_d1"), job_id(a, "vgen_young")
        self.done_job(a, d1, RETENTION + 5000)
        self.done_job(a, young, 10)
        self.r.call("SADD", work(a), a)
        for bad in ("no-bar", "|vgen_x", "acct_x|", "a|" + "j" * 300):
            self.r.call("ZADD", fin(a), "1", bad)

        def due():
            return self.run_script(
                "retain_due", [lock(a), fin(a), work(a)],
                [HOLDER, "5000", str(RETENTION), "100", "8", "256"])
        got = due()
        self.assertEqual(got[0], "ok")
        self.assertLessEqual(abs(got[1] - now_ms()), 5000)
        self.assertEqual(got[2], [rkeys.ref(a, d1)])
        self.assertIn(a, got[3])
        self.assertEqual(sorted(self.r.zrange(fin(a))),
                         sorted([rkeys.ref(a, d1), rkeys.ref(a, young)]))
        self.r.call("SET", lock(a), "someone-else", "PX", "5000")
        self.assertEqual(due(), ["skipped"])
        self.r.call("DEL", lock(a))
        self.r.call("DEL", fin(a), work(a))

    def test_read(self):
        a = "acct_rd1"
        r1, r2, r3 = (job_id(a, n) for n in ("vgen_r1", "vgen_r2", "vgen_r3"))
        self.done_job(a, r1, RETENTION + 5000)
        self.done_job(a, r2, RETENTION + 5000, wh_state="pending")
        keys = [lock(a), rkeys.of_acct(rkeys.outbox, a)]
        for j in (r1, r2, r3):
            keys += [rkeys.job(a, j), rkeys.deliveries(a, j)]
        got = self.run_script("retain_read", keys, [
            HOLDER, "5000", str(RETENTION), rkeys.ref(a, r1),
            rkeys.ref(a, r2), rkeys.ref(a, r3)])
        self.assertEqual(got[0], "ok")
        self.assertEqual([e[0] for e in got[1:]], ["ready", "busy", "gone"])
        fields = dict(zip(got[1][1][::2], got[1][1][1::2]))
        self.assertEqual(fields["id"], r1)
        self.assertEqual(got[1][2], ['{"attempt":1}'])
        self.assertEqual(got[2][1:], [[], []])

    def ledger_call(self, a, mode, archived, entries, jobs):
        """retain_ledger_pop over entries (texts); jobs: the job id each
        names, or None."""
        keys = [lock(a), rkeys.acct(a), rkeys.ledger(a), work(a)]
        argv = [HOLDER, "5000", str(RETENTION), mode, a, str(archived)]
        for e, j in zip(entries, jobs):
            argv += [e, "1" if j else "0"]
            if j:
                keys.append(rkeys.job(a, j))
        return self.run_script("retain_ledger_pop", keys, argv)

    def test_ledger_pop(self):
        a = "acct_lg1"
        lk = rkeys.ledger(a)
        old = now_ms() - RETENTION - 5000
        entries = [  # oldest first
            {"type": "grant", "credits": 50, "job": "", "at": old},
            {"type": "debit", "credits": 3, "job": "vgen_gone", "at": old},
            {"type": "refund", "credits": 3, "job": "vgen_gone", "at": old},
            {"type": "debit", "credits": 2, "job": "vgen_here", "at": old},
            {"type": "grant", "credits": 5, "job": "", "at": old},
        ]
        texts = [json.dumps(e) for e in entries]
        for t in texts:
            self.r.call("LPUSH", lk, t)  # newest at the head
        self.r.call("HSET", rkeys.job(a, "vgen_here"), "status",
                    "completed")
        self.r.call("HSET", rkeys.acct(a), "credits", "48", "granted",
                    "55", "debited", "5", "refunded", "3")
        self.r.call("SADD", work(a), a)
        jobs = [e["job"] or None for e in entries]
        read = self.run_script("retain_ledger_read",
                               [lock(a), rkeys.acct(a), lk],
                               [HOLDER, "5000", "64"])
        self.assertEqual(read, ["ok", 0, texts])

        # Three may go: the fourth names a job still in Redis.
        self.assertEqual(self.ledger_call(a, "check", 0, texts, jobs),
                         ["ok", 3])
        self.assertEqual(self.r.call("LLEN", lk), 5)
        self.assertEqual(self.ledger_call(a, "pop", 0, texts[:3], jobs[:3]),
                         ["ok", 3])
        acct = self.r.hgetall(rkeys.acct(a))
        self.assertEqual((acct["carried_granted"], acct["carried_debited"],
                          acct["carried_refunded"], acct["ledger_archived"]),
                         ("50", "3", "3", "3"))
        self.assertEqual(self.r.lrange(lk), texts[:2:-1])
        # A replay of that pop (its reply lost) changes nothing.
        self.assertEqual(self.ledger_call(a, "pop", 0, texts[:3], jobs[:3]),
                         ["changed"])
        self.assertEqual(self.r.call("LLEN", lk), 2)
        self.assertEqual(self.r.call("SISMEMBER", work(a), a), 1)
        # Blocked by vgen_here: nothing may go, the account leaves the set.
        self.assertEqual(self.ledger_call(a, "check", 3, texts[3:],
                                          jobs[3:]), ["ok", 0])
        self.assertEqual(self.r.call("SISMEMBER", work(a), a), 0)
        # Its job gone, the rest goes, and the ledger is empty.
        self.r.call("DEL", rkeys.job(a, "vgen_here"))
        self.r.call("SADD", work(a), a)
        self.assertEqual(self.ledger_call(a, "pop", 3, texts[3:], jobs[3:]),
                         ["ok", 2])
        self.assertEqual(self.r.call("EXISTS", lk), 0)
        self.assertEqual(self.r.call("SISMEMBER", work(a), a), 0)
        acct = self.r.hgetall(rkeys.acct(a))
        self.assertEqual((acct["carried_granted"], acct["carried_debited"],
                          acct["ledger_archived"]), ("55", "5", "5"))

    def test_ledger_keeps_what_it_cannot_read_or_is_young(self):
        a = "acct_lg2"
        lk = rkeys.ledger(a)
        young = json.dumps({"type": "grant", "credits": 1, "job": "",
                            "at": now_ms()})
        for bad in ("not json", json.dumps({"type": "bonus", "credits": 1,
                                            "at": 1}),
                    json.dumps({"type": "grant", "credits": 1.5, "at": 1}),
                    young):
            self.r.call("DEL", lk)
            self.r.call("LPUSH", lk, bad)
            self.assertEqual(self.ledger_call(a, "pop", 0, [bad], [None]),
                             ["ok", 0], bad)
            self.assertEqual(self.r.lrange(lk), [bad])
        # What is given must be the tail, in order.
        self.assertEqual(self.ledger_call(a, "check", 0, ["other"], [None]),
                         ["ok", 0])

    def test_account_ledger_cursor_counts_archived_entries(self):
        c = self.c
        acct, key = c.create_account(10)
        ak, lk = rkeys.acct(acct), rkeys.ledger(acct)
        for i in range(5):  # after the sign-up grant: six entries
            c.redis.call("LPUSH", lk, json.dumps(
                {"type": "grant", "credits": 0, "balance": 10, "job": "",
                 "reason": "r%d" % i, "at": 1000 + i}))
        h = {"Authorization": "Bearer " + key}

        def page(cursor):
            r = harness.http_get(c.url("/v1/account/ledger?limit=2&cursor=%d"
                                       % cursor), headers=h)
            self.assertEqual(r.status, 200, r)
            return r.json()
        want = page(4)
        self.assertEqual([e["reason"] for e in want["data"]], ["r2", "r1"])
        self.assertEqual(want["next_cursor"], 2)
        # The two oldest leave for the archive: the same cursor still
        # names the same entries, and nothing older is left to page to.
        c.redis.call("RPOP", lk)
        c.redis.call("RPOP", lk)
        c.redis.call("HINCRBY", ak, "ledger_archived", 2)
        again = page(4)
        self.assertEqual(again["data"], want["data"])
        self.assertEqual((again["has_more"], again["next_cursor"]),
                         (False, None))
        self.assertEqual(page(2)["data"], [])
        self.assertEqual(len(c.ledger(key)), 4)


if __name__ == "__main__":
    harness.main()
