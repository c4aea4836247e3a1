/*
 * reaper - every reaper_interval_ms, sweeps each partition: puts back
 * jobs that were dispatched and never claimed, takes back the jobs of
 * workers whose lease expired (failing those recovered too often), and
 * fails jobs that waited in the queue past their maximum wait. Several
 * brokers may run it: a lock per partition lets one sweep it per period
 * (reap_scan.lua), and every step checks the lock and what the scan read
 * again (common/rl_state_sweep.h).
 * SPDX-License-Identifier: MIT
 */
#ifndef REAPER_H
#define REAPER_H

#include "broker.h"

#define REAPER_SWEEP_LIMIT 1000 /* due refs and dead workers per sweep */
#define REAPER_HEAD_LIMIT 128   /* refs of the queue's head per sweep */

/* Starts the periodic sweep on b's loop. Returns it (caller owns). */
reaper_t *reaper_new(broker_t *b);

/* Stops and frees. NULL-safe, sets *p to NULL. A sweep still in flight
 * frees the reaper when its last reply comes (the Redis client, destroyed
 * after it, answers it). */
void reaper_destroy(reaper_t **p);

#endif
