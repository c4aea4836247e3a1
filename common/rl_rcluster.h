/*
 * rl_rcluster - the Redis Cluster mode of rl_redis: one rl_rnode per
 * master, commands routed by hash slot, redirections followed within
 * each command's deadline. Internal to common/: rl_redis.c runs one when
 * [redis] cluster names seed nodes; rl_redis.h says what callers see.
 *
 * Design:
 *  - The slot map (slot -> master) comes from CLUSTER SLOTS, asked of
 *    any connected node: at start of the seeds, then of the masters it
 *    names. One node connection per master (rl_rnode: deadlines,
 *    backoff, AUTH with the same user and password, LOADING, NOSCRIPT,
 *    WAIT); nodes that serve no slot any more are closed once their
 *    commands are answered.
 *  - A command is copied into a request and sent to the master of its
 *    slot (no slot: any connected master). The request's deadline is
 *    fixed when it is accepted and never extended.
 *  - MOVED: the slot is pointed at the named node at once, a map
 *    refresh is asked for, and the request is sent there. ASK: sent to
 *    the named node after ASKING, the map untouched. TRYAGAIN and
 *    CLUSTERDOWN (the latter also asks for a refresh): sent again after
 *    a short backoff. A request waiting for a node that is still
 *    connecting is retried every tick. At most one refresh is in
 *    flight, and refreshes are at least RL_RCLUSTER_REFRESH_MIN_MS
 *    apart; while not every slot's master is connected the map is asked
 *    for again every RL_RCLUSTER_REFRESH_DOWN_MS (that is how a replica
 *    promoted after its master died is found).
 *  - Deadlines: the first send of a request inherits the node's
 *    deadline (the same length, from the same moment). A request sent
 *    again, or waiting to be, is watched by the cluster's tick: when
 *    its deadline passes its callback gets NULL at once, and a reply
 *    that comes later is dropped.
 *  - A callback never sees MOVED, ASK, TRYAGAIN or CLUSTERDOWN: a
 *    malformed redirection, more than RL_RCLUSTER_MAX_REDIRECTS of them,
 *    or the deadline answer NULL.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_RCLUSTER_H
#define RL_RCLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_redis.h"
#include "rl_rnode.h"

typedef struct rl_rcluster rl_rcluster_t;

/* A cluster client of the seeds in opts->cluster, with opts's deadline,
 * backoff and credentials for every node (opts->host and port are not
 * read). Returns it (caller owns), or NULL when the seed list does not
 * parse (logged) or the deadline is not positive. */
rl_rcluster_t *rl_rcluster_new(struct event_base *base,
                               const rl_redis_opts_t *opts);

/* Answers every pending command NULL, closes every node and frees.
 * NULL-safe, sets *p to NULL. */
void rl_rcluster_destroy(rl_rcluster_t **p);

/* As rl_redis_on_state etc., for the cluster as a whole (rl_redis.h). */
void rl_rcluster_on_state(rl_rcluster_t *c, rl_redis_state_cb cb, void *arg);
void rl_rcluster_on_drained(rl_rcluster_t *c, rl_redis_drained_cb cb,
                            void *arg);
size_t rl_rcluster_pending(const rl_rcluster_t *c);
bool rl_rcluster_connected(const rl_rcluster_t *c);
bool rl_rcluster_answering(const rl_rcluster_t *c);
void rl_rcluster_stats(const rl_rcluster_t *c, rl_redis_stats_t *out);

/* Sends cmd (copied) to the master of slot (-1: any master). Returns 0
 * (cb, which may be NULL, will be called once) or -1 when that master
 * is not connected or no map is known yet (cb is not called). */
int rl_rcluster_send(rl_rcluster_t *c, const rl_rnode_cmd_t *cmd, int slot,
                     rl_redis_cb cb, void *arg);

#endif
