/*
 * rl_cidr - IP networks written "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6),
 * as [webhook] allow lists them: one parser for the config's validator
 * and the deliverer's SSRF allowlist, and the membership test.
 *
 * Limits: ADDR is what inet_pton(3) accepts (no zone, no IPv4 shorthand)
 * in fewer than RL_CIDR_TEXT_MAX bytes; PREFIX is decimal, at most 32
 * for IPv4 and 128 for IPv6. Anything else is refused with -1.
 * rl_cidr_text() writes a network back as "ADDR/PREFIX" (inet_ntop(3)
 * spelling), at most RL_CIDR_TEXT_MAX + 4 bytes.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CIDR_H
#define RL_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_CIDR_TEXT_MAX 64 /* bytes of ADDR, NUL included */
/* "ADDR/PREFIX", NUL included */
#define RL_CIDR_NET_TEXT (RL_CIDR_TEXT_MAX + 4)

/* One network, in network byte order. */
typedef struct {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network bytes (4 used for IPv4), bits beyond the
                         prefix cleared */
    int prefix;       /* leading bits that must match */
} rl_cidr_t;

/* Parses "ADDR" (a /32 or /128) or "ADDR/PREFIX" into *net. Returns 0,
 * or -1 (*net zeroed) when text is neither. */
int rl_cidr_parse(const char *text, rl_cidr_t *net)
    __attribute__((warn_unused_result));

/* True when the address `bytes` of `family` (AF_INET: 4 bytes, AF_INET6:
 * 16, network order) lies in net. */
bool rl_cidr_has(const rl_cidr_t *net, int family, const uint8_t *bytes);

/* True when net is a single address: a /32 IPv4 or /128 IPv6 network. */
bool rl_cidr_is_single(const rl_cidr_t *net);

/* net as "ADDR/PREFIX" into buf (len bytes; RL_CIDR_NET_TEXT is always
 * enough), or "?" when it is neither family or does not fit. Returns
 * buf. */
const char *rl_cidr_text(const rl_cidr_t *net, char *buf, size_t len);

#endif
