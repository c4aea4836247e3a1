/*
 * adapter_openai - OpenAI Videos API v1 (Sora 2), as in
 * docs/providers.md, OpenAI: Bearer key, POST /videos with seconds
 * as a string and size in pixels, status queued / in_progress / completed
 * / failed, errors {"error":{message, type, code}}. base_url includes /v1.
 *
 * The answer carries no output URL: a completed video is the relative
 * output_url "/videos/{id}/content" (see adapter.h), whose download
 * requires the provider key; re-hosting the bytes is future work. The API
 * has no cancel (DELETE deletes the video).
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_OPENAI_H
#define ADAPTER_OPENAI_H

#include "adapter.h"

extern const adapter_t adapter_openai;

#endif
