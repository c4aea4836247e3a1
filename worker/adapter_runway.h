/*
 * adapter_runway - Runway API 2024-11-06 (docs/providers.md, Runway):
 * Bearer key plus X-Runway-Version, text_to_video or
 * image_to_video (promptImage), status PENDING / THROTTLED / RUNNING /
 * SUCCEEDED / FAILED / CANCELLED, output[0], cancel DELETE /v1/tasks/{id}.
 * THROTTLED (over the organisation's concurrency) is a waiting state, so
 * it reads as QUEUED. base_url excludes /v1 (https://api.dev.runwayml.com).
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_RUNWAY_H
#define ADAPTER_RUNWAY_H

#include "adapter.h"

#define ADAPTER_RUNWAY_VERSION "2024-11-06"

extern const adapter_t adapter_runway;

#endif
