/*
 * egress - where the deliverer's webhooks may go (the SSRF guard). It
 * installs an rl_http address guard that refuses, at connect time, every
 * address ssrf.c does not allow. curl resolves the host and the guard
 * judges the very address curl is about to connect to, so DNS rebinding
 * cannot slip past, and a refused address costs no traffic: no socket
 * is opened. The request then ends without a response, flagged
 * `refused` (rl_http), which fails the attempt for good (classify.c);
 * every refusal is logged and counted in egress_refused().
 *
 * rl_http tells the guard the address but not the request, so the
 * attempt record's reason comes from egress_refusal(): the URL's host
 * when it is an address literal (exact), else the addresses the guard
 * refused at the URL's port since the request started, remembered among
 * the last EGRESS_RECENT refusals: both of a dual-stack name, and, should
 * another request to that port be refused at the same moment, its
 * address too.
 * SPDX-License-Identifier: MIT
 */
#ifndef EGRESS_H
#define EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_http.h"
#include "ssrf.h"

#define EGRESS_WHY_LEN 160 /* a refusal reason, NUL included */
#define EGRESS_RECENT 16   /* refusals remembered for egress_refusal() */
/* The reason when the refused addresses are not known. */
#define EGRESS_REFUSED_AT_CONNECT "address not allowed (refused at connect)"

typedef struct egress egress_t;

/* A guard with the allowlist *allow (copied), installed on `http`.
 * Returns it (caller owns; destroy it after `http`). */
egress_t *egress_new(rl_http_t *http, const ssrf_allow_t *allow);

/* Frees. NULL-safe, sets *p to NULL. */
void egress_destroy(egress_t **p);

/* Connects refused by the guard since start: also the number of the
 * latest refusal, taken as `since` for egress_refusal(). */
uint64_t egress_refused(const egress_t *eg);

/* Writes into out why a request to url that rl_http reported `refused`
 * was refused: "address not allowed: ADDR (class)[, ADDR (class)...]"
 * (see above), or EGRESS_REFUSED_AT_CONNECT when the addresses are
 * forgotten or do not fit. `since` is egress_refused() when the request
 * started. */
void egress_refusal(const egress_t *eg, const char *url, uint64_t since,
                    char *out, size_t out_len);

/* The guard itself (exposed for tests): true when `addr` may be
 * connected to under eg's allowlist; counts, remembers and logs
 * refusals. */
bool egress_guard(const struct sockaddr *addr, void *eg);

#endif
