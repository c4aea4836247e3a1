/*
 * test_deliverer_hostgate - per-host isolation: the concurrency limit,
 * the circuit breaker (open, cool-down, half-open trial that closes or
 * reopens it), hosts kept apart, forgetting idle hosts (however many
 * there were), parking busy hosts' items and handing back those that
 * waited too long, and host keys.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hostgate.h"

#define S_SLOW "slow.example:443"
#define S_FAST "fast.example:443"

static void
test_limit(void **state)
{
    hostgate_t *g = hostgate_new(2, 3, 1000);

    (void)state;
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_BUSY);
    assert_int_equal(hostgate_inflight(g, S_SLOW), 2);
    /* a slow host does not hold back a healthy one */
    assert_int_equal(hostgate_acquire(g, S_FAST, 0, NULL), HOSTGATE_OK);
    hostgate_release(g, S_FAST, false, 1);
    assert_int_equal(hostgate_inflight(g, S_FAST), 0);
    assert_int_equal(hostgate_hosts(g), 1); /* fast is forgotten */
    hostgate_release(g, S_SLOW, false, 1);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 2);
    hostgate_release(g, S_SLOW, false, 2);
    hostgate_release(g, S_SLOW, false, 2); /* extra: ignored */
    hostgate_release(g, "never.example:80", true, 2);
    assert_int_equal(hostgate_hosts(g), 0);
    assert_string_equal(hostgate_verdict_name(HOSTGATE_BUSY), "busy");
    hostgate_destroy(&g);
    assert_null(g);
    hostgate_destroy(&g);
}

static void
test_breaker(void **state)
{
    hostgate_t *g = hostgate_new(16, 3, 1000);
    long wait = -1;

    (void)state;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
        hostgate_release(g, S_SLOW, true, 100);
    }
    /* a success in between resets the count */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 100, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 100);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(hostgate_acquire(g, S_SLOW, 200, NULL), HOSTGATE_OK);
        hostgate_release(g, S_SLOW, true, 200);
    }
    assert_int_equal(hostgate_acquire(g, S_SLOW, 700, &wait), HOSTGATE_OPEN);
    assert_int_equal(wait, 500);
    assert_int_equal(hostgate_acquire(g, S_FAST, 700, NULL), HOSTGATE_OK);
    /* cool-down over: one trial, nothing else meanwhile */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1200, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1200, &wait), HOSTGATE_OPEN);
    assert_int_equal(wait, 0);
    hostgate_release(g, S_SLOW, true, 1300); /* trial fails: reopens */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 1400, &wait), HOSTGATE_OPEN);
    assert_int_equal(wait, 900);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 2300, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 2400); /* trial succeeds: closes */
    for (int i = 0; i < 16; i++)
        assert_int_equal(hostgate_acquire(g, S_SLOW, 2400, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 2400, NULL), HOSTGATE_BUSY);
    hostgate_destroy(&g);
}

/* Attempts admitted before the breaker opened hold back the trial. */
static void
test_breaker_inflight(void **state)
{
    hostgate_t *g = hostgate_new(16, 1, 100);

    (void)state;
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, true, 10);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 50, NULL), HOSTGATE_OPEN);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 200, NULL), HOSTGATE_BUSY);
    hostgate_release(g, S_SLOW, false, 210);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 220, NULL), HOSTGATE_OK);
    hostgate_destroy(&g);
}

/* An admitted attempt not made gives its slot back without a verdict:
 * failures in a row stay counted, and a trial not made leaves the next
 * acquire to be the trial. */
static void
test_cancel(void **state)
{
    hostgate_t *g = hostgate_new(1, 2, 100);

    (void)state;
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, true, 10);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 10, NULL), HOSTGATE_OK);
    hostgate_cancel(g, S_SLOW, 10);
    assert_int_equal(hostgate_inflight(g, S_SLOW), 0);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 20, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, true, 20); /* the second in a row: open */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 50, NULL), HOSTGATE_OPEN);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 120, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 120, NULL), HOSTGATE_OPEN);
    hostgate_cancel(g, S_SLOW, 120); /* the trial, not made */
    assert_int_equal(hostgate_acquire(g, S_SLOW, 130, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, false, 140);
    hostgate_cancel(g, S_SLOW, 140); /* nothing admitted: ignored */
    hostgate_cancel(g, "never.example:80", 140);
    assert_int_equal(hostgate_inflight(g, S_SLOW), 0);
    hostgate_destroy(&g);
}

/* A busy host parks items up to its limit, oldest first; a release lets
 * the oldest one in; stale ones are handed back, not admitted. */
static void
test_park_fifo(void **state)
{
    hostgate_t *g = hostgate_new(1, 3, 1000);
    int items[4];
    bool admitted = true;

    (void)state;
    hostgate_park_limits(g, 1, 100);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_BUSY);
    /* no average yet: a host that may hang parks nothing */
    assert_false(hostgate_park(g, S_SLOW, &items[0], 10));
    hostgate_latency(g, S_SLOW, 5);
    assert_true(hostgate_park(g, S_SLOW, &items[0], 10));
    assert_false(hostgate_park(g, S_SLOW, &items[1], 10)); /* full */
    assert_false(hostgate_park(g, "unknown.example:80", &items[1], 10));
    /* still busy: nothing comes out and the item keeps its place */
    assert_null(hostgate_unpark(g, S_SLOW, 20, 1000, &admitted));
    assert_int_equal(hostgate_parked(g, S_SLOW), 1);
    hostgate_release(g, S_SLOW, false, 30);
    assert_ptr_equal(hostgate_unpark(g, S_SLOW, 30, 1000, &admitted),
                     &items[0]);
    assert_true(admitted);
    assert_int_equal(hostgate_inflight(g, S_SLOW), 1);
    assert_int_equal(hostgate_parked(g, S_SLOW), 0);
    /* an item that waited too long comes back without a slot */
    assert_true(hostgate_park(g, S_SLOW, &items[2], 40));
    hostgate_release(g, S_SLOW, false, 50);
    assert_ptr_equal(hostgate_unpark(g, S_SLOW, 2000, 1000, &admitted),
                     &items[2]);
    assert_false(admitted);
    assert_int_equal(hostgate_inflight(g, S_SLOW), 0);
    assert_null(hostgate_unpark(g, S_SLOW, 2000, 1000, &admitted));
    hostgate_destroy(&g);
}

/* A fast host (moving average below fast_ms) may park fast_park items; a
 * slow one only per_host. An open breaker hands every parked item back. */
static void
test_park_fast_and_breaker(void **state)
{
    hostgate_t *g = hostgate_new(1, 1, 1000);
    int items[8];
    bool admitted = true;
    int n = 0;

    (void)state;
    hostgate_park_limits(g, 4, 100);
    assert_int_equal(hostgate_acquire(g, S_FAST, 0, NULL), HOSTGATE_OK);
    hostgate_latency(g, S_FAST, 20);
    hostgate_release(g, S_FAST, false, 1);
    assert_int_equal(hostgate_hosts(g), 1); /* its average is kept */
    assert_int_equal(hostgate_acquire(g, S_FAST, 2, NULL), HOSTGATE_OK);
    for (int i = 0; i < 4; i++)
        assert_true(hostgate_park(g, S_FAST, &items[i], 2));
    assert_false(hostgate_park(g, S_FAST, &items[4], 2));
    /* slow: the average climbs past fast_ms, parking stops */
    for (int i = 0; i < 40; i++)
        hostgate_latency(g, S_FAST, 5000);
    assert_false(hostgate_park(g, S_FAST, &items[4], 3));
    /* the trial fails: breaker open, every parked item comes back */
    hostgate_release(g, S_FAST, true, 4);
    while (hostgate_unpark(g, S_FAST, 5, 1000, &admitted) != NULL) {
        assert_false(admitted);
        n++;
    }
    assert_int_equal(n, 4);
    assert_false(hostgate_park(g, S_FAST, &items[5], 6)); /* open */
    hostgate_destroy(&g);
}

static void
s_collect(void *item, void *arg)
{
    int *seen = arg;
    seen[*(int *)item]++;
}

/* The sweep hands back what waited too long at a host that releases
 * nothing, drain hands back everything, and idle fast hosts are forgotten
 * once their average is old. */
static void
test_expire_drain_forget(void **state)
{
    hostgate_t *g = hostgate_new(1, 3, 1000);
    int items[3] = {0, 1, 2};
    int seen[3] = {0, 0, 0};

    (void)state;
    hostgate_park_limits(g, 4, 100);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    hostgate_latency(g, S_SLOW, 5);
    assert_true(hostgate_park(g, S_SLOW, &items[0], 0));
    assert_int_equal(hostgate_acquire(g, S_FAST, 0, NULL), HOSTGATE_OK);
    hostgate_latency(g, S_FAST, 5);
    assert_true(hostgate_park(g, S_FAST, &items[1], 900));
    hostgate_expire(g, 1000, 500, s_collect, seen);
    assert_int_equal(seen[0], 1); /* waited 1000 > 500 */
    assert_int_equal(seen[1], 0); /* waited 100 */
    assert_int_equal(hostgate_parked(g, S_SLOW), 0);
    hostgate_drain(g, 1000, s_collect, seen);
    assert_int_equal(seen[1], 1);
    assert_int_equal(hostgate_parked(g, S_FAST), 0);
    /* idle hosts with an average are kept until it is old */
    hostgate_release(g, S_FAST, false, 1000);
    hostgate_release(g, S_SLOW, false, 2000);
    assert_int_equal(hostgate_hosts(g), 2);
    hostgate_forget_idle(g, 1000 + HOSTGATE_REMEMBER_MS);
    assert_int_equal(hostgate_hosts(g), 2);
    hostgate_forget_idle(g, 1001 + HOSTGATE_REMEMBER_MS);
    assert_int_equal(hostgate_hosts(g), 1); /* S_FAST went */
    hostgate_forget_idle(g, 2001 + HOSTGATE_REMEMBER_MS);
    assert_int_equal(hostgate_hosts(g), 0);
    hostgate_destroy(&g);
}

typedef struct {
    int n;
    int order[4];
} s_order_t;

static void
s_in_order(void *item, void *arg)
{
    s_order_t *o = arg;
    assert_true(o->n < 4);
    o->order[o->n++] = *(int *)item;
}

/* Items are handed back across hosts in the order they were parked, as
 * many as waited too long and no more. */
static void
test_expire_order(void **state)
{
    hostgate_t *g = hostgate_new(1, 3, 1000);
    int items[3] = {0, 1, 2};
    s_order_t o = {0};

    (void)state;
    hostgate_park_limits(g, 4, 100);
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    assert_int_equal(hostgate_acquire(g, S_FAST, 0, NULL), HOSTGATE_OK);
    hostgate_latency(g, S_SLOW, 5);
    hostgate_latency(g, S_FAST, 5);
    assert_true(hostgate_park(g, S_SLOW, &items[0], 0));
    assert_true(hostgate_park(g, S_FAST, &items[1], 10));
    assert_true(hostgate_park(g, S_SLOW, &items[2], 20));
    assert_int_equal(hostgate_expire(g, 400, 500, s_in_order, &o), 0);
    assert_int_equal(hostgate_expire(g, 520, 500, s_in_order, &o), 2);
    assert_int_equal(o.n, 2); /* item 2 waited exactly 500: not too long */
    assert_int_equal(o.order[0], 0);
    assert_int_equal(o.order[1], 1);
    assert_int_equal(hostgate_parked(g, S_SLOW), 1);
    assert_int_equal(hostgate_parked(g, S_FAST), 0);
    assert_int_equal(hostgate_expire(g, 521, 500, s_in_order, &o), 1);
    assert_int_equal(o.n, 3);
    assert_int_equal(o.order[2], 2);
    hostgate_destroy(&g);
}

/* Hosts come and go: however many distinct hosts were used, a new one
 * is admitted once the old ones have been idle long enough, and a
 * sweep forgets every host that is due, not a few per sweep. */
static void
test_many_hosts(void **state)
{
    hostgate_t *g = hostgate_new(1, 3, 1000);
    char host[HOSTGATE_HOST_MAX];
    int64_t t = 1000;

    (void)state;
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < HOSTGATE_MAX_HOSTS; i++) {
            snprintf(host, sizeof host, "h%d-%d.example:443", round, i);
            assert_int_equal(hostgate_acquire(g, host, t, NULL), HOSTGATE_OK);
            hostgate_latency(g, host, 30); /* an average: remembered */
            hostgate_release(g, host, false, t);
        }
        assert_int_equal(hostgate_hosts(g), HOSTGATE_MAX_HOSTS);
        /* full, and nobody idle long enough: a new host waits */
        assert_int_equal(hostgate_acquire(g, "new.example:443", t, NULL),
                         HOSTGATE_BUSY);
        assert_int_equal(hostgate_forget_idle(g, t + HOSTGATE_REMEMBER_MS), 0);
        t += HOSTGATE_REMEMBER_MS + 1;
        assert_int_equal(hostgate_forget_idle(g, t), HOSTGATE_MAX_HOSTS);
        assert_int_equal(hostgate_hosts(g), 0);
    }
    hostgate_destroy(&g);
}

/* An idle host whose breaker is open is kept through a cool-down longer
 * than HOSTGATE_REMEMBER_MS: forgetting it would reopen the host. */
static void
test_forget_after_cooldown(void **state)
{
    long cool = 2 * HOSTGATE_REMEMBER_MS;
    hostgate_t *g = hostgate_new(1, 1, cool);
    long wait = 0;

    (void)state;
    assert_int_equal(hostgate_acquire(g, S_SLOW, 0, NULL), HOSTGATE_OK);
    hostgate_release(g, S_SLOW, true, 0);
    assert_int_equal(hostgate_forget_idle(g, HOSTGATE_REMEMBER_MS + 1), 0);
    assert_int_equal(
        hostgate_acquire(g, S_SLOW, HOSTGATE_REMEMBER_MS + 1, &wait),
        HOSTGATE_OPEN);
    assert_int_equal(wait, cool - HOSTGATE_REMEMBER_MS - 1);
    assert_int_equal(hostgate_forget_idle(g, cool), 0);
    assert_int_equal(hostgate_forget_idle(g, cool + 1), 1);
    assert_int_equal(hostgate_hosts(g), 0);
    hostgate_destroy(&g);
}

static void
test_key(void **state)
{
    char key[HOSTGATE_HOST_MAX];

    (void)state;
    assert_int_equal(
        hostgate_key("https://Your-App.com/webhooks", key, sizeof key), 0);
    assert_string_equal(key, "your-app.com:443");
    assert_int_equal(
        hostgate_key("http://127.0.0.1:8099/hook?x=1", key, sizeof key), 0);
    assert_string_equal(key, "127.0.0.1:8099");
    assert_int_equal(hostgate_key("http://[::1]/", key, sizeof key), 0);
    assert_string_equal(key, "[::1]:80");
    assert_int_equal(hostgate_key("not a url", key, sizeof key), -1);
    assert_int_equal(hostgate_key(NULL, key, sizeof key), -1);
    assert_int_equal(hostgate_key("http://a.example/", key, 8), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_breaker_inflight),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_park_fifo),
        cmocka_unit_test(test_park_fast_and_breaker),
        cmocka_unit_test(test_expire_drain_forget),
        cmocka_unit_test(test_expire_order),
        cmocka_unit_test(test_many_hosts),
        cmocka_unit_test(test_forget_after_cooldown),
        cmocka_unit_test(test_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
