/*
 * breaker - per-provider circuit breaker: rl_breaker with [health]
 * breaker_failures and breaker_cooldown_ms.
 * SPDX-License-Identifier: MIT
 */
#include "breaker.h"

/* The provider breaker's settings; a trial is given up after a
 * cool-down (see breaker.h). */
static rl_breaker_conf_t
s_conf(const rl_config_t *cfg)
{
    rl_breaker_conf_t c = {
        .failures = cfg->breaker_failures,
        .cooldown_ms = cfg->breaker_cooldown_ms,
        .trial_ms = cfg->breaker_cooldown_ms,
    };
    return c;
}

bool
breaker_allow(breaker_t *b, const rl_config_t *cfg, int64_t now_ms)
{
    rl_breaker_conf_t c = s_conf(cfg);
    return rl_breaker_allow(b, &c, now_ms, NULL) != RL_BREAKER_REFUSE;
}

void
breaker_record(breaker_t *b, const rl_config_t *cfg, bool ok, int64_t now_ms)
{
    rl_breaker_conf_t c = s_conf(cfg);
    if (ok)
        rl_breaker_success(b);
    else
        rl_breaker_failure(b, &c, now_ms);
}

const char *
breaker_state_name(const breaker_t *b)
{
    return rl_breaker_state_name(b->state);
}
