/*
 * admin - synchronous Redis calls of the launcher.
 * SPDX-License-Identifier: MIT
 */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "rl_apikey.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_lua.h"
#include "rl_state_acct.h"

#define ADMIN_ACCT_CHARS 16
#define ADMIN_MAX_ARGS 16

/* AUTH with cfg's user and `password` (none: no AUTH), then PING.
 * Returns 0 when Redis answers PONG, 1 when it refused us (why says
 * so: retrying cannot help), -1 when it does not answer (yet). */
static int
s_hello(redisContext *c, const rl_config_t *cfg, const char *password,
        char *why, size_t why_len)
{
    const char *user = cfg->redis_username;
    const char *argv[3] = {"AUTH"};
    int argc = 1, rc = -1;
    redisReply *r = NULL;
    if (password != NULL && password[0] != '\0') {
        if (user[0] != '\0')
            argv[argc++] = user;
        argv[argc++] = password;
        r = redisCommandArgv(c, argc, argv, NULL);
        if (r == NULL)
            return -1;
        if (r->type == REDIS_REPLY_ERROR) {
            rl_fmt_msg(why, why_len, "refused AUTH as %s%s%s: %s",
                       user[0] ? "user '" : "",
                       user[0] ? user : "the default user", user[0] ? "'" : "",
                       r->str);
            rc = 1;
        }
        freeReplyObject(r);
        if (rc == 1)
            return rc;
    }
    r = redisCommand(c, "PING");
    if (r != NULL && r->type == REDIS_REPLY_STATUS &&
        strcmp(r->str, "PONG") == 0) {
        rc = 0;
    } else if (r != NULL && r->type == REDIS_REPLY_ERROR &&
               strncmp(r->str, "NOAUTH", 6) == 0) {
        rl_fmt_msg(why, why_len,
                   "requires a password: set [redis] password "
                   "or password_file");
        rc = 1;
    }
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

redisContext *
admin_connect(const rl_config_t *cfg, const char *password, long timeout_ms,
              char *why, size_t why_len)
{
    int64_t until = rl_clock_mono_ms() + timeout_ms;
    struct timeval tv = {1, 0};
    rl_fmt_msg(why, why_len, "does not answer");
    do {
        redisContext *c =
            redisConnectWithTimeout(cfg->redis_host, cfg->redis_port, tv);
        int rc = -1;
        if (c != NULL && c->err == 0) {
            redisSetTimeout(c, tv);
            rc = s_hello(c, cfg, password, why, why_len);
        }
        if (rc == 0)
            return c;
        if (c != NULL)
            redisFree(c);
        if (rc == 1)
            return NULL;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    } while (rl_clock_mono_ms() < until);
    return NULL;
}

redisReply *
admin_script(redisContext *c, const char *name, int nkeys, int argc,
             const char **argv)
{
    const char *src = NULL;
    for (size_t i = 0; rl_lua_sources[i].name != NULL; i++)
        if (strcmp(rl_lua_sources[i].name, name) == 0)
            src = rl_lua_sources[i].source;
    if (src == NULL || argc > ADMIN_MAX_ARGS)
        return NULL;
    char nk[RL_FMT_DEC_LEN];
    rl_fmt_dec(nk, nkeys);
    const char *av[ADMIN_MAX_ARGS + 3] = {"EVAL", src, nk};
    for (int i = 0; i < argc; i++)
        av[3 + i] = argv[i];
    return redisCommandArgv(c, argc + 3, av, NULL);
}

int
admin_account_create(redisContext *c, const rl_config_t *cfg, long credits,
                     char *key, size_t key_len, char *acct, size_t acct_len)
{
    uint8_t master[RL_AEAD_KEY_LEN];
    rl_apikey_t k;
    /* A deployment without a configured master key keeps one in its data
     * directory, made on first use. */
    if (rl_apikey_master(cfg, master) != 0 && cfg->master_key[0] == '\0' &&
        (mkdir(cfg->data_dir, 0700) == 0 || errno == EEXIST))
        rl_apikey_master_create(cfg->data_dir);
    if (rl_apikey_master(cfg, master) != 0) {
        fprintf(stderr,
                "reelay: no master key: set [security] master_key "
                "or create %s/master.key (reelay up does)\n",
                cfg->data_dir);
        return -1;
    }
    if (rl_random_id("acct_", ADMIN_ACCT_CHARS, acct, acct_len) != 0 ||
        rl_apikey_new(master, rl_keys_partition(acct), &k) != 0 ||
        rl_fmt(key, key_len, "%s", k.key) != 0)
        return -1;
    rl_state_acct_create_args_t a = {.acct = acct,
                                     .key_hash = k.hash,
                                     .sealed = k.sealed,
                                     .key_id = k.id,
                                     .prefix = k.prefix,
                                     .credits = credits};
    rl_scall_t call; /* sent over the blocking connection below */
    if (!rl_state_acct_create_build(&call, &a))
        return -1;
    redisReply *r =
        admin_script(c, "account_create", call.nkeys, call.argc, call.argv);
    int ok = r &&
             (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING) &&
             strcmp(r->str, "ok") == 0;
    if (!ok)
        fprintf(stderr, "reelay: account creation failed: %s\n",
                r && r->str ? r->str : c->errstr);
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

int
admin_key_valid(redisContext *c, const char *key)
{
    char hash[RL_SHA256_HEX_LEN], kkey[RL_KEY_MAX];
    if (rl_sha256_hex(key, strlen(key), hash) != 0)
        return 0;
    rl_keys_apikey(kkey, sizeof kkey, hash);
    redisReply *r = redisCommand(c, "HEXISTS %s acct", kkey);
    int ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r)
        freeReplyObject(r);
    return ok;
}
