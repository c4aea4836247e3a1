/*
 * http_hold - requests held unanswered until their client disconnects,
 * for the simulator's and the receiver's "hang" behaviours (a provider or
 * a webhook endpoint that never answers).
 *
 * libevent 2.1 stops reading a connection while its request is being
 * handled, so it would not notice the client leaving; each held request
 * peeks at its socket. On EOF or an error the connection is freed, which
 * frees the request.
 * SPDX-License-Identifier: MIT
 */
#ifndef HTTP_HOLD_H
#define HTTP_HOLD_H

#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

typedef struct http_holds http_holds_t;

/* An empty set of held requests on base. */
http_holds_t *http_holds_new(struct event_base *base);

/* Never answers req; it is released when its client disconnects. */
void http_hold(http_holds_t *hs, struct evhttp_request *req);

/* Requests held now. */
size_t http_holds_count(const http_holds_t *hs);

/* Forgets every held request. Call after evhttp_free() (which closes
 * their connections and frees the requests). NULL-safe; sets *p NULL. */
void http_holds_destroy(http_holds_t **p);

#endif
