/*
 * job - one job in a worker, from claim to terminal write.
 *
 *            claim.lua ok                 submit ok
 *  CLAIMING ------------> SUBMITTING ----------------> WAITING <---+
 *     |  (task_id known: resume) -----------------------^   |      |
 *     |                     | submit error:                 | timer|
 *     | refused             | next affordable model         v      |
 *     v                     +----> SUBMITTING          POLLING ----+
 *   (freed)                                              | terminal
 *                                   FINISHING <----------+
 *                                       | job_finish.lua, push
 *                                       v
 *                                    (freed)
 *
 * Invariants: a job in SUBMITTING or POLLING has exactly one HTTP request
 * in the air; in WAITING its timer is armed and no request is in the air;
 * every Redis write carries the fence the claim returned, and a "stale"
 * answer drops the job at once (another worker owns it now). The
 * deadline timer (maximum wait) is armed from claim to FINISHING.
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
