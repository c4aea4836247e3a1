/*
 * sim_minimax - the provider simulator's MiniMax Hailuo API (sim_minimax.c):
 * its row of the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_MINIMAX_H
#define SIM_MINIMAX_H

#include "sim_api.h"

extern const sim_api_t sim_api_minimax;

#endif
