/*
 * test_allow - rl_allow: the allow file format (keys, comments, blank
 * lines, a trailing comment, '#' inside keys), its errors with their
 * line, and reloads on change that keep the last good list.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "rl_allow.h"

#define KEY_A "@bdu=PpT-TvlZ8fpKPAWqsK0#F?&:bUgbD0tU1&x"
#define KEY_B "*G9riN${)vP0M*lsjeTaQQB}23buP]bk35GD]3<H"
#define KEY_C "q?U]GC/bZm0SjSwnz(Ss*rliwI]e5Sl^HAhI/pV}"

static rl_allow_key_t *
s_parse(const char *text, size_t *n, char *err, size_t err_len)
{
    return rl_allow_parse(text, strlen(text), "t.allow", n, err, err_len);
}

static void
test_parse_format(void **state)
{
    (void)state;
    char err[256];
    size_t n = 99;
    rl_allow_key_t *k = s_parse("# workers\n\n  " KEY_B "\r\n" KEY_A
                                "   # host-3\n#x\n" KEY_B "\n" KEY_C,
                                &n, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(n, 3);               /* KEY_B twice counts once */
    assert_string_equal(k[0].z85, KEY_B); /* sorted: '*' < '@' < 'q' */
    free(k);
    k = s_parse("", &n, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(n, 0);
    free(k);
}

static void
test_parse_errors(void **state)
{
    (void)state;
    char err[256];
    size_t n;
    assert_null(s_parse(KEY_A "\nshort\n", &n, err, sizeof err));
    assert_string_equal(err, "t.allow:2: not a Z85 CURVE public key "
                             "(40 characters)");
    assert_null(s_parse(KEY_A " " KEY_B "\n", &n, err, sizeof err));
    assert_non_null(strstr(err, "t.allow:1: one key per line"));
    /* A '#' right after a key is part of it. */
    assert_null(s_parse(KEY_A "#x\n", &n, err, sizeof err));
    assert_non_null(strstr(err, "t.allow:1: not a Z85"));
    /* A character outside Z85 (the space is not one, '"' neither). */
    assert_null(s_parse("\"bdu=PpT-TvlZ8fpKPAWqsK0#F?&:bUgbD0tU1&x\n", &n, err,
                        sizeof err));
    assert_non_null(strstr(err, ":1:"));
}

static void
test_parse_cap(void **state)
{
    (void)state;
    char err[256];
    size_t n, len = (size_t)(RL_ALLOW_MAX_KEYS + 1) * 41;
    char *text = malloc(len + 1), pub[41], secret[41];
    for (int i = 0; i <= RL_ALLOW_MAX_KEYS; i++) {
        assert_int_equal(zmq_curve_keypair(pub, secret), 0);
        memcpy(text + (size_t)i * 41, pub, 40);
        text[(size_t)i * 41 + 40] = '\n';
    }
    text[len] = '\0';
    assert_null(rl_allow_parse(text, len, "big", &n, err, sizeof err));
    assert_non_null(strstr(err, "more than 4096 keys"));
    rl_allow_key_t *k =
        rl_allow_parse(text, len - 41, "big", &n, err, sizeof err);
    assert_non_null(k);
    assert_int_equal(n, RL_ALLOW_MAX_KEYS);
    free(k);
    free(text);
}

static void
s_write(const char *path, const char *text)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0); /* as an editor saves */
}

static void
test_reload(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_allow.XXXXXX", path[128], err[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/dispatch.allow", dir);
    assert_null(rl_allow_new(path, err, sizeof err));
    assert_non_null(strstr(err, path));
    s_write(path, KEY_A "\n");
    rl_allow_t *a = rl_allow_new(path, err, sizeof err);
    assert_non_null(a);
    assert_string_equal(rl_allow_path(a), path);
    assert_true(rl_allow_has(a, KEY_A));
    assert_false(rl_allow_has(a, KEY_B));
    assert_false(rl_allow_has(a, NULL));
    assert_false(rl_allow_has(a, "short"));
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), 0);

    s_write(path, KEY_A "\n" KEY_B "\n");
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), 1);
    assert_true(rl_allow_has(a, KEY_B));
    assert_int_equal(rl_allow_count(a), 2);

    /* A broken edit keeps the list in force, and is reported once. */
    s_write(path, KEY_C "\nbroken\n");
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2:"));
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), 0);
    assert_true(rl_allow_has(a, KEY_B));
    assert_false(rl_allow_has(a, KEY_C));

    /* Gone: the same; back: read again. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), -1);
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), 0);
    s_write(path, KEY_C "\n");
    assert_int_equal(rl_allow_refresh(a, err, sizeof err), 1);
    assert_true(rl_allow_has(a, KEY_C));
    assert_false(rl_allow_has(a, KEY_A));
    rl_allow_destroy(&a);
    assert_null(a);
    rl_allow_destroy(&a);
    unlink(path);
    rmdir(dir);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_cap),
        cmocka_unit_test(test_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
