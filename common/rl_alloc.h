/*
 * rl_alloc - allocation that never returns NULL.
 * Out of memory aborts with a message, so callers carry no untested
 * NULL branches (the Redis zmalloc / git xmalloc rule).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ALLOC_H
#define RL_ALLOC_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup/strndup, but abort on failure. */
void *rl_malloc(size_t size) __attribute__((malloc, returns_nonnull));
void *rl_calloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *rl_realloc(void *ptr, size_t size) __attribute__((returns_nonnull));
char *rl_strdup(const char *s) __attribute__((malloc, returns_nonnull));
char *rl_strndup(const char *s, size_t n)
    __attribute__((malloc, returns_nonnull));

/* Frees *p and sets it to NULL; NULL-safe. */
#define RL_FREE(p)                                                             \
    do {                                                                       \
        free(p);                                                               \
        (p) = NULL;                                                            \
    } while (0)

#endif
