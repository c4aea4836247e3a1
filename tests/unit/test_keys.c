/*
 * test_keys - rl_keys: the exact name of every Redis key builder, the
 * overflow answer (-1) of each, and rl_keys_parse_ref on good and bad
 * refs.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rl_keys.h"

#define SMALL 8 /* too short for any key below */

/* CRC16-XMODEM, as Redis Cluster hashes a key to its slot (the spec's
 * reference value: "123456789" -> 0x31C3). */
static unsigned
s_crc16(const char *s)
{
    unsigned crc = 0;
    for (; *s; s++) {
        crc ^= (unsigned)(unsigned char)*s << 8;
        for (int i = 0; i < 8; i++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff
                                 : (crc << 1) & 0xffff;
    }
    return crc;
}

static void
test_account_keys(void **state)
{
    (void)state;
    char buf[RL_KEY_MAX];
    /* acct_1 is in partition 3, tag p3-12. */
    assert_int_equal(rl_keys_partition("acct_1"), 3);
    assert_int_equal(rl_keys_acct(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:acct:{p3-12}:acct_1");
    assert_int_equal(rl_keys_ledger(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:ledger:{p3-12}:acct_1");
    assert_int_equal(rl_keys_idem(buf, sizeof buf, "acct_1", "idem-9"), 0);
    assert_string_equal(buf, "rl:idem:{p3-12}:acct_1:idem-9");
    assert_int_equal(rl_keys_acct_keys(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:keys:{p3-12}:acct_1");
    assert_int_equal(rl_keys_acct_jobs(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:jobs:{p3-12}:acct_1");
    assert_int_equal(rl_keys_whfail(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:whfail:{p3-12}:acct_1");
    /* A key record and a task index entry: the partition of their own
     * name (drawn to be their account's). */
    assert_int_equal(rl_keys_apikey(buf, sizeof buf, "ab12cd"), 0);
    assert_string_equal(buf, "rl:key:{p13-23}:ab12cd");
    assert_int_equal(rl_keys_taskidx(buf, sizeof buf, "task_1"), 0);
    assert_string_equal(buf, "rl:taskidx:{p2-19}:task_1");
}

static void
test_job_keys(void **state)
{
    (void)state;
    char buf[RL_KEY_MAX];
    assert_int_equal(rl_keys_job(buf, sizeof buf, "acct_1", "vgen_x"), 0);
    assert_string_equal(buf, "rl:job:{p3-12}:acct_1:vgen_x");
    assert_int_equal(rl_keys_deliveries(buf, sizeof buf, "acct_1", "vgen_x"),
                     0);
    assert_string_equal(buf, "rl:dlv:{p3-12}:acct_1:vgen_x");
    assert_int_equal(
        rl_keys_dedup(buf, sizeof buf, "acct_1", "vgen_x", "completed"), 0);
    assert_string_equal(buf, "rl:dedup:{p3-12}:acct_1:vgen_x:completed");
    assert_int_equal(rl_keys_ref(buf, sizeof buf, "acct_1", "vgen_x"), 0);
    assert_string_equal(buf, "acct_1|vgen_x");
    assert_int_equal(rl_keys_ref_partition("acct_1|vgen_x"), 3);
    assert_int_equal(rl_keys_ref_partition("acct_1"), -1);
    assert_int_equal(rl_keys_ref_partition("|x"), -1);
}

static void
test_partition_keys(void **state)
{
    (void)state;
    char buf[RL_KEY_MAX];
    assert_int_equal(rl_keys_queue(buf, sizeof buf, 0), 0);
    assert_string_equal(buf, "rl:queue:{p0-0}");
    assert_int_equal(rl_keys_dispatched(buf, sizeof buf, 1), 0);
    assert_string_equal(buf, "rl:dispatched:{p1-3}");
    assert_int_equal(rl_keys_workers(buf, sizeof buf, 2), 0);
    assert_string_equal(buf, "rl:workers:{p2-19}");
    assert_int_equal(rl_keys_worker_jobs(buf, sizeof buf, 3, "w-3"), 0);
    assert_string_equal(buf, "rl:wjobs:{p3-12}:w-3");
    assert_int_equal(rl_keys_outbox(buf, sizeof buf, 15), 0);
    assert_string_equal(buf, "rl:outbox:{p15-9}");
    assert_int_equal(rl_keys_stats(buf, sizeof buf, 4), 0);
    assert_string_equal(buf, "rl:stats:{p4-49}");
    assert_int_equal(rl_keys_render_avg(buf, sizeof buf, 5), 0);
    assert_string_equal(buf, "rl:render_avg:{p5-42}");
    assert_int_equal(rl_keys_accounts(buf, sizeof buf, 6), 0);
    assert_string_equal(buf, "rl:accounts:{p6-69}");
    assert_int_equal(rl_keys_reaper_lock(buf, sizeof buf, 7), 0);
    assert_string_equal(buf, "rl:lock:reaper:{p7-62}");
    assert_int_equal(rl_keys_finished(buf, sizeof buf, 8), 0);
    assert_string_equal(buf, "rl:finished:{p8-19}");
    assert_int_equal(rl_keys_retain_ledger(buf, sizeof buf, 9), 0);
    assert_string_equal(buf, "rl:retain:ledger:{p9-12}");
    assert_int_equal(rl_keys_retain_lock(buf, sizeof buf, 10), 0);
    assert_string_equal(buf, "rl:lock:retain:{p10-139}");
    /* Out of range. */
    assert_int_equal(rl_keys_queue(buf, sizeof buf, -1), -1);
    assert_int_equal(rl_keys_queue(buf, sizeof buf, RL_PARTITIONS), -1);
    assert_int_equal(rl_keys_worker_jobs(buf, sizeof buf, RL_PARTITIONS, "w"),
                     -1);
    assert_null(rl_keys_tag(RL_PARTITIONS));
    assert_int_equal(rl_keys_tag_slot(-1), -1);
}

/* Each tag hashes to the slot the table says, in its sixteenth of the
 * slot space, so that masters holding even slot ranges share the
 * partitions evenly. */
static void
test_tags_spread(void **state)
{
    (void)state;
    assert_int_equal(s_crc16("123456789"), 0x31C3);
    for (int p = 0; p < RL_PARTITIONS; p++) {
        int slot = (int)(s_crc16(rl_keys_tag(p)) % 16384);
        assert_int_equal(slot, rl_keys_tag_slot(p));
        assert_true(slot >= p * 1024 && slot < (p + 1) * 1024);
    }
}

/* FNV-1a mod 16 of known names, and every partition reached. */
static void
test_partition_of(void **state)
{
    (void)state;
    assert_int_equal(rl_keys_partition(""), 10);
    assert_int_equal(rl_keys_partition("a"), 1);
    int seen[RL_PARTITIONS] = {0};
    char name[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "acct_%d", i);
        seen[rl_keys_partition(name)]++;
    }
    for (int p = 0; p < RL_PARTITIONS; p++)
        assert_true(seen[p] > 0);
}

/* An id steered into each partition lands there, changing only its last
 * character; an empty id cannot be steered. */
static void
test_steer_id(void **state)
{
    (void)state;
    for (int p = 0; p < RL_PARTITIONS; p++) {
        char id[] = "task_AbCdEfGhIjKlMn0";
        int rc = rl_keys_steer_id(id, p);
        if (rc == 0) {
            assert_int_equal(rl_keys_partition(id), p);
            assert_memory_equal(id, "task_AbCdEfGhIjKlMn", 19);
        }
    }
    /* Over many ids, steering fails about 1 time in 55 (62 tries of a
     * 1-in-16 chance), whatever the partition asked: never more than 1
     * in 20 here (expected 1.8%, 2 000 tries). */
    int failed = 0;
    unsigned x = 12345;
    for (int i = 0; i < 2000; i++) {
        char id[] = "vgen_0000000000000000";
        for (size_t j = 5; j < sizeof id - 1; j++) {
            x = x * 1103515245u + 12345u;
            id[j] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                    "wxyz"[(x >> 16) % 62];
        }
        if (rl_keys_steer_id(id, i % RL_PARTITIONS) != 0)
            failed++;
    }
    assert_true(failed < 100);
    char empty[] = "";
    assert_int_equal(rl_keys_steer_id(empty, 0), -1);
    char one[] = "x";
    assert_int_equal(rl_keys_steer_id(one, RL_PARTITIONS), -1);
}

static void
test_overflow(void **state)
{
    (void)state;
    char buf[SMALL];
    assert_int_equal(rl_keys_acct(buf, sizeof buf, "acct_1"), -1);
    assert_int_equal(rl_keys_job(buf, sizeof buf, "a", "j"), -1);
    assert_int_equal(rl_keys_ledger(buf, sizeof buf, "a"), -1);
    assert_int_equal(rl_keys_apikey(buf, sizeof buf, "ab12"), -1);
    assert_int_equal(rl_keys_idem(buf, sizeof buf, "a", "i"), -1);
    assert_int_equal(rl_keys_deliveries(buf, sizeof buf, "a", "j"), -1);
    assert_int_equal(rl_keys_dedup(buf, sizeof buf, "a", "j", "s"), -1);
    assert_int_equal(rl_keys_worker_jobs(buf, sizeof buf, 0, "w"), -1);
    assert_int_equal(rl_keys_queue(buf, sizeof buf, 0), -1);
    assert_int_equal(rl_keys_ref(buf, sizeof buf, "acct", "job1"), -1);
    /* The exact fit: "a|job1" is 6 bytes, 7 with the NUL. */
    assert_int_equal(rl_keys_ref(buf, 7, "a", "job1"), 0);
    assert_string_equal(buf, "a|job1");
    assert_int_equal(rl_keys_ref(buf, 6, "a", "job1"), -1);
    /* A key that fills RL_KEY_MAX exactly fits; one byte more does not. */
    char big[RL_KEY_MAX];
    char id[RL_KEY_MAX];
    size_t idlen = RL_KEY_MAX - 1 - strlen("rl:wjobs:{p0-0}:");
    memset(id, 'w', idlen);
    id[idlen] = '\0';
    assert_int_equal(rl_keys_worker_jobs(big, sizeof big, 0, id), 0);
    assert_int_equal(strlen(big), RL_KEY_MAX - 1);
    id[idlen] = 'w';
    id[idlen + 1] = '\0';
    assert_int_equal(rl_keys_worker_jobs(big, sizeof big, 0, id), -1);
}

static void
test_parse_ref_good(void **state)
{
    (void)state;
    char acct[32], job[32];
    assert_int_equal(
        rl_keys_parse_ref("acct_1|vgen_x", acct, sizeof acct, job, sizeof job),
        0);
    assert_string_equal(acct, "acct_1");
    assert_string_equal(job, "vgen_x");
    /* Only the first bar splits; the job keeps any later one. */
    assert_int_equal(
        rl_keys_parse_ref("a|b|c", acct, sizeof acct, job, sizeof job), 0);
    assert_string_equal(acct, "a");
    assert_string_equal(job, "b|c");
    /* A round trip through rl_keys_ref. */
    char ref[RL_KEY_MAX];
    assert_int_equal(rl_keys_ref(ref, sizeof ref, "acct_9", "vgen_9"), 0);
    assert_int_equal(rl_keys_parse_ref(ref, acct, sizeof acct, job, sizeof job),
                     0);
    assert_string_equal(acct, "acct_9");
    assert_string_equal(job, "vgen_9");
}

static void
test_parse_ref_bad(void **state)
{
    (void)state;
    char acct[8], job[8];
    static const char *const bad[] = {"", "|x", "a|", "nobar", "|", NULL};
    for (size_t i = 0; bad[i] != NULL; i++)
        assert_int_equal(
            rl_keys_parse_ref(bad[i], acct, sizeof acct, job, sizeof job), -1);
    /* Parts that do not fit their buffer (7 chars + NUL fit, 8 do not). */
    assert_int_equal(rl_keys_parse_ref("1234567|1234567", acct, sizeof acct,
                                       job, sizeof job),
                     0);
    assert_int_equal(
        rl_keys_parse_ref("12345678|j", acct, sizeof acct, job, sizeof job),
        -1);
    assert_int_equal(
        rl_keys_parse_ref("a|12345678", acct, sizeof acct, job, sizeof job),
        -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_keys),
        cmocka_unit_test(test_job_keys),
        cmocka_unit_test(test_partition_keys),
        cmocka_unit_test(test_tags_spread),
        cmocka_unit_test(test_partition_of),
        cmocka_unit_test(test_steer_id),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_parse_ref_good),
        cmocka_unit_test(test_parse_ref_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
