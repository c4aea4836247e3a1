/*
 * classify - turns one webhook attempt's result into delivered, retry
 * (with its delay) or failed.
 * SPDX-License-Identifier: MIT
 */
#include "classify.h"

#include <assert.h>

#include <curl/curl.h>

#include "rl_retry_after.h"

#define S_HTTP_OK_MIN 200
#define S_HTTP_OK_MAX 299
#define S_HTTP_REQUEST_TIMEOUT 408
#define S_HTTP_TOO_MANY 429
#define S_HTTP_UNAVAILABLE 503
#define S_HTTP_SERVER_MIN 500
#define S_HTTP_SERVER_MAX 599

classify_class_t
classify_response(long status, int curl_code)
{
    if (status <= 0) {
        if (curl_code == CURLE_URL_MALFORMAT ||
            curl_code == CURLE_UNSUPPORTED_PROTOCOL)
            return CLASSIFY_PERMANENT;
        return CLASSIFY_RETRYABLE;
    }
    if (status >= S_HTTP_OK_MIN && status <= S_HTTP_OK_MAX)
        return CLASSIFY_OK;
    if (status == S_HTTP_REQUEST_TIMEOUT || status == S_HTTP_TOO_MANY ||
        (status >= S_HTTP_SERVER_MIN && status <= S_HTTP_SERVER_MAX))
        return CLASSIFY_RETRYABLE;
    return CLASSIFY_PERMANENT;
}

long
classify_schedule_delay(const long *schedule, size_t nretries, int attempt)
{
    assert(schedule != NULL || nretries == 0);
    if (attempt < 1 || (size_t)attempt >= nretries)
        return -1;
    return schedule[attempt] > 0 ? schedule[attempt] : 0;
}

classify_class_t
classify_attempt(const classify_input_t *in)
{
    assert(in != NULL);
    return in->refused ? CLASSIFY_PERMANENT
                       : classify_response(in->status, in->curl_code);
}

classify_decision_t
classify_decide(const classify_input_t *in, long next_delay_ms, int64_t now_ms)
{
    classify_decision_t d = {CLASSIFY_OK, CLASSIFY_DELIVERED, 0};
    long delay = next_delay_ms;
    long asked;

    d.cls = classify_attempt(in);
    if (d.cls == CLASSIFY_OK)
        return d;
    d.outcome = CLASSIFY_FAILED;
    if (d.cls == CLASSIFY_PERMANENT || delay < 0)
        return d;
    if (in->status == S_HTTP_TOO_MANY || in->status == S_HTTP_UNAVAILABLE) {
        asked = rl_retry_after_ms(in->retry_after, now_ms,
                                  CLASSIFY_RETRY_AFTER_CAP_MS);
        if (asked > delay)
            delay = asked;
    }
    d.outcome = CLASSIFY_RETRY;
    d.delay_ms = delay;
    return d;
}

const char *
classify_outcome_name(classify_outcome_t outcome)
{
    switch (outcome) {
    case CLASSIFY_DELIVERED:
        return "delivered";
    case CLASSIFY_RETRY:
        return "retry";
    case CLASSIFY_FAILED:
        break;
    }
    return "failed";
}
