/*
 * rl_text - outside text made safe to show: in an error message, a JSON
 * string or a log line.
 *
 * Bytes from outside (a request path, a header, a field name, a provider
 * answer, a ZeroMQ frame) may be anything: invalid UTF-8 (which makes
 * jansson refuse the string, so an error answer could not be built),
 * control characters (a newline forges a log line), or far too long.
 * rl_text_safe() copies such bytes into a fixed buffer as valid UTF-8
 * with no control characters: every byte that is not part of a valid,
 * shortest-form UTF-8 character, and every control character, becomes the
 * four characters \xNN; the copy stops on a character boundary when the
 * buffer is full. It never fails: its output is always a NUL-terminated
 * valid UTF-8 string of at most cap - 1 bytes.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_TEXT_H
#define RL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Copies len bytes of src into dst (cap >= 1 bytes) made safe as above.
 * Returns the length of dst; *cut (may be NULL) tells whether src did
 * not fit. src may be NULL when len is 0. When `partial_tail` is true,
 * src is known to be cut short by the caller (a truncated format), so an
 * incomplete character at its very end is dropped instead of escaped. */
size_t rl_text_safe(char *dst, size_t cap, const char *src, size_t len,
                    bool partial_tail, bool *cut);

/* The length of the valid UTF-8 character starting at s (at most `left`
 * bytes), or 0 when s does not start one (invalid, overlong, surrogate,
 * beyond U+10FFFF, or cut by `left`). */
size_t rl_text_utf8_char(const unsigned char *s, size_t left);

/* True when the len bytes of s are valid UTF-8 with no NUL byte. */
bool rl_text_is_utf8(const char *s, size_t len);

#endif
