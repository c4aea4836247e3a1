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

#include <stdbool.h>

#include "rl_keys.h"
#include "rl_redis.h"
#include "rl_scall.h"
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

/* A call that starts from an API key: key_resolve.lua, then the script
 * of the account it names. A typed call embeds this as the first member
 * of its own context (its callback, its arguments copied) and sets:
 *
 *   send(k, acct): builds the script's keys for acct and sends it, its
 *     reply handler answering the caller and freeing the context;
 *     returns 0, or -1 when nothing was sent (then fail is called);
 *   fail(k, tag, why): answers the caller a reply of tag (UNAUTHORIZED,
 *     UNKNOWN or BAD: the lookup's, or UNKNOWN when the send failed)
 *     and frees the context.
 *
 * The script checks the key record again (its KEYS[1]) against the
 * account, so a key revoked in between is refused there. */
typedef struct rl_state_acct_chain rl_state_acct_chain_t;
struct rl_state_acct_chain {
    int (*send)(rl_state_acct_chain_t *k, const char *acct); /* as above */
    void (*fail)(rl_state_acct_chain_t *k, rl_state_tag_t tag,
                 const char *why); /* as above */
    rl_redis_t *redis;             /* where both run */
    char key_hash[RL_KEY_MAX];     /* SHA-256 (hex) of the API key */
};

/* Starts the lookup of k (taken: freed through send's handler or fail).
 * Returns 0, or -1 when the lookup could not be sent: nothing is
 * answered then and the caller still owns k. */
int rl_state_acct_chain(rl_state_acct_chain_t *k);

/* The account's webhook settings (account_webhooks.lua): "" keeps a
 * setting. sealed, a fresh sealed secret or "", is stored on a rotation,
 * or when a scheme that signs with a secret is chosen and the account
 * has none; a rotated secret keeps signing for grace_ms. */
typedef struct {
    const char *key_hash; /* SHA-256 (hex) of the caller's API key */
    const char *signing;  /* creativeai|standard|both, or "" */
    const char *schedule; /* default|long, or "" */
    bool rotate;          /* rotate the secret */
    const char *sealed;   /* the new sealed secret, or "" */
    long long grace_ms;   /* how long a rotated secret keeps signing */
} rl_state_webhooks_args_t;

/* tag: OK (the rest), UNAUTHORIZED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;     /* the answer */
    const char *why;        /* BAD: what was wrong */
    const char *signing;    /* OK: the scheme now */
    const char *schedule;   /* the retry schedule now */
    bool stored;            /* the new secret was stored */
    bool has_secret;        /* the account has a secret */
    const char *prev_until; /* the rotated secret's expiry (ms, "" none) */
} rl_state_webhooks_reply_t;

typedef void (*rl_state_webhooks_cb)(const rl_state_webhooks_reply_t *rep,
                                     void *arg);

int rl_state_acct_webhooks(rl_redis_t *r, const rl_state_webhooks_args_t *a,
                           rl_state_webhooks_cb cb, void *arg);

/* Another API key for the caller's account (key_create.lua): its record
 * and its place in the account's key index. */
typedef struct {
    const char *key_hash; /* SHA-256 (hex) of the caller's API key */
    const char *new_hash; /* the new key's */
    const char *sealed;   /* the new key sealed (for signing) */
    const char *id;       /* its id */
    const char *prefix;   /* its prefix, for listings */
    long long max_keys;   /* most keys an account has */
} rl_state_key_create_args_t;

/* tag: OK, UNAUTHORIZED, TOO_MANY, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
} rl_state_key_create_reply_t;

typedef void (*rl_state_key_create_cb)(const rl_state_key_create_reply_t *rep,
                                       void *arg);

int rl_state_acct_key_create(rl_redis_t *r, const rl_state_key_create_args_t *a,
                             rl_state_key_create_cb cb, void *arg);

/* A new account with its first API key and a grant (account_create.lua):
 * the key's record, the account, its key index and ledger, and its place
 * among all accounts. */
typedef struct {
    const char *acct;     /* the new account's id */
    const char *key_hash; /* SHA-256 (hex) of its first key */
    const char *sealed;   /* that key sealed (for signing) */
    const char *key_id;   /* its id */
    const char *prefix;   /* its prefix, for listings */
    long long credits;    /* the grant */
} rl_state_acct_create_args_t;

/* tag: OK, EXISTS (the key or the account exists), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
} rl_state_acct_create_reply_t;

typedef void (*rl_state_acct_create_cb)(const rl_state_acct_create_reply_t *rep,
                                        void *arg);

int rl_state_acct_create(rl_redis_t *r, const rl_state_acct_create_args_t *a,
                         rl_state_acct_create_cb cb, void *arg);

/* The call rl_state_acct_create() sends, built into c, for a caller
 * that sends it itself (the launcher's blocking connection: c->argv,
 * c->nkeys, c->argc as EVAL's). False when a key did not fit. */
bool rl_state_acct_create_build(rl_scall_t *c,
                                const rl_state_acct_create_args_t *a);

/* Parsers of the replies above (the calls use them; unit tests too). */
void rl_state_acct_create_parse(const redisReply *r,
                                rl_state_acct_create_reply_t *out);
void rl_state_acct_webhooks_parse(const redisReply *r,
                                  rl_state_webhooks_reply_t *out);
void rl_state_acct_key_create_parse(const redisReply *r,
                                    rl_state_key_create_reply_t *out);

#endif
