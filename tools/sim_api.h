/*
 * sim_api - what one simulated provider API is, and the services the
 * simulator's core gives it. Each API is a file, sim_<api>.c, defining
 * one sim_api_t (declared in sim_<api>.h) that sim_apis.c puts in its
 * table; the HTTP layer (simulator.c) finds the API by the request path
 * and calls its route(). An API's file includes this header (and
 * through it sim_http.h, sim_script.h and sim_task.h) and nothing else
 * of the simulator: the core reaches the API only through its entry.
 *
 * Every API answers its own shapes (docs/providers.md); the directives
 * of sim_script.h apply to all of them, scoped by the API's name
 * (runway.submit=429). How each API spells a scripted failure is written
 * at the top of its file.
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_API_H
#define SIM_API_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/http.h>

#include "rl_ptype.h"
#include "sim_http.h"
#include "sim_script.h"
#include "sim_task.h"

/* The simulator's origin, "http://HOST:PORT", is shorter than this. */
#define SIM_ORIGIN_LEN 80

/* Room for a task's output URL (sim_core_output_url) or any URL an API
 * builds of the origin, a task id and up to 64 characters of its own. */
#define SIM_URL_LEN (SIM_ORIGIN_LEN + SIM_ID_LEN + 64)

/* The simulator's state: tasks, counters, held requests. Opaque to the
 * APIs, which get it passed in. */
typedef struct sim_core sim_core_t;

/* Command-line configuration. */
typedef struct {
    char host[64];        /* listen address */
    int port;             /* 0 = any free port */
    const char *name;     /* --name, or NULL */
    const char *kling_ak; /* JWT iss to require, or NULL */
    const char *kling_sk; /* JWT HMAC key, or NULL */
    size_t max_tasks;     /* task cap */
} sim_config_t;

/* One API: a row of the table in sim_apis.c. */
typedef struct sim_api {
    rl_ptype_t type;                  /* which; rl_ptype_name() is its scope */
    const char *prefix;               /* every path it serves starts so */
    const char *id_prefix;            /* its task ids start so */
    const char *states[SIM_ST_COUNT]; /* its spelling of each state */
    const char *malformed_poll;       /* a poll answer cut short */
    const char *malformed_submit;     /* a submit answer cut short */
    /* Serves req, whose path starts with `prefix`, and returns true
     * (answering 405 for a wrong method), or returns false, leaving the
     * path to the simulator's own 404. */
    bool (*route)(sim_core_t *c, struct evhttp_request *req,
                  enum evhttp_cmd_type m, const char *path);
    /* Answers err (not SIM_E_OK) in the API's error shape. */
    void (*error)(sim_core_t *c, struct evhttp_request *req, sim_err_t err);
} sim_api_t;

/* ---- services (sim_core.c) ------------------------------------------ */

/* What the counters of /_sim/stats count. */
typedef enum {
    SIM_COUNT_SUBMIT, /* submit requests */
    SIM_COUNT_POLL,   /* poll requests */
    SIM_COUNT_CANCEL, /* cancel (and delete) requests */
} sim_count_t;

/* The command-line configuration. Borrowed. */
const sim_config_t *sim_core_config(const sim_core_t *c);

/* The simulator's origin, "http://HOST:PORT" (shorter than
 * SIM_ORIGIN_LEN). Borrowed. */
const char *sim_core_origin(const sim_core_t *c);

/* Counts one request of kind `what`. */
void sim_core_count(sim_core_t *c, sim_count_t what);

/* Writes prefix + a salt unique to this process + the next sequence
 * number into out. */
void sim_core_new_id(sim_core_t *c, const char *prefix, char *out, size_t len);

/* True when req carries a bearer token; else answers api's "missing
 * auth" error and returns false. */
bool sim_core_need_bearer(sim_core_t *c, const sim_api_t *api,
                          struct evhttp_request *req);

/* A valid submit of prompt for model on api: reads the prompt's
 * directives and applies them and /_sim/behaviour. Returns NULL when
 * that answered req or holds it; else a new task, queued, whose
 * answer is the caller's. Borrowed: the core owns it until a reset. */
struct sim_task *sim_core_submit(sim_core_t *c, const sim_api_t *api,
                                 struct evhttp_request *req, const char *model,
                                 const char *prompt);

/* The task with this id submitted on api and not deleted, or NULL. */
struct sim_task *sim_core_task(sim_core_t *c, const sim_api_t *api,
                               const char *id);

/* One poll of t: scripted hangs, 5xx and malformed bodies answer (or
 * hold) req and return true; otherwise t advances and the caller
 * answers. */
bool sim_core_poll(sim_core_t *c, struct evhttp_request *req,
                   struct sim_task *t);

/* Writes the download URL of t's video (as its script spells it) into
 * out, which always holds it. */
void sim_core_output_url(const sim_core_t *c, const struct sim_task *t,
                         char out[SIM_URL_LEN]);

#endif
