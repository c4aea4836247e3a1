/*
 * test_deliverer_delivery - deliveries built from outbox_claim entries
 * and COMPLETION messages (well-formed and malformed), the request
 * timeout a claim's deadline leaves, the next attempt number, and the
 * attempt record JSON.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "attempt.h"
#include "delivery.h"

#define S_MAX_ELEMS 16

/* A hand-made claim entry {ref, token, sign_key, field, value...}. */
typedef struct {
    redisReply top;
    redisReply items[S_MAX_ELEMS];
    redisReply *ptrs[S_MAX_ELEMS];
} s_entry_t;

static void
s_entry(s_entry_t *e, const char *const *strs, size_t n)
{
    memset(e, 0, sizeof *e);
    assert_true(n <= S_MAX_ELEMS);
    for (size_t i = 0; i < n; i++) {
        e->items[i].type = REDIS_REPLY_STRING;
        e->items[i].str = (char *)strs[i];
        e->items[i].len = strlen(strs[i]);
        e->ptrs[i] = &e->items[i];
    }
    e->top.type = REDIS_REPLY_ARRAY;
    e->top.elements = n;
    e->top.element = e->ptrs;
}

static void
test_from_claim(void **state)
{
    static const char *const strs[] = {"acct_1|vgen_abc",
                                       "7",
                                       "rk_secret",
                                       "id",
                                       "vgen_abc",
                                       "status",
                                       "completed",
                                       "webhook_url",
                                       "http://127.0.0.1:9/h",
                                       "wh_attempts",
                                       "1"};
    s_entry_t e;
    delivery_t *d;
    rl_jobview_src_t src;

    (void)state;
    s_entry(&e, strs, sizeof strs / sizeof strs[0]);
    d = delivery_from_claim(&e.top, 0, NULL);
    assert_non_null(d);
    assert_string_equal(d->ref, "acct_1|vgen_abc");
    assert_string_equal(d->acct, "acct_1");
    assert_string_equal(d->job, "vgen_abc");
    assert_string_equal(d->token, "7");
    /* The claim names the key by its hash; the outbox sets the sealed
     * key from its record. */
    assert_string_equal(d->key_hash, "rk_secret");
    assert_string_equal(d->sign_key, "");
    delivery_set_sign_key(d, "sealed-key");
    assert_string_equal(d->sign_key, "sealed-key");
    assert_int_equal(d->npairs, 4);
    assert_int_equal(d->attempt, 2); /* one attempt already recorded */
    assert_false(d->fail_open);
    assert_string_equal(delivery_field(d, "webhook_url"),
                        "http://127.0.0.1:9/h");
    assert_null(delivery_field(d, "output_url"));
    src = delivery_src(d);
    assert_string_equal(rl_jobview_get(&src, "status"), "completed");
    delivery_destroy(&d);
    assert_null(d);
    delivery_destroy(&d);
}

static void
test_from_claim_malformed(void **state)
{
    static const char *const odd[] = {"a|j", "1", "k", "id"};
    static const char *const bad_ref[] = {"no-bar", "1", "k"};
    static const char *const short_[] = {"a|j", "1"};
    s_entry_t e;
    const char *why = NULL;

    (void)state;
    s_entry(&e, odd, 4);
    assert_null(delivery_from_claim(&e.top, 0, &why));
    assert_non_null(why);
    s_entry(&e, bad_ref, 3);
    assert_null(delivery_from_claim(&e.top, 0, &why));
    s_entry(&e, short_, 2);
    assert_null(delivery_from_claim(&e.top, 0, &why));
    s_entry(&e, bad_ref, 3);
    e.items[1].type = REDIS_REPLY_INTEGER;
    e.items[0].str = (char *)"a|j";
    e.items[0].len = 3;
    assert_null(delivery_from_claim(&e.top, 0, &why));
    assert_null(delivery_from_claim(NULL, 0, &why));
}

static void
test_from_msg(void **state)
{
    rl_msg_t m;
    delivery_t *d;

    (void)state;
    rl_msg_init(&m, RL_MSG_COMPLETION);
    memcpy(m.acct, "acct_9", 7);
    memcpy(m.job_id, "vgen_9", 7);
    memcpy(m.status, "failed", 7);
    m.sign_key = strdup("rk_9");
    assert_int_equal(rl_msg_add_field(&m, "id", "vgen_9"), 0);
    assert_int_equal(rl_msg_add_field(&m, "status", "failed"), 0);
    d = delivery_from_msg(&m, NULL);
    assert_non_null(d);
    assert_string_equal(d->ref, "acct_9|vgen_9");
    assert_string_equal(d->token, "");
    assert_string_equal(d->sign_key, "rk_9");
    assert_true(d->fail_open);
    assert_int_equal(d->attempt, 1);
    assert_string_equal(delivery_field(d, "status"), "failed");
    delivery_destroy(&d);
    rl_msg_release(&m);
}

/* A claimed attempt's timeout is cut to what its claim's deadline
 * leaves; a fail-open one (no deadline) keeps the whole timeout. */
static void
test_budget(void **state)
{
    static const char *const strs[] = {"a|j", "1", "k"};
    s_entry_t e;
    delivery_t *d;

    (void)state;
    s_entry(&e, strs, 3);
    d = delivery_from_claim(&e.top, 20000, NULL);
    assert_non_null(d);
    assert_int_equal(d->deadline_ms, 20000);
    assert_int_equal(delivery_budget_ms(d, 5000, 10000), 10000);
    assert_int_equal(delivery_budget_ms(d, 10000, 10000), 10000);
    assert_int_equal(delivery_budget_ms(d, 12500, 10000), 7500);
    assert_int_equal(delivery_budget_ms(d, 20000, 10000), 0);
    assert_int_equal(delivery_budget_ms(d, 25000, 10000), 0);
    delivery_destroy(&d);
    d = delivery_from_claim(&e.top, 0, NULL);
    assert_int_equal(delivery_budget_ms(d, 1000000, 10000), 10000);
    delivery_destroy(&d);
}

static void
test_next_attempt(void **state)
{
    (void)state;
    assert_int_equal(delivery_next_attempt(NULL), 1);
    assert_int_equal(delivery_next_attempt(""), 1);
    assert_int_equal(delivery_next_attempt("0"), 1);
    assert_int_equal(delivery_next_attempt("2"), 3);
    assert_int_equal(delivery_next_attempt("-1"), 1);
    assert_int_equal(delivery_next_attempt("2x"), 1);
    assert_int_equal(delivery_next_attempt("99999999999999999999"), 1);
}

static void
test_record(void **state)
{
    attempt_info_t info = {
        .attempt = 2,
        .at_ms = 1773152581000LL,
        .url = "https://your-app.com/webhooks/creativeai",
        .status = 503,
        .error = NULL,
        .latency_ms = 42,
        .response = "busy \"now\"",
        .response_len = 10,
        .outcome = CLASSIFY_RETRY,
        .fail_open = false,
    };
    char *json = attempt_record(&info);

    (void)state;
    assert_string_equal(
        json, "{\"attempt\":2,\"at\":1773152581000,\"url\":\"https://"
              "your-app.com/webhooks/creativeai\",\"status\":503,"
              "\"error\":null,\"latency_ms\":42,\"response\":\"busy "
              "\\\"now\\\"\",\"outcome\":\"retry\",\"fail_open\":false}");
    free(json);
    info.status = 0;
    info.error = "Connection refused";
    info.response = NULL;
    info.response_len = 0;
    info.outcome = CLASSIFY_FAILED;
    info.fail_open = true;
    json = attempt_record(&info);
    assert_non_null(strstr(json, "\"status\":0,\"error\":\"Connection "
                                 "refused\""));
    assert_non_null(strstr(json, "\"response\":\"\""));
    assert_non_null(strstr(json, "\"outcome\":\"failed\",\"fail_open\":"
                                 "true}"));
    free(json);
}

static void
test_record_bytes(void **state)
{
    char big[3000];
    attempt_info_t info = {.attempt = 1,
                           .url = "http://h/",
                           .status = 200,
                           .outcome = CLASSIFY_DELIVERED};
    char *json;

    (void)state;
    /* Cut to 1024 bytes. */
    memset(big, 'x', sizeof big);
    info.response = big;
    info.response_len = sizeof big;
    json = attempt_record(&info);
    assert_non_null(strstr(json, "\"response\":\""));
    assert_int_equal(strchr(strstr(json, "\"response\":\"") + 12, '"') -
                         (strstr(json, "\"response\":\"") + 12),
                     ATTEMPT_RESPONSE_MAX);
    free(json);
    /* A UTF-8 sequence cut by the excerpt is dropped. */
    info.response = "ok \xc3\xa9\xc3";
    info.response_len = 6;
    json = attempt_record(&info);
    assert_non_null(strstr(json, "\"response\":\"ok \xc3\xa9\""));
    free(json);
    /* Bytes that are not UTF-8 become '?'. */
    info.response = "a\xff\xfe"
                    "b";
    info.response_len = 4;
    json = attempt_record(&info);
    assert_non_null(strstr(json, "\"response\":\"a??b\""));
    free(json);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_claim),
        cmocka_unit_test(test_from_claim_malformed),
        cmocka_unit_test(test_from_msg),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_next_attempt),
        cmocka_unit_test(test_record),
        cmocka_unit_test(test_record_bytes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
