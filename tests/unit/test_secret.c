/*
 * test_secret - rl_secret: creating a private secret file once, reading
 * its first line, and every refusal (missing, empty, too long, a NUL).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rl_secret.h"

#define DIR_LEN 64
#define PATH_LEN 128
#define WHY_LEN 256

typedef struct {
    char dir[DIR_LEN];   /* a fresh private directory */
    char path[PATH_LEN]; /* dir/secret */
} fixture_t;

static int
s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_secret_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/secret", f->dir);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void
s_write(const char *path, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    close(fd);
}

static void
test_create_once_private(void **state)
{
    fixture_t *f = *state;
    char first[RL_SECRET_MAX], again[RL_SECRET_MAX], why[WHY_LEN];
    struct stat st;
    mode_t old = umask(0); /* the mode must not depend on the umask */

    assert_int_equal(rl_secret_create(f->path, 32), 0);
    umask(old);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 65); /* 64 hex digits and a newline */
    assert_int_equal(
        rl_secret_read(f->path, first, sizeof first, why, sizeof why), 0);
    assert_int_equal(strlen(first), 64);
    assert_int_equal(strspn(first, "0123456789abcdef"), 64);
    /* There already: kept as it is. */
    assert_int_equal(rl_secret_create(f->path, 16), 0);
    assert_int_equal(
        rl_secret_read(f->path, again, sizeof again, why, sizeof why), 0);
    assert_string_equal(first, again);
}

static void
test_create_refusals(void **state)
{
    fixture_t *f = *state;
    char path[PATH_LEN + 16];

    snprintf(path, sizeof path, "%s/no/such/dir", f->dir);
    errno = 0;
    assert_int_equal(rl_secret_create(path, 32), -1);
    assert_int_equal(errno, ENOENT);
}

static void
test_read_lines(void **state)
{
    fixture_t *f = *state;
    char buf[RL_SECRET_MAX], why[WHY_LEN];

    s_write(f->path, "pass word \r\nsecond line\n", 24);
    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     0);
    assert_string_equal(buf, "pass word "); /* spaces are kept */
    s_write(f->path, "no-newline", 10);
    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     0);
    assert_string_equal(buf, "no-newline");
}

static void
test_read_refusals(void **state)
{
    fixture_t *f = *state;
    char buf[8], why[WHY_LEN];

    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "cannot open"));
    assert_non_null(strstr(why, f->path));
    s_write(f->path, "\n", 1);
    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "empty"));
    s_write(f->path, "12345678\n", 9); /* 8 bytes: no room for the NUL */
    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "longer than 7"));
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0);  /* nothing of it left behind */
    s_write(f->path, "1234567\n", 8); /* exactly fits */
    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     0);
    assert_string_equal(buf, "1234567");
    s_write(f->path, "ab\0cd\n", 6);
    assert_int_equal(rl_secret_read(f->path, buf, sizeof buf, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "NUL"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_once_private, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_create_refusals, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_read_lines, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_read_refusals, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
