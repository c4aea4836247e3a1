/*
 * broker - the process context of reelay-broker: the HTTP API, the
 * ZeroMQ ingress, dispatch to workers and the reaper, on one loop.
 * SPDX-License-Identifier: MIT
 */
#ifndef BROKER_H
#define BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "rl_addrlimit.h"
#include "rl_cli.h"
#include "rl_config.h"
#include "rl_crypto.h"
#include "rl_httpd.h"
#include "rl_redis.h"
#include "rl_zkeys.h"

struct event_base;
typedef struct dispatch dispatch_t;
typedef struct ingress ingress_t;
typedef struct reaper reaper_t;
typedef struct retain retain_t;
typedef struct rl_zap rl_zap_t;

typedef struct {
    const rl_config_t *cfg; /* immutable configuration */
    int index;              /* which endpoints of the lists we bind */
    char id[RL_CLI_ID_LEN]; /* "broker-<host>-<pid>-<random>" */
    struct event_base *base;
    rl_redis_t *redis;
    void *zctx;       /* ZeroMQ context */
    rl_zap_t *zap;    /* ZAP handler of dispatch and ingress;
                         NULL with [zmq] curve off */
    rl_zkeys_t keys;  /* our CURVE pair (broker.key), wiped
                         once the sockets are set up */
    rl_httpd_t *http; /* the API listener */
    dispatch_t *dispatch;
    ingress_t *ingress;
    reaper_t *reaper;
    retain_t *retain;                /* finished jobs leave Redis (retain.h) */
    rl_addrlimit_t *signups;         /* open sign-ups per client */
    uint64_t accepted;               /* 202 answers since start */
    uint8_t master[RL_AEAD_KEY_LEN]; /* seals API keys and webhook
                                        secrets; master.h */
    bool has_master;                 /* master holds the key */
    int64_t master_tried_ms;         /* monotonic ms of the last read that
                                        found none */
} broker_t;

/* Client addresses each per-client limit remembers. */
#define BROKER_LIMIT_CLIENTS 65536

#endif
