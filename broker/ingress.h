/*
 * ingress - the ZeroMQ front door for internal services: a ROUTER on
 * cfg->ingress[index] takes SUBMIT messages (API key, idempotency key,
 * the same JSON body as the HTTP API) and answers each with a REPLY
 * carrying the HTTP status and JSON body the HTTP API would have given.
 * Works with REQ clients (empty delimiter frame) and DEALER clients.
 * SPDX-License-Identifier: MIT
 */
#ifndef INGRESS_H
#define INGRESS_H

#include "broker.h"

/* Binds the ROUTER. NULL on failure. */
ingress_t *ingress_new(broker_t *b);

/* Closes and frees; pending answers are dropped. NULL-safe. */
void ingress_destroy(ingress_t **p);

#endif
