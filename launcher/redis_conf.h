/*
 * redis_conf - the configuration file of the launcher's embedded Redis.
 * Its settings go into a file (mode 0600) rather than onto the
 * redis-server command line, which every user of the host can read
 * (ps, /proc/PID/cmdline); the password is in it only as its SHA-256
 * (an ACL "#hash" rule). Redis listens on the loopback address of
 * [redis] host only, with protected mode on.
 * SPDX-License-Identifier: MIT
 */
#ifndef REDIS_CONF_H
#define REDIS_CONF_H

#include <stddef.h>

#include "rl_config.h"

/* The file name, in [launcher] data_dir. */
#define REDIS_CONF_FILE "redis.conf"

/* Writes the embedded Redis's configuration to `path` (replacing it
 * atomically, mode 0600): [redis] port, the loopback host as its bind
 * address, AOF with [redis] appendfsync and no RDB snapshots, data in
 * `dir`, and the default user (and [redis] username, if set) with
 * `password`. Returns 0, or -1 with the reason in why: a host that is
 * not a loopback address, a path Redis cannot take, a write error. */
int redis_conf_write(const char *path, const rl_config_t *cfg, const char *dir,
                     const char *password, char *why, size_t why_len);

#endif
