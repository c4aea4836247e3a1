/*
 * sim_apis - the provider simulator's table of APIs, one row per
 * provider type (common/rl_ptype.h), each row defined in its own file
 * (sim_<api>.c, sim_api.h says what a row is). Adding a provider to the
 * simulator is adding its file and its row.
 *
 * Base URLs. Every API is served on the one port; a provider config
 * points its base_url at the simulator's origin (http://127.0.0.1:PORT)
 * plus the path below, which stands for the real host's base URL that the
 * adapter appends its paths to (worker/adapter_<type>.c):
 *
 *   type       base_url                        real base URL
 *   kling      ORIGIN https://api-singapore.klingai.com seedance ORIGIN/api/v3
 * https://ark.ap-southeast.bytepluses.com/api/v3 runway     ORIGIN/runway
 * https://api.dev.runwayml.com openai     ORIGIN/openai/v1
 * https://api.openai.com/v1 replicate  ORIGIN/replicate/v1
 * https://api.replicate.com/v1 fal        ORIGIN/fal https://queue.fal.run
 *   kinovi     ORIGIN/kinovi/api/v1            https://kinovi.ai/api/v1
 *   luma       ORIGIN/luma/dream-machine/v1
 * https://api.lumalabs.ai/dream-machine/v1 minimax    ORIGIN/minimax
 * https://api.minimax.io veo        ORIGIN/veo/v1beta
 * https://generativelanguage.googleapis.com/v1beta SPDX-License-Identifier: MIT
 */
#ifndef SIM_APIS_H
#define SIM_APIS_H

#include <stdbool.h>

#include <event2/http.h>

#include "sim_api.h"

/* The API of provider type t. Static. */
const sim_api_t *sim_apis_get(rl_ptype_t t);

/* Serves req when its path belongs to an API (the first whose prefix it
 * starts with and whose route takes it) and returns true; false leaves
 * req unanswered. */
bool sim_apis_route(sim_core_t *c, struct evhttp_request *req,
                    enum evhttp_cmd_type m, const char *path);

#endif
