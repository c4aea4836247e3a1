/*
 * adapter - the interface every upstream provider adapter implements: a
 * small table of pure functions that build HTTP requests and parse
 * responses. They never do I/O; worker/job_run.c sends the requests.
 *
 * Error classes drive everything above an adapter (worker/job_run.c):
 *   RATE_LIMITED      429-style refusal: fail over now; counts against
 *                     the provider's circuit breaker
 *   CAPACITY          no room (queue full, resource exhausted), at submit
 *                     or mid-render: fail over
 *   TRANSIENT         5xx, timeout, malformed answer: at submit fail over;
 *                     while polling retry with backoff, and fail over
 *                     after JOB_MAX_TRANSIENT in a row
 *   PERMANENT         the request can never succeed here: fail over, or
 *                     fail the job when nothing is left
 *   CONTENT_REJECTED  policy refusal: fail the job, never retry elsewhere
 * A task that ended FAILED with CAPACITY or TRANSIENT fails over too.
 *
 * Result fetch (fal, MiniMax): some APIs report only that a task ended
 * and tell its outcome on a second call. Their parse_poll returns
 * ADAPTER_FETCH; the job then builds the fetch with build_result, passing
 * out->fetch_ref as task_id when it is not empty (MiniMax: the file_id),
 * else its own task id (fal), and parses the answer with parse_result.
 * parse_result returns SUCCEEDED, FAILED or ERROR, never FETCH; an ERROR
 * is handled like a failed poll, and the next poll answers FETCH again,
 * so the fetch is retried. An adapter that can return ADAPTER_FETCH sets
 * both build_result and parse_result; the others leave them NULL.
 *
 * Relative output (OpenAI): parse functions never see the provider's
 * base_url, so an API whose answer has no output URL sets output_url to a
 * path starting with '/' that the job appends to base_url.
 *
 * Provider answers are outside input. Every id an answer hands over
 * (task, request, prediction, file id, operation name) is taken with
 * adapter_result_id(), which refuses what adapter_url_id_check() refuses
 * instead of truncating it, and goes into a request URL only through
 * adapter_url_escape() (Veo's operation name, a path by design, is
 * checked against its documented form instead). Every output URL is
 * taken with adapter_result_output(). A refused id or URL is a PERMANENT
 * ERROR ("bad_task_id", "bad_output_url"). URLs an answer offers to poll
 * (fal's status_url, Replicate's urls.get) are never followed: requests
 * go only to base_url.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_H
#define ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_config.h"
#include <jansson.h>

#include "rl_http.h"

#define ADAPTER_URL_MAX 2048
#define ADAPTER_MAX_HEADERS 8
#define ADAPTER_TASK_MAX 256
#define ADAPTER_ID_MAX (ADAPTER_TASK_MAX - 1) /* bytes of a provider id */
#define ADAPTER_OUTPUT_URL_MAX 2048           /* bytes of an output URL */
#define ADAPTER_CODE_MAX 64
#define ADAPTER_MSG_MAX 256

typedef enum {
    ADAPTER_QUEUED = 0, /* accepted, waiting for a slot */
    ADAPTER_RUNNING,    /* rendering */
    ADAPTER_SUCCEEDED,  /* output ready */
    ADAPTER_FAILED,     /* terminal failure, see error class */
    ADAPTER_ERROR,      /* the call itself failed, see error class */
    ADAPTER_FETCH,      /* terminal upstream: fetch the result with
                           build_result/parse_result (parse_poll only) */
} adapter_state_t;

typedef enum {
    ADAPTER_ERR_NONE = 0,
    ADAPTER_ERR_RATE_LIMITED,
    ADAPTER_ERR_CAPACITY,
    ADAPTER_ERR_TRANSIENT,
    ADAPTER_ERR_PERMANENT,
    ADAPTER_ERR_CONTENT_REJECTED,
} adapter_error_t;

#define ADAPTER_TOKEN_MAX 1024

/* A provider's signed credential (Kling's JWT), made once and reused
 * until it is half way to its expiry instead of being signed afresh for
 * every request. One per provider, owned by the worker; an adapter that
 * signs requests fills it. */
typedef struct {
    char value[ADAPTER_TOKEN_MAX]; /* the credential, "" when none */
    int64_t renew_at_s;            /* epoch s from which to make a new one */
} adapter_token_t;

/* What a job asks of a provider. Borrowed strings. */
typedef struct {
    const char *job_id;         /* our id, for client references */
    int attempt;                /* submit attempt number, from 1 */
    const char *upstream_model; /* the provider's model name */
    const char *prompt;
    const char *negative_prompt; /* NULL when none */
    const char *image_url;       /* NULL when none */
    int duration_s;
    const char *aspect_ratio; /* "16:9" */
    adapter_token_t *token;   /* the provider's credential cache, or
                                 NULL: sign every request afresh */
} adapter_job_t;

/* One HTTP request to send. Owns its strings. */
typedef struct {
    const char *method; /* static: "POST" ... */
    char url[ADAPTER_URL_MAX];
    char *headers[ADAPTER_MAX_HEADERS + 1]; /* NULL-terminated */
    size_t nheaders;
    char *body; /* NULL when none */
    size_t body_len;
} adapter_request_t;

/* The meaning of a response. */
typedef struct {
    adapter_state_t state;
    adapter_error_t error;                       /* for FAILED and ERROR */
    int progress;                                /* 0..100, -1 when not given */
    long retry_after_ms;                         /* provider's hint, 0 = none */
    char task_id[ADAPTER_TASK_MAX];              /* from a submit */
    char output_url[ADAPTER_OUTPUT_URL_MAX + 1]; /* when SUCCEEDED:
                                           absolute (checked by
                                           adapter_url_output_check), or
                                           a path from "/" under the
                                           provider's base_url (OpenAI) */
    char code[ADAPTER_CODE_MAX];                 /* provider's error code */
    char message[ADAPTER_MSG_MAX];               /* provider's error message */
    char fetch_ref[ADAPTER_TASK_MAX];            /* with FETCH: task_id for
                                                    build_result, "" = the job's */
} adapter_result_t;

typedef struct {
    const char *type; /* the [provider.X] type= value */
    /* Fill req. Return 0, or -1 when the job cannot be expressed. */
    int (*build_submit)(const rl_provider_conf_t *p, const adapter_job_t *j,
                        int64_t now_s, adapter_request_t *req);
    void (*parse_submit)(const rl_http_resp_t *resp, adapter_result_t *out);
    int (*build_poll)(const rl_provider_conf_t *p, const adapter_job_t *j,
                      const char *task_id, int64_t now_s,
                      adapter_request_t *req);
    void (*parse_poll)(const rl_http_resp_t *resp, adapter_result_t *out);
    /* Optional (NULL when the API cannot cancel). */
    int (*build_cancel)(const rl_provider_conf_t *p, const adapter_job_t *j,
                        const char *task_id, int64_t now_s,
                        adapter_request_t *req);
    /* Optional: the result fetch after parse_poll returned ADAPTER_FETCH
     * (see the top of this file). NULL when the API has none. */
    int (*build_result)(const rl_provider_conf_t *p, const adapter_job_t *j,
                        const char *task_id, int64_t now_s,
                        adapter_request_t *req);
    void (*parse_result)(const rl_http_resp_t *resp, adapter_result_t *out);
} adapter_t;

/* The adapter of a provider type, or NULL. */
const adapter_t *adapter_find(const char *type);

/* Frees what req owns and zeroes it. */
void adapter_request_release(adapter_request_t *req);

/* Appends a formatted header. Returns 0, or -1 when full. */
int adapter_request_header(adapter_request_t *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Formats the URL. Returns 0, or -1 when it does not fit. */
int adapter_request_url(adapter_request_t *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Takes ownership of a malloc'd JSON text as the body. */
void adapter_request_body(adapter_request_t *req, char *json);

/* Fills out for a response that is not the API's own answer: no response
 * (timeout, connection error) or an HTTP status the caller could not
 * map. 429 is RATE_LIMITED, 408/5xx/0 TRANSIENT, other 4xx PERMANENT. */
void adapter_result_http(const rl_http_resp_t *resp, adapter_result_t *out);

/* True for a 2xx status. */
bool adapter_http_ok(const rl_http_resp_t *resp);

/* Error parser of one API: fills out from a non-2xx answer (root is the
 * parsed body or NULL). */
typedef void (*adapter_error_fn)(const rl_http_resp_t *resp, json_t *root,
                                 adapter_result_t *out);

/* The submit answer of APIs that return {"id": ...}: a 2xx with an id is
 * QUEUED (an id adapter_result_id refuses a PERMANENT "bad_task_id"
 * error), a 2xx without one is a TRANSIENT "malformed" error naming api,
 * anything else goes to on_error. */
void adapter_parse_id_submit(const rl_http_resp_t *resp, adapter_result_t *out,
                             const char *api, adapter_error_fn on_error);

/* A provider's Retry-After beyond this is silly: the hint is ignored. */
#define ADAPTER_RETRY_AFTER_MAX_MS (3600L * 1000)

/* The provider's Retry-After (delta-seconds or an HTTP-date, read by
 * rl_retry_after_ms against the wall clock) in ms: 0 when absent,
 * unparsable, in the past, or ADAPTER_RETRY_AFTER_MAX_MS or more. */
long adapter_retry_after_ms(const rl_http_resp_t *resp);

/* Sets out's error with a formatted message, made valid UTF-8 without
 * control characters (rl_text_safe): it may quote any provider text. */
void adapter_result_error(adapter_result_t *out, adapter_state_t state,
                          adapter_error_t error, const char *code,
                          const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A provider's numeric code (or id) v as text in dst (len bytes); ""
 * should it not fit (a code buffer holds any long long). */
void adapter_result_code(char *dst, size_t len, long long v);

/* Sets out's message alone (a note with a QUEUED or RUNNING answer),
 * formatted and made safe as adapter_result_error() does. */
void adapter_result_note(adapter_result_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copies src (may be NULL: "") into dst of len bytes; a src too long is
 * cut before the character the end would split, so valid UTF-8 stays
 * valid. */
void adapter_copy(char *dst, size_t len, const char *src);

/* Takes the provider-given id `id` (the API's answer field `field`, as
 * "Kling", "task_id" in messages) into dst (len bytes: out->task_id or
 * out->fetch_ref). Returns 0, or -1 with out set to a PERMANENT
 * "bad_task_id" ERROR when adapter_url_id_check() refuses it or it does
 * not fit; the id itself is never echoed. */
int adapter_result_id(adapter_result_t *out, char *dst, size_t len,
                      const char *id, const char *api, const char *field);

/* Takes the provider-given output URL: out becomes SUCCEEDED with it, or,
 * when adapter_url_output_check() refuses it, a PERMANENT
 * "bad_output_url" ERROR naming api and the reason. Returns 0 or -1. */
int adapter_result_output(adapter_result_t *out, const char *url,
                          const char *api);

/* The name of an error class ("rate_limited", ...). */
const char *adapter_error_name(adapter_error_t e);

#endif
