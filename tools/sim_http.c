/*
 * sim_http - the provider simulator's request readers and replies: the
 * bearer token, the JSON body, JSON and raw answers, and the error table
 * that spells each error the Kling way or the Seedance (Ark) way.
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "sim.h"

static const struct {
    int status;           /* HTTP status */
    int kling_code;       /* Kling body "code" */
    const char *ark_code; /* Ark error.code */
    const char *ark_type; /* Ark error.type */
    const char *message;  /* both */
} s_errs[SIM_E_COUNT] = {
    [SIM_E_OK] = {200, 0, "", "", ""},
    [SIM_E_RATE] = {429, 1302, "RateLimitExceeded.EndpointRPMExceeded",
                    "TooManyRequests", "request rate limit exceeded"},
    [SIM_E_CAPACITY] = {429, 1303, "ServerOverloaded", "TooManyRequests",
                        "parallel task over resource pack limit"},
    [SIM_E_INPUT_POLICY] = {400, 1301, "InputTextSensitiveContentDetected",
                            "BadRequest",
                            "input may contain sensitive content"},
    [SIM_E_INTERNAL] = {500, 5000, "InternalServiceError",
                        "InternalServerError", "internal server error"},
    [SIM_E_UNAVAILABLE] = {503, 5001, "ServiceUnavailable",
                           "ServiceUnavailable",
                           "service temporarily unavailable"},
    [SIM_E_NOT_FOUND] = {404, 1203, "ResourceNotFound", "NotFound",
                         "task not found"},
    [SIM_E_BAD_REQUEST] = {400, 1201, "InvalidParameter", "BadRequest",
                           "invalid request parameters"},
    [SIM_E_FULL] = {503, 5001, "ServiceUnavailable", "ServiceUnavailable",
                    "simulator task cap reached"},
    [SIM_E_AUTH_MISSING] = {401, 1001, "AuthenticationError", "Unauthorized",
                            "authorization is empty"},
    [SIM_E_AUTH_INVALID] = {401, 1002, "AuthenticationError", "Unauthorized",
                            "authorization is invalid"},
    [SIM_E_AUTH_FAILED] = {401, 1000, "AuthenticationError", "Unauthorized",
                           "authentication failed"},
    [SIM_E_AUTH_NBF] = {401, 1003, "AuthenticationError", "Unauthorized",
                        "authorization is not yet valid"},
    [SIM_E_AUTH_EXP] = {401, 1004, "AuthenticationError", "Unauthorized",
                        "authorization has expired"},
};

/* ---- replies --------------------------------------------------------- */

int
sim_dump_cb(const char *buffer, size_t size, void *arg)
{
    return evbuffer_add(arg, buffer, size);
}

void
sim_reply_json(struct evhttp_request *req, int status, json_t *doc)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    if (doc == NULL || json_dump_callback(doc, sim_dump_cb, out,
                                          JSON_COMPACT) != 0) {
        status = 500;
        evbuffer_add_printf(out, "{\"error\":\"encode\"}");
    }
    json_decref(doc);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", "application/json");
    evhttp_send_reply(req, status, NULL, NULL);
}

void
sim_reply_raw(struct evhttp_request *req, int status, const char *ctype,
              const void *body, size_t len)
{
    evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "Content-Type", ctype);
    evhttp_send_reply(req, status, NULL, NULL);
}

void
sim_api_error(sim_t *sim, struct evhttp_request *req, sim_api_t api,
              sim_err_t err)
{
    char rid[SIM_ID_LEN];
    json_t *doc;

    assert(err > SIM_E_OK && err < SIM_E_COUNT);
    if (api == SIM_API_KLING) {
        sim_new_id(sim, "req-", rid, sizeof rid);
        doc = json_pack("{s:i,s:s,s:s}", "code", s_errs[err].kling_code,
                        "message", s_errs[err].message, "request_id", rid);
    } else {
        doc = json_pack("{s:{s:s,s:s,s:s,s:s}}", "error", "code",
                        s_errs[err].ark_code, "message", s_errs[err].message,
                        "param", "", "type", s_errs[err].ark_type);
    }
    sim_reply_json(req, s_errs[err].status, doc);
}

void
sim_reply_malformed(struct evhttp_request *req, sim_api_t api, bool submit)
{
    static const char *const bodies[2][2] = {
        {"{\"code\":0,\"message\":\"\",\"data\":{\"task_status\":\"succ",
         "{\"code\":0,\"message\":\"\",\"data\":{\"task_id\":\""},
        {"{\"id\":\"cgt-x\",\"status\":\"succ", "{\"id\":\"cgt-"},
    };
    const char *body = bodies[api][submit];
    sim_reply_raw(req, 200, "application/json", body, strlen(body));
}

/* ---- requests -------------------------------------------------------- */

const char *
sim_bearer(struct evhttp_request *req)
{
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth != '\0' ? auth : NULL;
}

json_t *
sim_body_json(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0)
        return NULL;
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_t *doc = json_loadb(data, len, 0, NULL);
    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

const char *
sim_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v))
        return dflt;
    return json_string_value(v);
}
