/*
 * fuzz_retry_after - the Retry-After header value a webhook receiver or
 * a provider answers with: the one parser (rl_retry_after_ms:
 * delta-seconds or one of the three HTTP-date forms, bounded), the
 * deliverer's retry decision it stretches (classify_decide) and the
 * worker's poll back-off hint (adapter_retry_after_ms).
 *
 * Input: byte 0 the status (low bit: 429 or 503, else 500), bytes 1-2 a
 * schedule delay in seconds, bytes 3-4 an offset in seconds for a
 * generated HTTP-date, then the header value.
 *
 * Properties: the delay is -1 (unparsable) or within [0, the cap],
 * equals the seconds of a short delta-seconds value, and reads a date
 * it formats itself, in each of the three forms, back to its offset; a
 * retry decision never waits less than the schedule nor more than the
 * larger of the schedule and the cap; the worker's hint is within
 * [0, ADAPTER_RETRY_AFTER_MAX_MS).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "classify.h"
#include "fz.h"
#include "rl_retry_after.h"

#define S_NOW_MS 1767225600000LL /* 2026-01-01T00:00:00Z, whole seconds */
#define S_CAP_MS CLASSIFY_RETRY_AFTER_CAP_MS

/* A short all-digit value ("0" .. "99999") and its seconds. */
static bool
s_small_delta(const char *v, long *secs)
{
    size_t n = strlen(v);

    if (n == 0 || n > 5 || strspn(v, "0123456789") != n)
        return false;
    *secs = strtol(v, NULL, 10);
    return true;
}

static void
s_check_value(const char *v, int status, long next_delay)
{
    long ms = rl_retry_after_ms(v, S_NOW_MS, S_CAP_MS);
    long secs = 0;
    classify_input_t ci = {status, 0, v, false};
    classify_decision_t d = classify_decide(&ci, next_delay, S_NOW_MS);
    rl_http_resp_t resp;

    FZ_CHECK(ms == -1 || (ms >= 0 && ms <= S_CAP_MS),
             "Retry-After '%s' read as %ld ms", v, ms);
    if (s_small_delta(v, &secs))
        FZ_CHECK(ms == (secs * 1000 < S_CAP_MS ? secs * 1000 : S_CAP_MS),
                 "Retry-After '%s' read as %ld ms", v, ms);
    FZ_CHECK(d.outcome == CLASSIFY_RETRY, "a 5xx with a schedule left");
    FZ_CHECK(d.delay_ms >= next_delay &&
                 d.delay_ms <= (next_delay > S_CAP_MS ? next_delay : S_CAP_MS),
             "status %d, schedule %ld ms, Retry-After '%s': waits %ld ms",
             status, next_delay, v, d.delay_ms);
    memset(&resp, 0, sizeof resp);
    resp.status = status;
    resp.retry_after = v;
    resp.body = "";
    ms = adapter_retry_after_ms(&resp);
    FZ_CHECK(ms >= 0 && ms < ADAPTER_RETRY_AFTER_MAX_MS,
             "adapter hint %ld for '%s'", ms, v);
}

/* A date offset seconds from now, in each of the three forms, reads
 * back as that delay. */
static void
s_check_date(unsigned offset)
{
    static const char *const forms[] = {
        "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
        "%a %b %e %H:%M:%S %Y",      /* asctime */
    };
    time_t t = (time_t)(S_NOW_MS / 1000) + offset;
    long want = (long)offset * 1000 < S_CAP_MS ? (long)offset * 1000 : S_CAP_MS;
    struct tm tm;
    char date[64];

    gmtime_r(&t, &tm);
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        long ms;
        strftime(date, sizeof date, forms[i], &tm);
        ms = rl_retry_after_ms(date, S_NOW_MS, S_CAP_MS);
        FZ_CHECK(ms == want, "'%s' (now + %u s) read as %ld ms", date, offset,
                 ms);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    uint8_t st = fz_u8(&in);
    int status = (st & 1) ? ((st & 2) ? 429 : 503) : 500;
    long next_delay = (long)fz_u16(&in) * 1000;
    unsigned offset = fz_u16(&in);
    char *v = fz_rest(&in, NULL);

    fz_setup();
    s_check_value(v, status, next_delay);
    s_check_date(offset);
    free(v);
    return 0;
}
