/*
 * rl_state_keys - the account view and a key's revocation, with every
 * key record of the account declared.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_scall.h"
#include "rl_state_acct.h"

_Static_assert(4 + RL_STATE_KEYS_MAX <= RL_SCALL_MAX_KEYS,
               "every key record of an account fits one call's KEYS");
_Static_assert(4 + RL_STATE_KEYS_MAX + 3 + 2 * RL_STATE_KEYS_MAX <
                   RL_REDIS_MAX_ARGS,
               "and its keys and arguments one call");

/* A call in flight: the caller's key resolved, then the account's key
 * index read, then the script (again from the index when it answers
 * "changed"). */
typedef struct {
    rl_state_acct_chain_t k;       /* first: the chain hands it back */
    bool revoke;                   /* key_revoke, else account_get */
    rl_state_acct_get_cb get_cb;   /* account_get */
    rl_state_key_revoke_cb rev_cb; /* key_revoke */
    void *arg;                     /* theirs */
    char acct[RL_KEY_MAX];         /* the account, once resolved */
    char key_id[RL_KEY_MAX];       /* key_revoke: the key to revoke */
    long long cursor;              /* account_get: ledger cursor, -1 */
    long long count;               /* account_get: ledger entries */
    int tries;                     /* index reads so far */
} s_call_t;

/* --- replies ------------------------------------------------------------ */

void
rl_state_keys_account_parse(const redisReply *r, rl_state_acct_get_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    if (out->tag == RL_STATE_OK) {
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 6 ||
            r->element[2]->type != REDIS_REPLY_ARRAY ||
            r->element[3]->type != REDIS_REPLY_ARRAY ||
            r->element[4]->type != REDIS_REPLY_ARRAY) {
            out->tag = RL_STATE_BAD;
            out->why = "account_get";
            return;
        }
        out->acct = rl_redis_reply_str(r->element[1]);
        out->acct_fields = r->element[2];
        out->keys = r->element[3];
        out->ledger = r->element[4];
        (void)rl_redis_reply_ll(r->element[5], &out->next);
    } else if (out->tag != RL_STATE_UNAUTHORIZED &&
               out->tag != RL_STATE_CHANGED && out->tag != RL_STATE_UNKNOWN &&
               out->tag != RL_STATE_BAD) {
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
    }
}

void
rl_state_keys_revoke_parse(const redisReply *r,
                           rl_state_key_revoke_reply_t *out)
{
    memset(out, 0, sizeof *out);
    out->tag = rl_state_tag(r, &out->why);
    switch (out->tag) {
    case RL_STATE_OK:
    case RL_STATE_UNAUTHORIZED:
    case RL_STATE_NOT_FOUND:
    case RL_STATE_LAST_KEY:
    case RL_STATE_CHANGED:
    case RL_STATE_UNKNOWN:
    case RL_STATE_BAD:
        break;
    default:
        out->why = rl_state_tag_name(out->tag);
        out->tag = RL_STATE_BAD;
        break;
    }
}

/* Answers the caller a reply of tag (no script reply) and frees u. */
static void
s_fail(rl_state_acct_chain_t *k, rl_state_tag_t tag, const char *why)
{
    s_call_t *u = (s_call_t *)k;
    void *arg = u->arg;
    if (u->revoke) {
        rl_state_key_revoke_cb cb = u->rev_cb;
        rl_state_key_revoke_reply_t rep = {.tag = tag, .why = why};
        free(u);
        cb(&rep, arg);
    } else {
        rl_state_acct_get_cb cb = u->get_cb;
        rl_state_acct_get_reply_t rep = {.tag = tag, .why = why};
        free(u);
        cb(&rep, arg);
    }
}

static int s_read_index(s_call_t *u);

/* After a script's reply: again from the index when it changed. */
static bool
s_again(s_call_t *u, rl_state_tag_t tag)
{
    if (tag != RL_STATE_CHANGED)
        return false;
    if (u->tries >= RL_STATE_KEYS_TRIES)
        s_fail(&u->k, RL_STATE_BAD, "the key index kept changing");
    else if (s_read_index(u) != 0)
        s_fail(&u->k, RL_STATE_UNKNOWN, NULL);
    return true;
}

static void
s_on_account(redisReply *reply, void *p)
{
    s_call_t *u = p;
    rl_state_acct_get_reply_t rep;
    rl_state_keys_account_parse(reply, &rep);
    if (s_again(u, rep.tag))
        return;
    rl_state_acct_get_cb cb = u->get_cb;
    void *arg = u->arg;
    free(u);
    cb(&rep, arg);
}

static void
s_on_revoke(redisReply *reply, void *p)
{
    s_call_t *u = p;
    rl_state_key_revoke_reply_t rep;
    rl_state_keys_revoke_parse(reply, &rep);
    if (s_again(u, rep.tag))
        return;
    rl_state_key_revoke_cb cb = u->rev_cb;
    void *arg = u->arg;
    free(u);
    cb(&rep, arg);
}

/* --- the script, from the index ----------------------------------------- */

/* The key ids and hashes of the index reply idx (borrowed), n of each;
 * -1 when it is not a flat list of strings, or too long. */
static int
s_index_args(const redisReply *idx, const char **ids, const char **hashes,
             size_t *n)
{
    if (idx->type != REDIS_REPLY_ARRAY || idx->elements % 2 != 0 ||
        idx->elements / 2 > RL_STATE_KEYS_MAX)
        return -1;
    *n = idx->elements / 2;
    for (size_t i = 0; i < *n; i++) {
        ids[i] = rl_redis_reply_str(idx->element[2 * i]);
        hashes[i] = rl_redis_reply_str(idx->element[2 * i + 1]);
        if (ids[i] == NULL || hashes[i] == NULL)
            return -1;
    }
    return 0;
}

static void
s_on_index(redisReply *reply, void *p)
{
    s_call_t *u = p;
    const char *ids[RL_STATE_KEYS_MAX], *hashes[RL_STATE_KEYS_MAX];
    size_t n = 0;
    if (reply == NULL) {
        s_fail(&u->k, RL_STATE_UNKNOWN, NULL);
        return;
    }
    if (s_index_args(reply, ids, hashes, &n) != 0) {
        s_fail(&u->k, RL_STATE_BAD, "malformed key index");
        return;
    }
    rl_scall_t c;
    rl_scall_init(&c);
    RL_SCALL_KEY(&c, rl_keys_apikey, u->k.key_hash);
    RL_SCALL_KEY(&c, rl_keys_acct_keys, u->acct);
    if (!u->revoke) {
        RL_SCALL_KEY(&c, rl_keys_acct, u->acct);
        RL_SCALL_KEY(&c, rl_keys_ledger, u->acct);
    }
    for (size_t i = 0; i < n; i++)
        RL_SCALL_KEY(&c, rl_keys_apikey, hashes[i]);
    rl_scall_arg(&c, u->acct);
    if (u->revoke) {
        rl_scall_arg(&c, u->key_id);
    } else {
        if (u->cursor >= 0)
            rl_scall_arg_ll(&c, u->cursor);
        else
            rl_scall_arg(&c, ""); /* from the newest entry */
        rl_scall_arg_ll(&c, u->count);
    }
    for (size_t i = 0; i < n; i++) {
        rl_scall_arg(&c, ids[i]);
        rl_scall_arg(&c, hashes[i]);
    }
    int rc =
        u->revoke
            ? rl_scall_send(&c, u->k.redis, "key_revoke", s_on_revoke, u)
            : rl_scall_send(&c, u->k.redis, "account_get", s_on_account, u);
    if (rc != 0)
        s_fail(&u->k, RL_STATE_UNKNOWN, NULL);
}

static int
s_read_index(s_call_t *u)
{
    char ks[RL_KEY_MAX];
    if (rl_keys_acct_keys(ks, sizeof ks, u->acct) != 0)
        return -1;
    const char *argv[] = {"HGETALL", ks};
    u->tries++;
    return rl_redis_command(u->k.redis, s_on_index, u, 2, argv, NULL);
}

static int
s_send(rl_state_acct_chain_t *k, const char *acct)
{
    s_call_t *u = (s_call_t *)k;
    if (rl_fmt(u->acct, sizeof u->acct, "%s", acct) != 0)
        return -1;
    return s_read_index(u);
}

static int
s_start(s_call_t *u, rl_redis_t *r, const char *key_hash)
{
    u->k.redis = r;
    u->k.send = s_send;
    u->k.fail = s_fail;
    if (rl_fmt(u->k.key_hash, sizeof u->k.key_hash, "%s", key_hash) != 0 ||
        rl_state_acct_chain(&u->k) != 0) {
        free(u);
        return -1;
    }
    return 0;
}

int
rl_state_keys_account(rl_redis_t *r, const char *key_hash, long long cursor,
                      long long count, rl_state_acct_get_cb cb, void *arg)
{
    s_call_t *u = rl_calloc(1, sizeof *u);
    u->get_cb = cb;
    u->arg = arg;
    u->cursor = cursor;
    u->count = count;
    return s_start(u, r, key_hash);
}

int
rl_state_keys_revoke(rl_redis_t *r, const char *key_hash, const char *key_id,
                     rl_state_key_revoke_cb cb, void *arg)
{
    s_call_t *u = rl_calloc(1, sizeof *u);
    u->revoke = true;
    u->rev_cb = cb;
    u->arg = arg;
    if (rl_fmt(u->key_id, sizeof u->key_id, "%s", key_id) != 0) {
        free(u);
        return -1;
    }
    return s_start(u, r, key_hash);
}
