/*
 * lateness - a histogram of poll lateness.
 * SPDX-License-Identifier: MIT
 */
#include "lateness.h"

#include <assert.h>
#include <string.h>

void
lateness_init(lateness_t *l)
{
    memset(l, 0, sizeof *l);
}

void
lateness_record(lateness_t *l, int64_t late_us)
{
    int64_t ms = late_us > 0 ? late_us / 1000 : 0;
    l->buckets[ms < LATENESS_MAX_MS ? ms : LATENESS_MAX_MS]++;
    l->count++;
    if (late_us > l->max_us)
        l->max_us = late_us;
}

long
lateness_quantile(const lateness_t *l, double q)
{
    assert(q >= 0.0 && q <= 1.0);
    if (l->count == 0)
        return 0;
    /* The smallest bucket whose running count reaches ceil(q * count). */
    uint64_t want = (uint64_t)(q * (double)l->count);
    if ((double)want < q * (double)l->count || want == 0)
        want++;
    uint64_t seen = 0;
    for (long ms = 0; ms <= LATENESS_MAX_MS; ms++) {
        seen += l->buckets[ms];
        if (seen >= want)
            return ms;
    }
    return LATENESS_MAX_MS;
}
