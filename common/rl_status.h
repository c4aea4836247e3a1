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
 * Failure modes: rl_status_new() returns NULL on a bad address or when
 * the port cannot be bound, rl_status_open() -1 with a reason for that
 * or for an index the list has no entry for; the role then refuses to
 * start.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATUS_H
#define RL_STATUS_H

#include <stdbool.h>
#include <stddef.h>

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

/* Opens the endpoint of process `index` of a role from its listen list
 * (list[index]). Returns 0 with *out the endpoint (caller owns), or NULL
 * when the list is empty (no endpoint); -1 with the reason in why when
 * the list has no entry `index` or it cannot be listened on. */
int rl_status_open(rl_status_t **out, struct event_base *base,
                   char *const *list, size_t n, int index, const char *role,
                   rl_status_ready_fn ready, rl_status_stats_fn stats,
                   void *arg, char *why, size_t why_len);

void rl_status_destroy(rl_status_t **p);

#endif
