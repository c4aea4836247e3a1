/*
 * test_loop - unit tests for rl_loop: a loop is made, and a persistent
 * timer run early with rl_loop_run_now restarts its period from then
 * (the lease renewal must not skip a period after a Redis reconnect).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <event2/event.h>

#include "rl_clock.h"
#include "rl_loop.h"

#define PERIOD_MS 300 /* the persistent timer */
#define KICK_MS 50    /* when it is run early */
#define SLACK_MS 120  /* timer lateness tolerated on a loaded machine */

typedef struct {
    struct event_base *base;
    struct event *timer;
    int64_t start;
    int64_t at[2]; /* the first two runs, ms after start */
    int runs;
} s_clock_t;

static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s_clock_t *c = arg;
    (void)fd;
    (void)what;
    c->at[c->runs++] = rl_clock_mono_ms() - c->start;
    if (c->runs == 2)
        event_base_loopbreak(c->base);
}

static void
s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    s_clock_t *c = arg;
    (void)fd;
    (void)what;
    rl_loop_run_now(c->timer);
}

static void
test_new(void **state)
{
    (void)state;
    struct event_base *base = rl_loop_new();
    assert_non_null(base);
    event_base_free(base);
}

static void
test_run_now_restarts_the_period(void **state)
{
    (void)state;
    s_clock_t c = {0};
    struct timeval period = {0, PERIOD_MS * 1000};
    struct timeval kick = {0, KICK_MS * 1000};
    c.base = rl_loop_new();
    c.timer = event_new(c.base, -1, EV_PERSIST, s_on_timer, &c);
    struct event *k = evtimer_new(c.base, s_on_kick, &c);
    c.start = rl_clock_mono_ms();
    event_add(c.timer, &period);
    evtimer_add(k, &kick);
    event_base_dispatch(c.base);
    assert_int_equal(c.runs, 2);
    /* Run at the kick, then one period after it - not one period after
     * the deadline the timer had pending (PERIOD_MS * 2). */
    assert_in_range(c.at[0], KICK_MS, KICK_MS + SLACK_MS);
    assert_in_range(c.at[1], KICK_MS + PERIOD_MS,
                    KICK_MS + PERIOD_MS + SLACK_MS);
    event_free(k);
    event_free(c.timer);
    event_base_free(c.base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new),
        cmocka_unit_test(test_run_now_restarts_the_period),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
