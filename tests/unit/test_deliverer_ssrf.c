/*
 * test_deliverer_ssrf - the SSRF guard: every row of the special-purpose
 * table (first, middle and last address, and the public addresses just
 * outside), IPv4 carried in IPv6 (mapped, compatible, NAT64, 6to4,
 * Teredo), this host's addresses from an injected list, the allowlist
 * (entries parsed by rl_cidr, test_cidr.c) and its matching, and
 * egress.c's connect-time guard, its host addresses and the reasons it
 * gives.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "egress.h"
#include "rl_clock.h"
#include "rl_http.h"
#include "ssrf.h"

/* A sockaddr for an IPv4 or IPv6 text address. */
static const struct sockaddr *
s_addr(const char *text, struct sockaddr_storage *ss)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
    } else {
        if (inet_pton(AF_INET6, text, &in6->sin6_addr) != 1)
            fail_msg("not an address: %s", text);
        in6->sin6_family = AF_INET6;
    }
    return (const struct sockaddr *)ss;
}

static ssrf_class_t
s_class(const char *text)
{
    struct sockaddr_storage ss;

    return ssrf_classify(s_addr(text, &ss));
}

/* Asserts the class of text, naming it when it is not. */
static void
s_expect(const char *text, ssrf_class_t want)
{
    ssrf_class_t got = s_class(text);

    if (got != want)
        fail_msg("%s: %s, expected %s", text, ssrf_class_name(got),
                 ssrf_class_name(want));
}

/* --- the special-purpose table ---------------------------------------- */

typedef struct {
    const char *addr;
    ssrf_class_t cls;
} s_probe_t;

/* One table row: its block, and its first, a middle and its last
 * address with the class each must have (a sub-entry inside the block
 * names its own). */
typedef struct {
    const char *net;
    s_probe_t first, middle, last;
} s_row_t;

#define S_ROW(net, a, b, c, cls)                                               \
    {                                                                          \
        net, {a, cls}, {b, cls},                                               \
        {                                                                      \
            c, cls                                                             \
        }                                                                      \
    }
#define S_ONE(net, a, cls)                                                     \
    {                                                                          \
        net "/32", {a, cls}, {a, cls},                                         \
        {                                                                      \
            a, cls                                                             \
        }                                                                      \
    }
#define S_ONE6(net, a, cls)                                                    \
    {                                                                          \
        net "/128", {a, cls}, {a, cls},                                        \
        {                                                                      \
            a, cls                                                             \
        }                                                                      \
    }
#define S_FFFF "ffff:ffff:ffff:ffff:ffff:ffff"

static const s_row_t s_table[] = {
    /* IPv4 Special-Purpose Address Registry */
    {"0.0.0.0/8",
     {"0.0.0.0", SSRF_UNSPECIFIED},
     {"0.128.0.0", SSRF_THIS_NETWORK},
     {"0.255.255.255", SSRF_THIS_NETWORK}},
    S_ONE("0.0.0.0", "0.0.0.0", SSRF_UNSPECIFIED),
    S_ROW("10.0.0.0/8", "10.0.0.0", "10.128.0.0", "10.255.255.255",
          SSRF_PRIVATE),
    S_ROW("100.64.0.0/10", "100.64.0.0", "100.96.0.0", "100.127.255.255",
          SSRF_CGNAT),
    S_ROW("127.0.0.0/8", "127.0.0.0", "127.128.0.0", "127.255.255.255",
          SSRF_LOOPBACK),
    S_ROW("169.254.0.0/16", "169.254.0.0", "169.254.169.254", "169.254.255.255",
          SSRF_LINK_LOCAL),
    S_ROW("172.16.0.0/12", "172.16.0.0", "172.24.0.0", "172.31.255.255",
          SSRF_PRIVATE),
    {"192.0.0.0/24",
     {"192.0.0.0", SSRF_SERVICE_CONTINUITY},
     {"192.0.0.128", SSRF_IETF_PROTOCOL},
     {"192.0.0.255", SSRF_IETF_PROTOCOL}},
    S_ROW("192.0.0.0/29", "192.0.0.0", "192.0.0.4", "192.0.0.7",
          SSRF_SERVICE_CONTINUITY),
    S_ONE("192.0.0.8", "192.0.0.8", SSRF_DUMMY),
    S_ONE("192.0.0.9", "192.0.0.9", SSRF_ANYCAST),
    S_ONE("192.0.0.10", "192.0.0.10", SSRF_ANYCAST),
    S_ONE("192.0.0.170", "192.0.0.170", SSRF_NAT64_DISCOVERY),
    S_ONE("192.0.0.171", "192.0.0.171", SSRF_NAT64_DISCOVERY),
    S_ROW("192.0.2.0/24", "192.0.2.0", "192.0.2.128", "192.0.2.255",
          SSRF_DOCUMENTATION),
    S_ROW("192.31.196.0/24", "192.31.196.0", "192.31.196.128", "192.31.196.255",
          SSRF_AS112),
    S_ROW("192.52.193.0/24", "192.52.193.0", "192.52.193.128", "192.52.193.255",
          SSRF_AMT),
    S_ROW("192.88.99.0/24", "192.88.99.0", "192.88.99.128", "192.88.99.255",
          SSRF_6TO4_RELAY),
    S_ONE("192.88.99.2", "192.88.99.2", SSRF_ANYCAST),
    S_ROW("192.168.0.0/16", "192.168.0.0", "192.168.128.0", "192.168.255.255",
          SSRF_PRIVATE),
    S_ROW("192.175.48.0/24", "192.175.48.0", "192.175.48.128", "192.175.48.255",
          SSRF_AS112),
    S_ROW("198.18.0.0/15", "198.18.0.0", "198.19.0.0", "198.19.255.255",
          SSRF_BENCHMARKING),
    S_ROW("198.51.100.0/24", "198.51.100.0", "198.51.100.128", "198.51.100.255",
          SSRF_DOCUMENTATION),
    S_ROW("203.0.113.0/24", "203.0.113.0", "203.0.113.128", "203.0.113.255",
          SSRF_DOCUMENTATION),
    {"240.0.0.0/4",
     {"240.0.0.0", SSRF_RESERVED},
     {"248.0.0.0", SSRF_RESERVED},
     {"255.255.255.255", SSRF_BROADCAST}},
    S_ONE("255.255.255.255", "255.255.255.255", SSRF_BROADCAST),
    S_ROW("224.0.0.0/4", "224.0.0.0", "232.0.0.0", "239.255.255.255",
          SSRF_MULTICAST),

    /* IPv6 Special-Purpose Address Registry */
    S_ONE6("::", "::", SSRF_UNSPECIFIED),
    S_ONE6("::1", "::1", SSRF_LOOPBACK),
    /* judged as the IPv4 address they carry */
    {"::ffff:0:0/96",
     {"::ffff:0.0.0.0", SSRF_UNSPECIFIED},
     {"::ffff:128.0.0.0", SSRF_PUBLIC},
     {"::ffff:255.255.255.255", SSRF_BROADCAST}},
    {"64:ff9b::/96",
     {"64:ff9b::", SSRF_UNSPECIFIED},
     {"64:ff9b::128.0.0.0", SSRF_PUBLIC},
     {"64:ff9b::255.255.255.255", SSRF_BROADCAST}},
    /* refused, named by the IPv4 address they carry when not public */
    {"64:ff9b:1::/48",
     {"64:ff9b:1::", SSRF_UNSPECIFIED},
     {"64:ff9b:1:8000::8.8.8.8", SSRF_NAT64_LOCAL},
     {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", SSRF_BROADCAST}},
    S_ROW("100::/64", "100::", "100::8000:0:0:0", "100::ffff:ffff:ffff:ffff",
          SSRF_DISCARD),
    S_ROW("100:0:0:1::/64", "100:0:0:1::", "100:0:0:1:8000::",
          "100:0:0:1:ffff:ffff:ffff:ffff", SSRF_DUMMY),
    {"2001::/23",
     {"2001::", SSRF_TEREDO},
     {"2001:100::", SSRF_IETF_PROTOCOL},
     {"2001:1ff:" S_FFFF, SSRF_IETF_PROTOCOL}},
    S_ROW("2001::/32", "2001::", "2001:0:8000::", "2001:0:" S_FFFF,
          SSRF_TEREDO),
    S_ONE6("2001:1::1", "2001:1::1", SSRF_ANYCAST),
    S_ONE6("2001:1::2", "2001:1::2", SSRF_ANYCAST),
    S_ONE6("2001:1::3", "2001:1::3", SSRF_ANYCAST),
    S_ROW("2001:2::/48", "2001:2::", "2001:2:0:8000::",
          "2001:2:0:ffff:ffff:ffff:ffff:ffff", SSRF_BENCHMARKING),
    S_ROW("2001:3::/32", "2001:3::", "2001:3:8000::", "2001:3:" S_FFFF,
          SSRF_AMT),
    S_ROW("2001:4:112::/48", "2001:4:112::", "2001:4:112:8000::",
          "2001:4:112:ffff:ffff:ffff:ffff:ffff", SSRF_AS112),
    S_ROW("2001:10::/28", "2001:10::", "2001:18::", "2001:1f:" S_FFFF,
          SSRF_ORCHID),
    S_ROW("2001:20::/28", "2001:20::", "2001:28::", "2001:2f:" S_FFFF,
          SSRF_ORCHID),
    S_ROW("2001:30::/28", "2001:30::", "2001:38::", "2001:3f:" S_FFFF,
          SSRF_DRIP),
    S_ROW("2001:db8::/32", "2001:db8::", "2001:db8:8000::", "2001:db8:" S_FFFF,
          SSRF_DOCUMENTATION),
    {"2002::/16",
     {"2002::", SSRF_UNSPECIFIED},
     {"2002:8080:8080::", SSRF_6TO4},
     {"2002:ffff:" S_FFFF, SSRF_BROADCAST}},
    S_ROW("2620:4f:8000::/48", "2620:4f:8000::", "2620:4f:8000:8000::",
          "2620:4f:8000:ffff:ffff:ffff:ffff:ffff", SSRF_AS112),
    S_ROW("3fff::/20", "3fff::", "3fff:800::", "3fff:fff:" S_FFFF,
          SSRF_DOCUMENTATION),
    S_ROW("5f00::/16", "5f00::", "5f00:8000::", "5f00:ffff:" S_FFFF, SSRF_SRV6),
    S_ROW("fc00::/7", "fc00::", "fd00::", "fdff:ffff:" S_FFFF, SSRF_PRIVATE),
    S_ROW("fe80::/10", "fe80::", "fea0::", "febf:ffff:" S_FFFF,
          SSRF_LINK_LOCAL),

    /* IPv6 Address Space Registry */
    {"::/96",
     {"::", SSRF_UNSPECIFIED},
     {"::128.0.0.0", SSRF_PUBLIC},
     {"::255.255.255.255", SSRF_BROADCAST}},
    S_ROW("fec0::/10", "fec0::", "fee0::", "feff:ffff:" S_FFFF,
          SSRF_SITE_LOCAL),
    S_ROW("ff00::/8", "ff00::", "ff80::", "ffff:ffff:" S_FFFF, SSRF_MULTICAST),
    {"::/3",
     {"::", SSRF_UNSPECIFIED},
     {"1000::", SSRF_RESERVED},
     {"1fff:ffff:" S_FFFF, SSRF_RESERVED}},
    S_ROW("4000::/2", "4000::", "6000::", "7fff:ffff:" S_FFFF, SSRF_RESERVED),
    {"8000::/1",
     {"8000::", SSRF_RESERVED},
     {"c000::", SSRF_RESERVED},
     {"ffff:ffff:" S_FFFF, SSRF_MULTICAST}},
};

#define S_NTABLE (sizeof s_table / sizeof s_table[0])

/* The first (or last) address of net as a sockaddr. */
static const struct sockaddr *
s_edge(const rl_cidr_t *net, bool last, struct sockaddr_storage *ss)
{
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    uint8_t b[16];
    size_t len = net->family == AF_INET ? 4 : 16;

    memcpy(b, net->addr, len);
    for (size_t bit = (size_t)net->prefix; last && bit < len * 8; bit++)
        b[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
    memset(ss, 0, sizeof *ss);
    ss->ss_family = (sa_family_t)net->family;
    memcpy(net->family == AF_INET ? (void *)&in->sin_addr
                                  : (void *)&in6->sin6_addr,
           b, len);
    return (const struct sockaddr *)ss;
}

static bool
s_same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
    size_t len = a->sa_family == AF_INET ? 4 : 16;
    const void *pa =
        a->sa_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)a)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr;
    const void *pb =
        b->sa_family == AF_INET
            ? (const void *)&((const struct sockaddr_in *)b)->sin_addr
            : (const void *)&((const struct sockaddr_in6 *)b)->sin6_addr;

    return a->sa_family == b->sa_family && memcmp(pa, pb, len) == 0;
}

/* Every row of s_table: its probes are its real first and last
 * addresses and a middle one, each classified as the table says. */
static void
test_table_probes(void **state)
{
    (void)state;
    for (size_t i = 0; i < S_NTABLE; i++) {
        const s_row_t *row = &s_table[i];
        const s_probe_t *probes[3] = {&row->first, &row->middle, &row->last};
        struct sockaddr_storage edge, probe;
        rl_cidr_t net;

        if (rl_cidr_parse(row->net, &net) != 0)
            fail_msg("bad test row %s", row->net);
        if (!s_same_addr(s_edge(&net, false, &edge),
                         s_addr(row->first.addr, &probe)) ||
            !s_same_addr(s_edge(&net, true, &edge),
                         s_addr(row->last.addr, &probe)))
            fail_msg("%s: first or last probe is not its edge", row->net);
        for (size_t p = 0; p < 3; p++) {
            const struct sockaddr *sa = s_addr(probes[p]->addr, &probe);
            const uint8_t *bytes =
                sa->sa_family == AF_INET
                    ? (const uint8_t *)&((const struct sockaddr_in *)sa)
                          ->sin_addr
                    : ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

            if (!rl_cidr_has(&net, sa->sa_family, bytes))
                fail_msg("%s: probe %s outside", row->net, probes[p]->addr);
            s_expect(probes[p]->addr, probes[p]->cls);
        }
    }
}

static bool
s_same_net(const rl_cidr_t *a, const rl_cidr_t *b)
{
    return a->family == b->family && a->prefix == b->prefix &&
           memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

/* The code's table and this test's list the same blocks, each once,
 * every row has its RFC and name, and sub-entries keep their parent's
 * family. */
static void
test_table_complete(void **state)
{
    size_t n;
    const ssrf_range_t *rows = ssrf_ranges(&n);
    char text[RL_CIDR_NET_TEXT];

    (void)state;
    assert_int_equal(n, S_NTABLE);
    for (size_t i = 0; i < n; i++) {
        size_t found = 0;

        for (size_t t = 0; t < S_NTABLE; t++) {
            rl_cidr_t net;

            assert_int_equal(rl_cidr_parse(s_table[t].net, &net), 0);
            found += s_same_net(&net, &rows[i].net);
        }
        if (found != 1)
            fail_msg("row %s is in the test table %zu times",
                     rl_cidr_text(&rows[i].net, text, sizeof text), found);
        for (size_t j = i + 1; j < n; j++)
            assert_false(s_same_net(&rows[i].net, &rows[j].net));
        assert_int_equal(strncmp(rows[i].rfc, "RFC ", 4), 0);
        assert_true(strlen(rows[i].name) > 0);
        assert_true(rows[i].embed == SSRF_EMBED_NONE ||
                    rows[i].net.family == AF_INET6);
        assert_true(rows[i].cls != SSRF_THIS_HOST &&
                    rows[i].cls != SSRF_UNKNOWN);
        /* only rows judged as their IPv4 address may be public */
        assert_true(rows[i].cls != SSRF_PUBLIC ||
                    rows[i].embed == SSRF_EMBED_JUDGED);
    }
}

/* Public addresses on either side of the blocks stay public. */
static void
test_public_neighbours(void **state)
{
    static const char *const public[] = {
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "191.255.255.255",
        "192.0.1.255",
        "192.0.1.0",
        "192.0.3.0",
        "192.31.195.255",
        "192.31.197.0",
        "192.52.192.255",
        "192.52.194.0",
        "192.88.98.255",
        "192.88.100.0",
        "192.167.255.255",
        "192.169.0.0",
        "192.175.47.255",
        "192.175.49.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.99.255",
        "198.51.101.0",
        "203.0.112.255",
        "203.0.114.0",
        "223.255.255.255",
        "93.184.216.34",
        "2000::",
        "2001:200::",
        "2001:db7:" S_FFFF,
        "2001:db9::",
        "2001:4860:4860::8888",
        "2003::",
        "2620:4f:7fff:ffff:ffff:ffff:ffff:ffff",
        "2620:4f:8001::",
        "2606:4700:4700::1111",
        "3ffe:ffff:" S_FFFF,
        "3fff:1000::",
        "3fff:ffff:" S_FFFF,
        "2a00:1450:4001:81b::200e",
    };

    (void)state;
    for (size_t i = 0; i < sizeof public / sizeof public[0]; i++)
        s_expect(public[i], SSRF_PUBLIC);
}

/* IPv4 carried in IPv6: judged as it (mapped, compatible, NAT64
 * well-known prefix), or refused and named by it when it is not public
 * (local-use NAT64, 6to4); Teredo is refused whatever it carries. */
static void
test_embedded_ipv4(void **state)
{
    static const s_probe_t cases[] = {
        {"::ffff:127.0.0.1", SSRF_LOOPBACK},
        {"::ffff:10.1.2.3", SSRF_PRIVATE},
        {"::ffff:169.254.169.254", SSRF_LINK_LOCAL},
        {"::ffff:100.64.1.1", SSRF_CGNAT},
        {"::ffff:192.0.0.9", SSRF_ANYCAST},
        {"::ffff:198.18.0.1", SSRF_BENCHMARKING},
        {"::ffff:240.0.0.1", SSRF_RESERVED},
        {"::ffff:8.8.8.8", SSRF_PUBLIC},
        {"::127.0.0.1", SSRF_LOOPBACK},
        {"::10.0.0.1", SSRF_PRIVATE},
        {"::0.0.0.2", SSRF_THIS_NETWORK},
        {"::8.8.8.8", SSRF_PUBLIC},
        {"64:ff9b::192.168.0.1", SSRF_PRIVATE},
        {"64:ff9b::127.0.0.1", SSRF_LOOPBACK},
        {"64:ff9b::169.254.169.254", SSRF_LINK_LOCAL},
        {"64:ff9b::203.0.113.9", SSRF_DOCUMENTATION},
        {"64:ff9b::8.8.4.4", SSRF_PUBLIC},
        {"64:ff9b:1::10.0.0.1", SSRF_PRIVATE},
        {"64:ff9b:1:abcd::127.0.0.1", SSRF_LOOPBACK},
        {"64:ff9b:1::8.8.8.8", SSRF_NAT64_LOCAL},
        {"2002:a00:1::", SSRF_PRIVATE},           /* 10.0.0.1 */
        {"2002:7f00:1::1", SSRF_LOOPBACK},        /* 127.0.0.1 */
        {"2002:a9fe:a9fe:1::5", SSRF_LINK_LOCAL}, /* 169.254.169.254 */
        {"2002:c000:201::", SSRF_DOCUMENTATION},  /* 192.0.2.1 */
        {"2002:808:808::1", SSRF_6TO4},           /* 8.8.8.8: still refused */
        {"2001:0:4136:e378:8000:63bf:3fff:fdd2", SSRF_TEREDO},
        {"2001::a00:1", SSRF_TEREDO},
        {"::ffff:0:808:808", SSRF_RESERVED}, /* IPv4-translated, obsolete */
        {"2001:1::4", SSRF_IETF_PROTOCOL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        s_expect(cases[i].addr, cases[i].cls);
}

/* The row that gives an address its class; its IPv4 address's row for
 * the forms judged or named by it. */
static void
test_range_of(void **state)
{
    struct sockaddr_storage ss, other;
    const ssrf_range_t *r;

    (void)state;
    memset(&other, 0, sizeof other);
    other.ss_family = AF_UNIX;
    r = ssrf_range_of(s_addr("192.0.2.1", &ss));
    assert_non_null(r);
    assert_string_equal(r->rfc, "RFC 5737");
    assert_null(ssrf_range_of(s_addr("8.8.8.8", &ss)));
    assert_null(ssrf_range_of(s_addr("64:ff9b::8.8.8.8", &ss)));
    r = ssrf_range_of(s_addr("::ffff:10.0.0.1", &ss));
    assert_non_null(r);
    assert_string_equal(r->rfc, "RFC 1918");
    r = ssrf_range_of(s_addr("2002:808:808::", &ss));
    assert_non_null(r);
    assert_int_equal(r->cls, SSRF_6TO4);
    r = ssrf_range_of(s_addr("2002:a00:1::", &ss));
    assert_non_null(r);
    assert_int_equal(r->cls, SSRF_PRIVATE);
    assert_null(ssrf_range_of((const struct sockaddr *)&other));
    assert_int_equal(ssrf_classify((const struct sockaddr *)&other),
                     SSRF_UNKNOWN);
    assert_false(
        ssrf_allowed(NULL, NULL, (const struct sockaddr *)&other, NULL));
}

/* Every class has a name of its own. */
static void
test_class_names(void **state)
{
    (void)state;
    for (int i = 0; i < SSRF_NCLASSES; i++) {
        const char *name = ssrf_class_name((ssrf_class_t)i);

        assert_true(strlen(name) > 0);
        assert_true(i == SSRF_UNKNOWN || strcmp(name, "unknown") != 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(name, ssrf_class_name((ssrf_class_t)j));
    }
    assert_string_equal(ssrf_class_name(SSRF_THIS_HOST), "this host");
    assert_string_equal(ssrf_class_name(SSRF_LINK_LOCAL), "link-local");
    assert_string_equal(ssrf_class_name(SSRF_NCLASSES), "unknown");
}

/* --- this host's addresses ---------------------------------------------- */

/* Sets h to the addresses of texts[0..n). */
static void
s_hosts(ssrf_hosts_t *h, const char *const *texts, size_t n)
{
    struct sockaddr_storage ss[16];
    const struct sockaddr *addrs[16];

    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        addrs[i] = s_addr(texts[i], &ss[i]);
    ssrf_hosts_set(h, addrs, n);
}

static bool
s_has(const ssrf_hosts_t *h, const char *text)
{
    struct sockaddr_storage ss;

    return ssrf_hosts_has(h, s_addr(text, &ss));
}

/* The list keeps each address once, leaves loopback out, and finds an
 * address in any of its spellings. */
static void
test_hosts_list(void **state)
{
    static const char *const mine[] = {
        "192.0.2.2",     "fd00::2",  "fe80::fc:ff:fe00:1", "127.0.0.1", "::1",
        "93.184.216.34", "10.9.8.7", "192.0.2.2",          "fd00::2",
    };
    static ssrf_hosts_t h;
    const struct sockaddr *none[] = {NULL};

    (void)state;
    s_hosts(&h, mine, sizeof mine / sizeof mine[0]);
    assert_int_equal(h.n, 5);
    assert_int_equal(h.dropped, 0);
    for (size_t i = 1; i < h.n; i++) /* ascending, distinct */
        assert_true(memcmp(h.addr[i - 1], h.addr[i], SSRF_ADDR_LEN) < 0);
    assert_true(s_has(&h, "192.0.2.2"));
    assert_true(s_has(&h, "::ffff:192.0.2.2"));
    assert_true(s_has(&h, "::192.0.2.2"));
    assert_true(s_has(&h, "64:ff9b::192.0.2.2"));
    assert_true(s_has(&h, "64:ff9b::93.184.216.34"));
    assert_true(s_has(&h, "2002:5db8:d822::1"));   /* 93.184.216.34 */
    assert_true(s_has(&h, "64:ff9b:1::10.9.8.7")); /* carried */
    assert_true(s_has(&h, "fd00::2"));
    assert_true(s_has(&h, "fe80::fc:ff:fe00:1"));
    assert_false(s_has(&h, "192.0.2.3"));
    assert_false(s_has(&h, "fd00::3"));
    assert_false(s_has(&h, "127.0.0.1")); /* the loopback rule's */
    assert_false(s_has(&h, "::1"));
    assert_false(s_has(NULL, "192.0.2.2"));
    ssrf_hosts_set(&h, none, 1);
    assert_int_equal(h.n, 0);
    ssrf_hosts_set(&h, NULL, 0);
    assert_int_equal(h.n, 0);
    assert_false(s_has(&h, "192.0.2.2"));
}

/* Past SSRF_HOSTS_MAX, link-local addresses give way to the others and
 * what does not fit is counted. */
static void
test_hosts_cap(void **state)
{
    enum { LINK = 20, ROOM = 5 };
    static struct sockaddr_in6 sin6[SSRF_HOSTS_MAX + LINK];
    static const struct sockaddr *addrs[SSRF_HOSTS_MAX + LINK];
    static ssrf_hosts_t h;
    struct sockaddr_storage ss;

    (void)state;
    for (size_t i = 0; i < SSRF_HOSTS_MAX + LINK; i++) {
        /* link-local first: they must still come last */
        const char *prefix = i < LINK ? "fe80::" : "2001:4860::";

        memset(&sin6[i], 0, sizeof sin6[i]);
        sin6[i].sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, prefix, &sin6[i].sin6_addr), 1);
        sin6[i].sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
        sin6[i].sin6_addr.s6_addr[15] = (uint8_t)i;
        addrs[i] = (const struct sockaddr *)&sin6[i];
    }
    ssrf_hosts_set(&h, addrs, SSRF_HOSTS_MAX + LINK);
    assert_int_equal(h.n, SSRF_HOSTS_MAX);
    assert_int_equal(h.dropped, LINK);
    assert_true(ssrf_hosts_has(&h, addrs[LINK]));
    assert_true(ssrf_hosts_has(&h, addrs[SSRF_HOSTS_MAX + LINK - 1]));
    assert_false(ssrf_hosts_has(&h, addrs[0]));
    /* ROOM fewer others: ROOM link-local ones fit */
    ssrf_hosts_set(&h, addrs, SSRF_HOSTS_MAX + LINK - ROOM);
    assert_int_equal(h.n, SSRF_HOSTS_MAX);
    assert_int_equal(h.dropped, LINK - ROOM);
    assert_true(ssrf_hosts_has(&h, addrs[0]));
    assert_true(ssrf_hosts_has(&h, addrs[ROOM - 1]));
    assert_false(ssrf_hosts_has(&h, addrs[ROOM]));
    assert_false(ssrf_hosts_has(&h, s_addr("2001:4860::ffff", &ss)));
}

/* The verdict: this host's addresses are refused as "this host" whatever
 * their class, and opened only by an entry naming them (as is the
 * unspecified address); a range opens the rest of what it covers,
 * loopback included. */
static void
test_hosts_verdict(void **state)
{
    static const char *const mine[] = {"192.0.2.2", "fd00::2", "93.184.216.34"};
    static const struct {
        const char *addr;
        bool none;        /* allowed without an allowlist */
        bool wide;        /* allowed by the wide ranges */
        bool exact;       /* allowed by the exact entries */
        ssrf_class_t why; /* the class given */
    } cases[] = {
        {"93.184.216.34", false, false, true, SSRF_THIS_HOST},
        {"::ffff:93.184.216.34", false, false, true, SSRF_THIS_HOST},
        {"64:ff9b::93.184.216.34", false, false, true, SSRF_THIS_HOST},
        {"93.184.216.35", true, true, true, SSRF_PUBLIC},
        {"192.0.2.2", false, false, true, SSRF_THIS_HOST},
        {"192.0.2.3", false, true, false, SSRF_DOCUMENTATION},
        {"fd00::2", false, false, true, SSRF_THIS_HOST},
        {"fd00::3", false, true, false, SSRF_PRIVATE},
        {"0.0.0.0", false, false, true, SSRF_UNSPECIFIED},
        {"::", false, false, false, SSRF_UNSPECIFIED},
        {"127.0.0.1", false, true, false, SSRF_LOOPBACK},
        {"::1", false, true, false, SSRF_LOOPBACK},
        {"2002:5db8:d822::", false, false, false, SSRF_THIS_HOST},
    };
    const char *const wide[] = {"0.0.0.0/0", "::/0"};
    const char *const exact[] = {"192.0.2.2", "93.184.216.34/32", "fd00::2/128",
                                 "0.0.0.0"};
    static ssrf_hosts_t h;
    struct sockaddr_storage ss;
    ssrf_allow_t a_wide, a_exact;
    char why[128];

    (void)state;
    s_hosts(&h, mine, sizeof mine / sizeof mine[0]);
    assert_int_equal(ssrf_allow_parse(&a_wide, wide, 2, why, sizeof why), 0);
    assert_int_equal(ssrf_allow_parse(&a_exact, exact, 4, why, sizeof why), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct sockaddr *addr = s_addr(cases[i].addr, &ss);
        ssrf_class_t cls = SSRF_UNKNOWN;
        bool got[3];

        got[0] = ssrf_allowed(NULL, &h, addr, &cls);
        if (cls != cases[i].why)
            fail_msg("%s: %s, expected %s", cases[i].addr, ssrf_class_name(cls),
                     ssrf_class_name(cases[i].why));
        got[1] = ssrf_allowed(&a_wide, &h, addr, NULL);
        got[2] = ssrf_allowed(&a_exact, &h, addr, NULL);
        if (got[0] != cases[i].none || got[1] != cases[i].wide ||
            got[2] != cases[i].exact)
            fail_msg("%s: allowed %d/%d/%d, expected %d/%d/%d", cases[i].addr,
                     got[0], got[1], got[2], cases[i].none, cases[i].wide,
                     cases[i].exact);
    }
    /* without a host list, the table alone decides */
    assert_true(ssrf_allowed(NULL, NULL, s_addr("93.184.216.34", &ss), NULL));
}

/* --- the allowlist ------------------------------------------------------ */

static void
test_allowlist(void **state)
{
    const char *const items[] = {"127.0.0.1/32", "10.1.0.0/16", "fd00::/8",
                                 "198.18.0.0/16", "2002::/16"};
    const char *const bad[] = {"127.0.0.1/32", "nope"};
    const char *many[RL_CONFIG_MAX_ALLOW + 1];
    struct sockaddr_storage ss;
    ssrf_allow_t a;
    char why[128];

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, items, 5, why, sizeof why), 0);
    assert_int_equal(a.n, 5);
    assert_true(ssrf_allowed(&a, NULL, s_addr("127.0.0.1", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("127.0.0.2", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("::ffff:127.0.0.1", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("10.1.200.3", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("64:ff9b::10.1.0.9", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("10.2.0.1", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("fd12::5", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("fc00::5", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("::1", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("169.254.169.254", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("198.18.7.7", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("198.19.7.7", &ss), NULL));
    /* 6to4 is matched as itself, never by the IPv4 it carries */
    assert_true(ssrf_allowed(&a, NULL, s_addr("2002:808:808::", &ss), NULL));
    assert_false(ssrf_allow_match(&a, s_addr("2001::a01:1", &ss)));
    assert_true(ssrf_allow_match(&a, s_addr("::ffff:10.1.2.3", &ss)));
    assert_false(ssrf_allow_match(NULL, s_addr("10.1.2.3", &ss)));
    assert_true(ssrf_allowed(&a, NULL, s_addr("8.8.8.8", &ss), NULL));
    assert_true(ssrf_allowed(NULL, NULL, s_addr("8.8.8.8", &ss), NULL));
    assert_false(ssrf_allowed(NULL, NULL, s_addr("127.0.0.1", &ss), NULL));
    assert_int_equal(ssrf_allow_parse(&a, bad, 2, why, sizeof why), -1);
    assert_non_null(strstr(why, "nope"));
    assert_int_equal(a.n, 0);
    for (size_t i = 0; i < RL_CONFIG_MAX_ALLOW + 1; i++)
        many[i] = "10.0.0.0/8";
    assert_int_equal(
        ssrf_allow_parse(&a, many, RL_CONFIG_MAX_ALLOW + 1, why, sizeof why),
        -1);
    assert_non_null(strstr(why, "more than"));
    assert_int_equal(ssrf_allow_parse(&a, NULL, 0, why, sizeof why), 0);
    assert_false(ssrf_allowed(&a, NULL, s_addr("127.0.0.1", &ss), NULL));
}

/* --- egress ------------------------------------------------------------ */

static rl_http_t *
s_http(struct event_base *base)
{
    rl_http_t *http;

    assert_non_null(base);
    http = rl_http_new(base, &(rl_http_opts_t){.max_host_connections = 4});
    assert_non_null(http);
    return http;
}

/* A non-loopback address of this machine's interfaces into ss, read
 * the way egress.c reads them; false when it has none. */
static bool
s_own_address(struct sockaddr_storage *ss)
{
    struct ifaddrs *all = NULL;
    bool found = false;

    assert_int_equal(getifaddrs(&all), 0);
    for (struct ifaddrs *i = all; i != NULL && !found; i = i->ifa_next) {
        const struct sockaddr *sa = i->ifa_addr;

        if (sa == NULL ||
            (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
            ssrf_classify(sa) == SSRF_LOOPBACK)
            continue;
        memset(ss, 0, sizeof *ss);
        memcpy(ss, sa,
               sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                        : sizeof(struct sockaddr_in6));
        found = true;
    }
    freeifaddrs(all);
    return found;
}

/* An IPv6 range does not open IPv4 addresses carried in IPv6 forms:
 * they are judged as the IPv4 address, like their class. */
static void
test_allowlist_embedded4(void **state)
{
    const char *const items[] = {"::/0", "10.9.0.0/16"};
    struct sockaddr_storage ss;
    ssrf_allow_t a;
    char why[128];

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, items, 2, why, sizeof why), 0);
    assert_true(ssrf_allowed(&a, NULL, s_addr("fd12::5", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("::1", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("127.0.0.1", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("::ffff:127.0.0.1", &ss), NULL));
    assert_false(
        ssrf_allowed(&a, NULL, s_addr("::ffff:169.254.169.254", &ss), NULL));
    assert_false(
        ssrf_allowed(&a, NULL, s_addr("64:ff9b::10.0.0.1", &ss), NULL));
    assert_false(ssrf_allowed(&a, NULL, s_addr("::10.0.0.1", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("::ffff:10.9.1.1", &ss), NULL));
    assert_true(ssrf_allowed(&a, NULL, s_addr("64:ff9b::10.9.1.1", &ss), NULL));
}

/* The guard refuses what ssrf refuses, and counts it. */
static void
test_egress_guard(void **state)
{
    const char *const items[] = {"127.0.0.1/32", "10.0.0.0/8"};
    struct event_base *base = event_base_new();
    rl_http_t *http = s_http(base);
    struct sockaddr_storage ss;
    char why[EGRESS_WHY_LEN];
    ssrf_allow_t a;
    egress_t *eg;

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, items, 2, why, sizeof why), 0);
    eg = egress_new(base, http, &a);
    assert_non_null(eg);
    assert_true(egress_guard(s_addr("127.0.0.1", &ss), eg));
    assert_true(egress_guard(s_addr("10.0.0.1", &ss), eg)); /* opened */
    assert_false(egress_guard(s_addr("169.254.169.254", &ss), eg));
    assert_false(egress_guard(s_addr("::ffff:224.0.0.1", &ss), eg));
    assert_false(egress_guard(s_addr("2002:a00:1::", &ss), eg));
    assert_int_equal(egress_refused(eg), 3);
    egress_destroy(&eg);
    assert_null(eg);
    egress_destroy(&eg);
    rl_http_destroy(&http);
    event_base_free(base);
}

/* This machine's own addresses, as getifaddrs(3) gives them, are the
 * guard's host list, read again by egress_refresh(), and refused even
 * under an allowlist of everything. */
static void
test_egress_own_addresses(void **state)
{
    const char *const everything[] = {"0.0.0.0/0", "::/0"};
    struct event_base *base = event_base_new();
    rl_http_t *http = s_http(base);
    struct sockaddr_storage own, ss;
    const struct sockaddr *sa = (const struct sockaddr *)&own;
    char why[EGRESS_WHY_LEN];
    ssrf_allow_t a;
    egress_t *eg;

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, everything, 2, why, sizeof why), 0);
    eg = egress_new(base, http, &a);
    assert_non_null(eg);
    assert_int_equal(egress_refresh(eg), 0);
    assert_true(egress_guard(s_addr("203.0.113.9", &ss), eg)); /* opened */
    if (s_own_address(&own)) {
        assert_true(ssrf_hosts_has(egress_hosts(eg), sa));
        assert_false(egress_guard(sa, eg));
        assert_int_equal(egress_refused(eg), 1);
    } else {
        print_message("this machine has no non-loopback address: its "
                      "refusal is checked with an injected list only\n");
    }
    egress_destroy(&eg);
    rl_http_destroy(&http);
    event_base_free(base);
}

/* The reason written from a response: its refused addresses in order
 * with the classes the guard refused them as ("this host" for this
 * machine's own), "..." when more were refused than it keeps, and the
 * generic reason when it names none or the list does not fit. */
static void
test_egress_refusal(void **state)
{
    struct event_base *base = event_base_new();
    rl_http_t *http = s_http(base);
    struct sockaddr_storage addrs[2];
    rl_http_resp_t resp = {0};
    char why[EGRESS_WHY_LEN];
    char want[EGRESS_WHY_LEN];
    char text[SSRF_ADDR_TEXT];
    char small[48]; /* the generic reason fits, the list does not */
    ssrf_allow_t none;
    egress_t *eg;

    (void)state;
    memset(&none, 0, sizeof none);
    eg = egress_new(base, http, &none);
    assert_non_null(eg);
    resp.refused = true;
    egress_refusal(eg, &resp, why, sizeof why);
    assert_string_equal(why, EGRESS_REFUSED_AT_CONNECT);
    s_addr("10.0.0.7", &addrs[0]);
    s_addr("fd00::7", &addrs[1]);
    resp.refused_addr = addrs;
    resp.nrefused = 1;
    egress_refusal(eg, &resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private)");
    resp.nrefused = 2;
    egress_refusal(eg, &resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private), "
                             "fd00::7 (private)");
    resp.refused_more = true;
    egress_refusal(eg, &resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private), "
                             "fd00::7 (private), ...");
    egress_refusal(eg, &resp, small, sizeof small);
    assert_string_equal(small, EGRESS_REFUSED_AT_CONNECT);
    /* a public address it refused can only have been this host's */
    s_addr("198.51.99.7", &addrs[0]);
    resp.nrefused = 1;
    resp.refused_more = false;
    egress_refusal(eg, &resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 198.51.99.7 (this host)");
    if (s_own_address(&addrs[0])) {
        snprintf(want, sizeof want, "address not allowed: %s (this host)",
                 ssrf_addr_text((const struct sockaddr *)&addrs[0], text,
                                sizeof text));
        egress_refusal(eg, &resp, why, sizeof why);
        assert_string_equal(why, want);
    }
    egress_destroy(&eg);
    rl_http_destroy(&http);
    event_base_free(base);
}

typedef struct {
    int calls;
    bool refused;
    const egress_t *eg;
    char why[EGRESS_WHY_LEN];
} s_seen_t;

static void
s_on_refused(const rl_http_resp_t *resp, void *arg)
{
    s_seen_t *seen = arg;

    seen->calls++;
    seen->refused = resp->refused;
    egress_refusal(seen->eg, resp, seen->why, sizeof seen->why);
}

/* Requests refused together at the same port each name only their own
 * addresses (never another request's: another account's webhook), in
 * curl's reading of the URL, and no socket is opened for any. */
static void
test_egress_refused_requests(void **state)
{
    static const struct {
        const char *url;
        const char *why; /* NULL: the host name case below */
    } cases[] = {
        {"http://2852039166:9/latest",
         "address not allowed: 169.254.169.254 (link-local)"},
        {"http://10.1:9/hook", "address not allowed: 10.0.0.1 (private)"},
        {"http://[::ffff:127.0.0.2]:9/x",
         "address not allowed: ::ffff:127.0.0.2 (loopback)"},
        {"http://198.18.0.1:9/x",
         "address not allowed: 198.18.0.1 (benchmarking)"},
        {"http://[64:ff9b::a00:5]:9/x",
         "address not allowed: 64:ff9b::a00:5 (private)"},
        {"http://localhost:9/x", NULL},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    struct event_base *base = event_base_new();
    rl_http_t *http = s_http(base);
    s_seen_t seen[N];
    ssrf_allow_t none;
    egress_t *eg;
    int64_t deadline;
    int done = 0;

    (void)state;
    memset(&none, 0, sizeof none);
    memset(seen, 0, sizeof seen);
    eg = egress_new(base, http, &none);
    assert_non_null(eg);
    for (size_t i = 0; i < N; i++) {
        seen[i].eg = eg;
        assert_non_null(rl_http_request(http, "POST", cases[i].url, NULL, "{}",
                                        2, 5000, 1024, s_on_refused, &seen[i]));
    }
    deadline = rl_clock_mono_ms() + 10000;
    while (done < N && rl_clock_mono_ms() < deadline) {
        event_base_loop(base, EVLOOP_ONCE);
        done = 0;
        for (size_t i = 0; i < N; i++)
            done += seen[i].calls;
    }
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(seen[i].calls, 1);
        assert_true(seen[i].refused);
        if (cases[i].why != NULL) {
            assert_string_equal(seen[i].why, cases[i].why);
            continue;
        }
        /* localhost: 127.0.0.1 and, where it resolves so, ::1 */
        assert_non_null(strstr(seen[i].why, "127.0.0.1 (loopback)"));
        assert_null(strstr(seen[i].why, "127.0.0.2"));
        assert_null(strstr(seen[i].why, "10.0.0.1"));
        assert_null(strstr(seen[i].why, "169.254"));
    }
    assert_true(egress_refused(eg) >= N);
    rl_http_destroy(&http);
    egress_destroy(&eg);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_probes),
        cmocka_unit_test(test_table_complete),
        cmocka_unit_test(test_public_neighbours),
        cmocka_unit_test(test_embedded_ipv4),
        cmocka_unit_test(test_range_of),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_hosts_list),
        cmocka_unit_test(test_hosts_cap),
        cmocka_unit_test(test_hosts_verdict),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_allowlist_embedded4),
        cmocka_unit_test(test_egress_guard),
        cmocka_unit_test(test_egress_own_addresses),
        cmocka_unit_test(test_egress_refusal),
        cmocka_unit_test(test_egress_refused_requests),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
