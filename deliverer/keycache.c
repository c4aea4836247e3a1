/*
 * keycache - open addressing over KEYCACHE_SIZE * 2 slots (at most half
 * full), keyed by the key hash's first bytes.
 * SPDX-License-Identifier: MIT
 */
#include "keycache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"

#define S_SLOTS (KEYCACHE_SIZE * 2)

typedef struct {
    char *hash;   /* owned; NULL: free */
    char *sealed; /* owned */
} s_slot_t;

struct keycache {
    s_slot_t slots[S_SLOTS];
    size_t n;
};

keycache_t *
keycache_new(void)
{
    return rl_calloc(1, sizeof(keycache_t));
}

static void
s_clear(keycache_t *c)
{
    for (size_t i = 0; i < S_SLOTS; i++) {
        free(c->slots[i].hash);
        free(c->slots[i].sealed);
    }
    memset(c->slots, 0, sizeof c->slots);
    c->n = 0;
}

void
keycache_destroy(keycache_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    s_clear(*p);
    free(*p);
    *p = NULL;
}

/* FNV-1a of the hash's text: a hash is hex, but nothing checks it. */
static size_t
s_home(const char *key_hash)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *s = (const unsigned char *)key_hash; *s; s++) {
        h ^= *s;
        h *= 16777619u;
    }
    return h % S_SLOTS;
}

/* The slot holding key_hash, or the free one where it would go. */
static size_t
s_find(const keycache_t *c, const char *key_hash)
{
    size_t i = s_home(key_hash);
    while (c->slots[i].hash != NULL && strcmp(c->slots[i].hash, key_hash) != 0)
        i = (i + 1) % S_SLOTS;
    return i;
}

const char *
keycache_get(const keycache_t *c, const char *key_hash)
{
    size_t i = s_find(c, key_hash);
    return c->slots[i].hash != NULL ? c->slots[i].sealed : NULL;
}

void
keycache_put(keycache_t *c, const char *key_hash, const char *sealed)
{
    size_t i = s_find(c, key_hash);
    if (c->slots[i].hash != NULL) {
        free(c->slots[i].sealed);
        c->slots[i].sealed = rl_strdup(sealed);
        return;
    }
    if (c->n == KEYCACHE_SIZE) {
        s_clear(c);
        i = s_find(c, key_hash);
    }
    c->slots[i].hash = rl_strdup(key_hash);
    c->slots[i].sealed = rl_strdup(sealed);
    c->n++;
}

size_t
keycache_count(const keycache_t *c)
{
    return c->n;
}
