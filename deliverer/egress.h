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
 * The attempt record's reason comes from egress_refusal(): the addresses
 * rl_http kept on the refused request itself (both of a dual-stack
 * name), so a reason never names another request's address.
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
/* The reason when the refused addresses are not known or do not fit. */
#define EGRESS_REFUSED_AT_CONNECT "address not allowed (refused at connect)"

typedef struct egress egress_t;

/* A guard with the allowlist *allow (copied), installed on `http`.
 * Returns it (caller owns; destroy it after `http`). */
egress_t *egress_new(rl_http_t *http, const ssrf_allow_t *allow);

/* Frees. NULL-safe, sets *p to NULL. */
void egress_destroy(egress_t **p);

/* Connects refused by the guard since start. */
uint64_t egress_refused(const egress_t *eg);

/* Writes into out why the request of resp, which rl_http reported
 * `refused`, was refused: "address not allowed: ADDR (class)[, ADDR
 * (class)...][, ...]", or EGRESS_REFUSED_AT_CONNECT when resp names no
 * address or the list does not fit out_len. Pure. */
void egress_refusal(const rl_http_resp_t *resp, char *out, size_t out_len);

/* The guard itself (exposed for tests): true when `addr` may be
 * connected to under eg's allowlist; counts and logs refusals. */
bool egress_guard(const struct sockaddr *addr, void *eg);

#endif
