/*
 * webhook - builds one signed webhook request from a job's fields: the
 * body (rl_jobview_webhook, compact JSON), its signatures and the header
 * list. Pure: no I/O, signed afresh for every attempt.
 *
 * Headers, in this order:
 *   Content-Type, X-CreativeAI-Event, X-CreativeAI-Delivery-Id,
 *   X-CreativeAI-Signature (schemes creativeai and both: the contract's,
 *   for byte), X-Reelay-Attempt, User-Agent,
 *   X-Reelay-Timestamp   unix seconds when this attempt was signed,
 *   X-Reelay-Sequence    the number of entries of the job's status
 *                        history when delivered: it grows with every
 *                        status a job reaches, so a receiver can drop an
 *                        older status arriving after a newer one,
 *   webhook-id, webhook-timestamp, webhook-signature (schemes standard
 *   and both: Standard Webhooks, stdsig.c; webhook-id is
 *   msg_<job id>_<status>, stable across retries).
 * A receiver rejects a timestamp too far from its clock and remembers
 * webhook-id / (Delivery-Id, Sequence) to refuse replays.
 *
 * An account chooses its scheme and secrets in its hash; outbox_claim,
 * and job_finish for the worker's COMPLETION message (so a fail-open
 * delivery has them too), hand them to the deliverer as the fields
 * WEBHOOK_F_* below, next to the job's (_lib.lua ACCT_WEBHOOK_FIELDS).
 * Secrets are sealed (rl_aead, master key) like API keys, in transit
 * too.
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
#define WEBHOOK_MAX_HEADERS 12 /* entries of headers[], before the NULL */
#define WEBHOOK_HEADER_MAX 192 /* bytes of one header line, NUL included */

/* Account fields added to a job's by outbox_claim and job_finish. */
#define WEBHOOK_F_SIGNING "acct:wh_signing"   /* creativeai|standard|both */
#define WEBHOOK_F_SCHEDULE "acct:wh_schedule" /* default|long */
#define WEBHOOK_F_SECRET "acct:wh_secret"     /* sealed whsec_ secret */
#define WEBHOOK_F_PREV "acct:wh_secret_prev"  /* sealed previous secret */
#define WEBHOOK_F_PREV_UNTIL "acct:wh_secret_prev_until" /* epoch ms */

/* Signature schemes, as flags. */
typedef enum {
    WEBHOOK_SIGN_CREATIVEAI = (1 << 0), /* X-CreativeAI-Signature */
    WEBHOOK_SIGN_STANDARD = (1 << 1),   /* webhook-signature */
} webhook_scheme_t;

/* How to sign one attempt. */
typedef struct {
    int attempt;            /* 1-based, X-Reelay-Attempt */
    int64_t now_s;          /* unix seconds: both timestamp headers */
    int schemes;            /* WEBHOOK_SIGN_* flags, at least one */
    const char *api_key;    /* X-CreativeAI-Signature's key */
    const char *secrets[2]; /* whsec_ secrets (STANDARD): current and,
                               during a rotation, previous; or NULL */
} webhook_opts_t;

/* One request, embedded by its user: webhook_build() (or
 * webhook_build_opts()) fills it, webhook_release() frees what it owns.
 * headers[] points into lines[]. */
typedef struct {
    char *body;      /* compact JSON, owned, NUL-terminated */
    size_t body_len; /* its length */
    char lines[WEBHOOK_MAX_HEADERS][WEBHOOK_HEADER_MAX]; /* "Name: value" */
    const char *headers[WEBHOOK_MAX_HEADERS + 1];        /* NULL-terminated */
} webhook_req_t;

/* Writes "sha256=<lowercase hex HMAC-SHA256(key, body)>" into out.
 * Returns 0, or -1 when libcrypto fails. */
int webhook_sign(const char *key, const void *body, size_t body_len,
                 char out[WEBHOOK_SIG_LEN]);

/* The scheme flags of an account's wh_signing value: "standard",
 * "both", else (NULL, "", "creativeai" or unknown) the default. */
int webhook_schemes(const char *signing);

/* The X-Reelay-Sequence of the job in src: the entries of its history
 * (0 when it has none). */
long webhook_sequence(const rl_jobview_src_t *src);

/* Builds the request of an account's job at now_ms (epoch ms): the
 * scheme and secrets come from src's WEBHOOK_F_* fields (none: the
 * default), the API key `sealed` (rl_apikey) and the sealed secrets are
 * opened with master into stack buffers for the signatures only and
 * wiped; the previous secret signs too until WEBHOOK_F_PREV_UNTIL.
 * Returns 0, or -1 (w released) with a static reason in *why (may be
 * NULL). The deliverer's one way to build a webhook. */
int webhook_build(webhook_req_t *w, const rl_jobview_src_t *src,
                  const uint8_t master[RL_AEAD_KEY_LEN], const char *sealed,
                  int attempt, int64_t now_ms, const char **why);

/* What webhook_build() does once the keys are open: builds the request
 * for the job in `src` as o says (headers above), keys in the clear (for
 * test vectors). Returns 0, or -1 (w released) when the job is not
 * terminal, has no id, a signature cannot be made or a header would not
 * fit. */
int webhook_build_opts(webhook_req_t *w, const rl_jobview_src_t *src,
                       const webhook_opts_t *o);

/* Frees the body and re-initialises w. Safe on a zeroed or released w. */
void webhook_release(webhook_req_t *w);

#endif
