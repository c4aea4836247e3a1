/*
 * ssrf - where a webhook may connect. Pure: no I/O, so it tests without
 * a network. Three inputs decide:
 *
 * - the special-purpose table (ssrf_ranges()): one row per entry of the
 *   IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890,
 *   RFC 8190 and the RFCs that added entries since), plus multicast,
 *   IPv4-compatible and deprecated site-local IPv6, and the IPv6 space
 *   outside 2000::/3. An address in any row is refused with that row's
 *   class; the most specific row wins. Everything else is public.
 * - this host's own addresses (ssrf_hosts_t, read by egress.c), refused
 *   as SSRF_THIS_HOST.
 * - the operator allowlist ([webhook] allow, ssrf_allow_t), which opens
 *   what it lists, except that an address reaching this very machine
 *   (this host's or the unspecified address) is opened only by an entry
 *   naming exactly that address: a range opened for a network never
 *   opens the deliverer's own machine. Loopback is opened by any entry
 *   that covers it (127.0.0.0/8 is itself that explicit choice).
 *
 * IPv4 carried in IPv6: IPv4-mapped (::ffff:0:0/96), IPv4-compatible
 * (::/96, deprecated) and NAT64 well-known (64:ff9b::/96) addresses reach
 * the IPv4 address in their last 32 bits and are judged as it, in every
 * respect (class, this host, allowlist), so 64:ff9b::8.8.8.8 is public.
 * The local-use NAT64 prefix (64:ff9b:1::/48) and 6to4 (2002::/16) are
 * refused whatever they carry, and named by the IPv4 they carry when
 * that is not public. Teredo (2001::/32) is refused: its client address
 * is obfuscated.
 *
 * Limits: at most RL_CONFIG_MAX_ALLOW allowlist entries (the config's
 * limit; a longer list, or an entry rl_cidr_parse() refuses, is refused
 * by ssrf_allow_parse()) and SSRF_HOSTS_MAX host addresses (those beyond
 * it are counted in `dropped`, not kept).
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

#define SSRF_ADDR_TEXT 64   /* an address as text, NUL included */
#define SSRF_HOSTS_MAX 1024 /* host addresses kept */
#define SSRF_ADDR_LEN 16    /* bytes of a host address key */

/* Why an address is refused (or SSRF_PUBLIC: it is not). The names
 * (ssrf_class_name) are what refusals show. */
typedef enum {
    SSRF_PUBLIC = 0,         /* globally reachable */
    SSRF_THIS_HOST,          /* an address of this host's interfaces */
    SSRF_UNSPECIFIED,        /* 0.0.0.0, :: (Linux connects it here) */
    SSRF_THIS_NETWORK,       /* 0/8 */
    SSRF_LOOPBACK,           /* 127/8, ::1 */
    SSRF_PRIVATE,            /* 10/8, 172.16/12, 192.168/16, fc00::/7 */
    SSRF_CGNAT,              /* 100.64/10 shared address space */
    SSRF_LINK_LOCAL,         /* 169.254/16 (cloud metadata), fe80::/10 */
    SSRF_SITE_LOCAL,         /* fec0::/10, deprecated */
    SSRF_IETF_PROTOCOL,      /* 192.0.0/24, 2001::/23 */
    SSRF_SERVICE_CONTINUITY, /* 192.0.0.0/29 (DS-Lite, 464XLAT) */
    SSRF_DUMMY,              /* 192.0.0.8, 100:0:0:1::/64 */
    SSRF_ANYCAST,            /* PCP, TURN, DNS-SD SRP, 6a44 anycast */
    SSRF_NAT64_DISCOVERY,    /* 192.0.0.170, 192.0.0.171 */
    SSRF_DOCUMENTATION,      /* TEST-NET-1/2/3, 2001:db8::/32, 3fff::/20 */
    SSRF_AS112,              /* AS112 DNS sinks */
    SSRF_AMT,                /* automatic multicast tunneling relays */
    SSRF_6TO4_RELAY,         /* 192.88.99/24, deprecated */
    SSRF_BENCHMARKING,       /* 198.18/15, 2001:2::/48 */
    SSRF_RESERVED,           /* 240/4, IPv6 outside 2000::/3 */
    SSRF_BROADCAST,          /* 255.255.255.255 */
    SSRF_MULTICAST,          /* 224/4, ff00::/8 */
    SSRF_DISCARD,            /* 100::/64 */
    SSRF_NAT64_LOCAL,        /* 64:ff9b:1::/48 */
    SSRF_TEREDO,             /* 2001::/32 */
    SSRF_ORCHID,             /* 2001:10::/28, 2001:20::/28 */
    SSRF_DRIP,               /* 2001:30::/28 drone entity tags */
    SSRF_6TO4,               /* 2002::/16 */
    SSRF_SRV6,               /* 5f00::/16 segment routing SIDs */
    SSRF_UNKNOWN,            /* not IPv4 nor IPv6 */
    SSRF_NCLASSES            /* count, not a class */
} ssrf_class_t;

/* How a row's addresses carry an IPv4 address. */
typedef enum {
    SSRF_EMBED_NONE = 0, /* they do not */
    SSRF_EMBED_JUDGED,   /* in the last 32 bits, and that is what is
                            reached: judged as it (row class unused) */
    SSRF_EMBED_TAIL,     /* in the last 32 bits: refused, named by it
                            when it is not public */
    SSRF_EMBED_6TO4,     /* in bits 16-47: refused, named by it when it
                            is not public */
} ssrf_embed_t;

/* One row of the special-purpose table. */
typedef struct {
    rl_cidr_t net;      /* the block */
    ssrf_class_t cls;   /* why it is refused */
    ssrf_embed_t embed; /* how it carries an IPv4 address */
    const char *rfc;    /* the RFC that assigned it */
    const char *name;   /* its name in the registry */
} ssrf_range_t;

/* The allowlist, embedded by its user (zero it, then parse). */
typedef struct {
    rl_cidr_t nets[RL_CONFIG_MAX_ALLOW]; /* parsed entries */
    size_t n;                            /* entries used */
} ssrf_allow_t;

/* This host's addresses, embedded by its user (zero it, then set). */
typedef struct {
    uint8_t addr[SSRF_HOSTS_MAX][SSRF_ADDR_LEN]; /* ascending, distinct;
                                                    IPv4 as ::ffff:V4 */
    size_t n;                                    /* entries used */
    size_t dropped; /* addresses beyond SSRF_HOSTS_MAX, not kept */
} ssrf_hosts_t;

/* The special-purpose table: *n rows. Borrowed, static. */
const ssrf_range_t *ssrf_ranges(size_t *n);

/* The row that gives addr its class (ssrf_classify): the most specific
 * row holding addr, or the IPv4 address it carries when that decides;
 * NULL for a public address or neither family. */
const ssrf_range_t *ssrf_range_of(const struct sockaddr *addr);

/* The class of addr (struct sockaddr_in or sockaddr_in6) by the table
 * alone, embedded IPv4 as described above. */
ssrf_class_t ssrf_classify(const struct sockaddr *addr);

/* The name of a class: "public", "this host", "loopback", ... */
const char *ssrf_class_name(ssrf_class_t cls);

/* A buffer every reason of ssrf_allow_parse() fits. */
#define SSRF_WHY_LEN 128

/* Parses every entry of items[0..n) (rl_cidr_parse) into a, replacing
 * its contents. Returns 0, or -1 with the offending entry named in
 * why (its first 64 bytes; why_len >= 1, SSRF_WHY_LEN holds any). */
int ssrf_allow_parse(ssrf_allow_t *a, const char *const *items, size_t n,
                     char *why, size_t why_len);

/* True when addr lies in one of a's networks. An IPv6 address judged as
 * the IPv4 it carries (mapped, compatible, NAT64) matches as that IPv4
 * address, and only the IPv4 networks. a may be NULL (false). */
bool ssrf_allow_match(const ssrf_allow_t *a, const struct sockaddr *addr);

/* Replaces h's list with the IPv4 and IPv6 addresses among
 * addrs[0..n) (others, and NULL entries, skipped), distinct. Loopback
 * ones are left out (the loopback rule judges them); past
 * SSRF_HOSTS_MAX, link-local ones give way to the others (they are
 * refused anyway unless link-local is opened) and the rest are counted
 * in h->dropped. */
void ssrf_hosts_set(ssrf_hosts_t *h, const struct sockaddr *const *addrs,
                    size_t n);

/* True when addr, or the IPv4 address it carries, is one of h's. h may
 * be NULL (false). */
bool ssrf_hosts_has(const ssrf_hosts_t *h, const struct sockaddr *addr);

/* The verdict: true when addr may be connected to under allowlist a and
 * host list h (either may be NULL: none). *why (if why is not NULL)
 * gets the class that refuses addr, or its class when it is allowed:
 * SSRF_THIS_HOST for this host's addresses, else ssrf_classify(). */
bool ssrf_allowed(const ssrf_allow_t *a, const ssrf_hosts_t *h,
                  const struct sockaddr *addr, ssrf_class_t *why);

/* The address of addr as text into buf ("?" when it is neither family).
 * Returns buf. */
const char *ssrf_addr_text(const struct sockaddr *addr, char *buf, size_t len);

#endif
