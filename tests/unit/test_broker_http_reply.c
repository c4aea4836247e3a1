/*
 * test_broker_http_reply - http_job_id_ok (the one check of a job id a
 * request names, both front doors), http_query_long (numbers in query
 * strings) and rl_redis_reply_tag (the tag of a script reply every
 * handler switches on).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>

#include "http_reply.h"
#include "rl_redis.h"

static void
test_job_id(void **state)
{
    (void)state;
    char longest[HTTP_JOB_ID_MAX + 2];

    assert_true(http_job_id_ok("vgen_Q2nA9z", HTTP_JOB_V1));
    assert_true(http_job_id_ok("task_Q2nA9z", HTTP_JOB_TASK));
    assert_true(http_job_id_ok("vgen_Q2nA9z", NULL));
    assert_true(http_job_id_ok("task_Q2nA9z", NULL));
    assert_false(http_job_id_ok("task_Q2nA9z", HTTP_JOB_V1));
    assert_false(http_job_id_ok("vgen_Q2nA9z", HTTP_JOB_TASK));
    assert_false(http_job_id_ok("vgen_", NULL));
    assert_false(http_job_id_ok("vgen_a-b", NULL));
    assert_false(http_job_id_ok("vgen_a/b", NULL));
    assert_false(http_job_id_ok("vgen_a b", NULL));
    assert_false(http_job_id_ok("VGEN_abc", NULL));
    assert_false(http_job_id_ok("", NULL));
    /* HTTP_JOB_ID_MAX characters in all, the prefix included. */
    memset(longest, 'a', sizeof longest);
    memcpy(longest, HTTP_JOB_V1, strlen(HTTP_JOB_V1));
    longest[HTTP_JOB_ID_MAX] = '\0';
    assert_true(http_job_id_ok(longest, HTTP_JOB_V1));
    longest[HTTP_JOB_ID_MAX] = 'a';
    longest[HTTP_JOB_ID_MAX + 1] = '\0';
    assert_false(http_job_id_ok(longest, HTTP_JOB_V1));
}

static void
test_reply_tag(void **state)
{
    (void)state;
    redisReply ok = {.type = REDIS_REPLY_STRING, .str = "ok", .len = 2};
    redisReply num = {.type = REDIS_REPLY_INTEGER, .integer = 1};
    redisReply *elems[] = {&ok, &num};
    redisReply arr = {
        .type = REDIS_REPLY_ARRAY, .elements = 2, .element = elems};
    redisReply odd = {
        .type = REDIS_REPLY_ARRAY, .elements = 1, .element = &elems[1]};
    redisReply empty = {.type = REDIS_REPLY_ARRAY, .elements = 0};

    assert_string_equal(rl_redis_reply_tag(&arr), "ok");
    assert_null(rl_redis_reply_tag(NULL));
    assert_null(rl_redis_reply_tag(&ok)); /* not an array */
    assert_null(rl_redis_reply_tag(&empty));
    assert_null(rl_redis_reply_tag(&odd)); /* first element no string */
}

/* http_query_long of `name` in the query string q, with [1, 500] and
 * the default 50. */
static long
s_query(const char *q)
{
    struct evkeyvalq params;
    long n;

    assert_int_equal(evhttp_parse_query_str(q, &params), 0);
    n = http_query_long(&params, "limit", 1, 500, 50);
    evhttp_clear_headers(&params);
    return n;
}

static void
test_query_long(void **state)
{
    (void)state;
    assert_int_equal(s_query(""), 50);
    assert_int_equal(s_query("other=7"), 50);
    assert_int_equal(s_query("limit=7"), 7);
    assert_int_equal(s_query("limit=007"), 7);
    assert_int_equal(s_query("limit=1"), 1);
    assert_int_equal(s_query("limit=500"), 500);
    /* out of range, or not decimal digits alone */
    static const char *const bad[] = {
        "limit=0",    "limit=501", "limit=",
        "limit=%2B5", "limit=+5",  "limit=%205",
        "limit=5%20", "limit=-5",  "limit=0x5",
        "limit=5a",   "limit=1e2", "limit=99999999999999999999999",
        "limit=5.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (s_query(bad[i]) != -1)
            fail_msg("%s accepted", bad[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_id),
        cmocka_unit_test(test_query_long),
        cmocka_unit_test(test_reply_tag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
