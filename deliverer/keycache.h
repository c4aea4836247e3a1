/*
 * keycache - the sealed signing keys the deliverer has read, by the
 * hash of their API key. An outbox claim names the key a job was
 * submitted with by its hash (the job's key_hash); the sealed key lives
 * in that key's record, which the claim does not read (it is named by
 * the job's data). A key's sealed copy never changes, so once read it is
 * kept: a deployment has few keys, and a full cache is simply emptied.
 * SPDX-License-Identifier: MIT
 */
#ifndef KEYCACHE_H
#define KEYCACHE_H

#include <stddef.h>

#define KEYCACHE_SIZE 1024 /* keys kept; the next one empties the cache */

typedef struct keycache keycache_t;

keycache_t *keycache_new(void);

/* Frees. NULL-safe, sets *p to NULL. */
void keycache_destroy(keycache_t **p);

/* The sealed key of key_hash, or NULL when not read yet. Borrowed until
 * the next keycache_put. */
const char *keycache_get(const keycache_t *c, const char *key_hash);

/* Keeps sealed (copied) as key_hash's. */
void keycache_put(keycache_t *c, const char *key_hash, const char *sealed);

/* Keys kept. */
size_t keycache_count(const keycache_t *c);

#endif
