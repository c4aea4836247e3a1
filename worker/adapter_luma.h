/*
 * adapter_luma - Luma Dream Machine API v1 (docs/providers.md, Luma):
 * Bearer key, POST /generations {prompt, model, aspect_ratio,
 * duration "5s", keyframes.frame0 for image-to-video}, state queued /
 * dreaming / completed / failed (failure_reason), output assets.video.
 * A failure whose reason speaks of moderation is a content refusal. No
 * cancel (DELETE is unverified for DM v1). base_url includes
 * /dream-machine/v1.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_LUMA_H
#define ADAPTER_LUMA_H

#include "adapter.h"

extern const adapter_t adapter_luma;

#endif
