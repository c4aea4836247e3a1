/*
 * rl_scall - builds the command of one embedded Lua script: its KEYS,
 * each made by an rl_keys builder into storage of the call's own, then
 * its ARGV (strings, or numbers formatted here), and sends it with
 * rl_redis_script(). The typed script functions (rl_state_*.c) use it,
 * so that every key a script touches is built in C, declared in KEYS,
 * and no caller counts positions in an argument vector.
 *
 * A key or a number that does not fit marks the call failed: sending it
 * then answers -1 without a command (ids are checked before they reach
 * here, so that means a programmer error or hostile input, never a cut
 * key). Keys must all come before the first argument (asserted), and at
 * most RL_SCALL_MAX_KEYS keys and RL_REDIS_MAX_ARGS - 1 arguments in all
 * fit (asserted: the callers' batches are sized below them).
 *
 * An rl_scall_t is large (about 35 KB): it lives on the stack of the
 * function that sends it, and nothing of it is needed after the send
 * (hiredis copies the command).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_SCALL_H
#define RL_SCALL_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_redis.h"

#define RL_SCALL_MAX_KEYS 128     /* keys one call declares */
#define RL_SCALL_MAX_NUMS 32      /* numbers it formats itself */
#define RL_SCALL_ARENA (32 << 10) /* bytes of their text */

typedef struct {
    const char *argv[RL_REDIS_MAX_ARGS]; /* keys, then the arguments */
    size_t lens[RL_REDIS_MAX_ARGS];      /* their lengths */
    int nkeys;                           /* keys so far */
    int argc;                            /* keys and arguments so far */
    int nnums;                           /* number buffers used */
    bool failed;                         /* a key or number did not fit */
    size_t used;                         /* bytes of arena taken */
    char arena[RL_SCALL_ARENA];          /* the keys' text, one after another */
    char nums[RL_SCALL_MAX_NUMS][RL_FMT_DEC_LEN]; /* the numbers' text */
} rl_scall_t;

/* Starts an empty call. */
void rl_scall_init(rl_scall_t *c);

/* The buffer (RL_KEY_MAX bytes) of the next key, for a builder to write;
 * rl_scall_key_done() then declares it. RL_SCALL_KEY() does both. */
char *rl_scall_key_buf(rl_scall_t *c);

/* Declares the key written into the buffer rl_scall_key_buf() gave; rc
 * is the builder's answer (0, or -1: the call is marked failed). */
void rl_scall_key_done(rl_scall_t *c, int rc);

/* Builds a key with the rl_keys builder fn(buf, len, ...) and declares
 * it: RL_SCALL_KEY(&c, rl_keys_job, acct, job). */
#define RL_SCALL_KEY(c, fn, ...)                                               \
    rl_scall_key_done((c), fn(rl_scall_key_buf(c), RL_KEY_MAX, __VA_ARGS__))

/* Declares a key already built (copied). */
void rl_scall_key(rl_scall_t *c, const char *key);

/* Appends an argument (borrowed: it must live until rl_scall_send()). */
void rl_scall_arg(rl_scall_t *c, const char *s);

/* Appends a binary-safe argument of len bytes (borrowed). */
void rl_scall_arg_len(rl_scall_t *c, const char *s, size_t len);

/* Appends a decimal number (formatted into the call). */
void rl_scall_arg_ll(rl_scall_t *c, long long v);

/* Sends the call as the embedded script `name` (rl_redis_script). cb may
 * be NULL. Returns 0 (cb will be called once) or -1 when the call failed
 * to build or Redis is not connected (cb is not called). */
int rl_scall_send(rl_scall_t *c, rl_redis_t *r, const char *name,
                  rl_redis_cb cb, void *arg);

/* rl_scall_send() for a write an answer depends on (an accept behind a
 * 202, a terminal write, a ledger movement): with [redis] wait_replicas,
 * answered only once that many replicas have it, else NULL
 * (rl_redis_script_durable). */
int rl_scall_send_durable(rl_scall_t *c, rl_redis_t *r, const char *name,
                          rl_redis_cb cb, void *arg);

#endif
