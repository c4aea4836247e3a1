/*
 * test_launcher_redis_conf - the embedded Redis's configuration file:
 * private (0600) whatever the umask or an older file's mode, loopback
 * only, the password only as its SHA-256, and its refusals.
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
#include <sys/stat.h>
#include <unistd.h>

#include "redis_conf.h"
#include "rl_crypto.h"

#define ERR_LEN 512
#define DIR_LEN 64
#define PATH_LEN 128
#define TEXT_LEN 4096

typedef struct {
    char dir[DIR_LEN];   /* a fresh directory */
    char path[PATH_LEN]; /* dir/redis.conf */
    rl_config_t *cfg;    /* defaults */
} fixture_t;

static int
s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[ERR_LEN];
    snprintf(f->dir, sizeof f->dir, "/tmp/test_redis_conf_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/" REDIS_CONF_FILE, f->dir);
    f->cfg = rl_config_load(NULL, err, sizeof err);
    assert_non_null(f->cfg);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    rl_config_destroy(&f->cfg);
    free(f);
    return 0;
}

static void
s_read(const char *path, char *text, size_t len)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(text, 1, len - 1, fp);
    text[n] = '\0';
    fclose(fp);
}

/* Replaces a config string (the tests' own copy of the defaults). */
static void
s_set(char **field, const char *value)
{
    free(*field);
    *field = strdup(value);
}

static void
test_written_private(void **state)
{
    fixture_t *f = *state;
    char why[ERR_LEN] = "", text[TEXT_LEN], line[128];
    char hash[RL_SHA256_HEX_LEN];
    struct stat st;

    /* An older file readable to all is replaced by a private one. */
    int fd = open(f->path, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(fchmod(fd, 0644), 0);
    close(fd);
    mode_t old = umask(0);
    int rc = redis_conf_write(f->path, f->cfg, "/var/lib/r dir", "pass-word",
                              why, sizeof why);
    umask(old);
    assert_int_equal(rc, 0);
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    s_read(f->path, text, sizeof text);
    assert_null(strstr(text, "pass-word"));
    assert_int_equal(rl_sha256_hex("pass-word", 9, hash), 0);
    snprintf(line, sizeof line, "user default on resetpass #%s ~* &* +@all\n",
             hash);
    assert_non_null(strstr(text, line));
    assert_non_null(strstr(text, "\nport 6379\n"));
    assert_non_null(strstr(text, "\nbind 127.0.0.1\n"));
    assert_non_null(strstr(text, "\nprotected-mode yes\n"));
    assert_non_null(strstr(text, "\ndir \"/var/lib/r dir\"\n"));
    assert_non_null(strstr(text, "\nappendfsync always\n"));
    assert_non_null(strstr(text, "\nsave \"\"\n"));
    assert_null(strstr(text, "user reelay"));
}

static void
test_named_user_and_localhost(void **state)
{
    fixture_t *f = *state;
    char why[ERR_LEN] = "", text[TEXT_LEN];

    s_set(&f->cfg->redis_username, "reelay");
    s_set(&f->cfg->redis_host, "localhost");
    assert_int_equal(
        redis_conf_write(f->path, f->cfg, "/d", "pw", why, sizeof why), 0);
    s_read(f->path, text, sizeof text);
    assert_non_null(strstr(text, "\nbind 127.0.0.1 -::1\n"));
    assert_non_null(strstr(text, "\nuser default on resetpass #"));
    assert_non_null(strstr(text, "\nuser reelay on resetpass #"));
    s_set(&f->cfg->redis_host, "127.0.0.5");
    assert_int_equal(
        redis_conf_write(f->path, f->cfg, "/d", "pw", why, sizeof why), 0);
    s_read(f->path, text, sizeof text);
    assert_non_null(strstr(text, "\nbind 127.0.0.5\n"));
}

static void
test_refusals(void **state)
{
    fixture_t *f = *state;
    char why[ERR_LEN] = "";

    s_set(&f->cfg->redis_host, "10.0.0.1");
    assert_int_equal(
        redis_conf_write(f->path, f->cfg, "/d", "pw", why, sizeof why), -1);
    assert_non_null(strstr(why, "loopback"));
    s_set(&f->cfg->redis_host, "redis.example");
    assert_int_equal(
        redis_conf_write(f->path, f->cfg, "/d", "pw", why, sizeof why), -1);
    s_set(&f->cfg->redis_host, "127.0.0.1");
    assert_int_equal(
        redis_conf_write(f->path, f->cfg, "/d\"x", "pw", why, sizeof why), -1);
    assert_non_null(strstr(why, "quote"));
    assert_int_equal(
        redis_conf_write(f->path, f->cfg, "/d", "", why, sizeof why), -1);
    assert_non_null(strstr(why, "no password"));
    assert_int_equal(access(f->path, F_OK), -1); /* nothing written */
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(test_written_private),
        T(test_named_user_and_localhost),
        T(test_refusals),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
