/*
 * sim_apis - the provider simulator's table of APIs (sim_apis.h).
 * SPDX-License-Identifier: MIT
 */
#include "sim_apis.h"

#include <assert.h>
#include <string.h>

#include "sim_fal.h"
#include "sim_kinovi.h"
#include "sim_kling.h"
#include "sim_luma.h"
#include "sim_minimax.h"
#include "sim_openai.h"
#include "sim_replicate.h"
#include "sim_runway.h"
#include "sim_seedance.h"
#include "sim_veo.h"

/* One row per provider type; no two prefixes start alike, so the order
 * of the lookup does not matter. */
static const sim_api_t *const s_apis[RL_PTYPE_COUNT] = {
    [RL_PTYPE_KLING] = &sim_api_kling,
    [RL_PTYPE_SEEDANCE] = &sim_api_seedance,
    [RL_PTYPE_RUNWAY] = &sim_api_runway,
    [RL_PTYPE_OPENAI] = &sim_api_openai,
    [RL_PTYPE_REPLICATE] = &sim_api_replicate,
    [RL_PTYPE_FAL] = &sim_api_fal,
    [RL_PTYPE_KINOVI] = &sim_api_kinovi,
    [RL_PTYPE_LUMA] = &sim_api_luma,
    [RL_PTYPE_MINIMAX] = &sim_api_minimax,
    [RL_PTYPE_VEO] = &sim_api_veo,
};

const sim_api_t *
sim_apis_get(rl_ptype_t t)
{
    assert((unsigned)t < RL_PTYPE_COUNT);
    return s_apis[t];
}

bool
sim_apis_route(sim_core_t *c, struct evhttp_request *req,
               enum evhttp_cmd_type m, const char *path)
{
    for (int t = 0; t < RL_PTYPE_COUNT; t++) {
        const sim_api_t *api = s_apis[t];
        if (api != NULL &&
            strncmp(path, api->prefix, strlen(api->prefix)) == 0 &&
            api->route(c, req, m, path))
            return true;
    }
    return false;
}
