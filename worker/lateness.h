/*
 * lateness - how late polls run: a histogram of (actual - scheduled)
 * poll start times in whole milliseconds, 0..LATENESS_MAX_MS (later ones
 * count in the last bucket), with quantiles read off it. The worker
 * records every timer-driven poll and serves p50/p99/max on /stats.
 * Pure: the caller passes the lateness.
 * SPDX-License-Identifier: MIT
 */
#ifndef LATENESS_H
#define LATENESS_H

#include <stdint.h>

#define LATENESS_MAX_MS 10000 /* the last bucket: this late or later */

/* Embedded by its user; zero it (or lateness_init) before use. */
typedef struct {
    uint64_t buckets[LATENESS_MAX_MS + 1]; /* polls by lateness in ms */
    uint64_t count;                        /* polls recorded */
    int64_t max_us;                        /* the latest one */
} lateness_t;

void lateness_init(lateness_t *l);

/* Records one poll that ran late_us after it was due (negative: early,
 * counted as 0). */
void lateness_record(lateness_t *l, int64_t late_us);

/* The lateness in ms that a fraction q (0..1) of the polls did not
 * exceed; 0 when nothing was recorded. */
long lateness_quantile(const lateness_t *l, double q);

#endif
