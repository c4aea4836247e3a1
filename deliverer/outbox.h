/*
 * outbox - the deliverer's side of the Redis outbox (rl:outbox, scripts
 * outbox_claim, outbox_defer and outbox_done): a scan every
 * outbox_scan_ms claims due entries up to the free delivery slots, the
 * fast path claims the one ref a COMPLETION names, and every attempt is
 * recorded under its claim's token. What it claims, and what Redis does
 * not answer, it hands up through outbox_ops_t: it calls nothing above
 * it (deliverer.h has the layering).
 *
 * Claims lease an entry for the webhook timeout plus
 * DELIVERER_LEASE_EXTRA_MS, so a deliverer that dies mid-attempt delays
 * the webhook but never loses it. The lease is counted from when the
 * claim was sent (it starts later, when Redis runs it), and an attempt
 * must be over DELIVERER_RECORD_MARGIN_MS before it ends (delivery_t
 * deadline_ms): no other claim can start a second POST while the first
 * is in the air. A record that cannot be written (Redis
 * down, outcome unknown) is handed up (ops.keep: failopen.c) to be
 * written later.
 * SPDX-License-Identifier: MIT
 */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stdint.h>

#include "attempt.h"
#include "classify.h"
#include "deliverer.h"
#include "delivery.h"
#include "rl_proto.h"
#include "rl_redis.h"
#include "rl_state_outbox.h"

#define OUTBOX_DONE_BATCH 25 /* attempts one outbox_done_many writes */

/* One attempt record waiting to be written with outbox_done. */
typedef struct {
    char *ref;                  /* "A|J", owned */
    char *status;               /* the job status delivered, owned */
    char *token;                /* claim token, "" for fail-open, owned */
    classify_outcome_t outcome; /* delivered|retry|failed */
    int64_t due_mono_ms;        /* retry: when the next attempt is due */
    char *json;                 /* the attempt record, owned */
    bool fail_open;             /* made without a claim, Redis away */
} outbox_rec_t;

/* What the outbox hands up (deliverer.c sets it; arg is passed back):
 * the outbox calls no function of a module above it. */
typedef struct {
    /* Delivery slots free now: how many entries a scan may claim. */
    size_t (*free_slots)(void *arg);
    /* A claimed delivery, to start, park or defer; takes *d. */
    void (*start)(void *arg, delivery_t **d);
    /* Redis did not answer the fast-path claim of m's ref: deliver it
     * without Redis (m is borrowed). */
    void (*fail_open)(void *arg, const rl_msg_t *m);
    /* Redis did not take *rec (no answer, or no call made): write it
     * later; takes *rec. */
    void (*keep)(void *arg, outbox_rec_t **rec);
    /* A claim was answered: the slots it held are free again. */
    void (*slots_freed)(void *arg);
    void *arg;
} outbox_ops_t;

/* Starts the periodic scan on ctx's loop, handing up through *ops
 * (copied). Returns the outbox (caller owns), or NULL with the reason
 * logged. */
outbox_t *outbox_new(deliverer_t *ctx, const outbox_ops_t *ops);

/* Stops the scan and frees. NULL-safe, sets *p to NULL. */
void outbox_destroy(outbox_t **p);

/* Claims due entries up to the free delivery slots (ops.free_slots),
 * one scan at a time, unless stopped or Redis is not connected (see
 * route_scan). The deliverer calls it every outbox_scan_ms; the outbox
 * itself as soon as an attempt ends after a scan that filled every slot
 * (a backlog). */
void outbox_scan(outbox_t *ob);

/* Stops claiming (drain). */
void outbox_stop(outbox_t *ob);

/* Delivery slots held by claims awaiting their answer (and by refs
 * announced for the claim at the end of this loop turn). */
size_t outbox_reserved(const outbox_t *ob);

/* Attempt records waiting for the write at the end of this loop turn:
 * a drain waits for them as for the Redis commands in flight. */
size_t outbox_unsent(const outbox_t *ob);

/* Fast path: claims the ref named by COMPLETION *m (taken: *m is
 * re-initialised), holding a slot for it. The refs announced within one
 * loop turn (up to 64) are claimed together in one script call at its
 * end; should Redis not answer, their messages are delivered fail-open. */
void outbox_claim_ref(outbox_t *ob, rl_msg_t *m);

/* Pushes a claimed delivery back by delay_ms without an attempt
 * (outbox_defer, under its claim's token); takes *d. Should Redis not
 * answer, the claim's lease brings the entry back. */
void outbox_defer(outbox_t *ob, delivery_t **d, long delay_ms);

/* Records the finished attempt of a claimed delivery; takes *d. The
 * attempts that finish within one loop turn (up to OUTBOX_DONE_BATCH)
 * are written together in one outbox_done_many call at its end; while
 * Redis is away the record goes to failopen.c at once. */
void outbox_record(outbox_t *ob, delivery_t **d, const attempt_result_t *res);

/* A record of attempt `res` of delivery d under `token` (copied).
 * Returns it (caller owns). */
outbox_rec_t *outbox_rec_new(const delivery_t *d, const char *token,
                             const attempt_result_t *res);

/* Frees a record. NULL-safe, sets *p to NULL. */
void outbox_rec_free(outbox_rec_t **p);

/* Sends outbox_done for rec alone. Returns 0, or -1 when Redis cannot be
 * asked. */
int outbox_send_rec(deliverer_t *ctx, const outbox_rec_t *rec,
                    rl_state_done_cb cb, void *arg);

/* The word route_record() reads from the answer about a record: "ok",
 * "stale", or what was wrong. */
const char *outbox_answer_word(const rl_state_done_reply_t *rep);

#endif
