/*
 * dispatch - credit-based dispatch of jobs to workers over ZeroMQ.
 * Each job goes to the least loaded worker that has credit: its jobs in
 * flight as its last heartbeat said, plus what was sent to it since.
 * (A worker's credit is capped by its claim window, [jobs]
 * claim_window, so it says how many claims it can take now, not how
 * busy it is.)
 * SPDX-License-Identifier: MIT
 */
#include "dispatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <zmq.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_cli.h"
#include "rl_crash.h"
#include "rl_curve.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_queue.h"
#include "rl_proto.h"
#include "rl_zap.h"
#include "rl_zsock.h"

#define DISPATCH_POLL_MS 100 /* queue poll while credit is left */
#define DISPATCH_MAX_WORKERS 1024

typedef struct peer {
    TAILQ_ENTRY(peer) link;
    char identity[RL_PROTO_MAX_ID + 1]; /* ZeroMQ routing id */
    size_t identity_len;
    char name[RL_PROTO_MAX_ID + 1]; /* the worker's own id */
    char key[RL_CURVE_KEY_LEN + 1]; /* its CURVE public key, "" with
                                       CURVE off */
    dispatch_load_t want;           /* its credit and load */
    int64_t last_seen;              /* monotonic ms */
} peer_t;

TAILQ_HEAD(peer_list, peer);

struct dispatch {
    broker_t *broker;
    rl_zsock_t *sock;
    struct peer_list peers;
    size_t npeers;
    struct event *poll_timer; /* queue poll while credit is left */
    struct event *beat_timer; /* heartbeats and liveness */
    bool taking;              /* a dispatch_take is in flight */
    int next;                 /* the partition the next take reads */
    int empty;                /* takes in a row that found nothing: a
                                 round of RL_PARTITIONS stops the pump
                                 until the next poll or wake */
    uint64_t dropped;         /* malformed or unexpected messages */
};

#define DISPATCH_DOMAIN "dispatch" /* ZAP domain: dispatch.allow */

static void s_pump(dispatch_t *d);
static void s_take(dispatch_t *d);

static peer_t *
s_find(dispatch_t *d, const void *id, size_t len)
{
    peer_t *p;
    TAILQ_FOREACH(p, &d->peers, link)
    {
        if (p->identity_len == len && memcmp(p->identity, id, len) == 0)
            return p;
    }
    return NULL;
}

static void
s_forget(dispatch_t *d, peer_t *p, const char *why)
{
    rl_log_info("dispatch: forgetting worker %s (%s), credit %lld", p->name,
                why, (long long)p->want.credit);
    TAILQ_REMOVE(&d->peers, p, link);
    d->npeers--;
    free(p);
}

static int
s_send(dispatch_t *d, peer_t *p, const rl_msg_t *m)
{
    char *buf = NULL;
    size_t len = 0;
    if (rl_proto_encode(m, &buf, &len) != 0)
        return -1;
    const void *parts[2] = {p->identity, buf};
    size_t lens[2] = {p->identity_len, len};
    int rc = rl_zsock_send(d->sock, parts, lens, 2);
    free(buf);
    return rc;
}

static int
s_heartbeat(dispatch_t *d, peer_t *p)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_HEARTBEAT);
    _Static_assert(RL_CLI_ID_LEN <= RL_PROTO_MAX_ID + 1,
                   "a broker id fits a frame's id fields");
    rl_fmt_fit(m.sender, sizeof m.sender, "%s", d->broker->id);
    rl_fmt_fit(m.incarnation, sizeof m.incarnation, "%s", d->broker->id);
    m.inflight = 0;
    int rc = s_send(d, p, &m);
    rl_msg_release(&m);
    return rc;
}

/* With CURVE on: is the worker's key still in dispatch.allow? (ZAP
 * checked it at the handshake; the file may have changed since.) */
static bool
s_listed(const dispatch_t *d, const char *key)
{
    const rl_zap_t *zap = d->broker->zap;
    return zap == NULL || rl_zap_permits(zap, DISPATCH_DOMAIN, key);
}

static peer_t *
s_register(dispatch_t *d, const void *id, size_t len, const char *name,
           const char *key)
{
    peer_t *p = s_find(d, id, len);
    if (p != NULL || len > RL_PROTO_MAX_ID || d->npeers >= DISPATCH_MAX_WORKERS)
        return p;
    p = rl_calloc(1, sizeof *p);
    memcpy(p->identity, id, len);
    p->identity_len = len;
    /* name is a decoded frame's sender (at most RL_PROTO_MAX_ID bytes),
     * key a ZAP-checked Z85 key (RL_CURVE_KEY_LEN). */
    rl_fmt_fit(p->name, sizeof p->name, "%s", name);
    rl_fmt_fit(p->key, sizeof p->key, "%s", key != NULL ? key : "");
    TAILQ_INSERT_TAIL(&d->peers, p, link);
    d->npeers++;
    rl_log_info("dispatch: worker %s joined", p->name);
    (void)s_heartbeat(d, p); /* tells it our incarnation at once */
    return p;
}

static void
s_on_message(rl_zsock_t *s, const void *const *parts, const size_t *lens,
             size_t nparts, void *arg)
{
    dispatch_t *d = arg;
    const char *key = rl_zsock_user_id(s);
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_HEARTBEAT);
    const char *why = NULL;
    if (!s_listed(d, key)) {
        peer_t *gone = s_find(d, parts[0], lens[0]);
        if (gone != NULL)
            s_forget(d, gone, "key no longer in " DISPATCH_DOMAIN ".allow");
        return;
    }
    if (nparts != 2 || rl_proto_decode(parts[1], lens[1], &m, &why) != 0) {
        d->dropped++;
        rl_log_debug("dispatch: dropped message: %s", why ? why : "parts");
        return;
    }
    peer_t *p = s_register(d, parts[0], lens[0], m.sender, key);
    if (p == NULL) {
        d->dropped++;
    } else {
        p->last_seen = rl_clock_mono_ms();
        switch (m.type) {
        case RL_MSG_HELLO:
            p->want.credit = m.credit;
            break;
        case RL_MSG_CREDIT:
            p->want.credit += m.credit;
            break;
        case RL_MSG_HEARTBEAT:
            p->want.load = m.inflight; /* 0..2^31, checked by rl_proto */
            break;
        default:
            d->dropped++;
            rl_log_debug("dispatch: unexpected %s from %s",
                         rl_proto_type_name(m.type), p->name);
        }
    }
    rl_msg_release(&m);
    s_pump(d);
}

bool
dispatch_prefer(const dispatch_load_t *a, const dispatch_load_t *best)
{
    if (a->credit <= 0)
        return false;
    return best == NULL || a->load < best->load ||
           (a->load == best->load && a->credit > best->credit);
}

int64_t
dispatch_take_count(int64_t credit)
{
    if (credit <= 0)
        return 0;
    return credit < DISPATCH_MAX_TAKE ? credit : DISPATCH_MAX_TAKE;
}

/* The worker dispatch_prefer() picks. One whose key left dispatch.allow
 * is forgotten on the way, so no DISPATCH goes to it. */
static peer_t *
s_best(dispatch_t *d)
{
    peer_t *best = NULL, *p, *next;
    for (p = TAILQ_FIRST(&d->peers); p != NULL; p = next) {
        next = TAILQ_NEXT(p, link);
        if (!s_listed(d, p->key)) {
            s_forget(d, p, "key no longer in " DISPATCH_DOMAIN ".allow");
            continue;
        }
        if (dispatch_prefer(&p->want, best != NULL ? &best->want : NULL))
            best = p;
    }
    return best;
}

static void
s_send_job(dispatch_t *d, const char *ref)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_DISPATCH);
    peer_t *p = s_best(d);
    if (p == NULL || rl_keys_parse_ref(ref, m.acct, sizeof m.acct, m.job_id,
                                       sizeof m.job_id) != 0) {
        /* No taker after all: the reaper requeues it after the claim
         * deadline. */
        rl_msg_release(&m);
        return;
    }
    if (rl_fault_drop("dispatch")) {
        p->want.credit--; /* lost in flight: the reaper requeues it */
    } else if (s_send(d, p, &m) == 0) {
        p->want.credit--;
        p->want.load++;
    } else if (errno == EHOSTUNREACH) {
        s_forget(d, p, "unreachable");
    }
    rl_msg_release(&m);
}

static void
s_on_taken(const rl_state_take_reply_t *rep, void *arg)
{
    dispatch_t *d = arg;
    d->taking = false;
    d->next = (d->next + 1) % RL_PARTITIONS; /* every partition in turn */
    if (rep->tag != RL_STATE_OK) {
        d->empty = RL_PARTITIONS; /* Redis away: wait for the next poll */
        return;
    }
    const redisReply *reply = rep->refs;
    for (size_t i = 0; i < reply->elements; i++) {
        const char *ref = rl_redis_reply_str(reply->element[i]);
        if (ref != NULL)
            s_send_job(d, ref);
    }
    d->empty = reply->elements > 0 ? 0 : d->empty + 1;
    if (d->empty < RL_PARTITIONS)
        s_take(d); /* this queue or the next ones may hold more */
}

/* Takes from the next partition's queue as much as the workers' credit
 * allows. */
static void
s_take(dispatch_t *d)
{
    int64_t take = dispatch_take_count(dispatch_credit(d));
    if (d->taking || take == 0)
        return;
    if (rl_state_queue_take(d->broker->redis, d->next, take,
                            d->broker->cfg->claim_timeout_ms, s_on_taken,
                            d) == 0)
        d->taking = true;
}

/* Starts a round over every partition's queue. */
static void
s_pump(dispatch_t *d)
{
    d->empty = 0;
    s_take(d);
}

static void
s_on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_pump(arg);
}

static void
s_on_beat(evutil_socket_t fd, short what, void *arg)
{
    dispatch_t *d = arg;
    (void)fd;
    (void)what;
    const rl_config_t *cfg = d->broker->cfg;
    int64_t dead = rl_clock_mono_ms() -
                   cfg->heartbeat_ms * (int64_t)cfg->heartbeat_liveness;
    peer_t *p = TAILQ_FIRST(&d->peers);
    while (p != NULL) {
        peer_t *next = TAILQ_NEXT(p, link);
        if (p->last_seen < dead)
            s_forget(d, p, "heartbeats missed");
        else if (s_heartbeat(d, p) != 0 && errno == EHOSTUNREACH)
            s_forget(d, p, "unreachable");
        p = next;
    }
}

dispatch_t *
dispatch_new(broker_t *b)
{
    const rl_config_t *cfg = b->cfg;
    if ((size_t)b->index >= cfg->ndispatch)
        return NULL;
    dispatch_t *d = rl_calloc(1, sizeof *d);
    d->broker = b;
    TAILQ_INIT(&d->peers);
    d->sock = rl_zsock_new(b->base, b->zctx, ZMQ_ROUTER, RL_PROTO_MAX_FRAME,
                           s_on_message, d);
    if (d->sock == NULL ||
        rl_zsock_set_int(d->sock, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
        (b->zap != NULL &&
         rl_curve_server(rl_zsock_handle(d->sock), &b->keys.own,
                         DISPATCH_DOMAIN) != 0) ||
        rl_zsock_bind(d->sock, cfg->dispatch[b->index]) != 0) {
        rl_log_error("dispatch: cannot bind %s: %s", cfg->dispatch[b->index],
                     zmq_strerror(zmq_errno()));
        dispatch_destroy(&d);
        return NULL;
    }
    struct timeval poll = {0, DISPATCH_POLL_MS * 1000};
    struct timeval beat = {cfg->heartbeat_ms / 1000,
                           (cfg->heartbeat_ms % 1000) * 1000};
    d->poll_timer = event_new(b->base, -1, EV_PERSIST, s_on_poll, d);
    d->beat_timer = event_new(b->base, -1, EV_PERSIST, s_on_beat, d);
    event_add(d->poll_timer, &poll);
    event_add(d->beat_timer, &beat);
    return d;
}

void
dispatch_destroy(dispatch_t **pp)
{
    if (pp == NULL || *pp == NULL)
        return;
    dispatch_t *d = *pp;
    if (d->beat_timer)
        event_free(d->beat_timer);
    if (d->poll_timer)
        event_free(d->poll_timer);
    rl_zsock_destroy(&d->sock);
    peer_t *p;
    while ((p = TAILQ_FIRST(&d->peers)) != NULL) {
        TAILQ_REMOVE(&d->peers, p, link);
        free(p);
    }
    free(d);
    *pp = NULL;
}

void
dispatch_wake(dispatch_t *d)
{
    s_pump(d);
}

size_t
dispatch_workers(const dispatch_t *d)
{
    return d->npeers;
}

int64_t
dispatch_credit(const dispatch_t *d)
{
    int64_t sum = 0;
    const peer_t *p;
    TAILQ_FOREACH(p, &d->peers, link)
    sum += p->want.credit;
    return sum;
}
