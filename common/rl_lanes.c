/*
 * rl_lanes - per-key admission with a concurrency cap.
 * SPDX-License-Identifier: MIT
 */
#include "rl_lanes.h"

#include <assert.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"

TAILQ_HEAD(s_queue, rl_lane_entry);

struct rl_lane {
    char key[RL_LANES_KEY_MAX]; /* first: the tree compares it */
    size_t active;              /* entries admitted */
    struct s_queue waiting;     /* entries waiting, oldest first */
};

struct rl_lanes {
    void *root;      /* tsearch tree of struct rl_lane */
    size_t cap;      /* active entries per lane, 0 = any */
    size_t nlanes;   /* lanes in the tree */
    size_t nwaiting; /* entries waiting, all lanes */
};

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(((const struct rl_lane *)a)->key,
                  ((const struct rl_lane *)b)->key);
}

rl_lanes_t *
rl_lanes_new(size_t cap)
{
    rl_lanes_t *l = rl_calloc(1, sizeof *l);
    l->cap = cap;
    return l;
}

static void
s_free_lane(void *node)
{
    free(node);
}

void
rl_lanes_destroy(rl_lanes_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    tdestroy((*p)->root, s_free_lane);
    free(*p);
    *p = NULL;
}

/* The lane of key, made when missing. */
static struct rl_lane *
s_lane(rl_lanes_t *l, const char *key)
{
    struct rl_lane probe, *lane, **found;
    /* A longer key is cut: keys equal in their first bytes share a lane
     * (rl_lanes.h, Limits). */
    size_t n = strnlen(key, sizeof probe.key - 1);
    memcpy(probe.key, key, n);
    probe.key[n] = '\0';
    found = tfind(&probe, &l->root, s_cmp);
    if (found != NULL)
        return *found;
    lane = rl_calloc(1, sizeof *lane);
    memcpy(lane->key, probe.key, sizeof lane->key);
    TAILQ_INIT(&lane->waiting);
    found = tsearch(lane, &l->root, s_cmp);
    if (found == NULL)
        abort(); /* tsearch's node allocation failed: out of memory */
    l->nlanes++;
    return lane;
}

bool
rl_lanes_enter(rl_lanes_t *l, const char *key, rl_lane_entry_t *e)
{
    assert(l != NULL && key != NULL && e != NULL && e->lane == NULL);
    struct rl_lane *lane = s_lane(l, key);
    e->lane = lane;
    e->active = l->cap == 0 || lane->active < l->cap;
    if (e->active) {
        lane->active++;
    } else {
        TAILQ_INSERT_TAIL(&lane->waiting, e, link);
        l->nwaiting++;
    }
    return e->active;
}

rl_lane_entry_t *
rl_lanes_leave(rl_lanes_t *l, rl_lane_entry_t *e)
{
    assert(l != NULL && e != NULL && e->lane != NULL);
    struct rl_lane *lane = e->lane;
    rl_lane_entry_t *next = NULL;
    if (e->active) {
        assert(lane->active > 0);
        lane->active--;
        next = TAILQ_FIRST(&lane->waiting);
        if (next != NULL) {
            TAILQ_REMOVE(&lane->waiting, next, link);
            l->nwaiting--;
            next->active = true;
            lane->active++;
        }
    } else {
        TAILQ_REMOVE(&lane->waiting, e, link);
        l->nwaiting--;
    }
    e->lane = NULL;
    e->active = false;
    if (lane->active == 0 && TAILQ_EMPTY(&lane->waiting)) {
        tdelete(lane, &l->root, s_cmp);
        free(lane);
        l->nlanes--;
    }
    return next;
}

size_t
rl_lanes_count(const rl_lanes_t *l)
{
    return l->nlanes;
}

size_t
rl_lanes_waiting(const rl_lanes_t *l)
{
    return l->nwaiting;
}
