/*
 * rl_http - asynchronous HTTP client: one curl multi handle driven by a
 * libevent loop through CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION
 * (curl_multi_socket_action). Connections are reused across requests,
 * and so are finished easy handles (reset; at most 128 kept idle).
 *
 * Admission: requests are grouped by origin (scheme://host:port) into
 * lanes. At most rl_http_origin_cap() requests of one origin are handed
 * to curl at once; the others wait in their lane, oldest first, holding
 * only their copied method, URL, headers and body (no easy handle: that
 * is taken when the request starts). A lane queue is bounded by what the
 * callers have in the air: it has no cap of its own.
 *
 * Timeouts: a request may wait up to its timeout for its turn; once it
 * starts, it has its whole timeout again for the transfer. So a request
 * lives at most twice its timeout, and a transfer timeout is always the
 * server's slowness, never time lost waiting behind our own requests.
 *
 * Limits: response bodies are captured up to the per-request cap and the
 * rest is discarded (the response is flagged `truncated`, not failed).
 * Redirects are never followed. An https server that answers with
 * HTTP/1.1, or announces fewer HTTP/2 streams than RL_HTTP_MAX_STREAMS,
 * leaves the excess of its lane's cap waiting inside curl instead (on a
 * list curl scans at every removal).
 *
 * Failure modes: a request that cannot be started returns NULL and never
 * calls back. Every other request calls back exactly once, unless it is
 * cancelled first with rl_http_cancel() or the client is destroyed. A
 * request that waited its whole timeout, that curl refused when its
 * turn came, or that the send gate held back, calls back with not_sent (and
 * status 0): the server saw nothing of it, so callers must not count it as the
 * server's failure. SPDX-License-Identifier: MIT
 */
#ifndef RL_HTTP_H
#define RL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct event_base;

/* Distinct addresses a request keeps of those its guard refused. */
#define RL_HTTP_REFUSED_MAX 4

typedef struct rl_http rl_http_t;
typedef struct rl_http_req rl_http_req_t;

/* The outcome of one request; borrowed, valid only during the callback. */
typedef struct {
    long status;               /* HTTP status, 0 when no response arrived */
    int curl_code;             /* CURLcode, 0 on a completed exchange */
    bool timed_out;            /* the request's timeout fired: in the
                                  transfer, or (with not_sent) in the wait */
    bool not_sent;             /* nothing left this process: the request
                                  waited its whole timeout for a turn in its
                                  origin's lane, or curl could not start it;
                                  the server saw nothing (status is 0) */
    const char *error;         /* curl's message when curl_code != 0, else "" */
    const char *body;          /* NUL-terminated captured body (never NULL) */
    size_t body_len;           /* bytes captured */
    bool truncated;            /* body was longer than the cap */
    const char *retry_after;   /* the Retry-After header value, or NULL */
    const char *poll_after_ms; /* openai-poll-after-ms header, or NULL */
    double total_ms;           /* time from rl_http_request to completion,
                                  any wait for a turn included */
    const char *primary_ip;    /* the address actually connected to, or "" */
    bool refused;              /* no response, and the address guard refused
                                  an address curl was about to connect to */
    const struct sockaddr_storage *refused_addr; /* the distinct addresses
                              the guard refused for this request, in
                              order (nrefused of them; NULL when none) */
    size_t nrefused;                             /* entries of refused_addr */
    bool refused_more; /* more were refused than RL_HTTP_REFUSED_MAX */
} rl_http_resp_t;

typedef void (*rl_http_cb)(const rl_http_resp_t *resp, void *arg);

/* Decides per new socket whether the address may be connected to (SSRF
 * guard). Return true to allow. */
typedef bool (*rl_http_addr_guard)(const struct sockaddr *addr, void *arg);

/* Decides, right before a request goes out on its connection (new or
 * reused), whether it may still be sent. Return false to fail it
 * not_sent: nothing of it reaches the server. */
typedef bool (*rl_http_send_gate)(void *arg);

/* Connection limits. A request beyond its origin's cap (see
 * rl_http_origin_cap) waits in that origin's lane. */
typedef struct {
    long max_host_connections;  /* connections per origin; 0 = curl's
                                   default (unlimited) */
    long max_total_connections; /* 0 = curl's default */
    long max_idle_connections;  /* connections kept open for reuse
                                   (CURLMOPT_MAXCONNECTS); 0 = curl's
                                   default, 4 x the transfers in
                                   progress, which closes connections
                                   whenever the traffic dips and opens
                                   them again on the next burst */
} rl_http_opts_t;

/* HTTP/2 streams per connection (CURLMOPT_MAX_CONCURRENT_STREAMS): curl's
 * own default, set explicitly so that rl_http_origin_cap can count on it.
 * A server announcing fewer makes curl hold the difference itself. */
#define RL_HTTP_MAX_STREAMS 100

/* The most requests to one origin the client hands curl at once: for
 * http, max_host_connections (HTTP/1.1, one request per connection);
 * for https, max_host_connections x RL_HTTP_MAX_STREAMS, since curl
 * negotiates HTTP/2 over TLS and multiplexes that many streams on each
 * connection. 0 = no cap. Pure. */
size_t rl_http_origin_cap(const rl_http_opts_t *opts, bool https);

/* The lane key of url, normalised so that every spelling of one origin
 * shares a lane: "scheme://host:port", scheme and host lowercased,
 * userinfo dropped, the default port made explicit
 * ("HTTPS://u:p@API.x/v1" -> "https://api.x:443"). Writes key (len
 * bytes) and whether the scheme is https. Returns 0, or -1 when curl
 * cannot parse url (key is then its "scheme://authority" as written,
 * cut to len). */
int rl_http_origin(const char *url, char *key, size_t len, bool *https);

/* Creates a client on `base`. Returns NULL when curl cannot be set up. */
rl_http_t *rl_http_new(struct event_base *base, const rl_http_opts_t *opts);

/* Cancels every pending request (no callbacks) and frees the client.
 * NULL-safe, sets *p to NULL. */
void rl_http_destroy(rl_http_t **p);

/* Installs an address guard consulted before every connect. */
void rl_http_set_guard(rl_http_t *h, rl_http_addr_guard guard, void *arg);

/* Installs a send gate consulted before every request is sent (curl's
 * pre-request callback, after any wait in a lane and in curl): the
 * worker's lease check, so a worker that slept past its lease sends
 * nothing it had queued before. */
void rl_http_set_send_gate(rl_http_t *h, rl_http_send_gate gate, void *arg);

/* One request. `headers` is a NULL-terminated array of "Name: value"
 * strings (copied), body may be NULL (length 0). The method, URL and
 * body are copied. timeout_ms (> 0) bounds the wait for a turn and,
 * again, the transfer; max_body caps the captured response body.
 * Returns a handle (owned by the client, valid until the callback runs or
 * rl_http_cancel()), or NULL when the request could not be started (its
 * origin had room and curl refused it at once). A request that waits
 * is started, or completed not_sent, later. */
rl_http_req_t *rl_http_request(rl_http_t *h, const char *method,
                               const char *url, const char *const *headers,
                               const char *body, size_t body_len,
                               long timeout_ms, size_t max_body, rl_http_cb cb,
                               void *arg);

/* Stops a request; its callback is not called. */
void rl_http_cancel(rl_http_t *h, rl_http_req_t *req);

/* Requests not yet called back (nor cancelled): waiting for a turn in
 * their lane, running in curl, or finished with their callback due. */
size_t rl_http_pending(const rl_http_t *h);

#endif
