/*
 * rl_state_outbox - recording and deferring webhook attempts.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_outbox.h"

#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_scall.h"

_Static_assert(2 + 4 * RL_STATE_DONE_MAX + 1 + 6 * RL_STATE_DONE_MAX <
                   RL_REDIS_MAX_ARGS,
               "a batch of records must fit rl_redis_script's arguments");

typedef struct {
    rl_state_done_cb cb;
    void *arg;
} s_done_t;

typedef struct {
    rl_state_done_many_cb cb;
    void *arg;
    size_t n; /* attempts sent */
} s_many_t;

void
rl_state_outbox_done_parse(const redisReply *r, rl_state_done_reply_t *out)
{
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag != RL_STATE_OK && out->tag != RL_STATE_STALE &&
        out->tag != RL_STATE_UNKNOWN && out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_done(redisReply *reply, void *p)
{
    s_done_t c = *(s_done_t *)p;
    free(p);
    rl_state_done_reply_t rep;
    rl_state_outbox_done_parse(reply, &rep);
    if (c.cb != NULL)
        c.cb(&rep, c.arg);
}

/* A record's ARGV after the ref: token, outcome, delay, JSON. */
static void
s_record_args(rl_scall_t *c, const rl_state_record_t *rec)
{
    rl_scall_arg(c, rec->token);
    rl_scall_arg(c, rec->outcome);
    rl_scall_arg_ll(c, rec->delay_ms);
    rl_scall_arg(c, rec->json);
}

static int
s_send_done(rl_scall_t *c, rl_redis_t *r, const char *name, rl_state_done_cb cb,
            void *arg)
{
    s_done_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    /* A delivered record is what dedup answers from: durable, like the
     * other records it shares the path with. */
    if (rl_scall_send_durable(c, r, name, s_on_done, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

int
rl_state_outbox_done(rl_redis_t *r, const rl_state_record_t *rec,
                     rl_state_done_cb cb, void *arg)
{
    rl_scall_t c;
    char ref[RL_KEY_MAX];
    if (rl_keys_ref(ref, sizeof ref, rec->acct, rec->job) != 0)
        return -1;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_job, rec->acct, rec->job);
    RL_SCALL_KEY(&c, rl_keys_deliveries, rec->acct, rec->job);
    RL_SCALL_KEY(&c, rl_keys_dedup, rec->acct, rec->job, rec->status);
    RL_SCALL_KEY(&c, rl_keys_outbox, rl_keys_partition(rec->acct));
    RL_SCALL_KEY(&c, rl_keys_stats, rl_keys_partition(rec->acct));
    RL_SCALL_KEY(&c, rl_keys_whfail, rec->acct);
    rl_scall_arg(&c, ref);
    s_record_args(&c, rec);
    rl_scall_arg_ll(&c, rec->dedup_ttl_s);
    rl_scall_arg(&c, rec->fail_open ? "1" : "0");
    return s_send_done(&c, r, "outbox_done", cb, arg);
}

static void
s_on_many(redisReply *reply, void *p)
{
    s_many_t c = *(s_many_t *)p;
    free(p);
    rl_state_done_many_reply_t rep;
    memset(&rep, 0, sizeof rep);
    rep.tag = RL_STATE_OK;
    if (reply == NULL) {
        rep.tag = RL_STATE_UNKNOWN;
    } else if (reply->type != REDIS_REPLY_ARRAY) {
        rep.tag = RL_STATE_BAD;
        rep.why = reply->type == REDIS_REPLY_ERROR && reply->str != NULL
                      ? reply->str
                      : "unexpected reply";
    } else {
        rep.n = c.n;
        for (size_t i = 0; i < c.n; i++)
            rl_state_outbox_done_parse(
                i < reply->elements ? reply->element[i] : NULL, &rep.each[i]);
        /* a missing answer is one that did not come: BAD, not UNKNOWN */
        for (size_t i = reply->elements; i < c.n; i++) {
            rep.each[i].tag = RL_STATE_BAD;
            rep.each[i].why = "unexpected reply";
        }
    }
    c.cb(&rep, c.arg);
}

int
rl_state_outbox_done_many(rl_redis_t *r, const rl_state_record_t *recs,
                          size_t n, rl_state_done_many_cb cb, void *arg)
{
    rl_scall_t c;
    char refs[RL_STATE_DONE_MAX][RL_KEY_MAX];
    if (n == 0 || n > RL_STATE_DONE_MAX)
        return -1;
    int part = rl_keys_partition(recs[0].acct);
    for (size_t i = 1; i < n; i++)
        if (rl_keys_partition(recs[i].acct) != part)
            return -1; /* a batch is of one partition */
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_outbox, part);
    RL_SCALL_KEY(&c, rl_keys_stats, part);
    for (size_t i = 0; i < n; i++) {
        const rl_state_record_t *rec = &recs[i];
        RL_SCALL_KEY(&c, rl_keys_job, rec->acct, rec->job);
        RL_SCALL_KEY(&c, rl_keys_deliveries, rec->acct, rec->job);
        RL_SCALL_KEY(&c, rl_keys_dedup, rec->acct, rec->job, rec->status);
        RL_SCALL_KEY(&c, rl_keys_whfail, rec->acct);
    }
    /* One TTL for the batch: a deliverer's, the same for each. */
    rl_scall_arg_ll(&c, recs[0].dedup_ttl_s);
    for (size_t i = 0; i < n; i++) {
        if (rl_keys_ref(refs[i], sizeof refs[i], recs[i].acct, recs[i].job))
            return -1;
        rl_scall_arg(&c, refs[i]);
        s_record_args(&c, &recs[i]);
        rl_scall_arg(&c, recs[i].fail_open ? "1" : "0");
    }
    s_many_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    u->n = n;
    if (rl_scall_send_durable(&c, r, "outbox_done_many", s_on_many, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

int
rl_state_outbox_defer(rl_redis_t *r, const char *acct, const char *job,
                      const char *token, long long delay_ms,
                      rl_state_done_cb cb, void *arg)
{
    rl_scall_t c;
    char ref[RL_KEY_MAX];
    if (rl_keys_ref(ref, sizeof ref, acct, job) != 0)
        return -1;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_job, acct, job);
    RL_SCALL_KEY(&c, rl_keys_outbox, rl_keys_partition(acct));
    rl_scall_arg(&c, ref);
    rl_scall_arg(&c, token);
    rl_scall_arg_ll(&c, delay_ms);
    return s_send_done(&c, r, "outbox_defer", cb, arg);
}

/* --- claims -------------------------------------------------------------- */

typedef struct {
    void (*cb)(void);
    void *arg;
} s_cb_t;

static s_cb_t *
s_cb(void (*cb)(void), void *arg)
{
    s_cb_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    return u;
}

static void
s_on_list(redisReply *reply, void *p)
{
    s_cb_t u = *(s_cb_t *)p;
    free(p);
    rl_state_list_reply_t rep = {.tag = RL_STATE_OK, .list = reply};
    if (reply == NULL) {
        rep.tag = RL_STATE_UNKNOWN;
    } else if (reply->type != REDIS_REPLY_ARRAY) {
        rep.tag = RL_STATE_BAD;
        rep.why = reply->type == REDIS_REPLY_ERROR && reply->str != NULL
                      ? reply->str
                      : "unexpected reply";
        rep.list = NULL;
    }
    ((rl_state_list_cb)u.cb)(&rep, u.arg);
}

int
rl_state_outbox_due(rl_redis_t *r, int partition, long long limit,
                    rl_state_list_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_outbox, partition);
    rl_scall_arg_ll(&c, limit);
    s_cb_t *u = s_cb((void (*)(void))cb, arg);
    if (rl_scall_send(&c, r, "outbox_due", s_on_list, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

int
rl_state_outbox_claim(rl_redis_t *r, const rl_state_oclaim_args_t *a,
                      rl_state_list_cb cb, void *arg)
{
    rl_scall_t c;
    bool named[RL_STATE_CLAIM_MAX];
    char acct[RL_KEY_MAX], job[RL_KEY_MAX];
    if (a->nrefs > RL_STATE_CLAIM_MAX)
        return -1;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_outbox, a->partition);
    for (size_t i = 0; i < a->nrefs; i++) {
        named[i] = rl_keys_parse_ref(a->refs[i], acct, sizeof acct, job,
                                     sizeof job) == 0 &&
                   rl_keys_partition(acct) == a->partition;
        if (!named[i])
            continue;
        RL_SCALL_KEY(&c, rl_keys_job, acct, job);
        RL_SCALL_KEY(&c, rl_keys_dedup, acct, job, "completed");
        RL_SCALL_KEY(&c, rl_keys_dedup, acct, job, "failed");
        RL_SCALL_KEY(&c, rl_keys_acct, acct);
    }
    rl_scall_arg_ll(&c, a->lease_ms);
    rl_scall_arg_ll(&c, a->dedup_ttl_s);
    rl_scall_arg_ll(&c, (long long)a->nrefs);
    for (size_t i = 0; i < a->nrefs; i++) {
        rl_scall_arg(&c, a->refs[i]);
        rl_scall_arg(&c, named[i] ? "1" : "0");
    }
    for (size_t i = 0; i < a->nfields; i++)
        rl_scall_arg(&c, a->fields[i]);
    s_cb_t *u = s_cb((void (*)(void))cb, arg);
    if (rl_scall_send(&c, r, "outbox_claim", s_on_list, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

static void
s_on_sealed(redisReply *reply, void *p)
{
    s_cb_t u = *(s_cb_t *)p;
    free(p);
    rl_state_sealed_reply_t rep = {.tag = RL_STATE_OK, .sealed = ""};
    if (reply == NULL) {
        rep.tag = RL_STATE_UNKNOWN;
    } else if (reply->type == REDIS_REPLY_STRING) {
        rep.sealed = reply->str;
    } else if (reply->type != REDIS_REPLY_NIL) {
        rep.tag = RL_STATE_BAD;
        rep.why = reply->type == REDIS_REPLY_ERROR && reply->str != NULL
                      ? reply->str
                      : "unexpected reply";
    }
    ((rl_state_sealed_cb)u.cb)(&rep, u.arg);
}

int
rl_state_key_sealed(rl_redis_t *r, const char *key_hash, rl_state_sealed_cb cb,
                    void *arg)
{
    char key[RL_KEY_MAX];
    if (rl_keys_apikey(key, sizeof key, key_hash) != 0)
        return -1;
    const char *argv[] = {"HGET", key, "sealed"};
    s_cb_t *u = s_cb((void (*)(void))cb, arg);
    if (rl_redis_command(r, s_on_sealed, u, 3, argv, NULL) != 0) {
        free(u);
        return -1;
    }
    return 0;
}
