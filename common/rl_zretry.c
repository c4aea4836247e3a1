/*
 * rl_zretry - reconnects after a refused ZeroMQ handshake.
 * SPDX-License-Identifier: MIT
 */
#include "rl_zretry.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_zsock.h"

#define S_EVENTS                                                               \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |         \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                                     \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
#define S_EVENT_LEN 6 /* uint16 event, uint32 value */
#define S_ENDPOINT_MAX 256

typedef struct {
    struct rl_zretry *owner;
    char endpoint[S_ENDPOINT_MAX]; /* "" = free slot */
    struct event *timer;           /* the pending reconnect */
    long delay_ms;                 /* the next delay */
} s_slot_t;

struct rl_zretry {
    void *sock;       /* watched, borrowed */
    rl_zsock_t *mon;  /* PAIR on its monitor */
    const char *what; /* link name, a literal */
    s_slot_t slots[RL_ZRETRY_MAX_ENDPOINTS];
    int64_t logged_ms; /* last refusal logged */
    uint64_t unlogged; /* refusals since */
};

static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s_slot_t *sl = arg;
    (void)fd;
    (void)what;
    (void)zmq_disconnect(sl->owner->sock, sl->endpoint); /* may be gone */
    if (zmq_connect(sl->owner->sock, sl->endpoint) != 0)
        rl_log_errorx("%s: reconnect %s: %s", sl->owner->what, sl->endpoint,
                      zmq_strerror(zmq_errno()));
}

static s_slot_t *
s_slot(rl_zretry_t *r, const char *endpoint, bool make)
{
    s_slot_t *free_slot = NULL;
    for (size_t i = 0; i < RL_ZRETRY_MAX_ENDPOINTS; i++) {
        s_slot_t *sl = &r->slots[i];
        if (strcmp(sl->endpoint, endpoint) == 0)
            return sl;
        if (free_slot == NULL && sl->endpoint[0] == '\0')
            free_slot = sl;
    }
    if (!make || free_slot == NULL ||
        rl_fmt(free_slot->endpoint, sizeof free_slot->endpoint, "%s",
               endpoint) != 0)
        return NULL;
    free_slot->delay_ms = RL_ZRETRY_MIN_MS;
    return free_slot;
}

static void
s_refused(rl_zretry_t *r, uint16_t event, uint32_t value, const char *ep)
{
    s_slot_t *sl = s_slot(r, ep, true);
    int64_t now = rl_clock_mono_ms();
    if (now - r->logged_ms >= RL_ZRETRY_LOG_MS) {
        rl_log_errorx("%s: %s refused our CURVE handshake (%s %u; %llu more "
                      "since the last line): is our public key in its "
                      "allow file, and its public key the one we have?",
                      r->what, ep,
                      event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? "ZAP status"
                                                               : "protocol",
                      (unsigned)value, (unsigned long long)r->unlogged);
        r->logged_ms = now;
        r->unlogged = 0;
    } else {
        r->unlogged++;
    }
    if (sl == NULL || evtimer_pending(sl->timer, NULL))
        return;
    struct timeval tv = {sl->delay_ms / 1000, (sl->delay_ms % 1000) * 1000};
    evtimer_add(sl->timer, &tv);
    sl->delay_ms = sl->delay_ms * 2 > RL_ZRETRY_MAX_MS ? RL_ZRETRY_MAX_MS
                                                       : sl->delay_ms * 2;
}

static void
s_on_event(rl_zsock_t *s, const void *const *parts, const size_t *lens,
           size_t nparts, void *arg)
{
    rl_zretry_t *r = arg;
    char ep[S_ENDPOINT_MAX];
    uint16_t event;
    uint32_t value;
    (void)s;
    if (nparts != 2 || lens[0] != S_EVENT_LEN || lens[1] >= sizeof ep)
        return;
    memcpy(&event, parts[0], sizeof event);
    memcpy(&value, (const char *)parts[0] + sizeof event, sizeof value);
    memcpy(ep, parts[1], lens[1]);
    ep[lens[1]] = '\0';
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        s_slot_t *sl = s_slot(r, ep, false);
        if (sl != NULL)
            sl->delay_ms = RL_ZRETRY_MIN_MS;
        return;
    }
    s_refused(r, event, value, ep);
}

rl_zretry_t *
rl_zretry_new(struct event_base *base, void *zctx, void *sock, const char *what)
{
    char ep[64];
    rl_zretry_t *r = rl_calloc(1, sizeof *r);
    r->sock = sock;
    r->what = what;
    r->logged_ms = rl_clock_mono_ms() - RL_ZRETRY_LOG_MS;
    for (size_t i = 0; i < RL_ZRETRY_MAX_ENDPOINTS; i++) {
        r->slots[i].owner = r;
        r->slots[i].timer = evtimer_new(base, s_on_timer, &r->slots[i]);
    }
    r->mon = rl_zsock_new(base, zctx, ZMQ_PAIR, 0, s_on_event, r);
    if (rl_fmt(ep, sizeof ep, "inproc://rl-zretry-%p", (void *)r) != 0 ||
        zmq_socket_monitor(sock, ep, S_EVENTS) != 0 || r->mon == NULL ||
        rl_zsock_connect(r->mon, ep) != 0)
        rl_zretry_destroy(&r);
    return r;
}

void
rl_zretry_destroy(rl_zretry_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_zretry_t *r = *p;
    (void)zmq_socket_monitor(r->sock, NULL, 0);
    rl_zsock_destroy(&r->mon);
    for (size_t i = 0; i < RL_ZRETRY_MAX_ENDPOINTS; i++)
        if (r->slots[i].timer != NULL)
            event_free(r->slots[i].timer);
    free(r);
    *p = NULL;
}
