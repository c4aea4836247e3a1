/*
 * rl_state - reply tags and field lists of the typed script calls.
 * SPDX-License-Identifier: MIT
 */
#include "rl_state.h"

#include <string.h>

#include "rl_fmt.h"
#include "rl_redis.h"

static const char *const s_names[] = {
    [RL_STATE_UNKNOWN] = "",
    [RL_STATE_BAD] = "",
    [RL_STATE_OK] = "ok",
    [RL_STATE_STALE] = "stale",
    [RL_STATE_REFUSED] = "refused",
    [RL_STATE_UNAUTHORIZED] = "unauthorized",
    [RL_STATE_NOT_FOUND] = "not_found",
    [RL_STATE_FORBIDDEN] = "forbidden",
    [RL_STATE_REPLAY] = "replay",
    [RL_STATE_RATE_LIMITED] = "rate_limited",
    [RL_STATE_CREDITS] = "credits",
    [RL_STATE_CONCURRENCY] = "concurrency",
    [RL_STATE_IDEM_CONFLICT] = "idem_conflict",
    [RL_STATE_COLLISION] = "collision",
    [RL_STATE_EXISTS] = "exists",
    [RL_STATE_TOO_MANY] = "too_many",
    [RL_STATE_LAST_KEY] = "last_key",
    [RL_STATE_NOT_TERMINAL] = "not_terminal",
    [RL_STATE_NO_WEBHOOK] = "no_webhook",
    [RL_STATE_SKIPPED] = "skipped",
    [RL_STATE_CHANGED] = "changed",
    [RL_STATE_ALIVE] = "alive",
};
#define S_NTAGS (sizeof s_names / sizeof s_names[0])

const char *
rl_state_tag_name(rl_state_tag_t tag)
{
    return (size_t)tag < S_NTAGS ? s_names[tag] : "";
}

rl_state_tag_t
rl_state_tag(const redisReply *r, const char **why)
{
    const char *dummy;
    const char *word = NULL;
    if (why == NULL)
        why = &dummy;
    *why = NULL;
    if (r == NULL)
        return RL_STATE_UNKNOWN;
    if (r->type == REDIS_REPLY_ERROR) {
        *why = r->str != NULL ? r->str : "error";
        return RL_STATE_BAD;
    }
    if (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING)
        word = r->str;
    else if (r->type == REDIS_REPLY_ARRAY)
        word = rl_redis_reply_tag(r);
    for (size_t i = RL_STATE_OK; word != NULL && i < S_NTAGS; i++)
        if (strcmp(word, s_names[i]) == 0)
            return (rl_state_tag_t)i;
    *why = word != NULL ? word : "unexpected reply";
    return RL_STATE_BAD;
}

const char *
rl_state_field(const rl_state_fields_t *f, const char *name)
{
    if (f->r == NULL)
        return NULL;
    return rl_redis_reply_field(f->r, f->from, name);
}

const char *
rl_state_text(const redisReply *r, size_t i, char *buf, size_t len)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return NULL;
    const redisReply *e = r->element[i];
    if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
        return e->str;
    if (e->type == REDIS_REPLY_INTEGER &&
        rl_fmt(buf, len, "%lld", e->integer) == 0)
        return buf;
    return NULL;
}

int
rl_state_ll(const redisReply *r, size_t i, long long *out)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || i >= r->elements)
        return -1;
    return rl_redis_reply_ll(r->element[i], out);
}
