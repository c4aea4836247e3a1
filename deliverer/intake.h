/*
 * intake - the completion PULL socket: workers push a COMPLETION here
 * when a job reaches its terminal state (the fast path; the outbox scan
 * is the safety net). Each one is handed up to be routed (deliverer.c:
 * claimed through outbox.c, or delivered fail-open by failopen.c when
 * Redis cannot be asked); one that must wait for a delivery slot waits
 * in a queue of INTAKE_QUEUE_CAP messages (beyond it the outbox scan
 * gets the job). Malformed or
 * unexpected messages are dropped and counted.
 *
 * With [zmq] curve on (the default) the socket is a CURVE server whose
 * ZAP handler (rl_zap.h) admits only the workers' keys listed in
 * completion.allow, and a message is acted on only while its sender's
 * key is still listed: a forged COMPLETION cannot reach the fail-open
 * path that delivers without Redis.
 * SPDX-License-Identifier: MIT
 */
#ifndef INTAKE_H
#define INTAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "deliverer.h"
#include "rl_proto.h"

#define INTAKE_QUEUE_CAP 1024 /* COMPLETIONs waiting for a slot */

/* Hands COMPLETION *m up to be routed (deliverer.c: route_completion):
 * returns true when it was taken care of (claimed, delivered fail-open
 * or dropped; its strings may have been moved out of *m), false when it
 * waits for a slot (*m untouched). `queued`: it waited in the queue. */
typedef bool (*intake_route_cb)(void *arg, rl_msg_t *m, bool queued);

/* Binds a PULL socket to `endpoint` in ctx's ZeroMQ context; every
 * COMPLETION goes to route(arg, ...). Returns the intake (caller owns)
 * or NULL with the reason logged. */
intake_t *intake_new(deliverer_t *ctx, const char *endpoint,
                     intake_route_cb route, void *arg);

/* Hands the queued COMPLETIONs up, oldest first, until one must wait.
 * NULL-safe. */
void intake_drain(intake_t *in);

/* Handshakes the ZAP handler denied since start (0 with CURVE off). */
uint64_t intake_denied(const intake_t *in);

/* Closes the socket (peers push elsewhere) and frees. NULL-safe, sets *p
 * to NULL. */
void intake_destroy(intake_t **p);

#endif
