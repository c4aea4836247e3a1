/*
 * reaper - every reaper_interval_ms, puts back jobs that were dispatched
 * and never claimed and the jobs of workers whose lease expired, and
 * fails jobs recovered too often (reap.lua). Several brokers may run it:
 * the script's lock lets one sweep per period.
 * SPDX-License-Identifier: MIT
 */
#ifndef REAPER_H
#define REAPER_H

#include <hiredis/hiredis.h>

#include "broker.h"

#define REAPER_SWEEP_LIMIT 1000 /* refs looked at per sweep */

/* What one sweep did (reap.lua's reply, in its order). Which job is
 * requeued, failed as poisoned (past [jobs] max_recoveries) or left is
 * reap.lua's verdict, job by job, under the reaper lock. */
typedef struct {
    long long unclaimed; /* dispatched, never claimed: requeued */
    long long recovered; /* leased to a dead worker: requeued */
    long long failed;    /* recovered too often: failed, refunded */
    long long expired;   /* past their maximum wait in the queue:
                            failed, refunded */
} reaper_counts_t;

/* What the reaper does after a sweep. */
typedef enum {
    REAPER_UNKNOWN = 0, /* no answer, or not one of reap.lua's: nothing,
                           the next period sweeps again */
    REAPER_SKIPPED,     /* {}: another broker holds the lock this period */
    REAPER_QUIET,       /* it swept and found nothing */
    REAPER_REAPED,      /* it moved jobs: log the counts and wake the
                           dispatcher (requeued jobs wait for it) */
} reaper_verdict_t;

/* Reads reap.lua's reply (NULL: outcome unknown) into *counts (zeroed
 * unless REAPED or QUIET):
 *
 *   reply                                          -> verdict
 *   NULL, not an array, not 0 or 4 elements        -> UNKNOWN
 *   an element that is not a non-negative integer  -> UNKNOWN
 *   {}                                             -> SKIPPED
 *   {0, 0, 0, 0}                                   -> QUIET
 *   four counts, one above 0                       -> REAPED
 */
reaper_verdict_t reaper_read(const redisReply *reply, reaper_counts_t *counts);

/* Starts the periodic sweep on b's loop. Returns it (caller owns). */
reaper_t *reaper_new(broker_t *b);

/* Stops and frees. NULL-safe, sets *p to NULL. */
void reaper_destroy(reaper_t **p);

#endif
