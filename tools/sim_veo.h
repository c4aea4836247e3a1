/*
 * sim_veo - the provider simulator's Veo (Gemini API) API (sim_veo.c): its row
 * of the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_VEO_H
#define SIM_VEO_H

#include "sim_api.h"

extern const sim_api_t sim_api_veo;

#endif
