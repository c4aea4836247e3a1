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
 *   retain_due          up to RETAIN_ROUND refs due, RETAIN_ACCTS accounts
 *   retain_read         their records, RL_STATE_RETAIN_BATCH jobs a call
 *   archive             the ready ones appended to jobs-<day>.jsonl,
 *                       fdatasync'd
 *   retain_remove       removed (those unchanged since they were read)
 *   retain_ledger_read  each account's oldest entries
 *   retain_ledger_pop   "check": how many of them may go
 *   archive             those, appended to ledger-<day>.jsonl
 *   retain_ledger_pop   "pop": moved out, their sums carried
 *
 * The calls of each step are sent together (pipelined on the one
 * connection), so a step costs one round trip and Redis's writes of a
 * step share one AOF fsync. A full round starts another at once while
 * the tick is younger than RETAIN_TICK_BUDGET_MS; a backlog past the
 * budget goes on a budget later (at most half the time), else the next
 * tick goes on. Any failure (no answer, the lock lost, an archive write
 * refused) ends the round before anything it had not archived is
 * removed: the next tick starts over, and what was archived but not
 * removed is archived again then (a duplicate line, never a lost
 * record).
 *
 * The archive write (one write and one fdatasync a round and a kind)
 * is the one blocking call the broker makes in its loop: bounded by the
 * round's size, and off with [jobs] archive = false. bench/README.md
 * has what a job costs in Redis and how fast the step removes.
 * SPDX-License-Identifier: MIT
 */
#ifndef RETAIN_H
#define RETAIN_H

#include "broker.h"

#define RETAIN_ROUND 128          /* jobs a round archives and removes */
#define RETAIN_ACCTS 8            /* accounts whose ledger a round takes */
#define RETAIN_TICK_BUDGET_MS 250 /* no new round after this in a tick */
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
