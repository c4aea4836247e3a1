/*
 * rl_proto - the ZeroMQ messages between reelay processes, in msgpack.
 *
 * Every message is one ZeroMQ frame holding a msgpack array
 *     [version, type, field...]
 * with version RL_PROTO_VERSION and the fields of its type in the order
 * documented below. Decoding trusts nothing: a frame larger than
 * RL_PROTO_MAX_FRAME, not a msgpack array, of another version, of an
 * unknown type, with a missing, extra, wrongly typed or over-long field,
 * a string (any field but a body) that is not valid UTF-8 or holds a
 * NUL, or with trailing bytes is rejected with -1 and a reason, never a
 * crash; the encoder refuses what the decoder would.
 *
 * Messages (direction, fields):
 *   DISPATCH   broker -> worker     acct, job_id
 *   HELLO      worker -> broker     sender, credit        (resets credit)
 *   CREDIT     worker -> broker     sender, credit        (adds credit)
 *   HEARTBEAT  both ways            sender, incarnation, inflight
 *   COMPLETION worker -> deliverer  acct, job_id, status, sign_key, fields
 *   SUBMIT     service -> broker    api_key, idempotency_key, body
 *   REPLY      broker -> service    status, body
 * `fields` is a map of string to string: the job's fields as stored in
 * Redis, so a deliverer can build the webhook even when Redis is down.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_PROTO_H
#define RL_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define RL_PROTO_VERSION 1
#define RL_PROTO_MAX_FRAME (256 * 1024) /* bytes of one encoded message */
#define RL_PROTO_MAX_ID 64              /* bytes of an id, without NUL */
#define RL_PROTO_MAX_FIELDS 64          /* entries of a COMPLETION map */
#define RL_PROTO_MAX_STRING (64 * 1024) /* bytes of any other string */

typedef enum {
    RL_MSG_DISPATCH = 1,
    RL_MSG_HELLO = 2,
    RL_MSG_CREDIT = 3,
    RL_MSG_HEARTBEAT = 4,
    RL_MSG_COMPLETION = 5,
    RL_MSG_SUBMIT = 6,
    RL_MSG_REPLY = 7,
} rl_msg_type_t;

typedef struct {
    char *key;   /* owned */
    char *value; /* owned */
} rl_msg_field_t;

/* A decoded or to-be-encoded message. Only the members of its type are
 * meaningful; strings are NUL-terminated, valid UTF-8 (a body may hold
 * any bytes) and owned by the message. */
typedef struct {
    rl_msg_type_t type;
    char acct[RL_PROTO_MAX_ID + 1];        /* DISPATCH, COMPLETION */
    char job_id[RL_PROTO_MAX_ID + 1];      /* DISPATCH, COMPLETION */
    char sender[RL_PROTO_MAX_ID + 1];      /* HELLO, CREDIT, HEARTBEAT */
    char incarnation[RL_PROTO_MAX_ID + 1]; /* HEARTBEAT */
    char status[RL_PROTO_MAX_ID + 1];      /* COMPLETION: completed|failed */
    int64_t credit;                        /* HELLO, CREDIT: 0..2^31 */
    int64_t inflight;                      /* HEARTBEAT: 0..2^31 */
    int64_t http_status;                   /* REPLY: 100..599 */
    char *sign_key;                        /* COMPLETION, owned */
    char *api_key;                         /* SUBMIT, owned */
    char *idempotency_key;                 /* SUBMIT, owned, "" when none */
    char *body;                            /* SUBMIT, REPLY: JSON, owned */
    size_t body_len;
    rl_msg_field_t *fields; /* COMPLETION, owned array */
    size_t nfields;
} rl_msg_t;

/* Zeroes a message for filling in. */
void rl_msg_init(rl_msg_t *m, rl_msg_type_t type);

/* Frees the owned strings and fields and re-initialises the message.
 * Safe on a message that was only rl_msg_init()ed or failed to decode. */
void rl_msg_release(rl_msg_t *m);

/* Appends a copy of key=value to a COMPLETION's fields. Returns 0, or -1
 * when RL_PROTO_MAX_FIELDS is reached. */
int rl_msg_add_field(rl_msg_t *m, const char *key, const char *value);

/* The value of field `key`, or NULL. Borrowed. */
const char *rl_msg_field(const rl_msg_t *m, const char *key);

/* Encodes m. On success *out is a malloc'd buffer the caller owns (free
 * it), *out_len its size, and 0 is returned; -1 when m breaks a limit
 * (an id too long, a string too large, unknown type). */
int rl_proto_encode(const rl_msg_t *m, char **out, size_t *out_len);

/* Decodes buf into m (which must be rl_msg_init()ed or released).
 * Returns 0, or -1 with a static reason in *why (may be NULL) and m
 * released. */
int rl_proto_decode(const void *buf, size_t len, rl_msg_t *m, const char **why);

/* The message type's name ("dispatch"...), or "unknown". */
const char *rl_proto_type_name(rl_msg_type_t type);

#endif
