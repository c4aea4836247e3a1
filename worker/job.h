/*
 * job - one job in a worker, from claim to terminal write.
 *
 *           claim.lua ok              intent ok            submit ok
 *  CLAIMING ---------> RECORDING -----------> SUBMITTING -----> WAITING <-+
 *     |  (task_id known: resume) -------------------------------^  |      |
 *     |                    ^                      | submit error:  | timer|
 *     | refused            | next affordable model|                v      |
 *     v                    +----------------------+           POLLING ----+
 *   (freed)                                                      | terminal
 *                                   FINISHING <------------------+
 *                                       | job_finish.lua, push
 *                                       v
 *                                    (freed)
 *
 *   SUBMITTING --not sent--> WAITING --timer--> SUBMITTING (same attempt)
 *   POLLING    --not sent--> WAITING --timer--> POLLING
 *
 * Invariants: a job in SUBMITTING or POLLING has exactly one HTTP request
 * in the air; in RECORDING none, and its submit waits until Redis holds
 * the attempt number it is about to use (the intent: a worker taking
 * the job over after a crash uses the next number, so no attempt is made
 * twice unrecorded); in WAITING its timer is armed and no request is in
 * the air. Every Redis write carries the fence the claim returned, and a
 * "stale" answer drops the job at once (another worker owns it now);
 * writes also restate the job's attempt, upstream task, chain index and
 * provider from memory after any of them changes (and once after the
 * claim), until a write carrying their latest values is confirmed, so
 * one lost write is mended by the next; the intent and terminal writes
 * always restate them. A request
 * that never left the worker (rl_http's not_sent: it waited its whole
 * timeout for a turn on a connection to the provider) is no failure of
 * the provider's: the same submit or poll runs again a poll interval
 * later, counted nowhere but in stats.not_sent. The maximum wait shares
 * the job's one timer from claim to FINISHING (a wait ending after it is
 * cut short); a request in the air runs out its own timeout first (after
 * at most as long again waiting for its turn), so a job fails at most two
 * request timeouts late. What each provider answer leads to is
 * job_step.h's table; job_internal.h lists the transitions job_enter()
 * asserts.
 * SPDX-License-Identifier: MIT
 */
#ifndef JOB_H
#define JOB_H

#include "worker.h"

/* Claims acct/job_id (a DISPATCH arrived; job_claim.c). The job counts
 * as in flight from now on; when its claim is answered and when it
 * ends, w->on.capacity() is called. */
void job_claim(worker_t *w, const char *acct, const char *job_id);

/* Drops every job without writing anything (lease lost, or shutdown;
 * job.c): requests are cancelled, timers removed, memory freed. */
void job_drop_all(worker_t *w, const char *why);

#endif
