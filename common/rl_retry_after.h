/*
 * rl_retry_after - the Retry-After header (RFC 9110 section 10.2.3) as a
 * delay: the one parser of the value a webhook receiver (the deliverer's
 * retry decision, deliverer/classify.c) and a provider (the worker's
 * poll back-off hint, worker/adapter.c) answer with.
 *
 * A value is delta-seconds (1*DIGIT) or an HTTP-date in one of the three
 * forms RFC 9110 (section 5.6.7) says a recipient must accept:
 *
 *   IMF-fixdate   Sun, 06 Nov 1994 08:49:37 GMT
 *   RFC 850       Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime       Sun Nov  6 08:49:37 1994
 *
 * with optional blanks (space, tab) around it. The shape is checked
 * here, the names and numbers by libcurl's curl_getdate(); anything else
 * (a sign, a unit, a trailing word, another date format) is refused.
 *
 * Bounds: the delay is never negative (a date in the past is 0) and
 * never more than the caller's cap (delta-seconds too large for any
 * integer read as the cap), so an absurd value cannot park a retry for
 * good. Pure but for curl_getdate(), which reads no clock: now_ms comes
 * from the caller.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_RETRY_AFTER_H
#define RL_RETRY_AFTER_H

#include <stdint.h>

/* The delay value asks for, measured from now_ms (epoch ms), in
 * [0, cap_ms] (cap_ms >= 0). Returns -1 when value is NULL or is neither
 * delta-seconds nor one of the three HTTP-date forms.
 *
 *   value                             now                 cap    result
 *   NULL, "", "soon", "-5", "5s"      any                 any    -1
 *   "0" / " 7 "                       any                 1 h    0 / 7000
 *   "86400", "9999999999999999999"    any                 1 h    3600000
 *   an HTTP-date now + 120 s          any                 1 h    120000
 *   an HTTP-date in the past          any                 any    0
 *   an HTTP-date followed by a word   any                 any    -1
 */
long rl_retry_after_ms(const char *value, int64_t now_ms, long cap_ms);

#endif
