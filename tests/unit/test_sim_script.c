/*
 * test_sim_script - the simulator's "[sim ...]" prompt directive parser.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rl_ptype.h"
#include "sim_script.h"

static struct sim_script
s_parse(const char *prompt, const char *name, rl_ptype_t api)
{
    struct sim_script sc;
    sim_script_parse(prompt, name, rl_ptype_name(api), &sc);
    return sc;
}

static void
test_no_directive_defaults(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("a cat on a skateboard", NULL, RL_PTYPE_KLING);
    assert_false(sc.has_directive);
    assert_int_equal(sc.render_ms, SIM_SCRIPT_DEFAULT_RENDER_MS);
    assert_int_equal(sc.steps, 0);
    assert_int_equal(sc.submit, SIM_SUBMIT_OK);
    assert_int_equal(sc.submit_times, -1);
    assert_int_equal(sc.fail, SIM_FAIL_NONE);
    assert_int_equal(sc.fail_after_polls, -1);
    assert_int_equal(sc.poll_hang, 0);
    assert_int_equal(sc.poll_5xx, 0);
    assert_int_equal(sc.malformed, SIM_MALFORMED_NONE);
    assert_int_equal(sc.malformed_times, -1);
    assert_int_equal(sc.task_id, SIM_ID_PLAIN);
    assert_int_equal(sc.output, SIM_OUTPUT_OK);

    sc = s_parse(NULL, NULL, RL_PTYPE_SEEDANCE);
    assert_false(sc.has_directive);
}

static void
test_empty_block_renders_instantly(void **state)
{
    (void)state;
    struct sim_script sc = s_parse("x [sim] y", NULL, RL_PTYPE_KLING);
    assert_true(sc.has_directive);
    assert_int_equal(sc.render_ms, 0);
}

static void
test_all_keys(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("dog [sim render_ms=1500 steps=3 submit=429 submit_times=2 "
                "fail=content poll_5xx=4 poll_hang=1 malformed=poll "
                "malformed_times=5] --dur 5",
                NULL, RL_PTYPE_SEEDANCE);
    assert_true(sc.has_directive);
    assert_int_equal(sc.render_ms, 1500);
    assert_int_equal(sc.steps, 3);
    assert_int_equal(sc.submit, SIM_SUBMIT_429);
    assert_int_equal(sc.submit_times, 2);
    assert_int_equal(sc.fail, SIM_FAIL_CONTENT);
    assert_int_equal(sc.fail_after_polls, -1);
    assert_int_equal(sc.poll_5xx, 4);
    assert_int_equal(sc.poll_hang, 1);
    assert_int_equal(sc.malformed, SIM_MALFORMED_POLL);
    assert_int_equal(sc.malformed_times, 5);
}

/* The hostile-provider keys: every word, API scoping, bad words. */
static void
test_hostile_words(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        sim_output_t want;
    } outputs[] = {
        {"ok", SIM_OUTPUT_OK},
        {"javascript", SIM_OUTPUT_JAVASCRIPT},
        {"data", SIM_OUTPUT_DATA},
        {"file", SIM_OUTPUT_FILE},
        {"relative", SIM_OUTPUT_RELATIVE},
        {"userinfo", SIM_OUTPUT_USERINFO},
        {"crlf", SIM_OUTPUT_CRLF},
    };
    char prompt[96];
    for (size_t i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
        snprintf(prompt, sizeof prompt, "x [sim output_url=%s]",
                 outputs[i].word);
        assert_int_equal(s_parse(prompt, NULL, RL_PTYPE_KLING).output,
                         outputs[i].want);
    }
    assert_int_equal(
        s_parse("x [sim task_id=traversal]", NULL, RL_PTYPE_KLING).task_id,
        SIM_ID_TRAVERSAL);
    assert_int_equal(
        s_parse("x [sim task_id=crlf]", NULL, RL_PTYPE_KLING).task_id,
        SIM_ID_CRLF);
    struct sim_script sc =
        s_parse("x [sim kling.task_id=traversal kling.output_url=file]", NULL,
                RL_PTYPE_SEEDANCE);
    assert_int_equal(sc.task_id, SIM_ID_PLAIN);
    assert_int_equal(sc.output, SIM_OUTPUT_OK);
    sc = s_parse("x [sim task_id=crlf output_url=data task_id=nope "
                 "output_url=gopher]",
                 NULL, RL_PTYPE_KLING);
    assert_int_equal(sc.task_id, SIM_ID_CRLF);
    assert_int_equal(sc.output, SIM_OUTPUT_DATA);
}

static void
test_submit_and_fail_words(void **state)
{
    (void)state;
    static const struct {
        const char *prompt;
        sim_submit_t submit;
        sim_fail_t fail;
    } cases[] = {
        {"[sim submit=400 fail=permanent]", SIM_SUBMIT_400, SIM_FAIL_PERMANENT},
        {"[sim submit=500 fail=capacity]", SIM_SUBMIT_500, SIM_FAIL_CAPACITY},
        {"[sim submit=503 fail=expired]", SIM_SUBMIT_503, SIM_FAIL_EXPIRED},
        {"[sim submit=hang]", SIM_SUBMIT_HANG, SIM_FAIL_NONE},
        {"[sim submit=capacity fail=none]", SIM_SUBMIT_CAPACITY, SIM_FAIL_NONE},
        {"[sim submit=429 submit=ok]", SIM_SUBMIT_OK, SIM_FAIL_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sim_script sc = s_parse(cases[i].prompt, NULL, RL_PTYPE_KLING);
        assert_int_equal(sc.submit, cases[i].submit);
        assert_int_equal(sc.fail, cases[i].fail);
    }
}

static void
test_fail_after_polls_implies_permanent(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("[sim fail_after_polls=2]", NULL, RL_PTYPE_KLING);
    assert_int_equal(sc.fail_after_polls, 2);
    assert_int_equal(sc.fail, SIM_FAIL_PERMANENT);

    sc =
        s_parse("[sim fail_after_polls=0 fail=capacity]", NULL, RL_PTYPE_KLING);
    assert_int_equal(sc.fail_after_polls, 0);
    assert_int_equal(sc.fail, SIM_FAIL_CAPACITY);
}

static void
test_api_scope(void **state)
{
    (void)state;
    const char *p = "[sim kling.submit=429 seedance.fail=content]";
    struct sim_script k = s_parse(p, NULL, RL_PTYPE_KLING);
    struct sim_script s = s_parse(p, NULL, RL_PTYPE_SEEDANCE);
    assert_int_equal(k.submit, SIM_SUBMIT_429);
    assert_int_equal(k.fail, SIM_FAIL_NONE);
    assert_int_equal(s.submit, SIM_SUBMIT_OK);
    assert_int_equal(s.fail, SIM_FAIL_CONTENT);
}

static void
test_name_scope(void **state)
{
    (void)state;
    const char *p = "[sim primary.submit=503 backup.render_ms=10]";
    struct sim_script a = s_parse(p, "primary", RL_PTYPE_KLING);
    struct sim_script b = s_parse(p, "backup", RL_PTYPE_KLING);
    struct sim_script none = s_parse(p, NULL, RL_PTYPE_KLING);
    assert_int_equal(a.submit, SIM_SUBMIT_503);
    assert_int_equal(a.render_ms, 0);
    assert_int_equal(b.submit, SIM_SUBMIT_OK);
    assert_int_equal(b.render_ms, 10);
    assert_int_equal(none.submit, SIM_SUBMIT_OK);
    assert_int_equal(none.render_ms, 0);
}

static void
test_precedence_ignores_order(void **state)
{
    (void)state;
    /* Name beats API beats unscoped, wherever each appears. */
    const char *p = "[sim sim1.steps=3 kling.steps=2] [sim steps=1]";
    assert_int_equal(s_parse(p, "sim1", RL_PTYPE_KLING).steps, 3);
    assert_int_equal(s_parse(p, "sim2", RL_PTYPE_KLING).steps, 2);
    assert_int_equal(s_parse(p, "sim2", RL_PTYPE_SEEDANCE).steps, 1);
    /* Within one level the last occurrence wins. */
    assert_int_equal(
        s_parse("[sim steps=1] [sim steps=4]", NULL, RL_PTYPE_KLING).steps, 4);
}

static void
test_bad_values_and_unknown_keys_ignored(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("[sim render_ms=300 render_ms=-5 render_ms=abc render_ms=12x "
                "render_ms=999999999999 steps=+2 submit=418 fail=maybe "
                "malformed=both colour=blue =7 novalue poll_5xx=]",
                NULL, RL_PTYPE_KLING);
    assert_int_equal(sc.render_ms, 300);
    assert_int_equal(sc.steps, 0);
    assert_int_equal(sc.submit, SIM_SUBMIT_OK);
    assert_int_equal(sc.fail, SIM_FAIL_NONE);
    assert_int_equal(sc.malformed, SIM_MALFORMED_NONE);
    assert_int_equal(sc.poll_5xx, 0);
}

static void
test_not_a_block(void **state)
{
    (void)state;
    /* "[simple" is not a block; an unterminated block is ignored. */
    struct sim_script sc =
        s_parse("[simple steps=3] [sim steps=2", NULL, RL_PTYPE_KLING);
    assert_false(sc.has_directive);
    assert_int_equal(sc.steps, 0);
    assert_int_equal(sc.render_ms, SIM_SCRIPT_DEFAULT_RENDER_MS);
}

static void
test_whitespace_and_overlong_tokens(void **state)
{
    (void)state;
    char prompt[512];
    char value[200];
    memset(value, '9', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    int n = snprintf(prompt, sizeof prompt,
                     "[sim\tsteps=2\n  render_ms=%s   poll_hang=1 ]", value);
    assert_true(n > 0 && (size_t)n < sizeof prompt);
    struct sim_script sc = s_parse(prompt, NULL, RL_PTYPE_KLING);
    assert_int_equal(sc.steps, 2);
    assert_int_equal(sc.render_ms, 0);
    assert_int_equal(sc.poll_hang, 1);
}

static void
test_state_by_time(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("[sim render_ms=1000]", NULL, RL_PTYPE_KLING);
    assert_int_equal(sim_script_state(&sc, 1, 0), SIM_ST_QUEUED);
    assert_int_equal(sim_script_state(&sc, 2, 249), SIM_ST_QUEUED);
    assert_int_equal(sim_script_state(&sc, 3, 250), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 4, 999), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 5, 1000), SIM_ST_SUCCEEDED);

    /* A bare block: the first poll already shows success. */
    sc = s_parse("[sim]", NULL, RL_PTYPE_KLING);
    assert_int_equal(sim_script_state(&sc, 1, 0), SIM_ST_SUCCEEDED);
}

static void
test_state_by_steps(void **state)
{
    (void)state;
    struct sim_script sc = s_parse("[sim steps=3]", NULL, RL_PTYPE_SEEDANCE);
    assert_int_equal(sim_script_state(&sc, 1, 0), SIM_ST_QUEUED);
    assert_int_equal(sim_script_state(&sc, 2, 0), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 3, 0), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 4, 0), SIM_ST_SUCCEEDED);

    /* Steps and time must both be done. */
    sc = s_parse("[sim steps=1 render_ms=500]", NULL, RL_PTYPE_SEEDANCE);
    assert_int_equal(sim_script_state(&sc, 2, 100), SIM_ST_QUEUED);
    assert_int_equal(sim_script_state(&sc, 2, 200), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 2, 500), SIM_ST_SUCCEEDED);
}

static void
test_state_failures(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("[sim fail=content steps=1]", NULL, RL_PTYPE_KLING);
    assert_int_equal(sim_script_state(&sc, 1, 0), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 2, 0), SIM_ST_FAILED);

    sc = s_parse("[sim fail=expired]", NULL, RL_PTYPE_SEEDANCE);
    assert_int_equal(sim_script_state(&sc, 1, 0), SIM_ST_EXPIRED);

    /* fail_after_polls ignores render time and steps. */
    sc = s_parse("[sim fail_after_polls=2 render_ms=0]", NULL, RL_PTYPE_KLING);
    assert_int_equal(sim_script_state(&sc, 1, 10), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 2, 10), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 3, 10), SIM_ST_FAILED);
}

static void
test_poll_actions(void **state)
{
    (void)state;
    unsigned n = 99;
    struct sim_script sc =
        s_parse("[sim poll_hang=1 poll_5xx=2 malformed=poll malformed_times=1]",
                NULL, RL_PTYPE_KLING);
    assert_int_equal(sim_script_poll(&sc, 1, &n), SIM_POLL_HANG);
    assert_int_equal(n, 0);
    assert_int_equal(sim_script_poll(&sc, 2, &n), SIM_POLL_500);
    assert_int_equal(sim_script_poll(&sc, 3, &n), SIM_POLL_503);
    assert_int_equal(sim_script_poll(&sc, 4, &n), SIM_POLL_MALFORMED);
    assert_int_equal(sim_script_poll(&sc, 5, &n), SIM_POLL_ANSWER);
    assert_int_equal(n, 2);

    sc = s_parse("plain", NULL, RL_PTYPE_KLING);
    assert_int_equal(sim_script_poll(&sc, 1, &n), SIM_POLL_ANSWER);
    assert_int_equal(n, 1);
}

static void
test_submit_actions(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("[sim submit=503 submit_times=2]", NULL, RL_PTYPE_KLING);
    assert_true(sim_script_counts_submits(&sc));
    assert_int_equal(sim_script_submit(&sc, 1), SIM_SUBMIT_503);
    assert_int_equal(sim_script_submit(&sc, 2), SIM_SUBMIT_503);
    assert_int_equal(sim_script_submit(&sc, 3), SIM_SUBMIT_OK);

    sc = s_parse("[sim submit=hang]", NULL, RL_PTYPE_KLING);
    assert_false(sim_script_counts_submits(&sc));
    assert_int_equal(sim_script_submit(&sc, 0), SIM_SUBMIT_HANG);

    sc = s_parse("[sim malformed=submit malformed_times=1]", NULL,
                 RL_PTYPE_SEEDANCE);
    assert_true(sim_script_counts_submits(&sc));
    assert_int_equal(sim_script_submit(&sc, 1), SIM_SUBMIT_MALFORMED);
    assert_int_equal(sim_script_submit(&sc, 2), SIM_SUBMIT_OK);

    sc = s_parse("plain", NULL, RL_PTYPE_KLING);
    assert_false(sim_script_counts_submits(&sc));
    assert_int_equal(sim_script_submit(&sc, 0), SIM_SUBMIT_OK);
}

static void
test_prompt_key_len(void **state)
{
    (void)state;
    assert_int_equal(sim_script_prompt_key_len("a cat [sim] --dur 5 --rt 1"),
                     strlen("a cat [sim]"));
    assert_int_equal(sim_script_prompt_key_len("a -- b --"),
                     strlen("a -- b --"));
    assert_int_equal(sim_script_prompt_key_len(""), 0);
}

/* Every API is a scope of its own: a token scoped to one API applies to
 * that API only, and beats unscoped tokens there. */
static void
test_new_api_scopes(void **state)
{
    (void)state;
    const char *p = "[sim submit=500 runway.submit=429 fal.fail=capacity "
                    "veo.poll_5xx=3 minimax.malformed=poll]";
    for (int api = 0; api < RL_PTYPE_COUNT; api++) {
        struct sim_script sc = s_parse(p, NULL, (rl_ptype_t)api);
        assert_int_equal(sc.submit, api == RL_PTYPE_RUNWAY ? SIM_SUBMIT_429
                                                           : SIM_SUBMIT_500);
        assert_int_equal(sc.fail, api == RL_PTYPE_FAL ? SIM_FAIL_CAPACITY
                                                      : SIM_FAIL_NONE);
        assert_int_equal(sc.poll_5xx, api == RL_PTYPE_VEO ? 3 : 0);
        assert_int_equal(sc.malformed, api == RL_PTYPE_MINIMAX
                                           ? SIM_MALFORMED_POLL
                                           : SIM_MALFORMED_NONE);
    }
    /* A name scope still beats an API scope. */
    struct sim_script sc =
        s_parse("[sim openai.steps=2 sim3.steps=7]", "sim3", RL_PTYPE_OPENAI);
    assert_int_equal(sc.steps, 7);
    /* Another API's scope is ignored, not taken for a name. */
    sc = s_parse("[sim luma.steps=4]", NULL, RL_PTYPE_KINOVI);
    assert_int_equal(sc.steps, 0);
}

/* queue_ms keeps a task queued first; rendering starts after it. */
static void
test_queue_ms(void **state)
{
    (void)state;
    struct sim_script sc =
        s_parse("[sim queue_ms=5000 render_ms=1000]", NULL, RL_PTYPE_RUNWAY);
    assert_int_equal(sc.queue_ms, 5000);
    assert_int_equal(sim_script_state(&sc, 3, 4999), SIM_ST_QUEUED);
    assert_int_equal(sim_script_state(&sc, 4, 5500), SIM_ST_RUNNING);
    assert_int_equal(sim_script_state(&sc, 5, 6000), SIM_ST_SUCCEEDED);
    sc = s_parse("[sim queue_ms=x render_ms=10]", NULL, RL_PTYPE_RUNWAY);
    assert_int_equal(sc.queue_ms, 0); /* a bad value is ignored */
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_directive_defaults),
        cmocka_unit_test(test_empty_block_renders_instantly),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_submit_and_fail_words),
        cmocka_unit_test(test_hostile_words),
        cmocka_unit_test(test_fail_after_polls_implies_permanent),
        cmocka_unit_test(test_api_scope),
        cmocka_unit_test(test_name_scope),
        cmocka_unit_test(test_precedence_ignores_order),
        cmocka_unit_test(test_bad_values_and_unknown_keys_ignored),
        cmocka_unit_test(test_not_a_block),
        cmocka_unit_test(test_whitespace_and_overlong_tokens),
        cmocka_unit_test(test_state_by_time),
        cmocka_unit_test(test_state_by_steps),
        cmocka_unit_test(test_state_failures),
        cmocka_unit_test(test_poll_actions),
        cmocka_unit_test(test_submit_actions),
        cmocka_unit_test(test_prompt_key_len),
        cmocka_unit_test(test_new_api_scopes),
        cmocka_unit_test(test_queue_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
