/*
 * admin - the launcher's synchronous Redis calls (account creation,
 * readiness). The launcher is a command-line tool, not a server loop, so
 * blocking hiredis calls with a timeout are the simple right thing here.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "rl_config.h"
#include "rl_rsync.h"

#define ADMIN_KEY_LEN 64  /* buffer for an API key */
#define ADMIN_ACCT_LEN 32 /* buffer for an account id */

/* Connects to the configured Redis (one server or a cluster),
 * authenticates as [redis] username with `password` (NULL or "": no
 * AUTH), and retries until it answers PING or timeout_ms passes; a
 * refused AUTH, or a Redis that wants a password we lack, fails at once.
 * Returns a client (caller frees with rl_rsync_destroy), or NULL with the
 * reason in why ("does not answer", ...). */
rl_rsync_t *admin_connect(const rl_config_t *cfg, const char *password,
                          long timeout_ms, char *why, size_t why_len);

/* "Redis at HOST:PORT" or "Redis Cluster at SEEDS", for messages. */
void admin_where(const rl_config_t *cfg, char *buf, size_t len);

/* Creates an account with `credits` and its first API key (sealed under
 * the master key, see rl_apikey.h). Returns 0 with the key and account
 * id written, or -1 with a message on stderr. */
int admin_account_create(rl_rsync_t *c, const rl_config_t *cfg, long credits,
                         char *key, size_t key_len, char *acct,
                         size_t acct_len);

/* True when `key` authenticates (its hash is registered). */
int admin_key_valid(rl_rsync_t *c, const char *key);

/* Runs embedded script `name` with nkeys keys and args; caller frees the
 * reply with freeReplyObject. NULL on a connection error. */
redisReply *admin_script(rl_rsync_t *c, const char *name, int nkeys, int argc,
                         const char **argv);

#endif
