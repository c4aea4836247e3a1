/*
 * sim_core - the provider simulator's state: each task's lifetime from
 * the scripted submit that creates it, through the polls that advance
 * it, to a reset; the held requests; the output URLs; and the /_sim/
 * views of it all (sim_core.h, sim_api.h).
 * SPDX-License-Identifier: MIT
 */
#include "sim_core.h"

#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

#include "http_hold.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "sim_index.h"

#define SIM_COUNT_BEYOND UINT_MAX /* prompt counter table full */
#define SIM_SALT_LEN 8            /* 4 random characters and the NUL */

/* How many submits a scripted prompt has seen. */
struct s_counter {
    struct sim_node node; /* key = prompt; must stay first */
    char *prompt;         /* owned key */
    unsigned submits;     /* including this one */
};

struct sim_core {
    const sim_config_t *cfg;     /* borrowed */
    struct event_base *base;     /* borrowed: the loop */
    char origin[SIM_ORIGIN_LEN]; /* "http://127.0.0.1:PORT" */
    char salt[SIM_SALT_LEN];     /* keeps ids unique across instances */
    uint64_t seq;                /* id counter */
    struct sim_index tasks;      /* sim_task by id */
    struct sim_task_list order;  /* every task, oldest first */
    struct sim_index prompts;    /* submit counters by prompt */
    uint64_t submits;            /* submit requests */
    uint64_t polls;              /* poll requests */
    uint64_t cancels;            /* DELETE requests */
    sim_submit_t forced_submit;  /* /_sim/behaviour answer */
    unsigned forced_count;       /* submits it still applies to */
    http_holds_t *holds;         /* unanswered requests */
};

/* ---- held requests --------------------------------------------------- */

void
sim_core_hold(sim_core_t *c, struct evhttp_request *req)
{
    http_hold(c->holds, req);
}

/* ---- tasks ----------------------------------------------------------- */

void
sim_core_new_id(sim_core_t *c, const char *prefix, char *out, size_t len)
{
    /* Callers' prefixes are short and len SIM_ID_LEN or more. */
    rl_fmt_fit(out, len, "%s%s%llu", prefix, c->salt,
               (unsigned long long)++c->seq);
}

struct sim_task *
sim_core_find(sim_core_t *c, const char *id)
{
    return (struct sim_task *)sim_index_find(&c->tasks, id);
}

struct sim_task *
sim_core_task(sim_core_t *c, const sim_api_t *api, const char *id)
{
    struct sim_task *t = sim_core_find(c, id);
    return t != NULL && t->api == api && !t->deleted ? t : NULL;
}

/* Respells a new task's id as a hostile provider would (task_id=). */
static void
s_hostile_id(char *id, size_t len, sim_task_id_t how)
{
    char spelled[2 * SIM_ID_LEN];
    if (how == SIM_ID_PLAIN)
        return;
    /* A new id is short: prefix, salt and a counter. */
    if (how == SIM_ID_TRAVERSAL)
        rl_fmt_fit(spelled, len, "../../../admin?x=1&t=%s", id);
    else
        rl_fmt_fit(spelled, len, "%s\r\nX-Injected: 1", id);
    memcpy(id, spelled, strlen(spelled) + 1);
}

/* Creates and indexes a task; the caller checked the cap. */
static struct sim_task *
s_task_new(sim_core_t *c, const sim_api_t *api, const char *model,
           const char *prompt, const struct sim_script *sc)
{
    struct sim_task *t = rl_calloc(1, sizeof *t);
    sim_core_new_id(c, api->id_prefix, t->id, sizeof t->id);
    s_hostile_id(t->id, sizeof t->id, sc->task_id);
    t->node.key = t->id;
    t->api = api;
    t->model = rl_strdup(model);
    t->prompt = rl_strdup(prompt);
    t->script = *sc;
    t->created_ms = rl_clock_wall_ms();
    t->created_mono_ms = rl_clock_mono_ms();
    t->updated_ms = t->created_ms;
    t->state = SIM_ST_QUEUED;
    sim_index_add(&c->tasks, &t->node);
    TAILQ_INSERT_TAIL(&c->order, t, order);
    return t;
}

static void
s_task_destroy(struct sim_task **p)
{
    struct sim_task *t = *p;
    if (t == NULL)
        return;
    free(t->external_id);
    free(t->extra);
    free(t->prompt);
    free(t->model);
    free(t);
    *p = NULL;
}

/* Answers 200 with a JSON body cut short, shaped as a submit or poll
 * answer of api. */
static void
s_reply_malformed(struct evhttp_request *req, const sim_api_t *api, bool submit)
{
    const char *body = submit ? api->malformed_submit : api->malformed_poll;
    sim_reply_raw(req, 200, "application/json", body, strlen(body));
}

bool
sim_core_poll(sim_core_t *c, struct evhttp_request *req, struct sim_task *t)
{
    unsigned n = 0;

    t->last_poll_ms = rl_clock_wall_ms();
    if (t->first_poll_ms == 0)
        t->first_poll_ms = t->last_poll_ms;
    switch (sim_script_poll(&t->script, ++t->polls, &n)) {
    case SIM_POLL_HANG:
        sim_core_hold(c, req);
        return true;
    case SIM_POLL_500:
        t->api->error(c, req, SIM_E_INTERNAL);
        return true;
    case SIM_POLL_503:
        t->api->error(c, req, SIM_E_UNAVAILABLE);
        return true;
    case SIM_POLL_MALFORMED:
        s_reply_malformed(req, t->api, false);
        return true;
    case SIM_POLL_ANSWER:
        break;
    }
    if (t->state < SIM_ST_SUCCEEDED) {
        int64_t elapsed = rl_clock_mono_ms() - t->created_mono_ms;
        sim_task_set_state(t, sim_script_state(&t->script, n, elapsed));
    }
    return false;
}

/* ---- submits --------------------------------------------------------- */

/* Counts one more submit of prompt; returns the count (1 = first), or
 * SIM_COUNT_BEYOND when the counter table is full. */
static unsigned
s_count_prompt(sim_core_t *c, const char *prompt)
{
    char *key = rl_strndup(prompt, sim_script_prompt_key_len(prompt));
    struct s_counter *n = (struct s_counter *)sim_index_find(&c->prompts, key);
    if (n != NULL) {
        free(key);
        if (n->submits < UINT_MAX - 1)
            n->submits++;
        return n->submits;
    }
    if (c->prompts.count >= c->cfg->max_tasks) {
        free(key);
        return SIM_COUNT_BEYOND;
    }
    n = rl_calloc(1, sizeof *n);
    n->prompt = key;
    n->node.key = key;
    n->submits = 1;
    sim_index_add(&c->prompts, &n->node);
    return 1;
}

/* Answers a submit as `what` says (never SIM_SUBMIT_OK). */
static void
s_submit_answer(sim_core_t *c, struct evhttp_request *req, const sim_api_t *api,
                sim_submit_t what)
{
    static const sim_err_t errs[] = {
        [SIM_SUBMIT_400] = SIM_E_INPUT_POLICY,
        [SIM_SUBMIT_429] = SIM_E_RATE,
        [SIM_SUBMIT_500] = SIM_E_INTERNAL,
        [SIM_SUBMIT_503] = SIM_E_UNAVAILABLE,
        [SIM_SUBMIT_CAPACITY] = SIM_E_CAPACITY,
    };
    assert(what != SIM_SUBMIT_OK);
    if (what == SIM_SUBMIT_HANG)
        sim_core_hold(c, req);
    else if (what == SIM_SUBMIT_MALFORMED)
        s_reply_malformed(req, api, true);
    else
        api->error(c, req, errs[what]);
}

/* Applies /_sim/behaviour and the prompt's submit directives. Returns
 * true when req has been answered or held, false to create the task. */
static bool
s_submit_scripted(sim_core_t *c, struct evhttp_request *req,
                  const sim_api_t *api, const char *prompt,
                  const struct sim_script *sc)
{
    sim_submit_t what;

    if (c->forced_count > 0) {
        c->forced_count--;
        what = c->forced_submit;
    } else {
        unsigned nth = 0;
        if (sim_script_counts_submits(sc))
            nth = s_count_prompt(c, prompt);
        what = sim_script_submit(sc, nth);
    }
    if (what == SIM_SUBMIT_OK && c->tasks.count >= c->cfg->max_tasks) {
        rl_log_warnx("task cap %zu reached", c->cfg->max_tasks);
        api->error(c, req, SIM_E_FULL);
        return true;
    }
    if (what == SIM_SUBMIT_OK)
        return false;
    s_submit_answer(c, req, api, what);
    return true;
}

struct sim_task *
sim_core_submit(sim_core_t *c, const sim_api_t *api, struct evhttp_request *req,
                const char *model, const char *prompt)
{
    struct sim_script sc;

    sim_script_parse(prompt, c->cfg->name, rl_ptype_name(api->type), &sc);
    if (s_submit_scripted(c, req, api, prompt, &sc))
        return NULL;
    return s_task_new(c, api, model, prompt, &sc);
}

/* ---- services -------------------------------------------------------- */

const sim_config_t *
sim_core_config(const sim_core_t *c)
{
    return c->cfg;
}

const char *
sim_core_origin(const sim_core_t *c)
{
    return c->origin;
}

void
sim_core_count(sim_core_t *c, sim_count_t what)
{
    switch (what) {
    case SIM_COUNT_SUBMIT:
        c->submits++;
        break;
    case SIM_COUNT_POLL:
        c->polls++;
        break;
    case SIM_COUNT_CANCEL:
        c->cancels++;
        break;
    }
}

bool
sim_core_need_bearer(sim_core_t *c, const sim_api_t *api,
                     struct evhttp_request *req)
{
    if (sim_bearer(req) != NULL)
        return true;
    api->error(c, req, SIM_E_AUTH_MISSING);
    return false;
}

void
sim_core_output_url(const sim_core_t *c, const struct sim_task *t,
                    char out[SIM_URL_LEN])
{
    const char *origin = c->origin;
    const char *host = origin + strlen("http://");
    /* The origin, the id and at most 40 characters: SIM_URL_LEN. */
    switch (t->script.output) {
    case SIM_OUTPUT_OK:
        rl_fmt_fit(out, SIM_URL_LEN, "%s%s%s.mp4", origin, SIM_OUTPUT_PATH,
                   t->id);
        break;
    case SIM_OUTPUT_JAVASCRIPT:
        rl_fmt_fit(out, SIM_URL_LEN, "javascript:alert(document.cookie)//%s",
                   t->id);
        break;
    case SIM_OUTPUT_DATA:
        rl_fmt_fit(out, SIM_URL_LEN,
                   "data:text/html,<script>alert(1)</script>");
        break;
    case SIM_OUTPUT_FILE:
        rl_fmt_fit(out, SIM_URL_LEN, "file:///etc/passwd");
        break;
    case SIM_OUTPUT_RELATIVE:
        rl_fmt_fit(out, SIM_URL_LEN, "%s%s.mp4", SIM_OUTPUT_PATH, t->id);
        break;
    case SIM_OUTPUT_USERINFO:
        rl_fmt_fit(out, SIM_URL_LEN, "http://user:pass@%s%s%s.mp4", host,
                   SIM_OUTPUT_PATH, t->id);
        break;
    case SIM_OUTPUT_CRLF:
        rl_fmt_fit(out, SIM_URL_LEN, "%s%s%s.mp4\r\nX-Injected: 1", origin,
                   SIM_OUTPUT_PATH, t->id);
        break;
    }
}

/* ---- the process's view ---------------------------------------------- */

/* Frees every task and prompt counter and releases both indexes. */
static void
s_clear(sim_core_t *c)
{
    struct sim_task *t;
    while ((t = TAILQ_FIRST(&c->order)) != NULL) {
        TAILQ_REMOVE(&c->order, t, order);
        s_task_destroy(&t);
    }
    for (size_t i = 0; i < c->prompts.nchains; i++) {
        struct sim_node *n;
        while ((n = SLIST_FIRST(&c->prompts.chains[i])) != NULL) {
            SLIST_REMOVE_HEAD(&c->prompts.chains[i], link);
            struct s_counter *counter = (struct s_counter *)n;
            free(counter->prompt);
            free(counter);
        }
    }
    sim_index_release(&c->tasks);
    sim_index_release(&c->prompts);
    c->submits = c->polls = c->cancels = 0;
    c->forced_count = 0;
}

sim_core_t *
sim_core_new(const sim_config_t *cfg, struct event_base *base)
{
    sim_core_t *c = rl_calloc(1, sizeof *c);
    c->cfg = cfg;
    c->base = base;
    TAILQ_INIT(&c->order);
    c->holds = http_holds_new(base);
    sim_index_init(&c->tasks);
    sim_index_init(&c->prompts);
    if (rl_random_id("", 4, c->salt, sizeof c->salt) != 0) {
        sim_core_destroy(&c);
        return NULL;
    }
    return c;
}

void
sim_core_destroy(sim_core_t **p)
{
    sim_core_t *c = *p;
    if (c == NULL)
        return;
    http_holds_destroy(&c->holds);
    s_clear(c);
    free(c);
    *p = NULL;
}

int
sim_core_set_origin(sim_core_t *c, const char *host, int port)
{
    return rl_fmt(c->origin, sizeof c->origin, "http://%s:%d", host, port);
}

void
sim_core_reset(sim_core_t *c)
{
    s_clear(c);
    sim_index_init(&c->tasks);
    sim_index_init(&c->prompts);
}

void
sim_core_force_submit(sim_core_t *c, sim_submit_t what, unsigned count)
{
    c->forced_submit = what;
    c->forced_count = what == SIM_SUBMIT_OK ? 0 : count;
}

void
sim_core_reply_stats(const sim_core_t *c, struct evhttp_request *req)
{
    size_t held = http_holds_count(c->holds);
    sim_reply_json(
        req, 200,
        json_pack("{s:I,s:I,s:I,s:I,s:I}", "submits", (json_int_t)c->submits,
                  "polls", (json_int_t)c->polls, "cancels",
                  (json_int_t)c->cancels, "tasks", (json_int_t)c->tasks.count,
                  "held", (json_int_t)held));
}

static json_t *
s_task_summary(const struct sim_task *t)
{
    const char *api = rl_ptype_name(t->api->type);
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s?,s:s,s:i,s:I,s:I,s:I,s:b,s:b,"
        "s:s}",
        "task_id", t->id, "api", api, "model", t->model, "prompt", t->prompt,
        "external_task_id", t->external_id, "status", sim_task_status(t),
        "polls", (int)t->polls, "created_ms", (json_int_t)t->created_ms,
        "first_poll_ms", (json_int_t)t->first_poll_ms, "last_poll_ms",
        (json_int_t)t->last_poll_ms, "cancelled", t->cancelled, "deleted",
        t->deleted, "endpoint", t->endpoint != NULL ? t->endpoint : api);
}

void
sim_core_reply_tasks(const sim_core_t *c, struct evhttp_request *req)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    const struct sim_task *t;
    const char *sep = "";

    evbuffer_add(out, "[", 1);
    TAILQ_FOREACH(t, &c->order, order)
    {
        json_t *doc = s_task_summary(t);
        evbuffer_add_printf(out, "%s", sep);
        json_dump_callback(doc, sim_dump_cb, out, JSON_COMPACT);
        json_decref(doc);
        sep = ",";
    }
    evbuffer_add(out, "]", 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, 200, "OK", NULL);
}
