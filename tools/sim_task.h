/*
 * sim_task - one simulated task: what its submit asked for, its script,
 * and the state its polls have seen. The core (sim_core.c) creates,
 * indexes and frees tasks; an API (sim_<api>.c) fills in what its
 * submit carried and reads them back.
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_TASK_H
#define SIM_TASK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "sim_http.h"
#include "sim_index.h"
#include "sim_script.h"

struct sim_api;

#define SIM_DEFAULT_DURATION_S 5 /* a task whose request names none */

struct sim_task {
    struct sim_node node;        /* the core's: key = id; stays first */
    TAILQ_ENTRY(sim_task) order; /* the core's: creation order */
    char id[SIM_ID_LEN];         /* task_id / cgt-… id */
    const struct sim_api *api;   /* the API it was submitted on */
    const char *endpoint;        /* /_sim/tasks "endpoint", static;
                                    NULL: the API's name */
    bool i2v;                    /* image-to-video (Kling, Runway) */
    char *model;                 /* model_name / model */
    char *prompt;                /* prompt text as received */
    char *external_id;           /* Kling external_task_id, or NULL */
    char *extra;                 /* API-specific (OpenAI size), or NULL */
    struct sim_script script;    /* parsed directives */
    int duration_s;              /* requested video length */
    int64_t created_ms;          /* wall clock */
    int64_t created_mono_ms;     /* monotonic, drives render time */
    int64_t updated_ms;          /* wall clock of the last change */
    sim_state_t state;           /* as last reported */
    unsigned polls;              /* every poll, answered or not */
    int64_t first_poll_ms;       /* wall clock of the first poll, 0 none */
    int64_t last_poll_ms;        /* wall clock of the latest poll */
    bool cancelled;              /* a DELETE cancelled it */
    bool deleted;                /* a DELETE removed a terminal task */
};
TAILQ_HEAD(sim_task_list, sim_task);

/* The task's state as its API spells it ("succeed", "SUCCEEDED", ...).
 * Static. */
const char *sim_task_status(const struct sim_task *t);

/* A task's progress in percent: 0 queued, by render time while running
 * (at most 99), 100 succeeded, 0 after a failure. */
int sim_task_progress(const struct sim_task *t);

/* Moves a non-terminal task to state, stamping updated_ms on a change. */
void sim_task_set_state(struct sim_task *t, sim_state_t state);

/* Cancels t when it is still queued or running (true); a finished task
 * is left as it is (false). */
bool sim_task_cancel(struct sim_task *t);

#endif
