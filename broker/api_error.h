/*
 * api_error - the JSON error object every failed request answers with:
 *   {"error": {"type": "...", "code": "...", "message": "...",
 *              "param": "field" | null}}
 * and the HTTP status that goes with it.
 * SPDX-License-Identifier: MIT
 */
#ifndef API_ERROR_H
#define API_ERROR_H

#include <stdarg.h>

#define API_ERROR_MSG_LEN 256
#define API_ERROR_PARAM_LEN 72

typedef struct {
    int status;                          /* HTTP status: 400, 401, 402 ... */
    const char *type;                    /* "invalid_request_error" ... */
    const char *code;                    /* "invalid_duration" ... */
    const char *param;                   /* the offending field (points into
                                            param_buf), or NULL */
    char param_buf[API_ERROR_PARAM_LEN]; /* a copy: the field name may come
                                            from a parsed body that is
                                            freed before the answer */
    char message[API_ERROR_MSG_LEN];     /* a sentence for humans */
} api_error_t;

/* Fills e. The message and param are made safe (rl_text_safe: valid
 * UTF-8, control characters and invalid bytes escaped, cut on a character
 * boundary to fit), so any outside text may be quoted in them. */
void api_error_set(api_error_t *e, int status, const char *type,
                   const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Shorthand for a 400 invalid_request_error on `param`. */
void api_error_invalid(api_error_t *e, const char *code, const char *param,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copies src into dst (param then points into dst's own buffer). */
void api_error_copy(api_error_t *dst, const api_error_t *src);

/* The error as a JSON text (caller frees). Never NULL: the fields are
 * safe by construction, and a failure inside jansson answers a fixed
 * internal_error text. */
char *api_error_json(const api_error_t *e);

#endif
