/*
 * rl_text - outside text made safe to show.
 * SPDX-License-Identifier: MIT
 */
#include "rl_text.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>

#define S_ESCAPE_LEN 4 /* "\xNN" */

/* The number of continuation bytes a lead byte announces and the smallest
 * code point a sequence of that length may encode (shorter is overlong);
 * 0 for a byte that cannot lead (continuation, 0xC0/0xC1, 0xF5..0xFF). */
static size_t
s_lead(unsigned char c, uint32_t *cp, uint32_t *min)
{
    if (c < 0x80) {
        *cp = c;
        *min = 0;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        *cp = c & 0x1Fu;
        *min = 0x80;
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        *cp = c & 0x0Fu;
        *min = 0x800;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        *cp = c & 0x07u;
        *min = 0x10000;
        return 4;
    }
    return 0;
}

size_t
rl_text_utf8_char(const unsigned char *s, size_t left)
{
    uint32_t cp = 0, min = 0;
    size_t n;

    if (left == 0)
        return 0;
    n = s_lead(s[0], &cp, &min);
    if (n == 0 || n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0u) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

bool
rl_text_is_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        size_t n = rl_text_utf8_char(p + i, len - i);
        if (n == 0 || p[i] == '\0')
            return false;
        i += n;
    }
    return true;
}

/* True when the bytes at p (left of them) could begin a valid character
 * that the end of the input cut short. */
static bool
s_cut_char(const unsigned char *p, size_t left)
{
    uint32_t cp = 0, min = 0;
    size_t n = s_lead(p[0], &cp, &min);

    if (n <= left)
        return false;
    for (size_t i = 1; i < left; i++)
        if ((p[i] & 0xC0u) != 0x80)
            return false;
    return true;
}

size_t
rl_text_safe(char *dst, size_t cap, const char *src, size_t len,
             bool partial_tail, bool *cut)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0, out = 0;

    assert(dst != NULL && cap >= 1);
    assert(src != NULL || len == 0);
    while (i < len) {
        size_t n = rl_text_utf8_char(p + i, len - i);
        bool control = n == 1 && (p[i] < 0x20 || p[i] == 0x7F);
        if (n == 0 && partial_tail && s_cut_char(p + i, len - i))
            break;
        bool escape = n == 0 || control;
        size_t need = escape ? S_ESCAPE_LEN : n;
        if (out + need >= cap)
            break;
        if (escape) {
            static const char hex[] = "0123456789ABCDEF";
            /* S_ESCAPE_LEN bytes, room checked above. */
            dst[out] = '\\';
            dst[out + 1] = 'x';
            dst[out + 2] = hex[p[i] >> 4];
            dst[out + 3] = hex[p[i] & 0x0F];
            i++;
        } else {
            for (size_t k = 0; k < n; k++)
                dst[out + k] = (char)p[i + k];
            i += n;
        }
        out += need;
    }
    dst[out] = '\0';
    if (cut != NULL)
        *cut = i < len && !(partial_tail && s_cut_char(p + i, len - i));
    return out;
}
