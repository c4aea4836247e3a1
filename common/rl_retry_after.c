/*
 * rl_retry_after - the Retry-After header as a bounded delay.
 * SPDX-License-Identifier: MIT
 */
#include "rl_retry_after.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#define S_MS_PER_S 1000LL
#define S_DATE_MAX 64 /* longer than any of the three forms */

/* The shapes of the three HTTP-date forms (RFC 9110 section 5.6.7):
 * 'A' one or more letters, 'D' a digit, '_' a space or a digit (the
 * padded day of asctime), anything else itself. */
static const char *const s_forms[] = {
    "A, DD A DDDD DD:DD:DD GMT", /* IMF-fixdate */
    "A, DD-A-DD DD:DD:DD GMT",   /* RFC 850 */
    "A A _D DD:DD:DD DDDD",      /* asctime */
};

static bool
s_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether the len bytes of v have the shape `form`. */
static bool
s_shape(const char *v, size_t len, const char *form)
{
    size_t i = 0;

    for (; *form != '\0'; form++) {
        if (*form == 'A') {
            size_t start = i;
            while (i < len && isalpha((unsigned char)v[i]))
                i++;
            if (i == start)
                return false;
            continue;
        }
        if (i == len)
            return false;
        if ((*form == 'D' && !isdigit((unsigned char)v[i])) ||
            (*form == '_' && v[i] != ' ' && !isdigit((unsigned char)v[i])) ||
            (*form != 'D' && *form != '_' && v[i] != *form))
            return false;
        i++;
    }
    return i == len;
}

static long
s_cap(long long ms, long cap_ms)
{
    if (ms < 0)
        return 0;
    return ms > cap_ms ? cap_ms : (long)ms;
}

/* delta-seconds: len digits. */
static long
s_delta(const char *v, size_t len, long cap_ms)
{
    char digits[S_DATE_MAX];
    long long secs;

    /* More digits than any long long: far beyond any cap. */
    if (len >= sizeof digits)
        return cap_ms;
    memcpy(digits, v, len);
    digits[len] = '\0';
    errno = 0;
    secs = strtoll(digits, NULL, 10);
    if (errno == ERANGE || secs > LLONG_MAX / S_MS_PER_S)
        return cap_ms;
    return s_cap(secs * S_MS_PER_S, cap_ms);
}

/* An HTTP-date of one of the three forms: its distance from now_ms. */
static long
s_date(const char *v, size_t len, int64_t now_ms, long cap_ms)
{
    char date[S_DATE_MAX];
    bool known = false;
    time_t t;

    for (size_t i = 0; i < sizeof s_forms / sizeof s_forms[0]; i++)
        known = known || s_shape(v, len, s_forms[i]);
    if (!known || len >= sizeof date)
        return -1;
    memcpy(date, v, len);
    date[len] = '\0';
    t = curl_getdate(date, NULL);
    if (t == -1)
        return -1;
    if ((long long)t > LLONG_MAX / S_MS_PER_S)
        return cap_ms; /* a date no clock reaches */
    return s_cap((long long)t * S_MS_PER_S - now_ms, cap_ms);
}

long
rl_retry_after_ms(const char *value, int64_t now_ms, long cap_ms)
{
    size_t len;

    assert(cap_ms >= 0);
    if (value == NULL)
        return -1;
    while (s_blank(*value))
        value++;
    len = strlen(value);
    while (len > 0 && s_blank(value[len - 1]))
        len--;
    if (len == 0)
        return -1;
    if (strspn(value, "0123456789") >= len)
        return s_delta(value, len, cap_ms);
    return s_date(value, len, now_ms, cap_ms);
}
