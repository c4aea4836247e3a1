/*
 * ingress - SUBMIT over ZeroMQ, answered like the HTTP API.
 * SPDX-License-Identifier: MIT
 */
#include "ingress.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <zmq.h>

#include "api_error.h"
#include "rl_alloc.h"
#include "rl_curve.h"
#include "rl_log.h"
#include "rl_proto.h"
#include "rl_zap.h"
#include "rl_zsock.h"
#include "submit.h"

#define INGRESS_MAX_PENDING 65536
#define INGRESS_DOMAIN "ingress" /* ZAP domain: ingress.allow */

/* A SUBMIT waiting for Redis; it remembers the envelope to answer on. */
typedef struct pending {
    LIST_ENTRY(pending) link;
    ingress_t *ingress;
    submit_req_t *submit;
    bool with_delimiter; /* REQ client: empty frame before body */
    size_t identity_len;
    char identity[256];
} pending_t;

struct ingress {
    broker_t *broker;
    rl_zsock_t *sock;
    LIST_HEAD(, pending) pending;
    size_t npending;
    uint64_t dropped;
};

static void
s_answer(ingress_t *in, const pending_t *p, int status, const char *body)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_REPLY);
    m.http_status = status;
    m.body = rl_strdup(body);
    m.body_len = strlen(body);
    char *buf = NULL;
    size_t len = 0;
    if (rl_proto_encode(&m, &buf, &len) == 0) {
        const void *parts[3] = {p->identity, "", buf};
        size_t lens[3] = {p->identity_len, 0, len};
        if (!p->with_delimiter) {
            parts[1] = buf;
            lens[1] = len;
        }
        if (rl_zsock_send(in->sock, parts, lens, p->with_delimiter ? 3 : 2) !=
            0)
            rl_log_debug("ingress: reply dropped: %s",
                         zmq_strerror(zmq_errno()));
    }
    free(buf);
    rl_msg_release(&m);
}

static void
s_on_submitted(const submit_result_t *res, void *arg)
{
    pending_t *p = arg;
    ingress_t *in = p->ingress;
    if (p->submit != NULL) {
        LIST_REMOVE(p, link);
        in->npending--;
    }
    s_answer(in, p, res->status, res->body);
    free(p);
}

static void
s_reject(ingress_t *in, pending_t *p, int status, const char *code,
         const char *message)
{
    api_error_t e;
    api_error_set(&e, status, "invalid_request_error", code, NULL, "%s",
                  message);
    char *json = api_error_json(&e);
    s_answer(in, p, e.status, json);
    free(json);
}

static void
s_handle(ingress_t *in, pending_t *p, const void *frame, size_t len)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_SUBMIT);
    const char *why = NULL;
    if (rl_proto_decode(frame, len, &m, &why) != 0 || m.type != RL_MSG_SUBMIT) {
        in->dropped++;
        s_reject(in, p, 400, "malformed_message",
                 why ? why : "expected a SUBMIT message");
        rl_msg_release(&m);
        free(p);
        return;
    }
    if (in->npending >= INGRESS_MAX_PENDING) {
        s_reject(in, p, 503, "overloaded", "too many submissions in flight");
        rl_msg_release(&m);
        free(p);
        return;
    }
    /* On NULL the callback already ran and freed p. */
    submit_req_t *r = submit_start(in->broker, m.api_key, m.idempotency_key,
                                   m.body, m.body_len, s_on_submitted, p);
    if (r != NULL) {
        p->submit = r;
        LIST_INSERT_HEAD(&in->pending, p, link);
        in->npending++;
    }
    rl_msg_release(&m);
}

static void
s_on_message(rl_zsock_t *s, const void *const *parts, const size_t *lens,
             size_t nparts, void *arg)
{
    ingress_t *in = arg;
    const rl_zap_t *zap = in->broker->zap;
    /* ZAP checked the key at the handshake; the file may have changed
     * since. Such a sender gets no answer, as at the handshake. */
    if (zap != NULL &&
        !rl_zap_permits(zap, INGRESS_DOMAIN, rl_zsock_user_id(s)))
        return;
    bool delim = nparts == 3 && lens[1] == 0;
    if ((nparts != 2 && !delim) || lens[0] > sizeof((pending_t *)0)->identity) {
        in->dropped++;
        return;
    }
    pending_t *p = rl_calloc(1, sizeof *p);
    p->ingress = in;
    p->with_delimiter = delim;
    p->identity_len = lens[0];
    memcpy(p->identity, parts[0], lens[0]);
    s_handle(in, p, parts[nparts - 1], lens[nparts - 1]);
}

ingress_t *
ingress_new(broker_t *b)
{
    if ((size_t)b->index >= b->cfg->ningress)
        return NULL;
    ingress_t *in = rl_calloc(1, sizeof *in);
    in->broker = b;
    LIST_INIT(&in->pending);
    in->sock = rl_zsock_new(b->base, b->zctx, ZMQ_ROUTER, RL_PROTO_MAX_FRAME,
                            s_on_message, in);
    if (in->sock == NULL ||
        (b->zap != NULL &&
         rl_curve_server(rl_zsock_handle(in->sock), &b->keys.own,
                         INGRESS_DOMAIN) != 0) ||
        rl_zsock_bind(in->sock, b->cfg->ingress[b->index]) != 0) {
        rl_log_error("ingress: cannot bind %s: %s", b->cfg->ingress[b->index],
                     zmq_strerror(zmq_errno()));
        ingress_destroy(&in);
        return NULL;
    }
    return in;
}

void
ingress_destroy(ingress_t **pp)
{
    if (pp == NULL || *pp == NULL)
        return;
    ingress_t *in = *pp;
    pending_t *p;
    while ((p = LIST_FIRST(&in->pending)) != NULL) {
        LIST_REMOVE(p, link);
        submit_abandon(p->submit);
        free(p);
    }
    rl_zsock_destroy(&in->sock);
    free(in);
    *pp = NULL;
}
