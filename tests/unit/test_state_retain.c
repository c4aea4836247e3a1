/*
 * test_state_retain - the parsers of the retention step's typed calls
 * (rl_state_retain): each script's answers read, SKIPPED and CHANGED
 * where a script gives them, and every other shape (a tag of another
 * script, a wrong length, a wrong element type, a negative count, an
 * error, no reply) made BAD or UNKNOWN, with nothing half-read.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rl_state_retain.h"

#define S_MAX 8

/* A node of a reply tree: a string (s), an integer (s NULL, kids 0) or
 * an array of its kids. */
typedef struct s_node {
    redisReply r;
    redisReply *els[S_MAX];
} s_node_t;

static redisReply *
s_str(s_node_t *n, const char *s)
{
    n->r = (redisReply){
        .type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s)};
    return &n->r;
}

static redisReply *
s_int(s_node_t *n, long long v)
{
    n->r = (redisReply){.type = REDIS_REPLY_INTEGER, .integer = v};
    return &n->r;
}

static redisReply *
s_arr(s_node_t *n, size_t k, redisReply *const *kids)
{
    n->r = (redisReply){
        .type = REDIS_REPLY_ARRAY, .elements = k, .element = n->els};
    for (size_t i = 0; i < k; i++)
        n->els[i] = kids[i];
    return &n->r;
}

static void
test_due(void **state)
{
    (void)state;
    s_node_t n[8];
    rl_state_retain_due_reply_t out;
    redisReply *refs = s_arr(
        &n[0], 2, (redisReply *[]){s_str(&n[1], "a|j1"), s_str(&n[2], "a|j2")});
    redisReply *accts = s_arr(&n[3], 1, (redisReply *[]){s_str(&n[4], "a")});
    redisReply *ok = s_arr(
        &n[5], 4,
        (redisReply *[]){s_str(&n[6], "ok"), s_int(&n[7], 1234), refs, accts});
    rl_state_retain_due_parse(ok, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_int_equal(out.now, 1234);
    assert_int_equal(out.refs->elements, 2);
    assert_int_equal(out.accts->elements, 1);

    /* refs holding an integer: BAD, nothing kept. */
    s_int(&n[2], 3);
    rl_state_retain_due_parse(ok, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    assert_null(out.refs);

    s_node_t m[2];
    redisReply *sk = s_arr(&m[0], 1, (redisReply *[]){s_str(&m[1], "skipped")});
    rl_state_retain_due_parse(sk, &out);
    assert_int_equal(out.tag, RL_STATE_SKIPPED);
    s_str(&m[1], "stale");
    rl_state_retain_due_parse(sk, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    rl_state_retain_due_parse(NULL, &out);
    assert_int_equal(out.tag, RL_STATE_UNKNOWN);
    s_str(&m[1], "ok"); /* ok alone: the wrong length */
    rl_state_retain_due_parse(sk, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
}

static void
test_read(void **state)
{
    (void)state;
    s_node_t n[16];
    rl_state_retain_read_reply_t out;
    redisReply *fields =
        s_arr(&n[0], 2,
              (redisReply *[]){s_str(&n[1], "status"), s_str(&n[2], "done")});
    redisReply *log = s_arr(&n[3], 1, (redisReply *[]){s_str(&n[4], "{}")});
    redisReply *ready =
        s_arr(&n[5], 3, (redisReply *[]){s_str(&n[6], "ready"), fields, log});
    redisReply *empty = s_arr(&n[7], 0, NULL);
    redisReply *busy =
        s_arr(&n[8], 3, (redisReply *[]){s_str(&n[9], "busy"), empty, empty});
    redisReply *r =
        s_arr(&n[10], 3, (redisReply *[]){s_str(&n[11], "ok"), ready, busy});
    rl_state_retain_read_parse(r, 2, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.jobs[0].verdict, RL_RETAIN_READY);
    assert_ptr_equal(out.jobs[0].fields, fields);
    assert_int_equal(out.jobs[1].verdict, RL_RETAIN_BUSY);

    /* Asked about three, told about two: BAD. */
    rl_state_retain_read_parse(r, 3, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    /* An unknown verdict, or fields of odd length: BAD. */
    s_str(&n[9], "sleepy");
    rl_state_retain_read_parse(r, 2, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    s_str(&n[9], "gone");
    n[0].r.elements = 1;
    rl_state_retain_read_parse(r, 2, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    n[0].r.elements = 2;
    rl_state_retain_read_parse(r, 2, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_int_equal(out.jobs[1].verdict, RL_RETAIN_GONE);
}

static void
test_remove(void **state)
{
    (void)state;
    s_node_t n[6];
    rl_state_retain_remove_reply_t out;
    redisReply *r = s_arr(&n[0], 5,
                          (redisReply *[]){s_str(&n[1], "ok"), s_int(&n[2], 3),
                                           s_int(&n[3], 1), s_int(&n[4], 0),
                                           s_int(&n[5], 2)});
    rl_state_retain_remove_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_int_equal(out.removed, 3);
    assert_int_equal(out.busy, 1);
    assert_int_equal(out.changed, 0);
    assert_int_equal(out.gone, 2);
    s_int(&n[3], -1);
    rl_state_retain_remove_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    assert_int_equal(out.removed, 0);
    n[0].r.elements = 4;
    rl_state_retain_remove_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    redisReply err = {.type = REDIS_REPLY_ERROR, .str = "ERR oops"};
    rl_state_retain_remove_parse(&err, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    assert_string_equal(out.why, "ERR oops");
}

static void
test_ledger(void **state)
{
    (void)state;
    s_node_t n[6];
    rl_state_retain_ledger_reply_t out;
    redisReply *es = s_arr(&n[0], 2,
                           (redisReply *[]){s_str(&n[1], "{\"at\":1}"),
                                            s_str(&n[2], "{\"at\":2}")});
    redisReply *r = s_arr(
        &n[3], 3, (redisReply *[]){s_str(&n[4], "ok"), s_int(&n[5], 40), es});
    rl_state_retain_ledger_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_int_equal(out.archived, 40);
    assert_int_equal(out.entries->elements, 2);
    s_int(&n[5], -2);
    rl_state_retain_ledger_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    assert_null(out.entries);
    s_int(&n[5], 0);
    s_int(&n[2], 5);
    rl_state_retain_ledger_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
}

static void
test_pop(void **state)
{
    (void)state;
    s_node_t n[3];
    rl_state_retain_pop_reply_t out;
    redisReply *r =
        s_arr(&n[0], 2, (redisReply *[]){s_str(&n[1], "ok"), s_int(&n[2], 5)});
    rl_state_retain_pop_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_OK);
    assert_int_equal(out.count, 5);
    s_str(&n[1], "changed");
    n[0].r.elements = 1;
    rl_state_retain_pop_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_CHANGED);
    s_str(&n[1], "skipped");
    rl_state_retain_pop_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_SKIPPED);
    s_str(&n[1], "replay");
    rl_state_retain_pop_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
    s_str(&n[1], "ok"); /* ok without its count */
    rl_state_retain_pop_parse(r, &out);
    assert_int_equal(out.tag, RL_STATE_BAD);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due),    cmocka_unit_test(test_read),
        cmocka_unit_test(test_remove), cmocka_unit_test(test_ledger),
        cmocka_unit_test(test_pop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
