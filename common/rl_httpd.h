/*
 * rl_httpd - an HTTP listener (libevent's evhttp) with the limits a
 * server facing the internet needs, for the broker's API and every
 * role's status endpoint.
 *
 * evhttp parses; this module bounds what a client can make it hold:
 *   - connections: at most max_connections open at once. At the cap the
 *     listener stops accepting (new clients wait in the kernel's backlog)
 *     and resumes when one closes. An accept() error (EMFILE, ENFILE,
 *     ENOBUFS...) pauses accepting for RL_HTTPD_ACCEPT_PAUSE_MS instead
 *     of spinning on a listener that stays readable.
 *   - time: a connection that moves no byte either way for
 *     idle_timeout_ms is closed (an idle keep-alive, a stalled read or a
 *     stalled write); a request whose first byte arrived request_timeout_ms
 *     ago and that is still incomplete is closed (a client trickling its
 *     headers or body a byte at a time).
 *   - size: the request line and headers may hold max_header_bytes and
 *     max_headers header lines (over either: 431); evhttp itself cuts a
 *     header section at twice max_header_bytes (413, connection closed),
 *     so one connection never buffers more. Bodies over max_body are cut
 *     by evhttp (413); callers apply their own, lower limit.
 *   - version: anything but HTTP/1.0 and HTTP/1.1 gets 505, connection
 *     closed.
 *   - framing: a request that could be read two ways is refused with 400
 *     and its connection closed (no request smuggling behind a proxy that
 *     reads it the other way): Content-Length given twice, or not plain
 *     digits; Transfer-Encoding together with Content-Length; any
 *     Transfer-Encoding but "chunked", or one on an HTTP/1.0 request.
 *   - guessing: a client address whose requests failed authentication
 *     more than auth_failures_burst times, refilled at
 *     auth_failures_per_min (the caller says which failed, with
 *     rl_httpd_auth_failed), gets 429 with Retry-After for every request
 *     until it has a try again (rl_addrlimit.h).
 * Refusals answer the API's error object
 *   {"error":{"type":"invalid_request_error","code":C,"message":M,
 *             "param":null}}
 * and are counted (rl_httpd_stats). Repeated log lines about them are
 * rate-limited: an attacker cannot fill the disk through the log.
 *
 * Failure modes: rl_httpd_new() returns NULL with a reason on a bad
 * address or a port that cannot be bound. Nothing here aborts on input.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_HTTPD_H
#define RL_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "rl_config.h"

struct event_base;
struct evhttp;
struct evhttp_request;

#define RL_HTTPD_ACCEPT_PAUSE_MS 100 /* accepting resumes after an error */

/* rl_httpd_new() flags. */
/* SO_REUSEPORT: several processes of a role serve one port */
#define RL_HTTPD_SHARE_PORT (1 << 0)

typedef struct rl_httpd rl_httpd_t;

/* What one listener tolerates ([http] in the configuration). */
typedef struct {
    int max_connections;        /* open at once */
    long max_header_bytes;      /* request line + header lines */
    int max_headers;            /* header lines */
    long max_body;              /* evhttp's hard cap on a body, bytes */
    long idle_timeout_ms;       /* no byte moved either way */
    long request_timeout_ms;    /* first byte to a complete request */
    long auth_failures_burst;   /* rl_httpd_auth_failed() per client... */
    long auth_failures_per_min; /* ...at once, then a minute; 0: off */
} rl_httpd_limits_t;

/* Counters since start. */
typedef struct {
    uint64_t accepted;         /* connections accepted */
    uint64_t open;             /* connections open now */
    uint64_t at_cap;           /* times accepting paused at the cap */
    uint64_t accept_errors;    /* accept() failures (EMFILE...) */
    uint64_t request_timeouts; /* requests closed incomplete */
    uint64_t too_large;        /* 431 answers */
    uint64_t bad_framing;      /* 400 answers for ambiguous framing */
    uint64_t auth_refused;     /* 429 answers to clients past their
                                  failed-authentication budget */
} rl_httpd_stats_t;

/* The limits of [http] in cfg, for a listener whose bodies may be at most
 * max_body bytes. max_connections is lowered, with a warning, to what
 * this process's open-file limit leaves room for (raised to its hard
 * limit first, once per process). */
rl_httpd_limits_t rl_httpd_limits(const rl_config_t *cfg, long max_body);

/* A request that passed every check. */
typedef void (*rl_httpd_cb)(struct evhttp_request *req, void *arg);

/* Listens on addr ("HOST:PORT", IPv4 or [IPv6]; port 0 takes a free
 * one) with the given limits and RL_HTTPD_* flags, accepting the methods
 * of the evhttp mask `methods` (others get 405 from evhttp), and calls
 * cb for each request. `name` (a literal) names the listener in log
 * lines. Returns the listener (caller owns) or NULL with a reason in
 * why. */
rl_httpd_t *rl_httpd_new(struct event_base *base, const char *addr,
                         const rl_httpd_limits_t *lim, int flags,
                         uint16_t methods, rl_httpd_cb cb, void *arg,
                         const char *name, char *why, size_t why_len);

/* Closes the listener and every connection. NULL-safe, sets *p to NULL. */
void rl_httpd_destroy(rl_httpd_t **p);

/* The port it listens on (the one chosen for port 0). */
int rl_httpd_port(const rl_httpd_t *h);

/* The evhttp underneath (for options not wrapped here). */
struct evhttp *rl_httpd_evhttp(rl_httpd_t *h);

/* A copy of the counters. */
rl_httpd_stats_t rl_httpd_stats(const rl_httpd_t *h);

/* The client's address of a request as text ("203.0.113.7", "::1"):
 * for per-client limits. Returns "" when unknown. */
const char *rl_httpd_peer(struct evhttp_request *req);

/* Counts one failed authentication (a wrong API key or admin token)
 * against the client of req. */
void rl_httpd_auth_failed(struct evhttp_request *req);

/* Answers req with the API's error object (see above) and `status`;
 * `close` also closes the connection after the answer. */
void rl_httpd_refuse(struct evhttp_request *req, int status, const char *code,
                     const char *message, int close);

#endif
