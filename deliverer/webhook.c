/*
 * webhook - the signed request of one webhook attempt.
 * SPDX-License-Identifier: MIT
 */
#include "webhook.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rl_apikey.h"
#include "rl_taskview.h"

#define S_KEY_MAX 256 /* bytes of an opened signing key, NUL included */

int
webhook_sign(const char *key, const void *body, size_t body_len,
             char out[WEBHOOK_SIG_LEN])
{
    char hex[RL_SHA256_HEX_LEN];
    int n;

    assert(key != NULL);
    assert(body != NULL || body_len == 0);
    if (rl_hmac_sha256_hex(key, strlen(key), body, body_len, hex) != 0)
        return -1;
    n = snprintf(out, WEBHOOK_SIG_LEN, "%s%s", WEBHOOK_SIG_PREFIX, hex);
    return (n < 0 || (size_t)n >= WEBHOOK_SIG_LEN) ? -1 : 0;
}

/* Appends one "Name: value" line; false when it does not fit. */
static bool
s_header(webhook_req_t *w, size_t *n, const char *name, const char *value)
{
    int len;

    assert(*n < WEBHOOK_MAX_HEADERS);
    if (strpbrk(value, "\r\n") != NULL)
        return false; /* a stored value must not forge headers */
    len = snprintf(w->lines[*n], WEBHOOK_HEADER_MAX, "%s: %s", name, value);
    if (len < 0 || len >= WEBHOOK_HEADER_MAX)
        return false;
    w->headers[*n] = w->lines[*n];
    (*n)++;
    w->headers[*n] = NULL;
    return true;
}

static bool
s_terminal(const char *status)
{
    return status != NULL && (strcmp(status, "completed") == 0 ||
                              strcmp(status, "failed") == 0);
}

static int
s_body(webhook_req_t *w, const rl_jobview_src_t *src)
{
    /* A job that came through the task API (seeds/004) gets its
     * callback shape; the headers and signature are the same. */
    const char *api = rl_jobview_get(src, "api");
    json_t *obj = (api != NULL && strcmp(api, "kinovi") == 0)
                      ? rl_taskview_callback(src)
                      : rl_jobview_webhook(src);

    w->body = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (w->body == NULL)
        return -1;
    w->body_len = strlen(w->body);
    return 0;
}

int
webhook_build(webhook_req_t *w, const rl_jobview_src_t *src,
              const char *sign_key, int attempt)
{
    const char *status = rl_jobview_get(src, "status");
    const char *id = rl_jobview_get(src, "id");
    char sig[WEBHOOK_SIG_LEN];
    char num[24];
    size_t n = 0;
    bool ok = true;

    assert(w != NULL && src != NULL && sign_key != NULL);
    memset(w, 0, sizeof *w);
    if (!s_terminal(status) || id == NULL || *id == '\0')
        goto fail;
    if (s_body(w, src) != 0 ||
        webhook_sign(sign_key, w->body, w->body_len, sig) != 0)
        goto fail;
    snprintf(num, sizeof num, "%d", attempt);
    ok &= s_header(w, &n, "Content-Type", "application/json");
    ok &= s_header(w, &n, "X-CreativeAI-Event", rl_jobview_event(status));
    ok &= s_header(w, &n, "X-CreativeAI-Delivery-Id", id);
    ok &= s_header(w, &n, "X-CreativeAI-Signature", sig);
    ok &= s_header(w, &n, "X-Reelay-Attempt", num);
    ok &= s_header(w, &n, "User-Agent", WEBHOOK_USER_AGENT);
    if (!ok)
        goto fail;
    return 0;
fail:
    webhook_release(w);
    return -1;
}

int
webhook_build_sealed(webhook_req_t *w, const rl_jobview_src_t *src,
                     const uint8_t master[RL_AEAD_KEY_LEN],
                     const char *sealed, int attempt, const char **why)
{
    char key[S_KEY_MAX];
    const char *dummy;
    int rc;

    assert(w != NULL && master != NULL && sealed != NULL);
    why = why != NULL ? why : &dummy;
    memset(w, 0, sizeof *w);
    if (*sealed == '\0' ||
        rl_apikey_open(master, sealed, key, sizeof key) != 0) {
        *why = "signing key missing or cannot be opened";
        return -1;
    }
    rc = webhook_build(w, src, key, attempt);
    explicit_bzero(key, sizeof key);
    if (rc != 0)
        *why = "job cannot be rendered (not terminal, no id or bad field)";
    return rc;
}

void
webhook_release(webhook_req_t *w)
{
    if (w == NULL)
        return;
    free(w->body);
    memset(w, 0, sizeof *w);
}
