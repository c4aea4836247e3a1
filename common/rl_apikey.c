/*
 * rl_apikey - API key generation and sealing.
 * SPDX-License-Identifier: MIT
 */
#include "rl_apikey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define RL_APIKEY_MASTER_FILE "master.key"

int
rl_apikey_new(const uint8_t master[RL_AEAD_KEY_LEN], rl_apikey_t *out)
{
    memset(out, 0, sizeof *out);
    if (rl_random_id("rk_", RL_APIKEY_CHARS, out->key, sizeof out->key) != 0 ||
        rl_sha256_hex(out->key, strlen(out->key), out->hash) != 0 ||
        rl_aead_seal(master, out->key, strlen(out->key), out->sealed,
                     sizeof out->sealed) < 0)
        return -1;
    snprintf(out->id, sizeof out->id, "key_%.16s", out->hash);
    snprintf(out->prefix, sizeof out->prefix, "%.10s", out->key);
    return 0;
}

static int
s_read_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    char *line = fgets(buf, (int)len, f);
    fclose(f);
    if (line == NULL)
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

int
rl_apikey_master(const rl_config_t *cfg, uint8_t out[RL_AEAD_KEY_LEN])
{
    if (cfg->master_key != NULL && cfg->master_key[0] != '\0')
        return rl_aead_parse_key(cfg->master_key, out);
    char path[1024], hex[2 * RL_AEAD_KEY_LEN + 8];
    snprintf(path, sizeof path, "%s/" RL_APIKEY_MASTER_FILE, cfg->data_dir);
    if (s_read_file(path, hex, sizeof hex) != 0)
        return -1;
    return rl_aead_parse_key(hex, out);
}

int
rl_apikey_master_create(const char *data_dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/" RL_APIKEY_MASTER_FILE, data_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    uint8_t key[RL_AEAD_KEY_LEN];
    char hex[2 * RL_AEAD_KEY_LEN + 2];
    int rc = rl_random_bytes(key, sizeof key);
    for (size_t i = 0; rc == 0 && i < sizeof key; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    hex[2 * RL_AEAD_KEY_LEN] = '\n';
    if (rc == 0 &&
        write(fd, hex, 2 * RL_AEAD_KEY_LEN + 1) != 2 * RL_AEAD_KEY_LEN + 1)
        rc = -1;
    close(fd);
    return rc;
}

int
rl_apikey_open(const uint8_t master[RL_AEAD_KEY_LEN], const char *sealed,
               char *key, size_t key_len)
{
    return rl_aead_open(master, sealed, key, key_len) < 0 ? -1 : 0;
}
