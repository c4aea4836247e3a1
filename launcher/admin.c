/*
 * admin - synchronous Redis calls of the launcher (over rl_rsync: one
 * server or a Redis Cluster).
 * SPDX-License-Identifier: MIT
 */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include "rl_apikey.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_lua.h"
#include "rl_state_acct.h"

#define ADMIN_ACCT_CHARS 16
#define ADMIN_MAX_ARGS 16

rl_rsync_t *
admin_connect(const rl_config_t *cfg, const char *password, long timeout_ms,
              char *why, size_t why_len)
{
    return rl_rsync_connect(cfg, password, timeout_ms, why, why_len);
}

void
admin_where(const rl_config_t *cfg, char *buf, size_t len)
{
    if (cfg->redis_cluster[0] != '\0')
        rl_fmt_fit(buf, len, "Redis Cluster at %s", cfg->redis_cluster);
    else
        rl_fmt_fit(buf, len, "Redis at %s:%d", cfg->redis_host,
                   cfg->redis_port);
}

redisReply *
admin_script(rl_rsync_t *c, const char *name, int nkeys, int argc,
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
    return rl_rsync_command(c, argc + 3, av, NULL);
}

int
admin_account_create(rl_rsync_t *c, const rl_config_t *cfg, long credits,
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
                r && r->str ? r->str : rl_rsync_error(c));
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

int
admin_key_valid(rl_rsync_t *c, const char *key)
{
    char hash[RL_SHA256_HEX_LEN], kkey[RL_KEY_MAX];
    if (rl_sha256_hex(key, strlen(key), hash) != 0)
        return 0;
    rl_keys_apikey(kkey, sizeof kkey, hash);
    const char *argv[] = {"HEXISTS", kkey, "acct"};
    redisReply *r = rl_rsync_command(c, 3, argv, NULL);
    int ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r)
        freeReplyObject(r);
    return ok;
}
