/*
 * http_hold - requests held unanswered until their client disconnects.
 * SPDX-License-Identifier: MIT
 */
#include "http_hold.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>

#include "rl_alloc.h"
#include "rl_log.h"

struct hold {
    TAILQ_ENTRY(hold) link;          /* hs->list */
    struct evhttp_request *req;      /* freed by libevent or s_closed */
    struct evhttp_connection *evcon; /* the request's connection */
    struct event *watch;             /* EV_READ on the connection's socket */
    http_holds_t *hs;                /* back pointer */
};

struct http_holds {
    struct event_base *base;
    TAILQ_HEAD(, hold) list; /* held requests */
    size_t count;
};

/* The held request's connection is going away. If libevent saw the
 * client leave, it has detached the request (evcon == NULL) and left it
 * to us to free; otherwise freeing the connection frees it. */
static void
s_closed(struct evhttp_connection *evcon, void *arg)
{
    struct hold *h = arg;
    (void)evcon;
    if (evhttp_request_get_connection(h->req) == NULL)
        evhttp_request_free(h->req);
    if (h->watch != NULL)
        event_free(h->watch);
    TAILQ_REMOVE(&h->hs->list, h, link);
    h->hs->count--;
    free(h);
}

/* The held connection's socket is readable: on EOF or an error the
 * client is gone, and freeing the connection frees the request and runs
 * s_closed. Pipelined bytes just end the watch. */
static void
s_watch(evutil_socket_t fd, short what, void *arg)
{
    struct hold *h = arg;
    char byte;
    (void)what;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        event_add(h->watch, NULL);
    else if (n <= 0)
        evhttp_connection_free(h->evcon);
}

http_holds_t *
http_holds_new(struct event_base *base)
{
    http_holds_t *hs = rl_calloc(1, sizeof *hs);
    hs->base = base;
    TAILQ_INIT(&hs->list);
    return hs;
}

void
http_hold(http_holds_t *hs, struct evhttp_request *req)
{
    struct hold *h = rl_calloc(1, sizeof *h);
    h->req = req;
    h->evcon = evhttp_request_get_connection(req);
    h->hs = hs;
    evutil_socket_t fd =
        bufferevent_getfd(evhttp_connection_get_bufferevent(h->evcon));
    h->watch = event_new(hs->base, fd, EV_READ, s_watch, h);
    if (h->watch == NULL || event_add(h->watch, NULL) != 0)
        rl_log_warnx("cannot watch a held connection");
    TAILQ_INSERT_TAIL(&hs->list, h, link);
    hs->count++;
    evhttp_connection_set_closecb(h->evcon, s_closed, h);
}

size_t
http_holds_count(const http_holds_t *hs)
{
    return hs->count;
}

void
http_holds_destroy(http_holds_t **p)
{
    http_holds_t *hs = *p;
    if (hs == NULL)
        return;
    struct hold *h;
    while ((h = TAILQ_FIRST(&hs->list)) != NULL) {
        TAILQ_REMOVE(&hs->list, h, link);
        if (h->watch != NULL)
            event_free(h->watch);
        free(h);
    }
    free(hs);
    *p = NULL;
}
