/*
 * test_sim_apis - the simulator's table of APIs: a complete row for every
 * provider type, prefixes that never claim each other's paths, and each
 * API's spelling of the task states.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_ptype.h"
#include "sim_apis.h"

static const char *
s_state(rl_ptype_t t, sim_state_t st)
{
    return sim_apis_get(t)->states[st];
}

static void
test_every_type_has_a_row(void **state)
{
    (void)state;
    for (int t = 0; t < RL_PTYPE_COUNT; t++) {
        const sim_api_t *api = sim_apis_get((rl_ptype_t)t);
        assert_non_null(api);
        assert_int_equal(api->type, t);
        assert_true(api->prefix != NULL && api->prefix[0] == '/');
        assert_true(api->id_prefix != NULL && api->id_prefix[0] != '\0');
        assert_non_null(api->malformed_poll);
        assert_non_null(api->malformed_submit);
        assert_non_null(api->route);
        assert_non_null(api->error);
        for (int st = 0; st < SIM_ST_COUNT; st++)
            assert_non_null(api->states[st]);
    }
}

/* No prefix starts another, so at most one API is asked for a path. */
static void
test_prefixes_apart(void **state)
{
    (void)state;
    for (int a = 0; a < RL_PTYPE_COUNT; a++) {
        for (int b = 0; b < RL_PTYPE_COUNT; b++) {
            const char *pa = sim_apis_get((rl_ptype_t)a)->prefix;
            const char *pb = sim_apis_get((rl_ptype_t)b)->prefix;
            if (a != b)
                assert_true(strncmp(pa, pb, strlen(pa)) != 0);
        }
    }
}

static void
test_state_names(void **state)
{
    (void)state;
    assert_string_equal(s_state(RL_PTYPE_KLING, SIM_ST_QUEUED), "submitted");
    assert_string_equal(s_state(RL_PTYPE_KLING, SIM_ST_SUCCEEDED), "succeed");
    assert_string_equal(s_state(RL_PTYPE_KLING, SIM_ST_EXPIRED), "failed");
    assert_string_equal(s_state(RL_PTYPE_SEEDANCE, SIM_ST_RUNNING), "running");
    assert_string_equal(s_state(RL_PTYPE_SEEDANCE, SIM_ST_SUCCEEDED),
                        "succeeded");
    assert_string_equal(s_state(RL_PTYPE_SEEDANCE, SIM_ST_CANCELLED),
                        "cancelled");
    assert_string_equal(s_state(RL_PTYPE_RUNWAY, SIM_ST_QUEUED), "PENDING");
    assert_string_equal(s_state(RL_PTYPE_OPENAI, SIM_ST_RUNNING),
                        "in_progress");
    assert_string_equal(s_state(RL_PTYPE_REPLICATE, SIM_ST_CANCELLED),
                        "canceled");
    assert_string_equal(s_state(RL_PTYPE_FAL, SIM_ST_FAILED), "COMPLETED");
    assert_string_equal(s_state(RL_PTYPE_KINOVI, SIM_ST_SUCCEEDED), "success");
    assert_string_equal(s_state(RL_PTYPE_LUMA, SIM_ST_RUNNING), "dreaming");
    assert_string_equal(s_state(RL_PTYPE_MINIMAX, SIM_ST_FAILED), "Fail");
    assert_string_equal(s_state(RL_PTYPE_VEO, SIM_ST_SUCCEEDED), "done");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type_has_a_row),
        cmocka_unit_test(test_prefixes_apart),
        cmocka_unit_test(test_state_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
