/*
 * webhook - builds one signed webhook request from a job's fields: the
 * body (rl_jobview_webhook, compact JSON), its seeds/000 signature and
 * the header list. Pure: no I/O, signed afresh for every attempt.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "rl_crypto.h"
#include "rl_jobview.h"

#define WEBHOOK_SIG_PREFIX "sha256="
#define WEBHOOK_SIG_LEN (sizeof WEBHOOK_SIG_PREFIX - 1 + RL_SHA256_HEX_LEN)
#define WEBHOOK_USER_AGENT "reelay/1"
#define WEBHOOK_MAX_HEADERS 7   /* entries of headers[], before the NULL */
#define WEBHOOK_HEADER_MAX 192  /* bytes of one header line, NUL included */

/* One request, embedded by its user: webhook_build() fills it,
 * webhook_release() frees what it owns. headers[] points into lines[]. */
typedef struct {
    char *body;                    /* compact JSON, owned, NUL-terminated */
    size_t body_len;               /* its length */
    char lines[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_MAX]; /* "Name: value" */
    const char *headers[WEBHOOK_MAX_HEADERS + 1]; /* NULL-terminated */
} webhook_req_t;

/* Writes "sha256=<lowercase hex HMAC-SHA256(key, body)>" into out.
 * Returns 0, or -1 when libcrypto fails. */
int webhook_sign(const char *key, const void *body, size_t body_len,
                 char out[WEBHOOK_SIG_LEN]);

/* Builds the request of attempt number `attempt` for the job in `src`
 * signed with sign_key: Content-Type, X-CreativeAI-Event,
 * X-CreativeAI-Delivery-Id (the job id), X-CreativeAI-Signature,
 * X-Reelay-Attempt and User-Agent. Returns 0, or -1 (w released) when the
 * job is not terminal, has no id, or a header would not fit. */
int webhook_build(webhook_req_t *w, const rl_jobview_src_t *src,
                  const char *sign_key, int attempt);

/* As webhook_build(), with the signing key sealed (rl_apikey: the API
 * key under AES-256-GCM with the master key): it is opened into a stack
 * buffer for the signature only and wiped. Returns 0, or -1 (w released)
 * with a static reason in *why (may be NULL). */
int webhook_build_sealed(webhook_req_t *w, const rl_jobview_src_t *src,
                         const uint8_t master[RL_AEAD_KEY_LEN],
                         const char *sealed, int attempt, const char **why);

/* Frees the body and re-initialises w. Safe on a zeroed or released w. */
void webhook_release(webhook_req_t *w);

#endif
