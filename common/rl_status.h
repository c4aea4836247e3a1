/*
 * rl_status - a small HTTP status endpoint for the roles without an API
 * (worker, deliverer), for Kubernetes probes and operators:
 *   GET /healthz   200 while the event loop turns (liveness)
 *   GET /readyz    200 when the role says it is ready, else 503
 *   GET /stats     the role's counters as JSON
 * Off unless the role's status_listen is set.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATUS_H
#define RL_STATUS_H

#include <stdbool.h>

struct event_base;

typedef struct rl_status rl_status_t;

/* Is the role ready (Redis up, lease held...)? */
typedef bool (*rl_status_ready_fn)(void *arg);

/* The role's counters as a JSON text (malloc'd; the caller frees). */
typedef char *(*rl_status_stats_fn)(void *arg);

/* Listens on addr ("host:port"). NULL on a bad address or bind error. */
rl_status_t *rl_status_new(struct event_base *base, const char *addr,
                           const char *role, rl_status_ready_fn ready,
                           rl_status_stats_fn stats, void *arg);

void rl_status_destroy(rl_status_t **p);

#endif
