/*
 * test_deliverer_ssrf - the SSRF guard: address classes (IPv4, IPv6,
 * IPv4-mapped and other embedded forms), allowlists (entries parsed by
 * rl_cidr, test_cidr.c) and their matching, and egress.c's connect-time
 * guard and the reasons it gives.
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

/* s_addr with a port. */
static const struct sockaddr *
s_addr_port(const char *text, int port, struct sockaddr_storage *ss)
{
    const struct sockaddr *sa = s_addr(text, ss);

    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
    return sa;
}

/* The guard refuses what ssrf refuses, and counts it. */
static void
test_egress_guard(void **state)
{
    const char *const items[] = {"127.0.0.1/32"};
    struct event_base *base = event_base_new();
    rl_http_t *http = rl_http_new(base, &(rl_http_opts_t){4, 0});
    struct sockaddr_storage ss;
    char why[EGRESS_WHY_LEN];
    ssrf_allow_t a;
    egress_t *eg;

    (void)state;
    assert_int_equal(ssrf_allow_parse(&a, items, 1, why, sizeof why), 0);
    eg = egress_new(http, &a);
    assert_non_null(eg);
    assert_true(egress_guard(s_addr("127.0.0.1", &ss), eg));
    assert_false(egress_guard(s_addr("169.254.169.254", &ss), eg));
    assert_false(egress_guard(s_addr("::ffff:10.0.0.1", &ss), eg));
    assert_int_equal(egress_refused(eg), 2);
    egress_destroy(&eg);
    assert_null(eg);
    egress_destroy(&eg);
    rl_http_destroy(&http);
    event_base_free(base);
}

/* The reason of a refused connect: an address literal names itself (in
 * curl's reading of the URL), a host name the addresses refused at its
 * port since the request started, or none when they are forgotten. */
static void
test_egress_refusal(void **state)
{
    struct event_base *base = event_base_new();
    rl_http_t *http = rl_http_new(base, &(rl_http_opts_t){4, 0});
    struct sockaddr_storage ss;
    char why[EGRESS_WHY_LEN];
    ssrf_allow_t none;
    egress_t *eg;
    uint64_t since;

    (void)state;
    memset(&none, 0, sizeof none);
    eg = egress_new(http, &none);
    egress_refusal(eg, "http://169.254.169.254/latest", 0, why, sizeof why);
    assert_string_equal(why,
                        "address not allowed: 169.254.169.254 (link-local)");
    egress_refusal(eg, "http://2852039166/latest", 0, why, sizeof why);
    assert_string_equal(why,
                        "address not allowed: 169.254.169.254 (link-local)");
    egress_refusal(eg, "http://10.1/hook", 0, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.1 (private)");
    egress_refusal(eg, "http://[::ffff:127.0.0.2]:8080/x", 0, why,
                   sizeof why);
    assert_string_equal(why,
                        "address not allowed: ::ffff:127.0.0.2 (loopback)");
    /* A name: nothing refused yet, then one address at its port (an
     * earlier refusal and one at another port do not count). */
    assert_false(egress_guard(s_addr_port("10.9.9.9", 443, &ss), eg));
    since = egress_refused(eg);
    egress_refusal(eg, "https://hooks.example/x", since, why, sizeof why);
    assert_string_equal(why, EGRESS_REFUSED_AT_CONNECT);
    assert_false(egress_guard(s_addr_port("192.168.7.7", 8443, &ss), eg));
    assert_false(egress_guard(s_addr_port("10.0.0.7", 443, &ss), eg));
    assert_false(egress_guard(s_addr_port("10.0.0.7", 443, &ss), eg));
    egress_refusal(eg, "https://hooks.example/x", since, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private)");
    /* Two addresses at that port (a dual-stack name): both. */
    assert_false(egress_guard(s_addr_port("fd00::7", 443, &ss), eg));
    egress_refusal(eg, "https://hooks.example/x", since, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private), "
                             "fd00::7 (private)");
    /* More refusals than are remembered since: not known either. */
    since = egress_refused(eg);
    for (int i = 0; i <= EGRESS_RECENT; i++)
        assert_false(egress_guard(s_addr_port("10.0.0.8", 443, &ss), eg));
    egress_refusal(eg, "https://hooks.example/x", since, why, sizeof why);
    assert_string_equal(why, EGRESS_REFUSED_AT_CONNECT);
    egress_refusal(eg, "not a url", 0, why, sizeof why);
    assert_string_equal(why, EGRESS_REFUSED_AT_CONNECT);
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
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_egress_guard),
        cmocka_unit_test(test_egress_refusal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
