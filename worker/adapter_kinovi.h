/*
 * adapter_kinovi - Kinovi task API v1 (docs/providers.md, Kinovi):
 * Bearer key, POST /jobs/createTask {"model", "inputs"} ->
 * {"taskId"}, poll GET /jobs/recordInfo?taskId=, states waiting /
 * generating / success / fail. The poll answer is read in both shapes the
 * docs show: flat {taskId, status, output, error} and the webhook-like
 * envelope {code, message, data:{state, ...}}. Failure codes: "2038"
 * and "asset_review_failed" content, "4011" capacity (queue timeout),
 * anything else permanent.
 * No cancel. base_url includes /api/v1.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_KINOVI_H
#define ADAPTER_KINOVI_H

#include "adapter.h"

extern const adapter_t adapter_kinovi;

#endif
