/*
 * route - where each webhook goes: the deliverer's decisions on the
 * outbox path, as pure functions of the facts deliverer.c, outbox.c and
 * failopen.c read before acting (slots, Redis, the host's verdict, the
 * claim's lease, Redis's answers). They test without a loop, a socket or
 * a Redis.
 * SPDX-License-Identifier: MIT
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "hostgate.h"

/* What to do with a COMPLETION. */
typedef enum {
    ROUTE_DROP = 0,  /* nothing: draining (another deliverer's outbox
                        scan gets it), a ref that cannot be named, or a
                        job delivered fail-open here already */
    ROUTE_FAIL_OPEN, /* Redis cannot be asked: deliver from the message */
    ROUTE_WAIT,      /* every slot is taken: wait in the intake queue
                        (a queued one: stay at its head) */
    ROUTE_CLAIM,     /* claim its outbox entry now (the fast path) */
} route_completion_t;

/* The facts a COMPLETION is routed on. */
typedef struct {
    bool queued;       /* it waited in the intake queue for a slot */
    bool stopping;     /* the deliverer drains */
    bool named;        /* its account and job make a ref */
    bool kept;         /* its ref is delivered fail-open here */
    bool connected;    /* Redis is connected */
    size_t free_slots; /* delivery slots free now */
} route_completion_in_t;

/* Routes a COMPLETION:
 *
 *   queued stopping named&!kept connected free_slots -> route
 *   yes    any      any         yes       0          -> WAIT
 *   any    yes      any         any       any        -> DROP
 *   any    no       no          any       any        -> DROP
 *   any    no       yes         no        any        -> FAIL_OPEN
 *   any    no       yes         yes       0          -> WAIT
 *   any    no       yes         yes       > 0        -> CLAIM
 *
 * (first matching row; the first one keeps a full queue in order: its
 * head waits for a slot however it will be routed then). */
route_completion_t route_completion(const route_completion_in_t *in);

/* What to do with a claimed delivery its host answered. */
typedef enum {
    ROUTE_START = 0, /* admitted: start the attempt */
    ROUTE_PARK,      /* wait at the busy host for its next free slot,
                        if it lets it park (hostgate_park); else DEFER */
    ROUTE_DEFER,     /* push the outbox entry back (outbox_defer) */
} route_admit_t;

/* A claimed delivery whose host answered v (hostgate_acquire):
 *
 *   v      stopping -> route
 *   OK     any      -> START
 *   BUSY   no       -> PARK
 *   BUSY   yes      -> DEFER (nothing is parked while draining)
 *   OPEN   any      -> DEFER
 */
route_admit_t route_admit(hostgate_verdict_t v, bool stopping);

/* How long a deferred claimed delivery is pushed back: the wait its host
 * asked for (an open breaker's cool-down) when longer than
 * DELIVERER_DEFER_MS, else DELIVERER_DEFER_MS; 0 for a parked one handed
 * back while draining (another deliverer may take it at once).
 *
 *   wait_ms  draining -> ms
 *   <= 500   no       -> DELIVERER_DEFER_MS (500)
 *   > 500    no       -> wait_ms
 *   any      yes      -> 0
 */
long route_defer_ms(long wait_ms, bool draining);

/* Whether a claimed delivery with left_ms of its claim's lease
 * (delivery_budget_ms) may start an attempt of timeout_ms: it needs its
 * timeout, or DELIVERER_MIN_ATTEMPT_MS when that is shorter; else it is
 * dropped unsent and its lease brings the entry back.
 *
 *   left_ms >= min(timeout_ms, DELIVERER_MIN_ATTEMPT_MS) -> true
 *   otherwise                                            -> false
 */
bool route_launch(long left_ms, long timeout_ms);

/* How many due entries an outbox scan claims: every free slot, or none
 *
 *   stopped scanning connected free_slots -> claims
 *   yes     any      any       any        -> 0
 *   any     yes      any       any        -> 0 (one scan at a time)
 *   any     any      no        any        -> 0
 *   no      no       yes       n          -> n
 */
size_t route_scan(bool stopped, bool scanning, bool connected,
                  size_t free_slots);

/* Whether a scan that asked for `asked` entries and was handed `taken`
 * (-1: no answer) found a backlog, so the next one starts as soon as an
 * attempt ends instead of at the next period: taken >= 0 and
 * taken >= asked. */
bool route_backlog(long taken, size_t asked);

/* Redis's answer to an attempt record (outbox_done). */
typedef enum {
    ROUTE_RECORDED = 0, /* "ok": counted by its outcome */
    ROUTE_STALE,        /* "stale": a newer claim holds the entry */
    ROUTE_LOST,         /* anything else (the script failed): logged,
                           never retried (it would fail again) */
    ROUTE_UNKNOWN,      /* no answer (connection lost, timeout): kept
                           and written again later */
} route_record_t;

/* The answer `word` (the reply's string, NULL when not one) of a reply
 * that came (answered) or not:
 *
 *   answered word            -> route
 *   no       any             -> UNKNOWN
 *   yes      "ok"            -> RECORDED
 *   yes      "stale"         -> STALE
 *   yes      other, or NULL  -> LOST
 */
route_record_t route_record(bool answered, const char *word);

#endif
