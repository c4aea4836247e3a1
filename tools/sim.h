/*
 * sim - the provider simulator's private header: the process context, the
 * task and index structs, and the functions its files call across
 * (simulator.c, sim_http.c, sim_index.c, and one sim_<api>.c per API).
 * Not a library interface; nothing outside tools/ includes it.
 *
 * Base URLs. Every API is served on the one port; a provider config
 * points its base_url at the simulator's origin (http://127.0.0.1:PORT)
 * plus the path below, which stands for the real host's base URL that the
 * adapter appends its paths to (worker/adapter_<type>.c):
 *
 *   type       base_url                        real base URL
 *   kling      ORIGIN                          https://api-singapore.klingai.com
 *   seedance   ORIGIN/api/v3                   https://ark.ap-southeast.bytepluses.com/api/v3
 *   runway     ORIGIN/runway                   https://api.dev.runwayml.com
 *   openai     ORIGIN/openai/v1                https://api.openai.com/v1
 *   replicate  ORIGIN/replicate/v1             https://api.replicate.com/v1
 *   fal        ORIGIN/fal                      https://queue.fal.run
 *   kinovi     ORIGIN/kinovi/api/v1            https://kinovi.ai/api/v1
 *   luma       ORIGIN/luma/dream-machine/v1    https://api.lumalabs.ai/dream-machine/v1
 *   minimax    ORIGIN/minimax                  https://api.minimax.io
 *   veo        ORIGIN/veo/v1beta               https://generativelanguage.googleapis.com/v1beta
 *
 * Each API answers its own shapes (docs/providers.md); the
 * directives of sim_script.h apply to all of them, scoped by the API name
 * (runway.submit=429). How each API spells a scripted failure is written
 * at the top of its file.
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <jansson.h>

#include "sim_script.h"

#define SIM_ID_LEN 64
#define SIM_DEFAULT_DURATION_S 5 /* a task whose request names none */
#define SIM_KLING_DURATION_MIN 3
#define SIM_KLING_DURATION_MAX 15

/* Errors either API can answer; sim_api_error() spells them per API. */
typedef enum {
    SIM_E_OK = 0,
    SIM_E_RATE,
    SIM_E_CAPACITY,
    SIM_E_INPUT_POLICY,
    SIM_E_INTERNAL,
    SIM_E_UNAVAILABLE,
    SIM_E_NOT_FOUND,
    SIM_E_BAD_REQUEST,
    SIM_E_FULL,
    SIM_E_AUTH_MISSING,
    SIM_E_AUTH_INVALID,
    SIM_E_AUTH_FAILED,
    SIM_E_AUTH_NBF,
    SIM_E_AUTH_EXP,
    SIM_E_COUNT,
} sim_err_t;

/* An entry of a string-keyed chained hash index; embedded first. */
struct sim_node {
    SLIST_ENTRY(sim_node) link; /* bucket chain */
    const char *key;            /* owned by the embedding struct */
};
SLIST_HEAD(sim_chain, sim_node);

/* The hash index: tasks by id, submit counters by prompt. */
struct sim_index {
    struct sim_chain *chains; /* nchains buckets, a power of two */
    size_t nchains;           /* grows when count exceeds it */
    size_t count;             /* entries */
};

/* One simulated task. */
struct sim_task {
    struct sim_node node;         /* key = id; must stay first */
    TAILQ_ENTRY(sim_task) order;  /* creation order */
    char id[SIM_ID_LEN];          /* task_id / cgt-… id */
    sim_api_t api;                /* the shape it was submitted on */
    bool i2v;                     /* Kling image2video */
    char *model;                  /* model_name / model */
    char *prompt;                 /* prompt text as received */
    char *external_id;            /* Kling external_task_id, or NULL */
    char *extra;                  /* API-specific (OpenAI size), or NULL */
    struct sim_script script;     /* parsed directives */
    int duration_s;               /* requested video length */
    int64_t created_ms;           /* wall clock */
    int64_t created_mono_ms;      /* monotonic, drives render time */
    int64_t updated_ms;           /* wall clock of the last change */
    sim_state_t state;            /* as last reported */
    unsigned polls;               /* every poll, answered or not */
    int64_t first_poll_ms;        /* wall clock of the first poll, 0 none */
    int64_t last_poll_ms;         /* wall clock of the latest poll */
    bool cancelled;               /* a DELETE cancelled it */
    bool deleted;                 /* a DELETE removed a terminal task */
};
TAILQ_HEAD(sim_task_list, sim_task);

/* The request log (sim_reqlog.c): a ring of the latest API requests. */
#define SIM_REQLOG_MAX 4096     /* entries kept; older ones are dropped */
#define SIM_REQLOG_URI_MAX 4096 /* bytes of a request target kept */

struct sim_reqlog_entry {
    const char *method; /* static: "GET", ... */
    char *uri;          /* raw request target, owned; NULL when unused */
};

struct sim_reqlog {
    struct sim_reqlog_entry entries[SIM_REQLOG_MAX]; /* a ring */
    size_t next;    /* the slot the next request goes to */
    uint64_t total; /* requests logged since the last clear */
};

/* Held requests (struct sim_hold is simulator.c's). */
TAILQ_HEAD(sim_hold_list, sim_hold);

/* Command-line configuration. */
typedef struct {
    char host[64];          /* listen address */
    int port;               /* 0 = any free port */
    const char *name;       /* --name, or NULL */
    const char *kling_ak;   /* JWT iss to require, or NULL */
    const char *kling_sk;   /* JWT HMAC key, or NULL */
    size_t max_tasks;       /* task cap */
} sim_config_t;

/* The process context, passed as every callback's arg. */
typedef struct sim {
    const sim_config_t *cfg;      /* borrowed */
    struct event_base *base;      /* the loop */
    struct evhttp *http;          /* the server */
    struct event *sig_int;        /* SIGINT */
    struct event *sig_term;       /* SIGTERM */
    char origin[80];              /* "http://127.0.0.1:PORT" */
    char salt[8];                 /* keeps ids unique across instances */
    uint64_t seq;                 /* id counter */
    struct sim_index tasks;       /* sim_task by id */
    struct sim_task_list order;   /* every task, oldest first */
    struct sim_index prompts;     /* submit counters by prompt */
    uint64_t submits;             /* submit requests */
    uint64_t polls;               /* poll requests */
    uint64_t cancels;             /* DELETE requests */
    sim_submit_t forced_submit;   /* /_sim/behaviour answer */
    unsigned forced_count;        /* submits it still applies to */
    struct sim_hold_list holds;   /* unanswered requests */
    struct sim_reqlog reqlog;     /* the latest API requests */
} sim_t;

/* ---- simulator.c: held requests and output files --------------------- */

/* Never answers req; it is released when the client disconnects. */
void sim_hold(sim_t *sim, struct evhttp_request *req);

/* Writes the download URL of t's video into out (len bytes). */
void sim_output_url(const sim_t *sim, const struct sim_task *t, char *out,
                    size_t len);

/* ---- sim_http.c: reading requests, answering them -------------------- */

/* json_dump_callback() sink appending to the evbuffer arg. */
int sim_dump_cb(const char *buffer, size_t size, void *arg);

/* Answers with `doc` as compact JSON; takes ownership of doc (NULL
 * answers 500). */
void sim_reply_json(struct evhttp_request *req, int status, json_t *doc);

/* Answers with len bytes of body as content type ctype. */
void sim_reply_raw(struct evhttp_request *req, int status, const char *ctype,
                   const void *body, size_t len);

/* Answers 200 with the few bytes of MP4 every simulated video is. */
void sim_reply_video(struct evhttp_request *req);

/* Answers err (not SIM_E_OK) in the body shape of api. */
void sim_api_error(sim_t *sim, struct evhttp_request *req, sim_api_t api,
                   sim_err_t err);

/* Answers 200 with a JSON body cut short, shaped as a submit or poll
 * answer of api. */
void sim_reply_malformed(struct evhttp_request *req, sim_api_t api,
                         bool submit);

/* The HTTP status and message of err in the shared error table. */
int sim_err_status(sim_err_t err);
const char *sim_err_message(sim_err_t err);

/* Writes wall-clock ms as ISO 8601 UTC ("2025-01-02T03:04:05.678Z"). */
void sim_iso8601(int64_t ms, char *out, size_t len);

/* Decodes the %XX escapes of the path segment in id (len bytes) in
 * place, as a server reads an id a client percent-encoded. False when
 * the result is empty, holds a NUL or does not fit. */
bool sim_id_decode(char *id, size_t len);

/* True when path is exactly prefix + ID + suffix with a non-empty ID
 * free of '/' whose decoded form (sim_id_decode) fits len; that is
 * copied into id. */
bool sim_path_id(const char *path, const char *prefix, const char *suffix,
                 char *id, size_t len);

/* Copies the decoded query argument `key` of req into out (len bytes).
 * False when absent, empty or too long. */
bool sim_query_arg(struct evhttp_request *req, const char *key, char *out,
                   size_t len);

/* The request header `name`, or NULL. Borrowed. */
const char *sim_header(struct evhttp_request *req, const char *name);

/* The bearer token of req, or NULL; borrowed from req's headers. */
const char *sim_bearer(struct evhttp_request *req);

/* True when req carries a bearer token; else answers api's "missing
 * auth" error and returns false. */
bool sim_need_bearer(sim_t *sim, struct evhttp_request *req, sim_api_t api);

/* The request body as a JSON object, or NULL. Caller owns. */
json_t *sim_body_json(struct evhttp_request *req);

/* obj[key] as a string: dflt when absent or null, NULL when not a
 * string. Borrowed from obj. */
const char *sim_str(const json_t *obj, const char *key, const char *dflt);

/* ---- sim_index.c: the hash index and task lifetime ------------------- */

/* Sets up an empty index. */
void sim_index_init(struct sim_index *ix);

/* The entry keyed `key`, or NULL. */
struct sim_node *sim_index_find(const struct sim_index *ix, const char *key);

/* Adds n (its key set, not already present); grows as needed. */
void sim_index_add(struct sim_index *ix, struct sim_node *n);

/* Frees the buckets only; entries belong to their owners. */
void sim_index_release(struct sim_index *ix);

/* Writes prefix + salt + the next sequence number into out. */
void sim_new_id(sim_t *sim, const char *prefix, char *out, size_t len);

/* The task with this id, or NULL. Borrowed from sim. */
struct sim_task *sim_task_find(sim_t *sim, const char *id);

/* The task with this id submitted on api and not deleted, or NULL. */
struct sim_task *sim_task_of(sim_t *sim, const char *id, sim_api_t api);

/* A task's progress in percent: 0 queued, by render time while running
 * (at most 99), 100 succeeded, 0 after a failure. */
int sim_task_progress(const struct sim_task *t);

/* Creates and indexes a task; the caller checked the cap. Borrowed:
 * sim owns it until sim_clear(). */
struct sim_task *sim_task_new(sim_t *sim, sim_api_t api, const char *model,
                              const char *prompt,
                              const struct sim_script *sc);

/* Moves a non-terminal task to state, stamping updated_ms on a change. */
void sim_task_set_state(struct sim_task *t, sim_state_t state);

/* Cancels t when it is still queued or running (true); a finished task
 * is left as it is (false). */
bool sim_task_cancel(struct sim_task *t);

/* Applies /_sim/behaviour and the prompt's submit directives. Returns
 * true when req has been answered or held, false to create the task. */
bool sim_submit_scripted(sim_t *sim, struct evhttp_request *req,
                         sim_api_t api, const char *prompt,
                         const struct sim_script *sc);

/* Scripted poll behaviour: hangs, 5xx, malformed bodies. Returns true
 * when req has been answered or held; otherwise advances the task. */
bool sim_poll_scripted(sim_t *sim, struct evhttp_request *req,
                       struct sim_task *t);

/* Frees every task and prompt counter and the request log, releases both
 * indexes and zeroes the counters. Held requests stay: they belong to
 * their connections. */
void sim_clear(sim_t *sim);

/* ---- sim_reqlog.c: the request log ------------------------------------ */

/* Logs one request: its method and raw request target (uri), cut at
 * SIM_REQLOG_URI_MAX bytes, bytes outside printable ASCII as %XX. */
void sim_reqlog_add(struct sim_reqlog *log, enum evhttp_cmd_type method,
                    const char *uri);

/* Answers {"total": N, "requests": [{"method","uri"}, ...]}, oldest of
 * the kept entries first. */
void sim_reqlog_reply(const struct sim_reqlog *log,
                      struct evhttp_request *req);

/* Frees every entry; the log is empty afterwards. */
void sim_reqlog_clear(struct sim_reqlog *log);

/* ---- sim_kling.c, sim_seedance.c: the API handlers ------------------- */

/* POST /v1/videos/{text2video,image2video}. */
void sim_kling_submit(sim_t *sim, struct evhttp_request *req, bool i2v);

/* GET /v1/videos/{text2video,image2video}/ID. */
void sim_kling_poll(sim_t *sim, struct evhttp_request *req, bool i2v,
                    const char *id);

/* POST /api/v3/contents/generations/tasks. */
void sim_seedance_submit(sim_t *sim, struct evhttp_request *req);

/* GET /api/v3/contents/generations/tasks/ID. */
void sim_seedance_poll(sim_t *sim, struct evhttp_request *req,
                       const char *id);

/* DELETE .../tasks/ID: cancels a queued or running task and deletes a
 * terminal one. */
void sim_seedance_cancel(sim_t *sim, struct evhttp_request *req,
                         const char *id);

/* ---- sim_runway.c ... sim_veo.c: the other APIs ------------------------
 * sim_X_route() serves path when it belongs to API X (answering 405 for
 * a wrong method) and returns true; false leaves path to others.
 * sim_X_error() answers err the API X way. */

bool sim_runway_route(sim_t *sim, struct evhttp_request *req,
                      enum evhttp_cmd_type m, const char *path);
void sim_runway_error(sim_t *sim, struct evhttp_request *req, sim_err_t err);

bool sim_openai_route(sim_t *sim, struct evhttp_request *req,
                      enum evhttp_cmd_type m, const char *path);
void sim_openai_error(sim_t *sim, struct evhttp_request *req, sim_err_t err);

bool sim_replicate_route(sim_t *sim, struct evhttp_request *req,
                         enum evhttp_cmd_type m, const char *path);
void sim_replicate_error(sim_t *sim, struct evhttp_request *req,
                         sim_err_t err);

bool sim_fal_route(sim_t *sim, struct evhttp_request *req,
                   enum evhttp_cmd_type m, const char *path);
void sim_fal_error(sim_t *sim, struct evhttp_request *req, sim_err_t err);

bool sim_kinovi_route(sim_t *sim, struct evhttp_request *req,
                      enum evhttp_cmd_type m, const char *path);
void sim_kinovi_error(sim_t *sim, struct evhttp_request *req, sim_err_t err);

bool sim_luma_route(sim_t *sim, struct evhttp_request *req,
                    enum evhttp_cmd_type m, const char *path);
void sim_luma_error(sim_t *sim, struct evhttp_request *req, sim_err_t err);

bool sim_minimax_route(sim_t *sim, struct evhttp_request *req,
                       enum evhttp_cmd_type m, const char *path);
void sim_minimax_error(sim_t *sim, struct evhttp_request *req,
                       sim_err_t err);

bool sim_veo_route(sim_t *sim, struct evhttp_request *req,
                   enum evhttp_cmd_type m, const char *path);
void sim_veo_error(sim_t *sim, struct evhttp_request *req, sim_err_t err);

/* Answers 405 in the simulator's own shape. */
void sim_not_allowed(struct evhttp_request *req);

#endif
