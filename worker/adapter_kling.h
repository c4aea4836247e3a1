/*
 * adapter_kling - Kling AI's video API (text2video / image2video), as in
 * docs/providers.md, Kling: JWT (HS256) from access key and
 * secret key, string durations, task_status submitted / processing /
 * succeed / failed, errors as HTTP status plus a numeric body code.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_KLING_H
#define ADAPTER_KLING_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

#define ADAPTER_KLING_JWT_TTL_S 1800

extern const adapter_t adapter_kling;

/* Writes the Bearer JWT for access key ak and secret sk at time now_s:
 * {"alg":"HS256","typ":"JWT"}.{"iss":ak,"exp":now+1800,"nbf":now-5}.
 * Returns 0, or -1 when buf is too small. */
int adapter_kling_jwt(const char *ak, const char *sk, int64_t now_s, char *buf,
                      size_t len);

#endif
