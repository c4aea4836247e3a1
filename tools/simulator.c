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

/*
 * Task states. A task is created QUEUED; each answered poll may move it
 * forward (s_task_advance) and terminal states never change again:
 *
 *   QUEUED --> RUNNING --> SUCCEEDED | FAILED | EXPIRED
 *      \          \------> CANCELLED (Seedance DELETE)
 *       \-----------------> CANCELLED
 */
typedef enum {
    ST_QUEUED,
    ST_RUNNING,
    ST_SUCCEEDED, /* first terminal state */
    ST_FAILED,
    ST_EXPIRED,
    ST_CANCELLED,
    ST_COUNT,
} s_state_t;

static const char *const s_state_names[2][ST_COUNT] = {
    {"submitted", "processing", "succeed", "failed", "failed", "failed"},
    {"queued", "running", "succeeded", "failed", "expired", "cancelled"},
};

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
    s_state_t state;              /* as last reported */
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

/* A request held unanswered until its client disconnects. */
struct s_hold {
    TAILQ_ENTRY(s_hold) link;    /* sim->holds */
    struct evhttp_request *req;  /* owned by libevent or us, see below */
    struct sim *sim;             /* back pointer */
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

static const char *
s_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

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
    evhttp_send_reply(req, status, s_reason(status), NULL);
}

static void
s_reply_raw(struct evhttp_request *req, int status, const char *ctype,
            const void *body, size_t len)
{
    evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", ctype);
    evhttp_send_reply(req, status, s_reason(status), NULL);
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

/* The held request's connection is going away. When the client closed
 * it, libevent has already detached the request (evcon == NULL) and left
 * it to us to free; when the server frees the connection (shutdown), the
 * request is still attached and libevent frees it itself. */
static void
s_hold_closed(struct evhttp_connection *evcon, void *arg)
{
    struct s_hold *h = arg;
    (void)evcon;
    if (evhttp_request_get_connection(h->req) == NULL)
        evhttp_request_free(h->req);
    TAILQ_REMOVE(&h->sim->holds, h, link);
    free(h);
}

/* Never answers req; it is released when the client disconnects. */
static void
s_hold(sim_t *sim, struct evhttp_request *req)
{
    struct s_hold *h = rl_calloc(1, sizeof *h);
    h->req = req;
    h->sim = sim;
    TAILQ_INSERT_TAIL(&sim->holds, h, link);
    evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                  s_hold_closed, h);
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
    t->state = ST_QUEUED;
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

/* The state a task shows on its n-th answered poll. */
static s_state_t
s_task_eval(const struct sim_task *t, unsigned n, int64_t now_mono)
{
    const struct sim_script *sc = &t->script;
    int64_t elapsed = now_mono - t->created_mono_ms;
    s_state_t failed = sc->fail == SIM_FAIL_EXPIRED ? ST_EXPIRED : ST_FAILED;

    if (sc->fail_after_polls >= 0) {
        if (n > (unsigned)sc->fail_after_polls)
            return failed;
    } else if (elapsed >= sc->render_ms && n > (unsigned)sc->steps) {
        return sc->fail == SIM_FAIL_NONE ? ST_SUCCEEDED : failed;
    }
    bool early = sc->steps >= 2 ? n <= 1 : elapsed * 4 < sc->render_ms;
    return early ? ST_QUEUED : ST_RUNNING;
}

static void
s_task_set_state(struct sim_task *t, s_state_t state)
{
    assert(t->state < ST_SUCCEEDED);
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
    const struct sim_script *sc = &t->script;
    unsigned p = ++t->polls;
    unsigned hang = (unsigned)sc->poll_hang;
    unsigned fivexx = (unsigned)sc->poll_5xx;

    if (p <= hang) {
        s_hold(sim, req);
        return true;
    }
    if (p <= hang + fivexx) {
        s_api_error(sim, req, t->api,
                    (p - hang) % 2 ? E_INTERNAL : E_UNAVAILABLE);
        return true;
    }
    unsigned n = p - hang - fivexx;
    if (sc->malformed == SIM_MALFORMED_POLL &&
        (sc->malformed_times < 0 || n <= (unsigned)sc->malformed_times)) {
        s_reply_malformed(req, t->api, false);
        return true;
    }
    if (t->state < ST_SUCCEEDED)
        s_task_set_state(t, s_task_eval(t, n, rl_clock_mono_ms()));
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

/* The length of the part of a prompt that identifies it: Seedance text
 * commands (" --dur 5 ...") are cut so that one job's prompt counts the
 * same on either API. */
static size_t
s_prompt_key_len(const char *prompt)
{
    const char *p = prompt;
    while ((p = strstr(p, " --")) != NULL) {
        if (islower((unsigned char)p[3]))
            return (size_t)(p - prompt);
        p += 3;
    }
    return strlen(prompt);
}

/* Counts one more submit of prompt; returns the count (1 = first), or
 * SIM_COUNT_BEYOND when the counter table is full. */
static unsigned
s_count_prompt(sim_t *sim, const char *prompt)
{
    char *key = rl_strndup(prompt, s_prompt_key_len(prompt));
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

static bool
s_within(int times, unsigned nth)
{
    return times < 0 || nth <= (unsigned)times;
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
    else
        s_api_error(sim, req, api, errs[what]);
}

/* Applies /_sim/behaviour and the prompt's submit directives. Returns
 * true when req has been answered or held, false to create the task. */
static bool
s_submit_scripted(sim_t *sim, struct evhttp_request *req, sim_api_t api,
                  const char *prompt, const struct sim_script *sc)
{
    unsigned nth = 0;

    if (sim->forced_count > 0) {
        sim->forced_count--;
        s_submit_answer(sim, req, api, sim->forced_submit);
        return true;
    }
    if ((sc->submit != SIM_SUBMIT_OK && sc->submit_times >= 0) ||
        (sc->malformed == SIM_MALFORMED_SUBMIT && sc->malformed_times >= 0))
        nth = s_count_prompt(sim, prompt);
    if (sc->submit != SIM_SUBMIT_OK && s_within(sc->submit_times, nth)) {
        s_submit_answer(sim, req, api, sc->submit);
        return true;
    }
    if (sc->malformed == SIM_MALFORMED_SUBMIT &&
        s_within(sc->malformed_times, nth)) {
        s_reply_malformed(req, api, true);
        return true;
    }
    if (sim->tasks.count >= sim->cfg->max_tasks) {
        rl_log_warnx("task cap %zu reached", sim->cfg->max_tasks);
        s_api_error(sim, req, api, E_FULL);
        return true;
    }
    return false;
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
                               s_state_names[SIM_API_KLING][t->state],
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
    if (t->state < ST_FAILED)
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
        s_state_names[SIM_API_KLING][t->state], "task_status_msg",
        s_kling_fail_msg(t), "task_info", "external_task_id", t->external_id,
        "created_at", (json_int_t)t->created_ms, "updated_at",
        (json_int_t)t->updated_ms);
    if (data != NULL && t->state == ST_SUCCEEDED) {
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
