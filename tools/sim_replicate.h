/*
 * sim_replicate - the provider simulator's Replicate API (sim_replicate.c): its
 * row of the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_REPLICATE_H
#define SIM_REPLICATE_H

#include "sim_api.h"

extern const sim_api_t sim_api_replicate;

#endif
