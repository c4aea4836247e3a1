/*
 * sim_core - the provider simulator's state and the services its APIs
 * call (sim_api.h): tasks and their index, submit counters by prompt,
 * request counters, /_sim/behaviour's forced answer, and requests held
 * unanswered. This header adds what only the process (simulator.c)
 * needs: making and freeing the core, the /_sim/ control endpoints,
 * and the video files under SIM_OUTPUT_PATH.
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_CORE_H
#define SIM_CORE_H

#include <event2/event.h>
#include <event2/http.h>

#include "sim_api.h"

/* Where the simulated videos are served: SIM_OUTPUT_PATH "<id>.mp4". */
#define SIM_OUTPUT_PATH "/output/"

/* A new, empty core on base for cfg (both borrowed; they outlive it).
 * Returns it (caller owns), or NULL when no random salt could be made. */
sim_core_t *sim_core_new(const sim_config_t *cfg, struct event_base *base);

/* Frees every task and held request. The HTTP server must be freed
 * first: that closes the held requests' connections. NULL-safe. */
void sim_core_destroy(sim_core_t **p);

/* Sets the origin the APIs' URLs name: "http://HOST:PORT". Returns 0, or
 * -1 when it does not fit. */
int sim_core_set_origin(sim_core_t *c, const char *host, int port)
    __attribute__((warn_unused_result));

/* Never answers req; it is released when the client disconnects. */
void sim_core_hold(sim_core_t *c, struct evhttp_request *req);

/* The task with this id on any API, deleted or not, or NULL. */
struct sim_task *sim_core_find(sim_core_t *c, const char *id);

/* POST /_sim/reset: forgets every task, prompt counter and counter and
 * the forced answer. Held requests stay: they belong to their
 * connections. */
void sim_core_reset(sim_core_t *c);

/* POST /_sim/behaviour: the next `count` submits, on any API, answer
 * `what` (SIM_SUBMIT_OK clears it). */
void sim_core_force_submit(sim_core_t *c, sim_submit_t what, unsigned count);

/* GET /_sim/stats: {"submits","polls","cancels","tasks","held"}. */
void sim_core_reply_stats(const sim_core_t *c, struct evhttp_request *req);

/* GET /_sim/tasks: every task as a JSON array, oldest first. */
void sim_core_reply_tasks(const sim_core_t *c, struct evhttp_request *req);

#endif
