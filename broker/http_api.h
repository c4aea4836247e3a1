/*
 * http_api - the public HTTP API of the broker (libevent evhttp): the
 * route table (s_routes in http_api.c) of the /v1 API, the task API,
 * the webhook and account endpoints, and
 *   GET  /healthz                     liveness
 *   GET  /readyz                      readiness (Redis reachable)
 * Every route is documented in docs/api.md. Every error answers a JSON
 * error object (api_error.h).
 * SPDX-License-Identifier: MIT
 */
#ifndef HTTP_API_H
#define HTTP_API_H

#include "broker.h"

/* Binds cfg->http_listen (SO_REUSEPORT, so several brokers share one
 * port) and installs the routes. Returns 0 or -1. */
int http_api_start(broker_t *b);

/* Stops listening and frees the server. */
void http_api_stop(broker_t *b);

#endif
