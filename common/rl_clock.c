/*
 * rl_clock - time helpers.
 * SPDX-License-Identifier: MIT
 */
#include "rl_clock.h"

#include <time.h>

int64_t
rl_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
rl_clock_mono_ms(void)
{
    return rl_clock_mono_us() / 1000;
}

int64_t
rl_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *
rl_clock_iso8601(int64_t ms, char *buf, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && len > 0)
        buf[0] = '\0';
    return buf;
}
