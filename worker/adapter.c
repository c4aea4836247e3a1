/*
 * adapter - the adapter registry and helpers shared by every adapter.
 * SPDX-License-Identifier: MIT
 */
#include "adapter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_fal.h"
#include "adapter_kinovi.h"
#include "adapter_kling.h"
#include "adapter_luma.h"
#include "adapter_minimax.h"
#include "adapter_openai.h"
#include "adapter_replicate.h"
#include "adapter_runway.h"
#include "adapter_seedance.h"
#include "adapter_url.h"
#include "adapter_veo.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_ptype.h"
#include "rl_retry_after.h"
#include "rl_text.h"

/* Room to format an error message before it is made safe. */
#define ADAPTER_FORMAT_MAX (2 * ADAPTER_MSG_MAX)

/* One adapter per provider type (rl_ptype.h). */
static const adapter_t *const s_adapters[RL_PTYPE_COUNT] = {
    [RL_PTYPE_KLING] = &adapter_kling,
    [RL_PTYPE_SEEDANCE] = &adapter_seedance,
    [RL_PTYPE_RUNWAY] = &adapter_runway,
    [RL_PTYPE_OPENAI] = &adapter_openai,
    [RL_PTYPE_REPLICATE] = &adapter_replicate,
    [RL_PTYPE_FAL] = &adapter_fal,
    [RL_PTYPE_KINOVI] = &adapter_kinovi,
    [RL_PTYPE_LUMA] = &adapter_luma,
    [RL_PTYPE_MINIMAX] = &adapter_minimax,
    [RL_PTYPE_VEO] = &adapter_veo,
};

const adapter_t *
adapter_find(const char *type)
{
    rl_ptype_t t;
    return rl_ptype_parse(type, &t) == 0 ? s_adapters[t] : NULL;
}

void
adapter_request_release(adapter_request_t *req)
{
    for (size_t i = 0; i < req->nheaders; i++)
        free(req->headers[i]);
    free(req->body);
    memset(req, 0, sizeof *req);
}

int
adapter_request_header(adapter_request_t *req, const char *fmt, ...)
{
    if (req->nheaders >= ADAPTER_MAX_HEADERS)
        return -1;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return -1;
    req->headers[req->nheaders++] = rl_strdup(buf);
    req->headers[req->nheaders] = NULL;
    return 0;
}

int
adapter_request_url(adapter_request_t *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(req->url, sizeof req->url, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= sizeof req->url) ? -1 : 0;
}

void
adapter_request_body(adapter_request_t *req, char *json)
{
    free(req->body);
    req->body = json;
    req->body_len = json ? strlen(json) : 0;
}

void
adapter_copy(char *dst, size_t len, const char *src)
{
    size_t n = src != NULL ? strlen(src) : 0;

    if (len == 0)
        return;
    if (n >= len) {
        /* Cut before the character the end would split: valid UTF-8
         * (every JSON string a provider sends) stays valid. */
        n = len - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

int
adapter_result_id(adapter_result_t *out, char *dst, size_t len, const char *id,
                  const char *api, const char *field)
{
    const char *why = adapter_url_id_check(id);
    if (why == NULL && strlen(id) < len) {
        memcpy(dst, id, strlen(id) + 1);
        return 0;
    }
    adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                         "bad_task_id", "%s %s refused: %s", api, field,
                         why != NULL ? why : "too long");
    return -1;
}

int
adapter_result_output(adapter_result_t *out, const char *url, const char *api)
{
    const char *why = adapter_url_output_check(url);
    if (why == NULL) {
        out->state = ADAPTER_SUCCEEDED;
        adapter_copy(out->output_url, sizeof out->output_url, url);
        return 0;
    }
    adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                         "bad_output_url", "%s output URL refused: %s", api,
                         why);
    return -1;
}

/* Formats a message into out->message: one too long for it is cut
 * there (the message is bounded on purpose), and it may quote provider
 * text cut by a %.Ns; it is stored and rendered as JSON, so it is made
 * valid UTF-8 here. */
static void __attribute__((format(printf, 2, 0)))
s_message(adapter_result_t *out, const char *fmt, va_list ap)
{
    char text[ADAPTER_FORMAT_MAX];
    int n = vsnprintf(text, sizeof text, fmt, ap);

    if (n < 0)
        n = 0;
    rl_text_safe(out->message, sizeof out->message, text,
                 (size_t)n < sizeof text ? (size_t)n : sizeof text - 1,
                 (size_t)n >= sizeof text, NULL);
}

void
adapter_result_error(adapter_result_t *out, adapter_state_t state,
                     adapter_error_t error, const char *code, const char *fmt,
                     ...)
{
    va_list ap;

    out->state = state;
    out->error = error;
    adapter_copy(out->code, sizeof out->code, code);
    va_start(ap, fmt);
    s_message(out, fmt, ap);
    va_end(ap);
}

void
adapter_result_note(adapter_result_t *out, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    s_message(out, fmt, ap);
    va_end(ap);
}

void
adapter_result_code(char *dst, size_t len, long long v)
{
    int n = snprintf(dst, len, "%lld", v);

    if (n < 0 || (size_t)n >= len)
        dst[0] = '\0';
}

long
adapter_retry_after_ms(const rl_http_resp_t *resp)
{
    long ms = rl_retry_after_ms(resp->retry_after, rl_clock_wall_ms(),
                                ADAPTER_RETRY_AFTER_MAX_MS);
    return ms > 0 && ms < ADAPTER_RETRY_AFTER_MAX_MS ? ms : 0;
}

void
adapter_result_http(const rl_http_resp_t *resp, adapter_result_t *out)
{
    out->retry_after_ms = adapter_retry_after_ms(resp);
    if (resp->status == 0) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             resp->timed_out ? "timeout" : "network", "%s",
                             resp->timed_out ? "request timed out"
                                             : resp->error);
    } else if (resp->status == 429) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED,
                             "429", "rate limited (HTTP 429)");
    } else if (resp->status == 408 || resp->status >= 500) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "http_error", "HTTP %ld", resp->status);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                             "http_error", "HTTP %ld", resp->status);
    }
}

const char *
adapter_error_name(adapter_error_t e)
{
    switch (e) {
    case ADAPTER_ERR_NONE:
        return "none";
    case ADAPTER_ERR_RATE_LIMITED:
        return "rate_limited";
    case ADAPTER_ERR_CAPACITY:
        return "capacity";
    case ADAPTER_ERR_TRANSIENT:
        return "transient";
    case ADAPTER_ERR_PERMANENT:
        return "permanent";
    case ADAPTER_ERR_CONTENT_REJECTED:
        return "content_rejected";
    }
    return "unknown";
}

bool
adapter_http_ok(const rl_http_resp_t *resp)
{
    return resp->status >= 200 && resp->status < 300;
}

void
adapter_parse_id_submit(const rl_http_resp_t *resp, adapter_result_t *out,
                        const char *api, adapter_error_fn on_error)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(root, "id"));
    if (adapter_http_ok(resp) && id != NULL && id[0] != '\0') {
        if (adapter_result_id(out, out->task_id, sizeof out->task_id, id, api,
                              "id") == 0)
            out->state = ADAPTER_QUEUED;
    } else if (adapter_http_ok(resp)) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "malformed %s response", api);
    } else {
        on_error(resp, root, out);
    }
    json_decref(root);
}
