/*
 * hostgate - per-host isolation of webhook attempts: a concurrency limit
 * and a circuit breaker per webhook host ("host:port"), so a slow or
 * dead endpoint holds at most its own share of the delivery slots and,
 * once it has failed `failures` times in a row, stops taking any for a
 * cool-down. Pure: the caller passes the time, so it tests without a
 * clock.
 *
 * Breaker states of one host:
 *
 *   CLOSED --`failures` retryable failures in a row--> OPEN
 *   OPEN   --cool-down over, one attempt admitted---> HALF_OPEN
 *   HALF_OPEN --that attempt succeeds--> CLOSED
 *   HALF_OPEN --that attempt fails-----> OPEN (a new cool-down)
 *
 *   CLOSED: admits while fewer than `per_host` attempts are in the air.
 *   OPEN: admits nothing before open_until.
 *   HALF_OPEN: admits nothing more while the trial is in the air.
 *
 * A failure is a retryable result (timeout, connection error, 408, 429,
 * 5xx); any answer the host gave on purpose (2xx, other 4xx) counts as a
 * success for the breaker. A host with nothing in the air and no failure
 * is forgotten.
 *
 * Limits: at most HOSTGATE_MAX_HOSTS hosts are tracked; a new host
 * beyond that is answered HOSTGATE_BUSY.
 * SPDX-License-Identifier: MIT
 */
#ifndef HOSTGATE_H
#define HOSTGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOSTGATE_MAX_HOSTS 100000  /* hosts tracked at once */
#define HOSTGATE_HOST_MAX 280      /* bytes of a host key, NUL included */

typedef struct hostgate hostgate_t;

/* The answer to hostgate_acquire(). */
typedef enum {
    HOSTGATE_OK = 0,   /* admitted: release it with hostgate_release() */
    HOSTGATE_BUSY,     /* the host has per_host attempts in the air */
    HOSTGATE_OPEN,     /* the host's breaker is open (or on trial) */
} hostgate_verdict_t;

/* A gate admitting per_host attempts per host, opening a host's breaker
 * after `failures` failures in a row for cooldown_ms. Returns it (caller
 * owns). */
hostgate_t *hostgate_new(long per_host, int failures, long cooldown_ms);

/* Frees. NULL-safe, sets *p to NULL. */
void hostgate_destroy(hostgate_t **p);

/* Asks to start one attempt to `host` at now_ms. On HOSTGATE_OPEN,
 * *wait_ms (may be NULL) says how long until the cool-down is over (0
 * while a trial is in the air). */
hostgate_verdict_t hostgate_acquire(hostgate_t *g, const char *host,
                                    int64_t now_ms, long *wait_ms);

/* Ends an admitted attempt to `host`: `failed` says whether it was a
 * retryable failure. */
void hostgate_release(hostgate_t *g, const char *host, bool failed,
                      int64_t now_ms);

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
