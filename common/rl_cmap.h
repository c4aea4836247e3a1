/*
 * rl_cmap - what Redis Cluster tells a client, parsed and checked: the
 * slot map of a CLUSTER SLOTS reply, the redirection errors (MOVED,
 * ASK, TRYAGAIN, CLUSTERDOWN), and the [redis] cluster seed list of the
 * configuration. Nothing here trusts its input: every parser bounds
 * every field, never aborts, and refuses what does not fit with a
 * reason.
 *
 * CLUSTER SLOTS answers an array of ranges, each
 *     [start, end, [host, port, id, ...] (the master), [replica]...]
 * with 0 <= start <= end < 16384 and a port in 1..65535. A master's host
 * may be nil or "" (Redis: "the host you asked"), which becomes the
 * host the map was asked from; "?" (unknown endpoint) leaves its slots
 * without an owner. Replicas, node ids and metadata are not read.
 * Ranges that overlap, hosts longer than RL_CMAP_HOST_MAX - 1 bytes or
 * holding anything but letters, digits and ".-:_", and more than
 * RL_CMAP_MAX_MASTERS distinct masters make the whole reply refused.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CMAP_H
#define RL_CMAP_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "rl_slot.h"

#define RL_CMAP_HOST_MAX 256     /* a host name and its NUL */
#define RL_CMAP_MAX_SEEDS 16     /* entries of [redis] cluster */
#define RL_CMAP_MAX_MASTERS 512  /* distinct masters of one map */
#define RL_CMAP_NO_OWNER 0xFFFFu /* owner[] of a slot nobody serves */

/* A node's address. */
typedef struct {
    char host[RL_CMAP_HOST_MAX]; /* NUL-terminated, checked */
    int port;                    /* 1..65535 */
} rl_cmap_addr_t;

/* Parses the [redis] cluster list "host:port,host:port,..." (entries
 * trimmed of blanks; an IPv6 host may be bracketed, "[::1]:7000") into
 * out[max]. Returns the number of entries (>= 1), or -1 with a reason in
 * why: an empty list or entry, a bad host or port, more than max. */
int rl_cmap_seeds_parse(const char *list, rl_cmap_addr_t *out, size_t max,
                        char *why, size_t why_len);

/* What an error reply of a cluster node means to the client. */
typedef enum {
    RL_CMAP_ANSWER,      /* not a redirection: the caller's answer */
    RL_CMAP_MOVED,       /* the slot lives at addr now */
    RL_CMAP_ASK,         /* send this one command to addr after ASKING */
    RL_CMAP_TRYAGAIN,    /* keys of a slot being moved: retry shortly */
    RL_CMAP_CLUSTERDOWN, /* the cluster cannot serve: retry shortly */
    RL_CMAP_MALFORMED,   /* MOVED or ASK whose slot or address is bad */
} rl_cmap_kind_t;

typedef struct {
    rl_cmap_kind_t kind;
    int slot;            /* MOVED, ASK: 0..16383 */
    rl_cmap_addr_t addr; /* MOVED, ASK: where to go */
} rl_cmap_redirect_t;

/* Classifies the text of an error reply (len bytes, binary safe) into
 * out and returns its kind. An empty host in "MOVED 12 :7001" is
 * asked_host, the host of the node that answered. */
rl_cmap_kind_t rl_cmap_redirect(const char *err, size_t len,
                                const char *asked_host,
                                rl_cmap_redirect_t *out);

/* A slot map: who serves each slot. */
typedef struct {
    uint16_t owner[RL_SLOT_COUNT];             /* index in addrs, or
                                                  RL_CMAP_NO_OWNER */
    size_t naddrs;                             /* masters in addrs */
    rl_cmap_addr_t addrs[RL_CMAP_MAX_MASTERS]; /* the masters */
    size_t nslots;                             /* slots with an owner */
} rl_cmap_t;

/* Parses a CLUSTER SLOTS reply asked from asked_host into *map (which
 * is large: allocate it). Returns 0, or -1 with a reason in why and
 * *map in an unspecified state. */
int rl_cmap_parse(const redisReply *r, const char *asked_host, rl_cmap_t *map,
                  char *why, size_t why_len);

#endif
