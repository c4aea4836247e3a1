/*
 * sim_runway - the provider simulator's Runway API (sim_runway.c): its row of
 * the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_RUNWAY_H
#define SIM_RUNWAY_H

#include "sim_api.h"

extern const sim_api_t sim_api_runway;

#endif
