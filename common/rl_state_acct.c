/*
 * rl_state_acct - API key resolution and the account scripts.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_acct.h"

#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_scall.h"

typedef struct {
    rl_state_resolve_cb cb;
    void *arg;
} s_resolve_t;

void
rl_state_acct_resolve_parse(const redisReply *r, rl_state_resolve_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK) {
        out->acct = r->elements > 1 ? rl_redis_reply_str(r->element[1]) : NULL;
        if (out->acct == NULL || out->acct[0] == '\0') {
            out->tag = RL_STATE_BAD;
            out->why = "key record without an account";
        }
    } else if (out->tag != RL_STATE_UNAUTHORIZED &&
               out->tag != RL_STATE_UNKNOWN && out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_resolve(redisReply *reply, void *p)
{
    s_resolve_t c = *(s_resolve_t *)p;
    free(p);
    rl_state_resolve_reply_t rep;
    rl_state_acct_resolve_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

int
rl_state_acct_resolve(rl_redis_t *r, const char *key_hash,
                      rl_state_resolve_cb cb, void *arg)
{
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, key_hash);
    s_resolve_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send(&c, r, "key_resolve", s_on_resolve, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

/* --- a script of the key's account ------------------------------------- */

static void
s_on_chain_resolved(const rl_state_resolve_reply_t *rep, void *arg)
{
    rl_state_acct_chain_t *k = arg;
    if (rep->tag != RL_STATE_OK)
        k->fail(k, rep->tag, rep->why);
    else if (k->send(k, rep->acct) != 0)
        k->fail(k, RL_STATE_UNKNOWN, NULL);
}

int
rl_state_acct_chain(rl_state_acct_chain_t *k)
{
    return rl_state_acct_resolve(k->redis, k->key_hash, s_on_chain_resolved, k);
}
