/*
 * sim_index - the provider simulator's state: a string-keyed chained hash
 * index (tasks by id, submit counters by prompt), task ids, and each
 * task's lifetime from the scripted submit that creates it, through the
 * polls that advance it, to sim_clear().
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_log.h"
#include "sim.h"

#define SIM_MIN_CHAINS 4096       /* initial hash index size */
#define SIM_COUNT_BEYOND UINT_MAX /* prompt counter table full */

/* How many submits a scripted prompt has seen. */
struct s_counter {
    struct sim_node node; /* key = prompt; must stay first */
    char *prompt;         /* owned key */
    unsigned submits;     /* including this one */
};

/* ---- hash index ---------------------------------------------------- */

static uint32_t
s_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *key != '\0'; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

void
sim_index_init(struct sim_index *ix)
{
    ix->nchains = SIM_MIN_CHAINS;
    ix->chains = rl_calloc(ix->nchains, sizeof *ix->chains);
    ix->count = 0;
}

struct sim_node *
sim_index_find(const struct sim_index *ix, const char *key)
{
    struct sim_node *n;
    SLIST_FOREACH(n, &ix->chains[s_hash(key) & (ix->nchains - 1)], link)
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

/* Doubles the bucket array; amortised O(1) per insertion. */
static void
s_index_grow(struct sim_index *ix)
{
    size_t nchains = ix->nchains * 2;
    struct sim_chain *chains = rl_calloc(nchains, sizeof *chains);
    for (size_t i = 0; i < ix->nchains; i++) {
        struct sim_node *n;
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

void
sim_index_add(struct sim_index *ix, struct sim_node *n)
{
    if (ix->count >= ix->nchains)
        s_index_grow(ix);
    SLIST_INSERT_HEAD(&ix->chains[s_hash(n->key) & (ix->nchains - 1)], n,
                      link);
    ix->count++;
}

void
sim_index_release(struct sim_index *ix)
{
    RL_FREE(ix->chains);
    ix->nchains = 0;
    ix->count = 0;
}

/* ---- tasks ----------------------------------------------------------- */

void
sim_new_id(sim_t *sim, const char *prefix, char *out, size_t len)
{
    int n = snprintf(out, len, "%s%s%llu", prefix, sim->salt,
                     (unsigned long long)++sim->seq);
    assert(n > 0 && (size_t)n < len);
    (void)n;
}

struct sim_task *
sim_task_find(sim_t *sim, const char *id)
{
    return (struct sim_task *)sim_index_find(&sim->tasks, id);
}

struct sim_task *
sim_task_of(sim_t *sim, const char *id, sim_api_t api)
{
    struct sim_task *t = sim_task_find(sim, id);
    return t != NULL && t->api == api && !t->deleted ? t : NULL;
}

int
sim_task_progress(const struct sim_task *t)
{
    if (t->state >= SIM_ST_SUCCEEDED)
        return t->state == SIM_ST_SUCCEEDED ? 100 : 0;
    if (t->state == SIM_ST_QUEUED)
        return 0;
    int64_t elapsed = rl_clock_mono_ms() - t->created_mono_ms;
    if (t->script.render_ms <= 0 || elapsed >= t->script.render_ms)
        return 99;
    return (int)(elapsed * 100 / t->script.render_ms);
}

/* Respells a new task's id as a hostile provider would (task_id=). */
static void
s_hostile_id(char *id, size_t len, sim_task_id_t how)
{
    char spelled[2 * SIM_ID_LEN];
    int n = -1;
    if (how == SIM_ID_PLAIN)
        return;
    if (how == SIM_ID_TRAVERSAL)
        n = snprintf(spelled, sizeof spelled, "../../../admin?x=1&t=%.*s",
                     SIM_ID_LEN - 1, id);
    else if (how == SIM_ID_CRLF)
        n = snprintf(spelled, sizeof spelled, "%.*s\r\nX-Injected: 1",
                     SIM_ID_LEN - 1, id);
    assert(n > 0 && (size_t)n < len);
    if (n > 0 && (size_t)n < len)
        memcpy(id, spelled, (size_t)n + 1);
}

struct sim_task *
sim_task_new(sim_t *sim, sim_api_t api, const char *model, const char *prompt,
             const struct sim_script *sc)
{
    static const char *const prefixes[SIM_API_COUNT] = {
        [SIM_API_KLING] = "kl",      [SIM_API_SEEDANCE] = "cgt-",
        [SIM_API_RUNWAY] = "rw-",    [SIM_API_OPENAI] = "video_",
        [SIM_API_REPLICATE] = "rp",  [SIM_API_FAL] = "fal-",
        [SIM_API_KINOVI] = "task_",  [SIM_API_LUMA] = "lu-",
        [SIM_API_MINIMAX] = "mm",    [SIM_API_VEO] = "op-",
    };
    struct sim_task *t = rl_calloc(1, sizeof *t);
    sim_new_id(sim, prefixes[api], t->id, sizeof t->id);
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
    sim_index_add(&sim->tasks, &t->node);
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
    free(t->extra);
    free(t->prompt);
    free(t->model);
    free(t);
    *p = NULL;
}

void
sim_task_set_state(struct sim_task *t, sim_state_t state)
{
    assert(t->state < SIM_ST_SUCCEEDED);
    if (state != t->state) {
        t->state = state;
        t->updated_ms = rl_clock_wall_ms();
    }
}

bool
sim_task_cancel(struct sim_task *t)
{
    if (t->state >= SIM_ST_SUCCEEDED)
        return false;
    sim_task_set_state(t, SIM_ST_CANCELLED);
    t->cancelled = true;
    return true;
}

bool
sim_poll_scripted(sim_t *sim, struct evhttp_request *req, struct sim_task *t)
{
    unsigned n = 0;

    t->last_poll_ms = rl_clock_wall_ms();
    if (t->first_poll_ms == 0)
        t->first_poll_ms = t->last_poll_ms;
    switch (sim_script_poll(&t->script, ++t->polls, &n)) {
    case SIM_POLL_HANG:
        sim_hold(sim, req);
        return true;
    case SIM_POLL_500:
        sim_api_error(sim, req, t->api, SIM_E_INTERNAL);
        return true;
    case SIM_POLL_503:
        sim_api_error(sim, req, t->api, SIM_E_UNAVAILABLE);
        return true;
    case SIM_POLL_MALFORMED:
        sim_reply_malformed(req, t->api, false);
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

/* ---- submit scripting ------------------------------------------------ */

/* Counts one more submit of prompt; returns the count (1 = first), or
 * SIM_COUNT_BEYOND when the counter table is full. */
static unsigned
s_count_prompt(sim_t *sim, const char *prompt)
{
    char *key = rl_strndup(prompt, sim_script_prompt_key_len(prompt));
    struct s_counter *c = (struct s_counter *)sim_index_find(&sim->prompts,
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
    sim_index_add(&sim->prompts, &c->node);
    return 1;
}

/* Answers a submit as `what` says (never SIM_SUBMIT_OK). */
static void
s_submit_answer(sim_t *sim, struct evhttp_request *req, sim_api_t api,
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
        sim_hold(sim, req);
    else if (what == SIM_SUBMIT_MALFORMED)
        sim_reply_malformed(req, api, true);
    else
        sim_api_error(sim, req, api, errs[what]);
}

bool
sim_submit_scripted(sim_t *sim, struct evhttp_request *req, sim_api_t api,
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
        sim_api_error(sim, req, api, SIM_E_FULL);
        return true;
    }
    if (what == SIM_SUBMIT_OK)
        return false;
    s_submit_answer(sim, req, api, what);
    return true;
}

/* ---- reset ----------------------------------------------------------- */

void
sim_clear(sim_t *sim)
{
    struct sim_task *t;
    sim_reqlog_clear(&sim->reqlog);
    while ((t = TAILQ_FIRST(&sim->order)) != NULL) {
        TAILQ_REMOVE(&sim->order, t, order);
        s_task_destroy(&t);
    }
    for (size_t i = 0; i < sim->prompts.nchains; i++) {
        struct sim_node *n;
        while ((n = SLIST_FIRST(&sim->prompts.chains[i])) != NULL) {
            SLIST_REMOVE_HEAD(&sim->prompts.chains[i], link);
            struct s_counter *c = (struct s_counter *)n;
            free(c->prompt);
            free(c);
        }
    }
    sim_index_release(&sim->tasks);
    sim_index_release(&sim->prompts);
    sim->submits = sim->polls = sim->cancels = 0;
    sim->forced_count = 0;
}
