/*
 * test_deliverer_ssrf - the SSRF guard: address classes (IPv4, IPv6,
 * IPv4-mapped and other embedded forms), allowlist parsing and matching,
 * and the guard and host check of egress.c refusing without traffic.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "egress.h"
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
        assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
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

static void
test_ipv4(void **state)
{
    (void)state;
    assert_int_equal(s_class("127.0.0.1"), SSRF_LOOPBACK);
    assert_int_equal(s_class("127.255.255.254"), SSRF_LOOPBACK);
    assert_int_equal(s_class("10.0.0.1"), SSRF_PRIVATE);
    assert_int_equal(s_class("172.16.0.1"), SSRF_PRIVATE);
    assert_int_equal(s_class("172.31.255.255"), SSRF_PRIVATE);
    assert_int_equal(s_class("172.32.0.1"), SSRF_PUBLIC);
    assert_int_equal(s_class("172.15.255.255"), SSRF_PUBLIC);
    assert_int_equal(s_class("192.168.1.1"), SSRF_PRIVATE);
    assert_int_equal(s_class("192.169.0.1"), SSRF_PUBLIC);
    assert_int_equal(s_class("169.254.169.254"), SSRF_LINK_LOCAL);
    assert_int_equal(s_class("100.64.0.1"), SSRF_CGNAT);
    assert_int_equal(s_class("100.127.255.255"), SSRF_CGNAT);
    assert_int_equal(s_class("100.128.0.1"), SSRF_PUBLIC);
    assert_int_equal(s_class("224.0.0.1"), SSRF_MULTICAST);
    assert_int_equal(s_class("239.255.255.250"), SSRF_MULTICAST);
    assert_int_equal(s_class("255.255.255.255"), SSRF_MULTICAST);
    assert_int_equal(s_class("0.0.0.0"), SSRF_UNSPECIFIED);
    assert_int_equal(s_class("0.1.2.3"), SSRF_UNSPECIFIED);
    assert_int_equal(s_class("8.8.8.8"), SSRF_PUBLIC);
    assert_int_equal(s_class("93.184.216.34"), SSRF_PUBLIC);
    assert_string_equal(ssrf_class_name(SSRF_LINK_LOCAL), "link-local");
    assert_string_equal(ssrf_class_name(SSRF_PUBLIC), "public");
}

static void
test_ipv6(void **state)
{
    (void)state;
    assert_int_equal(s_class("::1"), SSRF_LOOPBACK);
    assert_int_equal(s_class("::"), SSRF_UNSPECIFIED);
    assert_int_equal(s_class("fc00::1"), SSRF_PRIVATE);
    assert_int_equal(s_class("fdff:ffff::1"), SSRF_PRIVATE);
    assert_int_equal(s_class("fe80::1"), SSRF_LINK_LOCAL);
    assert_int_equal(s_class("febf::1"), SSRF_LINK_LOCAL);
    assert_int_equal(s_class("ff02::1"), SSRF_MULTICAST);
    assert_int_equal(s_class("2606:4700:4700::1111"), SSRF_PUBLIC);
    assert_int_equal(s_class("2001:db8::1"), SSRF_PUBLIC);
}

static void
test_embedded_ipv4(void **state)
{
    (void)state;
    assert_int_equal(s_class("::ffff:127.0.0.1"), SSRF_LOOPBACK);
    assert_int_equal(s_class("::ffff:10.1.2.3"), SSRF_PRIVATE);
    assert_int_equal(s_class("::ffff:169.254.169.254"), SSRF_LINK_LOCAL);
    assert_int_equal(s_class("::ffff:100.64.1.1"), SSRF_CGNAT);
    assert_int_equal(s_class("::ffff:0.0.0.0"), SSRF_UNSPECIFIED);
    assert_int_equal(s_class("::ffff:8.8.8.8"), SSRF_PUBLIC);
    assert_int_equal(s_class("::127.0.0.1"), SSRF_LOOPBACK); /* compat */
    assert_int_equal(s_class("64:ff9b::192.168.0.1"), SSRF_PRIVATE);
    assert_int_equal(s_class("64:ff9b::8.8.4.4"), SSRF_PUBLIC);
}

static void
test_net_parse(void **state)
{
    ssrf_net_t n;

    (void)state;
    assert_int_equal(ssrf_net_parse("127.0.0.0/8", &n), 0);
    assert_int_equal(n.family, AF_INET);
    assert_int_equal(n.prefix, 8);
    assert_int_equal(ssrf_net_parse("10.1.2.3", &n), 0);
    assert_int_equal(n.prefix, 32);
    assert_int_equal(ssrf_net_parse("10.1.2.3/16", &n), 0);
    assert_int_equal(n.addr[2], 0); /* host bits cleared */
    assert_int_equal(n.addr[3], 0);
    assert_int_equal(ssrf_net_parse("fd00::/8", &n), 0);
    assert_int_equal(n.family, AF_INET6);
    assert_int_equal(ssrf_net_parse("::1", &n), 0);
    assert_int_equal(n.prefix, 128);
    assert_int_equal(ssrf_net_parse("10.0.0.0/33", &n), -1);
    assert_int_equal(ssrf_net_parse("fd00::/129", &n), -1);
    assert_int_equal(ssrf_net_parse("10.0.0.0/", &n), -1);
    assert_int_equal(ssrf_net_parse("10.0.0.0/-1", &n), -1);
    assert_int_equal(ssrf_net_parse("10.0.0.0/8x", &n), -1);
    assert_int_equal(ssrf_net_parse("example.com", &n), -1);
    assert_int_equal(ssrf_net_parse("", &n), -1);
    assert_int_equal(ssrf_net_parse("/8", &n), -1);
}

static void
test_allowlist(void **state)
{
    const char *const items[] = {"127.0.0.1/32", "10.1.0.0/16", "fd00::/8"};
    const char *const bad[] = {"127.0.0.1/32", "nope"};
    struct sockaddr_storage ss;
    ssrf_allow_t a;
    char why[128];

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, items, 3, why, sizeof why), 0);
    assert_int_equal(a.n, 3);
    assert_true(ssrf_allowed(&a, s_addr("127.0.0.1", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("127.0.0.2", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("::ffff:127.0.0.1", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("10.1.200.3", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("10.2.0.1", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("fd12::5", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("fc00::5", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("::1", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("169.254.169.254", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("8.8.8.8", &ss)));
    assert_true(ssrf_allowed(NULL, s_addr("8.8.8.8", &ss)));
    assert_false(ssrf_allowed(NULL, s_addr("127.0.0.1", &ss)));
    assert_int_equal(ssrf_allow_parse(&a, bad, 2, why, sizeof why), -1);
    assert_non_null(strstr(why, "nope"));
    assert_int_equal(a.n, 0);
    assert_int_equal(ssrf_allow_parse(&a, NULL, 0, why, sizeof why), 0);
    assert_false(ssrf_allowed(&a, s_addr("127.0.0.1", &ss)));
}

static int s_calls;
static bool s_allowed;
static char s_why[EGRESS_WHY_LEN];

static void
s_on_verdict(bool allowed, const char *why, void *arg)
{
    (void)arg;
    s_calls++;
    s_allowed = allowed;
    snprintf(s_why, sizeof s_why, "%s", why != NULL ? why : "");
}

/* The guard refuses what ssrf refuses (and counts it); an IP-literal URL
 * is judged before any connect, synchronously. */
static void
test_egress(void **state)
{
    const char *const items[] = {"127.0.0.1/32"};
    struct event_base *base = event_base_new();
    rl_http_t *http = rl_http_new(base, &(rl_http_opts_t){4, 0});
    struct sockaddr_storage ss;
    ssrf_allow_t a;
    egress_t *eg;

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, items, 1, s_why, sizeof s_why), 0);
    eg = egress_new(base, http, &a);
    assert_non_null(eg);
    assert_true(egress_guard(s_addr("127.0.0.1", &ss), eg));
    assert_false(egress_guard(s_addr("169.254.169.254", &ss), eg));
    assert_false(egress_guard(s_addr("::ffff:10.0.0.1", &ss), eg));
    assert_int_equal(egress_refused(eg), 2);

    assert_null(egress_check(eg, "http://169.254.169.254/latest/meta-data",
                             s_on_verdict, NULL));
    assert_int_equal(s_calls, 1);
    assert_false(s_allowed);
    assert_string_equal(s_why,
                        "address not allowed: 169.254.169.254 (link-local)");
    assert_null(egress_check(eg, "http://[::1]:8080/x", s_on_verdict, NULL));
    assert_false(s_allowed);
    assert_non_null(strstr(s_why, "loopback"));
    assert_null(egress_check(eg, "http://127.0.0.1:8099/hook", s_on_verdict,
                             NULL));
    assert_true(s_allowed);
    assert_null(egress_check(eg, "not a url", s_on_verdict, NULL));
    assert_true(s_allowed); /* curl reports a bad URL itself */
    assert_int_equal(s_calls, 4);
    egress_destroy(&eg);
    assert_null(eg);
    egress_destroy(&eg);
    rl_http_destroy(&http);
    event_base_free(base);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_embedded_ipv4),
        cmocka_unit_test(test_net_parse),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_egress),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
