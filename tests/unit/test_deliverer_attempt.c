/*
 * test_deliverer_attempt - one webhook attempt on a real loop and HTTP
 * client: when the address curl is about to connect to is refused by
 * the SSRF guard, the attempt fails for good with that reason, without
 * traffic, instead of being retried as a connection error.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "attempt.h"
#include "delivery.h"
#include "egress.h"
#include "rl_apikey.h"
#include "rl_clock.h"
#include "rl_config.h"
#include "rl_http.h"

#define S_WAIT_MS 5000
#define S_NFIELDS 9

typedef struct {
    int calls; /* callbacks seen */
    classify_decision_t decision;
    long status;
    char error[EGRESS_WHY_LEN];
    char record[1024]; /* the attempt JSON */
} s_seen_t;

static void
s_on_done(delivery_t *d, const attempt_result_t *res, void *arg)
{
    s_seen_t *seen = arg;

    seen->calls++;
    seen->decision = res->decision;
    seen->status = res->status;
    snprintf(seen->error, sizeof seen->error, "%s",
             res->error != NULL ? res->error : "");
    snprintf(seen->record, sizeof seen->record, "%s", res->record);
    delivery_destroy(&d);
}

/* A claimed delivery of a completed job to url, signed with a key sealed
 * under master. */
static delivery_t *
s_delivery(const uint8_t master[RL_AEAD_KEY_LEN], const char *url)
{
    static rl_apikey_t key;
    const char *strs[S_NFIELDS];
    redisReply items[S_NFIELDS], top;
    redisReply *ptrs[S_NFIELDS];
    const char *why = NULL;
    delivery_t *d;

    assert_int_equal(rl_apikey_new(master, 0, &key), 0);
    strs[0] = "acct_t|vgen_t";
    strs[1] = "1";
    strs[2] = key.hash; /* a claim names the key by its hash */
    strs[3] = "id";
    strs[4] = "vgen_t";
    strs[5] = "status";
    strs[6] = "completed";
    strs[7] = "webhook_url";
    strs[8] = url;
    memset(items, 0, sizeof items);
    for (size_t i = 0; i < S_NFIELDS; i++) {
        items[i].type = REDIS_REPLY_STRING;
        items[i].str = (char *)strs[i];
        items[i].len = strlen(strs[i]);
        ptrs[i] = &items[i];
    }
    memset(&top, 0, sizeof top);
    top.type = REDIS_REPLY_ARRAY;
    top.elements = S_NFIELDS;
    top.element = ptrs;
    d = delivery_from_claim(&top, 0, &why);
    assert_non_null(d);
    delivery_set_sign_key(d, key.sealed); /* as the outbox does */
    return d;
}

static void
test_refused_at_connect(void **state)
{
    uint8_t master[RL_AEAD_KEY_LEN] = {7};
    rl_config_t cfg;
    rl_http_opts_t opts = {0};
    ssrf_allow_t none;
    s_seen_t seen = {0};
    struct event_base *base = event_base_new();
    rl_http_t *http;
    egress_t *eg;
    attempt_set_t *set;
    delivery_t *d;
    int64_t deadline;

    (void)state;
    memset(&cfg, 0, sizeof cfg);
    cfg.webhook_timeout_ms = S_WAIT_MS;
    cfg.retry_schedule_ms[1] = 100;
    cfg.nretries = 2;
    memset(&none, 0, sizeof none);
    assert_non_null(base);
    http = rl_http_new(base, &opts);
    assert_non_null(http);
    /* The guard is installed on the client and refuses at connect. */
    eg = egress_new(base, http, &none);
    assert_non_null(eg);
    set = attempt_set_new(base, http, eg, &cfg, master, s_on_done, &seen);
    d = s_delivery(master, "http://127.0.0.1:9/hook");
    attempt_start(set, &d);
    assert_null(d);
    assert_int_equal(seen.calls, 0); /* never from inside attempt_start */
    deadline = rl_clock_mono_ms() + S_WAIT_MS;
    while (seen.calls == 0 && rl_clock_mono_ms() < deadline)
        event_base_loop(base, EVLOOP_ONCE);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.decision.cls, CLASSIFY_PERMANENT);
    assert_int_equal(seen.decision.outcome, CLASSIFY_FAILED);
    assert_int_equal(seen.status, 0);
    assert_string_equal(seen.error,
                        "address not allowed: 127.0.0.1 (loopback)");
    assert_non_null(strstr(seen.record, "\"outcome\":\"failed\""));
    assert_true(egress_refused(eg) >= 1);
    assert_int_equal(attempt_inflight(set), 0);
    attempt_set_destroy(&set);
    rl_http_destroy(&http);
    egress_destroy(&eg);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_at_connect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
