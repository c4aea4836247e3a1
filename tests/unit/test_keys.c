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

#include <string.h>

#include "rl_keys.h"

#define SMALL 8 /* too short for any key below */

static void
test_account_keys(void **state)
{
    (void)state;
    char buf[RL_KEY_MAX];
    assert_int_equal(rl_keys_acct(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:acct:{acct_1}");
    assert_int_equal(rl_keys_ledger(buf, sizeof buf, "acct_1"), 0);
    assert_string_equal(buf, "rl:ledger:{acct_1}");
    assert_int_equal(rl_keys_idem(buf, sizeof buf, "acct_1", "idem-9"), 0);
    assert_string_equal(buf, "rl:idem:{acct_1}:idem-9");
    assert_int_equal(rl_keys_apikey(buf, sizeof buf, "ab12cd"), 0);
    assert_string_equal(buf, "rl:key:ab12cd");
}

static void
test_job_keys(void **state)
{
    (void)state;
    char buf[RL_KEY_MAX];
    assert_int_equal(rl_keys_job(buf, sizeof buf, "acct_1", "vgen_x"), 0);
    assert_string_equal(buf, "rl:job:{acct_1}:vgen_x");
    assert_int_equal(rl_keys_deliveries(buf, sizeof buf, "acct_1", "vgen_x"),
                     0);
    assert_string_equal(buf, "rl:dlv:{acct_1}:vgen_x");
    assert_int_equal(
        rl_keys_dedup(buf, sizeof buf, "acct_1", "vgen_x", "completed"), 0);
    assert_string_equal(buf, "rl:dedup:{acct_1}:vgen_x:completed");
    assert_int_equal(rl_keys_worker_jobs(buf, sizeof buf, "w-3"), 0);
    assert_string_equal(buf, "rl:wjobs:w-3");
    assert_int_equal(rl_keys_ref(buf, sizeof buf, "acct_1", "vgen_x"), 0);
    assert_string_equal(buf, "acct_1|vgen_x");
}

static void
test_fixed_keys(void **state)
{
    (void)state;
    assert_string_equal(RL_KEY_QUEUE, "rl:queue");
    assert_string_equal(RL_KEY_DISPATCHED, "rl:dispatched");
    assert_string_equal(RL_KEY_WORKERS, "rl:workers");
    assert_string_equal(RL_KEY_OUTBOX, "rl:outbox");
    assert_string_equal(RL_KEY_STATS, "rl:stats");
    /* The retention step's (docs/retention.md): the index of finished
     * jobs, the accounts with ledger entries to archive, its lock. The
     * fail_job helper of _lib.lua writes the first by name. */
    assert_string_equal(RL_KEY_FINISHED, "rl:finished");
    assert_string_equal(RL_KEY_RETAIN_LEDGER, "rl:retain:ledger");
    assert_string_equal(RL_KEY_LOCK_RETAIN, "rl:lock:retain");
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
    assert_int_equal(rl_keys_worker_jobs(buf, sizeof buf, "w"), -1);
    assert_int_equal(rl_keys_ref(buf, sizeof buf, "acct", "job1"), -1);
    /* The exact fit: "a|job1" is 6 bytes, 7 with the NUL. */
    assert_int_equal(rl_keys_ref(buf, 7, "a", "job1"), 0);
    assert_string_equal(buf, "a|job1");
    assert_int_equal(rl_keys_ref(buf, 6, "a", "job1"), -1);
    /* A key that fills RL_KEY_MAX exactly fits; one byte more does not. */
    char big[RL_KEY_MAX];
    char id[RL_KEY_MAX];
    size_t idlen = RL_KEY_MAX - 1 - strlen("rl:wjobs:");
    memset(id, 'w', idlen);
    id[idlen] = '\0';
    assert_int_equal(rl_keys_worker_jobs(big, sizeof big, id), 0);
    assert_int_equal(strlen(big), RL_KEY_MAX - 1);
    id[idlen] = 'w';
    id[idlen + 1] = '\0';
    assert_int_equal(rl_keys_worker_jobs(big, sizeof big, id), -1);
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
        cmocka_unit_test(test_fixed_keys),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_parse_ref_good),
        cmocka_unit_test(test_parse_ref_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
