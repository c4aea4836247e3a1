/*
 * schedule - the default and the long (jittered) retry schedules.
 * SPDX-License-Identifier: MIT
 */
#include "schedule.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "rl_crypto.h"

#define S_PCT 100

bool
schedule_is_long(const char *name)
{
    return name != NULL && strcmp(name, "long") == 0;
}

long
schedule_jitter(long delay_ms, uint32_t rnd)
{
    long long half = (long long)delay_ms * SCHEDULE_JITTER_PCT / S_PCT;
    long long off = (long long)((double)(2 * half) * rnd / UINT32_MAX + 0.5);

    if (delay_ms <= 0)
        return delay_ms;
    return (long)(delay_ms - half + off); /* in [delay - half, + half] */
}

static uint32_t
s_random(void)
{
    uint32_t r = 0;

    if (rl_random_bytes(&r, sizeof r) != 0)
        r = (uint32_t)random(); /* jitter needs spread, not secrecy */
    return r;
}

size_t
schedule_build(const rl_config_t *cfg, const char *name,
               long out[RL_CONFIG_MAX_RETRIES])
{
    bool long_one = schedule_is_long(name) && cfg->nlong_schedule > 0;
    const long *src = long_one ? cfg->long_schedule_ms
                               : cfg->retry_schedule_ms;
    size_t n = long_one ? cfg->nlong_schedule : cfg->nretries;

    assert(n <= RL_CONFIG_MAX_RETRIES);
    for (size_t i = 0; i < n; i++)
        out[i] = long_one ? schedule_jitter(src[i], s_random()) : src[i];
    return n;
}
