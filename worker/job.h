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
 * Invariants: a job in SUBMITTING or POLLING has exactly one HTTP request
 * in the air; in RECORDING none, and its submit waits until Redis holds
 * the attempt number it is about to use (the intent: a worker taking
 * the job over after a crash uses the next number, so no attempt is made
 * twice unrecorded); in WAITING its timer is armed and no request is in
 * the air. Every Redis write carries the fence the claim returned, and a
 * "stale" answer drops the job at once (another worker owns it now);
 * every write also restates the job's attempt, upstream task, chain
 * index and provider, so one lost write is mended by the next. The
 * maximum wait shares the job's one timer from claim to FINISHING (a
 * wait ending after it is cut short); a request in the air runs out its
 * own timeout first, so a job fails at most one request timeout late.
 * SPDX-License-Identifier: MIT
 */
#ifndef JOB_H
#define JOB_H

#include "worker.h"

/* Claims acct/job_id (a DISPATCH arrived). The job counts as in flight
 * from now on; when it ends, job.c calls links_grant(). */
void job_claim(worker_t *w, const char *acct, const char *job_id);

/* Drops every job without writing anything (lease lost, or shutdown):
 * requests are cancelled, timers removed, memory freed. */
void job_drop_all(worker_t *w, const char *why);

#endif
