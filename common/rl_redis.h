/*
 * rl_redis - the asynchronous Redis client of every role, on a libevent
 * loop (hiredis async + its libevent adapter), for one Redis server or a
 * Redis Cluster, with what hiredis 0.14 lacks:
 *
 *  - A deadline per command. Replies come back in order, so the oldest
 *    pending command carries the earliest deadline; when it passes, the
 *    connection is taken as stalled: every pending command is answered
 *    with reply NULL ("outcome unknown") and the connection is dropped
 *    and re-opened.
 *  - Reconnection with exponential backoff (100 ms doubling up to the
 *    configured cap), forever.
 *  - Scripts by name: rl_redis_script() sends EVALSHA of an embedded
 *    common/lua script and falls back to EVAL on NOSCRIPT, so a restarted
 *    or flushed Redis needs no reload step.
 *  - Authentication: with a password, AUTH [user] password is the first
 *    command of every connection, and the client is usable (connected,
 *    commands accepted, state callback) only once it succeeded. A
 *    refused AUTH, or a server that answers the first command NOAUTH
 *    because we have no password, is logged as an error (once per streak
 *    of failures), counted (auth_failures), and the connection is closed
 *    and retried with the reconnect backoff.
 *  - A restarted server still loading its dataset answers LOADING
 *    without running the command: that is answered NULL too, and the
 *    connection is dropped and re-opened with the backoff, so no caller
 *    takes it for the command's outcome.
 *  - Durable writes: rl_redis_command_durable() and
 *    rl_redis_script_durable() are for writes an answer depends on. With
 *    wait_replicas N > 0 the client pipelines WAIT N T right after the
 *    command on the same connection (T: half the command deadline) and
 *    calls back with the command's reply only when WAIT counted N
 *    replicas; when it counts fewer, fails, or does not answer, the
 *    callback gets NULL (the write may exist on the master alone:
 *    outcome unknown) and stats.wait_short counts it. With N = 0 they
 *    are rl_redis_command() and rl_redis_script(). WAIT holds the
 *    connection while it waits: while fewer than N replicas answer,
 *    each durable command delays the ones behind it by up to T.
 *
 * Cluster mode (opts.cluster, [redis] cluster, non-empty): the client
 * reads the slot map (CLUSTER SLOTS) from any reachable seed, keeps one
 * connection (all of the above, same credentials) per master, and
 * routes each command by the hash slot (rl_slot.h) of its first key:
 * for rl_redis_script() the first KEY, for rl_redis_command() argument 1
 * (EVAL/EVALSHA: the first KEY). A script with no KEYS, or a command
 * that takes no key (PING, INFO, TIME, ...), goes to any connected
 * master. MOVED (the map is refreshed, at most one refresh in flight)
 * and ASK (ASKING first) are followed to the named node, TRYAGAIN and
 * CLUSTERDOWN are retried after a short backoff, all within the
 * command's deadline, which is set when it is accepted and never
 * extended: when it passes the callback gets NULL. A callback never
 * sees a MOVED, ASK, TRYAGAIN or CLUSTERDOWN reply. NOSCRIPT falls back
 * to EVAL on the node that said it; WAIT goes to the node that ran the
 * command. rl_rcluster.h has the design.
 * What the whole-client calls mean in cluster mode:
 *  - connected: the slot map covers every slot and every master that
 *    serves slots is connected; on_state fires when that changes. A
 *    command whose slot's master is not connected (or with no map yet)
 *    is refused with -1, as a command is while disconnected.
 *  - answering: connected, and every such master answering.
 *  - pending: commands accepted whose callback has not run (the client's
 *    own PINGs and map refreshes are not counted); on_drained fires when
 *    it drops to 0.
 *  - stats: sent, replies, reconnects, auth_failures and wait_short add
 *    up every node's (closed ones included); unknown counts callbacks
 *    given NULL; moved, ask, retries and refreshes are the cluster's.
 *
 * Callbacks: every accepted command calls back exactly once, with the
 * reply (borrowed: valid during the callback only) or NULL when the
 * outcome is unknown (timeout, disconnect, LOADING, WAIT short, client
 * destroyed). Mutating scripts must therefore be safe to run twice.
 *
 * Pending commands: rl_redis_pending() says how many commands await
 * their callback, and rl_redis_on_drained() calls back whenever the
 * last one was answered, so a role that drains before exiting waits for
 * its writes without counting them itself.
 *
 * Failure modes: a command issued while disconnected is refused at once
 * (-1, no callback) so callers can answer 503 instead of queueing.
 * docs/operations.md (Redis Cluster) has the operator's view.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_REDIS_H
#define RL_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/hiredis.h>

#include "rl_config.h"

struct event_base;

typedef struct rl_redis rl_redis_t;

/* reply: borrowed, NULL when the outcome is unknown. */
typedef void (*rl_redis_cb)(redisReply *reply, void *arg);

/* Called on every connect (after scripts are usable) and disconnect. */
typedef void (*rl_redis_state_cb)(bool connected, void *arg);

/* Called when no command is pending any more. */
typedef void (*rl_redis_drained_cb)(void *arg);

/* Where and how to connect. Strings are copied by rl_redis_new(). */
typedef struct {
    const char *host;        /* host name or address */
    int port;                /* 1..65535 */
    long command_timeout_ms; /* deadline of each command, > 0 */
    long reconnect_max_ms;   /* cap of the reconnect backoff */
    const char *username;    /* ACL user; NULL or "": the default user */
    const char *password;    /* NULL or "": no AUTH */
    const char *cluster;     /* NULL or "": one server at host:port; else
                                the seeds "host:port,..." of a cluster */
    int wait_replicas;       /* replicas a durable write waits for */
} rl_redis_opts_t;

/* Opens a connection as opts says on base (a cluster's: one per master);
 * connecting happens in the background. Returns a client (caller owns)
 * or NULL on a bad port, timeout or seed list (logged). */
rl_redis_t *rl_redis_new(struct event_base *base, const rl_redis_opts_t *opts);

/* rl_redis_new() with the [redis] section of cfg (host, port, cluster,
 * deadlines, username, password and wait_replicas). */
rl_redis_t *rl_redis_from_config(struct event_base *base,
                                 const rl_config_t *cfg);

/* Answers every pending command with NULL, disconnects and frees.
 * NULL-safe, sets *p to NULL. */
void rl_redis_destroy(rl_redis_t **p);

/* Registers a callback for connection state changes. */
void rl_redis_on_state(rl_redis_t *r, rl_redis_state_cb cb, void *arg);

/* Registers a callback run after a command's callback returned (the
 * reply NULL included, the client's own commands too) when no command is
 * pending any more; cb NULL unregisters. Not run by rl_redis_destroy. */
void rl_redis_on_drained(rl_redis_t *r, rl_redis_drained_cb cb, void *arg);

/* Commands accepted whose callback has not run yet (the connection's
 * own PING included): what a drain waits for. */
size_t rl_redis_pending(const rl_redis_t *r);

/* True while the connection is up (cluster: see above). */
bool rl_redis_connected(const rl_redis_t *r);

/* True while Redis answers: the connection is up, something was
 * answered on it since it opened (a PING is sent on every connect), and
 * no command has waited more than half its deadline. A stalled server
 * (SIGSTOP, a slow fsync) keeps the TCP connection, and a reconnect to it
 * succeeds in the kernel's backlog, so connected alone does not say it
 * answers. Readiness probes use this. */
bool rl_redis_answering(const rl_redis_t *r);

/* Sends one command given as an argument vector (binary safe; lens may be
 * NULL for NUL-terminated strings). Returns 0 (cb will be called once) or
 * -1 when disconnected (cb is not called). cb may be NULL when the reply
 * does not matter. */
int rl_redis_command(rl_redis_t *r, rl_redis_cb cb, void *arg, int argc,
                     const char **argv, const size_t *lens);

/* rl_redis_command() for a write an answer depends on: with
 * wait_replicas > 0, called back with the reply only once WAIT counted
 * that many replicas, else with NULL (see above). */
int rl_redis_command_durable(rl_redis_t *r, rl_redis_cb cb, void *arg, int argc,
                             const char **argv, const size_t *lens);

/* Most arguments (keys included) one rl_redis_script() call may pass,
 * plus one; more is a programmer error. */
#define RL_REDIS_MAX_ARGS 256

/* Runs the embedded script `name` (common/lua/<name>.lua) with nkeys keys
 * followed by the other arguments in argv (fewer than RL_REDIS_MAX_ARGS).
 * Returns as rl_redis_command; aborts on an unknown script name (a
 * programmer error). */
int rl_redis_script(rl_redis_t *r, const char *name, rl_redis_cb cb, void *arg,
                    int nkeys, int argc, const char **argv, const size_t *lens);

/* rl_redis_script() for a write an answer depends on, confirmed by WAIT
 * as rl_redis_command_durable() (after the EVAL of a NOSCRIPT too). */
int rl_redis_script_durable(rl_redis_t *r, const char *name, rl_redis_cb cb,
                            void *arg, int nkeys, int argc, const char **argv,
                            const size_t *lens);

/* Commands sent, replies received and commands answered "unknown". */
typedef struct {
    unsigned long long sent;
    unsigned long long replies;
    unsigned long long unknown;
    unsigned long long reconnects;
    unsigned long long auth_failures; /* AUTH refused, or NOAUTH */
    unsigned long long wait_short;    /* durable writes WAIT did not confirm */
    unsigned long long moved;         /* cluster: MOVED followed */
    unsigned long long ask;           /* cluster: ASK followed */
    unsigned long long retries;       /* cluster: TRYAGAIN, CLUSTERDOWN */
    unsigned long long refreshes;     /* cluster: CLUSTER SLOTS asked */
} rl_redis_stats_t;
void rl_redis_stats(const rl_redis_t *r, rl_redis_stats_t *out);

/* Helpers for reading replies. rl_redis_reply_str() returns the string of
 * a STRING/STATUS/ERROR reply or NULL; rl_redis_reply_ll() parses an
 * INTEGER or a decimal STRING into *out (0, or -1). */
const char *rl_redis_reply_str(const redisReply *r);
int rl_redis_reply_ll(const redisReply *r, long long *out);

/* The tag of a script reply: the string of its first element ("ok",
 * "unauthorized", ...), or NULL when r is NULL (outcome unknown), not an
 * array, empty, or its first element is not a string. Borrowed from r. */
const char *rl_redis_reply_tag(const redisReply *r);

/* Looks up `field` in a flat array reply of field/value pairs (HGETALL
 * shape) starting at index `from`; returns the value string or NULL. */
const char *rl_redis_reply_field(const redisReply *r, size_t from,
                                 const char *field);

#endif
