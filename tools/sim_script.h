/*
 * sim_script - parses the "[sim key=value ...]" directives that a test
 * hides in a prompt to script how the provider simulator treats the task.
 * Pure function, no I/O: unit-tested by tests/unit/test_sim_script.c.
 * SPDX-License-Identifier: MIT
 *
 * Grammar (whitespace separates tokens, a block ends at the first ']'):
 *
 *   directive := "[sim" { WS token } [ WS ] "]"
 *   token     := [ scope "." ] key "=" value
 *   scope     := <an API name> | <the simulator's --name>
 *   API name  := a provider type (common/rl_ptype.h): "kling" |
 *                "seedance" | "runway" | ...
 *
 * A prompt may hold any number of blocks. Precedence, lowest first:
 * unscoped keys, API-scoped keys (kling., runway., ...), name-scoped keys
 * (NAME.); within one level the last occurrence wins. Tokens scoped to
 * another API or name, unknown keys, and bad values (not in the list
 * below, or out of range) are ignored and leave the field unchanged.
 *
 *   render_ms=0..86400000       total render time (no block: 2000 ms;
 *                               a block without render_ms: 0 ms)
 *   queue_ms=0..86400000        the task shows its queued state this long
 *                               first (Runway THROTTLED, fal IN_QUEUE);
 *                               render_ms counts from its end
 *   steps=0..10000              polls that show an in-progress state
 *                               before the task may finish
 *   submit=ok|400|429|500|503|capacity|hang
 *   submit_times=0..1000000     apply submit= (and malformed=submit) to
 *                               the first N submits of this prompt only
 *   fail=none|content|permanent|capacity|expired
 *   fail_after_polls=0..1000000 fail on poll N+1 instead of at the end
 *                               of render (fail=permanent if unset)
 *   poll_hang=0..1000000        the first K polls are never answered
 *   poll_5xx=0..1000000         the next K polls answer 500/503
 *   malformed=none|submit|poll  answer 200 with a truncated JSON body
 *   malformed_times=0..1000000  only for the first N submits / polls
 *   task_id=plain|traversal|crlf
 *                               a hostile provider's task id: traversal
 *                               is "../../../admin?x=1&t=<id>", crlf is
 *                               "<id>\r\nX-Injected: 1"; the simulator
 *                               finds the task by it once its URL is
 *                               decoded (sim_path_id)
 *   output_url=ok|javascript|data|file|relative|userinfo|crlf
 *                               a hostile output URL on success (every
 *                               API whose answer carries one, not OpenAI
 *                               or Veo): javascript:, data:, file:, a
 *                               path, http://user:pass@..., or the URL
 *                               followed by CR LF and a header
 *
 * Besides parsing, the module decides, as pure functions, what a task
 * shows on a poll and how a submit or poll is answered.
 */
#ifndef SIM_SCRIPT_H
#define SIM_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Render time used when the prompt holds no directive at all. */
#define SIM_SCRIPT_DEFAULT_RENDER_MS 2000

/* What a submit answers. */
typedef enum {
    SIM_SUBMIT_OK = 0,
    SIM_SUBMIT_400, /* input content policy */
    SIM_SUBMIT_429, /* the API's rate-limit error */
    SIM_SUBMIT_500,
    SIM_SUBMIT_503,
    SIM_SUBMIT_CAPACITY,  /* 429 concurrency / ServerOverloaded */
    SIM_SUBMIT_HANG,      /* never answered */
    SIM_SUBMIT_MALFORMED, /* 200 with a broken body (not a word) */
} sim_submit_t;

/* How a task fails. */
typedef enum {
    SIM_FAIL_NONE = 0,
    SIM_FAIL_CONTENT,   /* output moderation */
    SIM_FAIL_PERMANENT, /* generic generation failure */
    SIM_FAIL_CAPACITY,  /* resource exhausted / ServerOverloaded */
    SIM_FAIL_EXPIRED,   /* Seedance "expired"; Kling failed */
} sim_fail_t;

/* Which answer is malformed. */
typedef enum {
    SIM_MALFORMED_NONE = 0,
    SIM_MALFORMED_SUBMIT,
    SIM_MALFORMED_POLL,
} sim_malformed_t;

/* How a task's id is spelled (a hostile provider's ids). */
typedef enum {
    SIM_ID_PLAIN = 0,
    SIM_ID_TRAVERSAL, /* "../../../admin?x=1&t=" + the plain id */
    SIM_ID_CRLF,      /* the plain id + "\r\nX-Injected: 1" */
} sim_task_id_t;

/* How a succeeded task's output URL is spelled. */
typedef enum {
    SIM_OUTPUT_OK = 0,
    SIM_OUTPUT_JAVASCRIPT, /* javascript:... */
    SIM_OUTPUT_DATA,       /* data:text/html,... */
    SIM_OUTPUT_FILE,       /* file:///etc/passwd */
    SIM_OUTPUT_RELATIVE,   /* /output/ID.mp4 */
    SIM_OUTPUT_USERINFO,   /* http://user:pass@HOST:PORT/output/ID.mp4 */
    SIM_OUTPUT_CRLF,       /* the URL + "\r\nX-Injected: 1" */
} sim_output_t;

/* What a poll does before the task state is looked at. */
typedef enum {
    SIM_POLL_ANSWER = 0, /* answer with the task */
    SIM_POLL_HANG,       /* never answer */
    SIM_POLL_500,        /* API error, HTTP 500 */
    SIM_POLL_503,        /* API error, HTTP 503 */
    SIM_POLL_MALFORMED,  /* 200 with a broken body */
} sim_poll_t;

/*
 * Task states; each API spells them its own way (sim_api_t states).
 *
 *   QUEUED --> RUNNING --> SUCCEEDED | FAILED | EXPIRED
 *      \          \------> CANCELLED (Seedance DELETE)
 *       \-----------------> CANCELLED
 *
 * States from SUCCEEDED on are terminal and never change again.
 */
typedef enum {
    SIM_ST_QUEUED = 0,
    SIM_ST_RUNNING,
    SIM_ST_SUCCEEDED, /* the first terminal state */
    SIM_ST_FAILED,
    SIM_ST_EXPIRED,
    SIM_ST_CANCELLED,
    SIM_ST_COUNT,
} sim_state_t;

/* A parsed script; a plain value, every member is API. A count of -1
 * means "every time". */
struct sim_script {
    bool has_directive;        /* at least one [sim ...] block */
    int64_t render_ms;         /* total render time */
    int64_t queue_ms;          /* queued this long before rendering */
    int steps;                 /* in-progress polls before finishing */
    sim_submit_t submit;       /* submit answer */
    int submit_times;          /* submits it applies to, -1 = all */
    sim_fail_t fail;           /* terminal failure kind */
    int fail_after_polls;      /* -1 = fail at end of render */
    int poll_hang;             /* first polls left unanswered */
    int poll_5xx;              /* following polls answered 5xx */
    sim_malformed_t malformed; /* which answer is malformed */
    int malformed_times;       /* answers it applies to, -1 = all */
    sim_task_id_t task_id;     /* how the task id is spelled */
    sim_output_t output;       /* how the output URL is spelled */
};

/* Parses every directive block of `prompt` for a simulator called
 * `sim_name` (NULL when it has none) serving the API named `api` (its
 * scope: "kling", "runway", ...) into *out. Never fails: garbage yields
 * the defaults. `prompt` may be NULL. */
void sim_script_parse(const char *prompt, const char *sim_name, const char *api,
                      struct sim_script *out);

/* The state shown by the n-th answered poll (n >= 1) of a task created
 * elapsed_ms ago: QUEUED for the first queue_ms, then, with elapsed_ms
 * counted from there: in progress until render_ms has passed and more than
 * `steps` polls were answered (or, with fail_after_polls=N, until poll
 * N+1, which fails). In progress is QUEUED on the first poll when
 * steps >= 2, or in the first quarter of render_ms when steps < 2, and
 * RUNNING otherwise. */
sim_state_t sim_script_state(const struct sim_script *sc, unsigned n,
                             int64_t elapsed_ms);

/* What the p-th poll (p >= 1, counting every poll) of a task does: the
 * first poll_hang hang, the next poll_5xx alternate 500/503, then
 * malformed ones. *n receives the answered-poll ordinal for
 * sim_script_state(), or 0 when the poll does not answer normally. */
sim_poll_t sim_script_poll(const struct sim_script *sc, unsigned p,
                           unsigned *n);

/* True when sim_script_submit() needs the prompt's submit count. */
bool sim_script_counts_submits(const struct sim_script *sc);

/* How the nth submit (1 = first; 0 when not counted) of the prompt is
 * answered: a submit= answer, SIM_SUBMIT_MALFORMED, or SIM_SUBMIT_OK to
 * create the task. */
sim_submit_t sim_script_submit(const struct sim_script *sc, unsigned nth);

/* The length of the part of a prompt that names it for submit counting:
 * trailing Seedance text commands (" --dur 5 ...") are cut, so one job
 * counts the same on either API. */
size_t sim_script_prompt_key_len(const char *prompt);

#endif
