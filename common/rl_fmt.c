/*
 * rl_fmt - formatting into a fixed buffer without cutting it silently
 * (rl_fmt.h).
 * SPDX-License-Identifier: MIT
 */
#include "rl_fmt.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char s_cut_mark[] = "...";

_Static_assert(RL_FMT_DEC_LEN >= sizeof "-9223372036854775808",
               "RL_FMT_DEC_LEN holds any long long");

int
rl_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
{
    assert(buf != NULL && len > 0);
    int n = vsnprintf(buf, len, fmt, ap);
    if (n >= 0 && (size_t)n < len)
        return 0;
    buf[0] = '\0';
    return -1;
}

int
rl_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = rl_vfmt(buf, len, fmt, ap);
    va_end(ap);
    return rc;
}

void
rl_vfmt_msg(char *buf, size_t len, const char *fmt, va_list ap)
{
    assert(buf != NULL && len > 0);
    int n = vsnprintf(buf, len, fmt, ap);
    if (n < 0) {
        buf[0] = '\0';
        return;
    }
    if ((size_t)n < len || len < sizeof s_cut_mark)
        return;
    /* Cut: the mark replaces the last bytes, and any UTF-8 character
     * they would split goes with them. */
    size_t at = len - sizeof s_cut_mark;
    while (at > 0 && ((unsigned char)buf[at] & 0xC0) == 0x80)
        at--;
    memcpy(buf + at, s_cut_mark, sizeof s_cut_mark);
}

void
rl_fmt_msg(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_vfmt_msg(buf, len, fmt, ap);
    va_end(ap);
}

void
rl_fmt_fit(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    assert(n >= 0 && (size_t)n < len); /* the caller's bound */
    if (n < 0 || (size_t)n >= len) {
        va_start(ap, fmt);
        rl_vfmt_msg(buf, len, fmt, ap);
        va_end(ap);
    }
}

const char *
rl_fmt_dec(char out[static RL_FMT_DEC_LEN], long long v)
{
    /* Fits by RL_FMT_DEC_LEN (the assertion above). */
    int n = snprintf(out, RL_FMT_DEC_LEN, "%lld", v);
    assert(n > 0 && n < RL_FMT_DEC_LEN);
    (void)n;
    return out;
}
