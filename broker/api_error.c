/*
 * api_error - JSON error objects of the public API.
 * SPDX-License-Identifier: MIT
 */
#include "api_error.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "rl_alloc.h"
#include "rl_text.h"

/* Room to format a message before it is made safe: a message quotes at
 * most a short piece of outside text, so more than this is cut anyway. */
#define S_FORMAT_MAX 1024

/* What api_error_json() answers if even the error cannot be encoded
 * (out of memory inside jansson): an answer is always sent. */
#define S_FALLBACK_JSON                                                        \
    "{\"error\":{\"type\":\"api_error\",\"code\":\"internal_error\","          \
    "\"message\":\"the error could not be rendered\",\"param\":null}}"

/* Every message and param may quote outside bytes (a path, a field name,
 * a ZeroMQ frame): both are made valid UTF-8 without control characters
 * here, once, so rendering the error can never fail. */
static void s_vset(api_error_t *e, int status, const char *type,
                   const char *code, const char *param, const char *fmt,
                   va_list ap) __attribute__((format(printf, 6, 0)));

static void
s_vset(api_error_t *e, int status, const char *type, const char *code,
       const char *param, const char *fmt, va_list ap)
{
    char text[S_FORMAT_MAX];
    int n;

    e->status = status;
    e->type = type;
    e->code = code;
    e->param = NULL;
    if (param != NULL) {
        rl_text_safe(e->param_buf, sizeof e->param_buf, param, strlen(param),
                     false, NULL);
        e->param = e->param_buf;
    }
    n = vsnprintf(text, sizeof text, fmt, ap);
    if (n < 0)
        n = 0;
    rl_text_safe(e->message, sizeof e->message, text,
                 (size_t)n < sizeof text ? (size_t)n : sizeof text - 1,
                 (size_t)n >= sizeof text, NULL);
}

void
api_error_set(api_error_t *e, int status, const char *type, const char *code,
              const char *param, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vset(e, status, type, code, param, fmt, ap);
    va_end(ap);
}

void
api_error_invalid(api_error_t *e, const char *code, const char *param,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vset(e, 400, "invalid_request_error", code, param, fmt, ap);
    va_end(ap);
}

void
api_error_copy(api_error_t *dst, const api_error_t *src)
{
    *dst = *src;
    if (src->param != NULL)
        dst->param = dst->param_buf;
}

char *
api_error_json(const api_error_t *e)
{
    json_t *inner = json_pack("{s:s, s:s, s:s, s:o}", "type", e->type, "code",
                              e->code, "message", e->message, "param",
                              e->param ? json_string(e->param) : json_null());
    json_t *outer = json_pack("{s:o}", "error", inner);
    char *text = outer != NULL ? json_dumps(outer, JSON_COMPACT) : NULL;
    json_decref(outer);
    return text != NULL ? text : rl_strdup(S_FALLBACK_JSON);
}
