/*
 * rl_rnode - one asynchronous connection to one Redis server, with the
 * deadlines, reconnect backoff, AUTH, LOADING handling and NOSCRIPT
 * fallback rl_redis.h describes. Internal to common/: rl_redis.c runs
 * one in single-node mode, rl_rcluster.c one per master of a cluster.
 *
 * Beyond what rl_redis.h says of a connection, a command sent here may
 * ask for two more things:
 *  - asking: ASKING is sent right before it (an ASK redirection), and
 *    again before the EVAL that follows a NOSCRIPT.
 *  - wait_replicas N > 0: WAIT N T is pipelined right after it (and
 *    after the EVAL that follows a NOSCRIPT), T being half the command
 *    deadline. Its reply is kept until WAIT answers: when WAIT counts N
 *    replicas or more the callback gets the reply; when it counts fewer,
 *    errs, or never answers (connection lost or deadline passed), the
 *    callback gets NULL and stats.wait_short counts one. A reply saying
 *    the command did not run (MOVED, ASK, TRYAGAIN, CLUSTERDOWN,
 *    NOSCRIPT, READONLY, MASTERDOWN) is passed on at once: there is
 *    nothing to make durable. WAIT blocks the connection while it waits,
 *    so with fewer replicas than N every command queued behind it is
 *    delayed by up to T.
 * The callback contract is rl_redis.h's: exactly once per accepted
 * command, reply borrowed, NULL for "outcome unknown".
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_RNODE_H
#define RL_RNODE_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_lua.h"
#include "rl_redis.h"

typedef struct rl_rnode rl_rnode_t;

/* One command as the node sends it. */
typedef struct {
    int argc;                      /* > 0 */
    const char *const *argv;       /* the arguments */
    const size_t *lens;            /* NULL: NUL-terminated; scripts: set */
    const rl_lua_source_t *script; /* argv is EVALSHA sha numkeys ...: on
                                      NOSCRIPT, EVAL this source */
    int wait_replicas;             /* > 0: WAIT for as many replicas */
    bool asking;                   /* ASKING before it */
} rl_rnode_cmd_t;

/* A connection to opts->host:port (opts->cluster and wait_replicas are
 * not read), opened in the background. Returns it (caller owns), or NULL
 * on a bad port or timeout. */
rl_rnode_t *rl_rnode_new(struct event_base *base, const rl_redis_opts_t *opts);

/* Answers every pending command NULL, disconnects and frees. NULL-safe,
 * sets *p to NULL. Must not run inside one of this node's callbacks. */
void rl_rnode_destroy(rl_rnode_t **p);

/* As rl_redis_on_state, rl_redis_on_drained, rl_redis_pending,
 * rl_redis_connected, rl_redis_answering and rl_redis_stats, for this
 * one connection. */
void rl_rnode_on_state(rl_rnode_t *n, rl_redis_state_cb cb, void *arg);
void rl_rnode_on_drained(rl_rnode_t *n, rl_redis_drained_cb cb, void *arg);
size_t rl_rnode_pending(const rl_rnode_t *n);
bool rl_rnode_connected(const rl_rnode_t *n);
bool rl_rnode_answering(const rl_rnode_t *n);
void rl_rnode_stats(const rl_rnode_t *n, rl_redis_stats_t *out);

/* Sends cmd (copied). Returns 0 (cb, which may be NULL, will be called
 * once) or -1 when the connection is not up (cb is not called). */
int rl_rnode_send(rl_rnode_t *n, const rl_rnode_cmd_t *cmd, rl_redis_cb cb,
                  void *arg);

/* The address the node connects to (borrowed). */
const char *rl_rnode_host(const rl_rnode_t *n);
int rl_rnode_port(const rl_rnode_t *n);

#endif
