/*
 * rl_state_queue - taking refs off the dispatch queue.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_queue.h"

#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_scall.h"

typedef struct {
    rl_state_take_cb cb;
    void *arg;
} s_take_t;

void
rl_state_queue_take_parse(const redisReply *r, rl_state_take_reply_t *out)
{
    memset(out, 0, sizeof *out);
    if (r == NULL) {
        out->tag = RL_STATE_UNKNOWN;
    } else if (r->type == REDIS_REPLY_ARRAY) {
        out->tag = RL_STATE_OK;
        out->refs = r;
    } else {
        out->tag = RL_STATE_BAD;
        out->why = r->type == REDIS_REPLY_ERROR && r->str != NULL
                       ? r->str
                       : "unexpected reply";
    }
}

static void
s_on_take(redisReply *reply, void *p)
{
    s_take_t c = *(s_take_t *)p;
    free(p);
    rl_state_take_reply_t rep;
    rl_state_queue_take_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

int
rl_state_queue_take(rl_redis_t *r, int partition, long long n,
                    long long claim_timeout_ms, rl_state_take_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_queue, partition);
    RL_SCALL_KEY(&c, rl_keys_dispatched, partition);
    rl_scall_arg_ll(&c, n);
    rl_scall_arg_ll(&c, claim_timeout_ms);
    s_take_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send(&c, r, "dispatch_take", s_on_take, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}
