/*
 * ssrf - address classes and the allowlist of the webhook SSRF guard.
 * SPDX-License-Identifier: MIT
 */
#include "ssrf.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define S_V4_BITS 32
#define S_V6_BITS 128
#define S_V4_LEN 4
#define S_V6_LEN 16
#define S_EMBED_AT 12 /* where an embedded IPv4 address starts */

/* An IPv4 network as (value, bits) in host order. */
static bool
s_in4(uint32_t a, uint32_t net, int bits)
{
    uint32_t mask = bits == 0 ? 0 : 0xFFFFFFFFu << (S_V4_BITS - bits);

    return (a & mask) == net;
}

static ssrf_class_t
s_classify4(uint32_t a)
{
    if (s_in4(a, 0x00000000u, 8))
        return SSRF_UNSPECIFIED;
    if (s_in4(a, 0x7F000000u, 8))
        return SSRF_LOOPBACK;
    if (s_in4(a, 0x0A000000u, 8) || s_in4(a, 0xAC100000u, 12) ||
        s_in4(a, 0xC0A80000u, 16))
        return SSRF_PRIVATE;
    if (s_in4(a, 0xA9FE0000u, 16))
        return SSRF_LINK_LOCAL;
    if (s_in4(a, 0x64400000u, 10))
        return SSRF_CGNAT;
    if (s_in4(a, 0xE0000000u, 4) || a == 0xFFFFFFFFu)
        return SSRF_MULTICAST;
    return SSRF_PUBLIC;
}

/* True (and the IPv4 address in *v4, host order) when b is an IPv6
 * address that carries an IPv4 one: mapped ::ffff:0:0/96, compatible
 * ::/96 (but not :: or ::1) or the NAT64 prefix 64:ff9b::/96. */
static bool
s_embedded4(const uint8_t b[S_V6_LEN], uint32_t *v4)
{
    static const uint8_t mapped[S_EMBED_AT] = {0, 0, 0, 0, 0, 0,
                                               0, 0, 0, 0, 0xFF, 0xFF};
    static const uint8_t nat64[S_EMBED_AT] = {0, 0x64, 0xFF, 0x9B};
    static const uint8_t zero[S_EMBED_AT] = {0};
    uint32_t a = ((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) |
                 ((uint32_t)b[14] << 8) | (uint32_t)b[15];

    if (memcmp(b, mapped, S_EMBED_AT) == 0 ||
        memcmp(b, nat64, S_EMBED_AT) == 0 ||
        (memcmp(b, zero, S_EMBED_AT) == 0 && a > 1)) {
        *v4 = a;
        return true;
    }
    return false;
}

static ssrf_class_t
s_classify6(const uint8_t b[S_V6_LEN])
{
    static const uint8_t zero[S_V6_LEN] = {0};
    uint32_t v4;

    if (s_embedded4(b, &v4))
        return s_classify4(v4);
    if (memcmp(b, zero, S_V6_LEN - 1) == 0)
        return b[15] == 1 ? SSRF_LOOPBACK
                          : b[15] == 0 ? SSRF_UNSPECIFIED : SSRF_PUBLIC;
    if ((b[0] & 0xFE) == 0xFC)
        return SSRF_PRIVATE; /* fc00::/7 unique local */
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
        return SSRF_LINK_LOCAL; /* fe80::/10 */
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0)
        return SSRF_PRIVATE; /* fec0::/10, deprecated site-local */
    if (b[0] == 0xFF)
        return SSRF_MULTICAST;
    return SSRF_PUBLIC;
}

ssrf_class_t
ssrf_classify(const struct sockaddr *addr)
{
    assert(addr != NULL);
    if (addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;

        return s_classify4(ntohl(in->sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;

        return s_classify6(in6->sin6_addr.s6_addr);
    }
    return SSRF_UNKNOWN;
}

const char *
ssrf_class_name(ssrf_class_t cls)
{
    switch (cls) {
    case SSRF_PUBLIC:
        return "public";
    case SSRF_LOOPBACK:
        return "loopback";
    case SSRF_PRIVATE:
        return "private";
    case SSRF_LINK_LOCAL:
        return "link-local";
    case SSRF_MULTICAST:
        return "multicast";
    case SSRF_UNSPECIFIED:
        return "unspecified";
    case SSRF_CGNAT:
        return "cgnat";
    case SSRF_UNKNOWN:
        break;
    }
    return "unknown";
}

int
ssrf_allow_parse(ssrf_allow_t *a, const char *const *items, size_t n,
                 char *why, size_t why_len)
{
    assert(a != NULL && (items != NULL || n == 0));
    memset(a, 0, sizeof *a);
    if (n > RL_CONFIG_MAX_ALLOW) {
        snprintf(why, why_len, "more than %d allowlist entries",
                 RL_CONFIG_MAX_ALLOW);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (rl_cidr_parse(items[i], &a->nets[i]) != 0) {
            snprintf(why, why_len, "'%s' is not ADDR or ADDR/PREFIX",
                     items[i]);
            memset(a, 0, sizeof *a);
            return -1;
        }
    }
    a->n = n;
    return 0;
}

bool
ssrf_allow_match(const ssrf_allow_t *a, const struct sockaddr *addr)
{
    uint8_t v4b[S_V4_LEN];
    const uint8_t *b6 = NULL;
    uint32_t v4;
    bool has4 = false;

    if (a == NULL)
        return false;
    if (addr->sa_family == AF_INET) {
        memcpy(v4b, &((const struct sockaddr_in *)addr)->sin_addr, S_V4_LEN);
        has4 = true;
    } else if (addr->sa_family == AF_INET6) {
        b6 = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
        if (s_embedded4(b6, &v4)) {
            /* Judged by the IPv4 address it carries, as it is classed:
             * an IPv6 range (::/0, ::/3) must not open IPv4 loopback or
             * the metadata address through ::ffff:169.254.169.254. */
            v4 = htonl(v4);
            memcpy(v4b, &v4, S_V4_LEN);
            has4 = true;
            b6 = NULL;
        }
    }
    for (size_t i = 0; i < a->n; i++) {
        if ((has4 && rl_cidr_has(&a->nets[i], AF_INET, v4b)) ||
            (b6 != NULL && rl_cidr_has(&a->nets[i], AF_INET6, b6)))
            return true;
    }
    return false;
}

bool
ssrf_allowed(const ssrf_allow_t *a, const struct sockaddr *addr)
{
    assert(addr != NULL);
    return ssrf_classify(addr) == SSRF_PUBLIC || ssrf_allow_match(a, addr);
}

const char *
ssrf_addr_text(const struct sockaddr *addr, char *buf, size_t len)
{
    const void *src = NULL;

    if (addr->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)addr)->sin_addr;
    else if (addr->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)addr)->sin6_addr;
    if (src == NULL || inet_ntop(addr->sa_family, src, buf,
                                 (socklen_t)len) == NULL)
        snprintf(buf, len, "?");
    return buf;
}
