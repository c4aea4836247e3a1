/*
 * delivery - one webhook to deliver and its two constructors.
 * SPDX-License-Identifier: MIT
 */
#include "delivery.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_keys.h"

#define S_CLAIM_HEAD 3 /* ref, token, key hash before the fields */

static delivery_t *
s_new(const char *ref, const char *token, const char *sign_key,
      const char **why)
{
    delivery_t *d;

    d = rl_calloc(1, sizeof *d);
    d->ref = rl_strdup(ref);
    d->token = rl_strdup(token);
    d->sign_key = rl_strdup(sign_key);
    d->key_hash = rl_strdup("");
    d->attempt = 1;
    if (rl_keys_parse_ref(ref, d->acct, sizeof d->acct, d->job,
                          sizeof d->job) != 0) {
        *why = "malformed ref";
        delivery_destroy(&d);
    }
    return d;
}

static void
s_add(delivery_t *d, const char *field, size_t flen, const char *value,
      size_t vlen)
{
    assert(d->npairs < DELIVERY_MAX_PAIRS);
    if (d->kv == NULL)
        d->kv = rl_calloc(2 * DELIVERY_MAX_PAIRS, sizeof *d->kv);
    d->kv[2 * d->npairs] = rl_strndup(field, flen);
    d->kv[2 * d->npairs + 1] = rl_strndup(value, vlen);
    d->npairs++;
}

/* A string element without embedded NULs, of at most max bytes. */
static bool
s_str(const redisReply *r, size_t max)
{
    return r != NULL && r->type == REDIS_REPLY_STRING && r->len <= max &&
           memchr(r->str, '\0', r->len) == NULL;
}

static void
s_finish(delivery_t *d)
{
    d->attempt = delivery_next_attempt(delivery_field(d, "wh_attempts"));
}

delivery_t *
delivery_from_claim(const redisReply *entry, int64_t deadline_ms,
                    const char **why)
{
    delivery_t *d;
    const char *dummy;

    why = why != NULL ? why : &dummy;
    if (entry == NULL || entry->type != REDIS_REPLY_ARRAY ||
        entry->elements < S_CLAIM_HEAD ||
        (entry->elements - S_CLAIM_HEAD) % 2 != 0 ||
        (entry->elements - S_CLAIM_HEAD) / 2 > DELIVERY_MAX_PAIRS) {
        *why = "claim entry is not {ref, token, key hash, pairs...}";
        return NULL;
    }
    for (size_t i = 0; i < entry->elements; i++) {
        if (!s_str(entry->element[i], DELIVERY_MAX_VALUE)) {
            *why = "claim entry holds a non-string";
            return NULL;
        }
    }
    d = s_new(entry->element[0]->str, entry->element[1]->str, "", why);
    if (d == NULL)
        return NULL;
    free(d->key_hash);
    d->key_hash = rl_strdup(entry->element[2]->str);
    for (size_t i = S_CLAIM_HEAD; i + 1 < entry->elements; i += 2)
        s_add(d, entry->element[i]->str, entry->element[i]->len,
              entry->element[i + 1]->str, entry->element[i + 1]->len);
    d->deadline_ms = deadline_ms;
    s_finish(d);
    return d;
}

void
delivery_set_sign_key(delivery_t *d, const char *sealed)
{
    free(d->sign_key);
    d->sign_key = rl_strdup(sealed);
}

delivery_t *
delivery_from_msg(const rl_msg_t *m, const char **why)
{
    char ref[RL_KEY_MAX];
    delivery_t *d;
    const char *dummy;

    assert(m != NULL);
    why = why != NULL ? why : &dummy;
    if (m->type != RL_MSG_COMPLETION || m->nfields > DELIVERY_MAX_PAIRS) {
        *why = "not a usable COMPLETION";
        return NULL;
    }
    if (rl_keys_ref(ref, sizeof ref, m->acct, m->job_id) != 0) {
        *why = "ref too long";
        return NULL;
    }
    d = s_new(ref, "", m->sign_key != NULL ? m->sign_key : "", why);
    if (d == NULL)
        return NULL;
    d->fail_open = true;
    for (size_t i = 0; i < m->nfields; i++)
        s_add(d, m->fields[i].key, strlen(m->fields[i].key), m->fields[i].value,
              strlen(m->fields[i].value));
    s_finish(d);
    return d;
}

const char *
delivery_field(const delivery_t *d, const char *field)
{
    rl_jobview_src_t src = delivery_src(d);

    return rl_jobview_get(&src, field);
}

rl_jobview_src_t
delivery_src(const delivery_t *d)
{
    rl_jobview_src_t src = {(const char *const *)d->kv, d->npairs};

    return src;
}

long
delivery_budget_ms(const delivery_t *d, int64_t now_ms, long timeout_ms)
{
    int64_t left = d->deadline_ms - now_ms;

    assert(timeout_ms > 0);
    if (d->deadline_ms == 0 || left >= timeout_ms)
        return timeout_ms;
    return left > 0 ? (long)left : 0;
}

int
delivery_next_attempt(const char *wh_attempts)
{
    char *end = NULL;
    long n;

    if (wh_attempts == NULL || *wh_attempts == '\0')
        return 1;
    errno = 0;
    n = strtol(wh_attempts, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0 || n >= INT_MAX)
        return 1;
    return (int)n + 1;
}

void
delivery_destroy(delivery_t **p)
{
    delivery_t *d;

    if (p == NULL || *p == NULL)
        return;
    d = *p;
    for (size_t i = 0; i < 2 * d->npairs; i++)
        free(d->kv[i]);
    free(d->kv);
    free(d->gate_host);
    free(d->sign_key);
    free(d->key_hash);
    free(d->token);
    free(d->ref);
    free(d);
    *p = NULL;
}
