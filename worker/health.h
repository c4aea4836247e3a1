/*
 * health - two periodic duties of a worker:
 *  - every [health] interval_s, the one worker holding the Redis lock
 *    rl:lock:health probes every provider (a GET of its base URL: any
 *    answer below 500 is "up") and writes the result, with this worker's
 *    breaker state, to rl:provider_health (read by GET
 *    /v1/admin/providers);
 *  - every 30 s, it loads the per-model render time averages
 *    (rl:render_avg, kept by job_finish.lua) that the ETA is based on.
 * SPDX-License-Identifier: MIT
 */
#ifndef HEALTH_H
#define HEALTH_H

#include "worker.h"

typedef struct health health_t;

health_t *health_new(worker_t *w);

/* Runs both duties now (Redis just connected). */
void health_kick(health_t *h);
void health_destroy(health_t **p);

#endif
