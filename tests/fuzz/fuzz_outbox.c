/*
 * fuzz_outbox - the deliverer's outbox claim as Redis answers it
 * (outbox_claim.lua: an array of {ref, token, key hash,
 * field, value, ...}): each entry read by delivery_from_claim(), as
 * outbox.c reads it, and the webhook built from it (fz_webhook.h).
 *
 * Input: the reply, in fz_redis.h's line grammar.
 *
 * Properties: an entry is refused with a reason or becomes a delivery
 * whose ref splits into the account and job it names, whose fields are
 * the entry's pairs, and whose webhook is built as fz_check_webhook()
 * requires.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "delivery.h"
#include "fz.h"
#include "fz_redis.h"
#include "fz_webhook.h"
#include "rl_keys.h"

#define S_DEADLINE_MS 5000 /* a claim's attempt deadline, monotonic ms */

/* The RESP text as hiredis hands it to rl_redis's callbacks. */
static redisReply *
s_reply(const char *resp, size_t len)
{
    redisReader *r = redisReaderCreate();
    void *reply = NULL;

    FZ_CHECK(r != NULL && redisReaderFeed(r, resp, len) == REDIS_OK &&
                 redisReaderGetReply(r, &reply) == REDIS_OK && reply != NULL,
             "the grammar made a reply hiredis does not read");
    redisReaderFree(r);
    return reply;
}

static void
s_entry(const redisReply *entry)
{
    const char *why = NULL;
    delivery_t *d = delivery_from_claim(entry, S_DEADLINE_MS, &why);
    char ref[RL_KEY_MAX];

    if (d == NULL) {
        FZ_CHECK(why != NULL, "an entry refused without a reason");
        return;
    }
    FZ_CHECK(rl_keys_ref(ref, sizeof ref, d->acct, d->job) == 0 &&
                 strcmp(ref, d->ref) == 0,
             "ref %s read as %s and %s", d->ref, d->acct, d->job);
    FZ_CHECK(2 * d->npairs + 3 == entry->elements, "%zu pairs of %zu",
             d->npairs, entry->elements);
    FZ_CHECK(d->deadline_ms == S_DEADLINE_MS, "the claim's deadline");
    fz_check_webhook(d);
    delivery_destroy(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    size_t len = 0;
    char *resp;
    redisReply *reply;

    fz_setup();
    resp = fz_redis_resp(&in, &len);
    reply = s_reply(resp, len);
    /* outbox.c takes an array and reads each element as an entry. */
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements;
         i++)
        s_entry(reply->element[i]);
    freeReplyObject(reply);
    free(resp);
    return 0;
}
