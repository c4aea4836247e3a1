/*
 * rl_zkeys - which CURVE keys each process needs, by role, and where
 * they live: the one place that knows the key layout of docs/security.md.
 *
 *   role       own pair        servers it connects to    allow files
 *   broker     broker.key      -                         dispatch.allow,
 *                                                        ingress.allow
 *   worker     worker.key      broker.pub, deliverer.pub -
 *   deliverer  deliverer.key   -                         completion.allow
 *   cli        cli.key         broker.pub                -
 *
 * Every file is in [zmq] keys_dir (default <data_dir>/keys); a secret key
 * may come from REELAY_ZMQ_SECRET_<ROLE> instead (rl_curve.h). Failure
 * modes: -1 with one line naming the file and the reason.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ZKEYS_H
#define RL_ZKEYS_H

#include <stddef.h>

#include "rl_config.h"
#include "rl_curve.h"

/* The keys of one process. Members are API-only. */
typedef struct {
    rl_curve_pair_t own;                  /* this process's pair */
    char broker[RL_CURVE_KEY_LEN + 1];    /* worker, cli: "" otherwise */
    char deliverer[RL_CURVE_KEY_LEN + 1]; /* worker: "" otherwise */
} rl_zkeys_t;

/* The ZAP domains (= allow files) a role's servers use; *n of them. */
const char *const *rl_zkeys_domains(const char *role, size_t *n);

/* Loads the keys of `role` ("broker", "worker", "deliverer", "cli").
 * Returns 0, or -1 with the reason in err (*out wiped). */
int rl_zkeys_load(const rl_config_t *cfg, const char *role, rl_zkeys_t *out,
                  char *err, size_t err_len);

/* --check-config: with [zmq] curve on, loads the role's keys and parses
 * its allow files, then forgets them. Returns 0 or -1 (err). */
int rl_zkeys_check(const rl_config_t *cfg, const char *role, char *err,
                   size_t err_len);

/* Zeroes *k (secret included). */
void rl_zkeys_wipe(rl_zkeys_t *k);

#endif
