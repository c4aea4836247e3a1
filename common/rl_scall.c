/*
 * rl_scall - the KEYS and ARGV of one script call.
 * SPDX-License-Identifier: MIT
 */
#include "rl_scall.h"

#include <assert.h>
#include <string.h>

void
rl_scall_init(rl_scall_t *c)
{
    c->nkeys = 0;
    c->argc = 0;
    c->nnums = 0;
    c->failed = false;
    c->used = 0;
}

char *
rl_scall_key_buf(rl_scall_t *c)
{
    assert(c->nkeys < RL_SCALL_MAX_KEYS && c->argc == c->nkeys &&
           RL_SCALL_ARENA - c->used >= RL_KEY_MAX);
    return c->arena + c->used;
}

void
rl_scall_key_done(rl_scall_t *c, int rc)
{
    assert(c->nkeys < RL_SCALL_MAX_KEYS && c->argc == c->nkeys &&
           c->argc < RL_REDIS_MAX_ARGS - 1);
    char *k = c->arena + c->used;
    size_t n = strlen(k);
    c->nkeys++;
    c->used += n + 1;
    if (rc != 0)
        c->failed = true;
    c->argv[c->argc] = k;
    c->lens[c->argc++] = n;
}

void
rl_scall_key(rl_scall_t *c, const char *key)
{
    char *k = rl_scall_key_buf(c);
    size_t n = strlen(key);
    int rc = -1;
    if (n < RL_KEY_MAX) {
        memcpy(k, key, n + 1);
        rc = 0;
    } else {
        k[0] = '\0';
    }
    rl_scall_key_done(c, rc);
}

void
rl_scall_arg_len(rl_scall_t *c, const char *s, size_t len)
{
    assert(c->argc < RL_REDIS_MAX_ARGS - 1);
    c->argv[c->argc] = s;
    c->lens[c->argc++] = len;
}

void
rl_scall_arg(rl_scall_t *c, const char *s)
{
    rl_scall_arg_len(c, s, strlen(s));
}

void
rl_scall_arg_ll(rl_scall_t *c, long long v)
{
    assert(c->nnums < RL_SCALL_MAX_NUMS);
    char *n = c->nums[c->nnums++];
    rl_fmt_dec(n, v);
    rl_scall_arg(c, n);
}

int
rl_scall_send(rl_scall_t *c, rl_redis_t *r, const char *name, rl_redis_cb cb,
              void *arg)
{
    if (c->failed)
        return -1;
    return rl_redis_script(r, name, cb, arg, c->nkeys, c->argc, c->argv,
                           c->lens);
}

int
rl_scall_send_durable(rl_scall_t *c, rl_redis_t *r, const char *name,
                      rl_redis_cb cb, void *arg)
{
    if (c->failed)
        return -1;
    return rl_redis_script_durable(r, name, cb, arg, c->nkeys, c->argc, c->argv,
                                   c->lens);
}
