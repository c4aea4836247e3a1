/*
 * sim_fal - the provider simulator's fal queue API (sim_fal.c): its row of the
 * API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_FAL_H
#define SIM_FAL_H

#include "sim_api.h"

extern const sim_api_t sim_api_fal;

#endif
