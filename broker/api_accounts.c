/*
 * api_accounts - sign-up, account, ledger and key management endpoints.
 * SPDX-License-Identifier: MIT
 */
#include "api_accounts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "http_reply.h"
#include "master.h"
#include "rl_addrlimit.h"
#include "rl_alloc.h"
#include "rl_apikey.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_httpd.h"
#include "rl_jobview.h"
#include "rl_keys.h"
#include "rl_state_acct.h"
#include "rl_state_keys.h"

#define ACCOUNTS_MAX_KEYS 10
#define LEDGER_DEFAULT_LIMIT 20
#define LEDGER_MAX_LIMIT 100
#define ACCOUNT_ID_CHARS 16
#define S_KEY_ID_MAX 32 /* characters of a key id a request names */
_Static_assert(S_KEY_ID_MAX <= HTTP_PENDING_TEXT_MAX,
               "a request's key id is kept whole");

/* ---- POST /v1/accounts ---------------------------------------------- */

typedef struct {
    char acct[32];
    rl_apikey_t key;
    long credits;
} signup_t;

static void
s_on_signup(const rl_state_acct_create_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    signup_t *s = p->data;
    struct evhttp_request *req = http_pending_done(p);
    if (req == NULL) {
        /* gone */
    } else if (rep->tag != RL_STATE_OK) {
        http_reply_unavailable(req);
    } else {
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:I, s:o}", "object", "account",
                      "id", s->acct, "api_key", s->key.key, "key_id", s->key.id,
                      "credits", (json_int_t)s->credits, "created_at",
                      rl_jobview_time(rl_clock_wall_ms()));
        http_reply_json(req, 201, o);
    }
    memset(s, 0, sizeof *s); /* the plaintext key */
    free(s);
}

/* Who may sign up, and with how many credits; *admin tells whether the
 * admin token came with it. Returns -1 when answered. */
static long
s_signup_credits(broker_t *b, struct evhttp_request *req, bool *admin_out)
{
    const rl_config_t *cfg = b->cfg;
    const char *tok = http_bearer(req);
    bool admin =
        cfg->admin_token[0] && tok && rl_secret_equal(tok, cfg->admin_token);
    int retry = 0;

    /* (api_admin_check answers 403 itself; here a non-admin may still
     * sign up when sign-up is open.) */
    if (tok != NULL && !admin && strcmp(cfg->signup, "admin") == 0)
        rl_httpd_auth_failed(req);
    if (strcmp(cfg->signup, "closed") == 0 ||
        (strcmp(cfg->signup, "admin") == 0 && !admin)) {
        http_reply_fail(req, 403, "permission_error", "signup_closed", NULL,
                        strcmp(cfg->signup, "closed") == 0
                            ? "sign-up is closed"
                            : "sign-up needs the admin token as Bearer");
        return -1;
    }
    if (!admin && !rl_addrlimit_allowed(b->signups, rl_httpd_peer(req),
                                        rl_clock_mono_ms(), &retry)) {
        http_retry_after(req, retry > 0 ? retry : 1);
        http_reply_fail(req, 429, "rate_limit_error", "signup_rate_limited",
                        NULL,
                        "too many accounts opened from this address; "
                        "retry after the Retry-After header");
        return -1;
    }
    *admin_out = admin;
    json_t *root;
    if (!http_body_json(b, req, &root))
        return -1;
    json_t *c = json_object_get(root, "credits");
    long credits = cfg->signup_credits;
    int bad =
        !json_is_object(root) ||
        (c && (!admin || !json_is_integer(c) || json_integer_value(c) < 0 ||
               json_integer_value(c) > 1000000000));
    if (!bad && c)
        credits = (long)json_integer_value(c);
    json_decref(root);
    if (bad) {
        api_error_t e;
        api_error_invalid(&e, "invalid_field", "credits",
                          "the body must be {} or, with the admin token, "
                          "{\"credits\": 0..1000000000}");
        http_reply_error(req, &e);
        return -1;
    }
    return credits;
}

void
api_accounts_signup(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    bool admin = false;
    long credits = s_signup_credits(b, req, &admin);
    if (credits < 0)
        return;
    signup_t *s = rl_calloc(1, sizeof *s);
    s->credits = credits;
    const uint8_t *master = broker_master(b);
    if (master == NULL ||
        rl_random_id("acct_", ACCOUNT_ID_CHARS, s->acct, sizeof s->acct) != 0 ||
        rl_apikey_new(master, rl_keys_partition(s->acct), &s->key) != 0) {
        free(s);
        http_reply_fail(
            req, 503, "service_unavailable", "no_master_key", NULL,
            "accounts cannot be created: no master key is configured");
        return;
    }
    rl_state_acct_create_args_t a = {.acct = s->acct,
                                     .key_hash = s->key.hash,
                                     .sealed = s->key.sealed,
                                     .key_id = s->key.id,
                                     .prefix = s->key.prefix,
                                     .credits = credits};
    /* An account is about to be made: it counts against the client. */
    if (!admin)
        rl_addrlimit_take(b->signups, rl_httpd_peer(req), rl_clock_mono_ms());
    http_pending_t *p = http_pending_new(b, req);
    p->data = s;
    if (rl_state_acct_create(b->redis, &a, s_on_signup, p) != 0) {
        rl_state_acct_create_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_signup(&none, p);
    }
}

/* ---- GET /v1/account, /ledger, /keys ---------------------------------- */

typedef enum { VIEW_ACCOUNT, VIEW_LEDGER, VIEW_KEYS } view_t;

typedef struct {
    view_t view;
    long cursor; /* ledger: entries older than this (-1: newest) */
    long limit;
} account_q_t;

/* The number the HGETALL reply h holds for `name` (0 when none). */
static json_int_t
s_field(const redisReply *h, const char *name)
{
    return (json_int_t)rl_jobview_num(rl_redis_reply_field(h, 0, name));
}

static json_t *
s_account_object(const rl_state_acct_get_reply_t *r)
{
    const redisReply *h = r->acct_fields;
    json_t *usage = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I}", "jobs", s_field(h, "jobs"),
        "jobs_completed", s_field(h, "jobs_completed"), "jobs_failed",
        s_field(h, "jobs_failed"), "credits_granted", s_field(h, "granted"),
        "credits_debited", s_field(h, "debited"), "credits_refunded",
        s_field(h, "refunded"));
    return json_pack("{s:s, s:s, s:I, s:o, s:o}", "object", "account", "id",
                     r->acct, "credits", s_field(h, "credits"), "usage", usage,
                     "created_at", rl_jobview_time(s_field(h, "created_at")));
}

static json_t *
s_ledger_list(const rl_state_acct_get_reply_t *r)
{
    json_t *data = json_array();
    const redisReply *l = r->ledger;
    for (size_t i = 0; l->type == REDIS_REPLY_ARRAY && i < l->elements; i++) {
        const char *raw = rl_redis_reply_str(l->element[i]);
        json_t *e = raw ? json_loads(raw, 0, NULL) : NULL;
        if (!json_is_object(e)) {
            json_decref(e);
            continue;
        }
        json_t *at = json_object_get(e, "at");
        json_object_set_new(e, "created_at",
                            rl_jobview_time(rl_jobview_json_ms(at)));
        json_object_del(e, "at");
        json_array_append_new(data, e);
    }
    long long next = r->next;
    return json_pack("{s:s, s:o, s:b, s:o}", "object", "list", "data", data,
                     "has_more", next > 0, "next_cursor",
                     next > 0 ? json_integer(next) : json_null());
}

static json_t *
s_key_list(const rl_state_acct_get_reply_t *r)
{
    json_t *data = json_array();
    const redisReply *k = r->keys;
    for (size_t i = 0; i + 3 < k->elements; i += 4) {
        const char *revoked = rl_redis_reply_str(k->element[i + 3]);
        json_array_append_new(
            data,
            json_pack("{s:s, s:s, s:s, s:o, s:o}", "object", "api_key", "id",
                      rl_redis_reply_str(k->element[i]), "prefix",
                      rl_redis_reply_str(k->element[i + 1]), "created_at",
                      rl_jobview_time(rl_jobview_num(
                          rl_redis_reply_str(k->element[i + 2]))),
                      "revoked_at", rl_jobview_time(rl_jobview_num(revoked))));
    }
    return json_pack("{s:s, s:o}", "object", "list", "data", data);
}

static void
s_on_account(const rl_state_acct_get_reply_t *reply, void *arg)
{
    http_pending_t *p = arg;
    account_q_t q = *(account_q_t *)p->data;
    free(p->data);
    struct evhttp_request *req = http_pending_done(p);
    if (req == NULL || http_reply_state_failed(req, reply->tag))
        return;
    if (reply->tag != RL_STATE_OK) {
        http_reply_unavailable(req);
        return;
    }
    json_t *o = q.view == VIEW_ACCOUNT  ? s_account_object(reply)
                : q.view == VIEW_LEDGER ? s_ledger_list(reply)
                                        : s_key_list(reply);
    http_reply_json(req, 200, o);
}

static void
s_account_query(broker_t *b, struct evhttp_request *req, account_q_t q)
{
    char hash[RL_SHA256_HEX_LEN];
    if (!http_key_hash(req, hash))
        return;
    http_pending_t *p = http_pending_new(b, req);
    p->data = rl_malloc(sizeof q);
    memcpy(p->data, &q, sizeof q);
    /* cursor -1: from the newest entry */
    if (rl_state_keys_account(b->redis, hash, q.cursor,
                              q.view == VIEW_LEDGER ? q.limit : 0, s_on_account,
                              p) != 0) {
        rl_state_acct_get_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_account(&none, p);
    }
}

void
api_accounts_get(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    account_q_t q = {VIEW_ACCOUNT, -1, 0};
    s_account_query(b, req, q);
}

void
api_accounts_ledger(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    struct evkeyvalq params;
    const char *qs = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    TAILQ_INIT(&params);
    if (qs != NULL && evhttp_parse_query_str(qs, &params) != 0) {
        http_reply_fail(req, 400, "invalid_request_error", "invalid_query",
                        NULL, "malformed query string");
        return;
    }
    account_q_t q = {VIEW_LEDGER, 0, 0};
    q.limit = http_query_long(&params, "limit", 1, LEDGER_MAX_LIMIT,
                              LEDGER_DEFAULT_LIMIT);
    bool has_cursor = evhttp_find_header(&params, "cursor") != NULL;
    q.cursor = http_query_long(&params, "cursor", 0, 1L << 40, 0);
    evhttp_clear_headers(&params);
    if (q.limit < 0 || q.cursor < 0) {
        api_error_t e;
        api_error_invalid(&e, "invalid_query", q.limit < 0 ? "limit" : "cursor",
                          "limit must be 1..%d and cursor a non-negative "
                          "number from next_cursor",
                          LEDGER_MAX_LIMIT);
        http_reply_error(req, &e);
        return;
    }
    if (!has_cursor)
        q.cursor = -1;
    s_account_query(b, req, q);
}

void
api_accounts_keys(broker_t *b, struct evhttp_request *req, const char *tail)
{
    (void)tail;
    account_q_t q = {VIEW_KEYS, -1, 0};
    s_account_query(b, req, q);
}

/* ---- POST /v1/account/keys, DELETE /v1/account/keys/{id} --------------- */

static void
s_on_key_created(const rl_state_key_create_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    rl_apikey_t *k = p->data;
    struct evhttp_request *req = http_pending_done(p);
    if (req != NULL && !http_reply_state_failed(req, rep->tag)) {
        if (rep->tag == RL_STATE_TOO_MANY)
            http_reply_fail(req, 409, "invalid_request_error", "too_many_keys",
                            NULL,
                            "an account has at most 10 keys; revoke one first");
        else
            http_reply_json(req, 201,
                            json_pack("{s:s, s:s, s:s, s:s}", "object",
                                      "api_key", "id", k->id, "api_key", k->key,
                                      "prefix", k->prefix));
    }
    memset(k, 0, sizeof *k);
    free(k);
}

void
api_accounts_key_create(broker_t *b, struct evhttp_request *req,
                        const char *tail)
{
    (void)tail;
    char hash[RL_SHA256_HEX_LEN];
    if (!http_key_hash(req, hash))
        return;
    rl_apikey_t *k = rl_calloc(1, sizeof *k);
    const uint8_t *master = broker_master(b);
    /* The caller's key lies in its account's partition: so does this. */
    if (master == NULL ||
        rl_apikey_new(master, rl_keys_partition(hash), k) != 0) {
        free(k);
        http_reply_fail(req, 503, "service_unavailable", "no_master_key", NULL,
                        "keys cannot be created: no master key is configured");
        return;
    }
    rl_state_key_create_args_t a = {.key_hash = hash,
                                    .new_hash = k->hash,
                                    .sealed = k->sealed,
                                    .id = k->id,
                                    .prefix = k->prefix,
                                    .max_keys = ACCOUNTS_MAX_KEYS};
    http_pending_t *p = http_pending_new(b, req);
    p->data = k;
    if (rl_state_acct_key_create(b->redis, &a, s_on_key_created, p) != 0) {
        rl_state_key_create_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_key_created(&none, p);
    }
}

static void
s_on_revoked(const rl_state_key_revoke_reply_t *rep, void *arg)
{
    http_pending_t *p = arg;
    char id[sizeof p->text];
    memcpy(id, p->text, sizeof id);
    struct evhttp_request *req = http_pending_done(p);
    if (req == NULL || http_reply_state_failed(req, rep->tag))
        return;
    if (rep->tag == RL_STATE_NOT_FOUND)
        http_reply_fail(req, 404, "not_found", "key_not_found", NULL,
                        "no such key");
    else if (rep->tag == RL_STATE_LAST_KEY)
        http_reply_fail(req, 409, "invalid_request_error", "last_key", NULL,
                        "the last active key cannot be revoked");
    else
        http_reply_json(req, 200,
                        json_pack("{s:s, s:s, s:b}", "object", "api_key", "id",
                                  id, "revoked", 1));
}

void
api_accounts_key_revoke(broker_t *b, struct evhttp_request *req, const char *id)
{
    char hash[RL_SHA256_HEX_LEN];
    if (!http_key_hash(req, hash))
        return;
    if (strlen(id) > S_KEY_ID_MAX || strncmp(id, "key_", 4) != 0) {
        http_reply_fail(req, 404, "not_found", "key_not_found", NULL,
                        "no such key");
        return;
    }
    http_pending_t *p = http_pending_new(b, req);
    http_pending_keep(p, id);
    if (rl_state_keys_revoke(b->redis, hash, id, s_on_revoked, p) != 0) {
        rl_state_key_revoke_reply_t none = {.tag = RL_STATE_UNKNOWN};
        s_on_revoked(&none, p);
    }
}
