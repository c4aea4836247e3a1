/*
 * keys - the CURVE keys of a local deployment (`reelay up`): makes the
 * key pairs of every role and the allow files of every link when they
 * are missing, as up does for the master key. What exists is kept, so
 * an operator's keys and edits survive restarts.
 * SPDX-License-Identifier: MIT
 */
#ifndef KEYS_H
#define KEYS_H

#include "rl_config.h"

/* With [zmq] curve on: makes the keys directory (0700) and, each only
 * when missing, broker, worker, deliverer and cli key pairs (.key 0600,
 * .pub) and dispatch.allow and completion.allow (listing worker.pub) and
 * ingress.allow (listing cli.pub), 0600. Returns 0, or -1 with the
 * reason in err. */
int keys_ensure(const rl_config_t *cfg, char *err, size_t err_len);

#endif
