/*
 * http_reply - what every API handler of the broker shares: JSON answers,
 * JSON error answers, the Bearer key, and requests that wait for Redis.
 *
 * A request waiting for Redis is an http_pending_t. evhttp serves one
 * request at a time per connection, so the connection's close callback
 * finds it: when the client goes away, pending->req becomes NULL and the
 * answer is dropped instead of written to freed memory.
 * SPDX-License-Identifier: MIT
 */
#ifndef HTTP_REPLY_H
#define HTTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api_error.h"
#include "broker.h"
#include "rl_state.h"

struct evhttp_request;

typedef struct http_pending http_pending_t;

#define HTTP_PENDING_TEXT_MAX 95 /* characters http_pending_keep keeps */

/* Called when the client goes away while a request waits. */
typedef void (*http_abandon_fn)(http_pending_t *p);

struct http_pending {
    broker_t *broker;
    struct evhttp_request *req;           /* NULL once the client went away */
    http_abandon_fn on_abandon;           /* optional */
    void *data;                           /* the handler's own state */
    char text[HTTP_PENDING_TEXT_MAX + 1]; /* a small copy the handler
                                             keeps (http_pending_keep) */
};

/* Answers status with a JSON text (copied). Adds Retry-After: 1 to a 503
 * or 429 unless the handler already set one. */
void http_reply(struct evhttp_request *req, int status, const char *json);

/* Sets Retry-After: seconds on req's answer when seconds > 0. */
void http_retry_after(struct evhttp_request *req, int seconds);

/* Answers with the JSON error object of e. */
void http_reply_error(struct evhttp_request *req, const api_error_t *e);

/* Answers status with the JSON of o, which it takes (decref); 500 (and
 * a log line) when o is NULL or cannot be dumped. */
void http_reply_json(struct evhttp_request *req, int status, json_t *o);

/* Answers an error object built from its parts (param may be NULL). */
void http_reply_fail(struct evhttp_request *req, int status, const char *type,
                     const char *code, const char *param, const char *msg);

/* Answers the failures every account script shares, given the tag of
 * its reply (rl_redis_reply_tag): no answer (NULL: 503) and a refused
 * key (401). Returns true when it answered. */
bool http_reply_script_failed(struct evhttp_request *req, const char *tag);

/* The same for a typed script call's tag (rl_state.h): no answer or an
 * unexpected one (UNKNOWN, BAD: 503) and a refused key (UNAUTHORIZED:
 * 401). Returns true when it answered. */
bool http_reply_state_failed(struct evhttp_request *req, rl_state_tag_t tag);

#define HTTP_JOB_ID_MAX 48    /* characters of a job id a request names */
#define HTTP_JOB_V1 "vgen_"   /* a job of POST /v1/video/generations */
#define HTTP_JOB_TASK "task_" /* a job of the task API */

/* True when id is a job id of front door `prefix` (HTTP_JOB_V1 or
 * HTTP_JOB_TASK; NULL: either): the prefix, then one or more base62
 * characters, HTTP_JOB_ID_MAX characters at most in all. */
bool http_job_id_ok(const char *id, const char *prefix);

/* Answers 404 job_not_found (param "id"). */
void http_reply_no_job(struct evhttp_request *req);

/* The key of "Authorization: Bearer KEY", or NULL. */
const char *http_bearer(struct evhttp_request *req);

/* The SHA-256 hex of the Bearer key into hash[65]; false (and a 401 sent)
 * when there is none. */
bool http_key_hash(struct evhttp_request *req, char *hash);

/* The request body (NUL-terminated view) and its length; false (and a
 * 413 sent) when it is larger than [http] max_body. */
bool http_body(broker_t *b, struct evhttp_request *req, const char **body,
               size_t *len);

/* The request body parsed as JSON into *root (caller owns; an empty
 * body reads as {}). False, answered, when it is too large (413) or not
 * valid JSON (400 malformed_json, param null, as a submission is
 * answered); a valid body of another shape is the caller's to judge. */
bool http_body_json(broker_t *b, struct evhttp_request *req, json_t **root);

struct evkeyvalq;

/* The query parameter `name` of params as a number in [lo, hi] (lo >=
 * 0), written in decimal digits only: dflt when absent, -1 when it is
 * not such a number ("+5", " 5", "5 ", "0x5", "" are not). */
long http_query_long(struct evkeyvalq *params, const char *name, long lo,
                     long hi, long dflt);

/* Starts waiting for Redis on req. */
http_pending_t *http_pending_new(broker_t *b, struct evhttp_request *req);

/* Copies text, of HTTP_PENDING_TEXT_MAX characters at most (a job id
 * http_job_id_ok() accepted, a key id, ""), into p->text. */
void http_pending_keep(http_pending_t *p, const char *text);

/* Frees p and returns its request, or NULL when the client went away.
 * Call it before answering: sending may free the connection. */
struct evhttp_request *http_pending_done(http_pending_t *p);

/* Answers 503 (storage unavailable). */
void http_reply_unavailable(struct evhttp_request *req);

#endif
