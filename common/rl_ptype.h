/*
 * rl_ptype - the provider types: the upstream video APIs reelay speaks,
 * named by `type` in a [provider.NAME] section. This is the one list of
 * them. The config accepts exactly these names; a worker's adapter table
 * (worker/adapter.c) and the simulator's API table (tools/sim_apis.c)
 * are indexed by rl_ptype_t and have a row for each. Adding a provider:
 * a constant and a name here, its adapter in worker/, its API in tools/.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_PTYPE_H
#define RL_PTYPE_H

#include <stddef.h>

typedef enum {
    RL_PTYPE_KLING = 0,
    RL_PTYPE_SEEDANCE,
    RL_PTYPE_RUNWAY,
    RL_PTYPE_OPENAI,
    RL_PTYPE_REPLICATE,
    RL_PTYPE_FAL,
    RL_PTYPE_KINOVI,
    RL_PTYPE_LUMA,
    RL_PTYPE_MINIMAX,
    RL_PTYPE_VEO,
    RL_PTYPE_COUNT,
} rl_ptype_t;

/* The longest name, in bytes; a longer one does not compile. */
#define RL_PTYPE_NAME_MAX 15

/* Room for every name, each followed by a separator or the NUL. */
#define RL_PTYPE_LIST_MAX (RL_PTYPE_COUNT * (RL_PTYPE_NAME_MAX + 1))

/* The type's name as the config spells it: "kling", "seedance", ... */
const char *rl_ptype_name(rl_ptype_t t);

/* The type named `name` into *out. Returns 0, or -1 when no type has
 * that name (names are case-sensitive). */
int rl_ptype_parse(const char *name, rl_ptype_t *out)
    __attribute__((warn_unused_result));

/* Writes every name, in order, separated by `sep`, into buf:
 * "kling|seedance|...". RL_PTYPE_LIST_MAX bytes always fit them. */
void rl_ptype_list(char sep, char buf[RL_PTYPE_LIST_MAX]);

#endif
