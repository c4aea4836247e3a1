/*
 * reaper - every reaper_interval_ms, puts back jobs that were dispatched
 * and never claimed and the jobs of workers whose lease expired, and
 * fails jobs recovered too often (reap.lua). Several brokers may run it:
 * the script's lock lets one sweep per period.
 * SPDX-License-Identifier: MIT
 */
#ifndef REAPER_H
#define REAPER_H

#include "broker.h"

#define REAPER_SWEEP_LIMIT 1000 /* refs looked at per sweep */

reaper_t *reaper_new(broker_t *b);
void reaper_destroy(reaper_t **p);

#endif
