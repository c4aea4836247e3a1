/*
 * webhook - the signed request of one webhook attempt.
 * SPDX-License-Identifier: MIT
 */
#include "webhook.h"

#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rl_apikey.h"
#include "rl_clock.h"
#include "rl_taskview.h"
#include "stdsig.h"

#define S_KEY_MAX 256 /* bytes of an opened key or secret, NUL included */
#define S_NUM_LEN 24  /* a decimal int64 and the NUL */
#define S_MS_PER_S 1000

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

/* Whether snprintf's answer n says a number fit S_NUM_LEN bytes. */
static bool
s_num(int n)
{
    return n > 0 && n < S_NUM_LEN;
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
    return status != NULL &&
           (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0);
}

/* Renders the body into w and sets *seq (X-Reelay-Sequence): the length
 * of the status_history just rendered, so the history is parsed once. */
static int
s_body(webhook_req_t *w, const rl_jobview_src_t *src, long *seq)
{
    /* A job that came through the task API (docs/task-api.md) gets its
     * callback shape; the headers and signature are the same. */
    const char *api = rl_jobview_get(src, "api");
    json_t *obj = (api != NULL && strcmp(api, "kinovi") == 0)
                      ? rl_taskview_callback(src)
                      : rl_jobview_webhook(src);
    json_t *h = json_object_get(obj, "status_history");

    *seq = json_is_array(h) ? (long)json_array_size(h) : webhook_sequence(src);
    w->body = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    if (w->body == NULL)
        return -1;
    w->body_len = strlen(w->body);
    return 0;
}

int
webhook_schemes(const char *signing)
{
    if (signing != NULL && strcmp(signing, "standard") == 0)
        return WEBHOOK_SIGN_STANDARD;
    if (signing != NULL && strcmp(signing, "both") == 0)
        return WEBHOOK_SIGN_CREATIVEAI | WEBHOOK_SIGN_STANDARD;
    return WEBHOOK_SIGN_CREATIVEAI;
}

long
webhook_sequence(const rl_jobview_src_t *src)
{
    const char *raw = rl_jobview_get(src, "history");
    json_t *h = raw != NULL ? json_loads(raw, 0, NULL) : NULL;
    long n = json_is_array(h) ? (long)json_array_size(h) : 0;

    json_decref(h);
    return n;
}

/* The Standard Webhooks headers of the built body. */
static bool
s_standard(webhook_req_t *w, size_t *n, const rl_jobview_src_t *src,
           const webhook_opts_t *o, const char *stamp)
{
    char id[STDSIG_ID_MAX];
    char sigs[STDSIG_MAX_SECRETS * STDSIG_SIG_LEN];

    if (stdsig_msg_id(rl_jobview_get(src, "id"), rl_jobview_get(src, "status"),
                      id, sizeof id) != 0 ||
        stdsig_header(o->secrets, STDSIG_MAX_SECRETS, id, o->now_s, w->body,
                      w->body_len, sigs, sizeof sigs) != 0)
        return false;
    return s_header(w, n, "webhook-id", id) &&
           s_header(w, n, "webhook-timestamp", stamp) &&
           s_header(w, n, "webhook-signature", sigs);
}

int
webhook_build_opts(webhook_req_t *w, const rl_jobview_src_t *src,
                   const webhook_opts_t *o)
{
    const char *status = rl_jobview_get(src, "status");
    const char *id = rl_jobview_get(src, "id");
    char sig[WEBHOOK_SIG_LEN];
    char num[S_NUM_LEN], stamp[S_NUM_LEN], seq[S_NUM_LEN];
    size_t n = 0;
    bool ok = true;

    assert(w != NULL && src != NULL && o != NULL);
    memset(w, 0, sizeof *w);
    if (!s_terminal(status) || id == NULL || *id == '\0' || o->schemes == 0)
        goto fail;
    long sequence = 0;
    if (s_body(w, src, &sequence) != 0)
        goto fail;
    /* Numbers always fit S_NUM_LEN; a header that would not is refused
     * as every other. */
    ok &= s_num(snprintf(num, sizeof num, "%d", o->attempt));
    ok &= s_num(snprintf(stamp, sizeof stamp, "%" PRId64, o->now_s));
    ok &= s_num(snprintf(seq, sizeof seq, "%ld", sequence));
    ok &= s_header(w, &n, "Content-Type", "application/json");
    ok &= s_header(w, &n, "X-CreativeAI-Event", rl_jobview_event(status));
    ok &= s_header(w, &n, "X-CreativeAI-Delivery-Id", id);
    if (o->schemes & WEBHOOK_SIGN_CREATIVEAI)
        ok &= o->api_key != NULL &&
              webhook_sign(o->api_key, w->body, w->body_len, sig) == 0 &&
              s_header(w, &n, "X-CreativeAI-Signature", sig);
    ok &= s_header(w, &n, "X-Reelay-Attempt", num);
    ok &= s_header(w, &n, "User-Agent", WEBHOOK_USER_AGENT);
    ok &= s_header(w, &n, "X-Reelay-Timestamp", stamp);
    ok &= s_header(w, &n, "X-Reelay-Sequence", seq);
    if (ok && (o->schemes & WEBHOOK_SIGN_STANDARD))
        ok &= s_standard(w, &n, src, o, stamp);
    if (!ok)
        goto fail;
    return 0;
fail:
    webhook_release(w);
    return -1;
}

/* Opens the sealed field `field` of src into out; "" when absent.
 * Returns 0, or -1 when present but it does not open. */
static int
s_open_field(const rl_jobview_src_t *src, const char *field,
             const uint8_t master[RL_AEAD_KEY_LEN], char *out, size_t len)
{
    const char *sealed = rl_jobview_get(src, field);

    out[0] = '\0';
    if (sealed == NULL || *sealed == '\0')
        return 0;
    return rl_aead_open(master, sealed, out, len) < 0 ? -1 : 0;
}

/* True while the previous secret still signs at now_ms. */
static bool
s_prev_live(const rl_jobview_src_t *src, int64_t now_ms)
{
    const char *until = rl_jobview_get(src, WEBHOOK_F_PREV_UNTIL);
    char *end = NULL;
    long long ms;

    if (until == NULL || *until == '\0')
        return false;
    ms = strtoll(until, &end, 10);
    return *end == '\0' && ms > now_ms;
}

int
webhook_build(webhook_req_t *w, const rl_jobview_src_t *src,
              const uint8_t master[RL_AEAD_KEY_LEN], const char *sealed,
              int attempt, int64_t now_ms, const char **why)
{
    char key[S_KEY_MAX], cur[S_KEY_MAX], prev[S_KEY_MAX];
    webhook_opts_t o = {attempt, now_ms / S_MS_PER_S, 0, key, {cur, NULL}};
    const char *dummy;
    int rc = -1;

    assert(w != NULL && master != NULL && sealed != NULL);
    why = why != NULL ? why : &dummy;
    memset(w, 0, sizeof *w);
    key[0] = cur[0] = prev[0] = '\0';
    o.schemes = webhook_schemes(rl_jobview_get(src, WEBHOOK_F_SIGNING));
    if ((o.schemes & WEBHOOK_SIGN_CREATIVEAI) &&
        (*sealed == '\0' ||
         rl_apikey_open(master, sealed, key, sizeof key) != 0)) {
        *why = "signing key missing or cannot be opened";
        goto out;
    }
    if ((o.schemes & WEBHOOK_SIGN_STANDARD) &&
        (s_open_field(src, WEBHOOK_F_SECRET, master, cur, sizeof cur) != 0 ||
         cur[0] == '\0' ||
         (s_prev_live(src, now_ms) &&
          s_open_field(src, WEBHOOK_F_PREV, master, prev, sizeof prev) != 0))) {
        *why = "webhook secret missing or cannot be opened";
        goto out;
    }
    o.secrets[1] = prev[0] != '\0' ? prev : NULL;
    rc = webhook_build_opts(w, src, &o);
    if (rc != 0)
        *why = "job cannot be rendered (not terminal, no id or bad field)";
out:
    explicit_bzero(key, sizeof key);
    explicit_bzero(cur, sizeof cur);
    explicit_bzero(prev, sizeof prev);
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
