/*
 * rl_ingress_client - submit a job to a broker's ZeroMQ ingress in one
 * blocking call, for internal services written in C that push jobs
 * without HTTP. The answer is exactly what the HTTP API would give.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_INGRESS_CLIENT_H
#define RL_INGRESS_CLIENT_H

#include <stddef.h>

/* Sends SUBMIT {api_key, idempotency_key (NULL = none), body} to the
 * broker ingress at `endpoint` (e.g. "tcp://127.0.0.1:5570") and waits up
 * to timeout_ms for the REPLY. zctx may be NULL (a context is made for
 * the call). On success returns 0 with *http_status set and *reply a
 * malloc'd JSON text the caller frees; -1 on timeout or a malformed
 * reply (errno ETIMEDOUT or EPROTO). */
int rl_ingress_submit(void *zctx, const char *endpoint, const char *api_key,
                      const char *idempotency_key, const char *body,
                      long timeout_ms, int *http_status, char **reply);

#endif
