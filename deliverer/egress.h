/*
 * egress - where the deliverer's webhooks may go (the SSRF guard). It
 * installs an rl_http address guard that refuses, at connect time, every
 * address ssrf.c does not allow (so DNS rebinding cannot slip past), and
 * checks a webhook's host before each attempt with an asynchronous DNS
 * lookup (libevent evdns), so a refused address fails the attempt for
 * good with its reason, and no traffic, before curl is involved.
 *
 * A lookup that fails or times out lets the attempt go ahead: curl
 * resolves again and the connect-time guard still decides. A connect the
 * guard refuses after the lookup allowed the host (rebinding) ends the
 * request without a response, flagged `refused` (rl_http), which fails
 * the attempt for good; it is logged and counted in egress_refused().
 * SPDX-License-Identifier: MIT
 */
#ifndef EGRESS_H
#define EGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_http.h"
#include "ssrf.h"

#define EGRESS_WHY_LEN 160       /* a refusal reason, NUL included */
#define EGRESS_DNS_TIMEOUT "2"   /* seconds per DNS try (evdns option) */
#define EGRESS_DNS_ATTEMPTS "2"  /* DNS tries per lookup */

struct event_base;
typedef struct egress egress_t;
typedef struct egress_lookup egress_lookup_t;

/* The verdict on a URL: allowed, or refused with a reason (borrowed,
 * valid during the call). */
typedef void (*egress_cb)(bool allowed, const char *why, void *arg);

/* A guard on `base` with the allowlist *allow (copied), installed on
 * `http`. Returns it (caller owns; destroy it after `http` stops being
 * used) or NULL when DNS cannot be set up. */
egress_t *egress_new(struct event_base *base, rl_http_t *http,
                     const ssrf_allow_t *allow);

/* Frees. Lookups still out are dropped without callbacks. NULL-safe,
 * sets *p to NULL. */
void egress_destroy(egress_t **p);

/* Checks every address url's host resolves to. cb runs exactly once,
 * possibly before this returns (an IP literal, /etc/hosts); then the
 * result is NULL, else a handle valid until cb runs or egress_cancel().
 * A URL that does not parse is allowed here (curl reports it). */
egress_lookup_t *egress_check(egress_t *eg, const char *url, egress_cb cb,
                              void *arg);

/* Stops a lookup; its callback is not called. */
void egress_cancel(egress_lookup_t *l);

/* Connects refused by the guard since start. */
uint64_t egress_refused(const egress_t *eg);

/* The guard itself (exposed for tests): true when `addr` may be
 * connected to under eg's allowlist; counts and logs refusals. */
bool egress_guard(const struct sockaddr *addr, void *eg);

#endif
