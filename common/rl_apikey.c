/*
 * rl_apikey - API key generation and sealing.
 * SPDX-License-Identifier: MIT
 */
#include "rl_apikey.h"

#include <stdio.h>
#include <string.h>

#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_secret.h"

#define RL_APIKEY_MASTER_FILE "master.key"
#define S_MAX_DRAWS 4096 /* keys drawn for one in a given partition */

int
rl_apikey_new(const uint8_t master[RL_AEAD_KEY_LEN], int partition,
              rl_apikey_t *out)
{
    memset(out, 0, sizeof *out);
    /* One draw in RL_PARTITIONS lands there: 16 on average, and the
     * chance that 4096 all miss is below 1e-114. */
    for (int i = 0;; i++) {
        if (i == S_MAX_DRAWS ||
            rl_random_id("rk_", RL_APIKEY_CHARS, out->key, sizeof out->key) !=
                0 ||
            rl_sha256_hex(out->key, strlen(out->key), out->hash) != 0)
            return -1;
        if (rl_keys_partition(out->hash) == partition)
            break;
    }
    if (rl_aead_seal(master, out->key, strlen(out->key), out->sealed,
                     sizeof out->sealed) < 0 ||
        rl_fmt(out->id, sizeof out->id, "key_%.16s", out->hash) != 0 ||
        rl_fmt(out->prefix, sizeof out->prefix, "%.10s", out->key) != 0)
        return -1;
    return 0;
}

int
rl_apikey_master(const rl_config_t *cfg, uint8_t out[RL_AEAD_KEY_LEN])
{
    if (cfg->master_key != NULL && cfg->master_key[0] != '\0')
        return rl_aead_parse_key(cfg->master_key, out);
    char path[1024], hex[RL_SECRET_MAX], why[160];
    if (rl_fmt(path, sizeof path, "%s/" RL_APIKEY_MASTER_FILE, cfg->data_dir) !=
            0 ||
        rl_secret_read(path, hex, sizeof hex, why, sizeof why) != 0)
        return -1;
    int rc = rl_aead_parse_key(hex, out);
    explicit_bzero(hex, sizeof hex);
    return rc;
}

int
rl_apikey_master_create(const char *data_dir)
{
    char path[1024];
    if (rl_fmt(path, sizeof path, "%s/" RL_APIKEY_MASTER_FILE, data_dir) != 0)
        return -1;
    return rl_secret_create(path, RL_AEAD_KEY_LEN);
}

int
rl_apikey_open(const uint8_t master[RL_AEAD_KEY_LEN], const char *sealed,
               char *key, size_t key_len)
{
    return rl_aead_open(master, sealed, key, key_len) < 0 ? -1 : 0;
}
