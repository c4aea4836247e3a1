/*
 * rl_state_job - claim, fenced update and terminal write of a job.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_job.h"

#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_scall.h"

/* Each call's callback and its argument, across the Redis reply. */
typedef struct {
    rl_state_update_cb cb;
    void *arg;
} s_update_t;

typedef struct {
    rl_state_claim_cb cb;
    void *arg;
} s_claim_t;

typedef struct {
    rl_state_finish_cb cb;
    void *arg;
} s_finish_t;

typedef struct {
    rl_state_accept_cb cb;
    void *arg;
} s_accept_t;

/* --- job_update -------------------------------------------------------- */

void
rl_state_job_update_parse(const redisReply *r, rl_state_update_reply_t *out)
{
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag != RL_STATE_OK && out->tag != RL_STATE_STALE &&
        out->tag != RL_STATE_UNKNOWN && out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_update(redisReply *reply, void *p)
{
    s_update_t c = *(s_update_t *)p;
    free(p);
    rl_state_update_reply_t rep;
    rl_state_job_update_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

int
rl_state_job_update(rl_redis_t *r, const rl_state_update_args_t *a,
                    rl_state_update_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_job, a->acct, a->job);
    RL_SCALL_KEY(&c, rl_keys_stats, rl_keys_partition(a->acct));
    rl_scall_arg(&c, a->fence);
    rl_scall_arg(&c, a->history != NULL ? a->history : "");
    for (int i = 0; i < a->nkv; i++)
        rl_scall_arg(&c, a->kv[i]);
    s_update_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send(&c, r, "job_update", s_on_update, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

/* --- claim ------------------------------------------------------------- */

void
rl_state_job_claim_parse(const redisReply *r, rl_state_claim_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_REFUSED) {
        out->why = rl_state_text(r, 1, out->fence_buf, sizeof out->fence_buf);
        if (out->why == NULL)
            out->why = "unknown";
    } else if (out->tag == RL_STATE_OK) {
        out->fence = rl_state_text(r, 1, out->fence_buf, sizeof out->fence_buf);
        if (out->fence == NULL) {
            out->tag = RL_STATE_BAD;
            out->why = "claim reply without a fence";
        }
        out->fields.r = r;
        out->fields.from = 2;
    } else if (out->tag != RL_STATE_UNKNOWN && out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_claim(redisReply *reply, void *p)
{
    s_claim_t c = *(s_claim_t *)p;
    free(p);
    rl_state_claim_reply_t rep;
    rl_state_job_claim_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

int
rl_state_job_claim(rl_redis_t *r, const rl_state_claim_args_t *a,
                   rl_state_claim_cb cb, void *arg)
{
    rl_scall_t c;
    char ref[RL_KEY_MAX];
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_job, a->acct, a->job);
    RL_SCALL_KEY(&c, rl_keys_worker_jobs, rl_keys_partition(a->acct),
                 a->worker);
    RL_SCALL_KEY(&c, rl_keys_dispatched, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_workers, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_acct, a->acct);
    RL_SCALL_KEY(&c, rl_keys_ledger, a->acct);
    RL_SCALL_KEY(&c, rl_keys_outbox, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_stats, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_finished, rl_keys_partition(a->acct));
    if (rl_keys_ref(ref, sizeof ref, a->acct, a->job) != 0)
        return -1;
    rl_scall_arg(&c, ref);
    rl_scall_arg(&c, a->worker);
    rl_scall_arg(&c, a->retry ? "1" : "0");
    s_claim_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send_durable(&c, r, "claim", s_on_claim, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

/* --- job_finish -------------------------------------------------------- */

void
rl_state_job_finish_parse(const redisReply *r, rl_state_finish_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK) {
        out->sealed =
            r->elements > 1 ? rl_redis_reply_str(r->element[1]) : NULL;
        if (out->sealed == NULL) {
            out->tag = RL_STATE_BAD;
            out->why = "terminal write reply without a signing key";
        }
        out->fields.r = r;
        out->fields.from = 2;
    } else if (out->tag != RL_STATE_STALE && out->tag != RL_STATE_UNKNOWN &&
               out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_finish(redisReply *reply, void *p)
{
    s_finish_t c = *(s_finish_t *)p;
    free(p);
    rl_state_finish_reply_t rep;
    rl_state_job_finish_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

int
rl_state_job_finish(rl_redis_t *r, const rl_state_finish_args_t *a,
                    rl_state_finish_cb cb, void *arg)
{
    rl_scall_t c;
    char ref[RL_KEY_MAX];
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_job, a->acct, a->job);
    RL_SCALL_KEY(&c, rl_keys_worker_jobs, rl_keys_partition(a->acct),
                 a->worker);
    RL_SCALL_KEY(&c, rl_keys_acct, a->acct);
    RL_SCALL_KEY(&c, rl_keys_ledger, a->acct);
    RL_SCALL_KEY(&c, rl_keys_outbox, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_stats, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_render_avg, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_apikey, a->key_hash);
    RL_SCALL_KEY(&c, rl_keys_finished, rl_keys_partition(a->acct));
    if (rl_keys_ref(ref, sizeof ref, a->acct, a->job) != 0)
        return -1;
    rl_scall_arg(&c, a->fence);
    rl_scall_arg(&c, ref);
    rl_scall_arg(&c, a->completed ? "completed" : "failed");
    rl_scall_arg(&c, a->reason);
    rl_scall_arg_ll(&c, a->billed);
    for (int i = 0; i < a->nkv; i++)
        rl_scall_arg(&c, a->kv[i]);
    s_finish_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send_durable(&c, r, "job_finish", s_on_finish, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

/* --- accept ------------------------------------------------------------ */

#define S_TASK_PREFIX "task_" /* the task API's job ids */

void
rl_state_job_accept_parse(const redisReply *r, rl_state_accept_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    switch (out->tag) {
    case RL_STATE_OK:
    case RL_STATE_UNAUTHORIZED:
    case RL_STATE_IDEM_CONFLICT:
    case RL_STATE_COLLISION:
    case RL_STATE_UNKNOWN:
    case RL_STATE_BAD:
        break;
    case RL_STATE_REPLAY:
        out->job = r->elements == 3 ? rl_redis_reply_str(r->element[1]) : NULL;
        out->body = r->elements == 3 ? rl_redis_reply_str(r->element[2]) : NULL;
        if (out->job == NULL || out->body == NULL) {
            out->tag = RL_STATE_BAD;
            out->why = "replay";
        }
        break;
    case RL_STATE_RATE_LIMITED:
        (void)rl_state_ll(r, 1, &out->a); /* 0 when missing: 1 s */
        break;
    case RL_STATE_CREDITS:
    case RL_STATE_CONCURRENCY:
        if (r->elements != 3 || rl_state_ll(r, 1, &out->a) != 0 ||
            rl_state_ll(r, 2, &out->b) != 0) {
            out->why = rl_state_tag_name(out->tag);
            out->tag = RL_STATE_BAD;
        }
        break;
    default:
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
        break;
    }
}

static void
s_on_accept(redisReply *reply, void *p)
{
    s_accept_t c = *(s_accept_t *)p;
    free(p);
    rl_state_accept_reply_t rep;
    rl_state_job_accept_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

int
rl_state_job_accept(rl_redis_t *r, const rl_state_accept_args_t *a,
                    rl_state_accept_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, a->key_hash);
    RL_SCALL_KEY(&c, rl_keys_acct, a->acct);
    RL_SCALL_KEY(&c, rl_keys_job, a->acct, a->job);
    RL_SCALL_KEY(&c, rl_keys_acct_jobs, a->acct);
    RL_SCALL_KEY(&c, rl_keys_ledger, a->acct);
    RL_SCALL_KEY(&c, rl_keys_queue, rl_keys_partition(a->acct));
    RL_SCALL_KEY(&c, rl_keys_stats, rl_keys_partition(a->acct));
    if (a->idem[0] != '\0')
        RL_SCALL_KEY(&c, rl_keys_idem, a->acct, a->idem);
    if (strncmp(a->job, S_TASK_PREFIX, sizeof S_TASK_PREFIX - 1) == 0)
        RL_SCALL_KEY(&c, rl_keys_taskidx, a->job);
    rl_scall_arg(&c, a->key_hash);
    rl_scall_arg(&c, a->job);
    rl_scall_arg(&c, a->idem);
    rl_scall_arg(&c, a->body_hash);
    rl_scall_arg_ll(&c, a->price);
    rl_scall_arg_ll(&c, a->created_ms);
    rl_scall_arg(&c, a->body202);
    rl_scall_arg_ll(&c, a->idem_ttl_s);
    rl_scall_arg_ll(&c, a->rate_per_s);
    rl_scall_arg_ll(&c, a->burst);
    rl_scall_arg_ll(&c, a->max_active);
    rl_scall_arg(&c, a->acct);
    for (int i = 0; i < a->nkv; i++)
        rl_scall_arg(&c, a->kv[i]);
    s_accept_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send_durable(&c, r, "accept", s_on_accept, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}
