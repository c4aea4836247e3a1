/*
 * api_generations - POST /v1/video/generations (accept a job) and
 * GET /v1/video/generations/{id} (the job object, from Redis).
 * SPDX-License-Identifier: MIT
 */
#ifndef API_GENERATIONS_H
#define API_GENERATIONS_H

#include "broker.h"

struct evhttp_request;

/* POST /v1/video/generations; tail unused. */
void api_generations_create(broker_t *b, struct evhttp_request *req,
                            const char *tail);

/* GET /v1/video/generations/{id}. */
void api_generations_get(broker_t *b, struct evhttp_request *req,
                         const char *id);

#endif
