/*
 * lease - the worker's lease on every job it holds. A worker holds one
 * lease per partition (its entry in that partition's workers zset,
 * common/rl_keys.h), since a claim checks the lease of the job's
 * partition; every third of the lease one round renews them all, one
 * heartbeat.lua call per partition, sent together. We count the lease as
 * ours until the round's send time + 90% of the lease once every call of
 * the round landed; past that without such a round we stop acting
 * (w->on.lease_lost: every job is dropped and the brokers' credit is
 * taken back) until a round succeeds again (w->on.capacity: credit is
 * granted again). The worker goes on under a new owner id, and that
 * round retires the old one on every partition (heartbeat.lua: its lease
 * ends at once, so a late claim of it is refused, and the reaper's next
 * sweep takes its jobs back: a new fencing token, one more recovery,
 * failed and refunded past [jobs] max_recoveries).
 *
 * A job the worker gives up on while the lease holds (a claim or a write
 * whose outcome stayed unknown through every retry) would stay leased to
 * a live worker that no longer acts on it, found by nothing: the lease
 * hands it back (lease_release): the next renewals carry its ref until
 * one lands, and heartbeat.lua recovers it as above if it is still
 * leased to this owner. A claim of the same ref takes it off the list
 * first (lease_unrelease): Redis runs one connection's commands in
 * order (the renewal of a partition and the claim of a job of it go to
 * the same node), so a renewal sent before the claim releases before the
 * claim runs, and one sent after no longer carries it. More refs waiting than
 * LEASE_MAX_RELEASES: the lease is given up as if lost, and the retired
 * owner id takes every job back at once.
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

/* Hands ref (a job given up on) back through the next renewals. */
void lease_release(lease_t *l, const char *ref);

/* A claim of ref is being sent: it is no longer handed back. */
void lease_unrelease(lease_t *l, const char *ref);

#endif
