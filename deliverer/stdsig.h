/*
 * stdsig - Standard Webhooks signatures (standardwebhooks.com): the
 * webhook-id of a delivery and "v1,BASE64" signatures, where BASE64 is
 * the base64 of HMAC-SHA256 keyed with the base64-decoded part of a
 * "whsec_" secret over "{webhook-id}.{webhook-timestamp}.{body}". Pure.
 * SPDX-License-Identifier: MIT
 */
#ifndef STDSIG_H
#define STDSIG_H

#include <stddef.h>
#include <stdint.h>

#define STDSIG_SECRET_PREFIX "whsec_"
#define STDSIG_SECRET_BYTES 24 /* random bytes of a new secret */
#define STDSIG_KEY_MAX 64      /* decoded key bytes accepted */
#define STDSIG_SIG_LEN 48      /* "v1," + 44 base64 chars + NUL */
#define STDSIG_MAX_SECRETS 2   /* current and previous (rotation) */
#define STDSIG_ID_MAX 160      /* a webhook-id, NUL included */

/* Writes "v1,BASE64" for body at timestamp ts (unix seconds) under
 * message id msg_id into out[STDSIG_SIG_LEN]. secret is "whsec_BASE64"
 * (the prefix is optional). Returns 0, or -1 when the secret does not
 * decode or libcrypto fails. */
int stdsig_sign(const char *secret, const char *msg_id, int64_t ts,
                const void *body, size_t body_len, char out[STDSIG_SIG_LEN]);

/* The webhook-signature value: the signatures of every secret of
 * secrets[0..n) (NULL or "" entries skipped) separated by one space,
 * into out. Returns 0, or -1 when none signs or out is too small. */
int stdsig_header(const char *const *secrets, size_t n, const char *msg_id,
                  int64_t ts, const void *body, size_t body_len, char *out,
                  size_t out_len);

/* The webhook-id of a (job, status) delivery: "msg_<job id>_<status>",
 * the same for every retry of it. Returns 0 or -1 when it does not fit. */
int stdsig_msg_id(const char *job_id, const char *status, char *out,
                  size_t out_len);

#endif
