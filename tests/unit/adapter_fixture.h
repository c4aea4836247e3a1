/*
 * adapter_fixture - helpers shared by the adapter unit tests: feed a
 * parse function a response as rl_http hands it over, and read the
 * request an adapter built. Include after <cmocka.h>.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_FIXTURE_H
#define ADAPTER_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"

/* A response as rl_http hands it over: NUL-terminated body. */
static inline void
s_parse(void (*parse)(const rl_http_resp_t *, adapter_result_t *), long status,
        const char *body, adapter_result_t *out)
{
    rl_http_resp_t resp = {
        .status = status,
        .error = "",
        .body = body,
        .body_len = strlen(body),
        .primary_ip = "",
    };
    memset(out, 0, sizeof *out);
    parse(&resp, out);
}

/* No response at all: the request timed out. */
static inline void
s_parse_timeout(void (*parse)(const rl_http_resp_t *, adapter_result_t *),
                adapter_result_t *out)
{
    rl_http_resp_t resp = {
        .status = 0,
        .curl_code = 28,
        .timed_out = true,
        .error = "Timeout was reached",
        .body = "",
        .primary_ip = "",
    };
    memset(out, 0, sizeof *out);
    parse(&resp, out);
}

static inline void
s_expect(const adapter_result_t *out, adapter_state_t state,
         adapter_error_t error)
{
    assert_int_equal(out->state, state);
    assert_int_equal(out->error, error);
}

static inline bool
s_has_header(const adapter_request_t *req, const char *header)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (strcmp(req->headers[i], header) == 0)
            return true;
    return false;
}

/* The request body as JSON; caller owns. */
static inline json_t *
s_body(const adapter_request_t *req)
{
    assert_non_null(req->body);
    json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
    assert_non_null(root);
    return root;
}

/* The member at a dotted path ("input.prompt"), or NULL. */
static inline json_t *
s_get(json_t *root, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    for (char *key = buf, *dot; key != NULL; key = dot) {
        dot = strchr(key, '.');
        if (dot != NULL)
            *dot++ = '\0';
        v = json_object_get(v, key);
    }
    return v;
}

static inline const char *
s_str(json_t *root, const char *path)
{
    return json_string_value(s_get(root, path));
}

#endif
