/*
 * fuzz_verify - the webhook verifier of examples/verify.c, which a
 * receiver runs on a request from the internet: its header parsing
 * ("Name: value" lines), the X-CreativeAI-Signature check, the Standard
 * Webhooks headers, timestamp and "whsec_" secret; and, as a
 * differential, what reelay signs (webhook_build_opts, stdsig.c) against
 * what the example verifies.
 *
 * The example is standalone (it uses nothing of reelay), so this target
 * includes its source with main renamed.
 *
 * Input: byte 0 the mode. Even: a received request, as lines: the
 * API key, the whsec_ secret, then the headers text up to a NUL byte and
 * the body after it (verified at a fixed now). Odd: a job to sign:
 * lines id, prompt, API key, then the rest as the secret's raw bytes
 * (status completed when bit 1 of byte 0 is set, else failed).
 *
 * Properties: the verifier never accepts a signature that is not the
 * HMAC of the body under the key (or of "id.timestamp.body" under the
 * secret's key, for one of the listed signatures); it reads a padded
 * secret reelay reads as reelay does; every webhook reelay builds
 * verifies with both schemes.
 * SPDX-License-Identifier: MIT
 */
#include "fz.h"

int verify_example_main(int argc, char **argv);
#define main verify_example_main
#include "verify.c"
#undef main

#include "rl_alloc.h"
#include "rl_crypto.h"
#include "stdsig.h"
#include "webhook.h"

#define S_NOW 1767225600LL /* 2026-01-01, unix seconds */
#define S_SECRET_RAW_MAX 48

/* An accepted X-CreativeAI-Signature is the HMAC of the body. */
static void
s_received_creativeai(const s_file_t *headers, const s_file_t *body,
                      const char *key)
{
    char got[S_HEADER_MAX], hex[RL_SHA256_HEX_LEN];

    if (s_verify_creativeai(headers, body, key) != NULL)
        return;
    FZ_CHECK(
        s_header(headers->bytes, "X-CreativeAI-Signature", got, sizeof got) &&
            rl_hmac_sha256_hex(key, strlen(key), body->bytes, body->len, hex) ==
                0 &&
            strncmp(got, "sha256=", 7) == 0 && strcmp(got + 7, hex) == 0,
        "accepted signature %s", got);
}

/* The secret's key as reelay decodes it (canonical base64) and as the
 * example does agree for padded text, as reelay's secrets are (the
 * example refuses unpadded text, which reelay reads, and takes blanks,
 * which reelay refuses: a receiver's own configuration). Returns the
 * example's key length (-1: refused). */
static int
s_secret_agrees(const char *secret, unsigned char key[S_SECRET_MAX])
{
    const char *b64 = strncmp(secret, "whsec_", 6) == 0 ? secret + 6 : secret;
    uint8_t strict[STDSIG_KEY_MAX];
    int n = rl_base64_decode(b64, strlen(b64), strict, sizeof strict);
    int klen = s_secret_key(secret, key);

    FZ_CHECK(n <= 0 || strlen(b64) % 4 != 0 ||
                 (klen == n && memcmp(key, strict, (size_t)n) == 0),
             "secret '%s' decodes to %d bytes in reelay, %d in the example",
             secret, n, klen);
    return klen;
}

/* An accepted webhook-signature lists the HMAC of "id.timestamp.body"
 * under the secret's key. */
static void
s_received_standard(const s_file_t *headers, const s_file_t *body,
                    const char *secret)
{
    char id[S_HEADER_MAX], stamp[S_HEADER_MAX], sigs[S_HEADER_MAX];
    char want[S_B64_SHA256];
    unsigned char key[S_SECRET_MAX], mac[RL_SHA256_LEN];
    int klen = s_secret_agrees(secret, key);
    size_t head;
    char *msg;

    if (s_verify_standard(headers, body, secret, S_NOW) != NULL)
        return;
    FZ_CHECK(
        klen > 0 && s_header(headers->bytes, "webhook-id", id, sizeof id) &&
            s_header(headers->bytes, "webhook-timestamp", stamp,
                     sizeof stamp) &&
            s_header(headers->bytes, "webhook-signature", sigs, sizeof sigs),
        "accepted without its headers or its key");
    head = strlen(id) + strlen(stamp) + 2;
    msg = rl_malloc(head + body->len + 1);
    snprintf(msg, head + 1, "%s.%s.", id, stamp);
    memcpy(msg + head, body->bytes, body->len);
    FZ_CHECK(rl_hmac_sha256(key, (size_t)klen, msg, head + body->len, mac) ==
                     0 &&
                 rl_base64_encode(mac, sizeof mac, want, sizeof want) > 0 &&
                 s_list_has(sigs, want),
             "accepted '%s' for id '%s' at %s", sigs, id, stamp);
    free(msg);
}

static void
s_received(fz_in_t *in)
{
    char *key = fz_str(in, '\n', NULL);
    char *secret = fz_str(in, '\n', NULL);
    s_file_t headers, body;

    headers.bytes = fz_str(in, '\0', &headers.len);
    body.bytes = fz_rest(in, &body.len);
    s_received_creativeai(&headers, &body, key);
    s_received_standard(&headers, &body, secret);
    free(body.bytes);
    free(headers.bytes);
    free(secret);
    free(key);
}

/* What reelay signs, the example verifies. */
static void
s_signed(fz_in_t *in, bool completed)
{
    char *id = fz_str(in, '\n', NULL);
    char *prompt = fz_str(in, '\n', NULL);
    char *key = fz_str(in, '\n', NULL);
    size_t raw_len = in->n < S_SECRET_RAW_MAX ? in->n : S_SECRET_RAW_MAX;
    char secret[8 + 2 * S_SECRET_RAW_MAX] = "whsec_";
    const char *kv[] = {
        "id",     id,     "status",     completed ? "completed" : "failed",
        "prompt", prompt, "error_code", "failed"};
    rl_jobview_src_t src = {kv, 4};
    webhook_opts_t o = {1,
                        S_NOW,
                        WEBHOOK_SIGN_CREATIVEAI | WEBHOOK_SIGN_STANDARD,
                        key,
                        {secret, NULL}};
    webhook_req_t w;
    s_file_t headers = {NULL, 0}, body;
    const char *why;

    if (raw_len == 0 ||
        rl_base64_encode(in->p, raw_len, secret + 6, sizeof secret - 6) < 0)
        goto out;
    if (webhook_build_opts(&w, &src, &o) != 0)
        goto out;
    for (size_t i = 0; w.headers[i] != NULL; i++) {
        size_t n = strlen(w.headers[i]);
        headers.bytes = rl_realloc(headers.bytes, headers.len + n + 3);
        memcpy(headers.bytes + headers.len, w.headers[i], n);
        memcpy(headers.bytes + headers.len + n, "\r\n", 3);
        headers.len += n + 2;
    }
    body.bytes = w.body;
    body.len = w.body_len;
    why = s_verify_creativeai(&headers, &body, key);
    FZ_CHECK(why == NULL, "reelay's signature does not verify: %s", why);
    why = s_verify_standard(&headers, &body, secret, S_NOW);
    FZ_CHECK(why == NULL,
             "reelay's Standard Webhooks signature (secret %s)"
             " does not verify: %s",
             secret, why);
    free(headers.bytes);
    webhook_release(&w);
out:
    free(key);
    free(prompt);
    free(id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    uint8_t mode = fz_u8(&in);

    fz_setup();
    if (mode & 1)
        s_signed(&in, (mode & 2) != 0);
    else
        s_received(&in);
    return 0;
}
