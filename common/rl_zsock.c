/*
 * rl_zsock - ZeroMQ sockets on libevent through ZMQ_FD.
 * SPDX-License-Identifier: MIT
 */
#include "rl_zsock.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>
#include <zmq.h>

#include "rl_alloc.h"

/* Messages handled per wake-up before yielding to other events. */
#define RL_ZSOCK_BATCH 1024

struct rl_zsock {
    void *sock;       /* libzmq socket */
    struct event *ev; /* read event on ZMQ_FD */
    rl_zsock_cb cb;
    void *arg;
    uint64_t dropped;    /* malformed messages */
    const char *user_id; /* of the message in the callback, or NULL */
    bool in_drain;       /* guards re-entrant drains from callbacks */
};

static bool
s_readable(rl_zsock_t *s)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(s->sock, ZMQ_EVENTS, &events, &len) != 0)
        return false;
    return (events & ZMQ_POLLIN) != 0;
}

/* Receives one whole message. Returns the number of parts, 0 when
 * nothing is waiting, or -1 for a message dropped as malformed. */
static int
s_recv(rl_zsock_t *s, zmq_msg_t *msgs)
{
    int n = 0;
    bool more = true;
    bool overflow = false;
    while (more) {
        zmq_msg_t *m = &msgs[n < RL_ZSOCK_MAX_PARTS ? n : RL_ZSOCK_MAX_PARTS];
        zmq_msg_init(m);
        if (zmq_msg_recv(m, s->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            return n == 0 ? 0 : -1;
        }
        more = zmq_msg_more(m);
        if (n < RL_ZSOCK_MAX_PARTS) {
            n++;
        } else {
            overflow = true;
            zmq_msg_close(m);
        }
    }
    if (overflow) {
        for (int i = 0; i < n; i++)
            zmq_msg_close(&msgs[i]);
        return -1;
    }
    return n;
}

static void
s_drain(rl_zsock_t *s)
{
    if (s->in_drain)
        return;
    s->in_drain = true;
    for (int handled = 0; handled < RL_ZSOCK_BATCH && s_readable(s);) {
        zmq_msg_t msgs[RL_ZSOCK_MAX_PARTS + 1];
        int n = s_recv(s, msgs);
        if (n == 0)
            break;
        handled++;
        if (n < 0) {
            s->dropped++;
            continue;
        }
        const void *parts[RL_ZSOCK_MAX_PARTS];
        size_t lens[RL_ZSOCK_MAX_PARTS];
        for (int i = 0; i < n; i++) {
            parts[i] = zmq_msg_data(&msgs[i]);
            lens[i] = zmq_msg_size(&msgs[i]);
        }
        /* A ROUTER makes the identity frame itself: metadata comes with
         * the frames the peer sent. */
        s->user_id = zmq_msg_gets(&msgs[n - 1], "User-Id");
        if (s->cb != NULL)
            s->cb(s, parts, lens, (size_t)n, s->arg);
        s->user_id = NULL;
        for (int i = 0; i < n; i++)
            zmq_msg_close(&msgs[i]);
    }
    s->in_drain = false;
    /* More may be waiting than one batch: come back on the next turn. */
    if (s_readable(s))
        event_active(s->ev, EV_READ, 0);
}

static void
s_on_fd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_drain(arg);
}

rl_zsock_t *
rl_zsock_new(struct event_base *base, void *zctx, int type,
             int64_t max_msg_size, rl_zsock_cb cb, void *arg)
{
    assert(base != NULL && zctx != NULL);
    void *sock = zmq_socket(zctx, type);
    if (sock == NULL)
        return NULL;
    int zero = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if (max_msg_size > 0)
        zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_msg_size,
                       sizeof max_msg_size);
    int fd = -1;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0) {
        zmq_close(sock);
        return NULL;
    }
    rl_zsock_t *s = rl_calloc(1, sizeof *s);
    s->sock = sock;
    s->cb = cb;
    s->arg = arg;
    s->ev = event_new(base, fd, EV_READ | EV_PERSIST, s_on_fd, s);
    event_add(s->ev, NULL);
    return s;
}

void
rl_zsock_destroy(rl_zsock_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_zsock_t *s = *p;
    event_free(s->ev);
    zmq_close(s->sock);
    free(s);
    *p = NULL;
}

/* An inproc pipe attaches at once, with no command that would signal
 * ZMQ_FD, and libzmq signals a later message only to a reader that
 * found its pipe empty: look now, so that reader exists (and take what
 * is already there on the next turn). */
static void
s_arm(rl_zsock_t *s)
{
    if (s_readable(s))
        event_active(s->ev, EV_READ, 0);
}

int
rl_zsock_bind(rl_zsock_t *s, const char *endpoint)
{
    if (zmq_bind(s->sock, endpoint) != 0)
        return -1;
    s_arm(s);
    return 0;
}

int
rl_zsock_connect(rl_zsock_t *s, const char *endpoint)
{
    if (zmq_connect(s->sock, endpoint) != 0)
        return -1;
    s_arm(s);
    return 0;
}

int
rl_zsock_set_int(rl_zsock_t *s, int option, int value)
{
    return zmq_setsockopt(s->sock, option, &value, sizeof value) == 0 ? 0 : -1;
}

int
rl_zsock_set_bytes(rl_zsock_t *s, int option, const void *value, size_t len)
{
    return zmq_setsockopt(s->sock, option, value, len) == 0 ? 0 : -1;
}

int
rl_zsock_send(rl_zsock_t *s, const void *const *parts, const size_t *lens,
              size_t nparts)
{
    assert(nparts > 0 && nparts <= RL_ZSOCK_MAX_PARTS);
    int rc = 0;
    for (size_t i = 0; i < nparts && rc == 0; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < nparts ? ZMQ_SNDMORE : 0);
        if (zmq_send(s->sock, parts[i], lens[i], flags) < 0)
            rc = -1;
    }
    /* A send may have consumed the read edge: look again this turn. */
    if (s_readable(s))
        event_active(s->ev, EV_READ, 0);
    return rc;
}

void *
rl_zsock_handle(rl_zsock_t *s)
{
    return s->sock;
}

const char *
rl_zsock_user_id(const rl_zsock_t *s)
{
    return s->user_id;
}

uint64_t
rl_zsock_dropped(const rl_zsock_t *s)
{
    return s->dropped;
}
