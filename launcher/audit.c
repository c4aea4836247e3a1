/*
 * audit - `reelay audit`: checks that the money adds up, account by
 * account, from Redis alone:
 *   - granted - debited + refunded = balance, and the balance is >= 0;
 *   - the ledger's entries, plus what the entries moved to the archive
 *     add up to (carried_granted, carried_debited, carried_refunded:
 *     retain_ledger_pop.lua), add up to the account's counters;
 *   - every job was debited exactly once, for what it was charged;
 *   - every failed job was refunded exactly its charge (refunded_at set);
 *   - no completed job was refunded beyond a failover difference;
 *   - no job still running was refunded;
 *   - the account's active_jobs counter ([limits] max_active_jobs) is the
 *     number of its jobs not yet completed or failed, and no finished
 *     job still carries its 'active' mark. (Jobs accepted by a reelay
 *     without the counter are not counted: they fail this check until
 *     they end.)
 * An amount stored as anything but a whole number, or a ledger entry
 * without a known type and a whole number of credits, is a violation of
 * its own, never read as 0.
 * Jobs removed by the retention step (docs/retention.md) are in none of
 * these reads: they left the job index, and their ledger entries left
 * with them (the ledger keeps the entries of every job still in Redis),
 * so each job still listed is checked against its own entries, and the
 * account's totals against the ledger and the carried sums together.
 * Like the ledger checks it reads an account in several commands, so it
 * is exact on a quiet system; one busy with that account may show a
 * job that moved between two reads as a violation.
 * SPDX-License-Identifier: MIT
 */
#include "audit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_keys.h"

#define AUDIT_ID_MAX 64
#define AUDIT_MAX_REPORTS 20 /* violations printed per account */

typedef struct {
    char job[AUDIT_ID_MAX];
    long long debits; /* sum of debit entries */
    long long ndebits;
    long long refunds; /* sum of refund entries */
} job_money_t;

typedef struct {
    long long granted, debited, refunded; /* from the ledger */
    job_money_t *jobs;                    /* per job, sorted by id */
    size_t njobs;
    size_t bad; /* entries not understood */
} ledger_t;

typedef struct {
    size_t accounts, jobs, violations, reported;
} totals_t;

/* The account fields s_account checks, in HMGET order (s_account's
 * argv): the balance, the counters, the active count, then what the
 * archived ledger entries add up to and how many they are
 * (retain_ledger_pop.lua). */
#define AUDIT_NACCT_FIELDS 9

/* The job fields s_job checks, in HMGET order. */
#define AUDIT_JOB_FIELDS                                                       \
    "status", "credits", "credits_refunded", "refunded_at", "active"
#define AUDIT_NJOB_FIELDS 5

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(((const job_money_t *)a)->job, ((const job_money_t *)b)->job);
}

static void
s_violation(totals_t *t, const char *acct, const char *what, const char *job)
{
    t->violations++;
    if (t->reported++ < AUDIT_MAX_REPORTS)
        printf("  VIOLATION %s %s%s%s\n", acct, what, job ? " job " : "",
               job ? job : "");
}

/* A stored amount into *out: absent (nil) is 0, anything else must be a
 * whole decimal number. Returns false when it is not: the audit says so
 * instead of counting it as 0. */
static bool
s_amount(const redisReply *r, long long *out)
{
    char *end = NULL;

    *out = 0;
    if (r->type == REDIS_REPLY_NIL)
        return true;
    if (r->type != REDIS_REPLY_STRING || r->len == 0)
        return false;
    errno = 0;
    *out = strtoll(r->str, &end, 10);
    return *end == '\0' && errno == 0 &&
           (r->str[0] == '-' || (r->str[0] >= '0' && r->str[0] <= '9'));
}

/* Every element of HMGET reply h as an amount into n; false when one
 * is not a whole number. */
static bool
s_amounts(const redisReply *h, long long n[AUDIT_NACCT_FIELDS])
{
    for (size_t i = 0; i < AUDIT_NACCT_FIELDS; i++)
        if (!s_amount(h->element[i], &n[i]))
            return false;
    return true;
}

/* Reads the whole ledger of an account into l (jobs sorted by id);
 * counts its unreadable entries in l->bad. */
static int
s_ledger(rl_rsync_t *c, const char *acct, ledger_t *l)
{
    char key[RL_KEY_MAX];
    rl_keys_ledger(key, sizeof key, acct);
    const char *argv[] = {"LRANGE", key, "0", "-1"};
    redisReply *r = rl_rsync_command(c, 4, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        if (r)
            freeReplyObject(r);
        return -1;
    }
    l->jobs = rl_calloc(r->elements + 1, sizeof *l->jobs);
    for (size_t i = 0; i < r->elements; i++) {
        json_t *e = json_loads(r->element[i]->str, 0, NULL);
        const char *type = json_string_value(json_object_get(e, "type"));
        const char *job = json_string_value(json_object_get(e, "job"));
        json_t *credits = json_object_get(e, "credits");
        long long n = json_integer_value(credits);
        if (type == NULL || !json_is_integer(credits) || n < 0 ||
            (strcmp(type, "grant") != 0 && strcmp(type, "debit") != 0 &&
             strcmp(type, "refund") != 0) ||
            (job != NULL && strlen(job) >= AUDIT_ID_MAX)) {
            l->bad++;
            json_decref(e);
            continue;
        }
        if (strcmp(type, "grant") == 0)
            l->granted += n;
        else if (strcmp(type, "debit") == 0)
            l->debited += n;
        else
            l->refunded += n;
        if (job && *job && strcmp(type, "grant") != 0) {
            job_money_t *m = &l->jobs[l->njobs++];
            memcpy(m->job, job, strlen(job) + 1); /* < AUDIT_ID_MAX: above */
            if (strcmp(type, "debit") == 0) {
                m->debits = n;
                m->ndebits = 1;
            } else {
                m->refunds = n;
            }
        }
        json_decref(e);
    }
    freeReplyObject(r);
    qsort(l->jobs, l->njobs, sizeof *l->jobs, s_cmp);
    /* Merge the entries of one job into its first slot. */
    size_t w = 0;
    for (size_t i = 0; i < l->njobs; i++) {
        if (w > 0 && strcmp(l->jobs[w - 1].job, l->jobs[i].job) == 0) {
            l->jobs[w - 1].debits += l->jobs[i].debits;
            l->jobs[w - 1].ndebits += l->jobs[i].ndebits;
            l->jobs[w - 1].refunds += l->jobs[i].refunds;
        } else {
            l->jobs[w++] = l->jobs[i];
        }
    }
    l->njobs = w;
    return 0;
}

static const job_money_t *
s_find(const ledger_t *l, const char *job)
{
    job_money_t k;
    if (rl_fmt(k.job, sizeof k.job, "%s", job) != 0)
        return NULL; /* longer than any the ledger holds */
    return bsearch(&k, l->jobs, l->njobs, sizeof *l->jobs, s_cmp);
}

/* Checks one job (HMGET AUDIT_JOB_FIELDS). Returns 1 when it is not
 * finished yet (it counts as active), else 0. */
static int
s_job(const char *acct, const char *job, const redisReply *h, const ledger_t *l,
      totals_t *t)
{
    const char *status = h->element[0]->str;
    long long charged, partial;
    int refunded_at = h->element[3]->type == REDIS_REPLY_STRING;
    int marked = h->element[4]->type == REDIS_REPLY_STRING;
    const job_money_t *m = s_find(l, job);
    long long refunds = m ? m->refunds : 0;
    t->jobs++;
    if (status == NULL) {
        s_violation(t, acct, "job listed but missing", job);
        return 0;
    }
    if (!s_amount(h->element[1], &charged) ||
        !s_amount(h->element[2], &partial)) {
        s_violation(t, acct, "credits of the job are not a number", job);
        return 0;
    }
    int done =
        strcmp(status, "failed") == 0 || strcmp(status, "completed") == 0;
    if (done && marked)
        s_violation(t, acct, "finished but still counted active", job);
    if (m == NULL || m->ndebits != 1 || m->debits != charged)
        s_violation(t, acct, "not debited exactly once for its charge", job);
    if (strcmp(status, "failed") == 0) {
        if (!refunded_at || refunds != charged)
            s_violation(t, acct, "failed but not refunded exactly once", job);
    } else if (strcmp(status, "completed") == 0) {
        if (refunded_at || refunds != partial || refunds >= charged)
            s_violation(t, acct, "completed but refunded", job);
    } else if (refunds != 0 || refunded_at) {
        s_violation(t, acct, "refunded while still running", job);
    }
    return !done;
}

/* Checks every job of acct; returns how many are not finished. */
static long long
s_jobs(rl_rsync_t *c, const char *acct, const ledger_t *l, totals_t *t)
{
    long long active = 0;
    char key[RL_KEY_MAX], jk[RL_KEY_MAX];
    redisReply *ids = NULL;
    if (rl_keys_acct_jobs(key, sizeof key, acct) == 0) {
        const char *argv[] = {"ZRANGE", key, "0", "-1"};
        ids = rl_rsync_command(c, 4, argv, NULL);
    }
    if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
        s_violation(t, acct, "cannot read the job index", NULL);
        if (ids)
            freeReplyObject(ids);
        return -1;
    }
    /* One command per job: a job's keys share its account's slot, but
     * a cluster client routes each command on its own. */
    for (size_t i = 0; i < ids->elements; i++) {
        rl_keys_job(jk, sizeof jk, acct, ids->element[i]->str);
        const char *argv[] = {"HMGET", jk, AUDIT_JOB_FIELDS};
        redisReply *h = rl_rsync_command(c, 2 + AUDIT_NJOB_FIELDS, argv, NULL);
        if (h == NULL) {
            s_violation(t, acct, "cannot read a job", NULL);
            break;
        }
        if (h->type == REDIS_REPLY_ARRAY && h->elements == AUDIT_NJOB_FIELDS)
            active += s_job(acct, ids->element[i]->str, h, l, t);
        freeReplyObject(h);
    }
    freeReplyObject(ids);
    return active;
}

static void
s_account(rl_rsync_t *c, const char *acct, totals_t *t)
{
    char key[RL_KEY_MAX];
    rl_keys_acct(key, sizeof key, acct);
    const char *argv[] = {"HMGET",           key,
                          "credits",         "granted",
                          "debited",         "refunded",
                          "active_jobs",     "carried_granted",
                          "carried_debited", "carried_refunded",
                          "ledger_archived"};
    redisReply *h = rl_rsync_command(c, 2 + AUDIT_NACCT_FIELDS, argv, NULL);
    ledger_t l = {0};
    size_t before = t->violations;
    long long n[AUDIT_NACCT_FIELDS];
    t->accounts++;
    if (h == NULL || h->type != REDIS_REPLY_ARRAY ||
        h->elements != AUDIT_NACCT_FIELDS || s_ledger(c, acct, &l) != 0) {
        s_violation(t, acct, "cannot read the account", NULL);
    } else if (!s_amounts(h, n)) {
        s_violation(t, acct, "account counters are not numbers", NULL);
    } else {
        long long bal = n[0], g = n[1], d = n[2], r = n[3], want_active = n[4];
        if (l.bad > 0)
            s_violation(t, acct, "ledger entries unreadable", NULL);
        if (g - d + r != bal)
            s_violation(t, acct, "grants - debits + refunds != balance", NULL);
        if (bal < 0)
            s_violation(t, acct, "negative balance", NULL);
        if (n[5] < 0 || n[6] < 0 || n[7] < 0 || n[8] < 0)
            s_violation(t, acct, "negative archived ledger sums", NULL);
        if (l.granted + n[5] != g || l.debited + n[6] != d ||
            l.refunded + n[7] != r)
            s_violation(t, acct, "ledger does not add up to the counters",
                        NULL);
        long long active = s_jobs(c, acct, &l, t);
        if (active >= 0 && active != want_active)
            s_violation(t, acct,
                        "active_jobs is not the number of jobs "
                        "pending or processing",
                        NULL);
        printf("  %s balance %lld = granted %lld - debited %lld + refunded "
               "%lld: %s",
               acct, bal, g, d, r, t->violations == before ? "ok" : "FAIL");
        if (n[8] > 0)
            printf(" (%lld ledger entries archived)", n[8]);
        printf("\n");
    }
    if (h)
        freeReplyObject(h);
    free(l.jobs);
}

int
audit_run(rl_rsync_t *c)
{
    totals_t t = {0};
    redisReply *accts[RL_PARTITIONS] = {0};
    size_t n = 0;
    int rc = 2;
    for (int p = 0; p < RL_PARTITIONS; p++) {
        char key[RL_KEY_MAX];
        if (rl_keys_accounts(key, sizeof key, p) == 0) {
            const char *argv[] = {"SMEMBERS", key};
            accts[p] = rl_rsync_command(c, 2, argv, NULL);
        }
        if (accts[p] == NULL || accts[p]->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr,
                    "reelay audit: cannot read the accounts of "
                    "partition %d\n",
                    p);
            goto out;
        }
        n += accts[p]->elements;
    }
    printf("audit of %zu accounts\n", n);
    for (int p = 0; p < RL_PARTITIONS; p++)
        for (size_t i = 0; i < accts[p]->elements; i++)
            s_account(c, accts[p]->element[i]->str, &t);
    printf("audit %s: accounts=%zu jobs=%zu violations=%zu\n",
           t.violations ? "FAILED" : "ok", t.accounts, t.jobs, t.violations);
    rc = t.violations ? 1 : 0;
out:
    for (int p = 0; p < RL_PARTITIONS; p++)
        if (accts[p] != NULL)
            freeReplyObject(accts[p]);
    return rc;
}
