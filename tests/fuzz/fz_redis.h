/*
 * fz_redis - a fake Redis server in the fuzz target's own loop, so what
 * a role reads back from Redis can be fuzzed through the role's real
 * callbacks. It listens on a free loopback port, answers PING with PONG
 * (rl_redis probes every new connection) and every other command with
 * the reply last set for its name or for all; a role's rl_redis connects
 * to it like to Redis.
 *
 * Replies are written as a small line grammar that always makes one
 * well-formed RESP reply, so every mutation reaches the role:
 *
 *   +TEXT   status        -TEXT   error        :TEXT   integer
 *   $TEXT   bulk string (any bytes but a newline)
 *   _       nil           *N      array of the N items that follow
 *
 * one item per line; an array lacking items is filled with nils, arrays
 * nest at most FZ_REDIS_DEPTH deep and hold at most FZ_REDIS_ITEMS.
 * SPDX-License-Identifier: MIT
 */
#ifndef FZ_REDIS_H
#define FZ_REDIS_H

#include <stddef.h>

#include "fz.h"

#define FZ_REDIS_DEPTH 6   /* hiredis reads at most 7 levels */
#define FZ_REDIS_ITEMS 256 /* items of one array */

struct event_base;
typedef struct fz_redis fz_redis_t;

/* A server on base (caller owns). Aborts when it cannot listen. */
fz_redis_t *fz_redis_new(struct event_base *base);

/* Its port. */
int fz_redis_port(const fz_redis_t *r);

/* Sets the RESP reply (copied) to every command but PING. */
void fz_redis_set_reply(fz_redis_t *r, const char *resp, size_t len);

/* Sets the reply (copied) to the commands of one name: a script's
 * (EVALSHA of common/lua/<name>.lua) or a command's ("HGETALL"); the
 * others keep the reply of fz_redis_set_reply. At most a few names. */
void fz_redis_set_named(fz_redis_t *r, const char *name, const char *resp,
                        size_t len);

/* The commands answered with the reply for all since the last call, and
 * resets the count. */
size_t fz_redis_take_count(fz_redis_t *r);

/* Writes the reply the grammar's lines in `in` describe as RESP (caller
 * frees); *len gets its length. Reads every line of in. */
char *fz_redis_resp(fz_in_t *in, size_t *len);

#endif
