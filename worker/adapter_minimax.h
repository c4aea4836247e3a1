/*
 * adapter_minimax - MiniMax video API v1 (Hailuo), as in
 * docs/providers.md, MiniMax: Bearer key, POST /v1/video_generation
 * {model, prompt, duration 6|10, first_frame_image}, poll
 * GET /v1/query/video_generation?task_id=, status Preparing / Queueing /
 * Processing / Success / Fail. Errors mostly come as HTTP 200 with a
 * non-zero base_resp.status_code. Success yields a file_id, not a URL:
 * parse_poll answers ADAPTER_FETCH with fetch_ref = file_id, and
 * build_result/parse_result read file.download_url from
 * GET /v1/files/retrieve?file_id= (see adapter.h). No cancel. base_url
 * excludes /v1 (https://api.minimax.io).
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_MINIMAX_H
#define ADAPTER_MINIMAX_H

#include "adapter.h"

extern const adapter_t adapter_minimax;

#endif
