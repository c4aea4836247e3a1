/*
 * test_broker_reaper - what the reaper makes of reap.lua's reply, row by
 * row of reaper_read()'s table: a sweep that moved jobs (and wakes the
 * dispatcher), one that found nothing, one another broker made, and
 * answers that are none of these.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "reaper.h"

/* An array reply of four elements, as hiredis builds one. */
typedef struct {
    redisReply top;
    redisReply el[4];
    redisReply *els[4];
} s_reply_t;

static redisReply *
s_counts(s_reply_t *r, long long a, long long b, long long c, long long d)
{
    const long long n[4] = {a, b, c, d};
    r->top = (redisReply){
        .type = REDIS_REPLY_ARRAY, .elements = 4, .element = r->els};
    for (size_t i = 0; i < 4; i++) {
        r->el[i] = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = n[i]};
        r->els[i] = &r->el[i];
    }
    return &r->top;
}

static void
test_reaped(void **state)
{
    s_reply_t r;
    reaper_counts_t c;

    (void)state;
    assert_int_equal(reaper_read(s_counts(&r, 2, 1, 3, 4), &c), REAPER_REAPED);
    assert_int_equal(c.unclaimed, 2);
    assert_int_equal(c.recovered, 1);
    assert_int_equal(c.failed, 3); /* failed as poisoned */
    assert_int_equal(c.expired, 4);
    /* any one count is enough */
    assert_int_equal(reaper_read(s_counts(&r, 0, 0, 0, 1), &c), REAPER_REAPED);
    assert_int_equal(reaper_read(s_counts(&r, 0, 0, 1, 0), &c), REAPER_REAPED);
    assert_int_equal(reaper_read(s_counts(&r, 0, 0, 0, 0), &c), REAPER_QUIET);
    assert_int_equal(c.unclaimed + c.recovered + c.failed + c.expired, 0);
}

static void
test_skipped_and_unknown(void **state)
{
    s_reply_t r;
    reaper_counts_t c;
    redisReply empty = {.type = REDIS_REPLY_ARRAY, .elements = 0};
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = "ERR", .len = 3};
    char five[] = "5";
    char junk[] = "five";

    (void)state;
    assert_int_equal(reaper_read(&empty, &c), REAPER_SKIPPED);
    assert_int_equal(reaper_read(NULL, &c), REAPER_UNKNOWN);
    assert_int_equal(reaper_read(&err, &c), REAPER_UNKNOWN);
    s_counts(&r, 1, 1, 1, 1);
    r.top.elements = 3;
    assert_int_equal(reaper_read(&r.top, &c), REAPER_UNKNOWN);
    assert_int_equal(c.unclaimed, 0);
    /* a count as a decimal string reads as one */
    s_counts(&r, 0, 0, 0, 0);
    r.el[0] = (redisReply){.type = REDIS_REPLY_STRING, .str = five, .len = 1};
    assert_int_equal(reaper_read(&r.top, &c), REAPER_REAPED);
    assert_int_equal(c.unclaimed, 5);
    r.el[0].str = junk;
    r.el[0].len = 4;
    assert_int_equal(reaper_read(&r.top, &c), REAPER_UNKNOWN);
    assert_int_equal(reaper_read(s_counts(&r, 0, -1, 0, 0), &c),
                     REAPER_UNKNOWN);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reaped),
        cmocka_unit_test(test_skipped_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
