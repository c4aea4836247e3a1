/*
 * links - the worker's side of dispatch: one DEALER per broker, credit
 * and heartbeats (see broker/dispatch.h for the protocol).
 *
 * A DISPATCH goes up to w->on.dispatched (main.c: job_claim).
 *
 * Invariant: inflight + the credit granted to live brokers never exceeds
 * worker_max_inflight, so a worker is never sent more than it can hold.
 * Credit given to a broker that stopped answering, or that restarted (a
 * new incarnation in its heartbeat), is taken back and given again.
 * SPDX-License-Identifier: MIT
 */
#ifndef LINKS_H
#define LINKS_H

#include "worker.h"

/* Connects a DEALER to every cfg->dispatch endpoint. NULL on failure. */
links_t *links_new(worker_t *w);

/* Closes the sockets and frees. NULL-safe, sets *p to NULL. */
void links_destroy(links_t **p);

/* Slots freed or the lease changed: grant what can be granted (batched
 * to the end of the current loop turn). NULL-safe. */
void links_grant(links_t *l);

/* Takes back every grant and tells the brokers (stop, lost lease). */
void links_revoke(links_t *l);

#endif
