/*
 * stdsig - Standard Webhooks ids and signatures.
 * SPDX-License-Identifier: MIT
 */
#include "stdsig.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_crypto.h"

#define S_TS_LEN 24 /* a decimal int64 and the NUL */
#define S_V1 "v1,"
#define S_B64_SHA256 45 /* base64 of 32 bytes and the NUL */

int
stdsig_sign(const char *secret, const char *msg_id, int64_t ts,
            const void *body, size_t body_len, char out[STDSIG_SIG_LEN])
{
    uint8_t key[STDSIG_KEY_MAX];
    uint8_t mac[RL_SHA256_LEN];
    char stamp[S_TS_LEN];
    char b64[S_B64_SHA256];
    size_t plen = strlen(STDSIG_SECRET_PREFIX);
    size_t idlen, tslen, len;
    char *msg = NULL;
    int klen, rc = -1;

    assert(secret != NULL && msg_id != NULL);
    assert(body != NULL || body_len == 0);
    if (strncmp(secret, STDSIG_SECRET_PREFIX, plen) == 0)
        secret += plen;
    klen = rl_base64_decode(secret, strlen(secret), key, sizeof key);
    if (klen <= 0)
        goto out;
    tslen = (size_t)snprintf(stamp, sizeof stamp, "%" PRId64, ts);
    if (tslen == 0 || tslen >= sizeof stamp)
        goto out; /* never: S_TS_LEN holds any int64 */
    idlen = strlen(msg_id);
    len = idlen + 1 + tslen + 1 + body_len;
    msg = rl_malloc(len);
    memcpy(msg, msg_id, idlen);
    msg[idlen] = '.';
    memcpy(msg + idlen + 1, stamp, tslen);
    msg[idlen + 1 + tslen] = '.';
    if (body_len > 0)
        memcpy(msg + idlen + tslen + 2, body, body_len);
    if (rl_hmac_sha256(key, (size_t)klen, msg, len, mac) != 0 ||
        rl_base64_encode(mac, sizeof mac, b64, sizeof b64) < 0)
        goto out;
    klen = snprintf(out, STDSIG_SIG_LEN, S_V1 "%s", b64);
    rc = klen >= 0 && klen < STDSIG_SIG_LEN ? 0 : -1;
out:
    free(msg);
    explicit_bzero(key, sizeof key);
    explicit_bzero(mac, sizeof mac);
    return rc;
}

int
stdsig_header(const char *const *secrets, size_t n, const char *msg_id,
              int64_t ts, const void *body, size_t body_len, char *out,
              size_t out_len)
{
    char sig[STDSIG_SIG_LEN];
    size_t used = 0;
    int k;

    assert(out != NULL && out_len > 0);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (secrets[i] == NULL || secrets[i][0] == '\0')
            continue;
        if (stdsig_sign(secrets[i], msg_id, ts, body, body_len, sig) != 0)
            return -1;
        k = snprintf(out + used, out_len - used, "%s%s", used > 0 ? " " : "",
                     sig);
        if (k < 0 || (size_t)k >= out_len - used)
            return -1;
        used += (size_t)k;
    }
    return used > 0 ? 0 : -1;
}

int
stdsig_msg_id(const char *job_id, const char *status, char *out, size_t out_len)
{
    int n;

    assert(job_id != NULL && status != NULL);
    n = snprintf(out, out_len, "msg_%s_%s", job_id, status);
    return (n < 0 || (size_t)n >= out_len) ? -1 : 0;
}
