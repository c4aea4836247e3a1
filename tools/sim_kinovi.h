/*
 * sim_kinovi - the provider simulator's Kinovi API (sim_kinovi.c): its row of
 * the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_KINOVI_H
#define SIM_KINOVI_H

#include "sim_api.h"

extern const sim_api_t sim_api_kinovi;

#endif
