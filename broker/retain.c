/*
 * retain - the retention step, one round at a time (retain.h).
 * SPDX-License-Identifier: MIT
 */
#include "retain.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_archive.h"
#include "rl_archive_file.h"
#include "rl_clock.h"
#include "rl_crash.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_retain.h"

#define S_WHY_LEN 512 /* an archive write's failure */

/* A job of the round. */
typedef struct {
    char *ref;      /* "A|J" */
    char *line;     /* its record and a newline; NULL: not archived */
    char *token;    /* the wh_token, wh_attempts, wh_state it was */
    char *attempts; /* archived with (with line) */
    char *state;
} s_job_t;

/* An account of the round whose ledger tail may go. */
typedef struct {
    char *acct;                                /* its id */
    char *entries[RL_STATE_RETAIN_LEDGER_MAX]; /* its oldest, as read */
    size_t n;                                  /* how many */
    long long archived;                        /* ledger_archived read */
    long long ready;                           /* the first that may go */
} s_acct_t;

/* What a tick did, for its log line. */
typedef struct {
    long long removed, busy, changed, gone, entries;
} s_counts_t;

struct retain {
    broker_t *broker;
    struct event *timer;          /* NULL: retention 0, nothing to do */
    struct event *soon;           /* a backlog's next tick, one-shot */
    rl_state_retain_ctx_t ctx;    /* partition, holder, lock, retention */
    int next;                     /* the partition the next tick starts at */
    int visited;                  /* partitions this tick went through */
    long long recheck_ms;         /* a busy job is looked at again after */
    char dir[PATH_MAX];           /* the archive; "" with archive off */
    bool running;                 /* a round is in flight */
    bool failing;                 /* the last archive write failed */
    bool full;                    /* the round had more than it took */
    int64_t tick_ms;              /* monotonic start of the tick */
    long long now;                /* the round's Redis clock */
    s_job_t jobs[RETAIN_ROUND];   /* the round's jobs */
    size_t njobs;                 /* how many */
    s_acct_t accts[RETAIN_ACCTS]; /* the round's accounts */
    size_t naccts;                /* how many */
    size_t order[RETAIN_ACCTS];   /* accounts of the calls in flight */
    size_t acked;                 /* jobs, or calls, answered so far */
    size_t pending;               /* calls of the phase not answered */
    bool broken;                  /* a call of the phase failed */
    s_counts_t counts;            /* this tick */
};

/* The calls of a phase are sent together and answered in order (one
 * Redis connection): a phase of writes shares Redis's AOF fsync and
 * costs one round trip. The phase ends when the last is answered, with
 * the round when one failed. */

static void s_round(retain_t *r);
static void s_next_partition(retain_t *r, bool young);
static void s_remove_all(retain_t *r);
static void s_ledger_all(retain_t *r);
static void s_pop_all(retain_t *r);

/* --- the round's memory, its end ----------------------------------------- */

static void
s_free_round(retain_t *r)
{
    for (size_t i = 0; i < r->njobs; i++) {
        s_job_t *j = &r->jobs[i];
        free(j->ref);
        free(j->line);
        free(j->token);
        free(j->attempts);
        free(j->state);
    }
    for (size_t i = 0; i < r->naccts; i++) {
        free(r->accts[i].acct);
        for (size_t e = 0; e < r->accts[i].n; e++)
            free(r->accts[i].entries[e]);
    }
    memset(r->jobs, 0, sizeof r->jobs);
    memset(r->accts, 0, sizeof r->accts);
    r->njobs = r->naccts = 0;
}

/* Ends the tick: logs what it did and waits for the next. */
static void
s_end(retain_t *r)
{
    const s_counts_t *c = &r->counts;
    s_free_round(r);
    r->running = false;
    if (c->removed > 0 || c->entries > 0)
        rl_log_info("retain: removed %lld jobs and %lld ledger entries%s; "
                    "kept %lld busy, %lld changed since read",
                    c->removed, c->entries,
                    r->dir[0] != '\0' ? " (archived)" : " (no archive)",
                    c->busy, c->changed);
}

/* The round's partition is done: on to the next one while the tick is
 * young (every partition once per tick); a tick out of budget ends, and
 * the next one starts where it stopped, a budget later. */
static void
s_next_partition(retain_t *r, bool young)
{
    r->visited++;
    r->next = (r->ctx.partition + 1) % RL_PARTITIONS;
    r->ctx.partition = r->next;
    if (r->visited < RL_PARTITIONS && young) {
        s_round(r);
        return;
    }
    if (r->visited < RL_PARTITIONS) {
        struct timeval tv = {0, RETAIN_TICK_BUDGET_MS * 1000};
        event_add(r->soon, &tv);
    }
    s_end(r);
}

/* A round done: another one of the same partition at once when it was
 * full and the tick is young; a full round past the budget ends the
 * tick, and the next one starts at this partition a budget later rather
 * than a period (a backlog takes at most half the time); else on to the
 * next partition. */
static void
s_round_done(retain_t *r)
{
    bool young = rl_clock_mono_ms() - r->tick_ms < RETAIN_TICK_BUDGET_MS;
    bool full = r->full;
    s_free_round(r);
    if (full && young) {
        s_round(r);
        return;
    }
    if (full) {
        r->next = r->ctx.partition;
        struct timeval tv = {0, RETAIN_TICK_BUDGET_MS * 1000};
        event_add(r->soon, &tv);
        s_end(r);
        return;
    }
    s_next_partition(r, young);
}

/* Starts a phase of calls. */
static void
s_phase(retain_t *r)
{
    r->acked = r->pending = 0;
    r->broken = false;
}

/* One call of the phase answered; true when it was the last. */
static bool
s_answered(retain_t *r, bool ok)
{
    if (!ok)
        r->broken = true;
    return --r->pending == 0;
}

/* Writes buf to kind's file; false (logged once a streak) on failure. */
static bool
s_archive(retain_t *r, rl_archive_kind_t kind, const char *buf, size_t len)
{
    char why[S_WHY_LEN];
    if (rl_archive_file_append(r->dir, kind, r->now, buf, len, why,
                               sizeof why) != 0) {
        if (!r->failing)
            rl_log_errorx("retain: archive write failed, nothing leaves "
                          "Redis until one succeeds: %s",
                          why);
        r->failing = true;
        return false;
    }
    if (r->failing)
        rl_log_info("retain: archive writes succeed again");
    r->failing = false;
    return true;
}

/* A record as one line, newline included (caller owns), or NULL. */
static char *
s_line(json_t *o)
{
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    char *line = NULL;
    json_decref(o);
    if (text != NULL) {
        size_t n = strlen(text);
        line = rl_malloc(n + 2);
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = '\0';
        free(text);
    }
    return line;
}

/* Appends line (taken) to *buf of *len bytes. */
static void
s_append(char **buf, size_t *len, char *line)
{
    size_t n = strlen(line);
    *buf = rl_realloc(*buf, *len + n);
    memcpy(*buf + *len, line, n);
    *len += n;
    free(line);
}

/* --- due ------------------------------------------------------------------ */

static void s_read_all(retain_t *r);

/* Takes member out of the round partition's key built by key (ZREM or
 * SREM, cmd): a member that belongs to another partition. Its outcome
 * does not matter: a next round finds it again. */
static void
s_forget(retain_t *r, int (*key)(char *, size_t, int), const char *cmd,
         const char *member)
{
    char k[RL_KEY_MAX];
    if (key(k, sizeof k, r->ctx.partition) != 0)
        return;
    const char *argv[] = {cmd, k, member};
    rl_log_warnx("retain: %s of another partition in %s: dropped", member, k);
    (void)rl_redis_command(r->broker->redis, NULL, NULL, 3, argv, NULL);
}

static void
s_on_due(const rl_state_retain_due_reply_t *rep, void *arg)
{
    retain_t *r = arg;
    if (rep->tag == RL_STATE_SKIPPED) {
        /* another broker works on this partition now */
        s_next_partition(r, rl_clock_mono_ms() - r->tick_ms <
                                RETAIN_TICK_BUDGET_MS);
        return;
    }
    if (rep->tag != RL_STATE_OK) {
        s_end(r);
        return;
    }
    r->now = rep->now;
    for (size_t i = 0; i < rep->refs->elements && i < RETAIN_ROUND; i++) {
        const char *ref = rep->refs->element[i]->str;
        char a[RL_KEY_MAX], j[RL_KEY_MAX];
        /* retain_due hands out only refs that split; one of another
         * partition's account (written there by hand or by a bug) names
         * no job this partition can hold: it leaves the index, or it
         * would take a place in every round */
        if (rl_keys_parse_ref(ref, a, sizeof a, j, sizeof j) != 0)
            continue;
        if (rl_keys_partition(a) == r->ctx.partition)
            r->jobs[r->njobs++].ref = rl_strdup(ref);
        else
            s_forget(r, rl_keys_finished, "ZREM", ref);
    }
    for (size_t i = 0; i < rep->accts->elements && i < RETAIN_ACCTS; i++) {
        const char *acct = rep->accts->element[i]->str;
        if (rl_keys_partition(acct) == r->ctx.partition)
            r->accts[r->naccts++].acct = rl_strdup(acct);
        else
            s_forget(r, rl_keys_retain_ledger, "SREM", acct);
    }
    r->full = r->njobs == RETAIN_ROUND || r->naccts == RETAIN_ACCTS;
    if (r->dir[0] != '\0')
        s_read_all(r);
    else
        s_remove_all(r);
}

static void
s_round(retain_t *r)
{
    r->running = true;
    if (rl_state_retain_due(r->broker->redis, &r->ctx, RETAIN_ROUND,
                            RETAIN_ACCTS, s_on_due, r) != 0)
        s_end(r);
}

/* --- jobs: read, archive, remove ----------------------------------------- */

/* Jobs in the batch of the call that starts at job `at`. */
static size_t
s_batch(const retain_t *r, size_t at)
{
    size_t left = r->njobs - at;
    return left < RL_STATE_RETAIN_BATCH ? left : RL_STATE_RETAIN_BATCH;
}

static char *
s_field(const redisReply *fields, const char *name)
{
    const char *v = rl_redis_reply_field(fields, 0, name);
    return rl_strdup(v != NULL ? v : "");
}

/* The record of a job found ready, and the version it is. */
static void
s_ready(retain_t *r, s_job_t *j, const rl_state_retain_job_t *got)
{
    char acct[RL_KEY_MAX], job[RL_KEY_MAX];
    if (rl_keys_parse_ref(j->ref, acct, sizeof acct, job, sizeof job) != 0)
        return;
    j->line = s_line(rl_archive_job(acct, job, got->fields, got->log, r->now));
    if (j->line == NULL)
        return; /* kept: it stays until it can be archived */
    j->token = s_field(got->fields, "wh_token");
    j->attempts = s_field(got->fields, "wh_attempts");
    j->state = s_field(got->fields, "wh_state");
}

/* Every record read, to the archive; then the removal. */
static void
s_write_jobs(retain_t *r)
{
    size_t len = 0;
    char *buf = NULL;
    for (size_t i = 0; i < r->njobs; i++)
        if (r->jobs[i].line != NULL)
            s_append(&buf, &len, rl_strdup(r->jobs[i].line));
    bool ok = len == 0 || s_archive(r, RL_ARCHIVE_JOB, buf, len);
    free(buf);
    if (!ok) {
        s_end(r);
        return;
    }
    if (len > 0)
        rl_crash_point("broker_after_archive");
    s_remove_all(r);
}

static void
s_on_read(const rl_state_retain_read_reply_t *rep, void *arg)
{
    retain_t *r = arg;
    size_t at = r->acked;
    r->acked += s_batch(r, at);
    for (size_t i = 0; rep->tag == RL_STATE_OK && i < rep->n; i++)
        if (rep->jobs[i].verdict == RL_RETAIN_READY)
            s_ready(r, &r->jobs[at + i], &rep->jobs[i]);
    if (!s_answered(r, rep->tag == RL_STATE_OK))
        return;
    if (r->broken)
        s_end(r);
    else
        s_write_jobs(r);
}

static void
s_read_all(retain_t *r)
{
    const char *refs[RL_STATE_RETAIN_BATCH];
    s_phase(r);
    for (size_t at = 0; at < r->njobs; at += RL_STATE_RETAIN_BATCH) {
        size_t n = s_batch(r, at);
        for (size_t i = 0; i < n; i++)
            refs[i] = r->jobs[at + i].ref;
        if (rl_state_retain_read(r->broker->redis, &r->ctx, refs, n, s_on_read,
                                 r) != 0) {
            r->broken = true;
            break;
        }
        r->pending++;
    }
    if (r->pending > 0)
        return;
    if (r->broken)
        s_end(r);
    else
        s_write_jobs(r);
}

static void
s_on_remove(const rl_state_retain_remove_reply_t *rep, void *arg)
{
    retain_t *r = arg;
    r->counts.removed += rep->removed;
    r->counts.busy += rep->busy;
    r->counts.changed += rep->changed;
    r->counts.gone += rep->gone;
    if (!s_answered(r, rep->tag == RL_STATE_OK))
        return;
    if (r->broken)
        s_end(r);
    else
        s_ledger_all(r);
}

/* How a removal may treat job j (rl_state_retain_mode_t). */
static rl_state_retain_victim_t
s_victim(const retain_t *r, const s_job_t *j)
{
    return (rl_state_retain_victim_t){.ref = j->ref,
                                      .mode = r->dir[0] == '\0' ? RL_RETAIN_ANY
                                              : j->line != NULL
                                                  ? RL_RETAIN_VERSION
                                                  : RL_RETAIN_KEEP,
                                      .wh_token = j->token,
                                      .wh_attempts = j->attempts,
                                      .wh_state = j->state};
}

static void
s_remove_all(retain_t *r)
{
    rl_state_retain_victim_t v[RL_STATE_RETAIN_BATCH];
    s_phase(r);
    for (size_t at = 0; at < r->njobs; at += RL_STATE_RETAIN_BATCH) {
        size_t n = s_batch(r, at);
        for (size_t i = 0; i < n; i++)
            v[i] = s_victim(r, &r->jobs[at + i]);
        if (rl_state_retain_remove(r->broker->redis, &r->ctx, r->recheck_ms, v,
                                   n, s_on_remove, r) != 0) {
            r->broken = true;
            break;
        }
        r->pending++;
    }
    if (r->pending > 0)
        return;
    if (r->broken)
        s_end(r);
    else
        s_ledger_all(r);
}

/* --- ledger: read, check, archive, pop ------------------------------------ */

/* The account the next answer of the phase is about. */
static s_acct_t *
s_next_acct(retain_t *r)
{
    return &r->accts[r->order[r->acked++]];
}

static void s_check_all(retain_t *r);

static void
s_on_ledger(const rl_state_retain_ledger_reply_t *rep, void *arg)
{
    retain_t *r = arg;
    s_acct_t *a = s_next_acct(r);
    if (rep->tag == RL_STATE_OK) {
        a->archived = rep->archived;
        for (size_t i = 0; i < rep->entries->elements; i++)
            a->entries[a->n++] = rl_strdup(rep->entries->element[i]->str);
        if (a->n == RL_STATE_RETAIN_LEDGER_MAX)
            r->full = true;
        /* Nothing to archive: the pop checks each entry itself. */
        if (r->dir[0] == '\0')
            a->ready = (long long)a->n;
    }
    if (!s_answered(r, rep->tag == RL_STATE_OK))
        return;
    if (r->broken)
        s_end(r);
    else if (r->dir[0] == '\0')
        s_pop_all(r);
    else
        s_check_all(r);
}

static void
s_ledger_all(retain_t *r)
{
    s_phase(r);
    for (size_t i = 0; i < r->naccts; i++) {
        r->order[r->pending] = i;
        if (rl_state_retain_ledger_read(
                r->broker->redis, &r->ctx, r->accts[i].acct,
                RL_STATE_RETAIN_LEDGER_MAX, s_on_ledger, r) != 0) {
            r->broken = true;
            break;
        }
        r->pending++;
    }
    if (r->pending > 0)
        return;
    if (r->broken)
        s_end(r);
    else
        s_round_done(r); /* no account this round */
}

/* The archive lines of every account's entries that may go; then the
 * pops. */
static void
s_write_ledger(retain_t *r)
{
    size_t len = 0;
    char *buf = NULL;
    for (size_t i = 0; i < r->naccts; i++) {
        s_acct_t *a = &r->accts[i];
        for (long long e = 0; e < a->ready; e++) {
            char *line = s_line(rl_archive_ledger(a->acct, a->archived + e + 1,
                                                  a->entries[e], r->now));
            if (line == NULL) {
                a->ready = e; /* none goes unarchived */
                break;
            }
            s_append(&buf, &len, line);
        }
    }
    bool ok = len == 0 || s_archive(r, RL_ARCHIVE_LEDGER, buf, len);
    free(buf);
    if (!ok) {
        s_end(r);
        return;
    }
    if (len > 0)
        rl_crash_point("broker_after_ledger_archive");
    s_pop_all(r);
}

static void
s_on_check(const rl_state_retain_pop_reply_t *rep, void *arg)
{
    retain_t *r = arg;
    s_acct_t *a = s_next_acct(r);
    /* CHANGED: another holder moved this tail since the read. */
    a->ready = rep->tag == RL_STATE_OK ? rep->count : 0;
    if (a->ready > (long long)a->n)
        a->ready = 0; /* not a count of what was asked: take none */
    if (!s_answered(r, rep->tag == RL_STATE_OK || rep->tag == RL_STATE_CHANGED))
        return;
    if (r->broken)
        s_end(r);
    else
        s_write_ledger(r);
}

static void
s_check_all(retain_t *r)
{
    s_phase(r);
    for (size_t i = 0; i < r->naccts; i++) {
        s_acct_t *a = &r->accts[i];
        r->order[r->pending] = i;
        if (rl_state_retain_ledger_pop(
                r->broker->redis, &r->ctx, a->acct, a->archived, false,
                (const char *const *)a->entries, a->n, s_on_check, r) != 0) {
            r->broken = true;
            break;
        }
        r->pending++;
    }
    if (r->pending == 0)
        s_end(r); /* only after a failure: naccts > 0 here */
}

static void
s_on_pop(const rl_state_retain_pop_reply_t *rep, void *arg)
{
    retain_t *r = arg;
    (void)s_next_acct(r);
    if (rep->tag == RL_STATE_OK)
        r->counts.entries += rep->count;
    if (!s_answered(r, rep->tag == RL_STATE_OK || rep->tag == RL_STATE_CHANGED))
        return;
    if (r->broken)
        s_end(r);
    else
        s_round_done(r);
}

static void
s_pop_all(retain_t *r)
{
    s_phase(r);
    for (size_t i = 0; i < r->naccts; i++) {
        s_acct_t *a = &r->accts[i];
        /* With an archive, an account none of whose entries may go was
         * taken off the list by its check; without one, the pop
         * checks. */
        if (r->dir[0] != '\0' && a->ready == 0)
            continue;
        r->order[r->pending] = i;
        if (rl_state_retain_ledger_pop(r->broker->redis, &r->ctx, a->acct,
                                       a->archived, true,
                                       (const char *const *)a->entries,
                                       (size_t)a->ready, s_on_pop, r) != 0) {
            r->broken = true;
            break;
        }
        r->pending++;
    }
    if (r->pending > 0)
        return;
    if (r->broken)
        s_end(r);
    else
        s_round_done(r);
}

/* --- the timer ------------------------------------------------------------ */

static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    retain_t *r = arg;
    (void)fd;
    (void)what;
    if (r->running)
        return;
    r->tick_ms = rl_clock_mono_ms();
    memset(&r->counts, 0, sizeof r->counts);
    r->visited = 0;
    r->ctx.partition = r->next;
    s_round(r);
}

retain_t *
retain_new(broker_t *b)
{
    const rl_config_t *cfg = b->cfg;
    retain_t *r = rl_calloc(1, sizeof *r);
    r->broker = b;
    if (cfg->retention_ms == 0)
        return r;
    long lock = cfg->reaper_interval_ms * RETAIN_LOCK_PERIODS;
    r->ctx = (rl_state_retain_ctx_t){
        .holder = b->id,
        .lock_ms = lock > RETAIN_LOCK_MIN_MS ? lock : RETAIN_LOCK_MIN_MS,
        .retention_ms = cfg->retention_ms};
    r->recheck_ms = cfg->retention_ms < RETAIN_RECHECK_MS ? cfg->retention_ms
                                                          : RETAIN_RECHECK_MS;
    if (cfg->archive && rl_fmt(r->dir, sizeof r->dir, "%s/" RL_ARCHIVE_DIR,
                               cfg->data_dir) != 0) {
        rl_log_errorx("retain: [launcher] data_dir is too long for the "
                      "archive's path");
        free(r);
        return NULL;
    }
    long ms = cfg->reaper_interval_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    r->timer = event_new(b->base, -1, EV_PERSIST, s_on_timer, r);
    r->soon = evtimer_new(b->base, s_on_timer, r);
    event_add(r->timer, &tv);
    return r;
}

void
retain_destroy(retain_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    retain_t *r = *p;
    if (r->soon != NULL)
        event_free(r->soon);
    if (r->timer != NULL)
        event_free(r->timer);
    s_free_round(r);
    free(r);
    *p = NULL;
}
