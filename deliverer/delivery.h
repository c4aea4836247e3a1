/*
 * delivery - one webhook to deliver: which job (ref), the claim it is
 * made under (token), the signing key, the job's fields and the number of
 * its next attempt. Built from an outbox_claim reply entry or from a
 * COMPLETION message (fail-open); both sources are checked, not trusted.
 * SPDX-License-Identifier: MIT
 */
#ifndef DELIVERY_H
#define DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "rl_jobview.h"
#include "rl_proto.h"

#define DELIVERY_MAX_PAIRS 128          /* job fields kept, more is malformed */
#define DELIVERY_MAX_VALUE (256 * 1024) /* bytes of one field value */

/* Members are read by the deliverer's modules; set only through the
 * functions below. */
typedef struct {
    char *ref;                      /* "A|J", owned */
    char acct[RL_PROTO_MAX_ID + 1]; /* A */
    char job[RL_PROTO_MAX_ID + 1];  /* J */
    char *token;         /* claim token, "" when made without a claim */
    char *sign_key;      /* the API key sealed (rl_apikey), owned */
    char *key_hash;      /* a claim's: the hash of that key, whose
                            record holds it (delivery_set_sign_key);
                            "" for a fail-open delivery; owned */
    char **kv;           /* field/value pairs, owned */
    size_t npairs;       /* pairs in kv */
    int attempt;         /* number of the next attempt, 1-based */
    bool fail_open;      /* made while Redis could not be asked */
    char *gate_host;     /* hostgate key while admitted there, owned */
    int64_t deadline_ms; /* monotonic ms by which its attempt must be
                            over, for its claim's lease; 0: none */
} delivery_t;

/* One entry of an outbox_claim reply: {ref, token, key hash, field,
 * value, ...}, whose attempt must be over by deadline_ms
 * (rl_clock_mono_ms; 0: no limit). Returns a delivery (caller owns) or
 * NULL with a static reason in *why when the entry is malformed. */
delivery_t *delivery_from_claim(const redisReply *entry, int64_t deadline_ms,
                                const char **why);

/* Sets the sealed signing key of a claimed delivery (copied): the one
 * the record of its key_hash holds, "" when there is none. */
void delivery_set_sign_key(delivery_t *d, const char *sealed);

/* A fail-open delivery from a COMPLETION message (fields and sign_key of
 * the message, token ""; its fields hold the account's WEBHOOK_F_*
 * settings as a claim's do). Returns a delivery (caller owns) or NULL with a
 * static reason in *why. */
delivery_t *delivery_from_msg(const rl_msg_t *m, const char **why);

/* The value of `field`, or NULL. Borrowed. */
const char *delivery_field(const delivery_t *d, const char *field);

/* The fields as an rl_jobview source (borrowed from d). */
rl_jobview_src_t delivery_src(const delivery_t *d);

/* The request timeout an attempt of d starting at now_ms (monotonic)
 * may have: timeout_ms, cut to what is left before d's deadline (0 or
 * less once it has passed). */
long delivery_budget_ms(const delivery_t *d, int64_t now_ms, long timeout_ms);

/* The attempt number following `wh_attempts` (attempts already
 * recorded): its value + 1, or 1 when absent or not a count. */
int delivery_next_attempt(const char *wh_attempts);

/* Frees. NULL-safe, sets *p to NULL. */
void delivery_destroy(delivery_t **p);

#endif
