/*
 * rl_addrlimit - per-address token buckets in a bounded table (glibc's
 * tsearch tree, ordered by address; a list in order of last use picks
 * the address to forget).
 * SPDX-License-Identifier: MIT
 */
#include "rl_addrlimit.h"

#include <assert.h>
#include <math.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "rl_alloc.h"
#include "rl_fmt.h"

#define S_MS_PER_MIN 60000.0

typedef struct bucket {
    char addr[RL_ADDRLIMIT_ADDR_MAX];
    double tokens; /* as of at_ms */
    int64_t at_ms;
    TAILQ_ENTRY(bucket) lru; /* least recently used first */
} bucket_t;

struct rl_addrlimit {
    double burst;
    double per_ms; /* tokens gained per ms */
    size_t max_clients;
    size_t n;
    void *root; /* tsearch tree of bucket_t * */
    TAILQ_HEAD(, bucket) lru;
};

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(((const bucket_t *)a)->addr, ((const bucket_t *)b)->addr);
}

rl_addrlimit_t *
rl_addrlimit_new(double burst, double per_min, size_t max_clients)
{
    assert(burst >= 1 && per_min > 0 && max_clients >= 1);
    rl_addrlimit_t *al = rl_calloc(1, sizeof *al);
    al->burst = burst;
    al->per_ms = per_min / S_MS_PER_MIN;
    al->max_clients = max_clients;
    TAILQ_INIT(&al->lru);
    return al;
}

static void
s_forget(rl_addrlimit_t *al, bucket_t *b)
{
    TAILQ_REMOVE(&al->lru, b, lru);
    tdelete(b, &al->root, s_cmp);
    al->n--;
    free(b);
}

void
rl_addrlimit_destroy(rl_addrlimit_t **p)
{
    bucket_t *b;

    if (p == NULL || *p == NULL)
        return;
    while ((b = TAILQ_FIRST(&(*p)->lru)) != NULL)
        s_forget(*p, b);
    free(*p);
    *p = NULL;
}

/* addr's bucket refilled up to now_ms, or NULL when it has none (a full
 * one, then). */
static bucket_t *
s_find(rl_addrlimit_t *al, const char *addr, int64_t now_ms)
{
    bucket_t key;
    bucket_t **found;
    bucket_t *b;

    if (rl_fmt(key.addr, sizeof key.addr, "%s", addr) != 0)
        return NULL;
    found = tfind(&key, &al->root, s_cmp);
    if (found == NULL)
        return NULL;
    b = *found;
    if (now_ms > b->at_ms) {
        b->tokens = fmin(al->burst,
                         b->tokens + (double)(now_ms - b->at_ms) * al->per_ms);
        b->at_ms = now_ms;
    }
    TAILQ_REMOVE(&al->lru, b, lru);
    TAILQ_INSERT_TAIL(&al->lru, b, lru);
    return b;
}

bool
rl_addrlimit_allowed(rl_addrlimit_t *al, const char *addr, int64_t now_ms,
                     int *retry_after_s)
{
    bucket_t *b = addr[0] != '\0' ? s_find(al, addr, now_ms) : NULL;

    if (b == NULL || b->tokens >= 1.0)
        return true;
    if (retry_after_s != NULL)
        *retry_after_s = (int)ceil((1.0 - b->tokens) / al->per_ms / 1000.0);
    return false;
}

void
rl_addrlimit_take(rl_addrlimit_t *al, const char *addr, int64_t now_ms)
{
    bucket_t *b;

    if (addr[0] == '\0' || strlen(addr) >= RL_ADDRLIMIT_ADDR_MAX)
        return;
    b = s_find(al, addr, now_ms);
    if (b == NULL) {
        if (al->n >= al->max_clients)
            s_forget(al, TAILQ_FIRST(&al->lru));
        b = rl_calloc(1, sizeof *b);
        memcpy(b->addr, addr, strlen(addr) + 1); /* fits: checked above */
        b->tokens = al->burst;
        b->at_ms = now_ms;
        if (tsearch(b, &al->root, s_cmp) == NULL) {
            free(b); /* no memory for the node: this one goes uncounted */
            return;
        }
        TAILQ_INSERT_TAIL(&al->lru, b, lru);
        al->n++;
    }
    b->tokens = b->tokens >= 1.0 ? b->tokens - 1.0 : 0.0;
}

size_t
rl_addrlimit_size(const rl_addrlimit_t *al)
{
    return al->n;
}
