/*
 * rl_state_acct - the typed calls of the account scripts (rl_state.h
 * has what they share). Every call that starts from an API key first
 * resolves it to its account (rl_state_acct_resolve): the scripts of an
 * account touch keys named after it, which the C side builds and
 * declares in KEYS, and each such script checks the key record again.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_ACCT_H
#define RL_STATE_ACCT_H

#include "rl_redis.h"
#include "rl_state.h"

/* tag: OK (acct set), UNAUTHORIZED (unknown or revoked), UNKNOWN, BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
    const char *acct;   /* OK: the account id */
} rl_state_resolve_reply_t;

typedef void (*rl_state_resolve_cb)(const rl_state_resolve_reply_t *rep,
                                    void *arg);

/* The account of the API key whose SHA-256 (hex) is key_hash
 * (key_resolve.lua). */
int rl_state_acct_resolve(rl_redis_t *r, const char *key_hash,
                          rl_state_resolve_cb cb, void *arg);

void rl_state_acct_resolve_parse(const redisReply *r,
                                 rl_state_resolve_reply_t *out);

#endif
