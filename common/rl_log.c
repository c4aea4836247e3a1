/*
 * rl_log - leveled logging to stderr.
 * SPDX-License-Identifier: MIT
 */
#include "rl_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rl_clock.h"
#include "rl_text.h"

#define S_LINE_MAX 1024 /* bytes of one message, after it is made safe */

/* Process-wide logger settings: written once by rl_log_init() in main()
 * before the event loop starts, read-only afterwards. */
static const char *s_role = "reelay";
static rl_log_level_t s_level = RL_LOG_INFO;

void
rl_log_init(const char *role, rl_log_level_t level)
{
    s_role = role;
    s_level = level;
}

int
rl_log_level_parse(const char *name)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(name, names[i]) == 0)
            return i;
    return -1;
}

rl_log_level_t
rl_log_level(void)
{
    return s_level;
}

void
rl_log_write(rl_log_level_t level, bool with_errno, const char *fmt, ...)
{
    static const char *const tags[] = {"error", "warn", "info", "debug"};
    int saved = errno;
    char raw[S_LINE_MAX], msg[S_LINE_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* A message may quote outside bytes: one line, valid UTF-8, always. */
    if (n < 0)
        n = 0;
    rl_text_safe(msg, sizeof msg, raw,
                 (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1,
                 (size_t)n >= sizeof raw, NULL);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_errno)
        fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s: %s\n", ts,
                (long)(tv.tv_usec / 1000), s_role, (int)getpid(), tags[level],
                msg, strerror(saved));
    else
        fprintf(stderr, "%s.%03ldZ %s[%d] %s: %s\n", ts,
                (long)(tv.tv_usec / 1000), s_role, (int)getpid(), tags[level],
                msg);
    errno = saved;
}

bool
rl_log_limit(rl_log_limit_t *l, int64_t interval_ms, uint64_t *held)
{
    int64_t now = rl_clock_mono_ms();

    if (now < l->next_ms) {
        l->suppressed++;
        return false;
    }
    if (held != NULL)
        *held = l->suppressed;
    l->suppressed = 0;
    l->next_ms = now + interval_ms;
    return true;
}
