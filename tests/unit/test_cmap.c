/*
 * test_cmap - what Redis Cluster tells a client: CLUSTER SLOTS replies
 * (read with hiredis's own parser from RESP text) into slot maps,
 * redirection errors, and the [redis] cluster seed list.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "rl_cmap.h"

#define WHY_LEN 128

/* The reply RESP text encodes (caller frees), or fails the test. */
static redisReply *
s_reply(const char *resp)
{
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    assert_int_equal(redisReaderFeed(rd, resp, strlen(resp)), REDIS_OK);
    assert_int_equal(redisReaderGetReply(rd, &reply), REDIS_OK);
    assert_non_null(reply);
    redisReaderFree(rd);
    return reply;
}

/* Parses resp as a CLUSTER SLOTS reply asked from 10.0.0.9. */
static int
s_parse(const char *resp, rl_cmap_t *map, char *why)
{
    redisReply *r = s_reply(resp);
    int rc = rl_cmap_parse(r, "10.0.0.9", map, why, WHY_LEN);
    freeReplyObject(r);
    return rc;
}

/* Two masters with replicas, Redis 7 shape (id, metadata map). */
#define S_TWO                                                                  \
    "*2\r\n"                                                                   \
    "*4\r\n:0\r\n:8191\r\n"                                                    \
    "*4\r\n$9\r\n127.0.0.1\r\n:7000\r\n$2\r\nid\r\n*0\r\n"                     \
    "*4\r\n$9\r\n127.0.0.1\r\n:7003\r\n$2\r\nid\r\n*0\r\n"                     \
    "*3\r\n:8192\r\n:16383\r\n"                                                \
    "*3\r\n$9\r\n127.0.0.1\r\n:7001\r\n$2\r\nid\r\n"

static void
test_slots(void **state)
{
    static rl_cmap_t map;
    char why[WHY_LEN] = "";
    (void)state;

    assert_int_equal(s_parse(S_TWO, &map, why), 0);
    assert_int_equal(map.naddrs, 2);
    assert_int_equal(map.nslots, RL_SLOT_COUNT);
    assert_string_equal(map.addrs[map.owner[0]].host, "127.0.0.1");
    assert_int_equal(map.addrs[map.owner[8191]].port, 7000);
    assert_int_equal(map.addrs[map.owner[8192]].port, 7001);
    assert_int_equal(map.addrs[map.owner[16383]].port, 7001);

    /* nil or "" host: the host asked; "?": no owner; gaps stay empty. */
    assert_int_equal(s_parse("*3\r\n"
                             "*3\r\n:0\r\n:9\r\n*2\r\n$-1\r\n:7000\r\n"
                             "*3\r\n:10\r\n:19\r\n*2\r\n$0\r\n\r\n:7001\r\n"
                             "*3\r\n:30\r\n:39\r\n*2\r\n$1\r\n?\r\n:7002\r\n",
                             &map, why),
                     0);
    assert_string_equal(map.addrs[map.owner[5]].host, "10.0.0.9");
    assert_string_equal(map.addrs[map.owner[15]].host, "10.0.0.9");
    assert_int_equal(map.owner[25], RL_CMAP_NO_OWNER);
    assert_int_equal(map.owner[35], RL_CMAP_NO_OWNER);
    assert_int_equal(map.nslots, 20);
    assert_int_equal(s_parse("*0\r\n", &map, why), 0);
    assert_int_equal(map.nslots, 0);
}

static void
test_slots_refused(void **state)
{
    static rl_cmap_t map;
    static const char *const bad[] = {
        "-ERR This instance has cluster support disabled\r\n",
        ":1\r\n",
        "*1\r\n:1\r\n",
        "*1\r\n*2\r\n:0\r\n:1\r\n",                            /* no master */
        "*1\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\na\r\n:1\r\n",     /* end < start */
        "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\na\r\n:1\r\n", /* slot */
        "*1\r\n*3\r\n:-1\r\n:1\r\n*2\r\n$1\r\na\r\n:1\r\n",    /* slot */
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:0\r\n",     /* port */
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n:65536\r\n", /* port */
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$1\r\na\r\n$2\r\n80\r\n", /* port type */
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n$3\r\na b\r\n:1\r\n",     /* host */
        "*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n:1\r\n:1\r\n",            /* host type */
        "*2\r\n*3\r\n:0\r\n:5\r\n*2\r\n$1\r\na\r\n:1\r\n"        /* overlap */
        "*3\r\n:5\r\n:6\r\n*2\r\n$1\r\nb\r\n:1\r\n",
    };
    char why[WHY_LEN];
    (void)state;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (s_parse(bad[i], &map, why) != -1 || why[0] == '\0')
            fail_msg("refused reply %zu accepted (or no reason)", i);
    }
    assert_int_equal(rl_cmap_parse(NULL, "h", &map, why, WHY_LEN), -1);
}

static void
test_redirect(void **state)
{
    rl_cmap_redirect_t rd;
    const char *m = "MOVED 3999 127.0.0.1:6381";
    (void)state;

    assert_int_equal(rl_cmap_redirect(m, strlen(m), "h", &rd), RL_CMAP_MOVED);
    assert_int_equal(rd.slot, 3999);
    assert_string_equal(rd.addr.host, "127.0.0.1");
    assert_int_equal(rd.addr.port, 6381);
    m = "ASK 16383 :7001"; /* an unknown endpoint: the node asked */
    assert_int_equal(rl_cmap_redirect(m, strlen(m), "10.1.1.1", &rd),
                     RL_CMAP_ASK);
    assert_string_equal(rd.addr.host, "10.1.1.1");
    m = "MOVED 1 ::1:7000";
    assert_int_equal(rl_cmap_redirect(m, strlen(m), "h", &rd), RL_CMAP_MOVED);
    assert_string_equal(rd.addr.host, "::1");
    m = "TRYAGAIN Multiple keys request during rehashing of slot";
    assert_int_equal(rl_cmap_redirect(m, strlen(m), "h", &rd),
                     RL_CMAP_TRYAGAIN);
    m = "CLUSTERDOWN The cluster is down";
    assert_int_equal(rl_cmap_redirect(m, strlen(m), "h", &rd),
                     RL_CMAP_CLUSTERDOWN);
    static const char *const answers[] = {
        "ERR wrong number of arguments", "MOVEDX 1 a:1", "ASKING", "",
        "NOSCRIPT No matching script",   "WRONGTYPE x",
    };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        assert_int_equal(
            rl_cmap_redirect(answers[i], strlen(answers[i]), "h", &rd),
            RL_CMAP_ANSWER);
    static const char *const malformed[] = {
        "MOVED",        "MOVED ",      "MOVED 1",          "MOVED 16384 a:1",
        "MOVED -1 a:1", "MOVED 1 a:0", "MOVED 1 a:65536",  "MOVED 1 a",
        "ASK 1 a b:1",  "ASK x a:1",   "MOVED 1 a:1 junk", "MOVED 123456 a:1",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        if (rl_cmap_redirect(malformed[i], strlen(malformed[i]), "h", &rd) !=
            RL_CMAP_MALFORMED)
            fail_msg("'%s' not malformed", malformed[i]);
    /* A NUL inside the text counts (binary safe). */
    assert_int_equal(rl_cmap_redirect("MOVED 1 a\0b:1", 13, "h", &rd),
                     RL_CMAP_MALFORMED);
}

static void
test_seeds(void **state)
{
    rl_cmap_addr_t a[RL_CMAP_MAX_SEEDS];
    char why[WHY_LEN], many[RL_CMAP_MAX_SEEDS * 8 + 16] = "";
    (void)state;

    assert_int_equal(rl_cmap_seeds_parse(" 127.0.0.1:7000 ,r.internal:7001,"
                                         "[::1]:7002",
                                         a, RL_CMAP_MAX_SEEDS, why, WHY_LEN),
                     3);
    assert_string_equal(a[0].host, "127.0.0.1");
    assert_int_equal(a[0].port, 7000);
    assert_string_equal(a[1].host, "r.internal");
    assert_string_equal(a[2].host, "::1");
    static const char *const bad[] = {
        "",    " ",    "a:1,",  ",a:1", "a",        "a:",   ":1",
        "a:0", "a:x1", "a b:1", "[]:1", "a:1,,b:2", "a:+1", "a:99999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        if (rl_cmap_seeds_parse(bad[i], a, RL_CMAP_MAX_SEEDS, why, WHY_LEN) !=
                -1 ||
            why[0] == '\0')
            fail_msg("seed list '%s' accepted", bad[i]);
    }
    for (int i = 0; i <= RL_CMAP_MAX_SEEDS; i++) {
        size_t len = strlen(many);
        snprintf(many + len, sizeof many - len, "%sh:%d", i ? "," : "", i + 1);
    }
    assert_int_equal(
        rl_cmap_seeds_parse(many, a, RL_CMAP_MAX_SEEDS, why, WHY_LEN), -1);
    assert_non_null(strstr(why, "more than"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_slots_refused),
        cmocka_unit_test(test_redirect),
        cmocka_unit_test(test_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
