/*
 * rl_apikey - API keys and the master key that seals them.
 *
 * An API key is "rk_" followed by 40 random base62 characters (about 238
 * bits, less the 4 that draw it into its account's partition). Redis
 * keeps it two ways: its SHA-256 (rl:key:{P}:<hash>, for lookup)
 * and, because webhooks are signed with the key itself
 * (X-CreativeAI-Signature), a
 * copy sealed with AES-256-GCM under the master key. The plaintext is
 * never written to Redis or to a log.
 *
 * The master key comes from [security] master_key (or the environment
 * variable REELAY_SECURITY_MASTER_KEY), else from the file
 * <data_dir>/master.key that `reelay up` creates on a fresh deployment.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_APIKEY_H
#define RL_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#include "rl_config.h"
#include "rl_crypto.h"

#define RL_APIKEY_CHARS 40

typedef struct {
    char key[64];                 /* the secret: shown to its owner once */
    char hash[RL_SHA256_HEX_LEN]; /* lookup hash */
    char id[24];                  /* "key_" + 16 hex digits of the hash */
    char prefix[16];              /* first 10 characters, for listings */
    char sealed[256];             /* AES-256-GCM sealed key */
} rl_apikey_t;

/* Makes a new random key sealed under master, drawn so that its hash
 * lies in `partition` (its account's: rl_keys.h). Returns 0 or -1. */
int rl_apikey_new(const uint8_t master[RL_AEAD_KEY_LEN], int partition,
                  rl_apikey_t *out);

/* Loads the master key (see above) into out. Returns 0, or -1 when none
 * is configured or the file is unreadable or malformed. */
int rl_apikey_master(const rl_config_t *cfg, uint8_t out[RL_AEAD_KEY_LEN]);

/* Creates <data_dir>/master.key (mode 0600) with a random key unless it
 * exists. Returns 0 or -1. */
int rl_apikey_master_create(const char *data_dir);

/* Opens a sealed key into key (NUL-terminated). Returns 0 or -1. */
int rl_apikey_open(const uint8_t master[RL_AEAD_KEY_LEN], const char *sealed,
                   char *key, size_t key_len);

#endif
