/*
 * test_config_redis - rl_config's Redis credentials: [redis] username,
 * password and password_file, REELAY_REDIS_PASSWORD, the embedded
 * Redis's generated <data_dir>/redis.password, and their errors; the
 * Redis Cluster seeds ([redis] cluster) and wait_replicas.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rl_config.h"

#define ERR_LEN 512
#define DIR_LEN 64
#define PATH_LEN 128
#define TEXT_LEN 1024

typedef struct {
    char dir[DIR_LEN];  /* data_dir of the configs loaded */
    char ini[PATH_LEN]; /* dir/reelay.ini */
    char pwf[PATH_LEN]; /* dir/pw, a password_file */
    char gen[PATH_LEN]; /* dir/redis.password, the launcher's file */
} fixture_t;

static int
s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_config_redis_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->ini, sizeof f->ini, "%s/reelay.ini", f->dir);
    snprintf(f->pwf, sizeof f->pwf, "%s/pw", f->dir);
    snprintf(f->gen, sizeof f->gen, "%s/" RL_CONFIG_REDIS_PASSWORD_FILE,
             f->dir);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    unlink(f->ini);
    unlink(f->pwf);
    unlink(f->gen);
    rmdir(f->dir);
    unsetenv("REELAY_REDIS_PASSWORD");
    free(f);
    return 0;
}

static void
s_write(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

/* Loads "[redis]\n<redis>[launcher]\ndata_dir = <dir>\n". */
static rl_config_t *
s_load(const fixture_t *f, const char *redis, char *err)
{
    char text[TEXT_LEN];
    snprintf(text, sizeof text, "[redis]\n%s[launcher]\ndata_dir = %s\n", redis,
             f->dir);
    s_write(f->ini, text);
    return rl_config_load(f->ini, err, ERR_LEN);
}

static void
test_defaults_no_auth(void **state)
{
    fixture_t *f = *state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load(f, "embedded = false\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_username, "");
    assert_string_equal(c->redis_password, "");
    assert_string_equal(c->redis_password_file, "");
    rl_config_destroy(&c);
    /* Embedded, and the launcher has made no password yet: none. */
    c = s_load(f, "embedded = true\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "");
    rl_config_destroy(&c);
}

static void
test_password_and_user(void **state)
{
    fixture_t *f = *state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load(f,
                            "embedded = false\nusername = reelay\n"
                            "password = s3cret pass\n",
                            err);
    assert_non_null(c);
    assert_string_equal(c->redis_username, "reelay");
    assert_string_equal(c->redis_password, "s3cret pass");
    rl_config_destroy(&c);
    setenv("REELAY_REDIS_PASSWORD", "from-env", 1);
    c = s_load(f, "embedded = false\npassword = from-file\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "from-env");
    rl_config_destroy(&c);
}

static void
test_password_file(void **state)
{
    fixture_t *f = *state;
    char err[ERR_LEN] = "", line[PATH_LEN + 64];
    s_write(f->pwf, "filed-secret\n");
    snprintf(line, sizeof line,
             "embedded = false\nusername = u\n"
             "password_file = %s\n",
             f->pwf);
    rl_config_t *c = s_load(f, line, err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "filed-secret");
    assert_string_equal(c->redis_password_file, f->pwf);
    rl_config_destroy(&c);
    /* The environment's empty password leaves the file in charge. */
    setenv("REELAY_REDIS_PASSWORD", "", 1);
    c = s_load(f, line, err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "filed-secret");
    rl_config_destroy(&c);
}

static void
test_embedded_generated_file(void **state)
{
    fixture_t *f = *state;
    char err[ERR_LEN] = "";
    s_write(f->gen, "0123abcd\n");
    rl_config_t *c = s_load(f, "embedded = true\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "0123abcd");
    rl_config_destroy(&c);
    /* A password of its own wins over the launcher's file. */
    c = s_load(f, "embedded = true\npassword = mine\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "mine");
    rl_config_destroy(&c);
    /* A shared Redis never reads the embedded one's file. */
    c = s_load(f, "embedded = false\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_password, "");
    rl_config_destroy(&c);
}

static void
test_errors(void **state)
{
    fixture_t *f = *state;
    char err[ERR_LEN] = "", line[PATH_LEN + 64];

    s_write(f->pwf, "x\n");
    snprintf(line, sizeof line,
             "embedded = false\npassword = a\n"
             "password_file = %s\n",
             f->pwf);
    assert_null(s_load(f, line, err));
    assert_non_null(strstr(err, "[redis] password_file"));
    assert_non_null(strstr(err, "not both"));

    snprintf(line, sizeof line, "embedded = false\npassword_file = %s.no\n",
             f->pwf);
    assert_null(s_load(f, line, err));
    assert_non_null(strstr(err, "cannot open"));

    s_write(f->pwf, "\n");
    snprintf(line, sizeof line, "embedded = false\npassword_file = %s\n",
             f->pwf);
    assert_null(s_load(f, line, err));
    assert_non_null(strstr(err, "empty"));

    assert_null(s_load(f, "embedded = false\nusername = reelay\n", err));
    assert_non_null(strstr(err, "[redis] username"));
    assert_non_null(strstr(err, "needs password"));

    assert_null(s_load(f, "embedded = false\nusername = re lay\n", err));
    assert_non_null(strstr(err, "[redis] username"));

    setenv("REELAY_REDIS_PASSWORD", "two\nlines", 1);
    assert_null(s_load(f, "embedded = false\n", err));
    assert_non_null(strstr(err, "REELAY_REDIS_PASSWORD"));
    assert_non_null(strstr(err, "one line"));
}

/* [redis] cluster and wait_replicas, and REELAY_REDIS_CLUSTER. */
static void
test_cluster(void **state)
{
    fixture_t *f = *state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load(f, "embedded = false\n", err);
    assert_non_null(c);
    assert_string_equal(c->redis_cluster, "");
    assert_int_equal(c->redis_wait_replicas, 0);
    rl_config_destroy(&c);

    c = s_load(f,
               "embedded = false\ncluster = 10.0.0.1:7000, r2.internal:7001,"
               "[::1]:7002\nwait_replicas = 1\n",
               err);
    assert_non_null(c);
    assert_string_equal(c->redis_cluster,
                        "10.0.0.1:7000, r2.internal:7001,[::1]:7002");
    assert_int_equal(c->redis_wait_replicas, 1);
    rl_config_destroy(&c);

    setenv("REELAY_REDIS_CLUSTER", "127.0.0.1:7005", 1);
    c = s_load(f, "embedded = false\n", err);
    unsetenv("REELAY_REDIS_CLUSTER");
    assert_non_null(c);
    assert_string_equal(c->redis_cluster, "127.0.0.1:7005");
    rl_config_destroy(&c);

    assert_null(s_load(f, "embedded = false\ncluster = a:1,,b:2\n", err));
    assert_non_null(strstr(err, "[redis] cluster"));
    assert_null(s_load(f, "embedded = false\ncluster = a:70000\n", err));
    assert_non_null(strstr(err, "[redis] cluster"));
    assert_null(s_load(f, "embedded = false\ncluster = a b:1\n", err));
    assert_non_null(strstr(err, "[redis] cluster"));
    assert_null(s_load(f, "embedded = true\ncluster = a:1\n", err));
    assert_non_null(strstr(err, "embedded = false"));
    assert_null(s_load(f, "embedded = false\nwait_replicas = 17\n", err));
    assert_non_null(strstr(err, "[redis] wait_replicas"));
    assert_null(s_load(f, "embedded = false\nwait_replicas = -1\n", err));
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_defaults_no_auth), T(test_password_and_user),
        T(test_password_file),    T(test_embedded_generated_file),
        T(test_errors),           T(test_cluster),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
