/*
 * test_slot - Redis Cluster hash slots: CRC16/XMODEM, hash tags, and
 * the key a command is routed by. The slots below are what a Redis 7
 * cluster node answers to CLUSTER KEYSLOT (the cluster test checks the
 * same function against a live cluster for many keys).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "rl_slot.h"

static int
s_slot(const char *key)
{
    return rl_slot_key(key, strlen(key));
}

static void
test_crc16(void **state)
{
    (void)state;
    assert_int_equal(rl_slot_crc16("123456789", 9), 0x31C3);
    assert_int_equal(rl_slot_crc16("", 0), 0);
}

static void
test_key(void **state)
{
    static const struct {
        const char *key;
        int slot;
    } known[] = {
        {"foo", 12182},
        {"bar", 5061},
        {"hello", 866},
        {"", 0},
        {"rl:accounts", 5327},
        {"a{b", 13340},
        {"foo{}{bar}", 8363},
        {"foo{{bar}}zap", 4015},
        {"foo{bar}{zap}", 5061},
        {"{}", 15257},
        {"{user1000}.following", 3443},
    };

    (void)state;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (s_slot(known[i].key) != known[i].slot)
            fail_msg("slot('%s') = %d, want %d", known[i].key,
                     s_slot(known[i].key), known[i].slot);
    assert_int_equal(s_slot("{user1000}.following"),
                     s_slot("{user1000}.followers"));
    assert_int_equal(s_slot("x{acct_1}y"), s_slot("acct_1"));
    /* Binary safe: a NUL inside the key counts. */
    assert_int_not_equal(rl_slot_key("a\0b", 3), rl_slot_key("a", 1));
}

static void
test_command(void **state)
{
    const char *get[] = {"GET", "foo"};
    const char *ping[] = {"ping"};
    const char *scan[] = {"SCAN", "0"};
    const char *eval[] = {"EVALSHA", "abc", "2", "{u}a", "{u}b", "x"};
    const char *eval0[] = {"EVAL", "return 1", "0", "foo"};
    const char *evalbad[] = {"EVAL", "return 1", "x1", "foo"};
    const char *lone[] = {"GET"};
    const size_t lens[] = {3, 2};

    (void)state;
    assert_int_equal(rl_slot_command(2, get, NULL), 12182);
    assert_int_equal(rl_slot_command(2, get, lens), s_slot("fo"));
    assert_int_equal(rl_slot_command(1, ping, NULL), -1);
    assert_int_equal(rl_slot_command(2, scan, NULL), -1);
    assert_int_equal(rl_slot_command(6, eval, NULL), s_slot("u"));
    assert_int_equal(rl_slot_command(4, eval0, NULL), -1);
    assert_int_equal(rl_slot_command(4, evalbad, NULL), -1);
    assert_int_equal(rl_slot_command(3, eval, NULL), -1);
    assert_int_equal(rl_slot_command(1, lone, NULL), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
