/*
 * rl_alloc - allocation that aborts on out-of-memory.
 * SPDX-License-Identifier: MIT
 */
#include "rl_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void
s_oom(size_t size)
{
    fprintf(stderr, "reelay: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *
rl_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        s_oom(size);
    return p;
}

void *
rl_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        s_oom(n * size);
    return p;
}

void *
rl_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        s_oom(size);
    return p;
}

char *
rl_strdup(const char *s)
{
    return rl_strndup(s, strlen(s));
}

char *
rl_strndup(const char *s, size_t n)
{
    char *p = rl_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}
