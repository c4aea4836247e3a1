/*
 * rl_crypto - the project's only doorway to OpenSSL's libcrypto:
 * HMAC-SHA256 signatures, SHA-256 key hashing, random identifiers,
 * base64/base64url and constant-time comparison. No hand-rolled crypto.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CRYPTO_H
#define RL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_SHA256_LEN 32
#define RL_SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

/* Lowercase hex of the len bytes of in into out, which has room for
 * 2 * len + 1 bytes (the digits and a NUL). */
void rl_hex(const uint8_t *in, size_t len, char *out);

/* HMAC-SHA256 of msg keyed with key into out[32]. Returns 0, or -1 when
 * libcrypto fails. */
int rl_hmac_sha256(const void *key, size_t key_len, const void *msg,
                   size_t msg_len, uint8_t out[RL_SHA256_LEN]);

/* The X-CreativeAI-Signature: lowercase hex of HMAC-SHA256(key, body) into
 * hex[65]. Returns 0 or -1. */
int rl_hmac_sha256_hex(const char *key, size_t key_len, const void *body,
                       size_t body_len, char hex[RL_SHA256_HEX_LEN]);

/* Lowercase hex SHA-256 of data into hex[65] (API keys are stored only as
 * this hash). Returns 0 or -1. */
int rl_sha256_hex(const void *data, size_t len, char hex[RL_SHA256_HEX_LEN]);

/* Fills buf with len bytes from the kernel CSPRNG. Returns 0 or -1. */
int rl_random_bytes(void *buf, size_t len);

/* The alphabet of rl_random_id()'s characters. */
#define RL_BASE62_CHARS                                                        \
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Writes prefix followed by `nchars` random characters of [0-9a-zA-Z]
 * (about 5.95 bits each) and a NUL into out. Needs out_len >=
 * strlen(prefix) + nchars + 1. Returns 0, or -1 on a short buffer or
 * CSPRNG failure. Example: rl_random_id("vgen_", 24, buf, sizeof buf). */
int rl_random_id(const char *prefix, size_t nchars, char *out, size_t out_len);

/* Standard base64 (with padding) of in into out, NUL-terminated.
 * Returns the length written, or -1 when out_len is too small
 * (needs 4*ceil(len/3)+1). */
int rl_base64_encode(const void *in, size_t len, char *out, size_t out_len);

/* Decodes standard base64 (padding optional) into out. Only the
 * canonical text is accepted: the unused low bits of the last character
 * must be zero (RFC 4648 3.5), so one byte string has one encoding.
 * Returns the number of bytes, or -1 on bad input or a short buffer. */
int rl_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_len);

/* base64url without padding (JWT). Returns length or -1 as above. */
int rl_base64url_encode(const void *in, size_t len, char *out, size_t out_len);

/* Constant-time equality of two buffers of the same length; false when
 * the lengths differ. */
bool rl_timingsafe_equal(const void *a, size_t a_len, const void *b,
                         size_t b_len);

/* Whether a secret someone offered (an admin token) is the expected one,
 * in a time that tells nothing of either, their lengths included: both
 * are hashed (SHA-256) and the digests compared in constant time. */
bool rl_secret_equal(const char *offered, const char *expected);

/* AES-256-GCM sealing of small secrets at rest (API keys kept for
 * signing). A sealed text is "v1." + base64(nonce[12] || ciphertext ||
 * tag[16]); a fresh random nonce per seal. */
#define RL_AEAD_KEY_LEN 32

/* Parses a 64-hex-digit master key into key[32]. Returns 0 or -1. */
int rl_aead_parse_key(const char *hex, uint8_t key[RL_AEAD_KEY_LEN]);

/* Seals plain (len bytes) into out (NUL-terminated). Returns the text
 * length, or -1 when out_len is too small or libcrypto fails. */
int rl_aead_seal(const uint8_t key[RL_AEAD_KEY_LEN], const void *plain,
                 size_t len, char *out, size_t out_len);

/* Opens a sealed text into out (NUL-terminated). Returns the plaintext
 * length, or -1 when the text is malformed, was sealed under another key
 * or was tampered with, or out_len is too small. */
int rl_aead_open(const uint8_t key[RL_AEAD_KEY_LEN], const char *sealed,
                 char *out, size_t out_len);

#endif
