/*
 * rl_slot - Redis Cluster hash slots of keys and commands.
 * SPDX-License-Identifier: MIT
 */
#include "rl_slot.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_CRC_POLY 0x1021 /* x^16 + x^12 + x^5 + 1 */
#define S_MAX_NUMKEYS_DIGITS 9

uint16_t
rl_slot_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;

    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint8_t)buf[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ S_CRC_POLY)
                                 : (uint16_t)(crc << 1);
    }
    return crc;
}

int
rl_slot_key(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);

    if (open != NULL) {
        size_t from = (size_t)(open - key) + 1;
        const char *close = memchr(open + 1, '}', len - from);
        if (close != NULL && close > open + 1)
            return rl_slot_crc16(open + 1, (size_t)(close - open - 1)) %
                   RL_SLOT_COUNT;
    }
    return rl_slot_crc16(key, len) % RL_SLOT_COUNT;
}

/* Commands that take no key: they go to any node. */
static const char *const s_keyless[] = {
    "ACL",     "ASKING",  "AUTH",     "BGREWRITEAOF", "BGSAVE",   "CLIENT",
    "CLUSTER", "COMMAND", "CONFIG",   "DBSIZE",       "DEBUG",    "DISCARD",
    "ECHO",    "EXEC",    "FLUSHALL", "FLUSHDB",      "FUNCTION", "HELLO",
    "INFO",    "KEYS",    "LASTSAVE", "LATENCY",      "MEMORY",   "MULTI",
    "PING",    "PUBLISH", "QUIT",     "RANDOMKEY",    "READONLY", "READWRITE",
    "ROLE",    "SAVE",    "SCAN",     "SCRIPT",       "SELECT",   "SLOWLOG",
    "TIME",    "UNWATCH", "WAIT",
};

/* Commands whose argument 2 is numkeys and argument 3 the first key. */
static const char *const s_with_numkeys[] = {
    "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO",
};

static bool
s_in(const char *name, size_t len, const char *const *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(table[i]) == len && strncasecmp(table[i], name, len) == 0)
            return true;
    return false;
}

static size_t
s_len(const char *const *argv, const size_t *lens, int i)
{
    return lens != NULL ? lens[i] : strlen(argv[i]);
}

/* numkeys of an EVAL-like command: a decimal > 0, else 0 (no key). */
static long
s_numkeys(const char *arg, size_t len)
{
    char digits[S_MAX_NUMKEYS_DIGITS + 1];
    char *end = NULL;
    long n;

    if (len == 0 || len > S_MAX_NUMKEYS_DIGITS)
        return 0;
    memcpy(digits, arg, len);
    digits[len] = '\0';
    n = strtol(digits, &end, 10);
    return end == digits + len && n > 0 ? n : 0;
}

int
rl_slot_command(int argc, const char *const *argv, const size_t *lens)
{
    assert(argc > 0 && argv != NULL);
    size_t len = s_len(argv, lens, 0);

    if (s_in(argv[0], len, s_keyless, sizeof s_keyless / sizeof *s_keyless))
        return -1;
    if (s_in(argv[0], len, s_with_numkeys,
             sizeof s_with_numkeys / sizeof *s_with_numkeys)) {
        if (argc < 4 || s_numkeys(argv[2], s_len(argv, lens, 2)) == 0)
            return -1;
        return rl_slot_key(argv[3], s_len(argv, lens, 3));
    }
    if (argc < 2)
        return -1;
    return rl_slot_key(argv[1], s_len(argv, lens, 1));
}
