/*
 * rl_state - what every typed script call shares: the tag of a reply
 * and the field/value lists replies carry.
 *
 * Each Lua script of common/lua has one C function (rl_state_job.h,
 * rl_state_outbox.h, rl_state_acct.h, rl_state_sweep.h, ...) taking a struct
 * of arguments and answering a parsed reply struct to a typed callback,
 * so no caller builds an argument vector, counts KEYS or compares reply
 * tags as strings. Every key a script touches is built by that function
 * (common/rl_keys.h) and declared in KEYS; the scripts make no key name.
 *
 * A reply struct always opens with its tag: RL_STATE_UNKNOWN when there
 * was no reply (the outcome is unknown: timeout, disconnect; every
 * mutating script is safe to send again), RL_STATE_BAD for an error
 * reply or one of an unexpected shape (why says what), else the
 * script's own answers. Strings and lists in a reply struct are borrowed
 * from the Redis reply: valid during the callback only.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_H
#define RL_STATE_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* Every answer a script gives, over all scripts. */
typedef enum {
    RL_STATE_UNKNOWN = 0, /* no reply: outcome unknown */
    RL_STATE_BAD,         /* an error reply or an unexpected one */
    RL_STATE_OK,
    RL_STATE_STALE,         /* a fenced or token write refused */
    RL_STATE_REFUSED,       /* a claim refused (why: its reason) */
    RL_STATE_UNAUTHORIZED,  /* the API key is unknown or revoked */
    RL_STATE_NOT_FOUND,     /* no such job, task or key */
    RL_STATE_FORBIDDEN,     /* a task of another account */
    RL_STATE_REPLAY,        /* an idempotent replay of an accept */
    RL_STATE_RATE_LIMITED,  /* the key's bucket is empty */
    RL_STATE_CREDITS,       /* the balance is below the price */
    RL_STATE_CONCURRENCY,   /* too many active jobs */
    RL_STATE_IDEM_CONFLICT, /* an idempotency key with another body */
    RL_STATE_COLLISION,     /* the new job id exists */
    RL_STATE_EXISTS,        /* the account or key exists */
    RL_STATE_TOO_MANY,      /* the account has its most keys */
    RL_STATE_LAST_KEY,      /* the last active key cannot be revoked */
    RL_STATE_NOT_TERMINAL,  /* a redelivery of a job not finished */
    RL_STATE_NO_WEBHOOK,    /* a redelivery of a job without webhook */
    RL_STATE_SKIPPED,       /* a sweep whose lock another process holds */
    RL_STATE_CHANGED,       /* the keys a call declared from a lookup are
                               not all there are any more: look again */
    RL_STATE_ALIVE,         /* a worker the reaper read as dead renewed */
} rl_state_tag_t;

/* A flat list of field/value pairs (HGETALL's shape) inside a reply,
 * from element `from` on; r NULL: none. Borrowed. */
typedef struct {
    const redisReply *r; /* the array holding them */
    size_t from;         /* index of the first field name */
} rl_state_fields_t;

/* The value of field `name` in f, or NULL. */
const char *rl_state_field(const rl_state_fields_t *f, const char *name);

/* The tag of reply r: a status or string reply's text, or an array's
 * first element, named as above. Unknown words, errors and other shapes
 * are RL_STATE_BAD with *why set (the error's text, or "unexpected
 * reply"); NULL is RL_STATE_UNKNOWN. why may be NULL. */
rl_state_tag_t rl_state_tag(const redisReply *r, const char **why);

/* The word a script answers for tag ("ok", "stale", ...). */
const char *rl_state_tag_name(rl_state_tag_t tag);

/* Element i of array r as text (a string, or an integer formatted into
 * buf of len bytes), or NULL when r has no such element of those types. */
const char *rl_state_text(const redisReply *r, size_t i, char *buf, size_t len);

/* Element i of array r as a number: 0, or -1 (*out untouched). */
int rl_state_ll(const redisReply *r, size_t i, long long *out);

#endif
