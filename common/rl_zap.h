/*
 * rl_zap - the ZAP handler (ZeroMQ RFC 27) of a process's CURVE servers.
 *
 * A REP socket bound to inproc://zeromq.zap.01 in the process's ZeroMQ
 * context, served on its libevent loop (rl_zsock). Every server socket
 * sets ZMQ_ZAP_DOMAIN to the name of its link ("dispatch", "completion",
 * "ingress"), and each domain admits only the public keys listed in
 * <keys_dir>/<domain>.allow (rl_allow.h). An admitted peer's User-Id
 * (the metadata of every message it sends) is its Z85 public key, so a
 * module can check each message against the current list too
 * (rl_zap_permits): a key removed from the file stops being heard
 * within RL_ZAP_RELOAD_MS, not only at its next handshake.
 *
 * Answers: 200 for a listed CURVE key; 400 for any other key, another
 * mechanism or an unknown domain; 500 for a request libzmq should never
 * send (malformed). Denials are counted and logged at most once per
 * RL_ZAP_LOG_MS: the first at once, the rest summed in one line.
 *
 * The handler must be bound (rl_zap_new) before any CURVE server socket
 * binds: libzmq admits every CURVE client when no handler is bound.
 * Allow files are read again when they change: on every ZAP request (for
 * its domain) and every RL_ZAP_RELOAD_MS (all of them). A file broken
 * by an edit keeps the previous list in force, with one warning.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ZAP_H
#define RL_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rl_config.h"

struct event_base;

#define RL_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define RL_ZAP_MAX_DOMAINS 4
#define RL_ZAP_RELOAD_MS 1000 /* allow files checked for changes */
#define RL_ZAP_LOG_MS 10000   /* at most one denial line per period */

typedef struct rl_zap rl_zap_t;

/* Binds the handler in zctx and loads <keys_dir>/<domain>.allow for
 * each of the n domains. Returns the handler (caller owns; destroy it
 * before terminating zctx), or NULL with the reason (naming the file)
 * in err. */
rl_zap_t *rl_zap_new(struct event_base *base, void *zctx,
                     const rl_config_t *cfg, const char *const *domains,
                     size_t n, char *err, size_t err_len);

/* Closes the socket and frees. NULL-safe, sets *p to NULL. */
void rl_zap_destroy(rl_zap_t **p);

/* True when user_id (a message's "User-Id" metadata) is a key listed
 * for `domain` now. NULL or unknown domains: false. */
bool rl_zap_permits(const rl_zap_t *z, const char *domain, const char *user_id);

/* Handshakes denied / admitted since start, over every domain. */
uint64_t rl_zap_denied(const rl_zap_t *z);
uint64_t rl_zap_admitted(const rl_zap_t *z);

#endif
