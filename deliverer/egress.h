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
 * This host's addresses: egress reads the addresses of every interface
 * (getifaddrs(3), IPv4 and IPv6) when it is made and again every
 * EGRESS_HOSTS_REFRESH_MS on the loop, so an address the machine gains
 * while running is refused within that time (an address it loses stays
 * refused as long). A failed re-read keeps the previous list.
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
#define EGRESS_HOSTS_REFRESH_MS 30000 /* this host's addresses re-read */

struct event_base;
typedef struct egress egress_t;

/* A guard with the allowlist *allow (copied), installed on `http`, its
 * host addresses read now and refreshed on `base`. Returns it (caller
 * owns; destroy it after `http`), or NULL when this host's addresses
 * cannot be read (logged): a guard that does not know them cannot
 * refuse them. */
egress_t *egress_new(struct event_base *base, rl_http_t *http,
                     const ssrf_allow_t *allow);

/* Cancels the refresh and frees. NULL-safe, sets *p to NULL. */
void egress_destroy(egress_t **p);

/* Reads this host's addresses again now. Returns 0, or -1 (logged) with
 * the previous list kept. */
int egress_refresh(egress_t *eg);

/* This host's addresses as the guard knows them; borrowed. */
const ssrf_hosts_t *egress_hosts(const egress_t *eg);

/* Connects refused by the guard since start. */
uint64_t egress_refused(const egress_t *eg);

/* Writes into out why the request of resp, which rl_http reported
 * `refused`, was refused: "address not allowed: ADDR (class)[, ADDR
 * (class)...][, ...]" with the classes eg's guard refuses them as, or
 * EGRESS_REFUSED_AT_CONNECT when resp names no address or the list does
 * not fit out_len. No I/O. */
void egress_refusal(const egress_t *eg, const rl_http_resp_t *resp, char *out,
                    size_t out_len);

/* The guard itself (exposed for tests): true when `addr` may be
 * connected to under eg's allowlist and host addresses; counts and logs
 * refusals. */
bool egress_guard(const struct sockaddr *addr, void *eg);

#endif
