"""Money under load: more than 1,000 submissions from 10 accounts at
once (48 concurrent connections), a mix of jobs that complete, jobs
scripted to fail ([sim fail=content]: refunded in full), jobs that fail
over to the cheaper seedance ([sim kling.submit=429] on kling-v3: billed
2 of 3, 1 refunded), 10 s jobs (6 credits), seedance jobs (2 credits),
Idempotency-Key retries (three at once and one more afterwards) and one
account with too few credits (402s).

Then, once every accepted job is terminal:
- `reelay audit` exits 0 and prints "audit ok" (its output is printed);
- no balance is negative; each balance = grants - debits + refunds, and
  = the credits granted minus what the completed jobs were billed;
- every job was debited once, for its price; refunds per job: the whole
  charge for a failed job, exactly 1 for a cheaper failover, 0 for a
  plain completion; the job counters match;
- the Idempotency-Key retries got byte-identical 202s for one job;
- the short account: its jobs are plain completions, never refunded, so
  its balance only falls while it is submitting; with N = 95 credits and
  a price of 3, exactly floor(95 / 3) = 31 of its 100 concurrent
  submissions were accepted and every other one got a 402 saying the
  balance (< 3) was short; no other account ever got a 402."""

import concurrent.futures
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import rkeys  # noqa: E402
from harness import wait_for, video_body  # noqa: E402

RICH_ACCOUNTS = 9
JOBS_PER_RICH = 110
RICH_CREDITS = 2000
SHORT_CREDITS = 95          # not a multiple of the price 3
SHORT_SUBMITS = 100
CONNECTIONS = 48
PRICE = {("kling-v3", "5s"): 3, ("kling-v3", "10s"): 6,
         ("seedance", "5s"): 2}


def plan_job(acct_i, i):
    """(kind, body, idempotency key or None) of job i of a rich account."""
    tag = "a%d-j%d" % (acct_i, i)
    k = i % 10
    if k == 0:
        return "fail", video_body(prompt="fail %s [sim fail=content "
                                  "render_ms=0]" % tag), None
    if k == 1:
        return "failover", video_body(prompt="failover %s [sim "
                                      "kling.submit=429 render_ms=0]"
                                      % tag), None
    if k == 2:
        return "idem", video_body(prompt="idem %s [sim render_ms=0]" % tag,
                                  model="seedance"), "idem-%s" % tag
    if k == 3:
        return "seedance", video_body(prompt="sd %s [sim render_ms=0]" % tag,
                                      model="seedance"), None
    if k == 4:
        return "long", video_body(prompt="long %s [sim render_ms=0]" % tag,
                                  duration="10s"), None
    if k == 5:
        return "idem_fail", video_body(prompt="idem fail %s [sim "
                                       "fail=content render_ms=0]" % tag), \
            "idem-%s" % tag
    return "plain", video_body(prompt="plain %s [sim render_ms=0]" % tag), \
        None


class CreditsConcurrency(harness.ClusterTestCase):
    CLUSTER = dict(workers=2, deliverers=1, receiver=False,
                   poll_interval_ms=50,
                   env={
                       # Fast polling of both simulated providers.
                       "REELAY_PROVIDER_SIM_KLING_POLL_INTERVAL_MS": "50",
                       "REELAY_PROVIDER_SIM_SEEDANCE_POLL_INTERVAL_MS": "50",
                       # The scripted 429s must not open kling's breaker:
                       # plain kling-v3 jobs then stay on kling (price 3,
                       # no refund), which the per-job checks rely on.
                       "REELAY_HEALTH_BREAKER_FAILURES": "1000",
                       "REELAY_JOBS_MAX_WAIT_S": "120",
                       "REELAY_LAUNCHER_LOG_LEVEL": "warn",
                   })

    def test_thousand_submissions(self):
        c = self.c
        t_start = time.monotonic()
        accounts = []   # (acct, key, credits)
        for _ in range(RICH_ACCOUNTS):
            acct, key = c.create_account(RICH_CREDITS)
            accounts.append((acct, key, RICH_CREDITS))
        short_acct, short_key = c.create_account(SHORT_CREDITS)

        # The submissions: (account index, kind, body, idem, group).
        # idem jobs are sent three times at once, and once more after
        # everything else (a late retry).
        units = []      # lists of submissions sent back to back
        late = []
        expect = {}     # group -> (account index, kind, price)
        for ai in range(RICH_ACCOUNTS):
            for i in range(JOBS_PER_RICH):
                kind, body, idem = plan_job(ai, i)
                group = (ai, i)
                price = PRICE[(body["model"], body["duration"])]
                expect[group] = (ai, kind, price)
                raw = json.dumps(body)
                n = 3 if idem else 1
                units.append([(ai, raw, idem, group)] * n)
                if idem:
                    late.append((ai, raw, idem, group))
        for i in range(SHORT_SUBMITS):
            raw = json.dumps(video_body(prompt="short s%d [sim render_ms=0]"
                                        % i))
            units.append([(RICH_ACCOUNTS, raw, None, ("short", i))])
        # A fixed interleaving of the accounts; the three copies of an
        # idem job stay back to back, so the pool sends them at once.
        random.Random(20260310).shuffle(units)
        tasks = [t for u in units for t in u]
        keys = [k for _, k, _ in accounts] + [short_key]
        acct_ids = [a for a, _, _ in accounts] + [short_acct]

        results = []    # (group, status, headers, body bytes)
        lock = threading.Lock()

        def send(t):
            ai, raw, idem, group = t
            h = {"Authorization": "Bearer " + keys[ai]}
            if idem:
                h["Idempotency-Key"] = idem
            r = harness.http_post_json(c.url("/v1/video/generations"),
                                       None, headers=h, raw=raw,
                                       timeout=30)
            with lock:
                results.append((group, r.status, r.headers, r.body))
            return r.status

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(CONNECTIONS) as pool:
            list(pool.map(send, tasks))
            list(pool.map(send, late))
        t_submit = time.monotonic() - t0
        self.assertGreaterEqual(len(results), 1000)

        # ---- the answers ----
        statuses = {}
        for _, st, _, _ in results:
            statuses[st] = statuses.get(st, 0) + 1
        self.assertEqual(set(statuses) - {202, 402}, set(),
                         "unexpected answers: %r" % statuses)
        by_group = {}
        for group, st, hdr, body in results:
            by_group.setdefault(group, []).append((st, hdr, body))
        jobs = {}       # job id -> group
        for group, answers in by_group.items():
            if group[0] == "short":
                continue
            # A rich account never gets a 402.
            for st, _, body in answers:
                self.assertEqual(st, 202, (group, body[:300]))
            # All copies of an idempotent job: one body, one id.
            bodies = {b for _, _, b in answers}
            self.assertEqual(len(bodies), 1, (group, bodies))
            locs = {h.get("location") for _, h, _ in answers}
            self.assertEqual(len(locs), 1, locs)
            jid = json.loads(answers[0][2])["id"]
            self.assertNotIn(jid, jobs)
            jobs[jid] = group
        # The short account: exactly floor(N / price) accepted.
        short_ok, short_402 = [], []
        for group, answers in by_group.items():
            if group[0] != "short":
                continue
            self.assertEqual(len(answers), 1)
            st, _, body = answers[0]
            if st == 202:
                jid = json.loads(body)["id"]
                short_ok.append(jid)
                jobs[jid] = group
            else:
                e = json.loads(body)["error"]
                self.assertEqual(e["code"], "insufficient_credits", e)
                # "this job costs 3 credits and the balance is B", B < 3
                words = e["message"].split()
                self.assertIn("costs 3 credits", e["message"])
                self.assertLess(int(words[-1]), 3, e)
                short_402.append(e)
        self.assertEqual(len(short_ok), SHORT_CREDITS // 3,
                         "short account: %d accepted, %d refused"
                         % (len(short_ok), len(short_402)))
        self.assertEqual(len(short_402),
                         SHORT_SUBMITS - SHORT_CREDITS // 3)

        # ---- every accepted job ends ----
        def job_key(jid):
            g = jobs[jid]
            ai = RICH_ACCOUNTS if g[0] == "short" else g[0]
            return rkeys.job(acct_ids[ai], jid)

        pending = set(jobs)

        def all_terminal():
            for jid in list(pending):
                if c.redis.hget(job_key(jid), "status") in ("completed",
                                                           "failed"):
                    pending.discard(jid)
            c.check_alive()
            return not pending
        wait_for(all_terminal, 90, "every accepted job to be terminal "
                 "(%d jobs)" % len(jobs), interval=0.25)
        t_done = time.monotonic() - t0

        # ---- reelay audit ----
        rc, out = c.audit()
        sys.stdout.write("\n----- reelay audit (rc %d) -----\n%s\n" % (rc, out))
        self.assertEqual(rc, 0, out)
        self.assertIn("audit ok: accounts=%d jobs=%d violations=0"
                      % (RICH_ACCOUNTS + 1, len(jobs)), out)
        self.assertNotIn("VIOLATION", out)

        # ---- per account and per job ----
        for ai, acct in enumerate(acct_ids):
            key = keys[ai]
            granted = SHORT_CREDITS if ai == RICH_ACCOUNTS else RICH_CREDITS
            doc = c.account(key)
            u = doc["usage"]
            self.assertGreaterEqual(doc["credits"], 0, doc)
            self.assertEqual(doc["credits"], u["credits_granted"] -
                             u["credits_debited"] + u["credits_refunded"],
                             doc)
            self.assertEqual(u["credits_granted"], granted, doc)
            mine = [j for j, g in jobs.items()
                    if (g[0] == "short") == (ai == RICH_ACCOUNTS) and
                    (g[0] == "short" or g[0] == ai)]
            self.assertEqual(u["jobs"], len(mine), doc)
            self.assertEqual(c.redis.zcard(rkeys.acct_jobs(acct)), len(mine))
            ledger = self.whole_ledger(key)
            self.assertEqual(ledger[-1]["type"], "grant")
            self.assertEqual(sum(e["credits"] for e in ledger
                                 if e["type"] == "grant"), granted)
            money = {}
            for e in ledger:
                if e["type"] == "grant":
                    continue
                self.assertIn(e["job"], mine, e)
                m = money.setdefault(e["job"], {"debit": [], "refund": []})
                m[e["type"]].append(e["credits"])
            self.assertEqual(set(money), set(mine))
            billed_total = 0
            completed = failed = 0
            for jid in mine:
                g = jobs[jid]
                if g[0] == "short":
                    kind, price = "plain", 3
                else:
                    _, kind, price = expect[g]
                job = c.get_job(key, jid).json()
                m = money[jid]
                self.assertEqual(m["debit"], [price], (jid, kind, m))
                refunded = sum(m["refund"])
                h = c.redis.hgetall(job_key(jid))
                if kind in ("fail", "idem_fail"):
                    self.assertEqual(job["status"], "failed", (kind, job))
                    self.assertEqual(refunded, price, (jid, kind, m))
                    self.assertEqual(len(m["refund"]), 1, m)
                    self.assertTrue(h.get("refunded_at"), h)
                    self.assertTrue(job.get("refunded_at"), job)
                    failed += 1
                    continue
                self.assertEqual(job["status"], "completed", (kind, job))
                completed += 1
                self.assertNotIn("refunded_at", h)
                if kind == "failover":
                    self.assertIs(job["failover_used"], True, job)
                    self.assertEqual(job["credits"], 2, job)
                    self.assertEqual(m["refund"], [1], (jid, m))
                    billed_total += 2
                else:
                    self.assertIs(job["failover_used"], False, (kind, job))
                    self.assertEqual(job["credits"], price, job)
                    self.assertEqual(m["refund"], [], (jid, kind, m))
                    billed_total += price
            self.assertEqual(doc["credits"], granted - billed_total,
                             (acct, doc))
            self.assertEqual(u["jobs_completed"], completed, doc)
            self.assertEqual(u["jobs_failed"], failed, doc)
            if ai == RICH_ACCOUNTS:
                # Never refunded, so the balance only fell while
                # submitting: the 402 count above is exact.
                self.assertEqual(u["credits_refunded"], 0, doc)
                self.assertEqual(doc["credits"], SHORT_CREDITS % 3)

        sys.stdout.write(
            "submissions %d (%s) from %d accounts over %d connections in "
            "%.1fs; %d jobs terminal after %.1fs; whole test %.1fs\n"
            % (len(results), ", ".join("%d: %d" % kv for kv in
                                       sorted(statuses.items())),
               RICH_ACCOUNTS + 1, CONNECTIONS, t_submit, len(jobs), t_done,
               time.monotonic() - t_start))

    def whole_ledger(self, key):
        """Every ledger entry (newest first), read page by page (the
        cursor counts the entries older than the page)."""
        out, cursor = [], None
        while True:
            q = "/v1/account/ledger?limit=100"
            if cursor is not None:
                q += "&cursor=%d" % cursor
            r = harness.http_get(self.c.url(q),
                                 headers={"Authorization": "Bearer " + key})
            self.assertEqual(r.status, 200, r)
            d = r.json()
            out.extend(d["data"])
            if not d["has_more"]:
                return out
            self.assertLess(d["next_cursor"], cursor or 1 << 62)
            cursor = d["next_cursor"]


if __name__ == "__main__":
    harness.main()
