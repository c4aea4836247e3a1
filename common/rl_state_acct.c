/*
 * rl_state_acct - API key resolution and the account scripts.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_acct.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_scall.h"

/* The string arguments a write copies: account_webhooks' four (signing,
 * schedule, rotate, sealed secret), key_create's four (named below). */
#define S_ACCT_ARGS 4
#define S_WH_ARGS 4
enum { S_KC_NEW_HASH, S_KC_SEALED, S_KC_ID, S_KC_PREFIX, S_KC_ARGS };

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

/* --- account_webhooks, key_create --------------------------------------- */

/* An account write in flight: the key's lookup, then the script, with
 * the caller's arguments copied (owned). */
typedef struct {
    rl_state_acct_chain_t k;      /* first: the chain hands it back */
    rl_state_webhooks_cb wh_cb;   /* account_webhooks */
    rl_state_key_create_cb kc_cb; /* key_create */
    void *arg;                    /* theirs */
    char *s[S_ACCT_ARGS];         /* string arguments, in script order */
    long long n;                  /* the numeric one */
} s_write_t;

static s_write_t *
s_write_new(rl_redis_t *r, const char *key_hash, const char *const *s,
            size_t ns)
{
    assert(ns <= S_ACCT_ARGS);
    s_write_t *u = rl_calloc(1, sizeof *u);
    u->k.redis = r;
    if (rl_fmt(u->k.key_hash, sizeof u->k.key_hash, "%s", key_hash) != 0) {
        free(u);
        return NULL;
    }
    for (size_t i = 0; i < ns; i++)
        u->s[i] = rl_strdup(s[i]);
    return u;
}

static void
s_write_free(s_write_t *u)
{
    for (size_t i = 0; i < S_ACCT_ARGS; i++) {
        if (u->s[i] != NULL) {
            /* a sealed secret among them: not left in freed memory */
            explicit_bzero(u->s[i], strlen(u->s[i]));
            free(u->s[i]);
        }
    }
    free(u);
}

static int
s_write_start(s_write_t *u)
{
    if (u == NULL)
        return -1;
    if (rl_state_acct_chain(&u->k) != 0) {
        s_write_free(u);
        return -1;
    }
    return 0;
}

void
rl_state_acct_webhooks_parse(const redisReply *r,
                             rl_state_webhooks_reply_t *out)
{
    long long stored = 0, has = 0;
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 6) {
            out->tag = RL_STATE_BAD;
            out->why = "account_webhooks";
            return;
        }
        out->signing = rl_redis_reply_str(r->element[1]);
        out->schedule = rl_redis_reply_str(r->element[2]);
        (void)rl_redis_reply_ll(r->element[3], &stored);
        (void)rl_redis_reply_ll(r->element[4], &has);
        out->stored = stored != 0;
        out->has_secret = has != 0;
        out->prev_until = rl_redis_reply_str(r->element[5]);
    } else if (out->tag != RL_STATE_UNAUTHORIZED &&
               out->tag != RL_STATE_UNKNOWN && out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_wh_answer(s_write_t *u, const rl_state_webhooks_reply_t *rep)
{
    rl_state_webhooks_cb cb = u->wh_cb;
    void *arg = u->arg;
    s_write_free(u);
    cb(rep, arg);
}

static void
s_wh_fail(rl_state_acct_chain_t *k, rl_state_tag_t tag, const char *why)
{
    rl_state_webhooks_reply_t rep = {.tag = tag, .why = why};
    s_wh_answer((s_write_t *)k, &rep);
}

static void
s_on_wh(redisReply *reply, void *p)
{
    rl_state_webhooks_reply_t rep;
    rl_state_acct_webhooks_parse(reply, &rep);
    s_wh_answer(p, &rep);
}

static int
s_wh_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_write_t *u = (s_write_t *)k;
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, k->key_hash);
    RL_SCALL_KEY(&c, rl_keys_acct, acct);
    for (size_t i = 0; i < S_WH_ARGS; i++)
        rl_scall_arg(&c, u->s[i]);
    rl_scall_arg_ll(&c, u->n);
    rl_scall_arg(&c, acct);
    return rl_scall_send(&c, k->redis, "account_webhooks", s_on_wh, u);
}

int
rl_state_acct_webhooks(rl_redis_t *r, const rl_state_webhooks_args_t *a,
                       rl_state_webhooks_cb cb, void *arg)
{
    const char *s[S_WH_ARGS] = {a->signing, a->schedule, a->rotate ? "1" : "0",
                                a->sealed};
    s_write_t *u = s_write_new(r, a->key_hash, s, S_WH_ARGS);
    if (u != NULL) {
        u->k.send = s_wh_send;
        u->k.fail = s_wh_fail;
        u->wh_cb = cb;
        u->arg = arg;
        u->n = a->grace_ms;
    }
    return s_write_start(u);
}

void
rl_state_acct_key_create_parse(const redisReply *r,
                               rl_state_key_create_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag != RL_STATE_OK && out->tag != RL_STATE_UNAUTHORIZED &&
        out->tag != RL_STATE_TOO_MANY && out->tag != RL_STATE_UNKNOWN &&
        out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_kc_answer(s_write_t *u, const rl_state_key_create_reply_t *rep)
{
    rl_state_key_create_cb cb = u->kc_cb;
    void *arg = u->arg;
    s_write_free(u);
    cb(rep, arg);
}

static void
s_kc_fail(rl_state_acct_chain_t *k, rl_state_tag_t tag, const char *why)
{
    rl_state_key_create_reply_t rep = {.tag = tag, .why = why};
    s_kc_answer((s_write_t *)k, &rep);
}

static void
s_on_kc(redisReply *reply, void *p)
{
    rl_state_key_create_reply_t rep;
    rl_state_acct_key_create_parse(reply, &rep);
    s_kc_answer(p, &rep);
}

static int
s_kc_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_write_t *u = (s_write_t *)k;
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, k->key_hash);
    RL_SCALL_KEY(&c, rl_keys_apikey, u->s[S_KC_NEW_HASH]);
    RL_SCALL_KEY(&c, rl_keys_acct_keys, acct);
    rl_scall_arg(&c, u->s[S_KC_SEALED]);
    rl_scall_arg(&c, u->s[S_KC_ID]);
    rl_scall_arg(&c, u->s[S_KC_PREFIX]);
    rl_scall_arg_ll(&c, u->n);
    rl_scall_arg(&c, acct);
    rl_scall_arg(&c, u->s[S_KC_NEW_HASH]);
    return rl_scall_send(&c, k->redis, "key_create", s_on_kc, u);
}

int
rl_state_acct_key_create(rl_redis_t *r, const rl_state_key_create_args_t *a,
                         rl_state_key_create_cb cb, void *arg)
{
    const char *s[S_KC_ARGS] = {[S_KC_NEW_HASH] = a->new_hash,
                                [S_KC_SEALED] = a->sealed,
                                [S_KC_ID] = a->id,
                                [S_KC_PREFIX] = a->prefix};
    s_write_t *u = s_write_new(r, a->key_hash, s, S_KC_ARGS);
    if (u != NULL) {
        u->k.send = s_kc_send;
        u->k.fail = s_kc_fail;
        u->kc_cb = cb;
        u->arg = arg;
        u->n = a->max_keys;
    }
    return s_write_start(u);
}

/* --- account_create ---------------------------------------------------- */

typedef struct {
    rl_state_acct_create_cb cb;
    void *arg;
} s_create_t;

void
rl_state_acct_create_parse(const redisReply *r,
                           rl_state_acct_create_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag != RL_STATE_OK && out->tag != RL_STATE_EXISTS &&
        out->tag != RL_STATE_UNKNOWN && out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

static void
s_on_create(redisReply *reply, void *p)
{
    s_create_t c = *(s_create_t *)p;
    free(p);
    rl_state_acct_create_reply_t rep;
    rl_state_acct_create_parse(reply, &rep);
    c.cb(&rep, c.arg);
}

bool
rl_state_acct_create_build(rl_scall_t *c, const rl_state_acct_create_args_t *a)
{
    rl_scall_init(c);
    RL_SCALL_KEY(c, rl_keys_apikey, a->key_hash);
    RL_SCALL_KEY(c, rl_keys_acct, a->acct);
    RL_SCALL_KEY(c, rl_keys_acct_keys, a->acct);
    RL_SCALL_KEY(c, rl_keys_accounts, rl_keys_partition(a->acct));
    RL_SCALL_KEY(c, rl_keys_ledger, a->acct);
    rl_scall_arg(c, a->acct);
    rl_scall_arg_ll(c, a->credits);
    rl_scall_arg(c, a->sealed);
    rl_scall_arg(c, a->key_id);
    rl_scall_arg(c, a->prefix);
    rl_scall_arg(c, a->key_hash);
    return !c->failed;
}

int
rl_state_acct_create(rl_redis_t *r, const rl_state_acct_create_args_t *a,
                     rl_state_acct_create_cb cb, void *arg)
{
    rl_scall_t c;
    if (!rl_state_acct_create_build(&c, a))
        return -1;
    s_create_t *u = rl_malloc(sizeof *u);
    u->cb = cb;
    u->arg = arg;
    if (rl_scall_send_durable(&c, r, "account_create", s_on_create, u) != 0) {
        free(u);
        return -1;
    }
    return 0;
}
