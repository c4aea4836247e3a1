/*
 * adapter_seedance - Seedance on BytePlus ModelArk / Volcengine Ark, as in
 * docs/providers.md, Seedance: Bearer API key, content[] with the
 * parameters as text commands, status queued / running / succeeded /
 * failed / cancelled / expired, errors {"error":{code, message}}.
 * base_url includes /api/v3.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_SEEDANCE_H
#define ADAPTER_SEEDANCE_H

#include "adapter.h"

extern const adapter_t adapter_seedance;

#endif
