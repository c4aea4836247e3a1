/*
 * reelay-simulator - a loopback HTTP server speaking the Kling and
 * Seedance (BytePlus Ark) video APIs, with each task's behaviour scripted
 * by "[sim ...]" prompt directives (sim_script.h). Integration tests only.
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_log.h"
#include "sim_script.h"

#define SIM_DEFAULT_MAX_TASKS 1000000
#define SIM_MAX_BODY (32 * 1024 * 1024) /* i2v carries base64 images */
#define SIM_CONN_TIMEOUT_S 600           /* idle or held connections */
#define SIM_MIN_CHAINS 4096              /* initial hash index size */
#define SIM_ID_LEN 64
#define SIM_JWT_PART_MAX 2048
#define SIM_KLING_DEFAULT_DURATION 5
#define SIM_KLING_DURATION_MIN 3
#define SIM_KLING_DURATION_MAX 15
#define SIM_ARK_FPS 24
#define SIM_ARK_TOKENS 108900 /* 720p, 5 s, as in the Ark docs */
#define SIM_COUNT_BEYOND UINT_MAX /* prompt counter table full */

static const char s_kling_t2v[] = "/v1/videos/text2video";
static const char s_kling_i2v[] = "/v1/videos/image2video";
static const char s_ark_tasks[] = "/api/v3/contents/generations/tasks";
static const char s_output[] = "/output/";
static const unsigned char s_mp4[] = {
    0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2',
    0, 0, 0, 0,    'm', 'p', '4', '2', 'i', 's', 'o', 'm',
    0, 0, 0, 8,    'm', 'd', 'a', 't'};

/* Errors either API can answer, with both APIs' spellings. */
typedef enum {
    E_OK = 0,
    E_RATE,
    E_CAPACITY,
    E_INPUT_POLICY,
    E_INTERNAL,
    E_UNAVAILABLE,
    E_NOT_FOUND,
    E_BAD_REQUEST,
    E_FULL,
    E_AUTH_MISSING,
    E_AUTH_INVALID,
    E_AUTH_FAILED,
    E_AUTH_NBF,
    E_AUTH_EXP,
    E_COUNT,
} s_err_t;

static const struct {
    int status;           /* HTTP status */
    int kling_code;       /* Kling body "code" */
    const char *ark_code; /* Ark error.code */
    const char *ark_type; /* Ark error.type */
    const char *message;  /* both */
} s_errs[E_COUNT] = {
    [E_OK] = {200, 0, "", "", ""},
    [E_RATE] = {429, 1302, "RateLimitExceeded.EndpointRPMExceeded",
                "TooManyRequests", "request rate limit exceeded"},
    [E_CAPACITY] = {429, 1303, "ServerOverloaded", "TooManyRequests",
                    "parallel task over resource pack limit"},
    [E_INPUT_POLICY] = {400, 1301, "InputTextSensitiveContentDetected",
                        "BadRequest", "input may contain sensitive content"},
    [E_INTERNAL] = {500, 5000, "InternalServiceError", "InternalServerError",
                    "internal server error"},
    [E_UNAVAILABLE] = {503, 5001, "ServiceUnavailable", "ServiceUnavailable",
                       "service temporarily unavailable"},
    [E_NOT_FOUND] = {404, 1203, "ResourceNotFound", "NotFound",
                     "task not found"},
    [E_BAD_REQUEST] = {400, 1201, "InvalidParameter", "BadRequest",
                       "invalid request parameters"},
    [E_FULL] = {503, 5001, "ServiceUnavailable", "ServiceUnavailable",
                "simulator task cap reached"},
    [E_AUTH_MISSING] = {401, 1001, "AuthenticationError", "Unauthorized",
                        "authorization is empty"},
    [E_AUTH_INVALID] = {401, 1002, "AuthenticationError", "Unauthorized",
                        "authorization is invalid"},
    [E_AUTH_FAILED] = {401, 1000, "AuthenticationError", "Unauthorized",
                       "authentication failed"},
    [E_AUTH_NBF] = {401, 1003, "AuthenticationError", "Unauthorized",
                    "authorization is not yet valid"},
    [E_AUTH_EXP] = {401, 1004, "AuthenticationError", "Unauthorized",
                    "authorization has expired"},
};

/* An entry of a string-keyed chained hash index; embedded first. */
struct s_node {
    SLIST_ENTRY(s_node) link; /* bucket chain */
    const char *key;          /* owned by the embedding struct */
};
SLIST_HEAD(s_chain, s_node);

/* The hash index: tasks by id, submit counters by prompt. */
struct s_index {
    struct s_chain *chains; /* nchains buckets, a power of two */
    size_t nchains;         /* grows when count exceeds it */
    size_t count;           /* entries */
};

/* One simulated task. */
struct sim_task {
    struct s_node node;           /* key = id; must stay first */
    TAILQ_ENTRY(sim_task) order;  /* creation order */
    char id[SIM_ID_LEN];          /* task_id / cgt-… id */
    sim_api_t api;                /* the shape it was submitted on */
    bool i2v;                     /* Kling image2video */
    char *model;                  /* model_name / model */
    char *prompt;                 /* prompt text as received */
    char *external_id;            /* Kling external_task_id, or NULL */
    struct sim_script script;     /* parsed directives */
    int duration_s;               /* requested video length */
    int64_t created_ms;           /* wall clock */
    int64_t created_mono_ms;      /* monotonic, drives render time */
    int64_t updated_ms;           /* wall clock of the last change */
    sim_state_t state;              /* as last reported */
    unsigned polls;               /* every poll, answered or not */
    bool cancelled;               /* a DELETE cancelled it */
    bool deleted;                 /* a DELETE removed a terminal task */
};
TAILQ_HEAD(s_task_list, sim_task);

/* How many submits a scripted prompt has seen. */
struct s_counter {
    struct s_node node; /* key = prompt; must stay first */
    char *prompt;       /* owned key */
    unsigned submits;   /* including this one */
};

/* A request held unanswered until its client disconnects. libevent 2.1
 * stops reading a connection while its request is being handled, so it
 * would not notice the client leaving; `watch` peeks at the socket. */
struct s_hold {
    TAILQ_ENTRY(s_hold) link;         /* sim->holds */
    struct evhttp_request *req;   /* freed by libevent or s_hold_closed */
    struct evhttp_connection *evcon; /* the request's connection */
    struct event *watch;          /* EV_READ on the connection's socket */
    struct sim *sim;                /* back pointer */
};
TAILQ_HEAD(s_hold_list, s_hold);

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
    struct s_index tasks;         /* sim_task by id */
    struct s_task_list order;     /* every task, oldest first */
    struct s_index prompts;       /* s_counter by prompt */
    uint64_t submits;             /* submit requests */
    uint64_t polls;               /* poll requests */
    uint64_t cancels;             /* DELETE requests */
    sim_submit_t forced_submit;   /* /_sim/behaviour answer */
    unsigned forced_count;        /* submits it still applies to */
    struct s_hold_list holds;     /* unanswered requests */
} sim_t;

/* ---- hash index ---------------------------------------------------- */

static uint32_t
s_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *key != '\0'; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

static void
s_index_init(struct s_index *ix)
{
    ix->nchains = SIM_MIN_CHAINS;
    ix->chains = rl_calloc(ix->nchains, sizeof *ix->chains);
    ix->count = 0;
}

static struct s_node *
s_index_find(const struct s_index *ix, const char *key)
{
    struct s_node *n;
    SLIST_FOREACH(n, &ix->chains[s_hash(key) & (ix->nchains - 1)], link)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

/* Doubles the bucket array; amortised O(1) per insertion. */
static void
s_index_grow(struct s_index *ix)
{
    size_t nchains = ix->nchains * 2;
    struct s_chain *chains = rl_calloc(nchains, sizeof *chains);
    for (size_t i = 0; i < ix->nchains; i++) {
        struct s_node *n;
        while ((n = SLIST_FIRST(&ix->chains[i])) != NULL) {
            SLIST_REMOVE_HEAD(&ix->chains[i], link);
            SLIST_INSERT_HEAD(&chains[s_hash(n->key) & (nchains - 1)], n,
                              link);
        }
    }
    free(ix->chains);
    ix->chains = chains;
    ix->nchains = nchains;
}

static void
s_index_add(struct s_index *ix, struct s_node *n)
{
    if (ix->count >= ix->nchains)
        s_index_grow(ix);
    SLIST_INSERT_HEAD(&ix->chains[s_hash(n->key) & (ix->nchains - 1)], n,
                      link);
    ix->count++;
}

/* Frees the buckets only; entries belong to their owners. */
static void
s_index_release(struct s_index *ix)
{
    RL_FREE(ix->chains);
    ix->nchains = 0;
    ix->count = 0;
}

/* ---- replies --------------------------------------------------------- */

static int
s_dump_cb(const char *buffer, size_t size, void *arg)
{
    return evbuffer_add(arg, buffer, size);
}

/* Answers with `doc` as compact JSON; takes ownership of doc. */
static void
s_reply_json(struct evhttp_request *req, int status, json_t *doc)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    if (doc == NULL || json_dump_callback(doc, s_dump_cb, out,
                                          JSON_COMPACT) != 0) {
        status = 500;
        evbuffer_add_printf(out, "{\"error\":\"encode\"}");
    }
    json_decref(doc);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, NULL);
}

static void
s_reply_raw(struct evhttp_request *req, int status, const char *ctype,
            const void *body, size_t len)
{
    evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", ctype);
    evhttp_send_reply(req, status, NULL, NULL);
}

static void
s_new_id(sim_t *sim, const char *prefix, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s%llu", prefix, sim->salt,
                     (unsigned long long)++sim->seq);
    assert(n > 0 && (size_t)n < len);
    (void)n;
}

/* Answers err in the body shape of api. */
static void
s_api_error(sim_t *sim, struct evhttp_request *req, sim_api_t api,
            s_err_t err)
{
    char rid[SIM_ID_LEN];
    json_t *doc;

    assert(err > E_OK && err < E_COUNT);
    if (api == SIM_API_KLING) {
        s_new_id(sim, "req-", rid, sizeof rid);
        doc = json_pack("{s:i,s:s,s:s}", "code", s_errs[err].kling_code,
                        "message", s_errs[err].message, "request_id", rid);
    } else {
        doc = json_pack("{s:{s:s,s:s,s:s,s:s}}", "error", "code",
                        s_errs[err].ark_code, "message", s_errs[err].message,
                        "param", "", "type", s_errs[err].ark_type);
    }
    s_reply_json(req, s_errs[err].status, doc);
}

/* A 200 whose JSON body is cut short. */
static void
s_reply_malformed(struct evhttp_request *req, sim_api_t api, bool submit)
{
    static const char *const bodies[2][2] = {
        {"{\"code\":0,\"message\":\"\",\"data\":{\"task_status\":\"succ",
         "{\"code\":0,\"message\":\"\",\"data\":{\"task_id\":\""},
        {"{\"id\":\"cgt-x\",\"status\":\"succ", "{\"id\":\"cgt-"},
    };
    const char *body = bodies[api][submit];
    s_reply_raw(req, 200, "application/json", body, strlen(body));
}

/* ---- holds ----------------------------------------------------------- */

/* The held request's connection is going away. If libevent saw the
 * client leave, it has detached the request (evcon == NULL) and left it
 * to us; otherwise the connection frees the request itself. */
static void
s_hold_closed(struct evhttp_connection *evcon, void *arg)
{
    struct s_hold *h = arg;
    (void)evcon;
    if (evhttp_request_get_connection(h->req) == NULL)
        evhttp_request_free(h->req);
    if (h->watch != NULL)
        event_free(h->watch);
    TAILQ_REMOVE(&h->sim->holds, h, link);
    free(h);
}

/* The held connection's socket is readable: on EOF or an error the
 * client is gone, and freeing the connection frees the request and runs
 * s_hold_closed. Pipelined bytes just end the watch. */
static void
s_hold_watch(evutil_socket_t fd, short what, void *arg)
{
    struct s_hold *h = arg;
    char byte;
    (void)what;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        event_add(h->watch, NULL);
    else if (n <= 0)
        evhttp_connection_free(h->evcon);
}

/* Never answers req; it is released when the client disconnects. */
static void
s_hold(sim_t *sim, struct evhttp_request *req)
{
    struct s_hold *h = rl_calloc(1, sizeof *h);
    h->req = req;
    h->evcon = evhttp_request_get_connection(req);
    h->sim = sim;
    evutil_socket_t fd =
        bufferevent_getfd(evhttp_connection_get_bufferevent(h->evcon));
    h->watch = event_new(sim->base, fd, EV_READ, s_hold_watch, h);
    if (h->watch == NULL || event_add(h->watch, NULL) != 0)
        rl_log_warnx("cannot watch a held connection");
    TAILQ_INSERT_TAIL(&sim->holds, h, link);
    evhttp_connection_set_closecb(h->evcon, s_hold_closed, h);
}

/* ---- tasks ----------------------------------------------------------- */

static struct sim_task *
s_task_find(sim_t *sim, const char *id)
{
    return (struct sim_task *)s_index_find(&sim->tasks, id);
}

/* Creates and indexes a task; the caller checked the cap. */
static struct sim_task *
s_task_new(sim_t *sim, sim_api_t api, const char *model, const char *prompt,
           const struct sim_script *sc)
{
    struct sim_task *t = rl_calloc(1, sizeof *t);
    s_new_id(sim, api == SIM_API_KLING ? "kl" : "cgt-", t->id, sizeof t->id);
    t->node.key = t->id;
    t->api = api;
    t->model = rl_strdup(model);
    t->prompt = rl_strdup(prompt);
    t->script = *sc;
    t->created_ms = rl_clock_wall_ms();
    t->created_mono_ms = rl_clock_mono_ms();
    t->updated_ms = t->created_ms;
    t->state = SIM_ST_QUEUED;
    s_index_add(&sim->tasks, &t->node);
    TAILQ_INSERT_TAIL(&sim->order, t, order);
    return t;
}

static void
s_task_destroy(struct sim_task **p)
{
    struct sim_task *t = *p;
    if (t == NULL)
        return;
    free(t->external_id);
    free(t->prompt);
    free(t->model);
    free(t);
    *p = NULL;
}

static void
s_task_set_state(struct sim_task *t, sim_state_t state)
{
    assert(t->state < SIM_ST_SUCCEEDED);
    if (state != t->state) {
        t->state = state;
        t->updated_ms = rl_clock_wall_ms();
    }
}

/* Scripted poll behaviour: hangs, 5xx, malformed bodies. Returns true
 * when req has been answered or held; otherwise advances the task. */
static bool
s_poll_scripted(sim_t *sim, struct evhttp_request *req, struct sim_task *t)
{
    unsigned n = 0;

    switch (sim_script_poll(&t->script, ++t->polls, &n)) {
    case SIM_POLL_HANG:
        s_hold(sim, req);
        return true;
    case SIM_POLL_500:
        s_api_error(sim, req, t->api, E_INTERNAL);
        return true;
    case SIM_POLL_503:
        s_api_error(sim, req, t->api, E_UNAVAILABLE);
        return true;
    case SIM_POLL_MALFORMED:
        s_reply_malformed(req, t->api, false);
        return true;
    case SIM_POLL_ANSWER:
        break;
    }
    if (t->state < SIM_ST_SUCCEEDED) {
        int64_t elapsed = rl_clock_mono_ms() - t->created_mono_ms;
        s_task_set_state(t, sim_script_state(&t->script, n, elapsed));
    }
    return false;
}

static void
s_output_url(const sim_t *sim, const struct sim_task *t, char *out,
             size_t len)
{
    int n = snprintf(out, len, "%s%s%s.mp4", sim->origin, s_output, t->id);
    assert(n > 0 && (size_t)n < len);
    (void)n;
}

/* ---- submit scripting ------------------------------------------------ */

/* Counts one more submit of prompt; returns the count (1 = first), or
 * SIM_COUNT_BEYOND when the counter table is full. */
static unsigned
s_count_prompt(sim_t *sim, const char *prompt)
{
    char *key = rl_strndup(prompt, sim_script_prompt_key_len(prompt));
    struct s_counter *c = (struct s_counter *)s_index_find(&sim->prompts,
                                                           key);
    if (c != NULL) {
        free(key);
        if (c->submits < UINT_MAX - 1)
            c->submits++;
        return c->submits;
    }
    if (sim->prompts.count >= sim->cfg->max_tasks) {
        free(key);
        return SIM_COUNT_BEYOND;
    }
    c = rl_calloc(1, sizeof *c);
    c->prompt = key;
    c->node.key = key;
    c->submits = 1;
    s_index_add(&sim->prompts, &c->node);
    return 1;
}

/* Answers a submit as `what` says (never SIM_SUBMIT_OK). */
static void
s_submit_answer(sim_t *sim, struct evhttp_request *req, sim_api_t api,
                sim_submit_t what)
{
    static const s_err_t errs[] = {
        [SIM_SUBMIT_400] = E_INPUT_POLICY, [SIM_SUBMIT_429] = E_RATE,
        [SIM_SUBMIT_500] = E_INTERNAL,     [SIM_SUBMIT_503] = E_UNAVAILABLE,
        [SIM_SUBMIT_CAPACITY] = E_CAPACITY,
    };
    assert(what != SIM_SUBMIT_OK);
    if (what == SIM_SUBMIT_HANG)
        s_hold(sim, req);
    else if (what == SIM_SUBMIT_MALFORMED)
        s_reply_malformed(req, api, true);
    else
        s_api_error(sim, req, api, errs[what]);
}

/* Applies /_sim/behaviour and the prompt's submit directives. Returns
 * true when req has been answered or held, false to create the task. */
static bool
s_submit_scripted(sim_t *sim, struct evhttp_request *req, sim_api_t api,
                  const char *prompt, const struct sim_script *sc)
{
    sim_submit_t what;

    if (sim->forced_count > 0) {
        sim->forced_count--;
        what = sim->forced_submit;
    } else {
        unsigned nth = 0;
        if (sim_script_counts_submits(sc))
            nth = s_count_prompt(sim, prompt);
        what = sim_script_submit(sc, nth);
    }
    if (what == SIM_SUBMIT_OK && sim->tasks.count >= sim->cfg->max_tasks) {
        rl_log_warnx("task cap %zu reached", sim->cfg->max_tasks);
        s_api_error(sim, req, api, E_FULL);
        return true;
    }
    if (what == SIM_SUBMIT_OK)
        return false;
    s_submit_answer(sim, req, api, what);
    return true;
}

/* ---- auth and request bodies ---------------------------------------- */

/* The bearer token of req, or NULL. */
static const char *
s_bearer(struct evhttp_request *req)
{
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth != '\0' ? auth : NULL;
}

/* Decodes one base64url JWT segment into a JSON object, or NULL. */
static json_t *
s_jwt_part(const char *in, size_t len)
{
    char b64[SIM_JWT_PART_MAX];
    uint8_t raw[SIM_JWT_PART_MAX];

    if (len == 0 || len >= sizeof b64)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+' || c == '/' || c == '=')
            return NULL;
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    int n = rl_base64_decode(b64, len, raw, sizeof raw);
    if (n <= 0)
        return NULL;
    json_t *doc = json_loadb((const char *)raw, (size_t)n, 0, NULL);
    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/* Checks the exp and nbf claims against now (seconds). */
static s_err_t
s_jwt_times(const json_t *payload, double now)
{
    const json_t *exp = json_object_get(payload, "exp");
    const json_t *nbf = json_object_get(payload, "nbf");
    if (!json_is_number(exp) || (nbf != NULL && !json_is_number(nbf)))
        return E_AUTH_INVALID;
    if (json_number_value(exp) <= now)
        return E_AUTH_EXP;
    if (nbf != NULL && json_number_value(nbf) > now)
        return E_AUTH_NBF;
    return E_OK;
}

/* Verifies a Kling HS256 JWT: alg, signature with SK, iss == AK, times. */
static s_err_t
s_kling_jwt(const sim_config_t *cfg, const char *token)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    json_t *header = NULL;
    json_t *payload = NULL;
    uint8_t mac[RL_SHA256_LEN];
    char expect[64];
    s_err_t err = E_AUTH_INVALID;

    if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
        goto out;
    header = s_jwt_part(token, (size_t)(dot1 - token));
    payload = s_jwt_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    const char *alg = json_string_value(json_object_get(header, "alg"));
    if (payload == NULL || alg == NULL || strcmp(alg, "HS256") != 0)
        goto out;
    err = E_AUTH_FAILED;
    int n = -1;
    if (rl_hmac_sha256(cfg->kling_sk, strlen(cfg->kling_sk), token,
                       (size_t)(dot2 - token), mac) == 0)
        n = rl_base64url_encode(mac, sizeof mac, expect, sizeof expect);
    if (n < 0 || !rl_timingsafe_equal(expect, (size_t)n, dot2 + 1,
                                      strlen(dot2 + 1)))
        goto out;
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    if (iss == NULL || strcmp(iss, cfg->kling_ak) != 0)
        goto out;
    err = s_jwt_times(payload, (double)(rl_clock_wall_ms() / 1000));
out:
    json_decref(payload);
    json_decref(header);
    return err;
}

/* Kling auth: a bearer token, and a valid JWT when AK/SK are set. */
static s_err_t
s_kling_auth(const sim_t *sim, struct evhttp_request *req)
{
    const char *token = s_bearer(req);
    if (token == NULL)
        return E_AUTH_MISSING;
    if (sim->cfg->kling_ak == NULL)
        return E_OK;
    return s_kling_jwt(sim->cfg, token);
}

/* The request body as a JSON object, or NULL. Caller owns. */
static json_t *
s_body_json(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return NULL;
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_t *doc = json_loadb(data, len, 0, NULL);
    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/* obj[key] as a string: dflt when absent, NULL when not a string. */
static const char *
s_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return dflt;
    return json_string_value(v);
}

/* Kling's duration is a string of seconds; -1 when invalid. */
static int
s_kling_duration(const json_t *v)
{
    if (v == NULL)
        return SIM_KLING_DEFAULT_DURATION;
    const char *s = json_string_value(v);
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return -1;
    char *end = NULL;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < SIM_KLING_DURATION_MIN ||
        n > SIM_KLING_DURATION_MAX)
        return -1;
    return (int)n;
}

/* ---- Kling ----------------------------------------------------------- */

static void
s_kling_submit(sim_t *sim, struct evhttp_request *req, bool i2v)
{
    json_t *body = NULL;
    struct sim_script sc;
    char rid[SIM_ID_LEN];

    sim->submits++;
    s_err_t err = s_kling_auth(sim, req);
    if (err != E_OK)
        goto fail;
    err = E_BAD_REQUEST;
    if ((body = s_body_json(req)) == NULL)
        goto fail;
    const char *prompt = s_str(body, "prompt", "");
    const char *model = s_str(body, "model_name", "kling-v1");
    const char *ext = s_str(body, "external_task_id", NULL);
    const char *image = s_str(body, "image", NULL);
    int duration = s_kling_duration(json_object_get(body, "duration"));
    if (prompt == NULL || model == NULL || duration < 0 ||
        (json_object_get(body, "external_task_id") && ext == NULL) ||
        (i2v ? image == NULL || *image == '\0' : *prompt == '\0'))
        goto fail;

    sim_script_parse(prompt, sim->cfg->name, SIM_API_KLING, &sc);
    if (!s_submit_scripted(sim, req, SIM_API_KLING, prompt, &sc)) {
        struct sim_task *t = s_task_new(sim, SIM_API_KLING, model, prompt,
                                        &sc);
        t->i2v = i2v;
        t->duration_s = duration;
        t->external_id = ext != NULL ? rl_strdup(ext) : NULL;
        s_new_id(sim, "req-", rid, sizeof rid);
        s_reply_json(req, 200,
                     json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:{s:s?},s:I,s:I}}",
                               "code", 0, "message", "", "request_id", rid,
                               "data", "task_id", t->id, "task_status",
                               sim_script_state_name(SIM_API_KLING, t->state),
                               "task_info", "external_task_id",
                               t->external_id, "created_at",
                               (json_int_t)t->created_ms, "updated_at",
                               (json_int_t)t->updated_ms));
    }
    json_decref(body);
    return;
fail:
    json_decref(body);
    s_api_error(sim, req, SIM_API_KLING, err);
}

static const char *
s_kling_fail_msg(const struct sim_task *t)
{
    if (t->state < SIM_ST_FAILED)
        return "";
    switch (t->script.fail) {
    case SIM_FAIL_CONTENT:
        return "Failure to pass the risk control system: content policy";
    case SIM_FAIL_CAPACITY:
        return "resource exhausted";
    case SIM_FAIL_EXPIRED:
        return "task timed out";
    default:
        return "video generation failed";
    }
}

/* The Kling task object, the "data" of a poll answer. */
static json_t *
s_kling_task_json(const sim_t *sim, const struct sim_task *t)
{
    char url[SIM_ID_LEN + 128];
    char vid[SIM_ID_LEN + 8];
    char dur[16];

    json_t *data = json_pack(
        "{s:s,s:s,s:s,s:{s:s?},s:I,s:I}", "task_id", t->id, "task_status",
        sim_script_state_name(SIM_API_KLING, t->state), "task_status_msg",
        s_kling_fail_msg(t), "task_info", "external_task_id", t->external_id,
        "created_at", (json_int_t)t->created_ms, "updated_at",
        (json_int_t)t->updated_ms);
    if (data != NULL && t->state == SIM_ST_SUCCEEDED) {
        s_output_url(sim, t, url, sizeof url);
        snprintf(vid, sizeof vid, "%s-v0", t->id);
        snprintf(dur, sizeof dur, "%d", t->duration_s);
        json_object_set_new(data, "task_result",
                            json_pack("{s:[{s:s,s:s,s:s}]}", "videos", "id",
                                      vid, "url", url, "duration", dur));
    }
    return data;
}

static void
s_kling_poll(sim_t *sim, struct evhttp_request *req, bool i2v,
             const char *id)
{
    char rid[SIM_ID_LEN];

    sim->polls++;
    s_err_t err = s_kling_auth(sim, req);
    if (err != E_OK) {
        s_api_error(sim, req, SIM_API_KLING, err);
        return;
    }
    struct sim_task *t = s_task_find(sim, id);
    if (t == NULL || t->api != SIM_API_KLING || t->i2v != i2v) {
        s_api_error(sim, req, SIM_API_KLING, E_NOT_FOUND);
        return;
    }
    if (s_poll_scripted(sim, req, t))
        return;
    s_new_id(sim, "req-", rid, sizeof rid);
    s_reply_json(req, 200,
                 json_pack("{s:i,s:s,s:s,s:o}", "code", 0, "message", "",
                           "request_id", rid, "data",
                           s_kling_task_json(sim, t)));
}

/* ---- Seedance (BytePlus Ark) ----------------------------------------- */

/* The prompt of an Ark content[] array: the first text item's text, ""
 * for images only, or NULL when the array is malformed. */
static const char *
s_ark_prompt(const json_t *content)
{
    const char *prompt = NULL;
    size_t i;
    json_t *item;

    if (!json_is_array(content) || json_array_size(content) == 0)
        return NULL;
    json_array_foreach(content, i, item) {
        const char *type = s_str(item, "type", NULL);
        if (type != NULL && strcmp(type, "text") == 0) {
            const char *text = s_str(item, "text", NULL);
            if (text == NULL)
                return NULL;
            if (prompt == NULL)
                prompt = text;
        } else if (type == NULL || strcmp(type, "image_url") != 0 ||
                   s_str(json_object_get(item, "image_url"), "url", NULL) ==
                       NULL) {
            return NULL;
        }
    }
    return prompt != NULL ? prompt : "";
}

/* The requested length: top-level "duration", else the "--dur N" text
 * command, else 5 s. */
static int
s_ark_duration(const json_t *body, const char *prompt)
{
    const json_t *d = json_object_get(body, "duration");
    if (json_is_integer(d) && json_integer_value(d) > 0 &&
        json_integer_value(d) <= SIM_KLING_DURATION_MAX)
        return (int)json_integer_value(d);
    const char *p = strstr(prompt, "--dur ");
    if (p == NULL)
        p = strstr(prompt, "--duration ");
    if (p != NULL) {
        char *end = NULL;
        long n = strtol(strchr(p, ' ') + 1, &end, 10);
        if (end != NULL && n > 0 && n <= SIM_KLING_DURATION_MAX)
            return (int)n;
    }
    return SIM_KLING_DEFAULT_DURATION;
}

static void
s_ark_submit(sim_t *sim, struct evhttp_request *req)
{
    json_t *body = NULL;
    struct sim_script sc;
    s_err_t err = E_AUTH_MISSING;

    sim->submits++;
    if (s_bearer(req) == NULL)
        goto fail;
    err = E_BAD_REQUEST;
    if ((body = s_body_json(req)) == NULL)
        goto fail;
    const char *model = s_str(body, "model", NULL);
    const char *prompt = s_ark_prompt(json_object_get(body, "content"));
    if (model == NULL || *model == '\0' || prompt == NULL)
        goto fail;

    sim_script_parse(prompt, sim->cfg->name, SIM_API_SEEDANCE, &sc);
    if (!s_submit_scripted(sim, req, SIM_API_SEEDANCE, prompt, &sc)) {
        struct sim_task *t = s_task_new(sim, SIM_API_SEEDANCE, model,
                                        prompt, &sc);
        t->duration_s = s_ark_duration(body, prompt);
        s_reply_json(req, 200, json_pack("{s:s}", "id", t->id));
    }
    json_decref(body);
    return;
fail:
    json_decref(body);
    s_api_error(sim, req, SIM_API_SEEDANCE, err);
}

/* The error member of a task: null unless it failed. */
static json_t *
s_ark_task_error(const struct sim_task *t)
{
    const char *code = "GenerationFailed";
    const char *msg = "The video generation failed.";

    if (t->state != SIM_ST_FAILED)
        return json_null();
    if (t->script.fail == SIM_FAIL_CONTENT) {
        code = "OutputVideoSensitiveContentDetected";
        msg = "The output video may contain sensitive information.";
    } else if (t->script.fail == SIM_FAIL_CAPACITY) {
        code = "ServerOverloaded";
        msg = "The service is overloaded, please try again later.";
    }
    return json_pack("{s:s,s:s}", "code", code, "message", msg);
}

static json_t *
s_ark_task_json(const sim_t *sim, const struct sim_task *t)
{
    char url[SIM_ID_LEN + 128];
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:o,s:I,s:I}", "id", t->id, "model", t->model,
        "status", sim_script_state_name(SIM_API_SEEDANCE, t->state), "error",
        s_ark_task_error(t), "created_at", (json_int_t)(t->created_ms / 1000),
        "updated_at", (json_int_t)(t->updated_ms / 1000));
    if (doc != NULL && t->state == SIM_ST_SUCCEEDED) {
        s_output_url(sim, t, url, sizeof url);
        json_object_set_new(doc, "content",
                            json_pack("{s:s}", "video_url", url));
        json_object_set_new(doc, "duration", json_integer(t->duration_s));
        json_object_set_new(doc, "framespersecond",
                            json_integer(SIM_ARK_FPS));
        json_object_set_new(doc, "usage",
                            json_pack("{s:i,s:i}", "completion_tokens",
                                      SIM_ARK_TOKENS, "total_tokens",
                                      SIM_ARK_TOKENS));
    }
    return doc;
}

/* The task a poll or DELETE names, or NULL after answering an error. */
static struct sim_task *
s_ark_lookup(sim_t *sim, struct evhttp_request *req, const char *id)
{
    if (s_bearer(req) == NULL) {
        s_api_error(sim, req, SIM_API_SEEDANCE, E_AUTH_MISSING);
        return NULL;
    }
    struct sim_task *t = s_task_find(sim, id);
    if (t == NULL || t->api != SIM_API_SEEDANCE || t->deleted) {
        s_api_error(sim, req, SIM_API_SEEDANCE, E_NOT_FOUND);
        return NULL;
    }
    return t;
}

static void
s_ark_poll(sim_t *sim, struct evhttp_request *req, const char *id)
{
    sim->polls++;
    struct sim_task *t = s_ark_lookup(sim, req, id);
    if (t != NULL && !s_poll_scripted(sim, req, t))
        s_reply_json(req, 200, s_ark_task_json(sim, t));
}

/* DELETE cancels a queued or running task and deletes a terminal one. */
static void
s_ark_cancel(sim_t *sim, struct evhttp_request *req, const char *id)
{
    sim->cancels++;
    struct sim_task *t = s_ark_lookup(sim, req, id);
    if (t == NULL)
        return;
    if (t->state < SIM_ST_SUCCEEDED) {
        s_task_set_state(t, SIM_ST_CANCELLED);
        t->cancelled = true;
    } else {
        t->deleted = true;
    }
    s_reply_json(req, 200, json_object());
}

/* ---- control endpoints ----------------------------------------------- */

static json_t *
s_task_summary(const struct sim_task *t)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s?,s:s,s:i,s:I,s:b,s:b,s:s}",
                     "task_id", t->id, "api", sim_script_api_name(t->api),
                     "model", t->model, "prompt", t->prompt,
                     "external_task_id", t->external_id, "status",
                     sim_script_state_name(t->api, t->state), "polls",
                     (int)t->polls, "created_ms", (json_int_t)t->created_ms,
                     "cancelled", t->cancelled, "deleted", t->deleted,
                     "endpoint",
                     t->api == SIM_API_SEEDANCE ? "tasks"
                     : t->i2v                   ? "image2video"
                                                : "text2video");
}

/* Streams every task as one JSON array, oldest first. */
static void
s_ctl_tasks(sim_t *sim, struct evhttp_request *req)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    const struct sim_task *t;
    const char *sep = "";

    evbuffer_add(out, "[", 1);
    TAILQ_FOREACH(t, &sim->order, order) {
        json_t *doc = s_task_summary(t);
        evbuffer_add_printf(out, "%s", sep);
        json_dump_callback(doc, s_dump_cb, out, JSON_COMPACT);
        json_decref(doc);
        sep = ",";
    }
    evbuffer_add(out, "]", 1);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "application/json");
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void
s_ctl_stats(sim_t *sim, struct evhttp_request *req)
{
    size_t held = 0;
    const struct s_hold *h;
    TAILQ_FOREACH(h, &sim->holds, link)
        held++;
    s_reply_json(req, 200,
                 json_pack("{s:I,s:I,s:I,s:I,s:I}", "submits",
                           (json_int_t)sim->submits, "polls",
                           (json_int_t)sim->polls, "cancels",
                           (json_int_t)sim->cancels, "tasks",
                           (json_int_t)sim->tasks.count, "held",
                           (json_int_t)held));
}

/* Frees every task and prompt counter and zeroes the counters. Held
 * requests stay: they belong to their connections. */
static void
s_sim_clear(sim_t *sim)
{
    struct sim_task *t;
    while ((t = TAILQ_FIRST(&sim->order)) != NULL) {
        TAILQ_REMOVE(&sim->order, t, order);
        s_task_destroy(&t);
    }
    for (size_t i = 0; i < sim->prompts.nchains; i++) {
        struct s_node *n;
        while ((n = SLIST_FIRST(&sim->prompts.chains[i])) != NULL) {
            SLIST_REMOVE_HEAD(&sim->prompts.chains[i], link);
            struct s_counter *c = (struct s_counter *)n;
            free(c->prompt);
            free(c);
        }
    }
    s_index_release(&sim->tasks);
    s_index_release(&sim->prompts);
    sim->submits = sim->polls = sim->cancels = 0;
    sim->forced_count = 0;
}

/* {"submit": 400|429|500|503|"capacity"|"hang"|"ok", "count": N} */
static void
s_ctl_behaviour(sim_t *sim, struct evhttp_request *req)
{
    static const struct {
        int status;
        const char *word;
        sim_submit_t what;
    } map[] = {
        {0, "ok", SIM_SUBMIT_OK},          {400, "400", SIM_SUBMIT_400},
        {429, "429", SIM_SUBMIT_429},      {500, "500", SIM_SUBMIT_500},
        {503, "503", SIM_SUBMIT_503},      {-1, "hang", SIM_SUBMIT_HANG},
        {-1, "capacity", SIM_SUBMIT_CAPACITY},
    };
    json_t *body = s_body_json(req);
    const json_t *submit = json_object_get(body, "submit");
    const json_t *count = json_object_get(body, "count");
    int found = -1;

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if ((json_is_integer(submit) &&
             json_integer_value(submit) == map[i].status) ||
            (json_is_string(submit) &&
             strcmp(json_string_value(submit), map[i].word) == 0))
            found = (int)i;
    if (found < 0 || (count != NULL && (!json_is_integer(count) ||
                                        json_integer_value(count) < 0 ||
                                        json_integer_value(count) >
                                            INT_MAX))) {
        json_decref(body);
        s_reply_json(req, 400, json_pack("{s:s}", "error", "bad behaviour"));
        return;
    }
    sim->forced_submit = map[found].what;
    sim->forced_count = count != NULL ? (unsigned)json_integer_value(count)
                                      : 1;
    if (sim->forced_submit == SIM_SUBMIT_OK)
        sim->forced_count = 0;
    json_decref(body);
    s_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- dispatch -------------------------------------------------------- */

/* Matches path against a collection: 0 for the collection itself, 1 for
 * "prefix/ID" (ID copied into id), -1 otherwise. */
static int
s_route(const char *path, const char *prefix, char *id, size_t id_len)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return -1;
    if (path[n] == '\0')
        return 0;
    const char *rest = path + n + 1;
    size_t len = strlen(rest);
    if (path[n] != '/' || len == 0 || len >= id_len ||
        strchr(rest, '/') != NULL)
        return -1;
    memcpy(id, rest, len + 1);
    return 1;
}

static void
s_not_allowed(struct evhttp_request *req)
{
    s_reply_json(req, 405, json_pack("{s:s}", "error", "method not allowed"));
}

/* The API routes; false when path is not one of them. */
static bool
s_dispatch_api(sim_t *sim, struct evhttp_request *req,
               enum evhttp_cmd_type m, const char *path)
{
    char id[SIM_ID_LEN];
    int r;

    for (int i2v = 0; i2v < 2; i2v++) {
        r = s_route(path, i2v ? s_kling_i2v : s_kling_t2v, id, sizeof id);
        if (r == 0 && m == EVHTTP_REQ_POST)
            s_kling_submit(sim, req, i2v);
        else if (r == 1 && m == EVHTTP_REQ_GET)
            s_kling_poll(sim, req, i2v, id);
        else if (r >= 0)
            s_not_allowed(req);
        if (r >= 0)
            return true;
    }
    r = s_route(path, s_ark_tasks, id, sizeof id);
    if (r == 0 && m == EVHTTP_REQ_POST)
        s_ark_submit(sim, req);
    else if (r == 1 && m == EVHTTP_REQ_GET)
        s_ark_poll(sim, req, id);
    else if (r == 1 && m == EVHTTP_REQ_DELETE)
        s_ark_cancel(sim, req, id);
    else if (r >= 0)
        s_not_allowed(req);
    return r >= 0;
}

/* GET /output/<task_id>.mp4: a few bytes of MP4 for a known task. */
static void
s_output_get(sim_t *sim, struct evhttp_request *req, const char *name)
{
    char id[SIM_ID_LEN];
    size_t len = strlen(name);
    static const char ext[] = ".mp4";

    if (len > sizeof ext - 1 && len - (sizeof ext - 1) < sizeof id &&
        strcmp(name + len - (sizeof ext - 1), ext) == 0) {
        memcpy(id, name, len - (sizeof ext - 1));
        id[len - (sizeof ext - 1)] = '\0';
        if (s_task_find(sim, id) != NULL) {
            s_reply_raw(req, 200, "video/mp4", s_mp4, sizeof s_mp4);
            return;
        }
    }
    s_reply_json(req, 404, json_pack("{s:s}", "error", "not found"));
}

static void
s_dispatch(struct evhttp_request *req, void *arg)
{
    sim_t *sim = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type m = evhttp_request_get_command(req);

    if (path == NULL)
        path = "";
    if (s_dispatch_api(sim, req, m, path))
        return;
    if (m == EVHTTP_REQ_GET &&
        strncmp(path, s_output, sizeof s_output - 1) == 0) {
        s_output_get(sim, req, path + sizeof s_output - 1);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/stats") == 0) {
        s_ctl_stats(sim, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_sim/tasks") == 0) {
        s_ctl_tasks(sim, req);
    } else if (m == EVHTTP_REQ_POST && strcmp(path, "/_sim/reset") == 0) {
        s_sim_clear(sim);
        s_index_init(&sim->tasks);
        s_index_init(&sim->prompts);
        s_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
    } else if (m == EVHTTP_REQ_POST && strcmp(path, "/_sim/behaviour") == 0) {
        s_ctl_behaviour(sim, req);
    } else {
        s_reply_json(req, 404, json_pack("{s:s}", "error", "not found"));
    }
}

/* ---- process --------------------------------------------------------- */

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    sim_t *sim = arg;
    (void)what;
    rl_log_info("signal %d, exiting", (int)sig);
    event_base_loopbreak(sim->base);
}

static void
s_sim_destroy(sim_t **p)
{
    sim_t *sim = *p;
    if (sim == NULL)
        return;
    /* Freeing the server closes every connection; s_hold_closed runs
     * for each held request and unlinks it. */
    if (sim->http != NULL)
        evhttp_free(sim->http);
    struct s_hold *h;
    while ((h = TAILQ_FIRST(&sim->holds)) != NULL) {
        TAILQ_REMOVE(&sim->holds, h, link);
        free(h);
    }
    if (sim->sig_term != NULL)
        event_free(sim->sig_term);
    if (sim->sig_int != NULL)
        event_free(sim->sig_int);
    s_sim_clear(sim);
    if (sim->base != NULL)
        event_base_free(sim->base);
    free(sim);
    *p = NULL;
}

static sim_t *
s_sim_new(const sim_config_t *cfg)
{
    sim_t *sim = rl_calloc(1, sizeof *sim);
    sim->cfg = cfg;
    TAILQ_INIT(&sim->order);
    TAILQ_INIT(&sim->holds);
    s_index_init(&sim->tasks);
    s_index_init(&sim->prompts);
    if (rl_random_id("", 4, sim->salt, sizeof sim->salt) != 0)
        goto fail;
    sim->base = event_base_new();
    if (sim->base == NULL)
        goto fail;
    sim->http = evhttp_new(sim->base);
    sim->sig_int = evsignal_new(sim->base, SIGINT, s_on_signal, sim);
    sim->sig_term = evsignal_new(sim->base, SIGTERM, s_on_signal, sim);
    if (sim->http == NULL || sim->sig_int == NULL || sim->sig_term == NULL ||
        event_add(sim->sig_int, NULL) != 0 ||
        event_add(sim->sig_term, NULL) != 0)
        goto fail;
    evhttp_set_gencb(sim->http, s_dispatch, sim);
    evhttp_set_max_body_size(sim->http, SIM_MAX_BODY);
    evhttp_set_timeout(sim->http, SIM_CONN_TIMEOUT_S);
    evhttp_set_allowed_methods(sim->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_HEAD);
    return sim;
fail:
    rl_log_errorx("cannot set up the event loop");
    s_sim_destroy(&sim);
    return NULL;
}

/* Binds host:port (port 0 = any) with a deep backlog, then prints
 * "listening HOST:PORT" for the test harness. */
static int
s_sim_listen(sim_t *sim)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)sim->cfg->port)};
    socklen_t len = sizeof sin;

    if (inet_pton(AF_INET, sim->cfg->host, &sin.sin_addr) != 1) {
        rl_log_errorx("bad listen address %s", sim->cfg->host);
        return -1;
    }
    struct evconnlistener *lev = evconnlistener_new_bind(
        sim->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
        SOMAXCONN, (struct sockaddr *)&sin, sizeof sin);
    if (lev == NULL) {
        rl_log_error("bind %s:%d", sim->cfg->host, sim->cfg->port);
        return -1;
    }
    if (evhttp_bind_listener(sim->http, lev) == NULL) {
        evconnlistener_free(lev);
        return -1;
    }
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&sin,
                    &len) != 0)
        return -1;
    int port = ntohs(sin.sin_port);
    snprintf(sim->origin, sizeof sim->origin, "http://%s:%d", sim->cfg->host,
             port);
    printf("listening %s:%d\n", sim->cfg->host, port);
    fflush(stdout);
    return 0;
}

/* Lets thousands of keep-alive connections in: soft fd limit = hard. */
static void
s_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl_log_warn("setrlimit(RLIMIT_NOFILE)");
    }
}

/* Splits "HOST:PORT" into cfg. Returns 0 or -1. */
static int
s_parse_listen(const char *arg, sim_config_t *cfg)
{
    const char *colon = strrchr(arg, ':');
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - arg) >= sizeof cfg->host)
        return -1;
    memcpy(cfg->host, arg, (size_t)(colon - arg));
    cfg->host[colon - arg] = '\0';
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
        port > 65535)
        return -1;
    cfg->port = (int)port;
    return 0;
}

static void
s_usage(FILE *f)
{
    fprintf(f,
            "usage: reelay-simulator --listen 127.0.0.1:PORT [--name NAME]\n"
            "       [--kling-ak AK --kling-sk SK] [--max-tasks N]\n"
            "       [--log-level error|warn|info|debug]\n");
}

/* Parses the command line into *cfg. Returns 0, or -1 after a message. */
static int
s_parse_args(int argc, char **argv, sim_config_t *cfg)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"name", required_argument, NULL, 'n'},
        {"kling-ak", required_argument, NULL, 'a'},
        {"kling-sk", required_argument, NULL, 's'},
        {"max-tasks", required_argument, NULL, 'm'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool listen = false;
    int c;
    char *end = NULL;
    long n;

    *cfg = (sim_config_t){.max_tasks = SIM_DEFAULT_MAX_TASKS};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (s_parse_listen(optarg, cfg) != 0)
                goto bad;
            listen = true;
            break;
        case 'n': cfg->name = optarg; break;
        case 'a': cfg->kling_ak = optarg; break;
        case 's': cfg->kling_sk = optarg; break;
        case 'm':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > INT_MAX)
                goto bad;
            cfg->max_tasks = (size_t)n;
            break;
        case 'v':
            if ((n = rl_log_level_parse(optarg)) < 0)
                goto bad;
            rl_log_init("reelay-simulator", (rl_log_level_t)n);
            break;
        case 'h': s_usage(stdout); exit(0);
        default: goto bad;
        }
    }
    if (!listen || optind != argc ||
        (cfg->kling_ak == NULL) != (cfg->kling_sk == NULL))
        goto bad;
    return 0;
bad:
    s_usage(stderr);
    return -1;
}

int
main(int argc, char **argv)
{
    sim_config_t cfg;
    sim_t *sim = NULL;
    int rc = 1;

    rl_log_init("reelay-simulator", RL_LOG_WARN);
    if (s_parse_args(argc, argv, &cfg) != 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    s_raise_nofile();
    if ((sim = s_sim_new(&cfg)) == NULL || s_sim_listen(sim) != 0)
        goto out;
    if (event_base_dispatch(sim->base) == 0 ||
        event_base_got_break(sim->base))
        rc = 0;
out:
    s_sim_destroy(&sim);
    return rc;
}
