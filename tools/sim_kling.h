/*
 * sim_kling - the provider simulator's Kling API (sim_kling.c): its row of the
 * API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_KLING_H
#define SIM_KLING_H

#include "sim_api.h"

extern const sim_api_t sim_api_kling;

#endif
