/*
 * sim_luma - the provider simulator's Luma Dream Machine API (sim_luma.c): its
 * row of the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_LUMA_H
#define SIM_LUMA_H

#include "sim_api.h"

extern const sim_api_t sim_api_luma;

#endif
