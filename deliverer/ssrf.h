/*
 * ssrf - where a webhook may connect: the class of an IP address
 * (loopback, private, link-local, multicast, unspecified, CGNAT or
 * public; IPv4-mapped and IPv4-compatible IPv6 forms are judged by the
 * IPv4 address they carry) and an operator allowlist of addresses and
 * CIDR ranges that opens named ranges ([webhook] allow). Pure: no I/O,
 * so it tests without a network.
 *
 * Limits: at most RL_CONFIG_MAX_ALLOW allowlist entries (the config's
 * limit); a longer list, or an entry rl_cidr_parse() refuses, is refused
 * by ssrf_allow_parse().
 * SPDX-License-Identifier: MIT
 */
#ifndef SSRF_H
#define SSRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_cidr.h"
#include "rl_config.h"

struct sockaddr;

#define SSRF_ADDR_TEXT 64    /* an address as text, NUL included */

/* The class of an address. Everything but SSRF_PUBLIC is refused unless
 * the allowlist names it. */
typedef enum {
    SSRF_PUBLIC = 0,      /* routable on the internet */
    SSRF_LOOPBACK,        /* 127/8, ::1 */
    SSRF_PRIVATE,         /* 10/8, 172.16/12, 192.168/16, fc00::/7 */
    SSRF_LINK_LOCAL,      /* 169.254/16 (cloud metadata), fe80::/10 */
    SSRF_MULTICAST,       /* 224/4, ff00::/8, 255.255.255.255 */
    SSRF_UNSPECIFIED,     /* 0/8, :: */
    SSRF_CGNAT,           /* 100.64/10 (RFC 6598 shared space) */
    SSRF_UNKNOWN,         /* not IPv4 nor IPv6 */
} ssrf_class_t;

/* The allowlist, embedded by its user (zero it, then parse). */
typedef struct {
    rl_cidr_t nets[RL_CONFIG_MAX_ALLOW]; /* parsed entries */
    size_t n;                            /* entries used */
} ssrf_allow_t;

/* The class of addr (struct sockaddr_in or sockaddr_in6). */
ssrf_class_t ssrf_classify(const struct sockaddr *addr);

/* "public", "loopback", "private", "link-local", "multicast",
 * "unspecified", "cgnat" or "unknown". */
const char *ssrf_class_name(ssrf_class_t cls);

/* Parses every entry of items[0..n) (rl_cidr_parse) into a, replacing
 * its contents. Returns 0, or -1 with the offending entry named in
 * why. */
int ssrf_allow_parse(ssrf_allow_t *a, const char *const *items, size_t n,
                     char *why, size_t why_len);

/* True when addr lies in one of a's networks. An IPv6 address that
 * carries an IPv4 one (mapped, compatible, NAT64) matches as that IPv4
 * address, and only the IPv4 networks. */
bool ssrf_allow_match(const ssrf_allow_t *a, const struct sockaddr *addr);

/* The verdict: public addresses, and any address a names, may be
 * connected to. a may be NULL (no allowlist). */
bool ssrf_allowed(const ssrf_allow_t *a, const struct sockaddr *addr);

/* The address of addr as text into buf ("?" when it is neither family).
 * Returns buf. */
const char *ssrf_addr_text(const struct sockaddr *addr, char *buf,
                           size_t len);

#endif
