/*
 * rl_state_queue - the typed calls of the dispatch queue's scripts
 * (rl_state.h has what they share).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_QUEUE_H
#define RL_STATE_QUEUE_H

#include <stddef.h>

#include "rl_redis.h"
#include "rl_state.h"

/* tag: OK (refs: the refs taken, possibly none), UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;     /* the answer */
    const char *why;        /* BAD: what was wrong */
    const redisReply *refs; /* OK: array of "A|J" strings (borrowed) */
} rl_state_take_reply_t;

typedef void (*rl_state_take_cb)(const rl_state_take_reply_t *rep, void *arg);

/* Moves up to n refs from partition's queue to its dispatched set, each with a
 * claim deadline claim_timeout_ms away (dispatch_take.lua). */
int rl_state_queue_take(rl_redis_t *r, int partition, long long n,
                        long long claim_timeout_ms, rl_state_take_cb cb,
                        void *arg);

void rl_state_queue_take_parse(const redisReply *r, rl_state_take_reply_t *out);

#endif
