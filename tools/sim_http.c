/*
 * sim_http - the provider simulator's request readers and replies: the
 * bearer token, the JSON body, query arguments, path matching, JSON and
 * raw answers, and the error table that spells each error the Kling way
 * or the Seedance (Ark) way; the other APIs spell it in their own file.
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
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
sim_reply_video(struct evhttp_request *req)
{
    static const unsigned char mp4[] = {
        0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2',
        0, 0, 0, 0,    'm', 'p', '4', '2', 'i', 's', 'o', 'm',
        0, 0, 0, 8,    'm', 'd', 'a', 't'};
    sim_reply_raw(req, 200, "video/mp4", mp4, sizeof mp4);
}

void
sim_api_error(sim_t *sim, struct evhttp_request *req, sim_api_t api,
              sim_err_t err)
{
    char rid[SIM_ID_LEN];
    json_t *doc;

    assert(err > SIM_E_OK && err < SIM_E_COUNT);
    switch (api) {
    case SIM_API_RUNWAY: sim_runway_error(sim, req, err); return;
    case SIM_API_OPENAI: sim_openai_error(sim, req, err); return;
    case SIM_API_REPLICATE: sim_replicate_error(sim, req, err); return;
    case SIM_API_FAL: sim_fal_error(sim, req, err); return;
    case SIM_API_KINOVI: sim_kinovi_error(sim, req, err); return;
    case SIM_API_LUMA: sim_luma_error(sim, req, err); return;
    case SIM_API_MINIMAX: sim_minimax_error(sim, req, err); return;
    case SIM_API_VEO: sim_veo_error(sim, req, err); return;
    default: break;
    }
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
    /* [api][submit]: a poll answer, a submit answer, each cut short. */
    static const char *const bodies[SIM_API_COUNT][2] = {
        [SIM_API_KLING] =
            {"{\"code\":0,\"message\":\"\",\"data\":{\"task_status\":\"succ",
             "{\"code\":0,\"message\":\"\",\"data\":{\"task_id\":\""},
        [SIM_API_SEEDANCE] = {"{\"id\":\"cgt-x\",\"status\":\"succ",
                              "{\"id\":\"cgt-"},
        [SIM_API_RUNWAY] = {"{\"id\":\"rw-x\",\"status\":\"SUCC",
                            "{\"id\":\"rw-"},
        [SIM_API_OPENAI] = {"{\"id\":\"video_x\",\"object\":\"video\",\"sta",
                            "{\"id\":\"video_"},
        [SIM_API_REPLICATE] = {"{\"id\":\"rp-x\",\"status\":\"succ",
                               "{\"id\":\"rp"},
        [SIM_API_FAL] = {"{\"status\":\"COMPL", "{\"request_id\":\"fal-"},
        [SIM_API_KINOVI] = {"{\"taskId\":\"task_x\",\"status\":\"succ",
                            "{\"taskId\":\"task_"},
        [SIM_API_LUMA] = {"{\"id\":\"lu-x\",\"state\":\"compl",
                          "{\"id\":\"lu-"},
        [SIM_API_MINIMAX] = {"{\"task_id\":\"mm-x\",\"status\":\"Succ",
                             "{\"task_id\":\"mm-"},
        [SIM_API_VEO] = {"{\"name\":\"models/m/operations/op-x\",\"done\":tr",
                         "{\"name\":\"models/"},
    };
    assert((unsigned)api < SIM_API_COUNT);
    const char *body = bodies[api][submit];
    sim_reply_raw(req, 200, "application/json", body, strlen(body));
}

int
sim_err_status(sim_err_t err)
{
    assert(err > SIM_E_OK && err < SIM_E_COUNT);
    return s_errs[err].status;
}

const char *
sim_err_message(sim_err_t err)
{
    assert(err > SIM_E_OK && err < SIM_E_COUNT);
    return s_errs[err].message;
}

void
sim_iso8601(int64_t ms, char *out, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    if (gmtime_r(&secs, &tm) == NULL ||
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        buf[0] = '\0';
    snprintf(out, len, "%s.%03dZ", buf, (int)(ms % 1000));
}

/* ---- requests -------------------------------------------------------- */

bool
sim_id_decode(char *id, size_t len)
{
    size_t n = 0;
    char *dec = evhttp_uridecode(id, 0, &n);
    bool ok = dec != NULL && n > 0 && n < len && memchr(dec, '\0', n) == NULL;
    if (ok)
        memcpy(id, dec, n + 1);
    free(dec);
    return ok;
}

bool
sim_path_id(const char *path, const char *prefix, const char *suffix,
            char *id, size_t len)
{
    size_t np = strlen(prefix), ns = strlen(suffix), nl = strlen(path);
    if (nl <= np + ns || strncmp(path, prefix, np) != 0 ||
        strcmp(path + nl - ns, suffix) != 0)
        return false;
    size_t n = nl - np - ns;
    if (n >= len || memchr(path + np, '/', n) != NULL)
        return false;
    memcpy(id, path + np, n);
    id[n] = '\0';
    return sim_id_decode(id, len);
}

bool
sim_query_arg(struct evhttp_request *req, const char *key, char *out,
              size_t len)
{
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    struct evkeyvalq args;
    bool ok = false;
    if (q == NULL || evhttp_parse_query_str(q, &args) != 0)
        return false;
    const char *v = evhttp_find_header(&args, key);
    if (v != NULL && *v != '\0' && strlen(v) < len) {
        memcpy(out, v, strlen(v) + 1);
        ok = true;
    }
    evhttp_clear_headers(&args);
    return ok;
}

const char *
sim_header(struct evhttp_request *req, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(req), name);
}

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

bool
sim_need_bearer(sim_t *sim, struct evhttp_request *req, sim_api_t api)
{
    if (sim_bearer(req) != NULL)
        return true;
    sim_api_error(sim, req, api, SIM_E_AUTH_MISSING);
    return false;
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
