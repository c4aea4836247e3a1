/*
 * rl_date - strict UTC dates, parsed and formatted by hand over the
 * civil calendar (days from the epoch), so no locale, time zone or libc
 * leniency (strptime's, timegm's normalising of February 30) is
 * involved.
 * SPDX-License-Identifier: MIT
 */
#include "rl_date.h"

#include <stdbool.h>
#include <string.h>

#include "rl_fmt.h"

#define S_MIN_MS 60000LL
#define S_HOUR_MS 3600000LL

static bool
s_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
s_month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};
    return m == 2 && s_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (Howard Hinnant's days_from_civil). */
static int64_t
s_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse, for days >= 0. */
static void
s_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* n digits at s as a number, or -1 when any is not a digit. */
static int
s_digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "HH:MM:SS[.mmm]Z" at t into *ms (within the day). */
static int
s_time(const char *t, int64_t *ms)
{
    size_t len = strlen(t);
    int frac = 0;
    if (len != 9 && len != 13)
        return -1;
    if (t[2] != ':' || t[5] != ':' || t[len - 1] != 'Z')
        return -1;
    int hh = s_digits(t, 2), mi = s_digits(t + 3, 2), ss = s_digits(t + 6, 2);
    if (len == 13) {
        if (t[8] != '.')
            return -1;
        frac = s_digits(t + 9, 3);
    }
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59 || frac < 0)
        return -1;
    *ms = hh * S_HOUR_MS + mi * S_MIN_MS + ss * 1000LL + frac;
    return 0;
}

int
rl_date_parse(const char *s, int64_t *ms)
{
    int64_t in_day = 0;
    if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int y = s_digits(s, 4), m = s_digits(s + 5, 2), d = s_digits(s + 8, 2);
    if (y < RL_DATE_MIN_YEAR || y > RL_DATE_MAX_YEAR || m < 1 || m > 12 ||
        d < 1 || d > s_month_days(y, m))
        return -1;
    if (s[10] != '\0' && (s[10] != 'T' || s_time(s + 11, &in_day) != 0))
        return -1;
    *ms = s_days_from_civil(y, m, d) * RL_DATE_DAY_MS + in_day;
    return 0;
}

int
rl_date_day(int64_t ms, char day[static RL_DATE_DAY_LEN])
{
    int y, m, d;
    day[0] = '\0';
    if (ms < 0)
        return -1;
    s_civil_from_days(ms / RL_DATE_DAY_MS, &y, &m, &d);
    if (y > RL_DATE_MAX_YEAR)
        return -1;
    rl_fmt_fit(day, RL_DATE_DAY_LEN, "%04d-%02d-%02d", y, m, d);
    return 0;
}
