/*
 * classify - what one webhook attempt's result means: delivered, retry
 * later (and when), or failed for good. Pure functions of the response,
 * the attempt number and the retry schedule, so they test without a
 * network.
 * SPDX-License-Identifier: MIT
 */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest delay a Retry-After header may impose (1 hour): the cap
 * classify_decide() gives rl_retry_after_ms(). */
#define CLASSIFY_RETRY_AFTER_CAP_MS (3600L * 1000)

/* The class of one response. */
typedef enum {
    CLASSIFY_OK = 0,        /* 2xx: the receiver has it */
    CLASSIFY_RETRYABLE = 1, /* timeout, connection, DNS, 408, 429, 5xx */
    CLASSIFY_PERMANENT = 2, /* 3xx, 410 and every other 4xx */
} classify_class_t;

/* What to record for the attempt (outbox_done's outcome). */
typedef enum {
    CLASSIFY_DELIVERED = 0,
    CLASSIFY_RETRY = 1,
    CLASSIFY_FAILED = 2,
} classify_outcome_t;

/* One attempt's result as the HTTP client saw it. */
typedef struct {
    long status;             /* HTTP status, 0 when no response arrived */
    int curl_code;           /* CURLcode, 0 when the exchange completed */
    const char *retry_after; /* Retry-After header value, or NULL */
    bool refused;            /* the SSRF guard refused the connect */
} classify_input_t;

/* The decision for one attempt. */
typedef struct {
    classify_class_t cls;       /* the response's class */
    classify_outcome_t outcome; /* what to record */
    long delay_ms;              /* before the next attempt (retry only) */
} classify_decision_t;

/* The class of a response: by HTTP status when one arrived, else by the
 * transport error (a malformed URL or unsupported scheme is permanent,
 * every other transport error retryable). */
classify_class_t classify_response(long status, int curl_code);

/* The class of one attempt's result: a connect the SSRF guard refused
 * is permanent, else classify_response(). */
classify_class_t classify_attempt(const classify_input_t *in);

/* The delay between attempt `attempt` (1-based) failing and the next
 * one: schedule[attempt], or -1 when `attempt` was the last of nretries
 * (schedule[0] is the delay of the first attempt, always taken as 0). */
long classify_schedule_delay(const long *schedule, size_t nretries,
                             int attempt);

/* The whole decision for one attempt, `next_delay_ms` being its
 * schedule's delay before the next attempt (-1: it was the last; only
 * read for a retryable result, so a caller may pass -1 for any other):
 * 2xx delivers; a retryable result retries after next_delay_ms,
 * stretched (never shortened) to Retry-After on 429 and 503 (read by
 * rl_retry_after_ms, capped at CLASSIFY_RETRY_AFTER_CAP_MS), or fails
 * after the last attempt; a permanent result, or a connect the SSRF
 * guard refused, fails at once. */
classify_decision_t classify_decide(const classify_input_t *in,
                                    long next_delay_ms, int64_t now_ms);

/* "delivered", "retry" or "failed" (outbox_done's words). */
const char *classify_outcome_name(classify_outcome_t outcome);

#endif
