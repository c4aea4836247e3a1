/*
 * rl_ingress_client - submit a job to a broker's ZeroMQ ingress in one
 * blocking call, for internal services written in C that push jobs
 * without HTTP. The answer is exactly what the HTTP API would give.
 *
 * The ingress is a CURVE server by default ([zmq] curve): a service
 * connects with a key pair of its own (`reelay keygen NAME`; its public
 * key listed in the broker's ingress.allow) and the broker's public key
 * (broker.pub). A key the broker does not list is refused at the
 * handshake, which this call reports at once (EACCES) instead of
 * waiting for its timeout.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_INGRESS_CLIENT_H
#define RL_INGRESS_CLIENT_H

#include <stddef.h>

#include "rl_curve.h"

/* Sends SUBMIT {api_key, idempotency_key (NULL = none), body} to the
 * broker ingress at `endpoint` (e.g. "tcp://127.0.0.1:5570") and waits up
 * to timeout_ms for the REPLY. own and server_key: our CURVE key pair
 * and the broker's public key (Z85), or both NULL for a broker with
 * [zmq] curve off. zctx may be NULL (a context is made for the call).
 * On success returns 0 with *http_status set and *reply a malloc'd JSON
 * text the caller frees; -1 with errno ETIMEDOUT (no answer), EACCES
 * (the handshake was refused: our key is not listed, or server_key is
 * not the broker's), EPROTO (a malformed reply) or EINVAL (bad keys). */
int rl_ingress_submit(void *zctx, const char *endpoint,
                      const rl_curve_pair_t *own, const char *server_key,
                      const char *api_key, const char *idempotency_key,
                      const char *body, long timeout_ms, int *http_status,
                      char **reply);

#endif
