/*
 * breaker - the circuit breaker of each provider, in each worker
 * process: common/rl_breaker.h's breaker with the [health] settings:
 *
 *   CLOSED    --breaker_failures submit failures in a row--> OPEN
 *   OPEN      --breaker_cooldown_ms passed, next submit-----> HALF_OPEN
 *   HALF_OPEN --the trial submission succeeds---------------> CLOSED
 *   HALF_OPEN --it fails------------------------------------> OPEN
 *
 * One trial submission at a time. A worker drops jobs without a word (a
 * lost lease, a stale fence, the maximum wait), so a trial may never
 * report: one not reported within another breaker_cooldown_ms is given
 * up, and the next submission is a new trial.
 *
 * New submissions skip a provider whose breaker does not allow them when
 * the chain has another affordable model; a job with no alternative
 * still tries (a trial is better than a certain failure). What counts
 * as a failure is job_step_healthy()'s to say.
 * SPDX-License-Identifier: MIT
 */
#ifndef BREAKER_H
#define BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_breaker.h"
#include "rl_config.h"

/* One provider's breaker; zeroed, it is closed. */
typedef rl_breaker_t breaker_t;

/* Whether a submission may go to the provider at now_ms (monotonic);
 * in HALF_OPEN the first caller takes the trial. */
bool breaker_allow(breaker_t *b, const rl_config_t *cfg, int64_t now_ms);

/* The outcome of a submission: success closes, failure counts. */
void breaker_record(breaker_t *b, const rl_config_t *cfg, bool ok,
                    int64_t now_ms);

/* "closed", "open" or "half_open". */
const char *breaker_state_name(const breaker_t *b);

#endif
