/*
 * rl_state_sweep - lease renewal and the reaper's sweep of a partition.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_sweep.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_scall.h"

typedef struct {
    void (*cb)(void);
    void *arg;
} s_call_t;

/* Holds cb and arg until the reply (cb cast back by the handler). */
static s_call_t *
s_call(void (*cb)(void), void *arg)
{
    s_call_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
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

/* Declares the job, account and ledger of ref when it names a job of
 * partition p; answers whether it did (refs_as_read's "1"). */
static bool
s_ref_keys(rl_scall_t *c, int p, const char *ref)
{
    char acct[RL_KEY_MAX], job[RL_KEY_MAX];
    if (rl_keys_parse_ref(ref, acct, sizeof acct, job, sizeof job) != 0 ||
        rl_keys_partition(acct) != p)
        return false;
    RL_SCALL_KEY(c, rl_keys_job, acct, job);
    RL_SCALL_KEY(c, rl_keys_acct, acct);
    RL_SCALL_KEY(c, rl_keys_ledger, acct);
    return true;
}

/* The keys of refs (s_ref_keys each), then, once the caller added its
 * other arguments, the pairs (ref, "1" | "0"): s_ref_args. */
static void
s_refs_keys(rl_scall_t *c, int p, const char *const *refs, size_t n,
            bool *named)
{
    assert(n <= RL_STATE_SWEEP_MAX);
    for (size_t i = 0; i < n; i++)
        named[i] = s_ref_keys(c, p, refs[i]);
}

static void
s_refs_args(rl_scall_t *c, const char *const *refs, size_t n, const bool *named)
{
    for (size_t i = 0; i < n; i++) {
        rl_scall_arg(c, refs[i]);
        rl_scall_arg(c, named[i] ? "1" : "0");
    }
}

/* --- heartbeat ---------------------------------------------------------- */

void
rl_state_heartbeat_parse(const redisReply *r, rl_state_heartbeat_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK && rl_state_ll(r, 1, &out->expiry) != 0) {
        out->tag = RL_STATE_BAD;
        out->why = "heartbeat";
    } else if (out->tag != RL_STATE_OK && out->tag != RL_STATE_UNKNOWN &&
               out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_heartbeat(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_heartbeat_reply_t rep;
    rl_state_heartbeat_parse(reply, &rep);
    ((rl_state_heartbeat_cb)u.cb)(&rep, u.arg);
}

int
rl_state_heartbeat(rl_redis_t *r, const rl_state_heartbeat_args_t *a,
                   rl_state_heartbeat_cb cb, void *arg)
{
    rl_scall_t c;
    bool named[RL_STATE_SWEEP_MAX];
    int p = a->partition;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_workers, p);
    RL_SCALL_KEY(&c, rl_keys_worker_jobs, p, a->worker);
    RL_SCALL_KEY(&c, rl_keys_queue, p);
    RL_SCALL_KEY(&c, rl_keys_outbox, p);
    RL_SCALL_KEY(&c, rl_keys_stats, p);
    RL_SCALL_KEY(&c, rl_keys_finished, p);
    s_refs_keys(&c, p, a->refs, a->nrefs, named);
    rl_scall_arg(&c, a->worker);
    rl_scall_arg_ll(&c, a->lease_ms);
    rl_scall_arg(&c, a->retired);
    rl_scall_arg_ll(&c, a->max_recoveries);
    s_refs_args(&c, a->refs, a->nrefs, named);
    return s_send(&c, r, "heartbeat", s_on_heartbeat,
                  s_call((void (*)(void))cb, arg));
}

/* --- reap_scan ---------------------------------------------------------- */

static bool
s_is_array(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY;
}

void
rl_state_reap_scan_parse(const redisReply *r, rl_state_scan_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK) {
        if (r->elements != 4 || !s_is_array(r->element[1]) ||
            !s_is_array(r->element[2]) || !s_is_array(r->element[3])) {
            out->tag = RL_STATE_BAD;
            out->why = "reap_scan";
            return;
        }
        out->due = r->element[1];
        out->dead = r->element[2];
        out->head = r->element[3];
    } else if (out->tag != RL_STATE_SKIPPED && out->tag != RL_STATE_UNKNOWN &&
               out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_scan(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_scan_reply_t rep;
    rl_state_reap_scan_parse(reply, &rep);
    ((rl_state_scan_cb)u.cb)(&rep, u.arg);
}

int
rl_state_reap_scan(rl_redis_t *r, int partition, const char *holder,
                   long long period_ms, long long limit, long long head_limit,
                   rl_state_scan_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_reaper_lock, partition);
    RL_SCALL_KEY(&c, rl_keys_dispatched, partition);
    RL_SCALL_KEY(&c, rl_keys_workers, partition);
    RL_SCALL_KEY(&c, rl_keys_queue, partition);
    rl_scall_arg(&c, holder);
    rl_scall_arg_ll(&c, period_ms);
    rl_scall_arg_ll(&c, limit);
    rl_scall_arg_ll(&c, head_limit);
    return s_send(&c, r, "reap_scan", s_on_scan,
                  s_call((void (*)(void))cb, arg));
}

/* --- the sweep's steps -------------------------------------------------- */

void
rl_state_sweep_parse(const redisReply *r, rl_state_sweep_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    switch (out->tag) {
    case RL_STATE_OK: {
        long long all = 0;
        if (rl_state_ll(r, 1, &out->n) != 0 ||
            (r->elements == 4 && (rl_state_ll(r, 2, &out->failed) != 0 ||
                                  rl_state_ll(r, 3, &out->left) != 0)) ||
            (r->elements == 3 && rl_state_ll(r, 2, &all) != 0) ||
            r->elements < 2 || r->elements > 4) {
            out->tag = RL_STATE_BAD;
            out->why = "sweep";
        }
        out->all = all == 1;
        break;
    }
    case RL_STATE_ALIVE:
    case RL_STATE_SKIPPED:
    case RL_STATE_UNKNOWN:
    case RL_STATE_BAD:
        break;
    default:
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_sweep(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_sweep_reply_t rep;
    rl_state_sweep_parse(reply, &rep);
    ((rl_state_sweep_cb)u.cb)(&rep, u.arg);
}

int
rl_state_reap_unclaimed(rl_redis_t *r, const rl_state_sweep_args_t *a,
                        rl_state_sweep_cb cb, void *arg)
{
    rl_scall_t c;
    bool named[RL_STATE_SWEEP_MAX];
    int p = a->partition;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_reaper_lock, p);
    RL_SCALL_KEY(&c, rl_keys_dispatched, p);
    RL_SCALL_KEY(&c, rl_keys_queue, p);
    RL_SCALL_KEY(&c, rl_keys_stats, p);
    s_refs_keys(&c, p, a->refs, a->nrefs, named);
    rl_scall_arg(&c, a->holder);
    s_refs_args(&c, a->refs, a->nrefs, named);
    return s_send(&c, r, "reap_unclaimed", s_on_sweep,
                  s_call((void (*)(void))cb, arg));
}

int
rl_state_reap_worker(rl_redis_t *r, const rl_state_sweep_args_t *a,
                     rl_state_sweep_cb cb, void *arg)
{
    rl_scall_t c;
    bool named[RL_STATE_SWEEP_MAX];
    int p = a->partition;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_reaper_lock, p);
    RL_SCALL_KEY(&c, rl_keys_workers, p);
    RL_SCALL_KEY(&c, rl_keys_worker_jobs, p, a->worker);
    RL_SCALL_KEY(&c, rl_keys_queue, p);
    RL_SCALL_KEY(&c, rl_keys_outbox, p);
    RL_SCALL_KEY(&c, rl_keys_stats, p);
    RL_SCALL_KEY(&c, rl_keys_finished, p);
    s_refs_keys(&c, p, a->refs, a->nrefs, named);
    rl_scall_arg(&c, a->holder);
    rl_scall_arg(&c, a->worker);
    rl_scall_arg_ll(&c, a->max_recoveries);
    s_refs_args(&c, a->refs, a->nrefs, named);
    return s_send(&c, r, "reap_worker", s_on_sweep,
                  s_call((void (*)(void))cb, arg));
}

int
rl_state_reap_expire(rl_redis_t *r, const rl_state_sweep_args_t *a,
                     rl_state_sweep_cb cb, void *arg)
{
    rl_scall_t c;
    bool named[RL_STATE_SWEEP_MAX];
    int p = a->partition;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_reaper_lock, p);
    RL_SCALL_KEY(&c, rl_keys_queue, p);
    RL_SCALL_KEY(&c, rl_keys_outbox, p);
    RL_SCALL_KEY(&c, rl_keys_stats, p);
    RL_SCALL_KEY(&c, rl_keys_finished, p);
    s_refs_keys(&c, p, a->refs, a->nrefs, named);
    rl_scall_arg(&c, a->holder);
    s_refs_args(&c, a->refs, a->nrefs, named);
    return s_send(&c, r, "reap_expire", s_on_sweep,
                  s_call((void (*)(void))cb, arg));
}

/* --- a worker's job set ------------------------------------------------- */

static void
s_on_members(redisReply *reply, void *p)
{
    s_call_t u = *(s_call_t *)p;
    free(p);
    rl_state_members_reply_t rep = {.tag = RL_STATE_OK, .refs = reply};
    if (reply == NULL) {
        rep.tag = RL_STATE_UNKNOWN;
    } else if (reply->type != REDIS_REPLY_ARRAY) {
        rep.tag = RL_STATE_BAD;
        rep.why = reply->type == REDIS_REPLY_ERROR && reply->str != NULL
                      ? reply->str
                      : "unexpected reply";
        rep.refs = NULL;
    }
    ((rl_state_members_cb)u.cb)(&rep, u.arg);
}

int
rl_state_worker_jobs(rl_redis_t *r, int partition, const char *worker,
                     rl_state_members_cb cb, void *arg)
{
    char key[RL_KEY_MAX];
    if (rl_keys_worker_jobs(key, sizeof key, partition, worker) != 0)
        return -1;
    const char *argv[] = {"SMEMBERS", key};
    s_call_t *u = s_call((void (*)(void))cb, arg);
    if (rl_redis_command(r, s_on_members, u, 2, argv, NULL) != 0) {
        free(u);
        return -1;
    }
    return 0;
}
