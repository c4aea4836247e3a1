/*
 * rl_state_outbox - the typed calls of the webhook outbox scripts that
 * record and defer attempts (rl_state.h has what they share).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_OUTBOX_H
#define RL_STATE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_redis.h"
#include "rl_state.h"

#define RL_STATE_DONE_MAX 25  /* attempts one outbox_done_many records */
#define RL_STATE_CLAIM_MAX 24 /* refs one outbox_claim names (4 keys each) */

/* One webhook attempt to record (outbox_done.lua). */
typedef struct {
    const char *acct;      /* the job's account id */
    const char *job;       /* its id */
    const char *status;    /* the job status it delivered */
    const char *token;     /* claim token, "" for a fail-open delivery */
    const char *outcome;   /* "delivered" | "retry" | "failed" */
    long long delay_ms;    /* retry: until the next attempt */
    const char *json;      /* the attempt record */
    long long dedup_ttl_s; /* how long "delivered" holds */
    bool fail_open;        /* made without a claim, Redis away */
} rl_state_record_t;

/* tag: OK, STALE, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
} rl_state_done_reply_t;

typedef void (*rl_state_done_cb)(const rl_state_done_reply_t *rep, void *arg);

int rl_state_outbox_done(rl_redis_t *r, const rl_state_record_t *rec,
                         rl_state_done_cb cb, void *arg);

/* Several attempts in one call (outbox_done_many.lua), each recorded as
 * outbox_done would: n <= RL_STATE_DONE_MAX. */
typedef struct {
    rl_state_tag_t tag;                            /* OK (each has its own), or
                                                      UNKNOWN or BAD for all */
    const char *why;                               /* BAD: what was wrong */
    size_t n;                                      /* answers (OK) */
    rl_state_done_reply_t each[RL_STATE_DONE_MAX]; /* in order */
} rl_state_done_many_reply_t;

typedef void (*rl_state_done_many_cb)(const rl_state_done_many_reply_t *rep,
                                      void *arg);

int rl_state_outbox_done_many(rl_redis_t *r, const rl_state_record_t *recs,
                              size_t n, rl_state_done_many_cb cb, void *arg);

/* Pushes back an entry claimed under token by delay_ms without an
 * attempt (outbox_defer.lua). tag: OK, STALE, UNKNOWN or BAD. cb may be
 * NULL. */
int rl_state_outbox_defer(rl_redis_t *r, const char *acct, const char *job,
                          const char *token, long long delay_ms,
                          rl_state_done_cb cb, void *arg);

void rl_state_outbox_done_parse(const redisReply *r,
                                rl_state_done_reply_t *out);

/* --- claims -------------------------------------------------------------- */

/* tag: OK (list: an array, borrowed), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;
    const char *why;
    const redisReply *list;
} rl_state_list_reply_t;

typedef void (*rl_state_list_cb)(const rl_state_list_reply_t *rep, void *arg);

/* Up to limit refs of partition's outbox due now (outbox_due.lua). */
int rl_state_outbox_due(rl_redis_t *r, int partition, long long limit,
                        rl_state_list_cb cb, void *arg);

/* Claims refs of one partition (outbox_claim.lua): a ref of another
 * partition, or malformed, is passed unnamed and dropped by the script.
 * The reply's list holds an entry {ref, token, key hash, field, value,
 * ...} per entry claimed (deliverer/delivery.h reads them). */
typedef struct {
    int partition;
    const char *const *refs;
    size_t nrefs; /* <= RL_STATE_CLAIM_MAX */
    long long lease_ms;
    long long dedup_ttl_s;
    const char *const *fields; /* the job fields to read */
    size_t nfields;
} rl_state_oclaim_args_t;

int rl_state_outbox_claim(rl_redis_t *r, const rl_state_oclaim_args_t *a,
                          rl_state_list_cb cb, void *arg);

/* The sealed signing key in the record of the API key whose hash is
 * key_hash (HGET): tag OK with sealed ("" when the record has none),
 * UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;
    const char *why;
    const char *sealed;
} rl_state_sealed_reply_t;

typedef void (*rl_state_sealed_cb)(const rl_state_sealed_reply_t *rep,
                                   void *arg);

int rl_state_key_sealed(rl_redis_t *r, const char *key_hash,
                        rl_state_sealed_cb cb, void *arg);

#endif
