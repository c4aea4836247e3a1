/*
 * rl_zsock - a ZeroMQ socket watched by a libevent loop.
 *
 * ZMQ_FD is edge-triggered: on every wake-up we drain while ZMQ_EVENTS
 * says POLLIN, and after every send we re-check, since a send can consume
 * the edge that announced pending input (the ZeroMQ Guide's warning).
 *
 * Messages of more than RL_ZSOCK_MAX_PARTS frames, or frames larger than
 * the configured maximum, are dropped and counted (ZMQ_MAXMSGSIZE makes
 * the library enforce the size before it allocates).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ZSOCK_H
#define RL_ZSOCK_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

/* A ZAP request of the CURVE mechanism has 7 frames (rl_zap.h); our
 * own messages have at most 3. */
#define RL_ZSOCK_MAX_PARTS 8

typedef struct rl_zsock rl_zsock_t;

/* One received message: parts[i] of lens[i] bytes, borrowed for the
 * duration of the callback. For a ROUTER, parts[0] is the peer identity. */
typedef void (*rl_zsock_cb)(rl_zsock_t *s, const void *const *parts,
                            const size_t *lens, size_t nparts, void *arg);

/* Creates a socket of `type` (ZMQ_ROUTER, ZMQ_DEALER, ZMQ_PUSH, ZMQ_PULL,
 * ZMQ_REQ...) in context zctx with linger 0 and the given maximum message
 * size, watched on base. cb may be NULL for send-only sockets. Returns
 * NULL on failure (errno from libzmq). */
rl_zsock_t *rl_zsock_new(struct event_base *base, void *zctx, int type,
                         int64_t max_msg_size, rl_zsock_cb cb, void *arg);

/* Closes the socket and frees. NULL-safe, sets *p to NULL. */
void rl_zsock_destroy(rl_zsock_t **p);

/* zmq_bind / zmq_connect. Return 0 or -1 (errno). */
int rl_zsock_bind(rl_zsock_t *s, const char *endpoint);
int rl_zsock_connect(rl_zsock_t *s, const char *endpoint);

/* Sets an integer socket option. Returns 0 or -1. */
int rl_zsock_set_int(rl_zsock_t *s, int option, int value);

/* Sets a binary socket option (ZMQ_IDENTITY...). Returns 0 or -1. */
int rl_zsock_set_bytes(rl_zsock_t *s, int option, const void *value,
                       size_t len);

/* Sends one message of nparts frames without blocking. Returns 0, or -1
 * when the message could not be queued (EAGAIN at the high-water mark,
 * EHOSTUNREACH for an unknown ROUTER peer with ROUTER_MANDATORY). */
int rl_zsock_send(rl_zsock_t *s, const void *const *parts, const size_t *lens,
                  size_t nparts);

/* The underlying libzmq socket (for options not wrapped here). */
void *rl_zsock_handle(rl_zsock_t *s);

/* The "User-Id" metadata of the message being handled (a CURVE peer's
 * Z85 public key, as rl_zap admitted it), or NULL when it has none.
 * Valid only inside the receive callback. */
const char *rl_zsock_user_id(const rl_zsock_t *s);

/* Messages dropped as malformed (too many parts). */
uint64_t rl_zsock_dropped(const rl_zsock_t *s);

#endif
