/*
 * api_error - JSON error objects of the public API.
 * SPDX-License-Identifier: MIT
 */
#include "api_error.h"

#include <stdio.h>

#include <jansson.h>

static void
s_vset(api_error_t *e, int status, const char *type, const char *code,
       const char *param, const char *fmt, va_list ap)
{
    e->status = status;
    e->type = type;
    e->code = code;
    e->param = NULL;
    if (param != NULL) {
        snprintf(e->param_buf, sizeof e->param_buf, "%s", param);
        e->param = e->param_buf;
    }
    vsnprintf(e->message, sizeof e->message, fmt, ap);
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
    json_t *inner = json_pack("{s:s, s:s, s:s, s:o}", "type", e->type,
                              "code", e->code, "message", e->message,
                              "param",
                              e->param ? json_string(e->param) : json_null());
    json_t *outer = json_pack("{s:o}", "error", inner);
    char *text = json_dumps(outer, JSON_COMPACT);
    json_decref(outer);
    return text;
}
