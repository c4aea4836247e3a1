/*
 * rl_status - liveness, readiness and counters over HTTP.
 * SPDX-License-Identifier: MIT
 */
#include "rl_status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "rl_alloc.h"
#include "rl_config.h"

struct rl_status {
    struct evhttp *http;
    const char *role;
    rl_status_ready_fn ready;
    rl_status_stats_fn stats;
    void *arg;
};

static void
s_reply(struct evhttp_request *req, int code, const char *body)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    evhttp_send_reply(req, code, NULL, NULL);
}

static void
s_route(struct evhttp_request *req, void *arg)
{
    rl_status_t *s = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    char body[128];
    if (path != NULL && strcmp(path, "/healthz") == 0) {
        snprintf(body, sizeof body, "{\"status\":\"ok\",\"role\":\"%s\"}",
                 s->role);
        s_reply(req, 200, body);
    } else if (path != NULL && strcmp(path, "/readyz") == 0) {
        bool ok = s->ready(s->arg);
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"role\":\"%s\"}",
                 ok ? "ok" : "unavailable", s->role);
        s_reply(req, ok ? 200 : 503, body);
    } else if (path != NULL && strcmp(path, "/stats") == 0 && s->stats) {
        char *json = s->stats(s->arg);
        s_reply(req, 200, json ? json : "{}");
        free(json);
    } else {
        s_reply(req, 404, "{\"error\":\"no route\"}");
    }
}

/* Listens on addr ("host:port"). NULL on a bad address or bind error. */
static rl_status_t *
s_new(struct event_base *base, const char *addr, const char *role,
      rl_status_ready_fn ready, rl_status_stats_fn stats, void *arg)
{
    char host[256];
    int port = 0;
    if (rl_config_split_addr(addr, host, sizeof host, &port) != 0)
        return NULL;
    rl_status_t *s = rl_calloc(1, sizeof *s);
    s->http = evhttp_new(base);
    s->role = role;
    s->ready = ready;
    s->stats = stats;
    s->arg = arg;
    evhttp_set_gencb(s->http, s_route, s);
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET);
    if (evhttp_bind_socket(s->http, host, (ev_uint16_t)port) != 0) {
        rl_status_destroy(&s);
        return NULL;
    }
    return s;
}

int
rl_status_open(rl_status_t **out, struct event_base *base, char *const *list,
               size_t n, int index, const char *role,
               rl_status_ready_fn ready, rl_status_stats_fn stats, void *arg,
               char *why, size_t why_len)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if (index < 0 || (size_t)index >= n) {
        snprintf(why, why_len, "--index %d: the list has %zu entries", index,
                 n);
        return -1;
    }
    *out = s_new(base, list[index], role, ready, stats, arg);
    if (*out == NULL) {
        snprintf(why, why_len, "cannot listen on %s: %s", list[index],
                 strerror(errno));
        return -1;
    }
    return 0;
}

void
rl_status_destroy(rl_status_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    evhttp_free((*p)->http);
    free(*p);
    *p = NULL;
}
