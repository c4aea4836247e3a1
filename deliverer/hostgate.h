/*
 * hostgate - per-host isolation of webhook attempts: a concurrency limit
 * and a circuit breaker per webhook host ("host:port"), so a slow or
 * dead endpoint holds at most its own share of the delivery slots and,
 * once it has failed `failures` times in a row, stops taking any for a
 * cool-down. Pure: the caller passes the time, so it tests without a
 * clock.
 *
 * Breaker of one host: common/rl_breaker.h's, with `failures` and
 * cooldown_ms, and trials that always report (every admitted attempt is
 * released or cancelled, so trial_ms is 0):
 *
 *   CLOSED --`failures` retryable failures in a row--> OPEN
 *   OPEN   --cool-down over, one attempt admitted---> HALF_OPEN
 *   HALF_OPEN --that attempt succeeds--> CLOSED
 *   HALF_OPEN --that attempt fails-----> OPEN (a new cool-down)
 *   HALF_OPEN --that attempt cancelled--> OPEN, the next acquire tries
 *
 *   CLOSED: admits while fewer than `per_host` attempts are in the air.
 *   OPEN: admits nothing before the cool-down ends; after it, the trial
 *     waits (HOSTGATE_BUSY) until the attempts admitted before the
 *     breaker opened are over, so that it alone speaks for the host.
 *   HALF_OPEN: admits nothing more while the trial is in the air.
 *
 * A failure is a retryable result (timeout, connection error, 408, 429,
 * 5xx); any answer the host gave on purpose (2xx, other 4xx) counts as a
 * success for the breaker.
 *
 * Idle hosts: a host with nothing in the air and nothing parked is
 * forgotten at once when it has nothing to remember (no latency average,
 * no failure, breaker closed); otherwise it waits on an idle queue, in
 * the order hosts went idle, and hostgate_forget_idle() forgets those
 * idle for longer than HOSTGATE_REMEMBER_MS (or the cool-down, if
 * longer: an open breaker is kept through it), from the head, each
 * sweep as many as are due. A host that takes an attempt or an item
 * leaves the queue.
 *
 * Parking: an item a CLOSED host did not admit only because it is busy
 * may wait in that host's FIFO for the next free slot, instead of going
 * back to where it came from; the deliverer parks claimed deliveries so
 * that one busy endpoint costs no round trips to Redis. Only a fast host
 * parks: `fast_park` items while the moving average of its attempts'
 * latency (hostgate_latency) is below `fast_ms`, so it drains its queue
 * quickly; a slow or hanging host, or one with no average yet, parks
 * nothing and holds no more slots than its attempts in the air. After
 * each release the caller unparks: the oldest item is admitted, or
 * handed back for the caller to put away when it waited too long or the
 * host's breaker has opened meanwhile; a periodic hostgate_expire()
 * hands back what waited too long at hosts that release nothing (they
 * hang), from one queue of every parked item in the order they were
 * parked, so a sweep costs what it expires.
 *
 * Limits: at most HOSTGATE_MAX_HOSTS hosts are tracked; a new host
 * beyond that is answered HOSTGATE_BUSY (only while that many hosts were
 * busy within the last HOSTGATE_REMEMBER_MS).
 * SPDX-License-Identifier: MIT
 */
#ifndef HOSTGATE_H
#define HOSTGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTGATE_MAX_HOSTS 100000  /* hosts tracked at once */
#define HOSTGATE_HOST_MAX 280      /* bytes of a host key, NUL included */
#define HOSTGATE_LATENCY_WEIGHT 8  /* a new latency counts 1/8 */
#define HOSTGATE_REMEMBER_MS 60000 /* an idle host's average is kept */

typedef struct hostgate hostgate_t;

/* The answer to hostgate_acquire(). */
typedef enum {
    HOSTGATE_OK = 0, /* admitted: release it with hostgate_release() */
    HOSTGATE_BUSY,   /* the host has per_host attempts in the air */
    HOSTGATE_OPEN,   /* the host's breaker is open (or on trial) */
} hostgate_verdict_t;

/* A gate admitting per_host attempts per host, opening a host's breaker
 * after `failures` failures in a row for cooldown_ms. Returns it (caller
 * owns). */
hostgate_t *hostgate_new(long per_host, int failures, long cooldown_ms);

/* Frees. NULL-safe, sets *p to NULL. */
void hostgate_destroy(hostgate_t **p);

/* Lets a host whose average latency is below fast_ms park fast_park
 * items. Default: no host parks. */
void hostgate_park_limits(hostgate_t *g, long fast_park, long fast_ms);

/* Feeds one finished attempt's latency to host's moving average. */
void hostgate_latency(hostgate_t *g, const char *host, long latency_ms);

/* Asks to start one attempt to `host` at now_ms. On HOSTGATE_OPEN,
 * *wait_ms (may be NULL) says how long until the cool-down is over (0
 * while a trial is in the air). */
hostgate_verdict_t hostgate_acquire(hostgate_t *g, const char *host,
                                    int64_t now_ms, long *wait_ms);

/* Ends an admitted attempt to `host`: `failed` says whether it was a
 * retryable failure. */
void hostgate_release(hostgate_t *g, const char *host, bool failed,
                      int64_t now_ms);

/* Gives back a slot hostgate_acquire() or hostgate_unpark() admitted
 * whose attempt was not made: no verdict for the breaker (a trial not
 * made leaves the breaker open for the next acquire to try). */
void hostgate_cancel(hostgate_t *g, const char *host, int64_t now_ms);

/* Parks item (borrowed, not NULL) in host's queue at now_ms: only after
 * hostgate_acquire() answered HOSTGATE_BUSY for a CLOSED fast host, and
 * while fewer than fast_park items are parked there. Returns false
 * otherwise (the caller puts the item away itself). */
bool hostgate_park(hostgate_t *g, const char *host, void *item, int64_t now_ms);

/* The oldest parked item of host, or NULL when none is parked or the host
 * is still busy. *admitted is true when the item now holds a slot (start
 * it, then hostgate_release() as usual); false when it waited longer
 * than max_wait_ms or the breaker is no longer CLOSED (put it away).
 * Call after every release until it returns NULL or admits one. */
void *hostgate_unpark(hostgate_t *g, const char *host, int64_t now_ms,
                      long max_wait_ms, bool *admitted);

/* Hands every parked item, of every host, oldest first, to fn (which
 * must not call back into g) and forgets it, at now_ms. For shutdown. */
void hostgate_drain(hostgate_t *g, int64_t now_ms,
                    void (*fn)(void *item, void *arg), void *arg);

/* The same for the items parked longer than max_wait_ms at now_ms, so a
 * host that stopped answering cannot hold parked items until its attempts
 * time out. For a periodic sweep; O(items expired). Returns how many
 * were handed to fn. */
size_t hostgate_expire(hostgate_t *g, int64_t now_ms, long max_wait_ms,
                       void (*fn)(void *item, void *arg), void *arg);

/* Forgets the hosts idle (see above) for longer than HOSTGATE_REMEMBER_MS
 * or the cool-down at now_ms. For a periodic sweep; O(hosts forgotten).
 * Returns how many. */
size_t hostgate_forget_idle(hostgate_t *g, int64_t now_ms);

/* Items parked at host (0 when unknown). */
long hostgate_parked(const hostgate_t *g, const char *host);

/* Attempts in the air to host (0 when unknown). */
long hostgate_inflight(const hostgate_t *g, const char *host);

/* Hosts tracked. */
size_t hostgate_hosts(const hostgate_t *g);

/* "ok", "busy" or "open". */
const char *hostgate_verdict_name(hostgate_verdict_t v);

/* The host key of url into out ("host:port", host lower-cased, the
 * scheme's default port when none is given). Returns 0, or -1 when url
 * does not parse or the key would not fit. */
int hostgate_key(const char *url, char *out, size_t out_len);

#endif
