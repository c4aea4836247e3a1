/*
 * sim_script - the simulator's per-task directive parser. The grammar,
 * keys and precedence are documented in sim_script.h.
 * SPDX-License-Identifier: MIT
 */
#include "sim_script.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define S_TOKEN_MAX 64           /* longer keys or values are ignored */
#define S_RENDER_MS_MAX 86400000 /* one day */
#define S_STEPS_MAX 10000
#define S_COUNT_MAX 1000000

/* Precedence levels of a token, lowest first. */
enum { S_PRIO_UNSCOPED, S_PRIO_API, S_PRIO_NAME, S_PRIO_COUNT };

/* A name=value pair mapping a directive word to an enum value. */
struct s_word {
    const char *word;
    int value;
};

static const struct s_word s_submit_words[] = {
    {"ok", SIM_SUBMIT_OK},     {"400", SIM_SUBMIT_400},
    {"429", SIM_SUBMIT_429},   {"500", SIM_SUBMIT_500},
    {"503", SIM_SUBMIT_503},   {"capacity", SIM_SUBMIT_CAPACITY},
    {"hang", SIM_SUBMIT_HANG}, {NULL, 0},
};

static const struct s_word s_fail_words[] = {
    {"none", SIM_FAIL_NONE},           {"content", SIM_FAIL_CONTENT},
    {"permanent", SIM_FAIL_PERMANENT}, {"capacity", SIM_FAIL_CAPACITY},
    {"expired", SIM_FAIL_EXPIRED},     {NULL, 0},
};

static const struct s_word s_malformed_words[] = {
    {"none", SIM_MALFORMED_NONE},
    {"submit", SIM_MALFORMED_SUBMIT},
    {"poll", SIM_MALFORMED_POLL},
    {NULL, 0},
};

static const struct s_word s_task_id_words[] = {
    {"plain", SIM_ID_PLAIN},
    {"traversal", SIM_ID_TRAVERSAL},
    {"crlf", SIM_ID_CRLF},
    {NULL, 0},
};

static const struct s_word s_output_words[] = {
    {"ok", SIM_OUTPUT_OK},
    {"javascript", SIM_OUTPUT_JAVASCRIPT},
    {"data", SIM_OUTPUT_DATA},
    {"file", SIM_OUTPUT_FILE},
    {"relative", SIM_OUTPUT_RELATIVE},
    {"userinfo", SIM_OUTPUT_USERINFO},
    {"crlf", SIM_OUTPUT_CRLF},
    {NULL, 0},
};

/* Parses a decimal integer in [0, max]; -1 when it is not one. */
static long
s_number(const char *value, long max)
{
    char *end = NULL;
    if (!isdigit((unsigned char)value[0]))
        return -1;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0 || n > max)
        return -1;
    return n;
}

/* Looks value up in words; -1 when absent. */
static int
s_word(const struct s_word *words, const char *value)
{
    for (; words->word != NULL; words++)
        if (strcmp(words->word, value) == 0)
            return words->value;
    return -1;
}

/* Stores a valid number into *field, ignores a bad one. */
static void
s_set_int(int *field, const char *value, long max)
{
    long n = s_number(value, max);
    if (n >= 0)
        *field = (int)n;
}

/* Applies one unscoped key=value to out; unknown keys are ignored. */
static void
s_apply(struct sim_script *out, const char *key, const char *value)
{
    long n;
    int w;

    if (strcmp(key, "render_ms") == 0) {
        if ((n = s_number(value, S_RENDER_MS_MAX)) >= 0)
            out->render_ms = n;
    } else if (strcmp(key, "queue_ms") == 0) {
        if ((n = s_number(value, S_RENDER_MS_MAX)) >= 0)
            out->queue_ms = n;
    } else if (strcmp(key, "steps") == 0) {
        s_set_int(&out->steps, value, S_STEPS_MAX);
    } else if (strcmp(key, "submit") == 0) {
        if ((w = s_word(s_submit_words, value)) >= 0)
            out->submit = (sim_submit_t)w;
    } else if (strcmp(key, "submit_times") == 0) {
        s_set_int(&out->submit_times, value, S_COUNT_MAX);
    } else if (strcmp(key, "fail") == 0) {
        if ((w = s_word(s_fail_words, value)) >= 0)
            out->fail = (sim_fail_t)w;
    } else if (strcmp(key, "fail_after_polls") == 0) {
        s_set_int(&out->fail_after_polls, value, S_COUNT_MAX);
    } else if (strcmp(key, "poll_hang") == 0) {
        s_set_int(&out->poll_hang, value, S_COUNT_MAX);
    } else if (strcmp(key, "poll_5xx") == 0) {
        s_set_int(&out->poll_5xx, value, S_COUNT_MAX);
    } else if (strcmp(key, "malformed") == 0) {
        if ((w = s_word(s_malformed_words, value)) >= 0)
            out->malformed = (sim_malformed_t)w;
    } else if (strcmp(key, "malformed_times") == 0) {
        s_set_int(&out->malformed_times, value, S_COUNT_MAX);
    } else if (strcmp(key, "task_id") == 0) {
        if ((w = s_word(s_task_id_words, value)) >= 0)
            out->task_id = (sim_task_id_t)w;
    } else if (strcmp(key, "output_url") == 0) {
        if ((w = s_word(s_output_words, value)) >= 0)
            out->output = (sim_output_t)w;
    }
}

/* The precedence of a token's scope, or -1 when the token is scoped to
 * another API or simulator. `scope` is NULL for an unscoped token. */
static int
s_scope_prio(const char *scope, const char *sim_name, const char *api)
{
    if (scope == NULL)
        return S_PRIO_UNSCOPED;
    if (sim_name != NULL && strcmp(scope, sim_name) == 0)
        return S_PRIO_NAME;
    if (strcmp(scope, api) == 0)
        return S_PRIO_API;
    return -1;
}

/* Handles one "[scope.]key=value" token of length len at the given
 * precedence level. */
static void
s_token(struct sim_script *out, const char *tok, size_t len, int prio,
        const char *sim_name, const char *api)
{
    char buf[2 * S_TOKEN_MAX];
    if (len >= sizeof buf)
        return;
    memcpy(buf, tok, len);
    buf[len] = '\0';

    char *eq = strchr(buf, '=');
    if (eq == NULL || eq == buf)
        return;
    *eq = '\0';
    const char *value = eq + 1;
    char *key = buf;
    char *dot = strrchr(buf, '.');
    const char *scope = NULL;
    if (dot != NULL) {
        *dot = '\0';
        scope = buf;
        key = dot + 1;
    }
    if (strlen(key) >= S_TOKEN_MAX || strlen(value) >= S_TOKEN_MAX)
        return;
    if (s_scope_prio(scope, sim_name, api) == prio)
        s_apply(out, key, value);
}

/* Applies the tokens of one block body [p, end) at one level. */
static void
s_block(struct sim_script *out, const char *p, const char *end, int prio,
        const char *sim_name, const char *api)
{
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        const char *tok = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
        if (p > tok)
            s_token(out, tok, (size_t)(p - tok), prio, sim_name, api);
    }
}

/* Finds the next block at or after p: sets *body and *end to its
 * contents and returns the position after it, or NULL when no complete
 * block is left. */
static const char *
s_next_block(const char *p, const char **body, const char **end)
{
    static const char open[] = "[sim";
    while ((p = strstr(p, open)) != NULL) {
        const char *after = p + sizeof open - 1;
        if (*after == ']' || isspace((unsigned char)*after)) {
            const char *close = strchr(after, ']');
            if (close == NULL)
                return NULL;
            *body = after;
            *end = close;
            return close + 1;
        }
        p = after;
    }
    return NULL;
}

void
sim_script_parse(const char *prompt, const char *sim_name, const char *api,
                 struct sim_script *out)
{
    assert(out != NULL && api != NULL);

    *out = (struct sim_script){
        .render_ms = SIM_SCRIPT_DEFAULT_RENDER_MS,
        .submit_times = -1,
        .fail_after_polls = -1,
        .malformed_times = -1,
    };
    if (prompt == NULL)
        return;

    const char *body = NULL;
    const char *end = NULL;
    if (s_next_block(prompt, &body, &end) != NULL) {
        out->has_directive = true;
        out->render_ms = 0;
    }
    for (int prio = 0; prio < S_PRIO_COUNT; prio++) {
        const char *p = prompt;
        while ((p = s_next_block(p, &body, &end)) != NULL)
            s_block(out, body, end, prio, sim_name, api);
    }
    if (out->fail_after_polls >= 0 && out->fail == SIM_FAIL_NONE)
        out->fail = SIM_FAIL_PERMANENT;
}

sim_state_t
sim_script_state(const struct sim_script *sc, unsigned n, int64_t elapsed_ms)
{
    assert(sc != NULL);
    sim_state_t failed =
        sc->fail == SIM_FAIL_EXPIRED ? SIM_ST_EXPIRED : SIM_ST_FAILED;
    if (elapsed_ms < sc->queue_ms)
        return SIM_ST_QUEUED;
    elapsed_ms -= sc->queue_ms;
    if (sc->fail_after_polls >= 0) {
        if (n > (unsigned)sc->fail_after_polls)
            return failed;
    } else if (elapsed_ms >= sc->render_ms && n > (unsigned)sc->steps) {
        return sc->fail == SIM_FAIL_NONE ? SIM_ST_SUCCEEDED : failed;
    }
    bool early = sc->steps >= 2 ? n <= 1 : elapsed_ms * 4 < sc->render_ms;
    return early ? SIM_ST_QUEUED : SIM_ST_RUNNING;
}

/* True when a directive limited to `times` answers applies to the nth. */
static bool
s_within(int times, unsigned nth)
{
    return times < 0 || nth <= (unsigned)times;
}

sim_poll_t
sim_script_poll(const struct sim_script *sc, unsigned p, unsigned *n)
{
    unsigned hang = (unsigned)sc->poll_hang;
    unsigned fivexx = (unsigned)sc->poll_5xx;

    assert(sc != NULL && p >= 1 && n != NULL);
    *n = 0;
    if (p <= hang)
        return SIM_POLL_HANG;
    if (p <= hang + fivexx)
        return (p - hang) % 2 ? SIM_POLL_500 : SIM_POLL_503;
    unsigned answered = p - hang - fivexx;
    if (sc->malformed == SIM_MALFORMED_POLL &&
        s_within(sc->malformed_times, answered))
        return SIM_POLL_MALFORMED;
    *n = answered;
    return SIM_POLL_ANSWER;
}

bool
sim_script_counts_submits(const struct sim_script *sc)
{
    return (sc->submit != SIM_SUBMIT_OK && sc->submit_times >= 0) ||
           (sc->malformed == SIM_MALFORMED_SUBMIT && sc->malformed_times >= 0);
}

sim_submit_t
sim_script_submit(const struct sim_script *sc, unsigned nth)
{
    assert(sc != NULL);
    if (sc->submit != SIM_SUBMIT_OK && s_within(sc->submit_times, nth))
        return sc->submit;
    if (sc->malformed == SIM_MALFORMED_SUBMIT &&
        s_within(sc->malformed_times, nth))
        return SIM_SUBMIT_MALFORMED;
    return SIM_SUBMIT_OK;
}

size_t
sim_script_prompt_key_len(const char *prompt)
{
    const char *p = prompt;
    while ((p = strstr(p, " --")) != NULL) {
        if (islower((unsigned char)p[3]))
            return (size_t)(p - prompt);
        p += 3;
    }
    return strlen(prompt);
}
