/*
 * adapter_veo - Google Veo through the Gemini API v1beta
 * predictLongRunning, as in docs/providers.md (Veo): header
 * x-goog-api-key, POST /models/{model}:predictLongRunning {"instances",
 * "parameters"} -> a long-running operation whose name is the task id,
 * poll GET /{name}: done false (or absent) = running, done + response =
 * success or an RAI safety block, done + error = failure. The video URI
 * needs the API key to download (re-hosting is future work). The Gemini
 * API takes an image only as inline bytes, so image-to-video works with
 * a data: URL and an https URL cannot be expressed. No cancel. base_url
 * includes /v1beta.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_VEO_H
#define ADAPTER_VEO_H

#include "adapter.h"

extern const adapter_t adapter_veo;

#endif
