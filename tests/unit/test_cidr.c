/*
 * test_cidr - IP networks as [webhook] allow writes them: IPv4 and IPv6,
 * with and without a prefix, host bits cleared, malformed entries
 * refused, membership, single addresses and the text written back.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "rl_cidr.h"

static void
test_parse(void **state)
{
    rl_cidr_t n;

    (void)state;
    assert_int_equal(rl_cidr_parse("127.0.0.0/8", &n), 0);
    assert_int_equal(n.family, AF_INET);
    assert_int_equal(n.prefix, 8);
    assert_int_equal(rl_cidr_parse("10.1.2.3", &n), 0);
    assert_int_equal(n.prefix, 32);
    assert_int_equal(rl_cidr_parse("10.1.2.3/16", &n), 0);
    assert_int_equal(n.addr[1], 1);
    assert_int_equal(n.addr[2], 0); /* host bits cleared */
    assert_int_equal(n.addr[3], 0);
    assert_int_equal(rl_cidr_parse("10.1.2.3/0", &n), 0);
    assert_int_equal(n.addr[0], 0);
    assert_int_equal(rl_cidr_parse("fd00::/8", &n), 0);
    assert_int_equal(n.family, AF_INET6);
    assert_int_equal(rl_cidr_parse("::1", &n), 0);
    assert_int_equal(n.prefix, 128);
    assert_int_equal(rl_cidr_parse("::ffff:10.0.0.1/120", &n), 0);
}

static void
test_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "10.0.0.0/33",
        "fd00::/129",
        "10.0.0.0/",
        "10.0.0.0/-1",
        "10.0.0.0/8x",
        "10.0.0.0/ 8",
        "example.com",
        "",
        "/8",
        "10.1",
        "10.0.0.1/8/8",
        "fe80::1%eth0",
        "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd",
    };
    rl_cidr_t n;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&n, 0xAA, sizeof n);
        assert_int_equal(rl_cidr_parse(bad[i], &n), -1);
        assert_int_equal(n.family, 0); /* zeroed */
    }
}

static void
test_has(void **state)
{
    uint8_t v4[4], v6[16];
    rl_cidr_t n;

    (void)state;
    assert_int_equal(rl_cidr_parse("192.168.0.0/16", &n), 0);
    assert_int_equal(inet_pton(AF_INET, "192.168.44.5", v4), 1);
    assert_true(rl_cidr_has(&n, AF_INET, v4));
    assert_int_equal(inet_pton(AF_INET, "192.169.0.1", v4), 1);
    assert_false(rl_cidr_has(&n, AF_INET, v4));
    assert_int_equal(inet_pton(AF_INET6, "fd00::1", v6), 1);
    assert_false(rl_cidr_has(&n, AF_INET6, v6)); /* other family */
    assert_int_equal(rl_cidr_parse("fd00::/8", &n), 0);
    assert_true(rl_cidr_has(&n, AF_INET6, v6));
    assert_int_equal(rl_cidr_parse("0.0.0.0/0", &n), 0);
    assert_true(rl_cidr_has(&n, AF_INET, v4));
}

/* Single addresses are /32 and /128, whatever the spelling. */
static void
test_is_single(void **state)
{
    static const struct {
        const char *text;
        bool single;
    } cases[] = {
        {"10.1.2.3", true},   {"10.1.2.3/32", true}, {"10.1.2.3/31", false},
        {"0.0.0.0/0", false}, {"::1", true},         {"fd00::5/128", true},
        {"fd00::/8", false},  {"::/0", false},
    };
    rl_cidr_t n;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rl_cidr_parse(cases[i].text, &n), 0);
        assert_int_equal(rl_cidr_is_single(&n), cases[i].single);
    }
}

/* The text written back is inet_ntop's spelling of the network (host
 * bits cleared) and its prefix; what does not fit, or is neither family,
 * is "?". */
static void
test_text(void **state)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"10.1.2.3/16", "10.1.0.0/16"},
        {"10.1.2.3", "10.1.2.3/32"},
        {"0.0.0.0/0", "0.0.0.0/0"},
        {"2001:0db8:0::/32", "2001:db8::/32"},
        {"64:ff9b:1::ffff/48", "64:ff9b:1::/48"},
        {"::ffff:0:0/96", "::ffff:0.0.0.0/96"},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"},
    };
    char buf[RL_CIDR_NET_TEXT];
    char small[8];
    rl_cidr_t n;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(rl_cidr_parse(cases[i].in, &n), 0);
        assert_string_equal(rl_cidr_text(&n, buf, sizeof buf), cases[i].out);
    }
    assert_int_equal(rl_cidr_parse("192.168.100.0/24", &n), 0);
    assert_string_equal(rl_cidr_text(&n, small, sizeof small), "?");
    memset(&n, 0, sizeof n); /* no family */
    assert_string_equal(rl_cidr_text(&n, buf, sizeof buf), "?");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse), cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_has),   cmocka_unit_test(test_is_single),
        cmocka_unit_test(test_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
