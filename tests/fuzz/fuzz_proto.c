/*
 * fuzz_proto - one ZeroMQ frame as any process receives it: rl_proto's
 * pre-scan and decoder for every message type, and what the receiver of
 * each type does with a decoded one without a socket: a COMPLETION
 * becomes a fail-open delivery (delivery_from_msg) whose signed webhook
 * is built (webhook_build); a REPLY's body is what rl_ingress_submit()
 * hands its caller. Properties: a refused frame says why and leaves the
 * message empty; a decoded one encodes again and decodes to the same
 * message; the webhook of a terminal job with a job id and a key that
 * opens is always built, as a JSON object, with headers that cannot
 * split (an id with a line break is refused, not sent).
 * (fuzz_zmq drives the same frames through the real sockets.)
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "fz.h"
#include "fz_webhook.h"
#include "rl_keys.h"
#include "rl_proto.h"

static bool
s_same_str(const char *a, const char *b)
{
    return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

/* The members of type a->type of a and b are equal. */
static bool
s_same(const rl_msg_t *a, const rl_msg_t *b)
{
    if (a->type != b->type || strcmp(a->acct, b->acct) != 0 ||
        strcmp(a->job_id, b->job_id) != 0 ||
        strcmp(a->sender, b->sender) != 0 ||
        strcmp(a->incarnation, b->incarnation) != 0 ||
        strcmp(a->status, b->status) != 0 || a->credit != b->credit ||
        a->inflight != b->inflight || a->http_status != b->http_status ||
        !s_same_str(a->sign_key, b->sign_key) ||
        !s_same_str(a->api_key, b->api_key) ||
        !s_same_str(a->idempotency_key, b->idempotency_key) ||
        a->body_len != b->body_len || a->nfields != b->nfields)
        return false;
    if (a->body_len > 0 && memcmp(a->body, b->body, a->body_len) != 0)
        return false;
    for (size_t i = 0; i < a->nfields; i++)
        if (strcmp(a->fields[i].key, b->fields[i].key) != 0 ||
            strcmp(a->fields[i].value, b->fields[i].value) != 0)
            return false;
    return true;
}

static void
s_round_trip(const rl_msg_t *m)
{
    char *buf = NULL;
    size_t len = 0;
    rl_msg_t back;
    const char *why = NULL;

    FZ_CHECK(rl_proto_encode(m, &buf, &len) == 0,
             "a decoded %s does not encode", rl_proto_type_name(m->type));
    FZ_CHECK(len <= RL_PROTO_MAX_FRAME, "encoded past the frame limit");
    FZ_CHECK(rl_proto_decode(buf, len, &back, &why) == 0,
             "an encoded %s does not decode: %s", rl_proto_type_name(m->type),
             why);
    FZ_CHECK(s_same(m, &back), "a %s changed in a round trip",
             rl_proto_type_name(m->type));
    rl_msg_release(&back);
    free(buf);
}

/* The fail-open path of a COMPLETION: what the deliverer would send. */
static void
s_completion(const rl_msg_t *m)
{
    char ref[RL_KEY_MAX];
    const char *why = NULL;
    delivery_t *d;

    if (rl_keys_ref(ref, sizeof ref, m->acct, m->job_id) != 0)
        return; /* intake drops it */
    d = delivery_from_msg(m, &why);
    if (d == NULL) {
        FZ_CHECK(why != NULL, "delivery_from_msg refused without a reason");
        return;
    }
    fz_check_webhook(d);
    delivery_destroy(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_msg_t m;
    const char *why = NULL;

    fz_setup();
    if (rl_proto_decode(data, size, &m, &why) != 0) {
        FZ_CHECK(why != NULL, "a refused frame has no reason");
        FZ_CHECK(m.fields == NULL && m.body == NULL && m.api_key == NULL,
                 "a refused frame left members behind");
        return 0;
    }
    s_round_trip(&m);
    if (m.type == RL_MSG_COMPLETION)
        s_completion(&m);
    if (m.type == RL_MSG_REPLY)
        FZ_CHECK(m.http_status >= 100 && m.http_status <= 599,
                 "REPLY status %lld", (long long)m.http_status);
    rl_msg_release(&m);
    return 0;
}
