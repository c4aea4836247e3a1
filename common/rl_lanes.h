/*
 * rl_lanes - admission by key with a concurrency cap: at most `cap`
 * entries of one key (a lane) are active at once, the others wait in
 * that lane's FIFO and are admitted, oldest first, as active ones leave.
 * rl_http keys its requests by origin with it, so curl never holds more
 * transfers for one host than it may run at once (its connections, times
 * the HTTP/2 streams on each for https: rl_http_origin_cap): curl keeps
 * the excess on a list that every curl_multi_remove_handle() scans,
 * quadratic in a burst of thousands of requests.
 *
 * Entries are embedded in their owner's struct (rl_lane_entry_t); the
 * module never allocates or frees them. Lanes are made on first use and
 * freed when their last entry leaves (a binary tree, tsearch(3), so
 * finding a lane is O(log lanes)).
 *
 * Limits: keys longer than RL_LANES_KEY_MAX - 1 bytes are cut (entries
 * of keys equal in their first bytes share a lane).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_LANES_H
#define RL_LANES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

/* Room for any origin rl_http keys with: "https://", a DNS name (253
 * characters at most), ':', a port and the NUL. */
#define RL_LANES_KEY_MAX 272

typedef struct rl_lanes rl_lanes_t;
struct rl_lane;

/* One entry, embedded by its owner. API-only members. */
typedef struct rl_lane_entry {
    TAILQ_ENTRY(rl_lane_entry) link; /* in its lane's queue while waiting */
    struct rl_lane *lane;            /* its lane while entered, or NULL */
    bool active;                     /* admitted (counted) or waiting */
} rl_lane_entry_t;

/* Lanes admitting `cap` active entries each (0: no limit). Returns them
 * (caller owns). */
rl_lanes_t *rl_lanes_new(size_t cap);

/* Frees every lane. Entries still entered are left alone (their owner
 * frees them); NULL-safe, sets *p to NULL. */
void rl_lanes_destroy(rl_lanes_t **p);

/* Enters e (not entered) in key's lane. Returns true when e is active
 * now, false when it waits. */
bool rl_lanes_enter(rl_lanes_t *l, const char *key, rl_lane_entry_t *e);

/* e (entered) leaves its lane, active or waiting. When an active entry
 * leaves, the oldest waiting one of that lane becomes active and is
 * returned; otherwise NULL. */
rl_lane_entry_t *rl_lanes_leave(rl_lanes_t *l, rl_lane_entry_t *e);

/* Lanes in use, and entries waiting in all of them. */
size_t rl_lanes_count(const rl_lanes_t *l);
size_t rl_lanes_waiting(const rl_lanes_t *l);

#endif
