/*
 * sim_openai - the provider simulator's OpenAI Videos API (sim_openai.c): its
 * row of the API table (sim_apis.c).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_OPENAI_H
#define SIM_OPENAI_H

#include "sim_api.h"

extern const sim_api_t sim_api_openai;

#endif
