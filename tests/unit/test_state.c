/*
 * test_state - the parsers of the typed script calls that start from an
 * API key (rl_state_view, rl_state_acct, rl_state_keys, rl_state_hooks):
 * each script's answers, its tags and fields read, and what is not one
 * of its answers (a tag of another script, a wrong shape, an error, no
 * reply) made BAD or UNKNOWN, so no caller compares a tag as a string.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_state_acct.h"
#include "rl_state_hooks.h"
#include "rl_state_keys.h"
#include "rl_state_view.h"

#define S_MAX 8

/* A reply as hiredis builds one: a top array of strings, integers or
 * arrays. */
typedef struct {
    redisReply top;
    redisReply el[S_MAX];
    redisReply *els[S_MAX];
} s_reply_t;

static redisReply *
s_strings(s_reply_t *r, size_t n, const char *const *words)
{
    r->top = (redisReply){
        .type = REDIS_REPLY_ARRAY, .elements = n, .element = r->els};
    for (size_t i = 0; i < n; i++) {
        r->el[i] = (redisReply){.type = REDIS_REPLY_STRING,
                                .str = (char *)words[i],
                                .len = strlen(words[i])};
        r->els[i] = &r->el[i];
    }
    return &r->top;
}

static void
test_job_get(void **state)
{
    (void)state;
    s_reply_t r;
    rl_state_job_reply_t out;
    const char *ok[] = {"ok", "id", "vgen_1", "status", "pending"};
    rl_state_view_job_parse(s_strings(&r, 5, ok), false, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_string_equal(rl_state_field(&out.fields, "status"), "pending");
    const char *nf[] = {"not_found"};
    rl_state_view_job_parse(s_strings(&r, 1, nf), false, &out);
    assert_int_equal(out.tag, RL_STATE_NOT_FOUND);
    const char *fb[] = {"forbidden"};
    rl_state_view_job_parse(s_strings(&r, 1, fb), true, &out);
    assert_int_equal(out.tag, RL_STATE_FORBIDDEN);
    /* job_get never answers forbidden: not one of its answers */
    rl_state_view_job_parse(s_strings(&r, 1, fb), false, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    rl_state_view_job_parse(NULL, false, &out);
    assert_int_equal(out.tag, RL_STATE_UNKNOWN);
}

static void
test_deliveries(void **state)
{
    (void)state;
    s_reply_t r;
    rl_state_deliveries_reply_t out;
    const char *ok[] = {"ok", "completed", "http://h/x", "delivered", "2", ""};
    s_strings(&r, 6, ok);
    r.el[5] = (redisReply){.type = REDIS_REPLY_ARRAY, .elements = 0};
    rl_state_view_deliveries_parse(&r.top, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_string_equal(out.wh_state, "delivered");
    assert_int_equal(out.attempts->elements, 0);
    /* the log not an array: a shape it never has */
    r.el[5] = (redisReply){.type = REDIS_REPLY_STRING, .str = "x", .len = 1};
    rl_state_view_deliveries_parse(&r.top, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    const char *ua[] = {"unauthorized"};
    rl_state_view_deliveries_parse(s_strings(&r, 1, ua), &out);
    assert_int_equal(out.tag, RL_STATE_UNAUTHORIZED);
}

static void
test_account_writes(void **state)
{
    (void)state;
    s_reply_t r;
    rl_state_webhooks_reply_t wh;
    const char *ok[] = {"ok", "both", "long", "", "", ""};
    s_strings(&r, 6, ok);
    r.el[3] = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = 1};
    r.el[4] = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = 0};
    rl_state_acct_webhooks_parse(&r.top, &wh);
    assert_int_equal(wh.tag, RL_STATE_OK);
    assert_string_equal(wh.signing, "both");
    assert_true(wh.stored);
    assert_false(wh.has_secret);
    assert_string_equal(wh.prev_until, "");
    rl_state_acct_webhooks_parse(s_strings(&r, 5, ok), &wh);
    assert_int_equal(wh.tag, RL_STATE_BAD);

    rl_state_key_create_reply_t kc;
    const char *tm[] = {"too_many"};
    rl_state_acct_key_create_parse(s_strings(&r, 1, tm), &kc);
    assert_int_equal(kc.tag, RL_STATE_TOO_MANY);
    const char *lk[] = {"last_key"};
    rl_state_acct_key_create_parse(s_strings(&r, 1, lk), &kc);
    assert_int_equal(kc.tag, RL_STATE_BAD);

    /* account_create answers a status, not an array */
    rl_state_acct_create_reply_t ac;
    redisReply st = {.type = REDIS_REPLY_STATUS, .str = "exists", .len = 6};
    rl_state_acct_create_parse(&st, &ac);
    assert_int_equal(ac.tag, RL_STATE_EXISTS);
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = "ERR x", .len = 5};
    rl_state_acct_create_parse(&err, &ac);
    assert_int_equal(ac.tag, RL_STATE_BAD);
    assert_string_equal(ac.why, "ERR x");
}

static void
test_keys(void **state)
{
    (void)state;
    s_reply_t r;
    rl_state_acct_get_reply_t ag;
    const char *ok[] = {"ok", "acct_1", "", "", "", ""};
    s_strings(&r, 6, ok);
    for (size_t i = 2; i < 5; i++)
        r.el[i] = (redisReply){.type = REDIS_REPLY_ARRAY, .elements = 0};
    r.el[5] = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = 7};
    rl_state_keys_account_parse(&r.top, &ag);
    assert_int_equal(ag.tag, RL_STATE_OK);
    assert_string_equal(ag.acct, "acct_1");
    assert_int_equal(ag.next, 7);
    const char *ch[] = {"changed"};
    rl_state_keys_account_parse(s_strings(&r, 1, ch), &ag);
    assert_int_equal(ag.tag, RL_STATE_CHANGED);

    rl_state_key_revoke_reply_t kr;
    const char *lk[] = {"last_key"};
    rl_state_keys_revoke_parse(s_strings(&r, 1, lk), &kr);
    assert_int_equal(kr.tag, RL_STATE_LAST_KEY);
    rl_state_keys_revoke_parse(s_strings(&r, 1, ch), &kr);
    assert_int_equal(kr.tag, RL_STATE_CHANGED);
    const char *tm[] = {"too_many"};
    rl_state_keys_revoke_parse(s_strings(&r, 1, tm), &kr);
    assert_int_equal(kr.tag, RL_STATE_BAD);
}

static void
test_redeliver(void **state)
{
    (void)state;
    s_reply_t r;
    rl_state_redeliver_reply_t out;
    const char *ok[] = {"ok", "completed"};
    rl_state_hooks_redeliver_parse(s_strings(&r, 2, ok), &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_string_equal(out.status, "completed");
    const char *nt[] = {"not_terminal", "processing"};
    rl_state_hooks_redeliver_parse(s_strings(&r, 2, nt), &out);
    assert_int_equal(out.tag, RL_STATE_NOT_TERMINAL);
    assert_string_equal(out.status, "processing");
    /* ok without its status: the 202 could not say which event */
    rl_state_hooks_redeliver_parse(s_strings(&r, 1, ok), &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    const char *nw[] = {"no_webhook"};
    rl_state_hooks_redeliver_parse(s_strings(&r, 1, nw), &out);
    assert_int_equal(out.tag, RL_STATE_NO_WEBHOOK);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_get),
        cmocka_unit_test(test_deliveries),
        cmocka_unit_test(test_account_writes),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_redeliver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
