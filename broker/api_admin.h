/*
 * api_admin - operator endpoints, behind [accounts] admin_token:
 *   GET /v1/admin/providers   the last health check of every provider
 * SPDX-License-Identifier: MIT
 */
#ifndef API_ADMIN_H
#define API_ADMIN_H

#include <stdbool.h>

#include "broker.h"

struct evhttp_request;

/* True when the request carries the admin token; otherwise answers 403
 * and returns false. */
bool api_admin_check(broker_t *b, struct evhttp_request *req);

void api_admin_providers(broker_t *b, struct evhttp_request *req,
                         const char *tail);

#endif
