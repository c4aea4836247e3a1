/*
 * test_ptype - the provider types: every type named, names parsed back
 * exactly (case-sensitive), and the list the config quotes.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_ptype.h"

static void
test_names_round_trip(void **state)
{
    (void)state;
    for (int t = 0; t < RL_PTYPE_COUNT; t++) {
        const char *name = rl_ptype_name((rl_ptype_t)t);
        rl_ptype_t back = RL_PTYPE_COUNT;
        assert_true(name[0] != '\0');
        assert_true(strlen(name) <= RL_PTYPE_NAME_MAX);
        assert_int_equal(rl_ptype_parse(name, &back), 0);
        assert_int_equal(back, t);
    }
    assert_string_equal(rl_ptype_name(RL_PTYPE_KLING), "kling");
    assert_string_equal(rl_ptype_name(RL_PTYPE_VEO), "veo");
}

static void
test_unknown_names(void **state)
{
    rl_ptype_t t = RL_PTYPE_COUNT;
    (void)state;
    assert_int_equal(rl_ptype_parse("acme", &t), -1);
    assert_int_equal(rl_ptype_parse("", &t), -1);
    assert_int_equal(rl_ptype_parse("Kling", &t), -1);
    assert_int_equal(rl_ptype_parse("kling ", &t), -1);
    assert_int_equal(t, RL_PTYPE_COUNT);
}

static void
test_list(void **state)
{
    char list[RL_PTYPE_LIST_MAX];
    (void)state;
    rl_ptype_list('|', list);
    assert_string_equal(list, "kling|seedance|runway|openai|replicate|fal|"
                              "kinovi|luma|minimax|veo");
    rl_ptype_list(',', list);
    assert_non_null(strstr(list, "fal,kinovi"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
