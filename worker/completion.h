/*
 * completion - the fast path from a terminal write to a deliverer: a
 * PUSH socket connected to every deliverer's completion endpoint
 * (ZMQ_IMMEDIATE, so nothing queues for a deliverer that is not there).
 * Losing a message only delays the webhook: the outbox entry written with
 * the terminal state is found by the deliverers' scan.
 * SPDX-License-Identifier: MIT
 */
#ifndef COMPLETION_H
#define COMPLETION_H

#include <hiredis/hiredis.h>

#include "rl_state.h"
#include "worker.h"

/* Creates and connects the PUSH socket into w->push. Returns 0 or -1. */
int completion_open(worker_t *w);

/* Sends COMPLETION for a job. `job` is the fields of job_finish.lua's
 * reply (rl_state_job.h); the fields a webhook needs are copied.
 * Returns 0, or -1 when the message was not queued. */
int completion_push(worker_t *w, const char *acct, const char *job_id,
                    const char *status, const char *sign_key,
                    const rl_state_fields_t *job);

#endif
