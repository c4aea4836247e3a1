/*
 * ssrf - the special-purpose address table, this host's addresses and
 * the allowlist of the webhook SSRF guard.
 * SPDX-License-Identifier: MIT
 */
#include "ssrf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rl_text.h"

#define S_QUOTE_MAX 64 /* bytes of an allowlist entry a reason quotes */
#define S_V4_LEN 4
#define S_TAIL_AT 12 /* where an IPv4 address ends an IPv6 one */
#define S_6TO4_AT 2  /* where 6to4 carries its IPv4 address */

/* Rows of the table, as network bytes and prefix length. */
#define S_V4(a, b, c, d, bits)                                                 \
    {                                                                          \
        AF_INET, {a, b, c, d}, bits                                            \
    }
#define S_V6(bits, ...)                                                        \
    {                                                                          \
        AF_INET6, {__VA_ARGS__}, bits                                          \
    }

/*
 * The special-purpose table. Every entry of the IANA IPv4 and IPv6
 * Special-Purpose Address Registries (as of 2025-10) is a row, with the
 * RFC that assigned it, and so are the blocks that are not globally
 * reachable for reasons outside those registries: IPv4 and IPv6
 * multicast, the deprecated IPv4-compatible and site-local IPv6 blocks,
 * and the IPv6 space IANA has not opened for global unicast (all but
 * 2000::/3, RFC 4291 section 2.4; only the registry rows inside it, such
 * as 5f00::/16, are in use).
 *
 * Rows the registry marks globally reachable are refused too: the
 * anycast addresses of PCP, TURN, DNS-SD SRP (and the 6a44 relay) reach
 * the nearest such server, which is typically a device of the network
 * the deliverer is in (its NAT gateway); AS112 and AMT are DNS sinks
 * and multicast relays; ORCHIDv2 and DRIP DETs are identifiers, not
 * locators. None of them hosts a webhook receiver, so refusing them
 * costs nothing and closes a way to probe the local network.
 *
 * The most specific row holding an address decides, so a sub-entry
 * (192.0.0.9/32) names its own class inside its parent (192.0.0.0/24).
 */
static const ssrf_range_t s_ranges[] = {
    /* IANA IPv4 Special-Purpose Address Registry */
    {S_V4(0, 0, 0, 0, 8), SSRF_THIS_NETWORK, SSRF_EMBED_NONE, "RFC 791",
     "\"This network\""},
    {S_V4(0, 0, 0, 0, 32), SSRF_UNSPECIFIED, SSRF_EMBED_NONE, "RFC 1122",
     "\"This host on this network\""},
    {S_V4(10, 0, 0, 0, 8), SSRF_PRIVATE, SSRF_EMBED_NONE, "RFC 1918",
     "Private-Use"},
    {S_V4(100, 64, 0, 0, 10), SSRF_CGNAT, SSRF_EMBED_NONE, "RFC 6598",
     "Shared Address Space"},
    {S_V4(127, 0, 0, 0, 8), SSRF_LOOPBACK, SSRF_EMBED_NONE, "RFC 1122",
     "Loopback"},
    {S_V4(169, 254, 0, 0, 16), SSRF_LINK_LOCAL, SSRF_EMBED_NONE, "RFC 3927",
     "Link Local"},
    {S_V4(172, 16, 0, 0, 12), SSRF_PRIVATE, SSRF_EMBED_NONE, "RFC 1918",
     "Private-Use"},
    {S_V4(192, 0, 0, 0, 24), SSRF_IETF_PROTOCOL, SSRF_EMBED_NONE, "RFC 6890",
     "IETF Protocol Assignments"},
    {S_V4(192, 0, 0, 0, 29), SSRF_SERVICE_CONTINUITY, SSRF_EMBED_NONE,
     "RFC 7335", "IPv4 Service Continuity Prefix"},
    {S_V4(192, 0, 0, 8, 32), SSRF_DUMMY, SSRF_EMBED_NONE, "RFC 7600",
     "IPv4 dummy address"},
    {S_V4(192, 0, 0, 9, 32), SSRF_ANYCAST, SSRF_EMBED_NONE, "RFC 7723",
     "Port Control Protocol Anycast"},
    {S_V4(192, 0, 0, 10, 32), SSRF_ANYCAST, SSRF_EMBED_NONE, "RFC 8155",
     "Traversal Using Relays around NAT Anycast"},
    {S_V4(192, 0, 0, 170, 32), SSRF_NAT64_DISCOVERY, SSRF_EMBED_NONE,
     "RFC 8880", "NAT64/DNS64 Discovery"},
    {S_V4(192, 0, 0, 171, 32), SSRF_NAT64_DISCOVERY, SSRF_EMBED_NONE,
     "RFC 8880", "NAT64/DNS64 Discovery"},
    {S_V4(192, 0, 2, 0, 24), SSRF_DOCUMENTATION, SSRF_EMBED_NONE, "RFC 5737",
     "Documentation (TEST-NET-1)"},
    {S_V4(192, 31, 196, 0, 24), SSRF_AS112, SSRF_EMBED_NONE, "RFC 7535",
     "AS112-v4"},
    {S_V4(192, 52, 193, 0, 24), SSRF_AMT, SSRF_EMBED_NONE, "RFC 7450", "AMT"},
    {S_V4(192, 88, 99, 0, 24), SSRF_6TO4_RELAY, SSRF_EMBED_NONE, "RFC 7526",
     "Deprecated (6to4 Relay Anycast)"},
    {S_V4(192, 88, 99, 2, 32), SSRF_ANYCAST, SSRF_EMBED_NONE, "RFC 6751",
     "6a44-relay anycast address"},
    {S_V4(192, 168, 0, 0, 16), SSRF_PRIVATE, SSRF_EMBED_NONE, "RFC 1918",
     "Private-Use"},
    {S_V4(192, 175, 48, 0, 24), SSRF_AS112, SSRF_EMBED_NONE, "RFC 7534",
     "Direct Delegation AS112 Service"},
    {S_V4(198, 18, 0, 0, 15), SSRF_BENCHMARKING, SSRF_EMBED_NONE, "RFC 2544",
     "Benchmarking"},
    {S_V4(198, 51, 100, 0, 24), SSRF_DOCUMENTATION, SSRF_EMBED_NONE, "RFC 5737",
     "Documentation (TEST-NET-2)"},
    {S_V4(203, 0, 113, 0, 24), SSRF_DOCUMENTATION, SSRF_EMBED_NONE, "RFC 5737",
     "Documentation (TEST-NET-3)"},
    {S_V4(240, 0, 0, 0, 4), SSRF_RESERVED, SSRF_EMBED_NONE, "RFC 1112",
     "Reserved"},
    {S_V4(255, 255, 255, 255, 32), SSRF_BROADCAST, SSRF_EMBED_NONE, "RFC 919",
     "Limited Broadcast"},
    /* IPv4 Multicast Address Space Registry */
    {S_V4(224, 0, 0, 0, 4), SSRF_MULTICAST, SSRF_EMBED_NONE, "RFC 5771",
     "Multicast"},

    /* IANA IPv6 Special-Purpose Address Registry */
    {S_V6(128, 0), SSRF_UNSPECIFIED, SSRF_EMBED_NONE, "RFC 4291",
     "Unspecified Address"},
    {S_V6(128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1), SSRF_LOOPBACK,
     SSRF_EMBED_NONE, "RFC 4291", "Loopback Address"},
    {S_V6(96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff), SSRF_PUBLIC,
     SSRF_EMBED_JUDGED, "RFC 4291", "IPv4-mapped Address"},
    {S_V6(96, 0, 0x64, 0xff, 0x9b), SSRF_PUBLIC, SSRF_EMBED_JUDGED, "RFC 6052",
     "IPv4-IPv6 Translat."},
    {S_V6(48, 0, 0x64, 0xff, 0x9b, 0, 1), SSRF_NAT64_LOCAL, SSRF_EMBED_TAIL,
     "RFC 8215", "IPv4-IPv6 Translat. (local use)"},
    {S_V6(64, 0x01, 0), SSRF_DISCARD, SSRF_EMBED_NONE, "RFC 6666",
     "Discard-Only Address Block"},
    {S_V6(64, 0x01, 0, 0, 0, 0, 0, 0, 1), SSRF_DUMMY, SSRF_EMBED_NONE,
     "RFC 9780", "Dummy IPv6 Prefix"},
    {S_V6(23, 0x20, 0x01), SSRF_IETF_PROTOCOL, SSRF_EMBED_NONE, "RFC 2928",
     "IETF Protocol Assignments"},
    {S_V6(32, 0x20, 0x01), SSRF_TEREDO, SSRF_EMBED_NONE, "RFC 4380", "TEREDO"},
    {S_V6(128, 0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
     SSRF_ANYCAST, SSRF_EMBED_NONE, "RFC 7723",
     "Port Control Protocol Anycast"},
    {S_V6(128, 0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2),
     SSRF_ANYCAST, SSRF_EMBED_NONE, "RFC 8155",
     "Traversal Using Relays around NAT Anycast"},
    {S_V6(128, 0x20, 0x01, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3),
     SSRF_ANYCAST, SSRF_EMBED_NONE, "RFC 9665",
     "DNS-SD Service Registration Protocol Anycast"},
    {S_V6(48, 0x20, 0x01, 0, 2), SSRF_BENCHMARKING, SSRF_EMBED_NONE, "RFC 5180",
     "Benchmarking"},
    {S_V6(32, 0x20, 0x01, 0, 3), SSRF_AMT, SSRF_EMBED_NONE, "RFC 7450", "AMT"},
    {S_V6(48, 0x20, 0x01, 0, 4, 0x01, 0x12), SSRF_AS112, SSRF_EMBED_NONE,
     "RFC 7535", "AS112-v6"},
    {S_V6(28, 0x20, 0x01, 0, 0x10), SSRF_ORCHID, SSRF_EMBED_NONE, "RFC 4843",
     "Deprecated (previously ORCHID)"},
    {S_V6(28, 0x20, 0x01, 0, 0x20), SSRF_ORCHID, SSRF_EMBED_NONE, "RFC 7343",
     "ORCHIDv2"},
    {S_V6(28, 0x20, 0x01, 0, 0x30), SSRF_DRIP, SSRF_EMBED_NONE, "RFC 9374",
     "Drone Remote ID Protocol Entity Tags (DETs) Prefix"},
    {S_V6(32, 0x20, 0x01, 0x0d, 0xb8), SSRF_DOCUMENTATION, SSRF_EMBED_NONE,
     "RFC 3849", "Documentation"},
    {S_V6(16, 0x20, 0x02), SSRF_6TO4, SSRF_EMBED_6TO4, "RFC 3056", "6to4"},
    {S_V6(48, 0x26, 0x20, 0, 0x4f, 0x80, 0), SSRF_AS112, SSRF_EMBED_NONE,
     "RFC 7534", "Direct Delegation AS112 Service"},
    {S_V6(20, 0x3f, 0xff), SSRF_DOCUMENTATION, SSRF_EMBED_NONE, "RFC 9637",
     "Documentation"},
    {S_V6(16, 0x5f, 0), SSRF_SRV6, SSRF_EMBED_NONE, "RFC 9602",
     "Segment Routing (SRv6) SIDs"},
    {S_V6(7, 0xfc), SSRF_PRIVATE, SSRF_EMBED_NONE, "RFC 4193", "Unique-Local"},
    {S_V6(10, 0xfe, 0x80), SSRF_LINK_LOCAL, SSRF_EMBED_NONE, "RFC 4291",
     "Link-Local Unicast"},
    /* IPv6 Address Space Registry */
    {S_V6(96, 0), SSRF_PUBLIC, SSRF_EMBED_JUDGED, "RFC 4291",
     "IPv4-compatible Address (deprecated)"},
    {S_V6(10, 0xfe, 0xc0), SSRF_SITE_LOCAL, SSRF_EMBED_NONE, "RFC 3879",
     "Site-Local (deprecated)"},
    {S_V6(8, 0xff), SSRF_MULTICAST, SSRF_EMBED_NONE, "RFC 4291", "Multicast"},
    {S_V6(3, 0), SSRF_RESERVED, SSRF_EMBED_NONE, "RFC 4291",
     "Reserved by IETF (outside 2000::/3)"},
    {S_V6(2, 0x40), SSRF_RESERVED, SSRF_EMBED_NONE, "RFC 4291",
     "Reserved by IETF (outside 2000::/3)"},
    {S_V6(1, 0x80), SSRF_RESERVED, SSRF_EMBED_NONE, "RFC 4291",
     "Reserved by IETF (outside 2000::/3)"},
};

#define S_NRANGES (sizeof s_ranges / sizeof s_ranges[0])

static const char *const s_class_names[SSRF_NCLASSES] = {
    [SSRF_PUBLIC] = "public",
    [SSRF_THIS_HOST] = "this host",
    [SSRF_UNSPECIFIED] = "unspecified",
    [SSRF_THIS_NETWORK] = "this network",
    [SSRF_LOOPBACK] = "loopback",
    [SSRF_PRIVATE] = "private",
    [SSRF_CGNAT] = "cgnat",
    [SSRF_LINK_LOCAL] = "link-local",
    [SSRF_SITE_LOCAL] = "site-local",
    [SSRF_IETF_PROTOCOL] = "ietf-protocol",
    [SSRF_SERVICE_CONTINUITY] = "service-continuity",
    [SSRF_DUMMY] = "dummy",
    [SSRF_ANYCAST] = "anycast",
    [SSRF_NAT64_DISCOVERY] = "nat64-discovery",
    [SSRF_DOCUMENTATION] = "documentation",
    [SSRF_AS112] = "as112",
    [SSRF_AMT] = "amt",
    [SSRF_6TO4_RELAY] = "6to4-relay",
    [SSRF_BENCHMARKING] = "benchmarking",
    [SSRF_RESERVED] = "reserved",
    [SSRF_BROADCAST] = "broadcast",
    [SSRF_MULTICAST] = "multicast",
    [SSRF_DISCARD] = "discard",
    [SSRF_NAT64_LOCAL] = "nat64-local",
    [SSRF_TEREDO] = "teredo",
    [SSRF_ORCHID] = "orchid",
    [SSRF_DRIP] = "drip",
    [SSRF_6TO4] = "6to4",
    [SSRF_SRV6] = "srv6",
    [SSRF_UNKNOWN] = "unknown",
};

/* An address taken apart: its bytes, its row and the IPv4 it carries. */
typedef struct {
    int family;              /* AF_INET, AF_INET6, or 0: neither */
    const uint8_t *bytes;    /* network order, 4 or 16 of them */
    const ssrf_range_t *row; /* the most specific row, or NULL */
    bool has4;               /* it carries an IPv4 address ... */
    bool judged;             /* ... and is judged as it */
    uint8_t v4[S_V4_LEN];    /* that IPv4 address */
} s_view_t;

static const ssrf_range_t *
s_lookup(int family, const uint8_t *bytes)
{
    const ssrf_range_t *best = NULL;

    for (size_t i = 0; i < S_NRANGES; i++) {
        const ssrf_range_t *r = &s_ranges[i];

        if ((best == NULL || r->net.prefix > best->net.prefix) &&
            rl_cidr_has(&r->net, family, bytes))
            best = r;
    }
    return best;
}

static void
s_view(const struct sockaddr *addr, s_view_t *v)
{
    memset(v, 0, sizeof *v);
    if (addr->sa_family == AF_INET)
        v->bytes =
            (const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr;
    else if (addr->sa_family == AF_INET6)
        v->bytes = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
    else
        return;
    v->family = addr->sa_family;
    v->row = s_lookup(v->family, v->bytes);
    if (v->row == NULL || v->row->embed == SSRF_EMBED_NONE)
        return;
    v->has4 = true;
    v->judged = v->row->embed == SSRF_EMBED_JUDGED;
    memcpy(v->v4,
           v->bytes +
               (v->row->embed == SSRF_EMBED_6TO4 ? S_6TO4_AT : S_TAIL_AT),
           S_V4_LEN);
}

/* The class of v and the row that gives it (NULL: none, public). */
static ssrf_class_t
s_decide(const s_view_t *v, const ssrf_range_t **row)
{
    const ssrf_range_t *r4;

    *row = v->row;
    if (v->family == 0)
        return SSRF_UNKNOWN;
    if (!v->has4)
        return v->row != NULL ? v->row->cls : SSRF_PUBLIC;
    r4 = s_lookup(AF_INET, v->v4);
    if (v->judged || r4 != NULL) {
        *row = r4;
        return r4 != NULL ? r4->cls : SSRF_PUBLIC;
    }
    return v->row->cls;
}

static ssrf_class_t
s_class(const s_view_t *v)
{
    const ssrf_range_t *row;

    return s_decide(v, &row);
}

const ssrf_range_t *
ssrf_ranges(size_t *n)
{
    assert(n != NULL);
    *n = S_NRANGES;
    return s_ranges;
}

const ssrf_range_t *
ssrf_range_of(const struct sockaddr *addr)
{
    const ssrf_range_t *row;
    s_view_t v;

    assert(addr != NULL);
    s_view(addr, &v);
    s_decide(&v, &row);
    return row;
}

ssrf_class_t
ssrf_classify(const struct sockaddr *addr)
{
    s_view_t v;

    assert(addr != NULL);
    s_view(addr, &v);
    return s_class(&v);
}

const char *
ssrf_class_name(ssrf_class_t cls)
{
    if ((unsigned)cls >= SSRF_NCLASSES || s_class_names[cls] == NULL)
        return "unknown";
    return s_class_names[cls];
}

/* Formats a reason into why (why_len >= 1 bytes). The reasons quote
 * at most S_QUOTE_MAX bytes of an entry, so every one fits
 * SSRF_WHY_LEN; in a smaller buffer one is cut, made valid UTF-8. */
static void __attribute__((format(printf, 3, 4)))
s_why(char *why, size_t why_len, const char *fmt, ...)
{
    char text[SSRF_WHY_LEN];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    rl_text_safe(why, why_len, text,
                 (size_t)n < sizeof text ? (size_t)n : sizeof text - 1,
                 (size_t)n >= sizeof text, NULL);
}

int
ssrf_allow_parse(ssrf_allow_t *a, const char *const *items, size_t n, char *why,
                 size_t why_len)
{
    assert(a != NULL && (items != NULL || n == 0));
    memset(a, 0, sizeof *a);
    if (n > RL_CONFIG_MAX_ALLOW) {
        s_why(why, why_len, "more than %d allowlist entries",
              RL_CONFIG_MAX_ALLOW);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (rl_cidr_parse(items[i], &a->nets[i]) != 0) {
            s_why(why, why_len, "'%.*s' is not ADDR or ADDR/PREFIX",
                  S_QUOTE_MAX, items[i]);
            memset(a, 0, sizeof *a);
            return -1;
        }
    }
    a->n = n;
    return 0;
}

/* True when an entry of a holds v (only single-address entries when
 * `exact`): v itself, or the IPv4 address v is judged as. */
static bool
s_allow_match(const ssrf_allow_t *a, const s_view_t *v, bool exact)
{
    if (a == NULL || v->family == 0)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const rl_cidr_t *net = &a->nets[i];

        if (exact && !rl_cidr_is_single(net))
            continue;
        /* An address judged as the IPv4 it carries matches as that
         * IPv4 only: an IPv6 range (::/0, ::/3) must not open IPv4
         * loopback or the metadata address through ::ffff:169.254.169.254. */
        if (v->judged ? rl_cidr_has(net, AF_INET, v->v4)
                      : rl_cidr_has(net, v->family, v->bytes))
            return true;
    }
    return false;
}

bool
ssrf_allow_match(const ssrf_allow_t *a, const struct sockaddr *addr)
{
    s_view_t v;

    assert(addr != NULL);
    s_view(addr, &v);
    return s_allow_match(a, &v, false);
}

/* The host-list key of an address: IPv6 as is, IPv4 as ::ffff:V4. */
static void
s_key(int family, const uint8_t *bytes, uint8_t key[SSRF_ADDR_LEN])
{
    if (family == AF_INET6) {
        memcpy(key, bytes, SSRF_ADDR_LEN);
        return;
    }
    memset(key, 0, SSRF_ADDR_LEN);
    key[10] = 0xff;
    key[11] = 0xff;
    memcpy(key + S_TAIL_AT, bytes, S_V4_LEN);
}

/* True when key is in h; *at gets where it is or would go. */
static bool
s_hosts_find(const ssrf_hosts_t *h, const uint8_t key[SSRF_ADDR_LEN],
             size_t *at)
{
    size_t lo = 0, hi = h->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (memcmp(h->addr[mid], key, SSRF_ADDR_LEN) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return lo < h->n && memcmp(h->addr[lo], key, SSRF_ADDR_LEN) == 0;
}

static void
s_hosts_add(ssrf_hosts_t *h, const s_view_t *v)
{
    uint8_t key[SSRF_ADDR_LEN];
    size_t at;

    s_key(v->family, v->bytes, key);
    if (s_hosts_find(h, key, &at))
        return;
    if (h->n == SSRF_HOSTS_MAX) {
        h->dropped++;
        return;
    }
    memmove(h->addr[at + 1], h->addr[at], (h->n - at) * SSRF_ADDR_LEN);
    memcpy(h->addr[at], key, SSRF_ADDR_LEN);
    h->n++;
}

void
ssrf_hosts_set(ssrf_hosts_t *h, const struct sockaddr *const *addrs, size_t n)
{
    assert(h != NULL && (addrs != NULL || n == 0));
    h->n = 0;
    h->dropped = 0;
    /* Two passes: link-local addresses only take what room is left. */
    for (int link_local = 0; link_local <= 1; link_local++) {
        for (size_t i = 0; i < n; i++) {
            s_view_t v;
            ssrf_class_t cls;

            if (addrs[i] == NULL)
                continue;
            s_view(addrs[i], &v);
            cls = s_class(&v);
            if (cls == SSRF_UNKNOWN || cls == SSRF_LOOPBACK ||
                (cls == SSRF_LINK_LOCAL) != (link_local == 1))
                continue;
            s_hosts_add(h, &v);
        }
    }
}

static bool
s_hosts_has(const ssrf_hosts_t *h, const s_view_t *v)
{
    uint8_t key[SSRF_ADDR_LEN];
    size_t at;

    if (h == NULL || v->family == 0)
        return false;
    s_key(v->family, v->bytes, key);
    if (s_hosts_find(h, key, &at))
        return true;
    if (!v->has4)
        return false;
    s_key(AF_INET, v->v4, key);
    return s_hosts_find(h, key, &at);
}

bool
ssrf_hosts_has(const ssrf_hosts_t *h, const struct sockaddr *addr)
{
    s_view_t v;

    assert(addr != NULL);
    s_view(addr, &v);
    return s_hosts_has(h, &v);
}

bool
ssrf_allowed(const ssrf_allow_t *a, const ssrf_hosts_t *h,
             const struct sockaddr *addr, ssrf_class_t *why)
{
    s_view_t v;
    ssrf_class_t cls;
    bool ok;

    assert(addr != NULL);
    s_view(addr, &v);
    cls = s_class(&v);
    if (cls != SSRF_LOOPBACK && cls != SSRF_UNKNOWN && s_hosts_has(h, &v))
        cls = SSRF_THIS_HOST;
    if (cls == SSRF_UNKNOWN)
        ok = false;
    else if (cls == SSRF_THIS_HOST || cls == SSRF_UNSPECIFIED)
        ok = s_allow_match(a, &v, true); /* this very machine */
    else
        ok = cls == SSRF_PUBLIC || s_allow_match(a, &v, false);
    if (why != NULL)
        *why = cls;
    return ok;
}

const char *
ssrf_addr_text(const struct sockaddr *addr, char *buf, size_t len)
{
    const void *src = NULL;

    if (addr->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)addr)->sin_addr;
    else if (addr->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)addr)->sin6_addr;
    if (src == NULL ||
        inet_ntop(addr->sa_family, src, buf, (socklen_t)len) == NULL) {
        buf[0] = len > 1 ? '?' : '\0'; /* len >= 1: a string */
        if (len > 1)
            buf[1] = '\0';
    }
    return buf;
}
