/*
 * test_archive - rl_archive: a job's record built from its stored
 * fields and attempt log (history and attempts kept as JSON, text that
 * is not UTF-8 escaped, elements of other types skipped), a ledger
 * entry's record, the dedup keys, and rl_archive_parse: each record read
 * back, and every kind of line it refuses.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "rl_archive.h"

#define S_MAX 32

/* An array reply of strings (NULL: an integer element), as hiredis
 * builds one. */
typedef struct {
    redisReply top;
    redisReply el[S_MAX];
    redisReply *els[S_MAX];
} s_reply_t;

static redisReply *
s_array(s_reply_t *r, size_t n, const char *const *words)
{
    r->top = (redisReply){
        .type = REDIS_REPLY_ARRAY, .elements = n, .element = r->els};
    for (size_t i = 0; i < n; i++) {
        if (words[i] == NULL)
            r->el[i] = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = 7};
        else
            r->el[i] = (redisReply){.type = REDIS_REPLY_STRING,
                                    .str = (char *)words[i],
                                    .len = strlen(words[i])};
        r->els[i] = &r->el[i];
    }
    return &r->top;
}

static void
test_job_record(void **state)
{
    (void)state;
    static const char *const fields[] = {
        "id",
        "vgen_1",
        "status",
        "completed",
        "credits",
        "6",
        "credits_refunded",
        "2",
        "created_at",
        "1000",
        "completed_at",
        "5000",
        "history",
        "[{\"status\":\"pending\",\"at\":1000}]",
        "prompt",
        "caf\xc3\xa9 \xff",
        "odd",
        NULL,
    };
    static const char *const log[] = {"{\"attempt\":1,\"status\":200}",
                                      "not json"};
    s_reply_t f, l;
    json_t *o = rl_archive_job("acct_1", "vgen_1", s_array(&f, 18, fields),
                               s_array(&l, 2, log), 9000);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "job");
    assert_string_equal(json_string_value(json_object_get(o, "id")), "vgen_1");
    assert_string_equal(json_string_value(json_object_get(o, "acct")),
                        "acct_1");
    assert_string_equal(json_string_value(json_object_get(o, "status")),
                        "completed");
    assert_int_equal(json_integer_value(json_object_get(o, "credits")), 4);
    assert_int_equal(json_integer_value(json_object_get(o, "created_at")),
                     1000);
    assert_int_equal(json_integer_value(json_object_get(o, "completed_at")),
                     5000);
    assert_int_equal(json_integer_value(json_object_get(o, "archived_at")),
                     9000);
    json_t *fo = json_object_get(o, "fields");
    assert_null(json_object_get(fo, "history"));
    assert_null(json_object_get(fo, "odd"));
    assert_string_equal(json_string_value(json_object_get(fo, "prompt")),
                        "caf\xc3\xa9 \\xFF");
    json_t *h = json_object_get(o, "history");
    assert_int_equal(json_array_size(h), 1);
    json_t *d = json_object_get(o, "deliveries");
    assert_int_equal(json_array_size(d), 2);
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(d, 0), "status")),
        200);
    assert_string_equal(json_string_value(json_array_get(d, 1)), "not json");

    /* Read back, it is the same record. */
    char *text = json_dumps(o, JSON_COMPACT);
    rl_archive_rec_t rec;
    char why[128];
    assert_int_equal(
        rl_archive_parse(text, strlen(text), &rec, why, sizeof why), 0);
    assert_int_equal(rec.kind, RL_ARCHIVE_JOB);
    assert_string_equal(rec.key, "j acct_1|vgen_1");
    assert_int_equal(rec.at, 1000);
    assert_int_equal(rec.archived_at, 9000);
    assert_true(json_equal(rec.obj, o));
    rl_archive_rec_release(&rec);
    rl_archive_rec_release(&rec);
    free(text);
    json_decref(o);
}

static void
test_job_record_bare(void **state)
{
    (void)state;
    /* Not finished, no log, not archived: null completion, no
     * archived_at, a history that is not an array kept as a field. */
    static const char *const fields[] = {"status", "processing", "history",
                                         "{}"};
    s_reply_t f;
    json_t *o = rl_archive_job("a", "j", s_array(&f, 4, fields), NULL, 0);
    assert_true(json_is_null(json_object_get(o, "completed_at")));
    assert_null(json_object_get(o, "archived_at"));
    assert_int_equal(json_array_size(json_object_get(o, "history")), 0);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(o, "fields"), "history")),
                        "{}");
    json_decref(o);
}

static void
test_ledger_record(void **state)
{
    (void)state;
    json_t *o = rl_archive_ledger(
        "acct_1", 42, "{\"type\":\"debit\",\"credits\":3,\"at\":77}", 900);
    assert_string_equal(json_string_value(json_object_get(o, "id")),
                        "acct_1:42");
    assert_int_equal(json_integer_value(json_object_get(o, "seq")), 42);
    char *text = json_dumps(o, JSON_COMPACT);
    rl_archive_rec_t rec;
    char why[128];
    assert_int_equal(
        rl_archive_parse(text, strlen(text), &rec, why, sizeof why), 0);
    assert_int_equal(rec.kind, RL_ARCHIVE_LEDGER);
    assert_string_equal(rec.key, "l acct_1:42");
    assert_int_equal(rec.at, 77);
    assert_int_equal(rec.archived_at, 900);
    rl_archive_rec_release(&rec);
    free(text);
    json_decref(o);
    /* An entry that is not JSON is kept as text (and is then no record
     * a reader accepts: it has no time). */
    o = rl_archive_ledger("acct_1", 1, "garbage", 0);
    assert_string_equal(json_string_value(json_object_get(o, "entry")),
                        "garbage");
    json_decref(o);
}

static void
test_keys(void **state)
{
    (void)state;
    char key[RL_ARCHIVE_KEY_MAX];
    char long_id[RL_ARCHIVE_ID_MAX + 1];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(rl_archive_key_job(key, "a-1", "task_x.y"), 0);
    assert_string_equal(key, "j a-1|task_x.y");
    assert_int_equal(rl_archive_key_ledger(key, "a", 9), 0);
    assert_string_equal(key, "l a:9");
    assert_int_equal(rl_archive_key_job(key, "a|b", "j"), -1);
    assert_int_equal(rl_archive_key_job(key, "a", ""), -1);
    assert_int_equal(rl_archive_key_job(key, NULL, "j"), -1);
    assert_int_equal(rl_archive_key_job(key, long_id, "j"), -1);
    assert_int_equal(rl_archive_key_ledger(key, "a", 0), -1);
    long_id[RL_ARCHIVE_ID_MAX - 1] = '\0'; /* the longest that fits */
    assert_int_equal(rl_archive_key_job(key, long_id, long_id), 0);
}

static void
test_parse_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "\"job\"",
        "{\"type\":\"job\"}",
        "{\"type\":\"nope\",\"id\":\"j\",\"acct\":\"a\"}",
        "{\"type\":7}",
        "{\"type\":\"job\",\"id\":\"j\",\"acct\":\"a\",\"created_at\":1}",
        "{\"type\":\"job\",\"id\":\"j\",\"acct\":\"a\",\"created_at\":-1,"
        "\"fields\":{}}",
        "{\"type\":\"job\",\"id\":\"j|k\",\"acct\":\"a\",\"created_at\":1,"
        "\"fields\":{}}",
        "{\"type\":\"job\",\"id\":\"j\",\"acct\":\"a\",\"created_at\":1,"
        "\"fields\":{},\"archived_at\":\"x\"}",
        "{\"type\":\"job\",\"id\":\"j\",\"id\":\"k\",\"acct\":\"a\","
        "\"created_at\":1,\"fields\":{}}",
        "{\"type\":\"ledger\",\"id\":\"a:2\",\"acct\":\"a\",\"seq\":1,"
        "\"entry\":{\"at\":1}}",
        "{\"type\":\"ledger\",\"id\":\"a:0\",\"acct\":\"a\",\"seq\":0,"
        "\"entry\":{\"at\":1}}",
        "{\"type\":\"ledger\",\"id\":\"a:1\",\"acct\":\"a\",\"seq\":1,"
        "\"entry\":\"x\"}",
        "{\"type\":\"ledger\",\"id\":\"a:1\",\"acct\":\"a\",\"seq\":1,"
        "\"entry\":{\"at\":\"soon\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rl_archive_rec_t rec;
        char why[128] = "";
        if (rl_archive_parse(bad[i], strlen(bad[i]), &rec, why, sizeof why) ==
            0)
            fail_msg("accepted: %s", bad[i]);
        assert_true(why[0] != '\0');
        assert_null(rec.obj);
    }
    /* A line with a NUL inside is bytes, not a C string. */
    rl_archive_rec_t rec;
    char why[128];
    const char nul[] = "{\"type\":\"job\"\0}";
    assert_int_equal(
        rl_archive_parse(nul, sizeof nul - 1, &rec, why, sizeof why), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_job_record),
        cmocka_unit_test(test_job_record_bare),
        cmocka_unit_test(test_ledger_record),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_parse_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
