/*
 * rl_state_view - an API key's reads of its account's jobs.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_view.h"

#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_scall.h"
#include "rl_state_acct.h"

/* A read in flight: the key's lookup, then the script. */
typedef struct {
    rl_state_acct_chain_t k;       /* first: the chain hands it back */
    rl_state_job_cb job_cb;        /* job_get, task_get */
    rl_state_deliveries_cb dlv_cb; /* webhook_deliveries */
    void *arg;                     /* theirs */
    char id[RL_KEY_MAX];           /* the job or task id */
} s_read_t;

static s_read_t *
s_read_new(rl_redis_t *r, const char *key_hash, const char *id)
{
    s_read_t *u = rl_calloc(1, sizeof *u);
    u->k.redis = r;
    if (rl_fmt(u->k.key_hash, sizeof u->k.key_hash, "%s", key_hash) != 0 ||
        rl_fmt(u->id, sizeof u->id, "%s", id) != 0) {
        free(u);
        return NULL;
    }
    return u;
}

static int
s_read_start(s_read_t *u)
{
    if (u == NULL)
        return -1;
    if (rl_state_acct_chain(&u->k) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

/* --- job_get, task_get --------------------------------------------------- */

void
rl_state_view_job_parse(const redisReply *r, bool task,
                        rl_state_job_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    switch (out->tag) {
    case RL_STATE_OK:
        out->fields.r = r;
        out->fields.from = 1;
        break;
    case RL_STATE_UNAUTHORIZED:
    case RL_STATE_NOT_FOUND:
    case RL_STATE_UNKNOWN:
    case RL_STATE_BAD:
        break;
    case RL_STATE_FORBIDDEN:
        if (task)
            break;
        /* fall through */
    default:
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
        break;
    }
}

static void
s_job_answer(s_read_t *u, const redisReply *reply, bool task)
{
    rl_state_job_reply_t rep;
    rl_state_view_job_parse(reply, task, &rep);
    rl_state_job_cb cb = u->job_cb;
    void *arg = u->arg;
    free(u);
    cb(&rep, arg);
}

static void
s_job_fail(rl_state_acct_chain_t *k, rl_state_tag_t tag, const char *why)
{
    s_read_t *u = (s_read_t *)k;
    rl_state_job_reply_t rep = {.tag = tag, .why = why};
    rl_state_job_cb cb = u->job_cb;
    void *arg = u->arg;
    free(u);
    cb(&rep, arg);
}

static void
s_on_job(redisReply *reply, void *p)
{
    s_job_answer(p, reply, false);
}

static void
s_on_task(redisReply *reply, void *p)
{
    s_job_answer(p, reply, true);
}

static int
s_job_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_read_t *u = (s_read_t *)k;
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, k->key_hash);
    RL_SCALL_KEY(&c, rl_keys_job, acct, u->id);
    rl_scall_arg(&c, acct);
    return rl_scall_send(&c, k->redis, "job_get", s_on_job, u);
}

/* The index entry of a task of another partition exists: the task is
 * another account's (forbidden), else there is none (not found). */
static void
s_on_task_elsewhere(redisReply *reply, void *p)
{
    s_read_t *u = p;
    long long n = 0;
    rl_state_job_reply_t rep = {.tag = RL_STATE_UNKNOWN};
    if (reply != NULL && rl_redis_reply_ll(reply, &n) == 0)
        rep.tag = n > 0 ? RL_STATE_FORBIDDEN : RL_STATE_NOT_FOUND;
    else if (reply != NULL)
        rep = (rl_state_job_reply_t){.tag = RL_STATE_BAD, .why = "exists"};
    rl_state_job_cb cb = u->job_cb;
    void *arg = u->arg;
    free(u);
    cb(&rep, arg);
}

static int
s_task_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_read_t *u = (s_read_t *)k;
    rl_scall_t c;
    if (rl_keys_partition(u->id) != rl_keys_partition(acct)) {
        /* Task ids are drawn in their account's partition: this one is
         * not the caller's. The caller's key was checked by the lookup
         * just before. */
        char key[RL_KEY_MAX];
        if (rl_keys_taskidx(key, sizeof key, u->id) != 0)
            return -1;
        const char *argv[] = {"EXISTS", key};
        return rl_redis_command(k->redis, s_on_task_elsewhere, u, 2, argv,
                                NULL);
    }
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, k->key_hash);
    RL_SCALL_KEY(&c, rl_keys_taskidx, u->id);
    RL_SCALL_KEY(&c, rl_keys_job, acct, u->id);
    rl_scall_arg(&c, acct);
    return rl_scall_send(&c, k->redis, "task_get", s_on_task, u);
}

int
rl_state_view_job(rl_redis_t *r, const char *key_hash, const char *job,
                  rl_state_job_cb cb, void *arg)
{
    s_read_t *u = s_read_new(r, key_hash, job);
    if (u != NULL) {
        u->k.send = s_job_send;
        u->k.fail = s_job_fail;
        u->job_cb = cb;
        u->arg = arg;
    }
    return s_read_start(u);
}

int
rl_state_view_task(rl_redis_t *r, const char *key_hash, const char *task,
                   rl_state_job_cb cb, void *arg)
{
    s_read_t *u = s_read_new(r, key_hash, task);
    if (u != NULL) {
        u->k.send = s_task_send;
        u->k.fail = s_job_fail;
        u->job_cb = cb;
        u->arg = arg;
    }
    return s_read_start(u);
}

/* --- webhook_deliveries ------------------------------------------------- */

void
rl_state_view_deliveries_parse(const redisReply *r,
                               rl_state_deliveries_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
            r->element[5]->type != REDIS_REPLY_ARRAY) {
            out->tag = RL_STATE_BAD;
            out->why = "deliveries";
            return;
        }
        out->status = rl_redis_reply_str(r->element[1]);
        out->webhook_url = rl_redis_reply_str(r->element[2]);
        out->wh_state = rl_redis_reply_str(r->element[3]);
        out->wh_attempts = r->element[4];
        out->attempts = r->element[5];
    } else if (out->tag != RL_STATE_UNAUTHORIZED &&
               out->tag != RL_STATE_NOT_FOUND && out->tag != RL_STATE_UNKNOWN &&
               out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_dlv_answer(s_read_t *u, const rl_state_deliveries_reply_t *rep)
{
    rl_state_deliveries_cb cb = u->dlv_cb;
    void *arg = u->arg;
    free(u);
    cb(rep, arg);
}

static void
s_dlv_fail(rl_state_acct_chain_t *k, rl_state_tag_t tag, const char *why)
{
    rl_state_deliveries_reply_t rep = {.tag = tag, .why = why};
    s_dlv_answer((s_read_t *)k, &rep);
}

static void
s_on_dlv(redisReply *reply, void *p)
{
    rl_state_deliveries_reply_t rep;
    rl_state_view_deliveries_parse(reply, &rep);
    s_dlv_answer(p, &rep);
}

static int
s_dlv_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_read_t *u = (s_read_t *)k;
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, k->key_hash);
    RL_SCALL_KEY(&c, rl_keys_job, acct, u->id);
    RL_SCALL_KEY(&c, rl_keys_deliveries, acct, u->id);
    rl_scall_arg(&c, acct);
    return rl_scall_send(&c, k->redis, "webhook_deliveries", s_on_dlv, u);
}

int
rl_state_view_deliveries(rl_redis_t *r, const char *key_hash, const char *job,
                         rl_state_deliveries_cb cb, void *arg)
{
    s_read_t *u = s_read_new(r, key_hash, job);
    if (u != NULL) {
        u->k.send = s_dlv_send;
        u->k.fail = s_dlv_fail;
        u->dlv_cb = cb;
        u->arg = arg;
    }
    return s_read_start(u);
}
