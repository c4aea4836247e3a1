/*
 * http_api - the broker's HTTP server and its route table.
 * SPDX-License-Identifier: MIT
 */
#include "http_api.h"

#include <stdbool.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "api_accounts.h"
#include "api_admin.h"
#include "api_generations.h"
#include "api_tasks.h"
#include "api_webhooks.h"
#include "dispatch.h"
#include "http_reply.h"
#include "rl_log.h"

/* bytes of the {id} of a prefix route; every id it can name is far shorter */
#define HTTP_SEGMENT_MAX 128

typedef void (*route_fn)(broker_t *b, struct evhttp_request *req,
                         const char *segment);

/* An exact path, or a prefix (it ends in '/') followed by one segment
 * (non-empty, no '/': the {id}) and then the suffix, if any. */
typedef struct {
    enum evhttp_cmd_type cmd;
    const char *path;   /* exact path, or a prefix when it ends in '/' */
    const char *suffix; /* what follows the segment ("/deliveries"), or
                           NULL for nothing */
    route_fn fn;        /* gets the segment ("" for an exact path) */
} route_t;

static void s_healthz(broker_t *b, struct evhttp_request *req,
                      const char *tail);
static void s_readyz(broker_t *b, struct evhttp_request *req, const char *tail);

static const route_t s_routes[] = {
    {EVHTTP_REQ_POST, "/v1/video/generations", NULL, api_generations_create},
    {EVHTTP_REQ_GET, "/v1/video/generations/", NULL, api_generations_get},
    {EVHTTP_REQ_GET, "/v1/video/generations/", "/deliveries",
     api_webhooks_deliveries},
    {EVHTTP_REQ_POST, "/v1/video/generations/", "/redeliver",
     api_webhooks_redeliver},
    {EVHTTP_REQ_GET, "/v1/webhooks/failed", NULL, api_webhooks_failed},
    {EVHTTP_REQ_POST, "/v1/webhooks/recover", NULL, api_webhooks_recover},
    {EVHTTP_REQ_PUT, "/v1/account/webhooks", NULL, api_webhooks_settings},
    {EVHTTP_REQ_POST, "/v1/accounts", NULL, api_accounts_signup},
    {EVHTTP_REQ_GET, "/v1/account", NULL, api_accounts_get},
    {EVHTTP_REQ_GET, "/v1/account/ledger", NULL, api_accounts_ledger},
    {EVHTTP_REQ_GET, "/v1/account/keys", NULL, api_accounts_keys},
    {EVHTTP_REQ_POST, "/v1/account/keys", NULL, api_accounts_key_create},
    {EVHTTP_REQ_DELETE, "/v1/account/keys/", NULL, api_accounts_key_revoke},
    {EVHTTP_REQ_GET, "/v1/admin/providers", NULL, api_admin_providers},
    {EVHTTP_REQ_POST, "/api/v1/jobs/createTask", NULL, api_tasks_create},
    {EVHTTP_REQ_GET, "/api/v1/jobs/recordInfo", NULL, api_tasks_record},
    {EVHTTP_REQ_GET, "/healthz", NULL, s_healthz},
    {EVHTTP_REQ_GET, "/readyz", NULL, s_readyz},
};

/* /healthz: 200 while the loop turns. /readyz: 200 while Redis answers
 * (connected is not enough: a stalled server keeps its connections). */
static void
s_health(broker_t *b, struct evhttp_request *req, bool ready)
{
    bool up = rl_redis_answering(b->redis);
    http_reply_json(req, (!ready || up) ? 200 : 503,
                    json_pack("{s:s,s:b,s:I}", "status",
                              (!ready || up) ? "ok" : "unavailable", "redis",
                              up, "workers",
                              (json_int_t)dispatch_workers(b->dispatch)));
}

static void
s_healthz(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    s_health(b, req, false);
}

static void
s_readyz(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    s_health(b, req, true);
}

/* True when path is r's; a prefix route's segment goes into seg (of
 * HTTP_SEGMENT_MAX + 1 bytes), "" for an exact path. */
static bool
s_match(const route_t *r, const char *path, char *seg)
{
    size_t n = strlen(r->path), k;

    seg[0] = '\0';
    if (r->path[n - 1] != '/')
        return strcmp(path, r->path) == 0;
    if (strncmp(path, r->path, n) != 0)
        return false;
    path += n;
    k = strcspn(path, "/");
    if (k == 0 || k > HTTP_SEGMENT_MAX ||
        strcmp(path + k, r->suffix != NULL ? r->suffix : "") != 0)
        return false;
    memcpy(seg, path, k);
    seg[k] = '\0';
    return true;
}

static void
s_route(struct evhttp_request *req, void *arg)
{
    broker_t *b = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    char seg[HTTP_SEGMENT_MAX + 1];
    bool path_known = false;
    if (path == NULL)
        path = "/";
    for (size_t i = 0; i < sizeof s_routes / sizeof s_routes[0]; i++) {
        if (!s_match(&s_routes[i], path, seg))
            continue;
        if (s_routes[i].cmd == cmd) {
            s_routes[i].fn(b, req, seg);
            return;
        }
        path_known = true;
    }
    api_error_t e;
    if (path_known)
        api_error_set(&e, 405, "invalid_request_error", "method_not_allowed",
                      NULL, "method not allowed on %s", path);
    else
        api_error_set(&e, 404, "not_found", "route_not_found", NULL,
                      "no route %s", path);
    http_reply_error(req, &e);
}

int
http_api_start(broker_t *b)
{
    char why[320];
    /* evhttp's cut is twice the API's: a body between the two gets the
     * API's own 413 answer (http_body) rather than a dropped connection. */
    rl_httpd_limits_t lim = rl_httpd_limits(b->cfg, b->cfg->http_max_body * 2);

    b->http = rl_httpd_new(
        b->base, b->cfg->http_listen, &lim, RL_HTTPD_SHARE_PORT,
        EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE,
        s_route, b, "http", why, sizeof why);
    if (b->http == NULL) {
        rl_log_errorx("%s", why);
        return -1;
    }
    return 0;
}

void
http_api_stop(broker_t *b)
{
    rl_httpd_destroy(&b->http);
}
