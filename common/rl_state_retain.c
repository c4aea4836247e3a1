/*
 * rl_state_retain - the retention step's scripts, with every key built
 * here and declared.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_retain.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_scall.h"

/* Keys a removal declares: five, then seven a job. */
#define S_REMOVE_KEYS(n) (5 + 7 * (n))
_Static_assert(S_REMOVE_KEYS(RL_STATE_RETAIN_BATCH) <= RL_SCALL_MAX_KEYS &&
                   4 + RL_STATE_RETAIN_LEDGER_MAX <= RL_SCALL_MAX_KEYS,
               "a batch's keys fit one call");
_Static_assert(S_REMOVE_KEYS(RL_STATE_RETAIN_BATCH) + 4 +
                           4 * RL_STATE_RETAIN_BATCH <
                       RL_REDIS_MAX_ARGS &&
                   4 + 3 * RL_STATE_RETAIN_LEDGER_MAX + 6 < RL_REDIS_MAX_ARGS,
               "a batch's keys and arguments fit one call");

/* A call in flight: its typed callback (cast back by its s_on_*), its
 * argument and, for a read, how many jobs it asked about. */
typedef void (*s_any_cb)(void);
typedef struct {
    s_any_cb cb;
    void *arg;
    size_t n;
} s_call_t;

static s_call_t *
s_call(s_any_cb cb, void *arg, size_t n)
{
    s_call_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    u->n = n;
    return u;
}

static int
s_send(rl_scall_t *c, rl_redis_t *r, const char *name, rl_redis_cb on,
       s_call_t *u)
{
    if (rl_scall_send(c, r, name, on, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

/* The lock's key and the holder's arguments every script opens with. */
static void
s_lock(rl_scall_t *c, const rl_state_retain_ctx_t *x)
{
    RL_SCALL_KEY(c, rl_keys_retain_lock, x->partition);
}

static void
s_holder(rl_scall_t *c, const rl_state_retain_ctx_t *x)
{
    rl_scall_arg(c, x->holder);
    rl_scall_arg_ll(c, x->lock_ms);
}

/* Tags other than OK and those in `also` become BAD, named. */
static void
s_only(rl_state_tag_t *tag, const char **why, rl_state_tag_t also)
{
    if (*tag != RL_STATE_OK && *tag != also && *tag != RL_STATE_UNKNOWN &&
        *tag != RL_STATE_BAD && *tag != RL_STATE_SKIPPED) {
        *why = rl_state_tag_name(*tag);
        *tag = RL_STATE_BAD;
    }
}

static void
s_bad(rl_state_tag_t *tag, const char **why, const char *what)
{
    *tag = RL_STATE_BAD;
    *why = what;
}

/* True when r is an array of strings. */
static bool
s_strings(const redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return false;
    for (size_t i = 0; i < r->elements; i++)
        if (r->element[i]->type != REDIS_REPLY_STRING)
            return false;
    return true;
}

/* --- retain_due -------------------------------------------------------- */

void
rl_state_retain_due_parse(const redisReply *r, rl_state_retain_due_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    s_only(&out->tag, &out->why, RL_STATE_OK);
    if (out->tag != RL_STATE_OK)
        return;
    if (r->elements != 4 || rl_state_ll(r, 1, &out->now) != 0 ||
        !s_strings(r->element[2]) || !s_strings(r->element[3])) {
        s_bad(&out->tag, &out->why, "retain_due reply");
        return;
    }
    out->refs = r->element[2];
    out->accts = r->element[3];
}

static void
s_on_due(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_retain_due_reply_t rep;
    rl_state_retain_due_parse(reply, &rep);
    ((rl_state_retain_due_cb)u.cb)(&rep, u.arg);
}

int
rl_state_retain_due(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                    long long max_refs, long long max_accts,
                    rl_state_retain_due_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    s_lock(&c, x);
    RL_SCALL_KEY(&c, rl_keys_finished, x->partition);
    RL_SCALL_KEY(&c, rl_keys_retain_ledger, x->partition);
    s_holder(&c, x);
    rl_scall_arg_ll(&c, x->retention_ms);
    rl_scall_arg_ll(&c, max_refs);
    rl_scall_arg_ll(&c, max_accts);
    rl_scall_arg_ll(&c, RL_STATE_RETAIN_REF_MAX);
    return s_send(&c, r, "retain_due", s_on_due, s_call((s_any_cb)cb, arg, 0));
}

/* --- retain_read ------------------------------------------------------- */

static int
s_verdict(const redisReply *v, rl_state_retain_verdict_t *out)
{
    static const char *const names[] = {"ready", "busy", "young", "gone"};
    for (size_t i = 0; v->type == REDIS_REPLY_STRING && i < 4; i++)
        if (strcmp(v->str, names[i]) == 0) {
            *out = (rl_state_retain_verdict_t)i;
            return 0;
        }
    return -1;
}

void
rl_state_retain_read_parse(const redisReply *r, size_t n,
                           rl_state_retain_read_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    s_only(&out->tag, &out->why, RL_STATE_OK);
    if (out->tag != RL_STATE_OK)
        return;
    if (n > RL_STATE_RETAIN_BATCH || r->elements != n + 1) {
        s_bad(&out->tag, &out->why, "retain_read reply of another length");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i + 1];
        rl_state_retain_job_t *j = &out->jobs[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 3 ||
            s_verdict(e->element[0], &j->verdict) != 0 ||
            !s_strings(e->element[1]) || !s_strings(e->element[2]) ||
            e->element[1]->elements % 2 != 0) {
            s_bad(&out->tag, &out->why, "retain_read entry");
            return;
        }
        j->fields = e->element[1];
        j->log = e->element[2];
    }
    out->n = n;
}

static void
s_on_read(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_retain_read_reply_t rep;
    rl_state_retain_read_parse(reply, u.n, &rep);
    ((rl_state_retain_read_cb)u.cb)(&rep, u.arg);
}

int
rl_state_retain_read(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                     const char *const *refs, size_t n,
                     rl_state_retain_read_cb cb, void *arg)
{
    rl_scall_t c;
    char acct[RL_KEY_MAX], job[RL_KEY_MAX];
    assert(n <= RL_STATE_RETAIN_BATCH);
    rl_scall_init(&c);
    s_lock(&c, x);
    RL_SCALL_KEY(&c, rl_keys_outbox, x->partition);
    for (size_t i = 0; i < n; i++) {
        if (rl_keys_parse_ref(refs[i], acct, sizeof acct, job, sizeof job) !=
                0 ||
            rl_keys_partition(acct) != x->partition)
            return -1;
        RL_SCALL_KEY(&c, rl_keys_job, acct, job);
        RL_SCALL_KEY(&c, rl_keys_deliveries, acct, job);
    }
    s_holder(&c, x);
    rl_scall_arg_ll(&c, x->retention_ms);
    for (size_t i = 0; i < n; i++)
        rl_scall_arg(&c, refs[i]);
    return s_send(&c, r, "retain_read", s_on_read,
                  s_call((s_any_cb)cb, arg, n));
}

/* --- retain_remove ----------------------------------------------------- */

void
rl_state_retain_remove_parse(const redisReply *r,
                             rl_state_retain_remove_reply_t *out)
{
    long long *counts[] = {&out->removed, &out->busy, &out->changed,
                           &out->gone};
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    s_only(&out->tag, &out->why, RL_STATE_OK);
    if (out->tag != RL_STATE_OK)
        return;
    for (size_t i = 0; i < 4; i++)
        if (r->elements != 5 || rl_state_ll(r, i + 1, counts[i]) != 0 ||
            *counts[i] < 0) {
            memset(out, 0, sizeof *out);
            s_bad(&out->tag, &out->why, "retain_remove reply");
            return;
        }
}

static void
s_on_remove(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_retain_remove_reply_t rep;
    rl_state_retain_remove_parse(reply, &rep);
    ((rl_state_retain_remove_cb)u.cb)(&rep, u.arg);
}

/* The seven keys of one job of a removal. */
static int
s_victim_keys(rl_scall_t *c, int partition, const char *ref)
{
    char a[RL_KEY_MAX], j[RL_KEY_MAX];
    if (rl_keys_parse_ref(ref, a, sizeof a, j, sizeof j) != 0 ||
        rl_keys_partition(a) != partition)
        return -1;
    RL_SCALL_KEY(c, rl_keys_job, a, j);
    RL_SCALL_KEY(c, rl_keys_deliveries, a, j);
    RL_SCALL_KEY(c, rl_keys_acct_jobs, a);
    RL_SCALL_KEY(c, rl_keys_whfail, a);
    RL_SCALL_KEY(c, rl_keys_dedup, a, j, "completed");
    RL_SCALL_KEY(c, rl_keys_dedup, a, j, "failed");
    RL_SCALL_KEY(c, rl_keys_taskidx, j);
    return 0;
}

int
rl_state_retain_remove(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                       long long recheck_ms, const rl_state_retain_victim_t *v,
                       size_t n, rl_state_retain_remove_cb cb, void *arg)
{
    rl_scall_t c;
    assert(n <= RL_STATE_RETAIN_BATCH);
    rl_scall_init(&c);
    s_lock(&c, x);
    RL_SCALL_KEY(&c, rl_keys_finished, x->partition);
    RL_SCALL_KEY(&c, rl_keys_outbox, x->partition);
    RL_SCALL_KEY(&c, rl_keys_retain_ledger, x->partition);
    RL_SCALL_KEY(&c, rl_keys_stats, x->partition);
    for (size_t i = 0; i < n; i++)
        if (s_victim_keys(&c, x->partition, v[i].ref) != 0)
            return -1;
    s_holder(&c, x);
    rl_scall_arg_ll(&c, x->retention_ms);
    rl_scall_arg_ll(&c, recheck_ms);
    for (size_t i = 0; i < n; i++) {
        const char *mark = v[i].mode == RL_RETAIN_ANY ? "-" : "!";
        bool version = v[i].mode == RL_RETAIN_VERSION;
        rl_scall_arg(&c, v[i].ref);
        rl_scall_arg(&c, version ? v[i].wh_token : mark);
        rl_scall_arg(&c, version ? v[i].wh_attempts : mark);
        rl_scall_arg(&c, version ? v[i].wh_state : mark);
    }
    return s_send(&c, r, "retain_remove", s_on_remove,
                  s_call((s_any_cb)cb, arg, n));
}

/* --- retain_ledger_read ------------------------------------------------ */

void
rl_state_retain_ledger_parse(const redisReply *r,
                             rl_state_retain_ledger_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    s_only(&out->tag, &out->why, RL_STATE_OK);
    if (out->tag != RL_STATE_OK)
        return;
    if (r->elements != 3 || rl_state_ll(r, 1, &out->archived) != 0 ||
        out->archived < 0 || !s_strings(r->element[2]) ||
        r->element[2]->elements > RL_STATE_RETAIN_LEDGER_MAX) {
        memset(out, 0, sizeof *out);
        s_bad(&out->tag, &out->why, "retain_ledger_read reply");
        return;
    }
    out->entries = r->element[2];
}

static void
s_on_ledger(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_retain_ledger_reply_t rep;
    rl_state_retain_ledger_parse(reply, &rep);
    ((rl_state_retain_ledger_cb)u.cb)(&rep, u.arg);
}

int
rl_state_retain_ledger_read(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                            const char *acct, long long max,
                            rl_state_retain_ledger_cb cb, void *arg)
{
    rl_scall_t c;
    assert(max > 0 && max <= RL_STATE_RETAIN_LEDGER_MAX);
    if (rl_keys_partition(acct) != x->partition)
        return -1;
    rl_scall_init(&c);
    s_lock(&c, x);
    RL_SCALL_KEY(&c, rl_keys_acct, acct);
    RL_SCALL_KEY(&c, rl_keys_ledger, acct);
    s_holder(&c, x);
    rl_scall_arg_ll(&c, max);
    return s_send(&c, r, "retain_ledger_read", s_on_ledger,
                  s_call((s_any_cb)cb, arg, 0));
}

/* --- retain_ledger_pop ------------------------------------------------- */

void
rl_state_retain_pop_parse(const redisReply *r, rl_state_retain_pop_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    s_only(&out->tag, &out->why, RL_STATE_CHANGED);
    if (out->tag != RL_STATE_OK)
        return;
    if (r->elements != 2 || rl_state_ll(r, 1, &out->count) != 0 ||
        out->count < 0) {
        memset(out, 0, sizeof *out);
        s_bad(&out->tag, &out->why, "retain_ledger_pop reply");
    }
}

static void
s_on_pop(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_retain_pop_reply_t rep;
    rl_state_retain_pop_parse(reply, &rep);
    ((rl_state_retain_pop_cb)u.cb)(&rep, u.arg);
}

/* Declares the hash of the job entry e names, if any; true when it did.
 * An entry that is not JSON, or names no job, names none (the script
 * keeps what it cannot read); nor does one naming an id too long for a
 * key (no such job can be in Redis). */
static bool
s_entry_job(rl_scall_t *c, const char *acct, const char *e)
{
    char key[RL_KEY_MAX];
    json_t *o = json_loads(e, 0, NULL);
    const char *job = json_string_value(json_object_get(o, "job"));
    bool named = job != NULL && job[0] != '\0' &&
                 rl_keys_job(key, sizeof key, acct, job) == 0;
    if (named)
        rl_scall_key(c, key);
    json_decref(o);
    return named;
}

int
rl_state_retain_ledger_pop(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                           const char *acct, long long archived, bool pop,
                           const char *const *entries, size_t n,
                           rl_state_retain_pop_cb cb, void *arg)
{
    rl_scall_t c;
    bool named[RL_STATE_RETAIN_LEDGER_MAX];
    assert(n <= RL_STATE_RETAIN_LEDGER_MAX);
    if (rl_keys_partition(acct) != x->partition)
        return -1;
    rl_scall_init(&c);
    s_lock(&c, x);
    RL_SCALL_KEY(&c, rl_keys_acct, acct);
    RL_SCALL_KEY(&c, rl_keys_ledger, acct);
    RL_SCALL_KEY(&c, rl_keys_retain_ledger, x->partition);
    for (size_t i = 0; i < n; i++)
        named[i] = s_entry_job(&c, acct, entries[i]);
    s_holder(&c, x);
    rl_scall_arg_ll(&c, x->retention_ms);
    rl_scall_arg(&c, pop ? "pop" : "check");
    rl_scall_arg(&c, acct);
    rl_scall_arg_ll(&c, archived);
    for (size_t i = 0; i < n; i++) {
        rl_scall_arg(&c, entries[i]);
        rl_scall_arg(&c, named[i] ? "1" : "0");
    }
    return s_send(&c, r, "retain_ledger_pop", s_on_pop,
                  s_call((s_any_cb)cb, arg, 0));
}
