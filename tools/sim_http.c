/*
 * sim_http - the provider simulator's request readers and replies, and
 * the status and message of each error (sim_http.h).
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

#include "rl_fmt.h"
#include "sim_http.h"

static const struct {
    int status;          /* HTTP status */
    const char *message; /* what it says */
} s_errs[SIM_E_COUNT] = {
    [SIM_E_OK] = {200, ""},
    [SIM_E_RATE] = {429, "request rate limit exceeded"},
    [SIM_E_CAPACITY] = {429, "parallel task over resource pack limit"},
    [SIM_E_INPUT_POLICY] = {400, "input may contain sensitive content"},
    [SIM_E_INTERNAL] = {500, "internal server error"},
    [SIM_E_UNAVAILABLE] = {503, "service temporarily unavailable"},
    [SIM_E_NOT_FOUND] = {404, "task not found"},
    [SIM_E_BAD_REQUEST] = {400, "invalid request parameters"},
    [SIM_E_FULL] = {503, "simulator task cap reached"},
    [SIM_E_AUTH_MISSING] = {401, "authorization is empty"},
    [SIM_E_AUTH_INVALID] = {401, "authorization is invalid"},
    [SIM_E_AUTH_FAILED] = {401, "authentication failed"},
    [SIM_E_AUTH_NBF] = {401, "authorization is not yet valid"},
    [SIM_E_AUTH_EXP] = {401, "authorization has expired"},
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
    if (doc == NULL ||
        json_dump_callback(doc, sim_dump_cb, out, JSON_COMPACT) != 0) {
        status = 500;
        evbuffer_add_printf(out, "{\"error\":\"encode\"}");
    }
    json_decref(doc);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, status, NULL, NULL);
}

void
sim_reply_raw(struct evhttp_request *req, int status, const char *ctype,
              const void *body, size_t len)
{
    evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      ctype);
    evhttp_send_reply(req, status, NULL, NULL);
}

void
sim_reply_video(struct evhttp_request *req)
{
    static const unsigned char mp4[] = {
        0,   0,   0, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4',
        '2', 0,   0, 0,    0,   'm', 'p', '4', '2', 'i', 's',
        'o', 'm', 0, 0,    0,   8,   'm', 'd', 'a', 't'};
    sim_reply_raw(req, 200, "video/mp4", mp4, sizeof mp4);
}

void
sim_not_allowed(struct evhttp_request *req)
{
    sim_reply_json(req, 405, json_pack("{s:s}", "error", "method not allowed"));
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
    /* 24 characters; callers give 40 bytes. */
    rl_fmt_fit(out, len, "%s.%03dZ", buf, (int)(ms % 1000));
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
sim_path_id(const char *path, const char *prefix, const char *suffix, char *id,
            size_t len)
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

int
sim_path_collection(const char *path, const char *prefix, char *id,
                    size_t id_len)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) != 0)
        return -1;
    if (path[n] == '\0')
        return 0;
    const char *rest = path + n + 1;
    size_t len = strlen(rest);
    if (path[n] != '/' || len == 0 || len >= id_len ||
        strchr(rest, '/') != NULL)
        return -1;
    memcpy(id, rest, len + 1);
    return sim_id_decode(id, id_len) ? 1 : -1;
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
