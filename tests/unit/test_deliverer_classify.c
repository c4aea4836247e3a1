/*
 * test_deliverer_classify - every outcome class of a webhook attempt,
 * Retry-After in the retry decision (its parser: test_retry_after) and
 * the retry schedule (attempt numbers to
 * delays, exhausted after nretries).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "classify.h"

/* Tue, 10 Mar 2026 14:23:01 GMT */
static const int64_t s_now = 1773152581000LL;
/* The default schedule: attempts at 0 s, +5 s, +30 s. */
static const long s_sched[] = {0, 5000, 30000};
static const size_t s_n = 3;

static classify_decision_t
s_decide(long status, int curl_code, const char *retry_after, int attempt)
{
    classify_input_t in = {status, curl_code, retry_after, false};

    return classify_decide(&in, classify_schedule_delay(s_sched, s_n, attempt),
                           s_now);
}

static void
test_classes(void **state)
{
    (void)state;
    assert_int_equal(classify_response(200, 0), CLASSIFY_OK);
    assert_int_equal(classify_response(201, 0), CLASSIFY_OK);
    assert_int_equal(classify_response(204, 0), CLASSIFY_OK);
    assert_int_equal(classify_response(299, 0), CLASSIFY_OK);
    assert_int_equal(classify_response(301, 0), CLASSIFY_PERMANENT);
    assert_int_equal(classify_response(400, 0), CLASSIFY_PERMANENT);
    assert_int_equal(classify_response(401, 0), CLASSIFY_PERMANENT);
    assert_int_equal(classify_response(404, 0), CLASSIFY_PERMANENT);
    assert_int_equal(classify_response(408, 0), CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(410, 0), CLASSIFY_PERMANENT);
    assert_int_equal(classify_response(429, 0), CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(500, 0), CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(502, 0), CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(503, 0), CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(599, 0), CLASSIFY_RETRYABLE);
    /* No response: timeout, refused, DNS are transient... */
    assert_int_equal(classify_response(0, CURLE_OPERATION_TIMEDOUT),
                     CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(0, CURLE_COULDNT_CONNECT),
                     CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(0, CURLE_COULDNT_RESOLVE_HOST),
                     CLASSIFY_RETRYABLE);
    assert_int_equal(classify_response(0, CURLE_GOT_NOTHING),
                     CLASSIFY_RETRYABLE);
    /* ...a URL no request can ever reach is not. */
    assert_int_equal(classify_response(0, CURLE_URL_MALFORMAT),
                     CLASSIFY_PERMANENT);
    assert_int_equal(classify_response(0, CURLE_UNSUPPORTED_PROTOCOL),
                     CLASSIFY_PERMANENT);
}

static void
test_decisions(void **state)
{
    classify_decision_t d;

    (void)state;
    d = s_decide(200, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_DELIVERED);
    d = s_decide(204, 0, NULL, 3); /* even on the last attempt */
    assert_int_equal(d.outcome, CLASSIFY_DELIVERED);
    d = s_decide(301, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
    d = s_decide(400, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
    d = s_decide(404, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
    d = s_decide(410, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
    assert_int_equal(d.cls, CLASSIFY_PERMANENT);
    d = s_decide(408, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 5000);
    d = s_decide(500, 0, NULL, 2);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 30000);
    d = s_decide(500, 0, NULL, 3); /* attempts exhausted */
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
    assert_int_equal(d.cls, CLASSIFY_RETRYABLE);
    d = s_decide(0, CURLE_OPERATION_TIMEDOUT, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 5000);
    d = s_decide(0, CURLE_COULDNT_CONNECT, NULL, 2);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 30000);
    d = s_decide(0, CURLE_COULDNT_CONNECT, NULL, 3);
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
}

/* A connect the SSRF guard refused is final on any attempt, whatever
 * curl made of it. */
static void
test_refused(void **state)
{
    classify_input_t in = {0, 7 /* CURLE_COULDNT_CONNECT */, NULL, true};
    classify_decision_t d;

    (void)state;
    assert_int_equal(classify_attempt(&in), CLASSIFY_PERMANENT);
    for (int attempt = 1; attempt <= 3; attempt++) {
        d = classify_decide(&in, classify_schedule_delay(s_sched, s_n, attempt),
                            s_now);
        assert_int_equal(d.cls, CLASSIFY_PERMANENT);
        assert_int_equal(d.outcome, CLASSIFY_FAILED);
    }
    in.refused = false;
    assert_int_equal(classify_attempt(&in), CLASSIFY_RETRYABLE);
    d = classify_decide(&in, 5000, s_now);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 5000);
    d = classify_decide(&in, -1, s_now); /* that was the last */
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
}

static void
test_retry_after(void **state)
{
    classify_decision_t d;

    (void)state;
    /* 429 without Retry-After: the schedule. */
    d = s_decide(429, 0, NULL, 1);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 5000);
    /* 429 asking for longer: honoured. */
    d = s_decide(429, 0, "12", 1);
    assert_int_equal(d.delay_ms, 12000);
    /* Never shorter than the schedule. */
    d = s_decide(429, 0, "1", 2);
    assert_int_equal(d.delay_ms, 30000);
    /* 503 with an HTTP-date two minutes ahead. */
    d = s_decide(503, 0, "Tue, 10 Mar 2026 14:25:01 GMT", 1);
    assert_int_equal(d.outcome, CLASSIFY_RETRY);
    assert_int_equal(d.delay_ms, 120000);
    /* Capped at an hour. */
    d = s_decide(503, 0, "86400", 1);
    assert_int_equal(d.delay_ms, CLASSIFY_RETRY_AFTER_CAP_MS);
    d = s_decide(429, 0, "Tue, 10 Mar 2026 16:23:01 GMT", 1);
    assert_int_equal(d.delay_ms, CLASSIFY_RETRY_AFTER_CAP_MS);
    /* Only 429 and 503 carry it. */
    d = s_decide(500, 0, "60", 1);
    assert_int_equal(d.delay_ms, 5000);
    /* It never buys an attempt beyond the schedule. */
    d = s_decide(429, 0, "60", 3);
    assert_int_equal(d.outcome, CLASSIFY_FAILED);
    /* Garbage is ignored. */
    d = s_decide(429, 0, "soon", 1);
    assert_int_equal(d.delay_ms, 5000);
}

static void
test_schedule(void **state)
{
    static const long custom[] = {0, 1000, 2000, 4000, 8000};

    (void)state;
    assert_int_equal(classify_schedule_delay(s_sched, s_n, 1), 5000);
    assert_int_equal(classify_schedule_delay(s_sched, s_n, 2), 30000);
    assert_int_equal(classify_schedule_delay(s_sched, s_n, 3), -1);
    assert_int_equal(classify_schedule_delay(s_sched, s_n, 4), -1);
    assert_int_equal(classify_schedule_delay(s_sched, s_n, 0), -1);
    assert_int_equal(classify_schedule_delay(custom, 5, 4), 8000);
    assert_int_equal(classify_schedule_delay(custom, 5, 5), -1);
    /* One attempt only: nothing to retry. */
    assert_int_equal(classify_schedule_delay(custom, 1, 1), -1);
    assert_string_equal(classify_outcome_name(CLASSIFY_DELIVERED), "delivered");
    assert_string_equal(classify_outcome_name(CLASSIFY_RETRY), "retry");
    assert_string_equal(classify_outcome_name(CLASSIFY_FAILED), "failed");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classes),  cmocka_unit_test(test_decisions),
        cmocka_unit_test(test_refused),  cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_schedule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
