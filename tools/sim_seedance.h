/*
 * sim_seedance - the provider simulator's Seedance (BytePlus Ark) API
 * (sim_seedance.c): its row of the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_SEEDANCE_H
#define SIM_SEEDANCE_H

#include "sim_api.h"

extern const sim_api_t sim_api_seedance;

#endif
