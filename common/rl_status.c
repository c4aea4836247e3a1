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
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_config.h"
#include "rl_fmt.h"
#include "rl_httpd.h"

/* A status endpoint takes no request body. */
#define S_MAX_BODY 1024

struct rl_status {
    rl_httpd_t *http;
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

/* The role's counters with this listener's own under "http". */
static char *
s_stats_json(rl_status_t *s)
{
    char *text = s->stats(s->arg);
    json_t *o = text != NULL ? json_loads(text, 0, NULL) : NULL;
    rl_httpd_stats_t st = rl_httpd_stats(s->http);

    free(text);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    json_object_set_new(
        o, "http",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "accepted",
                  (json_int_t)st.accepted, "open", (json_int_t)st.open,
                  "at_cap", (json_int_t)st.at_cap, "accept_errors",
                  (json_int_t)st.accept_errors, "request_timeouts",
                  (json_int_t)st.request_timeouts, "too_large",
                  (json_int_t)st.too_large, "bad_framing",
                  (json_int_t)st.bad_framing));
    text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Answers o (taken) as compact JSON; 500 when it cannot be built. */
static void
s_reply_json(struct evhttp_request *req, int code, json_t *o)
{
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    s_reply(req, text != NULL ? code : 500,
            text != NULL ? text : "{\"error\":\"encode\"}");
    free(text);
}

static void
s_route(struct evhttp_request *req, void *arg)
{
    rl_status_t *s = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    if (path != NULL && strcmp(path, "/healthz") == 0) {
        s_reply_json(req, 200,
                     json_pack("{s:s,s:s}", "status", "ok", "role", s->role));
    } else if (path != NULL && strcmp(path, "/readyz") == 0) {
        bool ok = s->ready(s->arg);
        s_reply_json(req, ok ? 200 : 503,
                     json_pack("{s:s,s:s}", "status", ok ? "ok" : "unavailable",
                               "role", s->role));
    } else if (path != NULL && strcmp(path, "/stats") == 0 && s->stats) {
        char *json = s_stats_json(s);
        s_reply(req, json != NULL ? 200 : 500,
                json != NULL ? json : "{\"error\":\"no stats\"}");
        free(json);
    } else {
        s_reply(req, 404, "{\"error\":\"no route\"}");
    }
}

/* Listens on addr ("host:port"). NULL with the reason in why. */
static rl_status_t *
s_new(struct event_base *base, const rl_config_t *cfg, const char *addr,
      const char *role, rl_status_ready_fn ready, rl_status_stats_fn stats,
      void *arg, char *why, size_t why_len)
{
    rl_httpd_limits_t lim = rl_httpd_limits(cfg, S_MAX_BODY);
    rl_status_t *s = rl_calloc(1, sizeof *s);

    s->role = role;
    s->ready = ready;
    s->stats = stats;
    s->arg = arg;
    s->http = rl_httpd_new(base, addr, &lim, 0, EVHTTP_REQ_GET, s_route, s,
                           "status", why, why_len);
    if (s->http == NULL)
        rl_status_destroy(&s);
    return s;
}

int
rl_status_open(rl_status_t **out, struct event_base *base,
               const rl_config_t *cfg, char *const *list, size_t n, int index,
               const char *role, rl_status_ready_fn ready,
               rl_status_stats_fn stats, void *arg, char *why, size_t why_len)
{
    *out = NULL;
    if (n == 0)
        return 0;
    if (index < 0 || (size_t)index >= n) {
        rl_fmt_msg(why, why_len, "--index %d: the list has %zu entries", index,
                   n);
        return -1;
    }
    *out = s_new(base, cfg, list[index], role, ready, stats, arg, why, why_len);
    return *out == NULL ? -1 : 0;
}

void
rl_status_destroy(rl_status_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_httpd_destroy(&(*p)->http);
    free(*p);
    *p = NULL;
}
