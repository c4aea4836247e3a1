/*
 * api_tasks - the second front door (Kinovi-style task API,
 * docs/task-api.md):
 *   POST /api/v1/jobs/createTask          {model, callBackUrl?, inputs}
 *   GET  /api/v1/jobs/recordInfo?taskId=  the task
 * SPDX-License-Identifier: MIT
 */
#ifndef API_TASKS_H
#define API_TASKS_H

#include "broker.h"

struct evhttp_request;

void api_tasks_create(broker_t *b, struct evhttp_request *req,
                      const char *tail);
void api_tasks_record(broker_t *b, struct evhttp_request *req,
                      const char *tail);

#endif
