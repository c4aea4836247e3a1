/*
 * http_api - routes and answers of the public HTTP API.
 * SPDX-License-Identifier: MIT
 */
#include "http_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "api_error.h"
#include "dispatch.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_jobview.h"
#include "rl_log.h"
#include "submit.h"

#define GENERATIONS "/v1/video/generations"
#define HTTP_BACKLOG 1024

/* One request waiting for Redis. evhttp handles one request at a time
 * per connection, so the connection's close callback can find it. */
typedef struct {
    broker_t *broker;
    struct evhttp_request *req;   /* NULL once the client went away */
    submit_req_t *submit;         /* while accept.lua runs */
    char job_id[64];              /* for GET */
} pending_t;

static void
s_reply(struct evhttp_request *req, int status, const char *json)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (status == 503)
        evhttp_add_header(h, "Retry-After", "1");
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, json, strlen(json));
    evhttp_send_reply(req, status, NULL, NULL);
}

static void
s_reply_error(struct evhttp_request *req, const api_error_t *e)
{
    char *json = api_error_json(e);
    s_reply(req, e->status, json);
    free(json);
}

static void
s_on_close(struct evhttp_connection *conn, void *arg)
{
    pending_t *p = arg;
    (void)conn;
    p->req = NULL;
    if (p->submit != NULL)
        submit_abandon(p->submit);
}

static pending_t *
s_pending_new(broker_t *b, struct evhttp_request *req)
{
    pending_t *p = rl_calloc(1, sizeof *p);
    p->broker = b;
    p->req = req;
    evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                  s_on_close, p);
    return p;
}

/* Frees p and returns its request (NULL when the client went away),
 * with the close callback removed before anything is sent: sending may
 * free the connection. */
static struct evhttp_request *
s_pending_done(pending_t *p)
{
    struct evhttp_request *req = p->req;
    if (req != NULL)
        evhttp_connection_set_closecb(evhttp_request_get_connection(req),
                                      NULL, NULL);
    free(p);
    return req;
}

/* The key of "Authorization: Bearer KEY", or NULL. */
static const char *
s_bearer(struct evhttp_request *req)
{
    const char *auth = evhttp_find_header(
        evhttp_request_get_input_headers(req), "Authorization");
    if (auth == NULL || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    auth += 7;
    while (*auth == ' ')
        auth++;
    return *auth ? auth : NULL;
}

static void
s_on_submitted(int status, const char *body, const char *job_id, void *arg)
{
    struct evhttp_request *req = s_pending_done(arg);
    if (req == NULL)
        return;
    if (status == 202 && job_id != NULL) {
        char loc[128];
        snprintf(loc, sizeof loc, GENERATIONS "/%s", job_id);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location",
                          loc);
    }
    s_reply(req, status, body);
}

static void
s_post_generation(broker_t *b, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if ((long)len > b->cfg->http_max_body) {
        api_error_t e;
        api_error_set(&e, 413, "invalid_request_error", "body_too_large",
                      NULL, "the body is larger than %ld bytes",
                      b->cfg->http_max_body);
        s_reply_error(req, &e);
        return;
    }
    const char *body = (const char *)evbuffer_pullup(in, -1);
    const char *idem = evhttp_find_header(
        evhttp_request_get_input_headers(req), "Idempotency-Key");
    pending_t *p = s_pending_new(b, req);
    /* On NULL the callback already ran and freed p. */
    submit_req_t *r = submit_start(b, s_bearer(req), idem, body ? body : "",
                                   len, s_on_submitted, p);
    if (r != NULL)
        p->submit = r;
}

static void
s_job_reply(struct evhttp_request *req, const redisReply *reply,
            const char *job_id)
{
    const char *tag = (reply && reply->type == REDIS_REPLY_ARRAY &&
                       reply->elements > 0)
                          ? rl_redis_reply_str(reply->element[0])
                          : NULL;
    api_error_t e;
    if (tag == NULL) {
        api_error_set(&e, 503, "service_unavailable", "storage_unavailable",
                      NULL, "job storage is unavailable; retry shortly");
        s_reply_error(req, &e);
    } else if (strcmp(tag, "unauthorized") == 0) {
        api_error_set(&e, 401, "authentication_error", "invalid_api_key",
                      NULL, "invalid API key");
        s_reply_error(req, &e);
    } else if (strcmp(tag, "ok") != 0) {
        api_error_set(&e, 404, "not_found", "job_not_found", "id",
                      "no job '%s'", job_id);
        s_reply_error(req, &e);
    } else {
        const char *kv[2 * 96];
        size_t n = 0;
        for (size_t i = 1; i + 1 < reply->elements && n < 96; i += 2, n++) {
            kv[2 * n] = rl_redis_reply_str(reply->element[i]);
            kv[2 * n + 1] = rl_redis_reply_str(reply->element[i + 1]);
        }
        rl_jobview_src_t src = {kv, n};
        json_t *o = rl_jobview_api(&src, rl_clock_wall_ms());
        char *text = json_dumps(o, JSON_COMPACT);
        s_reply(req, 200, text);
        free(text);
        json_decref(o);
    }
}

static void
s_on_job(redisReply *reply, void *arg)
{
    pending_t *p = arg;
    char job_id[sizeof p->job_id];
    memcpy(job_id, p->job_id, sizeof job_id);
    struct evhttp_request *req = s_pending_done(p);
    if (req != NULL)
        s_job_reply(req, reply, job_id);
}

static bool
s_job_id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n < 6 || n > 48 || strncmp(id, "vgen_", 5) != 0)
        return false;
    for (size_t i = 5; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') ||
              (id[i] >= 'A' && id[i] <= 'Z')))
            return false;
    return true;
}

static void
s_get_generation(broker_t *b, struct evhttp_request *req, const char *id)
{
    api_error_t e;
    const char *key = s_bearer(req);
    char key_hash[RL_SHA256_HEX_LEN];
    if (key == NULL) {
        api_error_set(&e, 401, "authentication_error", "missing_api_key",
                      NULL, "send your API key as 'Authorization: Bearer "
                      "KEY'");
        s_reply_error(req, &e);
        return;
    }
    if (!s_job_id_ok(id)) {
        api_error_set(&e, 404, "not_found", "job_not_found", "id",
                      "no such job");
        s_reply_error(req, &e);
        return;
    }
    rl_sha256_hex(key, strlen(key), key_hash);
    pending_t *p = s_pending_new(b, req);
    snprintf(p->job_id, sizeof p->job_id, "%s", id);
    const char *argv[] = {key_hash, id};
    if (rl_redis_script(b->redis, "job_get", s_on_job, p, 0, 2, argv, NULL) !=
        0)
        s_on_job(NULL, p);
}

static void
s_health(broker_t *b, struct evhttp_request *req, bool ready)
{
    bool up = rl_redis_connected(b->redis);
    char body[160];
    snprintf(body, sizeof body,
             "{\"status\":\"%s\",\"redis\":%s,\"workers\":%zu}",
             (!ready || up) ? "ok" : "unavailable", up ? "true" : "false",
             dispatch_workers(b->dispatch));
    s_reply(req, (!ready || up) ? 200 : 503, body);
}

static void
s_route(struct evhttp_request *req, void *arg)
{
    broker_t *b = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    api_error_t e;
    if (path == NULL)
        path = "/";
    if (strcmp(path, GENERATIONS) == 0 && cmd == EVHTTP_REQ_POST) {
        s_post_generation(b, req);
    } else if (strncmp(path, GENERATIONS "/", sizeof GENERATIONS) == 0 &&
               cmd == EVHTTP_REQ_GET) {
        s_get_generation(b, req, path + sizeof GENERATIONS);
    } else if (strcmp(path, "/healthz") == 0 && cmd == EVHTTP_REQ_GET) {
        s_health(b, req, false);
    } else if (strcmp(path, "/readyz") == 0 && cmd == EVHTTP_REQ_GET) {
        s_health(b, req, true);
    } else if (strcmp(path, GENERATIONS) == 0 ||
               strncmp(path, GENERATIONS "/", sizeof GENERATIONS) == 0) {
        api_error_set(&e, 405, "invalid_request_error", "method_not_allowed",
                      NULL, "method not allowed on %s", GENERATIONS);
        s_reply_error(req, &e);
    } else {
        api_error_set(&e, 404, "not_found", "route_not_found", NULL,
                      "no route");
        s_reply_error(req, &e);
    }
}

int
http_api_start(broker_t *b)
{
    char host[256];
    int port = 0;
    if (rl_config_split_addr(b->cfg->http_listen, host, sizeof host, &port) !=
        0)
        return -1;
    b->http = evhttp_new(b->base);
    evhttp_set_gencb(b->http, s_route, b);
    evhttp_set_max_body_size(b->http, (ev_ssize_t)b->cfg->http_max_body * 2);
    evhttp_set_allowed_methods(b->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    if (evutil_inet_pton(AF_INET, host, &sin.sin_addr) != 1)
        return -1;
    struct evconnlistener *l = evconnlistener_new_bind(
        b->base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT | LEV_OPT_CLOSE_ON_FREE |
            LEV_OPT_CLOSE_ON_EXEC,
        HTTP_BACKLOG, (struct sockaddr *)&sin, sizeof sin);
    if (l == NULL || evhttp_bind_listener(b->http, l) == NULL) {
        if (l != NULL)
            evconnlistener_free(l);
        return -1;
    }
    return 0;
}

void
http_api_stop(broker_t *b)
{
    if (b->http != NULL)
        evhttp_free(b->http);
    b->http = NULL;
}
