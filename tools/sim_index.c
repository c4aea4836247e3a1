/*
 * sim_index - the provider simulator's string-keyed chained hash index
 * (sim_index.h): FNV-1a buckets, doubled as entries come.
 * SPDX-License-Identifier: MIT
 */
#include "sim_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "rl_alloc.h"

#define SIM_MIN_CHAINS 4096 /* initial hash index size */

static uint32_t
s_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *key != '\0'; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

void
sim_index_init(struct sim_index *ix)
{
    ix->nchains = SIM_MIN_CHAINS;
    ix->chains = rl_calloc(ix->nchains, sizeof *ix->chains);
    ix->count = 0;
}

struct sim_node *
sim_index_find(const struct sim_index *ix, const char *key)
{
    struct sim_node *n;
    SLIST_FOREACH(n, &ix->chains[s_hash(key) & (ix->nchains - 1)], link)
    if (strcmp(n->key, key) == 0)
        return n;
    return NULL;
}

/* Doubles the bucket array; amortised O(1) per insertion. */
static void
s_index_grow(struct sim_index *ix)
{
    size_t nchains = ix->nchains * 2;
    struct sim_chain *chains = rl_calloc(nchains, sizeof *chains);
    for (size_t i = 0; i < ix->nchains; i++) {
        struct sim_node *n;
        while ((n = SLIST_FIRST(&ix->chains[i])) != NULL) {
            SLIST_REMOVE_HEAD(&ix->chains[i], link);
            SLIST_INSERT_HEAD(&chains[s_hash(n->key) & (nchains - 1)], n, link);
        }
    }
    free(ix->chains);
    ix->chains = chains;
    ix->nchains = nchains;
}

void
sim_index_add(struct sim_index *ix, struct sim_node *n)
{
    if (ix->count >= ix->nchains)
        s_index_grow(ix);
    SLIST_INSERT_HEAD(&ix->chains[s_hash(n->key) & (ix->nchains - 1)], n, link);
    ix->count++;
}

void
sim_index_release(struct sim_index *ix)
{
    RL_FREE(ix->chains);
    ix->nchains = 0;
    ix->count = 0;
}
