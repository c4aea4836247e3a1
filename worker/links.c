/*
 * links - DEALER sockets to the brokers, credit and heartbeats. A
 * DISPATCH goes up through w->on.dispatched: links know nothing of jobs.
 * SPDX-License-Identifier: MIT
 */
#include "links.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "lease.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_curve.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "rl_proto.h"
#include "rl_zretry.h"
#include "rl_zsock.h"

typedef struct {
    struct links *owner;
    rl_zsock_t *sock;
    rl_zretry_t *retry;                    /* after a refused handshake;
                                              NULL with curve off */
    const char *endpoint;                  /* borrowed from the config */
    char incarnation[RL_PROTO_MAX_ID + 1]; /* "" until the first beat */
    int64_t last_seen;                     /* monotonic ms */
    int64_t granted;                       /* credit the broker holds */
    bool alive;
} link_t;

struct links {
    worker_t *w;
    link_t link[RL_CONFIG_MAX_ENDPOINTS];
    size_t n;
    struct event *beat;  /* heartbeat timer */
    struct event *grant; /* deferred grant, once per loop turn */
    size_t next;         /* round-robin start for grants */
    unsigned beats;      /* heartbeats sent, for credit resyncs */
};

/* Every this many heartbeats the worker restates each broker's credit
 * (HELLO with what it believes it granted), so credit lost with a
 * dropped DISPATCH does not shrink the worker's capacity for good. */
#define LINKS_RESYNC_BEATS 10

/* The worker id fits a message's sender and incarnation fields. */
_Static_assert(sizeof(((worker_t *)0)->id) <= RL_PROTO_MAX_ID + 1,
               "a worker id must fit rl_msg_t's id fields");

static int
s_send(link_t *k, rl_msg_t *m)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;
    memcpy(m->sender, k->owner->w->id, sizeof k->owner->w->id);
    if (rl_proto_encode(m, &buf, &len) == 0) {
        const void *parts[1] = {buf};
        rc = rl_zsock_send(k->sock, parts, &len, 1);
    }
    free(buf);
    return rc;
}

static void
s_send_credit(link_t *k, rl_msg_type_t type, int64_t credit)
{
    rl_msg_t m;
    rl_msg_init(&m, type);
    m.credit = credit;
    if (s_send(k, &m) == 0)
        k->granted = type == RL_MSG_HELLO ? credit : k->granted + credit;
    rl_msg_release(&m);
}

static void
s_on_grant(evutil_socket_t fd, short what, void *arg)
{
    struct links *l = arg;
    worker_t *w = l->w;
    (void)fd;
    (void)what;
    if (w->stopping || !lease_ok(w->lease))
        return;
    /* Credit for free capacity, but never for more unanswered claims
     * than the window: a job beyond it waits in the queue. */
    int64_t avail = w->cfg->worker_max_inflight - (int64_t)w->inflight;
    int64_t window = w->cfg->claim_window - (int64_t)w->claiming;
    if (window < avail)
        avail = window;
    size_t alive = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->link[i].alive) {
            avail -= l->link[i].granted;
            alive++;
        }
    }
    for (size_t i = 0; i < l->n && avail > 0 && alive > 0; i++) {
        link_t *k = &l->link[(l->next + i) % l->n];
        if (!k->alive)
            continue;
        int64_t share = (avail + (int64_t)alive - 1) / (int64_t)alive;
        s_send_credit(k, RL_MSG_CREDIT, share);
        avail -= share;
        alive--;
    }
    l->next = (l->next + 1) % (l->n ? l->n : 1);
}

void
links_grant(links_t *l)
{
    if (l != NULL)
        event_active(l->grant, EV_TIMEOUT, 0);
}

void
links_revoke(links_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->link[i].alive)
            s_send_credit(&l->link[i], RL_MSG_HELLO, 0);
}

static void
s_on_beat_msg(link_t *k, const rl_msg_t *m)
{
    k->last_seen = rl_clock_mono_ms();
    if (k->alive && strcmp(k->incarnation, m->incarnation) == 0)
        return;
    /* A broker we did not know, or one that restarted: whatever credit
     * the old incarnation held is gone. Start from zero and grant. */
    rl_log_info("broker %s at %s: new incarnation", m->incarnation,
                k->endpoint);
    memcpy(k->incarnation, m->incarnation, sizeof k->incarnation);
    k->alive = true;
    k->granted = 0;
    s_send_credit(k, RL_MSG_HELLO, 0);
    links_grant(k->owner);
}

static void
s_on_message(rl_zsock_t *s, const void *const *parts, const size_t *lens,
             size_t nparts, void *arg)
{
    link_t *k = arg;
    worker_t *w = k->owner->w;
    (void)s;
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_HEARTBEAT);
    const char *why = NULL;
    if (nparts != 1 || rl_proto_decode(parts[0], lens[0], &m, &why) != 0) {
        rl_log_debug("links: dropped message: %s", why ? why : "parts");
        return;
    }
    if (m.type == RL_MSG_HEARTBEAT) {
        s_on_beat_msg(k, &m);
    } else if (m.type == RL_MSG_DISPATCH) {
        k->last_seen = rl_clock_mono_ms();
        if (k->granted > 0)
            k->granted--;
        /* Not ours to take now: the reaper puts it back after the claim
         * deadline. */
        if (!w->stopping && lease_ok(w->lease) && w->on.dispatched != NULL)
            w->on.dispatched(w, m.acct, m.job_id);
    } else {
        rl_log_debug("links: unexpected %s", rl_proto_type_name(m.type));
    }
    rl_msg_release(&m);
}

static void
s_on_beat(evutil_socket_t fd, short what, void *arg)
{
    struct links *l = arg;
    const rl_config_t *cfg = l->w->cfg;
    (void)fd;
    (void)what;
    int64_t dead = rl_clock_mono_ms() -
                   cfg->heartbeat_ms * (int64_t)cfg->heartbeat_liveness;
    l->beats++;
    for (size_t i = 0; i < l->n; i++) {
        link_t *k = &l->link[i];
        if (k->alive && k->last_seen < dead) {
            rl_log_warnx("broker at %s stopped answering; taking back %lld "
                         "credit",
                         k->endpoint, (long long)k->granted);
            k->alive = false;
            k->granted = 0;
            k->incarnation[0] = '\0';
            links_grant(l);
        }
        if (k->alive && l->beats % LINKS_RESYNC_BEATS == 0)
            s_send_credit(k, RL_MSG_HELLO, k->granted);
        rl_msg_t m;
        rl_msg_init(&m, RL_MSG_HEARTBEAT);
        memcpy(m.incarnation, l->w->id, sizeof l->w->id);
        m.inflight = (int64_t)l->w->inflight;
        (void)s_send(k, &m);
        rl_msg_release(&m);
    }
}

links_t *
links_new(worker_t *w)
{
    const rl_config_t *cfg = w->cfg;
    struct links *l = rl_calloc(1, sizeof *l);
    l->w = w;
    for (size_t i = 0; i < cfg->ndispatch; i++) {
        link_t *k = &l->link[l->n];
        k->owner = l;
        k->endpoint = cfg->dispatch[i];
        k->sock = rl_zsock_new(w->base, w->zctx, ZMQ_DEALER, RL_PROTO_MAX_FRAME,
                               s_on_message, k);
        if (k->sock != NULL && cfg->zmq_curve &&
            rl_curve_client(rl_zsock_handle(k->sock), &w->keys.own,
                            w->keys.broker) == 0)
            k->retry = rl_zretry_new(w->base, w->zctx, rl_zsock_handle(k->sock),
                                     "dispatch");
        if (k->sock == NULL || (cfg->zmq_curve && k->retry == NULL) ||
            rl_zsock_connect(k->sock, k->endpoint) != 0) {
            rl_log_error("links: cannot connect %s", k->endpoint);
            rl_zretry_destroy(&k->retry);
            rl_zsock_destroy(&k->sock);
            links_destroy(&l);
            return NULL;
        }
        l->n++;
    }
    struct timeval tv = {cfg->heartbeat_ms / 1000,
                         (cfg->heartbeat_ms % 1000) * 1000};
    l->beat = event_new(w->base, -1, EV_PERSIST, s_on_beat, l);
    l->grant = event_new(w->base, -1, 0, s_on_grant, l);
    event_add(l->beat, &tv);
    rl_loop_run_now(l->beat); /* say hello at once */
    return l;
}

void
links_destroy(links_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    struct links *l = *p;
    if (l->beat)
        event_free(l->beat);
    if (l->grant)
        event_free(l->grant);
    for (size_t i = 0; i < l->n; i++) {
        rl_zretry_destroy(&l->link[i].retry);
        rl_zsock_destroy(&l->link[i].sock);
    }
    free(l);
    *p = NULL;
}
