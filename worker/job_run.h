/*
 * job_run - a job's conversation with its providers (job_run.c), below
 * the claim (job_claim.c) and above the job's record (job.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef JOB_RUN_H
#define JOB_RUN_H

#include "job_internal.h"

/* Starts a claimed job (CLAIMING, loaded): resumes polling the upstream
 * task it has (taken over from a worker that died after submitting),
 * else submits to the current model of its chain. */
void job_run_start(job_t *j);

#endif
