/*
 * test_taskview - rl_taskview: the model a task reports (the name the
 * client sent, or the backup after a failover), recordInfo and callback
 * of a completed and a failed task, and the error code table.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "rl_taskview.h"

#define NPAIRS(kv) (sizeof(kv) / sizeof((kv)[0]) / 2)

static const char *
s_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A task sent as Kinovi's "seedance-20" (an alias of "seedance") and
 * rendered by it: both faces say "seedance-20". */
static void
test_model_alias_as_sent(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",         "task_a1",        "status",
        "completed",  "model",          "seedance-20",
        "model_used", "seedance",       "failover_used",
        "0",          "credits",        "2",
        "output_url", "http://x/v.mp4", "created_at",
        "1000",       "completed_at",   "2000",
        "updated_at", "2000",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *rec = rl_taskview_record(&src);
    assert_string_equal(s_str(rec, "model"), "seedance-20");
    assert_string_equal(s_str(rec, "status"), "success");
    assert_int_equal(json_integer_value(json_object_get(rec, "creditsUsed")),
                     2);
    json_decref(rec);
    json_t *cb = rl_taskview_callback(&src);
    json_t *data = json_object_get(cb, "data");
    assert_string_equal(s_str(data, "model"), "seedance-20");
    assert_string_equal(s_str(data, "orderId"), "order_a1");
    json_decref(cb);
}

/* After a failover the backup that rendered the task is named. */
static void
test_model_after_failover(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",
        "task_b2",
        "status",
        "completed",
        "model",
        "kling-v3",
        "model_used",
        "seedance",
        "failover_used",
        "1",
        "credits",
        "3",
        "credits_refunded",
        "1",
        "created_at",
        "1000",
        "completed_at",
        "2000",
        "updated_at",
        "2000",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *rec = rl_taskview_record(&src);
    assert_string_equal(s_str(rec, "model"), "seedance");
    assert_int_equal(json_integer_value(json_object_get(rec, "creditsUsed")),
                     2);
    json_decref(rec);
    json_t *cb = rl_taskview_callback(&src);
    assert_string_equal(s_str(json_object_get(cb, "data"), "model"),
                        "seedance");
    json_decref(cb);
}

/* While waiting (no model_used yet) the name sent is reported. */
static void
test_model_waiting(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",         "task_c3",        "status",     "pending",
        "model",      "seedance2-fast", "credits",    "2",
        "created_at", "1000",           "updated_at", "1000",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *rec = rl_taskview_record(&src);
    assert_string_equal(s_str(rec, "model"), "seedance2-fast");
    assert_string_equal(s_str(rec, "status"), "waiting");
    assert_true(json_is_null(json_object_get(rec, "output")));
    json_decref(rec);
}

/* A failed task: the mapped error, creditsUsed 0 in the callback. */
static void
test_failed(void **state)
{
    (void)state;
    static const char *const kv[] = {
        "id",
        "task_d4",
        "status",
        "failed",
        "model",
        "seedance-20",
        "model_used",
        "seedance",
        "failover_used",
        "0",
        "credits",
        "2",
        "error_code",
        "content_rejected",
        "created_at",
        "1000",
        "completed_at",
        "2000",
        "updated_at",
        "2000",
    };
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *cb = rl_taskview_callback(&src);
    json_t *data = json_object_get(cb, "data");
    assert_string_equal(s_str(data, "state"), "fail");
    assert_string_equal(s_str(data, "model"), "seedance-20");
    assert_int_equal(json_integer_value(json_object_get(data, "creditsUsed")),
                     0);
    assert_string_equal(s_str(json_object_get(data, "error"), "code"), "2038");
    assert_true(json_is_null(json_object_get(data, "completeTime")));
    json_decref(cb);
}

static void
test_error_table(void **state)
{
    (void)state;
    assert_string_equal(rl_taskview_error("content_rejected")->code, "2038");
    assert_string_equal(rl_taskview_error("capacity")->code, "4011");
    assert_string_equal(rl_taskview_error("timeout")->code, "4011");
    assert_string_equal(rl_taskview_error("permanent")->code, "500");
    assert_string_equal(rl_taskview_error(NULL)->code, "500");
}

/* The output's pixel size from the stored ratio and resolution; a
 * ratio that is not W:H of sides 1..100 reads as 16:9 (a huge side
 * overflowed the size). */
static void
test_output_size(void **state)
{
    (void)state;
    static const char *const ratios[][3] = {
        {"9:16", "720", "1280"},
        {"21:9", "5040", "2160"},
        {"9223372036854775807:1", "3840", "2160"},
        {"1:-5", "3840", "2160"},
        {"16:9x", "3840", "2160"},
        {"", "3840", "2160"},
    };
    for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
        const char *const kv[] = {"id",
                                  "task_s",
                                  "status",
                                  "completed",
                                  "output_url",
                                  "http://x/v.mp4",
                                  "aspect_ratio",
                                  ratios[i][0],
                                  "output_resolution",
                                  i == 0 ? "720p" : "4k"};
        rl_jobview_src_t src = {kv, NPAIRS(kv)};
        json_t *rec = rl_taskview_record(&src);
        json_t *out = json_array_get(json_object_get(rec, "output"), 0);
        char size[48];
        snprintf(size, sizeof size, "%lldx%lld",
                 json_integer_value(json_object_get(out, "width")),
                 json_integer_value(json_object_get(out, "height")));
        char want[48];
        snprintf(want, sizeof want, "%sx%s", ratios[i][1], ratios[i][2]);
        assert_string_equal(size, want);
        json_decref(rec);
    }
}

/* The callback's orderId carries the whole id, however long: a fixed
 * buffer cut it mid-character and the callback did not render. */
static void
test_order_id_long(void **state)
{
    (void)state;
    char id[5 + 40 * 3 + 1] = "task_";
    for (size_t i = 0; i < 40; i++)
        memcpy(id + 5 + 3 * i, "\xe2\x82\xac", 4);
    const char *const kv[] = {"id", id, "status", "completed"};
    rl_jobview_src_t src = {kv, NPAIRS(kv)};
    json_t *cb = rl_taskview_callback(&src);
    assert_non_null(cb);
    const char *order = s_str(json_object_get(cb, "data"), "orderId");
    assert_non_null(order);
    assert_string_equal(order + 6, id + 5);
    json_decref(cb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_alias_as_sent),
        cmocka_unit_test(test_model_after_failover),
        cmocka_unit_test(test_model_waiting),
        cmocka_unit_test(test_failed),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_output_size),
        cmocka_unit_test(test_order_id_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
