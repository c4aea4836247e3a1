/*
 * http_api - the public HTTP API of the broker (libevent evhttp):
 *   POST /v1/video/generations        submit a job (202)
 *   GET  /v1/video/generations/{id}   the job object
 *   GET  /healthz                     liveness
 *   GET  /readyz                      readiness (Redis reachable)
 * Every error answers a JSON error object (api_error.h).
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
