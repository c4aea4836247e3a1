/*
 * http_reply - shared answers of the broker's HTTP handlers.
 * SPDX-License-Identifier: MIT
 */
#include "http_reply.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "rl_alloc.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_httpd.h"
#include "rl_log.h"

#define S_QUERY_DIGITS_MAX 18 /* digits of a query number: fits a long */

void
http_reply(struct evhttp_request *req, int status, const char *json)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    /* A key was offered and refused: one more guess from this client. */
    if (status == 401 &&
        evhttp_find_header(evhttp_request_get_input_headers(req),
                           "Authorization") != NULL)
        rl_httpd_auth_failed(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if ((status == 503 || status == 429) &&
        evhttp_find_header(h, "Retry-After") == NULL)
        evhttp_add_header(h, "Retry-After", "1");
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, json, strlen(json));
    evhttp_send_reply(req, status, NULL, NULL);
}

void
http_retry_after(struct evhttp_request *req, int seconds)
{
    char value[RL_FMT_DEC_LEN];
    if (seconds <= 0)
        return;
    rl_fmt_dec(value, seconds);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      value);
}

void
http_reply_error(struct evhttp_request *req, const api_error_t *e)
{
    char *json = api_error_json(e);
    http_reply(req, e->status, json);
    free(json);
}

void
http_reply_json(struct evhttp_request *req, int status, json_t *o)
{
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    if (text == NULL) {
        /* json_pack fails on a NULL or non-UTF-8 string, e.g. a stored
         * field of an unexpected type: not a success with an empty body. */
        rl_log_errorx("cannot build the JSON answer of a %d", status);
        http_reply_fail(req, 500, "api_error", "internal_error", NULL,
                        "the answer could not be built");
        return;
    }
    http_reply(req, status, text);
    free(text);
}

void
http_reply_fail(struct evhttp_request *req, int status, const char *type,
                const char *code, const char *param, const char *msg)
{
    api_error_t e;
    api_error_set(&e, status, type, code, param, "%s", msg);
    http_reply_error(req, &e);
}

bool
http_reply_script_failed(struct evhttp_request *req, const char *tag)
{
    if (tag == NULL) {
        http_reply_unavailable(req);
        return true;
    }
    if (strcmp(tag, "unauthorized") == 0) {
        http_reply_fail(req, 401, "authentication_error", "invalid_api_key",
                        NULL, "invalid API key");
        return true;
    }
    return false;
}

bool
http_reply_state_failed(struct evhttp_request *req, rl_state_tag_t tag)
{
    if (tag == RL_STATE_UNKNOWN || tag == RL_STATE_BAD) {
        http_reply_unavailable(req);
        return true;
    }
    if (tag == RL_STATE_UNAUTHORIZED) {
        http_reply_fail(req, 401, "authentication_error", "invalid_api_key",
                        NULL, "invalid API key");
        return true;
    }
    return false;
}

/* What follows prefix in id, or NULL when id does not start with it. */
static const char *
s_after(const char *id, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(id, prefix, n) == 0 ? id + n : NULL;
}

bool
http_job_id_ok(const char *id, const char *prefix)
{
    static_assert(sizeof HTTP_JOB_V1 == sizeof HTTP_JOB_TASK,
                  "job id prefixes of one length");
    const char *rest = s_after(id, prefix != NULL ? prefix : HTTP_JOB_V1);

    if (rest == NULL && prefix == NULL)
        rest = s_after(id, HTTP_JOB_TASK);
    return rest != NULL && *rest != '\0' && strlen(id) <= HTTP_JOB_ID_MAX &&
           strspn(rest, RL_BASE62_CHARS) == strlen(rest);
}

void
http_reply_no_job(struct evhttp_request *req)
{
    http_reply_fail(req, 404, "not_found", "job_not_found", "id",
                    "no such job");
}

void
http_reply_unavailable(struct evhttp_request *req)
{
    api_error_t e;
    api_error_set(&e, 503, "service_unavailable", "storage_unavailable", NULL,
                  "job storage is unavailable; retry shortly");
    http_reply_error(req, &e);
}

const char *
http_bearer(struct evhttp_request *req)
{
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

bool
http_key_hash(struct evhttp_request *req, char *hash)
{
    const char *key = http_bearer(req);
    if (key == NULL || rl_sha256_hex(key, strlen(key), hash) != 0) {
        api_error_t e;
        api_error_set(&e, 401, "authentication_error", "missing_api_key", NULL,
                      "send your API key as 'Authorization: Bearer "
                      "KEY'");
        http_reply_error(req, &e);
        return false;
    }
    return true;
}

bool
http_body(broker_t *b, struct evhttp_request *req, const char **body,
          size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    if ((long)*len > b->cfg->http_max_body) {
        api_error_t e;
        api_error_set(&e, 413, "invalid_request_error", "body_too_large", NULL,
                      "the body is larger than %ld bytes",
                      b->cfg->http_max_body);
        http_reply_error(req, &e);
        return false;
    }
    /* evbuffer_pullup gives contiguous bytes; a NUL is appended so text
     * parsers see a terminated string. */
    evbuffer_add(in, "", 1);
    *body = (const char *)evbuffer_pullup(in, -1);
    return true;
}

bool
http_body_json(broker_t *b, struct evhttp_request *req, json_t **root)
{
    const char *body = NULL;
    size_t len = 0;
    json_error_t jerr;

    *root = NULL;
    if (!http_body(b, req, &body, &len))
        return false;
    /* As strict as the submission body (validate.c): a key given twice
     * is an error, not "the last one wins". */
    *root = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)
                : json_object();
    if (*root == NULL) {
        api_error_t e;
        api_error_invalid(&e, "malformed_json", NULL,
                          "the body is not valid JSON: %s", jerr.text);
        http_reply_error(req, &e);
        return false;
    }
    return true;
}

long
http_query_long(struct evkeyvalq *params, const char *name, long lo, long hi,
                long dflt)
{
    const char *v = evhttp_find_header(params, name);
    size_t len;
    long n;

    assert(lo >= 0); /* digits only: no sign, no space */
    if (v == NULL)
        return dflt;
    len = strlen(v);
    if (len == 0 || len > S_QUERY_DIGITS_MAX || strspn(v, "0123456789") != len)
        return -1;
    n = strtol(v, NULL, 10);
    return n >= lo && n <= hi ? n : -1;
}

static void
s_on_close(struct evhttp_connection *conn, void *arg)
{
    http_pending_t *p = arg;
    (void)conn;
    p->req = NULL;
    if (p->on_abandon != NULL)
        p->on_abandon(p);
}

_Static_assert(HTTP_JOB_ID_MAX <= HTTP_PENDING_TEXT_MAX,
               "http_pending_keep keeps any job id");

void
http_pending_keep(http_pending_t *p, const char *text)
{
    int rc = rl_fmt(p->text, sizeof p->text, "%s", text);
    assert(rc == 0); /* the caller's contract */
    (void)rc;
}

http_pending_t *
http_pending_new(broker_t *b, struct evhttp_request *req)
{
    http_pending_t *p = rl_calloc(1, sizeof *p);
    p->broker = b;
    p->req = req;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                  s_on_close, p);
    return p;
}

struct evhttp_request *
http_pending_done(http_pending_t *p)
{
    struct evhttp_request *req = p->req;
    if (req != NULL)
        evhttp_connection_set_closecb(evhttp_request_get_connection(req), NULL,
                                      NULL);
    free(p);
    return req;
}
