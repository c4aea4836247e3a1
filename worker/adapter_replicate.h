/*
 * adapter_replicate - Replicate HTTP API v1 (docs/providers.md,
 * Replicate): Bearer token, POST /models/{owner}/{name}/predictions with
 * {"input":{...}} (upstream_model is "owner/name"), status starting /
 * processing / succeeded / failed / canceled, output a URL string or an
 * array of them, cancel POST /predictions/{id}/cancel. base_url includes
 * /v1. Input schemas differ per model: the first frame goes both as
 * "image" and as "start_image", the two names video models use.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_REPLICATE_H
#define ADAPTER_REPLICATE_H

#include "adapter.h"

extern const adapter_t adapter_replicate;

#endif
