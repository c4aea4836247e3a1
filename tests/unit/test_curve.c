/*
 * test_curve - rl_curve and rl_zkeys: key pairs written by keygen and
 * read back, the checks on secret key files (mode, content), the
 * environment in place of a file, the key directory, and each role's
 * keys and --check-config in a scratch keys directory.
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
#include <sys/stat.h>
#include <unistd.h>

#include "rl_config.h"
#include "rl_curve.h"
#include "rl_zkeys.h"

#include <zmq.h>

/* A public key with '#' inside (no key starts with one). */
#define HASH_KEY "@bdu=PpT-TvlZ8fpKPAWqsK0#F?&:bUgbD0tU1&x"

typedef struct {
    char dir[64];
    rl_config_t *cfg;
} fixture_t;

static void
s_write(const char *dir, const char *file, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int
s_setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_curve.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    setenv("REELAY_ZMQ_KEYS_DIR", fx->dir, 1);
    unsetenv("REELAY_ZMQ_SECRET_BROKER");
    char err[512];
    fx->cfg = rl_config_load(NULL, err, sizeof err);
    assert_non_null(fx->cfg);
    *state = fx;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *fx = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
    /* The fixture's scratch directory, named by the test itself. */
    assert_int_equal(system(cmd), 0); // NOLINT(cert-env33-c)
    rl_config_destroy(&fx->cfg);
    unsetenv("REELAY_ZMQ_KEYS_DIR");
    free(fx);
    return 0;
}

static void
test_keygen_round_trip(void **state)
{
    fixture_t *fx = *state;
    char err[RL_CURVE_ERR_LEN], path[256], pub[RL_CURVE_KEY_LEN + 1];
    rl_curve_pair_t p;
    struct stat st;
    assert_true(rl_curve_available());
    assert_int_equal(rl_curve_keygen(fx->dir, "broker", err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/broker.key", fx->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(rl_curve_load_pair(fx->cfg, "broker", &p, err, sizeof err),
                     0);
    assert_int_equal(
        rl_curve_load_public(fx->cfg, "broker", pub, err, sizeof err), 0);
    assert_string_equal(p.public_key, pub);
    assert_true(rl_curve_key_valid(p.secret_key));
    rl_curve_pair_wipe(&p);
    assert_int_equal(p.secret_key[0], '\0');
    /* Never over an existing pair. */
    assert_int_equal(rl_curve_keygen(fx->dir, "broker", err, sizeof err), -1);
    assert_non_null(strstr(err, "not overwritten"));
    assert_int_equal(rl_curve_keygen(fx->dir, "../x", err, sizeof err), -1);
    assert_non_null(strstr(err, "bad key pair name"));
}

static void
test_secret_file_checks(void **state)
{
    fixture_t *fx = *state;
    char err[RL_CURVE_ERR_LEN], path[256];
    rl_curve_pair_t p;
    assert_int_equal(rl_curve_keygen(fx->dir, "w", err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/w.key", fx->dir);
    /* Group- or world-readable: refused, naming the file. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(rl_curve_read_pair(path, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(rl_curve_read_pair(path, &p, err, sizeof err), 0);
    /* Missing, empty, two keys, not Z85. */
    snprintf(path, sizeof path, "%s/none.key", fx->dir);
    assert_int_equal(rl_curve_read_pair(path, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "No such file"));
    s_write(fx->dir, "e.key", "# only a comment\n\n", 0600);
    snprintf(path, sizeof path, "%s/e.key", fx->dir);
    assert_int_equal(rl_curve_read_pair(path, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "no key"));
    s_write(fx->dir, "two.pub", HASH_KEY "\n" HASH_KEY "\n", 0644);
    snprintf(path, sizeof path, "%s/two.pub", fx->dir);
    char pub[RL_CURVE_KEY_LEN + 1];
    assert_int_equal(rl_curve_read_public(path, pub, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than one key"));
    s_write(fx->dir, "bad.pub", "short\n", 0644);
    snprintf(path, sizeof path, "%s/bad.pub", fx->dir);
    assert_int_equal(rl_curve_read_public(path, pub, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a Z85"));
    /* '#' inside a key is no comment. */
    s_write(fx->dir, "hash.pub", "#comment\n  " HASH_KEY "  \n", 0644);
    snprintf(path, sizeof path, "%s/hash.pub", fx->dir);
    assert_int_equal(rl_curve_read_public(path, pub, err, sizeof err), 0);
    assert_string_equal(pub, HASH_KEY);
}

static void
test_secret_from_environment(void **state)
{
    fixture_t *fx = *state;
    char err[RL_CURVE_ERR_LEN], pub[RL_CURVE_KEY_LEN + 1];
    char secret[RL_CURVE_KEY_LEN + 1];
    rl_curve_pair_t p;
    assert_int_equal(zmq_curve_keypair(pub, secret), 0);
    setenv("REELAY_ZMQ_SECRET_BROKER", secret, 1);
    assert_int_equal(rl_curve_load_pair(fx->cfg, "broker", &p, err, sizeof err),
                     0);
    assert_string_equal(p.public_key, pub);
    setenv("REELAY_ZMQ_SECRET_BROKER", "nonsense", 1);
    assert_int_equal(rl_curve_load_pair(fx->cfg, "broker", &p, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "REELAY_ZMQ_SECRET_BROKER"));
    unsetenv("REELAY_ZMQ_SECRET_BROKER");
}

static void
test_paths(void **state)
{
    fixture_t *fx = *state;
    char out[256];
    assert_int_equal(rl_curve_path(fx->cfg, "x.allow", out, sizeof out), 0);
    assert_true(strncmp(out, fx->dir, strlen(fx->dir)) == 0);
    assert_string_equal(out + strlen(fx->dir), "/x.allow");
    assert_int_equal(rl_curve_path(fx->cfg, "x.allow", out, 8), -1);
    unsetenv("REELAY_ZMQ_KEYS_DIR");
    char err[512];
    rl_config_t *def = rl_config_load(NULL, err, sizeof err);
    assert_non_null(def);
    assert_int_equal(rl_curve_dir(def, out, sizeof out), 0);
    assert_string_equal(out, "./run/keys");
    rl_config_destroy(&def);
    assert_true(rl_curve_comment("#", 1));
    assert_true(rl_curve_comment("#x", 2));
    assert_false(rl_curve_comment(HASH_KEY, RL_CURVE_KEY_LEN));
}

static void
test_roles(void **state)
{
    fixture_t *fx = *state;
    char err[RL_CURVE_ERR_LEN];
    rl_zkeys_t k;
    size_t n = 0;
    assert_int_equal(rl_zkeys_check(fx->cfg, "broker", err, sizeof err), -1);
    assert_non_null(strstr(err, "broker.key"));
    const char *names[] = {"broker", "worker", "deliverer", "cli"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(rl_curve_keygen(fx->dir, names[i], err, sizeof err),
                         0);
    /* The allow files are still missing. */
    assert_int_equal(rl_zkeys_check(fx->cfg, "broker", err, sizeof err), -1);
    assert_non_null(strstr(err, "dispatch.allow"));
    s_write(fx->dir, "dispatch.allow", "", 0600);
    s_write(fx->dir, "ingress.allow", "# none yet\n", 0600);
    assert_int_equal(rl_zkeys_check(fx->cfg, "broker", err, sizeof err), 0);
    assert_int_equal(rl_zkeys_load(fx->cfg, "worker", &k, err, sizeof err), 0);
    assert_true(rl_curve_key_valid(k.broker));
    assert_true(rl_curve_key_valid(k.deliverer));
    rl_zkeys_wipe(&k);
    assert_int_equal(rl_zkeys_load(fx->cfg, "cli", &k, err, sizeof err), 0);
    assert_true(rl_curve_key_valid(k.broker));
    assert_string_equal(k.deliverer, "");
    rl_zkeys_wipe(&k);
    const char *const *d = rl_zkeys_domains("broker", &n);
    assert_int_equal(n, 2);
    assert_string_equal(d[0], "dispatch");
    assert_null(rl_zkeys_domains("worker", &n));
    assert_int_equal(n, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_round_trip, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_checks, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_secret_from_environment, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_paths, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_roles, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
