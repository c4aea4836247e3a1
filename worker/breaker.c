/*
 * breaker - per-provider circuit breaker.
 * SPDX-License-Identifier: MIT
 */
#include "breaker.h"

bool
breaker_allow(breaker_t *b, const rl_config_t *cfg, int64_t now_ms)
{
    switch (b->state) {
    case BREAKER_CLOSED:
        return true;
    case BREAKER_OPEN:
        if (now_ms - b->opened_at < cfg->breaker_cooldown_ms)
            return false;
        b->state = BREAKER_HALF_OPEN;
        b->trial_out = false;
        /* the first caller after the cool-down tries */
        __attribute__((fallthrough));
    case BREAKER_HALF_OPEN:
        /* A trial whose outcome never came (its job was dropped) is
         * given up after another cool-down. */
        if (b->trial_out && now_ms - b->opened_at < cfg->breaker_cooldown_ms)
            return false;
        b->trial_out = true;
        b->opened_at = now_ms;
        return true;
    }
    return true;
}

void
breaker_record(breaker_t *b, const rl_config_t *cfg, bool ok, int64_t now_ms)
{
    if (ok) {
        b->state = BREAKER_CLOSED;
        b->failures = 0;
        b->trial_out = false;
        return;
    }
    b->failures++;
    if (b->state == BREAKER_HALF_OPEN ||
        b->failures >= cfg->breaker_failures) {
        b->state = BREAKER_OPEN;
        b->opened_at = now_ms;
        b->trial_out = false;
    }
}

const char *
breaker_state_name(breaker_state_t s)
{
    switch (s) {
    case BREAKER_CLOSED:
        return "closed";
    case BREAKER_OPEN:
        return "open";
    case BREAKER_HALF_OPEN:
        return "half_open";
    }
    return "unknown";
}
