/*
 * sim_index - the provider simulator's string-keyed chained hash index
 * (tasks by id, submit counters by prompt). Entries embed a sim_node
 * first and own its key; the index never allocates or frees them.
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_INDEX_H
#define SIM_INDEX_H

#include <stddef.h>
#include <sys/queue.h>

/* An entry of the index; embedded first in its owner. */
struct sim_node {
    SLIST_ENTRY(sim_node) link; /* bucket chain */
    const char *key;            /* owned by the embedding struct */
};
SLIST_HEAD(sim_chain, sim_node);

/* The index. */
struct sim_index {
    struct sim_chain *chains; /* nchains buckets, a power of two */
    size_t nchains;           /* grows when count exceeds it */
    size_t count;             /* entries */
};

/* Sets up an empty index. */
void sim_index_init(struct sim_index *ix);

/* The entry keyed `key`, or NULL. */
struct sim_node *sim_index_find(const struct sim_index *ix, const char *key);

/* Adds n (its key set, not already present); grows as needed. */
void sim_index_add(struct sim_index *ix, struct sim_node *n);

/* Frees the buckets only; entries belong to their owners. */
void sim_index_release(struct sim_index *ix);

#endif
