/*
 * rl_rsync - blocking Redis for the command-line tools (the launcher's
 * account creation, readiness wait, and `reelay audit`): hiredis's
 * synchronous API with a timeout on every connect and reply, to one
 * server or to a Redis Cluster, as [redis] says. Never for a role's
 * event loop: it blocks (and sleeps between retries).
 *
 *  - Every connection authenticates as [redis] username with the
 *    password given, then answers PING before it is used.
 *  - Cluster: the slot map is read (CLUSTER SLOTS) from the first seed
 *    that answers, and must cover every slot. A command goes to the
 *    master of its first key's slot (rl_slot.h; no key: any master)
 *    over a connection opened on first use; MOVED re-reads the map and
 *    follows, ASK is followed after ASKING, TRYAGAIN and CLUSTERDOWN are
 *    retried after a short sleep, at most RL_RSYNC_MAX_REDIRECTS times
 *    in all. rl_rsync_each_master() runs a command on every master, for
 *    what spans the key space (SCAN, KEYS, INFO, DBSIZE).
 *  - One server: the same calls, with one connection and no routing.
 *
 * Failure modes: an I/O error or timeout closes that connection (the
 * next command opens it again) and the call returns NULL;
 * rl_rsync_error() says why. A reply is never a redirection.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_RSYNC_H
#define RL_RSYNC_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "rl_config.h"

#define RL_RSYNC_MAX_REDIRECTS 16 /* MOVED, ASK and retries of one call */

typedef struct rl_rsync rl_rsync_t;

/* Connects to the [redis] server or cluster of cfg as its username with
 * `password` (NULL or "": no AUTH), retrying until it answers (a full
 * slot map, for a cluster) or timeout_ms passes; a refused AUTH, or a
 * server that wants a password we lack, fails at once. Returns a client
 * (caller owns), or NULL with the reason in why. */
rl_rsync_t *rl_rsync_connect(const rl_config_t *cfg, const char *password,
                             long timeout_ms, char *why, size_t why_len);

/* Closes every connection and frees. NULL-safe, sets *p to NULL. */
void rl_rsync_destroy(rl_rsync_t **p);

/* Runs one command (lens NULL: NUL-terminated arguments) where its key
 * lives. Returns the reply (caller frees with freeReplyObject), or NULL
 * on an I/O error, timeout or unfollowable redirection. */
redisReply *rl_rsync_command(rl_rsync_t *s, int argc, const char **argv,
                             const size_t *lens);

/* Called with each master's address ("host:port") and its reply
 * (borrowed); a non-zero return stops the walk. */
typedef int (*rl_rsync_each_cb)(const char *addr, const redisReply *reply,
                                void *arg);

/* Runs the command on every master (the one server, when not a
 * cluster). Returns 0 when every master answered and cb returned 0;
 * -1 at the first failure (rl_rsync_error says which) or cb's stop. */
int rl_rsync_each_master(rl_rsync_t *s, int argc, const char **argv,
                         const size_t *lens, rl_rsync_each_cb cb, void *arg);

/* Why the last call failed (borrowed; "" when it did not). */
const char *rl_rsync_error(const rl_rsync_t *s);

/* Redirections followed so far: MOVED and ASK. */
void rl_rsync_redirects(const rl_rsync_t *s, unsigned long *moved,
                        unsigned long *ask);

#endif
