/*
 * api_webhooks - webhook delivery endpoints ({id} is a job id of either
 * front door: vgen_... or the task API's task_...):
 *   GET  /v1/video/generations/{id}/deliveries  every attempt of the job's
 *        webhook (time, url, HTTP status or network error, latency,
 *        response excerpt of at most 1 KiB, outcome) and redeliveries
 *   POST /v1/video/generations/{id}/redeliver   deliberate redelivery of
 *        the job's last event (terminal jobs with a webhook_url; 409
 *        otherwise): bypasses the dedup "delivered" state, attempts reset
 *   GET  /v1/webhooks/failed?since=T[&limit=N]  the account's events whose
 *        delivery failed since T (epoch seconds or ISO 8601)
 *   POST /v1/webhooks/recover {"from": T1, "to": T2}  redelivers every
 *        failed event of the account in [T1, T2]; answers how many
 *   PUT  /v1/account/webhooks {"signing": "creativeai|standard|both",
 *        "schedule": "default|long", "rotate_secret": true}  the
 *        account's webhook settings; the whsec_ secret is shown once,
 *        when created or rotated (the previous one keeps signing for
 *        [webhook] rotation_grace_s)
 * SPDX-License-Identifier: MIT
 */
#ifndef API_WEBHOOKS_H
#define API_WEBHOOKS_H

#include "broker.h"

struct evhttp_request;

#define API_WEBHOOKS_FAILED_LIMIT 100 /* default page of /failed */
#define API_WEBHOOKS_FAILED_MAX 1000  /* largest page of /failed */
#define API_WEBHOOKS_RECOVER_MAX 1000 /* events one recover requeues */

/* GET /v1/video/generations/{id}/deliveries. */
void api_webhooks_deliveries(broker_t *b, struct evhttp_request *req,
                             const char *id);

/* POST /v1/video/generations/{id}/redeliver. */
void api_webhooks_redeliver(broker_t *b, struct evhttp_request *req,
                            const char *id);

/* GET /v1/webhooks/failed. */
void api_webhooks_failed(broker_t *b, struct evhttp_request *req,
                         const char *tail);

/* POST /v1/webhooks/recover. */
void api_webhooks_recover(broker_t *b, struct evhttp_request *req,
                          const char *tail);

/* PUT /v1/account/webhooks. */
void api_webhooks_settings(broker_t *b, struct evhttp_request *req,
                           const char *tail);

#endif
