/*
 * rl_breaker - one circuit breaker: the worker's per provider
 * (worker/breaker.c) and the deliverer's per webhook host
 * (deliverer/hostgate.c) are this one. Pure: the caller passes the time
 * (any one clock, in ms) and the configuration, so it tests without a
 * clock and costs a few bytes per breaker.
 *
 *   CLOSED    --`failures` failures in a row---------------> OPEN
 *   OPEN      --cool-down over, the next caller's attempt---> HALF_OPEN
 *   HALF_OPEN --the trial succeeds-------------------------> CLOSED
 *   HALF_OPEN --the trial fails----------------------------> OPEN
 *   HALF_OPEN --the trial is cancelled (not made)----------> OPEN, cooled
 *   HALF_OPEN --no outcome within trial_ms (when set)------> HALF_OPEN,
 *                                          the next caller's attempt is
 *                                          a new trial
 *
 * The half-open rule: after the cool-down exactly one attempt, the
 * trial, goes out; every other caller is refused while it is out (no
 * concurrent trials). Its success closes the breaker, its failure opens
 * it for a new cool-down, and a trial that was admitted but not made is
 * cancelled, which leaves the trial to the next caller at once. A
 * caller that may lose a trial's outcome (the worker drops jobs without
 * a word) sets trial_ms: a trial not reported by then is given up and
 * the next caller takes a new one; a caller that always reports (the
 * deliverer) leaves it 0, and a slow trial then blocks nothing but
 * itself.
 *
 * Every state: any success closes (an attempt made before the breaker
 * opened may still answer), and any failure counts; a failure while
 * OPEN restarts the cool-down. The count of failures saturates at
 * `failures`.
 *
 * A caller's own admission rules (the deliverer's per-host concurrency,
 * its wait for earlier attempts to end before a trial) sit on top:
 * rl_breaker_peek() tells what rl_breaker_allow() would answer without
 * taking the trial.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_BREAKER_H
#define RL_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    RL_BREAKER_CLOSED = 0, /* attempts go out */
    RL_BREAKER_OPEN,       /* nothing goes out until the cool-down ends */
    RL_BREAKER_HALF_OPEN,  /* one trial is out */
} rl_breaker_state_t;

/* The answer to rl_breaker_allow(). */
typedef enum {
    RL_BREAKER_ALLOW = 0, /* CLOSED: go */
    RL_BREAKER_TRIAL,     /* go: this attempt is the trial; report its
                             outcome, or cancel it when not made */
    RL_BREAKER_REFUSE,    /* OPEN, or a trial is out */
} rl_breaker_verdict_t;

/* How a breaker behaves; the caller keeps it, one for many breakers. */
typedef struct {
    int failures;     /* failures in a row that open it, >= 1 */
    long cooldown_ms; /* how long it stays open, >= 0 */
    long trial_ms;    /* a trial not reported within this is given
                         up; 0: never (the caller always reports) */
} rl_breaker_conf_t;

/* One breaker. Zeroed, it is CLOSED with no failures; members are for
 * this module. */
typedef struct {
    rl_breaker_state_t state;
    int failures;  /* in a row, at most conf->failures */
    int64_t until; /* OPEN: the cool-down ends; HALF_OPEN: the
                      trial is given up (trial_ms set) */
} rl_breaker_t;

/* Whether an attempt may start at now_ms; in HALF_OPEN (or OPEN with
 * its cool-down over) the first caller takes the trial. *wait_ms (may
 * be NULL) gets, when refused, how long until the cool-down ends (0
 * while a trial is out), else 0.
 *
 *   state      now                          verdict  then
 *   CLOSED     any                          ALLOW    CLOSED
 *   OPEN       < until                      REFUSE   OPEN (wait until)
 *   OPEN       >= until                     TRIAL    HALF_OPEN
 *   HALF_OPEN  < until, or trial_ms == 0    REFUSE   HALF_OPEN (wait 0)
 *   HALF_OPEN  >= until, trial_ms > 0       TRIAL    HALF_OPEN (new trial)
 */
rl_breaker_verdict_t rl_breaker_allow(rl_breaker_t *b,
                                      const rl_breaker_conf_t *conf,
                                      int64_t now_ms, long *wait_ms);

/* What rl_breaker_allow() would answer at now_ms, changing nothing. */
rl_breaker_verdict_t rl_breaker_peek(const rl_breaker_t *b,
                                     const rl_breaker_conf_t *conf,
                                     int64_t now_ms, long *wait_ms);

/* An attempt succeeded: CLOSED, no failures. */
void rl_breaker_success(rl_breaker_t *b);

/* An attempt failed at now_ms: one more failure in a row; OPEN for a
 * cool-down from now_ms once there are conf->failures, or at once in
 * HALF_OPEN (the trial, or an attempt from before, failed). */
void rl_breaker_failure(rl_breaker_t *b, const rl_breaker_conf_t *conf,
                        int64_t now_ms);

/* The trial was admitted but not made: OPEN with the cool-down over, so
 * the next rl_breaker_allow() takes the trial. Nothing in other
 * states. */
void rl_breaker_cancel(rl_breaker_t *b, int64_t now_ms);

/* "closed", "open" or "half_open". */
const char *rl_breaker_state_name(rl_breaker_state_t s);

#endif
