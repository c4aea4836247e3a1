/*
 * rl_addrlimit - a token bucket per client address, in this process's
 * memory: how a listener slows a client that keeps guessing API keys or
 * the admin token, and the broker one that opens account after account.
 *
 * A bucket holds at most `burst` tokens and gains `per_min` a minute; a
 * client with less than one token left is refused until it has one
 * again. At most `max_clients` addresses are remembered; past that the
 * one touched longest ago is forgotten (a full bucket is what a
 * forgotten address starts from again, so forgetting only ever lets a
 * client through earlier, never blocks one). Each process keeps its
 * own table: N brokers allow N times the rate in all.
 *
 * Pure but for the clock it is given: tests drive it with their own.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ADDRLIMIT_H
#define RL_ADDRLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_ADDRLIMIT_ADDR_MAX 64 /* an address as text, NUL included */

typedef struct rl_addrlimit rl_addrlimit_t;

/* A table of buckets of `burst` tokens (>= 1) refilled at per_min a
 * minute (> 0), for at most max_clients addresses (>= 1). */
rl_addrlimit_t *rl_addrlimit_new(double burst, double per_min,
                                 size_t max_clients);

/* Frees. NULL-safe, sets *p to NULL. */
void rl_addrlimit_destroy(rl_addrlimit_t **p);

/* True when addr has a token at now_ms (monotonic); false with
 * *retry_after_s (may be NULL) the whole seconds until it has one. Takes
 * nothing. An empty addr is never limited (no address to count). */
bool rl_addrlimit_allowed(rl_addrlimit_t *al, const char *addr, int64_t now_ms,
                          int *retry_after_s);

/* Takes one token from addr's bucket (down to zero, never below): a
 * failure counted, or an action spent. */
void rl_addrlimit_take(rl_addrlimit_t *al, const char *addr, int64_t now_ms);

/* Addresses remembered now. */
size_t rl_addrlimit_size(const rl_addrlimit_t *al);

#endif
