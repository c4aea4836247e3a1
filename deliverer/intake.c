/*
 * intake - receives COMPLETION messages on the PULL socket.
 * SPDX-License-Identifier: MIT
 */
#include "intake.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <zmq.h>

#include "rl_alloc.h"
#include "rl_curve.h"
#include "rl_log.h"
#include "rl_proto.h"
#include "rl_zap.h"
#include "rl_zkeys.h"
#include "rl_zsock.h"

#define INTAKE_DOMAIN "completion" /* ZAP domain: completion.allow */

/* A COMPLETION waiting for a free slot. */
typedef struct s_queued {
    STAILQ_ENTRY(s_queued) link; /* in intake->queue, oldest first */
    rl_msg_t msg;                /* owned */
} s_queued_t;

struct intake {
    deliverer_t *ctx;      /* the process context */
    intake_route_cb route; /* where a COMPLETION goes */
    void *route_arg;
    rl_zsock_t *sock;              /* PULL, bound */
    rl_zap_t *zap;                 /* admits workers' keys; NULL with
                                      [zmq] curve off */
    rl_zkeys_t keys;               /* our CURVE pair (deliverer.key), wiped
                                      once the socket has it */
    STAILQ_HEAD(, s_queued) queue; /* waiting for a slot */
    size_t nqueued;                /* entries of queue */
};

/* Keeps *m (moved) until a slot frees up; beyond the cap it is left to
 * the outbox scan. */
static void
s_enqueue(intake_t *in, rl_msg_t *m)
{
    s_queued_t *q;

    if (in->nqueued >= INTAKE_QUEUE_CAP) {
        rl_log_debug("job %s: no free slot, left to the outbox scan",
                     m->job_id);
        return;
    }
    q = rl_calloc(1, sizeof *q);
    q->msg = *m;
    rl_msg_init(m, RL_MSG_COMPLETION);
    STAILQ_INSERT_TAIL(&in->queue, q, link);
    in->nqueued++;
}

static void
s_on_message(rl_zsock_t *s, const void *const *parts, const size_t *lens,
             size_t nparts, void *arg)
{
    intake_t *in = arg;
    deliverer_t *ctx = in->ctx;
    const char *why = NULL;
    rl_msg_t m;

    /* ZAP checked the worker's key at the handshake; the file may have
     * changed since. */
    if (in->zap != NULL &&
        !rl_zap_permits(in->zap, INTAKE_DOMAIN, rl_zsock_user_id(s)))
        return;
    rl_msg_init(&m, RL_MSG_COMPLETION);
    if (nparts != 1 || rl_proto_decode(parts[0], lens[0], &m, &why) != 0) {
        ctx->stats.bad_messages++;
        rl_log_warnx("completion socket: dropped a message: %s",
                     why != NULL ? why : "not one frame");
        return;
    }
    switch (m.type) {
    case RL_MSG_COMPLETION:
        if (!in->route(in->route_arg, &m, false))
            s_enqueue(in, &m);
        break;
    default:
        ctx->stats.bad_messages++;
        rl_log_warnx("completion socket: unexpected %s message",
                     rl_proto_type_name(m.type));
        break;
    }
    rl_msg_release(&m);
}

/* Our key pair and the ZAP handler, bound before the socket binds
 * (libzmq admits every CURVE client while no handler is bound). */
static int
s_curve(intake_t *in)
{
    deliverer_t *ctx = in->ctx;
    char err[RL_CURVE_ERR_LEN];
    size_t n = 0;
    const char *const *domains = rl_zkeys_domains("deliverer", &n);

    if (!ctx->cfg->zmq_curve) {
        rl_log_warnx("[zmq] curve is off: the completion socket admits "
                     "anyone who reaches it");
        return 0;
    }
    if (rl_zkeys_load(ctx->cfg, "deliverer", &in->keys, err, sizeof err) == 0)
        in->zap = rl_zap_new(ctx->base, ctx->zctx, ctx->cfg, domains, n, err,
                             sizeof err);
    if (in->zap == NULL) {
        rl_log_errorx("%s", err);
        return -1;
    }
    return 0;
}

intake_t *
intake_new(deliverer_t *ctx, const char *endpoint, intake_route_cb route,
           void *arg)
{
    intake_t *in = rl_calloc(1, sizeof *in);

    in->ctx = ctx;
    in->route = route;
    in->route_arg = arg;
    STAILQ_INIT(&in->queue);
    if (s_curve(in) != 0)
        goto fail;
    in->sock = rl_zsock_new(ctx->base, ctx->zctx, ZMQ_PULL, RL_PROTO_MAX_FRAME,
                            s_on_message, in);
    if (in->sock == NULL) {
        rl_log_errorx("completion socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (in->zap != NULL && rl_curve_server(rl_zsock_handle(in->sock),
                                           &in->keys.own, INTAKE_DOMAIN) != 0) {
        rl_log_errorx("completion socket: CURVE: %s", zmq_strerror(errno));
        goto fail;
    }
    rl_zkeys_wipe(&in->keys); /* the socket holds its copy */
    if (rl_zsock_bind(in->sock, endpoint) != 0) {
        rl_log_errorx("completion socket: bind %s: %s", endpoint,
                      zmq_strerror(errno));
        goto fail;
    }
    rl_log_info("completions on %s", endpoint);
    return in;
fail:
    intake_destroy(&in);
    return NULL;
}

void
intake_drain(intake_t *in)
{
    s_queued_t *q;

    if (in == NULL)
        return;
    while ((q = STAILQ_FIRST(&in->queue)) != NULL &&
           in->route(in->route_arg, &q->msg, true)) {
        STAILQ_REMOVE_HEAD(&in->queue, link);
        in->nqueued--;
        rl_msg_release(&q->msg);
        free(q);
    }
}

uint64_t
intake_denied(const intake_t *in)
{
    return in != NULL && in->zap != NULL ? rl_zap_denied(in->zap) : 0;
}

void
intake_destroy(intake_t **p)
{
    intake_t *in;
    s_queued_t *q;

    if (p == NULL || *p == NULL)
        return;
    in = *p;
    while ((q = STAILQ_FIRST(&in->queue)) != NULL) {
        STAILQ_REMOVE_HEAD(&in->queue, link);
        rl_msg_release(&q->msg);
        free(q);
    }
    rl_zsock_destroy(&in->sock);
    rl_zap_destroy(&in->zap);
    rl_zkeys_wipe(&in->keys);
    free(in);
    *p = NULL;
}
