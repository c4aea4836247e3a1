#!/usr/bin/env python3
"""reelay chaos suite.

    python3 tests/chaos/chaos.py --bin build --jobs N --seconds S [--seed X]

Starts a full stack on loopback (redis-server with AOF appendfsync always,
2 brokers sharing one HTTP port through SO_REUSEPORT, 3 workers, 2
deliverers, the webhook receiver and the provider simulator), submits N
jobs with a mix of outcomes across several accounts, and for S seconds
kills random processes with SIGKILL (redis-server among them: restarted on
the same port and AOF directory), pauses workers past their lease, and makes
the receiver fail or hang. Then it drains (every job terminal, every
outbox entry delivered or failed) and checks the invariants:

  - every accepted (202) job is in Redis and terminal exactly once
    (completed|failed, state done, one terminal history entry), and so is
    every other job in Redis; one job per Idempotency-Key;
  - no job rendered twice unrecorded: per job, at most one upstream task
    per recorded submit attempt, and no attempt number (Kling's
    external_task_id) used twice; never-polled tasks (a worker died
    between its submit and recording the task id) are counted;
  - no job rendered by two workers at once: per job, the polling
    intervals (simulator: first to last poll) of its upstream tasks do
    not overlap - a task is polled by one lease holder at a time, and a
    job moves to a new task only once the old one is left;
  - `reelay audit` passes (credits add up, one debit per job, refunds
    once);
  - every terminal state whose delivery did not exhaust its attempts
    reached the receiver with a valid signature and the right event; no
    (job, status) pair answered 2xx twice (except around a Redis outage,
    where dedup fails open, or a deliverer killed between the 2xx and its
    record: both reported);
  - no process exited unless the suite killed it, and every process is
    alive at the end.

Before checking it waits (bounded) until the deliverers have nothing in
the air (their /stats) and the receiver has recorded every delivery
Redis marked delivered.

Prints one summary line
  chaos jobs=N accepted=N kills=N redis_restarts=N deliveries=N \
duplicates=N violations=N seconds=S
(after details of each violation) and exits 1 on any violation, 2 when the
stack could not be set up or the drain did not finish in time.
"""

import argparse
import collections
import json
import os
import random
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for  # noqa: E402

LEASE_MS = 1500
WEBHOOK_TIMEOUT_MS = 1000
RETRY_SCHEDULE = "0,0.5,1,2"
MAX_WAIT_S = 10
PRICE_CREDITS = 1000000  # per account: never the limit


# ---- the stack -------------------------------------------------------------

class ChaosCluster(harness.Cluster):
    """harness.Cluster with every broker on one shared HTTP port, and a
    status endpoint per deliverer (the suite asks them when they are
    idle)."""

    def start(self):
        self.shared_http = harness.free_port()
        self.dlv_status = ["127.0.0.1:%d" % harness.free_port()
                           for _ in range(self.n_deliverers)]
        self.extra_env["REELAY_WEBHOOK_DELIVERER_STATUS_LISTEN"] = ",".join(
            self.dlv_status)
        return super().start()

    def deliverer_stats(self, i):
        return harness.http_get("http://%s/stats" % self.dlv_status[i],
                                timeout=2).json()

    def _role(self, role, i):
        p = super()._role(role, i) if role != "broker" else None
        if p is not None:
            return p
        env = self.env()
        env["REELAY_HTTP_LISTEN"] = "127.0.0.1:%d" % self.shared_http
        return self._spawn("%s-%d" % (role, i), [
            os.path.join(self.bin, "reelay-broker"), "-c", self.config,
            "--index", str(i)], env=env)

    def url(self, path, broker=0):
        return "http://127.0.0.1:%d%s" % (self.shared_http, path)


def stack_env():
    return {
        "REELAY_JOBS_LEASE_MS": str(LEASE_MS),
        "REELAY_JOBS_REAPER_INTERVAL_MS": "200",
        "REELAY_JOBS_CLAIM_TIMEOUT_MS": "1000",
        "REELAY_JOBS_MAX_RECOVERIES": "20",
        "REELAY_JOBS_MAX_WAIT_S": str(MAX_WAIT_S),
        "REELAY_REDIS_COMMAND_TIMEOUT_MS": "500",
        "REELAY_REDIS_RECONNECT_MAX_MS": "200",
        "REELAY_WEBHOOK_OUTBOX_SCAN_MS": "200",
        "REELAY_PROVIDER_SIM_KLING_POLL_TIMEOUT_MS": "1000",
        "REELAY_PROVIDER_SIM_SEEDANCE_POLL_TIMEOUT_MS": "1000",
        "REELAY_PROVIDER_SIM_KLING_SUBMIT_TIMEOUT_MS": "2000",
        "REELAY_PROVIDER_SIM_SEEDANCE_SUBMIT_TIMEOUT_MS": "2000",
        "REELAY_HEALTH_BREAKER_FAILURES": "1000",
    }


# ---- the job mix -------------------------------------------------------------

def job_mix(rng, tag):
    """(kind, prompt, model) for one job; `tag` makes the prompt unique so
    the simulator's tasks can be tied to the job."""
    r = rng.random()
    rms = rng.randint(100, 1500)
    if r < 0.45:
        kind, d = "ok", "render_ms=%d" % rms
    elif r < 0.55:
        kind, d = "fail", "fail=permanent render_ms=%d" % rms
    elif r < 0.60:
        kind, d = "content", "fail=content render_ms=300"
    elif r < 0.70:
        kind, d = "429", "kling.submit=429 render_ms=%d" % rms
    elif r < 0.78:
        kind, d = "capacity", "kling.fail=capacity render_ms=%d" % rms
    elif r < 0.88:
        kind, d = "5xx", "poll_5xx=3 render_ms=%d" % rms
    elif r < 0.93:
        kind, d = "hang", "poll_hang=1 render_ms=%d" % rms
    else:
        kind, d = "timeout", "render_ms=%d" % ((MAX_WAIT_S + 30) * 1000)
    model = "kling-v3" if rng.random() < 0.85 else "seedance"
    if model == "seedance" and kind in ("429", "capacity"):
        model = "kling-v3"
    return kind, "chaos %s %s [sim %s]" % (tag, kind, d), model


# ---- the run -------------------------------------------------------------------

class Chaos:
    def __init__(self, args):
        self.a = args
        self.rng = random.Random(args.seed)
        self.lock = threading.RLock()
        self.stop_chaos = threading.Event()
        self.violations = []
        self.notes = []
        self.kills = 0
        self.redis_restarts = 0
        self.pauses = 0
        self.kill_log = []        # (time_ms, name)
        self.redis_down = []      # [start_ms, end_ms]
        self.expected_down = set()
        self.accepted = {}        # tag -> (acct, job id)
        self.submitted = {}       # tag -> (acct, key, kind)
        self.unaccepted = []
        self.rejected = []
        self.submit_errors = collections.Counter()

    def violation(self, kind, detail):
        with self.lock:
            self.violations.append((kind, detail))

    # -- processes --

    def roles(self):
        c = self.c
        out = {}
        for i, p in enumerate(c.brokers):
            out["broker-%d" % i] = ("broker", i, p)
        for i, p in enumerate(c.workers):
            out["worker-%d" % i] = ("worker", i, p)
        for i, p in enumerate(c.deliverers):
            out["deliverer-%d" % i] = ("deliverer", i, p)
        out["redis"] = ("redis", 0, c.redis_proc)
        out["simulator"] = ("simulator", 0, c.sim_proc)
        out["receiver"] = ("receiver", 0, c.rcv_proc)
        return out

    def restart(self, kind, i):
        c = self.c
        if kind == "broker":
            c.start_broker(i)
        elif kind == "worker":
            c.start_worker(i)
        elif kind == "deliverer":
            c.start_deliverer(i)
        elif kind == "redis":
            c.redis.close()
            c.start_redis()

    def monitor(self):
        """Any process that exits without being killed by us is a crash:
        recorded as a violation and restarted (roles only)."""
        while not self.stop_chaos.is_set():
            with self.lock:
                for name, (kind, i, p) in self.roles().items():
                    if name in self.expected_down or p.alive():
                        continue
                    self.violation("unexpected_exit", "%s (pid %d) exited "
                                   "rc=%s; log tail:\n%s" % (
                                       name, p.pid, p.popen.returncode,
                                       p.tail(15)))
                    if kind in ("broker", "worker", "deliverer", "redis"):
                        self.restart(kind, i)
            time.sleep(0.1)

    def chaos(self, until):
        """Random faults until `until`. The sleeps here and in the
        helpers below only pace the chaos (time between faults, how long
        a process stays down or paused, the spread of submissions);
        every wait for a state of the stack is a bounded wait_for."""
        rng = self.rng
        actions = (["worker"] * 4 + ["broker"] * 2 + ["deliverer"] * 2 +
                   ["redis"] + ["pause"] + ["rcv_fail"] * 2 + ["rcv_hang"])
        while time.monotonic() < until and not self.stop_chaos.is_set():
            time.sleep(rng.uniform(0.4, 1.2))
            act = rng.choice(actions)
            try:
                if act in ("worker", "broker", "deliverer"):
                    n = {"worker": 3, "broker": 2, "deliverer": 2}[act]
                    self.kill_role(act, rng.randrange(n),
                                   rng.uniform(0.1, 0.8))
                elif act == "redis":
                    self.kill_redis(rng.uniform(0.1, 0.6))
                elif act == "pause":
                    self.pause_worker(rng.randrange(3))
                elif act == "rcv_fail":
                    self.c.receiver_control({
                        "fail_next": rng.randint(1, 10),
                        "status": rng.choice([500, 502, 503])})
                elif act == "rcv_hang":
                    self.c.receiver_control({"hang_next": rng.randint(1, 3)})
            except Exception as e:  # the suite itself must keep going
                self.notes.append("chaos action %s: %r" % (act, e))

    def kill_role(self, kind, i, down_s):
        name = "%s-%d" % (kind, i)
        with self.lock:
            p = self.roles()[name][2]
            if not p.alive():
                return
            self.expected_down.add(name)
            os.kill(p.pid, signal.SIGKILL)
            p.popen.wait(timeout=5)
            self.kills += 1
            self.kill_log.append((time.time() * 1000, name))
        time.sleep(down_s)
        with self.lock:
            self.restart(kind, i)
            self.expected_down.discard(name)

    def kill_redis(self, down_s):
        with self.lock:
            p = self.c.redis_proc
            self.expected_down.add("redis")
            t0 = time.time() * 1000
            os.kill(p.pid, signal.SIGKILL)
            p.popen.wait(timeout=5)
            self.kills += 1
            self.kill_log.append((t0, "redis"))
        time.sleep(down_s)
        with self.lock:
            self.restart("redis", 0)
            self.redis_restarts += 1
            self.redis_down.append([t0, time.time() * 1000])
            self.expected_down.discard("redis")

    def pause_worker(self, i):
        name = "worker-%d" % i
        with self.lock:
            p = self.roles()[name][2]
            if not p.alive():
                return
            self.expected_down.add(name)
            os.kill(p.pid, signal.SIGSTOP)
            self.pauses += 1
        try:
            time.sleep(2 * LEASE_MS / 1000.0 + 0.2)
        finally:
            with self.lock:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self.expected_down.discard(name)

    # -- clients --

    def submit_one(self, tag, acct, key, kind, prompt, model, give_up):
        c = self.c
        body = harness.video_body(prompt=prompt, model=model,
                                  webhook_url=c.webhook_url(tag))
        h = {"Authorization": "Bearer " + key,
             "Idempotency-Key": "chaos-" + tag}
        while time.monotonic() < give_up:
            try:
                r = harness.http_post_json(c.url("/v1/video/generations"),
                                           body, headers=h, timeout=5)
            except Exception as e:
                self.submit_errors[type(e).__name__] += 1
                time.sleep(0.1)
                continue
            if r.status == 202:
                with self.lock:
                    self.accepted[tag] = (acct, r.json()["id"])
                return
            if r.status in (503, 429):
                self.submit_errors[str(r.status)] += 1
                time.sleep(0.1 + self.rng.random() * 0.2)
                continue
            with self.lock:
                self.rejected.append((tag, r.status, r.body[:200]))
            return
        with self.lock:
            self.unaccepted.append(tag)

    def clients(self, accounts, submit_until, give_up):
        n = self.a.jobs
        rng = random.Random(self.a.seed + 1)
        plan = []
        for i in range(n):
            acct, key = accounts[i % len(accounts)]
            tag = "j%05d" % i
            kind, prompt, model = job_mix(rng, tag)
            plan.append((tag, acct, key, kind, prompt, model))
            self.submitted[tag] = (acct, key, kind)
        lock = threading.Lock()
        t_start = time.monotonic()
        span = max(0.1, submit_until - t_start)
        idx = [0]

        def run():
            while True:
                with lock:
                    if idx[0] >= len(plan):
                        return
                    k = idx[0]
                    idx[0] += 1
                # Spread the submissions over the chaos window.
                due = t_start + span * k / len(plan)
                d = due - time.monotonic()
                if d > 0:
                    time.sleep(d)
                tag, acct, key, kind, prompt, model = plan[k]
                self.submit_one(tag, acct, key, kind, prompt, model, give_up)
        threads = [threading.Thread(target=run, daemon=True)
                   for _ in range(self.a.clients)]
        for t in threads:
            t.start()
        return threads

    # -- draining and checking --

    def all_jobs(self):
        """{(acct, job id): hash} of every job in Redis."""
        r = self.c.redis
        out = {}
        for k in r.scan("rl:jobs:*"):  # rl:jobs:{P}:A, one per account
            acct = k.split("}:", 1)[1]
            if k != rkeys.acct_jobs(acct):
                raise AssertionError("%s is not the job index of %s (%s)"
                                     % (k, acct, rkeys.acct_jobs(acct)))
            for j in r.zrange(k):
                out[(acct, j)] = r.hgetall(rkeys.job(acct, j))
        return out

    def drained(self):
        jobs = self.all_jobs()
        busy = [k for k, h in jobs.items()
                if h.get("state") != "done" or h.get("status") not in
                ("completed", "failed")]
        outbox = rkeys.total(self.c.redis, "ZCARD", rkeys.outbox)
        self._drain_state = (len(busy), outbox, busy[:5])
        return not busy and outbox == 0

    def quiet(self):
        """True when no deliverer has an attempt in the air, a delivery
        parked or a fail-open record to write, and the receiver holds a
        2xx of every (job, status) Redis marked delivered: nothing more
        can reach the receiver, so its record can be checked."""
        c = self.c
        for i in range(len(c.deliverers)):
            st = c.deliverer_stats(i)
            if st["inflight"] or st["parked"] or st["fail_open_kept"]:
                return False
        got = {(d.get("headers", {}).get("x-creativeai-delivery-id"),
                d.get("headers", {}).get("x-creativeai-event"))
               for d in c.deliveries() if 200 <= d.get("answered", 0) < 300}
        return all((j, "video.generation." + h.get("status", ""))
                   in got for (_, j), h in self.all_jobs().items()
                   if h.get("wh_state") == "delivered")

    def context(self, t_ms, windows):
        """What happened around t_ms: the Redis outages and kills within
        30 s, as offsets in ms (negative: before t_ms)."""
        outages = [(int(s - t_ms), int(e - t_ms)) for s, e in windows
                   if abs(s - t_ms) < 30000 or abs(e - t_ms) < 30000]
        kills = [(int(t - t_ms), n) for t, n in self.kill_log
                 if abs(t - t_ms) < 30000]
        return "redis down %s; kills %s" % (outages, kills)

    def near(self, t_ms, windows, before, after):
        return any(s - before <= t_ms <= e + after for s, e in windows)

    def check(self):
        c = self.c
        jobs = self.all_jobs()
        by_tag = collections.defaultdict(list)
        for (acct, j), h in jobs.items():
            parts = (h.get("prompt") or "").split()
            tag = parts[1] if len(parts) > 1 else "?"
            by_tag[tag].append((acct, j, h))
        # 1. accepted jobs present and terminal exactly once
        for tag, (acct, jid) in self.accepted.items():
            if (acct, jid) not in jobs:
                self.violation("accepted_job_missing", "%s %s" % (tag, jid))
        for tag, lst in by_tag.items():
            if len(lst) > 1:
                self.violation("two_jobs_one_idempotency_key", "%s: %s" % (
                    tag, [j for _, j, _ in lst]))
        for (acct, j), h in jobs.items():
            hist = json.loads(h.get("history") or "[]")
            terms = [e for e in hist if e.get("status") in
                     ("completed", "failed")]
            if h.get("status") not in ("completed", "failed") or \
                    h.get("state") != "done":
                self.violation("not_terminal", "%s status=%s state=%s "
                               "owner=%s" % (j, h.get("status"),
                                             h.get("state"), h.get("owner")))
            elif len(terms) != 1:
                self.violation("terminal_not_once", "%s history %s" % (
                    j, [(e.get("status"), e.get("reason")) for e in terms]))
        # 2. upstream tasks vs recorded attempts
        tasks = c.sim_get("/_sim/tasks").json()
        tasks_by_tag = collections.defaultdict(list)
        for t in tasks:
            parts = t.get("prompt", "").split()
            if len(parts) > 1 and parts[0] == "chaos":
                tasks_by_tag[parts[1]].append(t)
        # Every submit is recorded (its attempt number) before the
        # provider sees it, so a job never has more upstream tasks than
        # recorded attempts, and no attempt number (Kling's
        # external_task_id) is used twice. A task never polled is the
        # leftover of a worker that died between its submit and recording
        # the task id (counted, not a violation).
        self.orphan_tasks = 0
        self.overlaps = 0
        self.upstream_tasks = len(tasks)
        for tag, lst in by_tag.items():
            acct, j, h = lst[0]
            ts = tasks_by_tag.get(tag, [])
            attempts = int(h.get("attempts") or 0)
            exts = collections.Counter(t.get("external_task_id") for t in ts
                                       if t.get("external_task_id"))
            reused = [e for e, n in exts.items() if n > 1]
            if reused:
                self.violation("attempt_reused", "%s: external_task_id %s "
                               "submitted more than once" % (j, reused))
            self.orphan_tasks += sum(1 for t in ts
                                             if t.get("polls", 0) == 0)
            if len(ts) > attempts:
                self.violation("tasks_exceed_attempts", "%s: %d upstream "
                               "tasks, %d attempts recorded" % (
                                   j, len(ts), attempts))
            self.check_one_render_at_a_time(j, ts)
        # 3. credits
        rc, out = c.audit()
        if rc != 0:
            self.violation("audit", out[-3000:])
        # 4. deliveries
        ds = c.deliveries()
        self.n_deliveries = len(ds)
        ok = collections.defaultdict(list)
        for d in ds:
            hd = d.get("headers", {})
            jid = hd.get("x-creativeai-delivery-id")
            if not d.get("verified"):
                self.violation("bad_signature", "%s seq %s" % (jid,
                                                               d.get("seq")))
            if 200 <= d.get("answered", 0) < 300:
                ok[(jid, hd.get("x-creativeai-event"))].append(d)
        self.duplicates = 0
        excused_dup = 0
        windows = [tuple(w) for w in self.redis_down]
        dlv_kills = [t for t, n in self.kill_log if n.startswith("deliverer")]
        for (jid, ev), lst in ok.items():
            if len(lst) < 2:
                continue
            self.duplicates += 1
            first = min(d["at_ms"] for d in lst)
            if self.near(first, windows, 2000, 3000) or any(
                    first - 200 <= t <= first + WEBHOOK_TIMEOUT_MS + 3000
                    for t in dlv_kills):
                excused_dup += 1
                self.notes.append("duplicate %s %s x%d near a Redis outage "
                                  "or deliverer kill (excused)" % (
                                      jid, ev, len(lst)))
            else:
                self.violation("duplicate_delivery", "%s %s answered 2xx %d "
                               "times at %s; %s" % (jid, ev, len(lst), [
                                   d["at_ms"] for d in lst],
                                   self.context(first, windows)))
        self.excused_duplicates = excused_dup
        wh_failed = 0
        for (acct, j), h in jobs.items():
            if not h.get("webhook_url"):
                continue
            st = h.get("status")
            if st not in ("completed", "failed"):
                continue
            ev = "video.generation." + st
            wrong = [e for (jj, e) in ok if jj == j and e != ev]
            if wrong:
                self.violation("wrong_event", "%s is %s but %s delivered" % (
                    j, st, wrong))
            ws = h.get("wh_state")
            if ws == "delivered":
                if not ok.get((j, ev)):
                    self.violation("delivered_not_received", j)
            elif ws == "failed":
                wh_failed += 1
            else:
                self.violation("undelivered", "%s wh_state=%s" % (j, ws))
        self.wh_failed = wh_failed
        # 5. processes
        for name, (kind, i, p) in self.roles().items():
            if not p.alive():
                self.violation("dead_at_end", "%s rc=%s" % (
                    name, p.popen.returncode))

    def check_one_render_at_a_time(self, j, tasks):
        """The polling intervals [first_poll_ms, last_poll_ms] of a job's
        upstream tasks must not overlap: two at once means two workers
        acted on the job at the same time (or one kept polling a task it
        had left). Never-polled tasks have no interval."""
        polled = sorted((t for t in tasks if t.get("polls", 0) > 0),
                        key=lambda t: t["first_poll_ms"])
        for a, b in zip(polled, polled[1:]):
            if a["last_poll_ms"] > b["first_poll_ms"]:
                self.overlaps += 1
                self.violation("rendered_twice_at_once", "%s: task %s "
                               "polled %d..%d, task %s from %d" % (
                                   j, a["task_id"], a["first_poll_ms"],
                                   a["last_poll_ms"], b["task_id"],
                                   b["first_poll_ms"]))

    # -- main --

    def run(self):
        a = self.a
        t0 = time.monotonic()
        self.c = c = ChaosCluster(
            a.bin, brokers=2, workers=3, deliverers=2,
            retry_schedule=RETRY_SCHEDULE,
            webhook_timeout_ms=WEBHOOK_TIMEOUT_MS, poll_interval_ms=100,
            env=stack_env()).__enter__()  # start; on failure dump, stop
        rc = 0
        try:
            accounts = [c.create_account(PRICE_CREDITS)
                        for _ in range(a.accounts)]
            chaos_until = time.monotonic() + a.seconds
            mon = threading.Thread(target=self.monitor, daemon=True)
            mon.start()
            submit_until = t0 + max(1.0, a.seconds * 0.8)
            clients = self.clients(accounts, submit_until,
                                   chaos_until + a.drain_seconds / 2)
            self.chaos(chaos_until)
            for t in clients:
                t.join(timeout=max(1, chaos_until + a.drain_seconds / 2 -
                                   time.monotonic()))
            self.stop_chaos.set()
            mon.join(timeout=5)
            # Back to normal: every process up, the receiver answering.
            with self.lock:
                for name, (kind, i, p) in self.roles().items():
                    if not p.alive():
                        self.violation("unexpected_exit", "%s rc=%s" % (
                            name, p.popen.returncode))
                        self.restart(kind, i)
            c.receiver_control({"fail_next": 0, "hang_next": 0})
            try:
                wait_for(self.drained, a.drain_seconds, "drain",
                         interval=0.5)
            except harness.WaitTimeout:
                busy, outbox, sample = self._drain_state
                self.violation("drain_timeout", "%d jobs not terminal, "
                               "%d outbox entries left after %ds; e.g. %s" % (
                                   busy, outbox, a.drain_seconds, sample))
            try:
                wait_for(self.quiet, 15, "deliverers idle and the "
                         "receiver's record complete", interval=0.2)
            except harness.WaitTimeout as e:
                self.notes.append(str(e))  # check() reports what is off
            self.check()
        except BaseException:
            c.dump_logs()
            raise
        finally:
            self.stop_chaos.set()
            kept = c.tmp
            if self.violations and a.keep_on_failure:
                os.environ["REELAY_KEEP_TMP"] = "1"
            # A process that would not stop cleanly, or any sanitizer
            # report in a log, is a violation like any other.
            for problem in c.stop(check=False):
                self.violation("unclean_stop", problem)
        seconds = time.monotonic() - t0
        by_kind = collections.Counter(k for k, _ in self.violations)
        for kind, detail in self.violations[:60]:
            print("VIOLATION %s: %s" % (kind, detail))
        if len(self.violations) > 60:
            print("... %d more violations" % (len(self.violations) - 60))
        for n in self.notes[:20]:
            print("note: %s" % n)
        print("detail submits_retried=%s unaccepted=%d rejected=%d "
              "pauses=%d upstream_tasks=%d orphan_tasks=%d "
              "render_overlaps=%d "
              "excused_duplicates=%d webhooks_failed=%d violation_kinds=%s%s"
              % (dict(self.submit_errors), len(self.unaccepted),
                 len(self.rejected), self.pauses,
                 getattr(self, "upstream_tasks", 0),
                 getattr(self, "orphan_tasks", 0),
                 getattr(self, "overlaps", 0),
                 getattr(self, "excused_duplicates", 0),
                 getattr(self, "wh_failed", 0), dict(by_kind),
                 (" logs=%s" % kept) if self.violations and
                 a.keep_on_failure else ""))
        if self.rejected:
            print("rejected submissions (suite bug?): %r" % self.rejected[:5])
            self.violation("rejected", "%d submissions answered 4xx" %
                           len(self.rejected))
        print("chaos jobs=%d accepted=%d kills=%d redis_restarts=%d "
              "deliveries=%d duplicates=%d violations=%d seconds=%d" % (
                  a.jobs, len(self.accepted), self.kills,
                  self.redis_restarts, getattr(self, "n_deliveries", 0),
                  getattr(self, "duplicates", 0), len(self.violations),
                  round(seconds)))
        sys.stdout.flush()
        if any(k == "drain_timeout" for k, _ in self.violations):
            rc = 1
        return 1 if self.violations else rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=harness.DEFAULT_BIN,
                    help="build directory with the reelay binaries")
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=60,
                    help="length of the chaos phase (submissions spread "
                    "over its first 80%%)")
    ap.add_argument("--drain-seconds", type=float, default=60,
                    help="bound of the drain after the chaos phase")
    ap.add_argument("--accounts", type=int, default=4)
    ap.add_argument("--clients", type=int, default=8,
                    help="concurrent submitting clients")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep-on-failure", action="store_true",
                    help="keep the temporary directory (logs, AOF) when a "
                    "violation is found")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    if a.seed is None:
        a.seed = random.randrange(1 << 30)
    print("chaos seed=%d bin=%s" % (a.seed, a.bin))
    sys.stdout.flush()

    def on_term(signum, frame):  # unwinds through run()'s stack teardown
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    try:
        return Chaos(a).run()
    except Exception as e:
        print("chaos setup/run error: %r" % (e,))
        import traceback
        traceback.print_exc()
        return 2


if __name__ == "__main__":
    sys.exit(main())
