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
    assert_true(ssrf_allowed(&a, s_addr("fd12::5", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("::1", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("127.0.0.1", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("::ffff:127.0.0.1", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("::ffff:169.254.169.254", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("64:ff9b::10.0.0.1", &ss)));
    assert_false(ssrf_allowed(&a, s_addr("::10.0.0.1", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("::ffff:10.9.1.1", &ss)));
    assert_true(ssrf_allowed(&a, s_addr("64:ff9b::10.9.1.1", &ss)));
}

/* The guard refuses what ssrf refuses, and counts it. */
static void
test_egress_guard(void **state)
{
    const char *const items[] = {"127.0.0.1/32"};
    struct event_base *base = event_base_new();
    rl_http_t *http = rl_http_new(base, &(rl_http_opts_t){.max_host_connections = 4});
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

/* The reason written from a response: its refused addresses in order,
 * "..." when more were refused than it keeps, and the generic reason
 * when it names none or the list does not fit. */
static void
test_egress_refusal(void **state)
{
    struct sockaddr_storage addrs[2];
    rl_http_resp_t resp = {0};
    char why[EGRESS_WHY_LEN];
    char small[48]; /* the generic reason fits, the list does not */

    (void)state;
    resp.refused = true;
    egress_refusal(&resp, why, sizeof why);
    assert_string_equal(why, EGRESS_REFUSED_AT_CONNECT);
    s_addr("10.0.0.7", &addrs[0]);
    s_addr("fd00::7", &addrs[1]);
    resp.refused_addr = addrs;
    resp.nrefused = 1;
    egress_refusal(&resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private)");
    resp.nrefused = 2;
    egress_refusal(&resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private), "
                             "fd00::7 (private)");
    resp.refused_more = true;
    egress_refusal(&resp, why, sizeof why);
    assert_string_equal(why, "address not allowed: 10.0.0.7 (private), "
                             "fd00::7 (private), ...");
    egress_refusal(&resp, small, sizeof small);
    assert_string_equal(small, EGRESS_REFUSED_AT_CONNECT);
}

typedef struct {
    int calls;
    bool refused;
    char why[EGRESS_WHY_LEN];
} s_seen_t;

static void
s_on_refused(const rl_http_resp_t *resp, void *arg)
{
    s_seen_t *seen = arg;

    seen->calls++;
    seen->refused = resp->refused;
    egress_refusal(resp, seen->why, sizeof seen->why);
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
        {"http://localhost:9/x", NULL},
    };
    enum { N = sizeof cases / sizeof cases[0] };
    struct event_base *base = event_base_new();
    rl_http_t *http = rl_http_new(base, &(rl_http_opts_t){.max_host_connections = 4});
    s_seen_t seen[N];
    ssrf_allow_t none;
    egress_t *eg;
    int64_t deadline;
    int done = 0;

    (void)state;
    memset(&none, 0, sizeof none);
    memset(seen, 0, sizeof seen);
    eg = egress_new(http, &none);
    for (size_t i = 0; i < N; i++)
        assert_non_null(rl_http_request(http, "POST", cases[i].url, NULL,
                                        "{}", 2, 5000, 1024, s_on_refused,
                                        &seen[i]));
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
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_embedded_ipv4),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_allowlist_embedded4),
        cmocka_unit_test(test_egress_guard),
        cmocka_unit_test(test_egress_refusal),
        cmocka_unit_test(test_egress_refused_requests),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
