/*
 * rl_state_keys - the typed calls of the scripts that read or change
 * every API key of an account: the account view (account_get.lua: the
 * account, its keys, a page of its ledger) and a key's revocation
 * (key_revoke.lua). rl_state.h has what they share.
 *
 * Such a script touches the record of each of the account's keys, and
 * their names come from the account's key index. So each call resolves
 * the caller's key to its account (rl_state_acct_chain), reads the index
 * (HGETALL of one key), and sends the script with every record in KEYS
 * and the index as read in ARGV. The script compares the index with what
 * it was given and answers "changed" when a key was added in between;
 * the call then reads the index again, up to RL_STATE_KEYS_TRIES times
 * (BAD after that). An account has at most RL_STATE_KEYS_MAX keys here
 * (its index larger: BAD).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_KEYS_H
#define RL_STATE_KEYS_H

#include "rl_redis.h"
#include "rl_state.h"

#define RL_STATE_KEYS_TRIES 3 /* index reads before giving up */
#define RL_STATE_KEYS_MAX 64  /* keys of one account a call declares */

/* tag: OK (the rest), UNAUTHORIZED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;            /* the answer */
    const char *why;               /* BAD: what was wrong */
    const char *acct;              /* OK: the account id */
    const redisReply *acct_fields; /* array: account field, value, ... */
    const redisReply *keys;        /* array: key id, prefix, created_at,
                                      revoked_at ("" none), ... */
    const redisReply *ledger;      /* array: entry JSON, newest first */
    long long next;                /* the cursor after the page, 0: no more */
} rl_state_acct_get_reply_t;

typedef void (*rl_state_acct_get_cb)(const rl_state_acct_get_reply_t *rep,
                                     void *arg);

/* The caller's account, its keys and count ledger entries older than
 * position cursor counted from the oldest (-1: from the newest; count
 * 0: no ledger). */
int rl_state_keys_account(rl_redis_t *r, const char *key_hash, long long cursor,
                          long long count, rl_state_acct_get_cb cb, void *arg);

/* tag: OK (revoked now or before), UNAUTHORIZED, NOT_FOUND, LAST_KEY
 * (the last active key stays), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
} rl_state_key_revoke_reply_t;

typedef void (*rl_state_key_revoke_cb)(const rl_state_key_revoke_reply_t *rep,
                                       void *arg);

/* Revokes key `key_id` of the caller's account. */
int rl_state_keys_revoke(rl_redis_t *r, const char *key_hash,
                         const char *key_id, rl_state_key_revoke_cb cb,
                         void *arg);

/* Parsers of the replies above (the calls use them; unit tests too). */
void rl_state_keys_account_parse(const redisReply *r,
                                 rl_state_acct_get_reply_t *out);
void rl_state_keys_revoke_parse(const redisReply *r,
                                rl_state_key_revoke_reply_t *out);

#endif
