/*
 * rl_state_hooks - redelivery, the failed-event list and its recovery,
 * with every job's keys declared.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_hooks.h"

#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_scall.h"
#include "rl_state_acct.h"

/* Elements per job of webhook_failed.lua's list: listed (1|0), status,
 * webhook_url, attempts. */
#define S_FAILED_ELEMS 4
_Static_assert(4 + 4 * RL_STATE_HOOKS_BATCH <= RL_SCALL_MAX_KEYS &&
                   1 + RL_STATE_HOOKS_LIST_BATCH <= RL_SCALL_MAX_KEYS,
               "a batch's keys fit one call");
_Static_assert(4 + 5 * RL_STATE_HOOKS_BATCH < RL_REDIS_MAX_ARGS &&
                   2 + 2 * RL_STATE_HOOKS_LIST_BATCH < RL_REDIS_MAX_ARGS,
               "a batch's keys and arguments fit one call");

typedef enum { S_ONE, S_RANGE, S_LIST } s_mode_t;

/* A call in flight: the caller's key resolved; then one script (one), or
 * the failed-delivery index read and the script in batches (range,
 * list). */
typedef struct {
    rl_state_acct_chain_t k;      /* first: the chain hands it back */
    s_mode_t mode;                /* which call */
    rl_state_redeliver_cb one_cb; /* S_ONE */
    rl_state_recover_cb range_cb; /* S_RANGE */
    rl_state_failed_cb list_cb;   /* S_LIST */
    void *arg;                    /* theirs */
    char acct[RL_KEY_MAX];        /* the account, once resolved */
    char job[RL_KEY_MAX];         /* S_ONE: the job */
    long long from;               /* range: from (ms); list: since */
    long long to;                 /* range: to (ms) */
    long long max;                /* most events */
    char **ids;                   /* the jobs read from the index */
    char **at;                    /* list: when each failed (text) */
    size_t nids;                  /* how many */
    size_t next;                  /* first job of the next batch */
    size_t batch;                 /* jobs in the batch in flight */
    bool more;                    /* the index has more than max */
    long long requeued;           /* range: so far */
    rl_state_failed_t *entries;   /* list: so far (owned strings) */
    size_t nentries;              /* how many */
} s_call_t;

static void
s_call_free(s_call_t *u)
{
    for (size_t i = 0; i < u->nids; i++) {
        free(u->ids[i]);
        if (u->at != NULL)
            free(u->at[i]);
    }
    for (size_t i = 0; i < u->nentries; i++) {
        free((char *)u->entries[i].status);
        free((char *)u->entries[i].webhook_url);
        free((char *)u->entries[i].attempts);
    }
    free(u->ids);
    free(u->at);
    free(u->entries);
    free(u);
}

/* Answers the caller a reply of tag (OK: what u gathered) and frees u. */
static void
s_answer(s_call_t *u, rl_state_tag_t tag, const char *why)
{
    void *arg = u->arg;
    if (u->mode == S_ONE) {
        rl_state_redeliver_reply_t rep = {.tag = tag, .why = why};
        u->one_cb(&rep, arg);
    } else if (u->mode == S_RANGE) {
        rl_state_recover_reply_t rep = {.tag = tag, .why = why};
        if (tag == RL_STATE_OK) {
            rep.requeued = u->requeued;
            rep.more = u->more;
        }
        u->range_cb(&rep, arg);
    } else {
        rl_state_failed_reply_t rep = {.tag = tag, .why = why};
        if (tag == RL_STATE_OK) {
            rep.entries = u->entries;
            rep.n = u->nentries;
            rep.more = u->more;
        }
        u->list_cb(&rep, arg);
    }
    s_call_free(u);
}

static void
s_fail(rl_state_acct_chain_t *k, rl_state_tag_t tag, const char *why)
{
    s_answer((s_call_t *)k, tag, why);
}

/* --- one ---------------------------------------------------------------- */

void
rl_state_hooks_redeliver_parse(const redisReply *r,
                               rl_state_redeliver_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    switch (out->tag) {
    case RL_STATE_OK:
    case RL_STATE_NOT_TERMINAL:
        out->status =
            r->elements > 1 ? rl_redis_reply_str(r->element[1]) : NULL;
        if (out->status == NULL) {
            out->why = rl_state_tag_name(out->tag);
            out->tag = RL_STATE_BAD;
        }
        break;
    case RL_STATE_UNAUTHORIZED:
    case RL_STATE_NOT_FOUND:
    case RL_STATE_NO_WEBHOOK:
    case RL_STATE_UNKNOWN:
    case RL_STATE_BAD:
        break;
    default:
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
        break;
    }
}

static void
s_on_one(redisReply *reply, void *p)
{
    s_call_t *u = p;
    rl_state_redeliver_reply_t rep;
    rl_state_hooks_redeliver_parse(reply, &rep);
    rl_state_redeliver_cb cb = u->one_cb;
    void *arg = u->arg;
    s_call_free(u);
    cb(&rep, arg);
}

/* The keys webhook_requeue.lua shares over its jobs. */
static void
s_requeue_keys(rl_scall_t *c, const s_call_t *u)
{
    RL_SCALL_KEY(c, rl_keys_apikey, u->k.key_hash);
    RL_SCALL_KEY(c, rl_keys_whfail, u->acct);
    RL_SCALL_KEY(c, rl_keys_outbox, rl_keys_partition(u->acct));
    RL_SCALL_KEY(c, rl_keys_stats, rl_keys_partition(u->acct));
}

/* The keys of job j there: its hash, its attempt log, and the dedup key
 * of each terminal status (the script deletes the one of its status). */
static void
s_requeue_job_keys(rl_scall_t *c, const char *acct, const char *j)
{
    RL_SCALL_KEY(c, rl_keys_job, acct, j);
    RL_SCALL_KEY(c, rl_keys_deliveries, acct, j);
    RL_SCALL_KEY(c, rl_keys_dedup, acct, j, "completed");
    RL_SCALL_KEY(c, rl_keys_dedup, acct, j, "failed");
}

/* --- range, list: batches ------------------------------------------------ */

static int s_send_batch(s_call_t *u);

/* After a batch answered: the next one, or the answer. */
static void
s_batch_done(s_call_t *u)
{
    if (s_send_batch(u) != 0)
        s_answer(u, RL_STATE_UNKNOWN, NULL);
}

static void
s_on_range(redisReply *reply, void *p)
{
    s_call_t *u = p;
    const char *why = NULL;
    long long n = 0;
    rl_state_tag_t tag = rl_state_tag(reply, &why);
    if (tag == RL_STATE_OK && rl_state_ll(reply, 1, &n) != 0) {
        tag = RL_STATE_BAD;
        why = "webhook_requeue";
    }
    if (tag != RL_STATE_OK) {
        s_answer(u,
                 tag == RL_STATE_UNAUTHORIZED || tag == RL_STATE_UNKNOWN
                     ? tag
                     : RL_STATE_BAD,
                 why != NULL ? why : rl_state_tag_name(tag));
        return;
    }
    u->requeued += n;
    s_batch_done(u);
}

/* Keeps the listed jobs of a webhook_failed.lua batch reply, up to max. */
static int
s_keep_failed(s_call_t *u, const redisReply *l, size_t first, size_t n)
{
    if (l->type != REDIS_REPLY_ARRAY || l->elements != n * S_FAILED_ELEMS)
        return -1;
    for (size_t i = 0; i < n && u->nentries < (size_t)u->max; i++) {
        redisReply *const *e = l->element + i * S_FAILED_ELEMS;
        const char *listed = rl_redis_reply_str(e[0]);
        const char *st = rl_redis_reply_str(e[1]);
        const char *url = rl_redis_reply_str(e[2]);
        const char *att = rl_redis_reply_str(e[3]);
        if (listed == NULL || st == NULL || url == NULL || att == NULL)
            return -1;
        if (strcmp(listed, "1") != 0)
            continue; /* the job is gone */
        rl_state_failed_t *f = &u->entries[u->nentries++];
        f->job = u->ids[first + i];
        f->failed_at = u->at[first + i];
        f->status = rl_strdup(st);
        f->webhook_url = rl_strdup(url);
        f->attempts = rl_strdup(att);
    }
    return 0;
}

static void
s_on_list(redisReply *reply, void *p)
{
    s_call_t *u = p;
    const char *why = NULL;
    rl_state_tag_t tag = rl_state_tag(reply, &why);
    size_t n = u->batch; /* the batch in flight ends at u->next */
    if (tag == RL_STATE_OK &&
        (reply->elements != 2 ||
         s_keep_failed(u, reply->element[1], u->next - n, n) != 0)) {
        tag = RL_STATE_BAD;
        why = "webhook_failed";
    }
    if (tag != RL_STATE_OK) {
        s_answer(u,
                 tag == RL_STATE_UNAUTHORIZED || tag == RL_STATE_UNKNOWN
                     ? tag
                     : RL_STATE_BAD,
                 why != NULL ? why : rl_state_tag_name(tag));
        return;
    }
    s_batch_done(u);
}

/* Sends the next batch of jobs, or answers OK when none is left (or a
 * list has its max): 0, or -1 when a batch could not be sent. */
static int
s_send_batch(s_call_t *u)
{
    if (u->next >= u->nids ||
        (u->mode == S_LIST && u->nentries >= (size_t)u->max)) {
        s_answer(u, RL_STATE_OK, NULL);
        return 0;
    }
    size_t first = u->next;
    size_t n = u->nids - first;
    size_t most =
        u->mode == S_RANGE ? RL_STATE_HOOKS_BATCH : RL_STATE_HOOKS_LIST_BATCH;
    if (n > most)
        n = most;
    u->next = first + n;
    u->batch = n;
    rl_scall_t c;
    rl_scall_init(&c);
    if (u->mode == S_RANGE) {
        s_requeue_keys(&c, u);
        for (size_t i = 0; i < n; i++)
            s_requeue_job_keys(&c, u->acct, u->ids[first + i]);
    } else {
        RL_SCALL_KEY(&c, rl_keys_apikey, u->k.key_hash);
        for (size_t i = 0; i < n; i++)
            RL_SCALL_KEY(&c, rl_keys_job, u->acct, u->ids[first + i]);
    }
    rl_scall_arg(&c, u->acct);
    if (u->mode == S_RANGE)
        rl_scall_arg(&c, "range");
    for (size_t i = 0; i < n; i++)
        rl_scall_arg(&c, u->ids[first + i]);
    return u->mode == S_RANGE
               ? rl_scall_send(&c, u->k.redis, "webhook_requeue", s_on_range, u)
               : rl_scall_send(&c, u->k.redis, "webhook_failed", s_on_list, u);
}

/* Keeps the index read (ids, with their scores for a list) and starts
 * the batches. */
static void
s_on_index(redisReply *reply, void *p)
{
    s_call_t *u = p;
    size_t step = u->mode == S_LIST ? 2 : 1; /* WITHSCORES */
    if (reply == NULL) {
        s_answer(u, RL_STATE_UNKNOWN, NULL);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % step != 0) {
        s_answer(u, RL_STATE_BAD, "malformed failed-delivery index");
        return;
    }
    size_t n = reply->elements / step;
    u->more = n > (size_t)u->max;
    /* A range requeues the first max; a list reads them all, as a gone
     * job's place goes to the one after it. */
    if (u->mode == S_RANGE && u->more)
        n = (size_t)u->max;
    u->ids = rl_calloc(n + 1, sizeof *u->ids);
    if (u->mode == S_LIST) {
        u->at = rl_calloc(n + 1, sizeof *u->at);
        u->entries = rl_calloc(n + 1, sizeof *u->entries);
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = rl_redis_reply_str(reply->element[i * step]);
        const char *at =
            step == 2 ? rl_redis_reply_str(reply->element[i * 2 + 1]) : "";
        if (id == NULL || at == NULL) {
            s_answer(u, RL_STATE_BAD, "malformed failed-delivery index");
            return;
        }
        u->ids[u->nids] = rl_strdup(id);
        if (u->at != NULL)
            u->at[u->nids] = rl_strdup(at);
        u->nids++;
    }
    s_batch_done(u);
}

/* Reads the failed-delivery index: ZRANGEBYSCORE from to, at most max+1
 * (the one past max says there is more). */
static int
s_read_index(s_call_t *u)
{
    char ks[RL_KEY_MAX], lo[RL_FMT_DEC_LEN], hi[RL_FMT_DEC_LEN];
    char lim[RL_FMT_DEC_LEN];
    if (rl_keys_whfail(ks, sizeof ks, u->acct) != 0)
        return -1;
    rl_fmt_dec(lo, u->from);
    rl_fmt_dec(hi, u->to);
    rl_fmt_dec(lim, u->max + 1);
    if (u->mode == S_LIST) {
        const char *argv[] = {"ZRANGEBYSCORE", ks,      lo,  "+inf",
                              "WITHSCORES",    "LIMIT", "0", lim};
        return rl_redis_command(u->k.redis, s_on_index, u, 8, argv, NULL);
    }
    const char *argv[] = {"ZRANGEBYSCORE", ks, lo, hi, "LIMIT", "0", lim};
    return rl_redis_command(u->k.redis, s_on_index, u, 7, argv, NULL);
}

static int
s_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_call_t *u = (s_call_t *)k;
    if (rl_fmt(u->acct, sizeof u->acct, "%s", acct) != 0)
        return -1;
    if (u->mode != S_ONE)
        return s_read_index(u);
    rl_scall_t c;
    rl_scall_init(&c);
    s_requeue_keys(&c, u);
    s_requeue_job_keys(&c, acct, u->job);
    rl_scall_arg(&c, acct);
    rl_scall_arg(&c, "one");
    rl_scall_arg(&c, u->job);
    return rl_scall_send(&c, k->redis, "webhook_requeue", s_on_one, u);
}

static s_call_t *
s_call_new(rl_redis_t *r, const char *key_hash, s_mode_t mode, void *arg)
{
    s_call_t *u = rl_calloc(1, sizeof *u);
    u->k.redis = r;
    u->k.send = s_send;
    u->k.fail = s_fail;
    u->mode = mode;
    u->arg = arg;
    if (rl_fmt(u->k.key_hash, sizeof u->k.key_hash, "%s", key_hash) != 0) {
        free(u);
        return NULL;
    }
    return u;
}

static int
s_start(s_call_t *u)
{
    if (u == NULL)
        return -1;
    if (rl_state_acct_chain(&u->k) != 0) {
        s_call_free(u);
        return -1;
    }
    return 0;
}

int
rl_state_hooks_redeliver(rl_redis_t *r, const char *key_hash, const char *job,
                         rl_state_redeliver_cb cb, void *arg)
{
    s_call_t *u = s_call_new(r, key_hash, S_ONE, arg);
    if (u != NULL) {
        u->one_cb = cb;
        if (rl_fmt(u->job, sizeof u->job, "%s", job) != 0) {
            s_call_free(u);
            return -1;
        }
    }
    return s_start(u);
}

int
rl_state_hooks_recover(rl_redis_t *r, const char *key_hash, long long from_ms,
                       long long to_ms, long long max, rl_state_recover_cb cb,
                       void *arg)
{
    s_call_t *u = s_call_new(r, key_hash, S_RANGE, arg);
    if (u != NULL) {
        u->range_cb = cb;
        u->from = from_ms;
        u->to = to_ms;
        u->max = max;
    }
    return s_start(u);
}

int
rl_state_hooks_failed(rl_redis_t *r, const char *key_hash, long long since_ms,
                      long long max, rl_state_failed_cb cb, void *arg)
{
    if (max < 1 || max > RL_STATE_HOOKS_MAX)
        return -1;
    s_call_t *u = s_call_new(r, key_hash, S_LIST, arg);
    if (u != NULL) {
        u->list_cb = cb;
        u->from = since_ms;
        u->max = max;
    }
    return s_start(u);
}
