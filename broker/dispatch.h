/*
 * dispatch - sends queued jobs to workers that have asked for them.
 *
 * Credit-based flow control (the ZeroMQ Guide's load-balancing broker):
 * a worker connects a DEALER to our ROUTER and announces how many more
 * jobs it can take (HELLO resets its credit, CREDIT adds to it). We take
 * at most that many refs from the Redis queue (dispatch_take.lua moves
 * them to rl:dispatched with a claim deadline) and send each DISPATCH to
 * the worker with credit and the least load (its last heartbeat's
 * in-flight count plus what we sent since), more credit breaking ties.
 * A lost message costs nothing but time: the reaper puts unclaimed refs
 * back.
 *
 * Heartbeats go both ways every heartbeat_ms; a worker silent for
 * heartbeat_liveness periods is forgotten together with its credit.
 * Our heartbeat carries this process's incarnation id, so a worker that
 * sees a new incarnation (we restarted) re-sends HELLO.
 * SPDX-License-Identifier: MIT
 */
#ifndef DISPATCH_H
#define DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"

#define DISPATCH_MAX_TAKE 1000 /* refs per dispatch_take call */

/* A worker as the choice of dispatch_prefer() sees it. */
typedef struct {
    int64_t credit; /* jobs it still asked for */
    int64_t load;   /* its jobs in flight at its last heartbeat, plus
                       those sent to it since */
} dispatch_load_t;

/* Binds the ROUTER on cfg->dispatch[b->index]. NULL on failure. */
dispatch_t *dispatch_new(broker_t *b);

/* Closes the socket and frees. NULL-safe, sets *p to NULL. */
void dispatch_destroy(dispatch_t **p);

/* A job was queued: take from the queue now if any worker has credit. */
void dispatch_wake(dispatch_t *d);

/* The choice of the worker a job goes to, pure: whether worker a is to
 * get it rather than `best`, the best of the workers before it (NULL:
 * none yet). Folded over the workers in the order they joined, it picks
 * the least loaded worker with credit, more credit breaking ties, the
 * first of equals keeping it:
 *
 *   a.credit  best   a.load vs best's  a.credit vs best's  -> a?
 *   <= 0      any    any               any                 -> no
 *   > 0       none   -                 -                   -> yes
 *   > 0       some   less              any                 -> yes
 *   > 0       some   equal             more                -> yes
 *   > 0       some   equal             no more             -> no
 *   > 0       some   more              any                 -> no
 */
bool dispatch_prefer(const dispatch_load_t *a, const dispatch_load_t *best);

/* How many refs one dispatch_take asks for with `credit` asked for in
 * all: all of it, at most DISPATCH_MAX_TAKE; none without credit. */
int64_t dispatch_take_count(int64_t credit);

/* Known workers and the sum of their credit. */
size_t dispatch_workers(const dispatch_t *d);
int64_t dispatch_credit(const dispatch_t *d);

#endif
