/*
 * schedule - the default and the long (jittered) retry schedules.
 * SPDX-License-Identifier: MIT
 */
#include "schedule.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
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

long
schedule_next_delay(const rl_config_t *cfg, const char *name, int attempt)
{
    bool long_one = schedule_is_long(name) && cfg->nlong_schedule > 0;
    long delay;

    assert(cfg != NULL);
    if (long_one) {
        delay = classify_schedule_delay(cfg->long_schedule_ms,
                                        cfg->nlong_schedule, attempt);
        return delay > 0 ? schedule_jitter(delay, s_random()) : delay;
    }
    return classify_schedule_delay(cfg->retry_schedule_ms, cfg->nretries,
                                   attempt);
}
