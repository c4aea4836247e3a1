/*
 * test_crypto_aead - AES-256-GCM sealing of API keys at rest
 * (rl_aead_parse_key, rl_aead_seal, rl_aead_open) and API key creation
 * (rl_apikey_new, rl_apikey_open).
 *
 * A sealed text is "v1." + base64(nonce[12] || ciphertext || tag[16]);
 * every seal draws a fresh nonce, and opening fails on another master
 * key, on any change of the text, on a malformed text and on a short
 * output buffer.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rl_apikey.h"
#include "rl_keys.h"
#include "rl_crypto.h"

/* Two fixed master keys (64 hex digits each). */
static const char s_master_hex[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char s_other_hex[] =
    "F0E1D2C3B4A5968778695A4B3C2D1E0Ff0e1d2c3b4a5968778695a4b3c2d1e0f";

/* A key of the shape rl_apikey_new makes: rk_ + 40 base62 characters. */
static const char s_plain[] = "rk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd";

static void
s_master(uint8_t key[RL_AEAD_KEY_LEN])
{
    assert_int_equal(rl_aead_parse_key(s_master_hex, key), 0);
}

static int
s_is_base62(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* ---- rl_aead_parse_key ------------------------------------------------ */

static void
test_parse_key_good(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN];
    assert_int_equal(rl_aead_parse_key(s_master_hex, key), 0);
    for (int i = 0; i < RL_AEAD_KEY_LEN; i++)
        assert_int_equal(key[i], i);
    /* Upper and lower case hex digits mean the same. */
    uint8_t other[RL_AEAD_KEY_LEN];
    assert_int_equal(rl_aead_parse_key(s_other_hex, other), 0);
    assert_int_equal(other[0], 0xf0);
    assert_int_equal(other[15], 0x0f);
    assert_memory_equal(other, other + 16, 16);
}

static void
test_parse_key_bad(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN];
    char buf[80];

    assert_int_equal(rl_aead_parse_key(NULL, key), -1);
    assert_int_equal(rl_aead_parse_key("", key), -1);
    /* One digit short, one digit long, half a key. */
    snprintf(buf, sizeof buf, "%.63s", s_master_hex);
    assert_int_equal(rl_aead_parse_key(buf, key), -1);
    snprintf(buf, sizeof buf, "%s0", s_master_hex);
    assert_int_equal(rl_aead_parse_key(buf, key), -1);
    snprintf(buf, sizeof buf, "%.32s", s_master_hex);
    assert_int_equal(rl_aead_parse_key(buf, key), -1);
    /* A non-hex character anywhere, in either digit of a byte. */
    const char bad[] = {'g', 'G', 'z', ' ', '-', ':', 'x', '\n'};
    size_t pos[] = {0, 1, 31, 32, 62, 63};
    for (size_t b = 0; b < sizeof bad; b++) {
        for (size_t p = 0; p < sizeof pos / sizeof *pos; p++) {
            snprintf(buf, sizeof buf, "%s", s_master_hex);
            buf[pos[p]] = bad[b];
            assert_int_equal(rl_aead_parse_key(buf, key), -1);
        }
    }
    /* A "0x" prefix is not part of the format. */
    snprintf(buf, sizeof buf, "0x%.62s", s_master_hex);
    assert_int_equal(rl_aead_parse_key(buf, key), -1);
}

/* ---- seal / open ------------------------------------------------------ */

static void
test_seal_open_round_trip(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN];
    char sealed[256], out[128];
    s_master(key);

    int n = rl_aead_seal(key, s_plain, strlen(s_plain), sealed, sizeof sealed);
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(sealed));
    assert_memory_equal(sealed, "v1.", 3);
    /* The plaintext does not show through. */
    assert_null(strstr(sealed, s_plain));
    assert_null(strstr(sealed, s_plain + 3));
    /* base64 of nonce + 43 bytes + tag = 71 bytes -> 96 characters. */
    assert_int_equal(n, 3 + 96);

    memset(out, 'X', sizeof out);
    assert_int_equal(rl_aead_open(key, sealed, out, sizeof out),
                     (int)strlen(s_plain));
    assert_string_equal(out, s_plain);

    /* Other lengths, including empty and binary plaintexts. */
    uint8_t bin[200];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (uint8_t)(i * 7 + 3);
    bin[10] = 0;
    size_t lens[] = {0, 1, 2, 3, 15, 16, 17, 64, 100, 150};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        char big[512];
        char back[256];
        n = rl_aead_seal(key, bin, lens[i], big, sizeof big);
        assert_true(n > 3);
        assert_int_equal(rl_aead_open(key, big, back, sizeof back),
                         (int)lens[i]);
        assert_memory_equal(back, bin, lens[i]);
        assert_int_equal(back[lens[i]], '\0');
    }
}

static void
test_seal_fresh_nonce(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN];
    char a[256], b[256], c[256], out[128];
    s_master(key);
    assert_true(rl_aead_seal(key, s_plain, strlen(s_plain), a, sizeof a) > 0);
    assert_true(rl_aead_seal(key, s_plain, strlen(s_plain), b, sizeof b) > 0);
    assert_true(rl_aead_seal(key, s_plain, strlen(s_plain), c, sizeof c) > 0);
    assert_string_not_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(b, c);
    /* The nonce (the first 12 bytes = 16 base64 characters) differs. */
    assert_false(memcmp(a + 3, b + 3, 16) == 0);
    assert_false(memcmp(a + 3, c + 3, 16) == 0);
    /* All of them open to the same key. */
    assert_int_equal(rl_aead_open(key, a, out, sizeof out),
                     (int)strlen(s_plain));
    assert_string_equal(out, s_plain);
    assert_int_equal(rl_aead_open(key, b, out, sizeof out),
                     (int)strlen(s_plain));
    assert_string_equal(out, s_plain);
    assert_int_equal(rl_aead_open(key, c, out, sizeof out),
                     (int)strlen(s_plain));
    assert_string_equal(out, s_plain);
}

static void
test_open_wrong_master_key(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN], other[RL_AEAD_KEY_LEN];
    char sealed[256], out[128];
    s_master(key);
    assert_int_equal(rl_aead_parse_key(s_other_hex, other), 0);
    assert_true(
        rl_aead_seal(key, s_plain, strlen(s_plain), sealed, sizeof sealed) > 0);
    assert_int_equal(rl_aead_open(other, sealed, out, sizeof out), -1);
    /* A key differing in a single bit of its last byte. */
    uint8_t near[RL_AEAD_KEY_LEN];
    memcpy(near, key, sizeof near);
    near[RL_AEAD_KEY_LEN - 1] ^= 0x01;
    assert_int_equal(rl_aead_open(near, sealed, out, sizeof out), -1);
    near[RL_AEAD_KEY_LEN - 1] ^= 0x01;
    near[0] ^= 0x80;
    assert_int_equal(rl_aead_open(near, sealed, out, sizeof out), -1);
    /* The right key still opens it. */
    assert_int_equal(rl_aead_open(key, sealed, out, sizeof out),
                     (int)strlen(s_plain));
}

/* Opens every single-byte variant of a fresh sealed text (each byte XOR
 * each of its 8 bits, and a few whole-byte substitutions). Counts those
 * that open: `forged` when the variant decodes (base64) to other bytes
 * than the original -- a GCM integrity failure -- and `noncanonical`
 * when it decodes to the very same bytes (only the unused low bits of
 * the last base64 character changed). */
static void
s_tamper(int *forged, int *noncanonical, char *first, size_t first_len)
{
    uint8_t key[RL_AEAD_KEY_LEN];
    char sealed[256], copy[256], out[128];
    uint8_t raw[256], raw2[256];
    s_master(key);
    int n = rl_aead_seal(key, s_plain, strlen(s_plain), sealed, sizeof sealed);
    assert_true(n > 0);
    int rn = rl_base64_decode(sealed + 3, strlen(sealed + 3), raw, sizeof raw);
    assert_true(rn > 0);
    *forged = *noncanonical = 0;
    first[0] = '\0';
    const char subst[] = {'A', '/', '+', '=', '.', 'z', '9'};
    for (int i = 0; i < n; i++) {
        for (int v = 0; v < 8 + (int)sizeof subst; v++) {
            memcpy(copy, sealed, (size_t)n + 1);
            if (v < 8)
                copy[i] = (char)(copy[i] ^ (1 << v));
            else
                copy[i] = subst[v - 8];
            if (copy[i] == sealed[i] || copy[i] == '\0')
                continue; /* unchanged, or a truncation (tested below) */
            if (rl_aead_open(key, copy, out, sizeof out) < 0)
                continue;
            int rn2 =
                rl_base64_decode(copy + 3, strlen(copy + 3), raw2, sizeof raw2);
            int same = rn2 == rn && memcmp(raw, raw2, (size_t)rn) == 0;
            if (same)
                (*noncanonical)++;
            else
                (*forged)++;
            if (first[0] == '\0')
                snprintf(first, first_len,
                         "position %d of %d ('%c' -> '%c', %s) opened in "
                         "%s",
                         i, n, sealed[i], copy[i],
                         same ? "same bytes" : "OTHER BYTES", sealed);
        }
    }
}

/* GCM integrity: no change of the sealed bytes (nonce, ciphertext or
 * tag) ever opens. */
static void
test_open_any_flipped_byte_fails(void **state)
{
    (void)state;
    char first[512];
    int forged, noncanonical;
    for (int round = 0; round < 4; round++) {
        s_tamper(&forged, &noncanonical, first, sizeof first);
        if (forged)
            fail_msg("%d tampered variants opened to other bytes; first: "
                     "%s",
                     forged, first);
    }
}

/* Text-level: the sealed *text* is one canonical string; a variant that
 * differs only in the unused low bits of the last base64 character (the
 * bytes decode the same) is a different text and must not open either:
 * rl_base64_decode accepts only canonical base64. */
static void
test_open_noncanonical_text_fails(void **state)
{
    (void)state;
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t key[RL_AEAD_KEY_LEN];
    char sealed[256], copy[256], out[128];
    s_master(key);
    int n = rl_aead_seal(key, s_plain, strlen(s_plain), sealed, sizeof sealed);
    /* 71 bytes: 23 full groups and one of 2 bytes = 3 characters and
     * '='; the third character carries 4 bits and 2 unused ones. */
    assert_int_equal(n, 99);
    assert_int_equal(sealed[98], '=');
    const char *c = strchr(b64, sealed[97]);
    assert_non_null(c);
    int idx = (int)(c - b64);
    assert_int_equal(idx & 3, 0); /* the encoder writes them as zero */
    int opened = 0;
    char first[256] = "";
    for (int low = 1; low <= 3; low++) {
        memcpy(copy, sealed, (size_t)n + 1);
        copy[97] = b64[idx | low];
        if (rl_aead_open(key, copy, out, sizeof out) >= 0 && opened++ == 0)
            snprintf(first, sizeof first, "'%c' -> '%c' at position 97",
                     sealed[97], copy[97]);
    }
    /* And the random sweep of s_tamper, for good measure. */
    char sweep[512];
    int forged, noncanonical;
    s_tamper(&forged, &noncanonical, sweep, sizeof sweep);
    if (opened || noncanonical)
        fail_msg("non-canonical variants of the sealed text opened: %d of "
                 "3 built ones (%s), %d in the sweep (%s)",
                 opened, first, noncanonical, sweep);
}

static void
test_open_malformed_fails(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN];
    char sealed[256], copy[300], out[128];
    s_master(key);
    int n = rl_aead_seal(key, s_plain, strlen(s_plain), sealed, sizeof sealed);
    assert_true(n > 0);

    /* Truncated: every shorter length down to nothing (the trailing '='
     * alone aside, which base64 may leave out). */
    for (int len = 0; len < n - 1; len++) {
        memcpy(copy, sealed, (size_t)len);
        copy[len] = '\0';
        assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    }
    /* Extended: more base64 after the tag. */
    snprintf(copy, sizeof copy, "%sAAAA", sealed);
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    /* Missing or wrong version prefix. */
    assert_int_equal(rl_aead_open(key, sealed + 3, out, sizeof out), -1);
    snprintf(copy, sizeof copy, "v2.%s", sealed + 3);
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    snprintf(copy, sizeof copy, "V1.%s", sealed + 3);
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    snprintf(copy, sizeof copy, "v1%s", sealed + 3);
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    snprintf(copy, sizeof copy, "v1.v1.%s", sealed + 3);
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    /* Garbage. */
    const char *garbage[] = {
        "",
        "v1.",
        "v1.=",
        "v1.====",
        "v1.!!!!not base64!!!!",
        "v1.AAAA",
        "rk_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++)
        assert_int_equal(rl_aead_open(key, garbage[i], out, sizeof out), -1);
    assert_int_equal(rl_aead_open(key, NULL, out, sizeof out), -1);
    /* Well-formed base64 of zero bytes: 27 (one short of nonce + tag),
     * 28 (an empty plaintext with a wrong tag), 71 (the size of a sealed
     * key). */
    const size_t zeros[] = {27, 28, 71};
    for (size_t i = 0; i < sizeof zeros / sizeof *zeros; i++) {
        uint8_t z[128] = {0};
        memcpy(copy, "v1.", 3);
        assert_true(rl_base64_encode(z, zeros[i], copy + 3, sizeof copy - 3) >
                    0);
        assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    }
    /* Whitespace inside the text is not base64. */
    snprintf(copy, sizeof copy, "%.20s %s", sealed, sealed + 20);
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    /* Two sealed texts spliced: nonce of one, body and tag of another. */
    char other[256];
    assert_true(
        rl_aead_seal(key, s_plain, strlen(s_plain), other, sizeof other) > 0);
    memcpy(copy, sealed, (size_t)n + 1);
    memcpy(copy + 3, other + 3, 16); /* the 12-byte nonce = 16 chars */
    assert_int_equal(rl_aead_open(key, copy, out, sizeof out), -1);
    /* The untouched text still opens. */
    assert_int_equal(rl_aead_open(key, sealed, out, sizeof out),
                     (int)strlen(s_plain));
}

static void
test_short_buffers(void **state)
{
    (void)state;
    uint8_t key[RL_AEAD_KEY_LEN];
    char sealed[256], out[128];
    s_master(key);
    size_t plen = strlen(s_plain);
    int n = rl_aead_seal(key, s_plain, plen, sealed, sizeof sealed);
    assert_true(n > 0);

    /* Open: the plaintext and its NUL need plen + 1 bytes. */
    for (size_t len = 0; len <= plen; len++) {
        memset(out, 'X', sizeof out);
        assert_int_equal(rl_aead_open(key, sealed, out, len), -1);
        /* Nothing written past the buffer it was given. */
        for (size_t i = len; i < sizeof out; i++)
            assert_int_equal(out[i], 'X');
    }
    assert_int_equal(rl_aead_open(key, sealed, out, plen + 1), (int)plen);
    assert_string_equal(out, s_plain);

    /* Seal: the text and its NUL need n + 1 bytes. */
    char small[256];
    for (size_t len = 0; len <= (size_t)n; len++) {
        memset(small, 'X', sizeof small);
        assert_int_equal(rl_aead_seal(key, s_plain, plen, small, len), -1);
        for (size_t i = len; i < sizeof small; i++)
            assert_int_equal(small[i], 'X');
    }
    assert_int_equal(rl_aead_seal(key, s_plain, plen, small, (size_t)n + 1), n);
    assert_int_equal(rl_aead_open(key, small, out, sizeof out), (int)plen);
}

/* ---- rl_apikey_new ---------------------------------------------------- */

static void
s_check_apikey(const uint8_t master[RL_AEAD_KEY_LEN], const rl_apikey_t *k)
{
    /* rk_ + 40 base62 characters. */
    assert_int_equal(strlen(k->key), 3 + RL_APIKEY_CHARS);
    assert_int_equal(RL_APIKEY_CHARS, 40);
    assert_memory_equal(k->key, "rk_", 3);
    for (size_t i = 3; i < strlen(k->key); i++)
        assert_true(s_is_base62(k->key[i]));
    /* hash = lowercase hex SHA-256 of the key. */
    char hash[RL_SHA256_HEX_LEN];
    assert_int_equal(rl_sha256_hex(k->key, strlen(k->key), hash), 0);
    assert_string_equal(k->hash, hash);
    assert_int_equal(strlen(k->hash), 64);
    for (size_t i = 0; i < 64; i++)
        assert_true((k->hash[i] >= '0' && k->hash[i] <= '9') ||
                    (k->hash[i] >= 'a' && k->hash[i] <= 'f'));
    /* id = "key_" + the first 16 hex digits of the hash. */
    char id[32];
    snprintf(id, sizeof id, "key_%.16s", hash);
    assert_string_equal(k->id, id);
    assert_int_equal(strlen(k->id), 20);
    /* prefix = the first 10 characters of the key. */
    assert_int_equal(strlen(k->prefix), 10);
    assert_memory_equal(k->prefix, k->key, 10);
    /* sealed opens back to the key, with both openers. */
    assert_memory_equal(k->sealed, "v1.", 3);
    assert_null(strstr(k->sealed, k->key + 3));
    char out[64];
    assert_int_equal(rl_aead_open(master, k->sealed, out, sizeof out),
                     (int)strlen(k->key));
    assert_string_equal(out, k->key);
    memset(out, 0, sizeof out);
    assert_int_equal(rl_apikey_open(master, k->sealed, out, sizeof out), 0);
    assert_string_equal(out, k->key);
}

static void
test_apikey_new(void **state)
{
    (void)state;
    uint8_t master[RL_AEAD_KEY_LEN], other[RL_AEAD_KEY_LEN];
    s_master(master);
    assert_int_equal(rl_aead_parse_key(s_other_hex, other), 0);

    rl_apikey_t a, b;
    assert_int_equal(rl_apikey_new(master, 3, &a), 0);
    s_check_apikey(master, &a);
    assert_int_equal(rl_apikey_new(master, 3, &b), 0);
    s_check_apikey(master, &b);
    /* Two keys are different in every part. */
    assert_string_not_equal(a.key, b.key);
    assert_string_not_equal(a.hash, b.hash);
    assert_string_not_equal(a.id, b.id);
    assert_string_not_equal(a.sealed, b.sealed);

    /* The sealed copy does not open under another master key. */
    char out[64];
    assert_int_equal(rl_apikey_open(other, a.sealed, out, sizeof out), -1);
    /* nor into a buffer too small for the key. */
    assert_int_equal(rl_apikey_open(master, a.sealed, out, 43), -1);
    assert_int_equal(rl_apikey_open(master, a.sealed, out, 44), 0);
    assert_string_equal(out, a.key);
}

static void
test_apikey_many_distinct(void **state)
{
    (void)state;
    uint8_t master[RL_AEAD_KEY_LEN];
    s_master(master);
    enum { N = 200 };
    static char keys[N][64];
    int seen62[128] = {0};
    for (int i = 0; i < N; i++) {
        rl_apikey_t k;
        assert_int_equal(rl_apikey_new(master, (int)(i % RL_PARTITIONS), &k),
                         0);
        s_check_apikey(master, &k);
        /* Drawn into the partition asked for. */
        assert_int_equal(rl_keys_partition(k.hash), i % RL_PARTITIONS);
        snprintf(keys[i], sizeof keys[i], "%s", k.key);
        for (size_t j = 3; j < strlen(k.key); j++)
            seen62[(unsigned char)k.key[j]] = 1;
        for (int p = 0; p < i; p++)
            assert_string_not_equal(keys[p], keys[i]);
    }
    /* 8000 random characters cover the whole base62 alphabet. */
    int distinct = 0;
    for (int c = 0; c < 128; c++)
        distinct += seen62[c];
    assert_int_equal(distinct, 62);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_key_good),
        cmocka_unit_test(test_parse_key_bad),
        cmocka_unit_test(test_seal_open_round_trip),
        cmocka_unit_test(test_seal_fresh_nonce),
        cmocka_unit_test(test_open_wrong_master_key),
        cmocka_unit_test(test_open_any_flipped_byte_fails),
        cmocka_unit_test(test_open_noncanonical_text_fails),
        cmocka_unit_test(test_open_malformed_fails),
        cmocka_unit_test(test_short_buffers),
        cmocka_unit_test(test_apikey_new),
        cmocka_unit_test(test_apikey_many_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
