/*
 * rl_fmt - formatting into a fixed buffer without cutting it silently.
 *
 * snprintf() cuts what does not fit and says so only in its return
 * value, which is easy to drop: a cut path opens another file, a cut key
 * names another record. In reelay every bounded format goes through one
 * of these, so a cut is always decided:
 *
 *   rl_fmt()      the text must fit: 0, or -1 when it did not (then buf
 *                 is ""); the caller must look (warn_unused_result);
 *   rl_fmt_msg()  a message for a person (an error's reason, a log
 *                 line): cut to fit, visibly, ending in "...", and never
 *                 inside a UTF-8 character;
 *   rl_fmt_fit()  a text the caller has shown fits (a bound stated
 *                 where it is called: a static assertion or a comment
 *                 naming it): a cut is a programming error (assert), cut
 *                 visibly as rl_fmt_msg() does when assertions are off;
 *   rl_fmt_dec()  an integer in decimal, into a buffer the compiler
 *                 checks holds any long long (RL_FMT_DEC_LEN bytes).
 *
 * scripts/check-source refuses a snprintf() whose result is dropped.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_FMT_H
#define RL_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Any long long in decimal, its sign and the NUL:
 * "-9223372036854775808" is 20 characters. */
#define RL_FMT_DEC_LEN 21

/* Formats into buf (len >= 1 bytes). Returns 0, or -1 when the text did
 * not fit or could not be formatted; buf is then "". */
int rl_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));
int rl_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0), warn_unused_result));

/* Formats a message into buf (len >= 1 bytes); what does not fit is cut
 * and the cut marked by "..." (when len >= 4). */
void rl_fmt_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rl_vfmt_msg(char *buf, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Formats a text that fits by construction into buf (len >= 1 bytes). */
void rl_fmt_fit(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes v in decimal into out, which always holds it (a smaller array
 * is a compile error, -Wstringop-overflow). Returns out. */
const char *rl_fmt_dec(char out[static RL_FMT_DEC_LEN], long long v);

#endif
