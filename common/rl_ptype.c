/*
 * rl_ptype - the provider types and their names.
 * SPDX-License-Identifier: MIT
 */
#include "rl_ptype.h"

#include <assert.h>
#include <string.h>

/* Fixed-size rows: a name longer than RL_PTYPE_NAME_MAX is a compile
 * error (-Werror), which bounds rl_ptype_list()'s output. */
static const char s_names[RL_PTYPE_COUNT][RL_PTYPE_NAME_MAX + 1] = {
    [RL_PTYPE_KLING] = "kling",         [RL_PTYPE_SEEDANCE] = "seedance",
    [RL_PTYPE_RUNWAY] = "runway",       [RL_PTYPE_OPENAI] = "openai",
    [RL_PTYPE_REPLICATE] = "replicate", [RL_PTYPE_FAL] = "fal",
    [RL_PTYPE_KINOVI] = "kinovi",       [RL_PTYPE_LUMA] = "luma",
    [RL_PTYPE_MINIMAX] = "minimax",     [RL_PTYPE_VEO] = "veo",
};

const char *
rl_ptype_name(rl_ptype_t t)
{
    assert((unsigned)t < RL_PTYPE_COUNT && s_names[t][0] != '\0');
    return s_names[t];
}

int
rl_ptype_parse(const char *name, rl_ptype_t *out)
{
    for (int t = 0; t < RL_PTYPE_COUNT; t++) {
        if (s_names[t][0] != '\0' && strcmp(s_names[t], name) == 0) {
            *out = (rl_ptype_t)t;
            return 0;
        }
    }
    return -1;
}

void
rl_ptype_list(char sep, char buf[RL_PTYPE_LIST_MAX])
{
    size_t used = 0;
    for (int t = 0; t < RL_PTYPE_COUNT; t++) {
        /* At most RL_PTYPE_NAME_MAX bytes and one separator (or the
         * final NUL) per type: RL_PTYPE_LIST_MAX in all. */
        size_t n = strnlen(s_names[t], RL_PTYPE_NAME_MAX);
        if (t > 0)
            buf[used++] = sep;
        memcpy(buf + used, s_names[t], n);
        used += n;
    }
    buf[used] = '\0';
}
