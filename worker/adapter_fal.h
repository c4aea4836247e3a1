/*
 * adapter_fal - the fal queue API (docs/providers.md, fal queue):
 * "Authorization: Key KEY", POST {base}/{model_id} with the model's input
 * (the fal-ai/kling-video schema: prompt, duration as a string,
 * aspect_ratio, image_url), status IN_QUEUE / IN_PROGRESS / COMPLETED.
 * Status, result and cancel live under {base}/{owner}/{app}/requests/{id},
 * owner/app being the model id's first two segments. COMPLETED may be a
 * success or a failure, told only by the result, so parse_poll answers
 * ADAPTER_FETCH and build_result/parse_result read it (see adapter.h).
 * base_url is https://queue.fal.run.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_FAL_H
#define ADAPTER_FAL_H

#include "adapter.h"

extern const adapter_t adapter_fal;

#endif
