/*
 * failopen - deliveries made while Redis cannot be asked, and attempt
 * records Redis could not take, kept in memory until it can.
 *
 * A COMPLETION whose claim Redis cannot answer is delivered anyway from
 * the message's fields and sign_key (docs/webhooks.md: availability before
 * at-most-once). Its attempts are retried in memory on the configured
 * schedule until Redis has taken its records. Every attempt record is
 * kept and written with outbox_done (token "") once Redis answers, so a
 * later outbox scan sees it delivered instead of delivering it again; a
 * retry record written carries its due time, and Redis takes it over.
 * Claims of a ref kept here are left alone until its records are
 * written, so records land in order and nothing is delivered twice by
 * this process.
 *
 * Entry states (one per ref, indexed with tsearch):
 *
 *   WAITING --timer, slot free--> IN_AIR --result--> (records)
 *      ^                                  |  retry
 *      +----------------------------------+
 *   Records flush in order, one outbox_done in flight per entry; a
 *   WAITING entry whose records are all written drops its delivery when
 *   its timer fires (handover); an entry with no delivery, no attempt in
 *   the air and no record left is freed.
 *
 * Limits: at most FAILOPEN_CAP entries. Beyond it a COMPLETION is left to
 * the outbox scan and a record is dropped, both counted and logged.
 * SPDX-License-Identifier: MIT
 */
#ifndef FAILOPEN_H
#define FAILOPEN_H

#include <stdbool.h>
#include <stddef.h>

#include "attempt.h"
#include "deliverer.h"
#include "outbox.h"
#include "rl_proto.h"

#define FAILOPEN_CAP 100000       /* entries kept at most */
#define FAILOPEN_SLOT_WAIT_MS 100 /* re-check for a free slot after */

/* What the store asks of the layer above (deliverer.c sets it; arg is
 * passed back): it calls no function of a module above it, and of
 * outbox.c only its records' (outbox_rec_*, outbox_send_rec). */
typedef struct {
    /* Delivery slots free now. */
    size_t (*free_slots)(void *arg);
    /* Starts the attempt of fail-open *d when its host admits it and
     * returns true (*d taken); else false, *d kept, with the wait the
     * host asks for in *wait_ms (0: it is only busy). */
    bool (*start)(void *arg, delivery_t **d, long *wait_ms);
    void *arg;
} failopen_ops_t;

/* An empty store on ctx's loop, handing up through *ops (copied).
 * Returns it (caller owns). */
failopen_t *failopen_new(deliverer_t *ctx, const failopen_ops_t *ops);

/* Frees every entry, delivery and record without writing them.
 * NULL-safe, sets *p to NULL. */
void failopen_destroy(failopen_t **p);

/* True when `ref` has an entry: its webhook is being handled here, so
 * claims of it are left alone. */
bool failopen_has(const failopen_t *fo, const char *ref);

/* Delivers COMPLETION m without Redis (logged once, counted). Does
 * nothing while stopping, for a ref already kept, or when the store is
 * full (the outbox still holds the entry). */
void failopen_add(failopen_t *fo, const rl_msg_t *m);

/* The result of a fail-open attempt; takes *d. */
void failopen_on_result(failopen_t *fo, delivery_t **d,
                        const attempt_result_t *res);

/* Keeps a record Redis could not take, to be written later; takes *rec. */
void failopen_keep(failopen_t *fo, outbox_rec_t **rec);

/* While Redis is up: writes the kept records (at most a batch in
 * flight). Called on every connect and every scan tick. */
void failopen_flush(failopen_t *fo);

/* Drain: drops deliveries that wait for their next attempt (the outbox
 * still holds them). */
void failopen_stop(failopen_t *fo);

/* Records kept and not written yet. */
size_t failopen_records(const failopen_t *fo);

#endif
