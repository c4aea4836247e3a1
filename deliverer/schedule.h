/*
 * schedule - the retry schedule of one delivery: the configured default
 * ([webhook] retry_schedule, by default 0 s, 5 s, 30 s), or for
 * accounts whose wh_schedule is "long" the [webhook] long_schedule for
 * endpoints down longer than a minute, each of its delays jittered by
 * +-SCHEDULE_JITTER_PCT percent so that retries of many jobs to one
 * endpoint that comes back do not arrive at once. Only the delay an
 * attempt needs is looked up and jittered (one random number), and only
 * when the attempt is to be retried. Pure but for that number.
 * SPDX-License-Identifier: MIT
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_config.h"

#define SCHEDULE_JITTER_PCT 10 /* +- percent of a long-schedule delay */

/* True when an account's wh_schedule value asks for the long schedule. */
bool schedule_is_long(const char *name);

/* delay_ms moved by a fraction of +-SCHEDULE_JITTER_PCT percent chosen by
 * rnd (0 gives the lowest, UINT32_MAX the highest). */
long schedule_jitter(long delay_ms, uint32_t rnd);

/* The delay between attempt `attempt` (1-based) failing and the next
 * one, on the schedule of an account whose wh_schedule is `name`
 * (classify_schedule_delay() of it; long: jittered afresh), or -1 when
 * `attempt` was its last. */
long schedule_next_delay(const rl_config_t *cfg, const char *name, int attempt);

#endif
