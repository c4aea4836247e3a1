/*
 * rl_breaker - one circuit breaker, pure.
 * SPDX-License-Identifier: MIT
 */
#include "rl_breaker.h"

#include <assert.h>
#include <stddef.h>

rl_breaker_verdict_t
rl_breaker_peek(const rl_breaker_t *b, const rl_breaker_conf_t *conf,
                int64_t now_ms, long *wait_ms)
{
    long dummy;

    assert(b != NULL && conf != NULL);
    wait_ms = wait_ms != NULL ? wait_ms : &dummy;
    *wait_ms = 0;
    switch (b->state) {
    case RL_BREAKER_CLOSED:
        return RL_BREAKER_ALLOW;
    case RL_BREAKER_OPEN:
        if (now_ms >= b->until)
            return RL_BREAKER_TRIAL;
        *wait_ms = (long)(b->until - now_ms);
        return RL_BREAKER_REFUSE;
    case RL_BREAKER_HALF_OPEN:
        if (conf->trial_ms > 0 && now_ms >= b->until)
            return RL_BREAKER_TRIAL; /* the trial out is given up */
        return RL_BREAKER_REFUSE;
    }
    return RL_BREAKER_REFUSE;
}

rl_breaker_verdict_t
rl_breaker_allow(rl_breaker_t *b, const rl_breaker_conf_t *conf, int64_t now_ms,
                 long *wait_ms)
{
    rl_breaker_verdict_t v = rl_breaker_peek(b, conf, now_ms, wait_ms);

    if (v == RL_BREAKER_TRIAL) {
        b->state = RL_BREAKER_HALF_OPEN;
        b->until = now_ms + conf->trial_ms;
    }
    return v;
}

void
rl_breaker_success(rl_breaker_t *b)
{
    assert(b != NULL);
    b->state = RL_BREAKER_CLOSED;
    b->failures = 0;
    b->until = 0;
}

void
rl_breaker_failure(rl_breaker_t *b, const rl_breaker_conf_t *conf,
                   int64_t now_ms)
{
    assert(b != NULL && conf != NULL && conf->failures >= 1);
    if (b->failures < conf->failures)
        b->failures++;
    if (b->state == RL_BREAKER_HALF_OPEN || b->failures >= conf->failures) {
        b->state = RL_BREAKER_OPEN;
        b->until = now_ms + conf->cooldown_ms;
    }
}

void
rl_breaker_cancel(rl_breaker_t *b, int64_t now_ms)
{
    assert(b != NULL);
    if (b->state != RL_BREAKER_HALF_OPEN)
        return;
    b->state = RL_BREAKER_OPEN;
    b->until = now_ms;
}

const char *
rl_breaker_state_name(rl_breaker_state_t s)
{
    switch (s) {
    case RL_BREAKER_CLOSED:
        return "closed";
    case RL_BREAKER_OPEN:
        return "open";
    case RL_BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}
