/*
 * api_admin - operator endpoints.
 * SPDX-License-Identifier: MIT
 */
#include "api_admin.h"

#include <string.h>

#include <jansson.h>

#include "http_reply.h"
#include "rl_crypto.h"
#include "rl_httpd.h"
#include "rl_keys.h"

bool
api_admin_check(broker_t *b, struct evhttp_request *req)
{
    const char *tok = http_bearer(req);
    const char *want = b->cfg->admin_token;
    if (want[0] && tok && rl_secret_equal(tok, want))
        return true;
    if (tok != NULL)
        rl_httpd_auth_failed(req);
    http_reply_fail(req, 403, "permission_error", "admin_only", NULL,
                    "this endpoint needs [accounts] admin_token as Bearer");
    return false;
}

static void
s_on_health(redisReply *reply, void *arg)
{
    struct evhttp_request *req = http_pending_done(arg);
    if (req == NULL)
        return;
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY) {
        http_reply_unavailable(req);
        return;
    }
    json_t *data = json_array();
    for (size_t i = 1; i < reply->elements; i += 2) {
        const char *raw = rl_redis_reply_str(reply->element[i]);
        json_t *o = raw != NULL ? json_loads(raw, 0, NULL) : NULL;
        if (json_is_object(o))
            json_array_append(data, o);
        json_decref(o);
    }
    http_reply_json(req, 200,
                    json_pack("{s:s, s:o}", "object", "list", "data", data));
}

void
api_admin_providers(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    if (!api_admin_check(b, req))
        return;
    http_pending_t *p = http_pending_new(b, req);
    const char *argv[] = {"HGETALL", RL_KEY_PROVIDER_HEALTH};
    if (rl_redis_command(b->redis, s_on_health, p, 2, argv, NULL) != 0)
        s_on_health(NULL, p);
}
