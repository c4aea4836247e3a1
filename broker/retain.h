/*
 * retain - the retention step (docs/retention.md): every
 * reaper_interval_ms, finished jobs whose [jobs] retention_days passed
 * leave Redis, and then the ledger entries of the jobs gone, each
 * written to the archive first when [jobs] archive is on.
 *
 * A round, under the retention lock (rl:lock:retain: one holder among
 * the brokers, renewed by each of its scripts; another broker takes over
 * once it lapses):
 *
 *   retain_due      up to RETAIN_ROUND refs due, RETAIN_ACCTS accounts
 *   retain_read     their records, RL_STATE_RETAIN_BATCH a call
 *   archive         the ready ones appended to jobs-<day>.jsonl, fsync'd
 *   retain_remove   removed (those unchanged since they were read)
 *   per account:    retain_ledger_read, retain_ledger_pop "check"
 *   archive         the entries that may go, to ledger-<day>.jsonl
 *   per account:    retain_ledger_pop "pop"
 *
 * A full round starts another at once while the tick is younger than
 * RETAIN_TICK_BUDGET_MS; otherwise the next tick goes on. Any failure
 * (no answer, the lock lost, an archive write refused) ends the round
 * before anything it had not archived is removed: the next tick starts
 * over, and what was archived but not removed is archived again then (a
 * duplicate line, never a lost record).
 *
 * The archive write (one write and one fdatasync a round and a kind)
 * is the one blocking call the broker makes in its loop: bounded by the
 * round's size, and off with [jobs] archive = false.
 * SPDX-License-Identifier: MIT
 */
#ifndef RETAIN_H
#define RETAIN_H

#include "broker.h"

#define RETAIN_ROUND 64           /* jobs a round archives and removes */
#define RETAIN_ACCTS 8            /* accounts whose ledger a round takes */
#define RETAIN_TICK_BUDGET_MS 200 /* no new round after this in a tick */
/* A busy job is looked at again after this, or the retention if shorter. */
#define RETAIN_RECHECK_MS 60000
#define RETAIN_LOCK_PERIODS 5   /* the lock lasts this many periods */
#define RETAIN_LOCK_MIN_MS 2000 /* and at least this long */

typedef struct retain retain_t;

/* Starts the step on b's loop (with [jobs] retention_days 0 it never
 * runs: every job is kept). Returns it (caller owns), or NULL after a
 * logged error (the archive's path does not fit). */
retain_t *retain_new(broker_t *b);

/* Stops and frees. Call after b's Redis client is destroyed (which
 * answers a round in flight). NULL-safe, sets *p to NULL. */
void retain_destroy(retain_t **p);

#endif
