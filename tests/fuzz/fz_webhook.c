/*
 * fz_webhook - a delivery's webhook built and checked, for the fuzz
 * targets of the deliverer's inputs.
 * SPDX-License-Identifier: MIT
 */
#include "fz_webhook.h"

#include <string.h>

#include "fz.h"
#include "hostgate.h"
#include "rl_crypto.h"
#include "rl_proto.h"
#include "webhook.h"

#define S_NOW_MS 1767225600000LL /* a fixed signing time: 2026-01-01 */
#define S_KEY_MAX 256            /* an opened key, as webhook.c's */

static bool
s_terminal(const char *status)
{
    return status != NULL &&
           (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0);
}

/* id looks like the broker's job ids: "vgen_" or "task_" and base62. */
static bool
s_job_id(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    return n > 5 && n <= RL_PROTO_MAX_ID &&
           (strncmp(id, "vgen_", 5) == 0 || strncmp(id, "task_", 5) == 0) &&
           strspn(id + 5, RL_BASE62_CHARS) == n - 5;
}

/* The built request is what attempt.c sends: a JSON object body and
 * "Name: value" header lines without line breaks. */
static void
s_check_request(const webhook_req_t *w)
{
    json_t *body = fz_json_object(w->body, w->body_len, "webhook body");
    size_t n = 0;

    FZ_CHECK(strlen(w->body) == w->body_len, "webhook body length");
    for (; w->headers[n] != NULL; n++) {
        const char *h = w->headers[n];
        FZ_CHECK(strpbrk(h, "\r\n") == NULL, "header splits: %s", h);
        FZ_CHECK(strstr(h, ": ") != NULL, "header has no name: %s", h);
    }
    FZ_CHECK(n >= 1 && n <= WEBHOOK_MAX_HEADERS, "%zu headers", n);
    json_decref(body);
}

/* Whether d's webhook must be built: see fz_webhook.h. */
static bool
s_must_build(const delivery_t *d, const uint8_t *master)
{
    rl_jobview_src_t src = delivery_src(d);
    const char *signing = rl_jobview_get(&src, WEBHOOK_F_SIGNING);
    char key[S_KEY_MAX];

    for (size_t i = 0; i < 2 * d->npairs; i++)
        if (!fz_utf8(d->kv[i]))
            return false;
    return (signing == NULL || *signing == '\0' ||
            strcmp(signing, "creativeai") == 0) &&
           s_terminal(rl_jobview_get(&src, "status")) &&
           s_job_id(rl_jobview_get(&src, "id")) && d->sign_key[0] != '\0' &&
           rl_aead_open(master, d->sign_key, key, sizeof key) >= 0;
}

void
fz_check_webhook(const delivery_t *d)
{
    static uint8_t master[RL_AEAD_KEY_LEN];
    static bool have_master;
    char host[HOSTGATE_HOST_MAX];
    rl_jobview_src_t src = delivery_src(d);
    const char *url = delivery_field(d, "webhook_url");
    const char *why = NULL;
    webhook_req_t w;

    if (!have_master)
        have_master = rl_aead_parse_key(FZ_MASTER_KEY, master) == 0;
    FZ_CHECK(d->attempt >= 1, "attempt %d", d->attempt);
    if (url != NULL)
        (void)hostgate_key(url, host, sizeof host);
    if (webhook_build(&w, &src, master, d->sign_key, d->attempt, S_NOW_MS,
                      &why) == 0) {
        s_check_request(&w);
        webhook_release(&w);
        return;
    }
    FZ_CHECK(why != NULL, "webhook_build refused without a reason");
    FZ_CHECK(!s_must_build(d, master),
             "the webhook of terminal job %s cannot be built: %s",
             rl_jobview_get(&src, "id"), why);
}
