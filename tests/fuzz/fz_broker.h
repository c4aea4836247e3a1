/*
 * fz_broker - a broker in the fuzz target's process: the real HTTP API
 * (http_api_start, the whole route table) on a free loopback port, the
 * ZeroMQ ingress and dispatch on inproc endpoints, and Redis wherever the
 * target says (a closed port: every handler that needs it answers 503;
 * the fake of fz_redis.h: its replies reach the handlers). No reaper.
 * Also a client that sends raw bytes on a new connection and collects
 * what comes back.
 * SPDX-License-Identifier: MIT
 */
#ifndef FZ_BROKER_H
#define FZ_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include "broker.h"

typedef struct {
    rl_config_t *cfg; /* owned */
    broker_t b;       /* its context: base and zctx borrowed */
    int http_port;    /* where its HTTP API listens */
} fz_broker_t;

/* Starts fb on base and zctx (borrowed) with Redis at redis_port; tag
 * names its inproc endpoints. Aborts when it cannot start. */
void fz_broker_start(fz_broker_t *fb, struct event_base *base, void *zctx,
                     const char *tag, int redis_port);

/* Runs base until Redis answers (its connection's first PING came
 * back) or `passes` loop turns went by. Returns whether it does. */
bool fz_broker_wait_redis(fz_broker_t *fb, int passes);

/* What one connection got back. */
typedef struct {
    char *bytes; /* every byte received, NUL-terminated (owned) */
    size_t len;  /* their number */
    bool closed; /* the server closed the connection */
} fz_http_answer_t;

/* Connects to 127.0.0.1:port, writes len bytes, and runs base until the
 * server closed the connection or sent nothing more for a number of
 * loop turns, then closes it (a request still waiting is abandoned).
 * Release a with fz_http_answer_release. */
void fz_http_exchange(struct event_base *base, int port, const void *req,
                      size_t len, fz_http_answer_t *a);

void fz_http_answer_release(fz_http_answer_t *a);

/* One response parsed out of an answer. */
typedef struct {
    int status;       /* 100..599 */
    bool json;        /* Content-Type: application/json */
    bool retry_after; /* a Retry-After header */
    const char *body; /* into the answer's bytes */
    size_t body_len;
} fz_http_response_t;

/* Parses the response at *off of a and advances *off. Returns 1 with
 * *r filled, 0 at the end of a, and aborts (a broken property) when the
 * bytes there are not a whole HTTP response. */
int fz_http_next(const fz_http_answer_t *a, size_t *off, fz_http_response_t *r);

#endif
