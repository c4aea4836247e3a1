/*
 * rl_status - a small HTTP status endpoint for the roles without an API
 * (worker, deliverer), for Kubernetes probes and operators:
 *   GET /healthz   200 while the event loop turns (liveness)
 *   GET /readyz    200 when the role says it is ready, else 503
 *   GET /stats     the role's counters as JSON
 * Off unless the role's status listen list is set ([health]
 * worker_status_listen, [webhook] deliverer_status_listen): process
 * --index i binds entry i, so several processes of a role on one host
 * do not collide, as with the ZeroMQ endpoint lists.
 *
 * The listener has the [http] limits of every listener (rl_httpd.h).
 *
 * Failure modes: rl_status_open() returns -1 with a reason on a bad
 * address, a port that cannot be bound, or an index the list has no
 * entry for (rl_config_load refuses a list shorter than the role's
 * process count); the role then refuses to start.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATUS_H
#define RL_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_config.h"

struct event_base;

typedef struct rl_status rl_status_t;

/* Is the role ready (Redis up, lease held...)? */
typedef bool (*rl_status_ready_fn)(void *arg);

/* The role's counters as a JSON text (malloc'd; the caller frees). */
typedef char *(*rl_status_stats_fn)(void *arg);

/* Opens the endpoint of process `index` of a role from its listen list
 * (list[index]). Returns 0 with *out the endpoint (caller owns), or NULL
 * when the list is empty (no endpoint); -1 with the reason in why when
 * the list has no entry `index` or it cannot be listened on. */
int rl_status_open(rl_status_t **out, struct event_base *base,
                   const rl_config_t *cfg, char *const *list, size_t n,
                   int index, const char *role, rl_status_ready_fn ready,
                   rl_status_stats_fn stats, void *arg, char *why,
                   size_t why_len);

/* Stops listening and frees. NULL-safe, sets *p to NULL. */
void rl_status_destroy(rl_status_t **p);

#endif
