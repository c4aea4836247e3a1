/*
 * rl_crypto - HMAC-SHA256, SHA-256, CSPRNG identifiers, base64 and
 * constant-time comparison, all delegated to OpenSSL's libcrypto.
 * SPDX-License-Identifier: MIT
 */
#include "rl_crypto.h"

#include "rl_alloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* 62 * 4: bytes at or above this are rejected so each base62 digit is
 * drawn uniformly from a random byte. */
#define S_BASE62_LIMIT 248
#define S_RANDOM_BATCH 64 /* random bytes fetched per CSPRNG call */
#define S_B64_MAX_IN ((size_t)INT_MAX / 4 * 3 - 3) /* keeps lengths in int */

static const char s_base62[] = RL_BASE62_CHARS;

void
rl_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

int
rl_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
               uint8_t out[RL_SHA256_LEN])
{
    /* OpenSSL reads a NULL key as "reuse the previous key"; an empty key
     * must be a real zero-length buffer. */
    static const uint8_t empty_key[1];
    unsigned int out_len = 0;

    if (key_len > INT_MAX)
        return -1;
    if (key == NULL || key_len == 0)
        key = empty_key;
    if (msg == NULL)
        msg = empty_key;
    if (HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, out, &out_len) ==
        NULL)
        return -1;
    return out_len == RL_SHA256_LEN ? 0 : -1;
}

int
rl_hmac_sha256_hex(const char *key, size_t key_len, const void *body,
                   size_t body_len, char hex[RL_SHA256_HEX_LEN])
{
    uint8_t mac[RL_SHA256_LEN];

    if (rl_hmac_sha256(key, key_len, body, body_len, mac) != 0)
        return -1;
    rl_hex(mac, sizeof mac, hex);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

int
rl_sha256_hex(const void *data, size_t len, char hex[RL_SHA256_HEX_LEN])
{
    uint8_t md[RL_SHA256_LEN];
    unsigned int md_len = 0;

    if (data == NULL)
        data = "";
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 ||
        md_len != RL_SHA256_LEN)
        return -1;
    rl_hex(md, sizeof md, hex);
    return 0;
}

int
rl_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;

        if (RAND_bytes(p, chunk) != 1)
            return -1;
        p += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

int
rl_random_id(const char *prefix, size_t nchars, char *out, size_t out_len)
{
    uint8_t pool[S_RANDOM_BATCH];
    size_t prefix_len = strlen(prefix);
    size_t used = sizeof pool;
    size_t n = 0;
    int rc = -1;

    if (nchars >= out_len || prefix_len >= out_len - nchars)
        return -1;
    memcpy(out, prefix, prefix_len);
    while (n < nchars) {
        if (used == sizeof pool) {
            if (rl_random_bytes(pool, sizeof pool) != 0)
                goto out;
            used = 0;
        }
        uint8_t b = pool[used++];
        if (b < S_BASE62_LIMIT)
            out[prefix_len + n++] = s_base62[b % 62];
    }
    out[prefix_len + nchars] = '\0';
    rc = 0;
out:
    OPENSSL_cleanse(pool, sizeof pool);
    if (rc != 0)
        out[0] = '\0';
    return rc;
}

int
rl_base64_encode(const void *in, size_t len, char *out, size_t out_len)
{
    if (len > S_B64_MAX_IN || out_len < (len + 2) / 3 * 4 + 1)
        return -1;
    if (len == 0) {
        out[0] = '\0';
        return 0;
    }
    return EVP_EncodeBlock((unsigned char *)out, in, (int)len);
}

/* The value of base64 character c (RFC 4648 table 1), or -1 when c is
 * not one. */
static int
s_b64_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

    return p != NULL ? (int)(p - alphabet) : -1;
}

/* The mask of the bits the last character of a final group of `n % 4`
 * characters leaves unused: 4 bits after 2 characters, 2 after 3. */
static int
s_b64_unused(size_t n)
{
    return n % 4 == 2 ? 0x0f : 0x03;
}

/* Checks the alphabet, padding and canonical form of `in`; on success returns
 * the number of data characters (without '='). EVP_DecodeBlock alone would
 * accept whitespace and misreport the length of padded input. */
static int
s_b64_validate(const char *in, size_t len, size_t *data_len)
{
    size_t n = len;
    size_t pad = 0;

    while (n > 0 && in[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    for (size_t i = 0; i < n; i++) {
        if (s_b64_value(in[i]) < 0)
            return -1;
    }
    if (n % 4 == 1)
        return -1;
    if (pad > 0 && (n + pad) % 4 != 0)
        return -1;
    if (n % 4 != 0 && (s_b64_value(in[n - 1]) & s_b64_unused(n)) != 0)
        return -1; /* non-canonical: unused low bits of the last char */
    *data_len = n;
    return 0;
}

int
rl_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_len)
{
    size_t data_len = 0;
    size_t padded_len;
    size_t result_len;
    char *padded = NULL;
    uint8_t *raw = NULL;
    int rc = -1;

    if (len > S_B64_MAX_IN || s_b64_validate(in, len, &data_len) != 0)
        return -1;
    if (data_len == 0)
        return 0;
    padded_len = (data_len + 3) / 4 * 4;
    result_len = data_len / 4 * 3 + (data_len % 4 ? data_len % 4 - 1 : 0);
    if (result_len > out_len)
        return -1;
    padded = rl_malloc(padded_len);
    memcpy(padded, in, data_len);
    memset(padded + data_len, '=', padded_len - data_len);
    raw = rl_malloc(padded_len / 4 * 3);
    if (EVP_DecodeBlock(raw, (unsigned char *)padded, (int)padded_len) < 0)
        goto out;
    memcpy(out, raw, result_len);
    rc = (int)result_len;
out:
    OPENSSL_clear_free(raw, padded_len / 4 * 3);
    free(padded);
    return rc;
}

int
rl_base64url_encode(const void *in, size_t len, char *out, size_t out_len)
{
    size_t padded_len = (len + 2) / 3 * 4 + 1;
    char *std = NULL;
    int n;
    int rc = -1;

    if (len > S_B64_MAX_IN)
        return -1;
    std = rl_malloc(padded_len);
    n = rl_base64_encode(in, len, std, padded_len);
    if (n < 0)
        goto out;
    while (n > 0 && std[n - 1] == '=')
        n--;
    if ((size_t)n + 1 > out_len)
        goto out;
    for (int i = 0; i < n; i++) {
        char c = std[i];

        if (c == '+')
            c = '-';
        else if (c == '/')
            c = '_';
        out[i] = c;
    }
    out[n] = '\0';
    rc = n;
out:
    free(std);
    return rc;
}

bool
rl_timingsafe_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    if (a_len != b_len)
        return false;
    if (a_len == 0)
        return true;
    return CRYPTO_memcmp(a, b, a_len) == 0;
}

bool
rl_secret_equal(const char *offered, const char *expected)
{
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)offered, strlen(offered), a);
    SHA256((const unsigned char *)expected, strlen(expected), b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

#define RL_AEAD_NONCE_LEN 12
#define RL_AEAD_TAG_LEN 16
#define RL_AEAD_MAX_PLAIN 1024
#define RL_AEAD_PREFIX "v1."

int
rl_aead_parse_key(const char *hex, uint8_t key[RL_AEAD_KEY_LEN])
{
    if (hex == NULL || strlen(hex) != 2 * RL_AEAD_KEY_LEN)
        return -1;
    for (size_t i = 0; i < RL_AEAD_KEY_LEN; i++) {
        unsigned v = 0;
        for (size_t k = 0; k < 2; k++) {
            char c = hex[2 * i + k];
            unsigned d = (c >= '0' && c <= '9')   ? (unsigned)(c - '0')
                         : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                         : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                                  : 16;
            if (d > 15)
                return -1;
            v = v * 16 + d;
        }
        key[i] = (uint8_t)v;
    }
    return 0;
}

/* Runs AES-256-GCM one way. Returns 0 or -1. */
static int
s_gcm(int encrypt, const uint8_t *key, const uint8_t *nonce, const uint8_t *in,
      size_t len, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, rc = -1;
    if (ctx == NULL ||
        EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt) !=
            1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, RL_AEAD_NONCE_LEN,
                            NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt) != 1 ||
        EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
        goto out;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
                                        RL_AEAD_TAG_LEN, tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, out + n, &n) != 1)
        goto out;
    if (encrypt && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                       RL_AEAD_TAG_LEN, tag) != 1)
        goto out;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

int
rl_aead_seal(const uint8_t key[RL_AEAD_KEY_LEN], const void *plain, size_t len,
             char *out, size_t out_len)
{
    uint8_t buf[RL_AEAD_NONCE_LEN + RL_AEAD_MAX_PLAIN + RL_AEAD_TAG_LEN];
    size_t prefix = strlen(RL_AEAD_PREFIX);
    if (len > RL_AEAD_MAX_PLAIN || out_len <= prefix ||
        rl_random_bytes(buf, RL_AEAD_NONCE_LEN) != 0 ||
        s_gcm(1, key, buf, plain, len, buf + RL_AEAD_NONCE_LEN,
              buf + RL_AEAD_NONCE_LEN + len) != 0)
        return -1;
    memcpy(out, RL_AEAD_PREFIX, prefix);
    int n = rl_base64_encode(buf, RL_AEAD_NONCE_LEN + len + RL_AEAD_TAG_LEN,
                             out + prefix, out_len - prefix);
    return n < 0 ? -1 : (int)prefix + n;
}

int
rl_aead_open(const uint8_t key[RL_AEAD_KEY_LEN], const char *sealed, char *out,
             size_t out_len)
{
    uint8_t buf[RL_AEAD_NONCE_LEN + RL_AEAD_MAX_PLAIN + RL_AEAD_TAG_LEN];
    size_t prefix = strlen(RL_AEAD_PREFIX);
    if (sealed == NULL || strncmp(sealed, RL_AEAD_PREFIX, prefix) != 0)
        return -1;
    int n = rl_base64_decode(sealed + prefix, strlen(sealed + prefix), buf,
                             sizeof buf);
    if (n < RL_AEAD_NONCE_LEN + RL_AEAD_TAG_LEN)
        return -1;
    size_t len = (size_t)n - RL_AEAD_NONCE_LEN - RL_AEAD_TAG_LEN;
    if (len + 1 > out_len ||
        s_gcm(0, key, buf, buf + RL_AEAD_NONCE_LEN, len, (uint8_t *)out,
              buf + RL_AEAD_NONCE_LEN + len) != 0)
        return -1;
    out[len] = '\0';
    return (int)len;
}
