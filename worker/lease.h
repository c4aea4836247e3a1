/*
 * lease - the worker's lease on every job it holds, renewed in one batch:
 * heartbeat.lua sets our expiry in rl:workers (Redis clock) every third
 * of the lease. We count the lease as ours until send time + 90% of the
 * lease; past that without a renewal we stop acting (w->on.lease_lost:
 * every job is dropped and the brokers' credit is taken back) until a
 * renewal succeeds again (w->on.capacity: credit is granted again);
 * that renewal also releases them (heartbeat.lua retires the old
 * owner id: back on the queue under a new fencing token, one more
 * recovery counted, failed and refunded past [jobs] max_recoveries as
 * the reaper does), since it may land before the reaper sees the old
 * lease expire.
 * SPDX-License-Identifier: MIT
 */
#ifndef LEASE_H
#define LEASE_H

#include <stdbool.h>

#include "worker.h"

lease_t *lease_new(worker_t *w);
/* Stops renewing. NULL-safe, sets *p to NULL. A renewal still in flight
 * frees the lease when it is answered, so the Redis client must be
 * destroyed after it (which answers it NULL). */
void lease_destroy(lease_t **p);

/* Renews now (Redis just connected). */
void lease_kick(lease_t *l);

/* True while the lease is known to be held. */
bool lease_ok(const lease_t *l);

#endif
