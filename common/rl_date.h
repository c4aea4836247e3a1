/*
 * rl_date - UTC calendar dates as epoch milliseconds, both ways, for the
 * archive's daily files and the dates `reelay export` is given.
 *
 * Accepted text (nothing else, no blanks): "YYYY-MM-DD" (that day's
 * midnight), "YYYY-MM-DDTHH:MM:SSZ" and "YYYY-MM-DDTHH:MM:SS.mmmZ", UTC
 * only, years 1970 to 9999, every field within its calendar bounds
 * (February 29 only in a leap year; no leap second). Outside input:
 * anything else is refused, never guessed at.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_DATE_H
#define RL_DATE_H

#include <stddef.h>
#include <stdint.h>

#define RL_DATE_DAY_LEN 11 /* "YYYY-MM-DD" and its NUL */
#define RL_DATE_MIN_YEAR 1970
#define RL_DATE_MAX_YEAR 9999
#define RL_DATE_DAY_MS 86400000LL

/* Parses s (NUL-terminated) as above into *ms. Returns 0, or -1 (*ms
 * untouched). */
int rl_date_parse(const char *s, int64_t *ms);

/* Writes the UTC day of ms ("YYYY-MM-DD") into day. Returns 0, or -1
 * when ms is outside the years above (day is then ""). */
int rl_date_day(int64_t ms, char day[static RL_DATE_DAY_LEN]);

#endif
