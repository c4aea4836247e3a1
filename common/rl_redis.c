/*
 * rl_redis - the client of rl_redis.h: one rl_rnode (a single server) or
 * one rl_rcluster (a Redis Cluster, a node per master) behind the same
 * calls. It owns what both share: the SHA1 of each embedded script, the
 * EVALSHA form of a script call, the slot a call is routed by, and
 * which calls wait for replicas.
 * SPDX-License-Identifier: MIT
 */
#include "rl_redis.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_lua.h"
#include "rl_rcluster.h"
#include "rl_rnode.h"
#include "rl_slot.h"

struct rl_redis {
    rl_rnode_t *node;       /* one server, or NULL */
    rl_rcluster_t *cluster; /* a cluster, or NULL */
    int wait_replicas;      /* what a durable command waits for */
    char (*shas)[41];       /* sha1 hex of each embedded script */
    size_t nscripts;
};

static void
s_load_shas(rl_redis_t *r)
{
    size_t n = 0;
    while (rl_lua_sources[n].name != NULL)
        n++;
    r->nscripts = n;
    r->shas = rl_calloc(n ? n : 1, sizeof *r->shas);
    for (size_t i = 0; i < n; i++) {
        unsigned char md[SHA_DIGEST_LENGTH];
        const char *src = rl_lua_sources[i].source;
        SHA1((const unsigned char *)src, strlen(src), md);
        for (int j = 0; j < SHA_DIGEST_LENGTH; j++)
            rl_fmt_fit(r->shas[i] + 2 * j, 3, "%02x", md[j]); /* 2 digits */
    }
}

rl_redis_t *
rl_redis_new(struct event_base *base, const rl_redis_opts_t *o)
{
    assert(base != NULL);
    assert(o != NULL && o->host != NULL);
    rl_rnode_t *node = NULL;
    rl_rcluster_t *cluster = NULL;

    if (o->cluster != NULL && o->cluster[0] != '\0')
        cluster = rl_rcluster_new(base, o);
    else
        node = rl_rnode_new(base, o);
    if (node == NULL && cluster == NULL)
        return NULL;
    rl_redis_t *r = rl_calloc(1, sizeof *r);
    r->node = node;
    r->cluster = cluster;
    r->wait_replicas = o->wait_replicas > 0 ? o->wait_replicas : 0;
    s_load_shas(r);
    return r;
}

void
rl_redis_destroy(rl_redis_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_redis_t *r = *p;
    rl_rnode_destroy(&r->node);
    rl_rcluster_destroy(&r->cluster);
    free(r->shas);
    free(r);
    *p = NULL;
}

rl_redis_t *
rl_redis_from_config(struct event_base *base, const rl_config_t *cfg)
{
    const rl_redis_opts_t o = {
        .host = cfg->redis_host,
        .port = cfg->redis_port,
        .command_timeout_ms = cfg->redis_command_timeout_ms,
        .reconnect_max_ms = cfg->redis_reconnect_max_ms,
        .username = cfg->redis_username,
        .password = cfg->redis_password,
        .cluster = cfg->redis_cluster,
        .wait_replicas = cfg->redis_wait_replicas,
    };
    return rl_redis_new(base, &o);
}

void
rl_redis_on_state(rl_redis_t *r, rl_redis_state_cb cb, void *arg)
{
    if (r->node != NULL)
        rl_rnode_on_state(r->node, cb, arg);
    else
        rl_rcluster_on_state(r->cluster, cb, arg);
}

void
rl_redis_on_drained(rl_redis_t *r, rl_redis_drained_cb cb, void *arg)
{
    if (r->node != NULL)
        rl_rnode_on_drained(r->node, cb, arg);
    else
        rl_rcluster_on_drained(r->cluster, cb, arg);
}

size_t
rl_redis_pending(const rl_redis_t *r)
{
    return r->node != NULL ? rl_rnode_pending(r->node)
                           : rl_rcluster_pending(r->cluster);
}

bool
rl_redis_connected(const rl_redis_t *r)
{
    return r->node != NULL ? rl_rnode_connected(r->node)
                           : rl_rcluster_connected(r->cluster);
}

bool
rl_redis_answering(const rl_redis_t *r)
{
    return r->node != NULL ? rl_rnode_answering(r->node)
                           : rl_rcluster_answering(r->cluster);
}

void
rl_redis_stats(const rl_redis_t *r, rl_redis_stats_t *out)
{
    if (r->node != NULL)
        rl_rnode_stats(r->node, out);
    else
        rl_rcluster_stats(r->cluster, out);
}

/* Sends cmd to the server, or to the master of slot (cluster). */
static int
s_send(rl_redis_t *r, const rl_rnode_cmd_t *cmd, int slot, rl_redis_cb cb,
       void *arg)
{
    if (r->node != NULL)
        return rl_rnode_send(r->node, cmd, cb, arg);
    return rl_rcluster_send(r->cluster, cmd, slot, cb, arg);
}

static int
s_command(rl_redis_t *r, bool durable, rl_redis_cb cb, void *arg, int argc,
          const char **argv, const size_t *lens)
{
    assert(argc > 0);
    const rl_rnode_cmd_t cmd = {
        .argc = argc,
        .argv = argv,
        .lens = lens,
        .wait_replicas = durable ? r->wait_replicas : 0,
    };
    int slot = r->cluster != NULL ? rl_slot_command(argc, argv, lens) : -1;
    return s_send(r, &cmd, slot, cb, arg);
}

int
rl_redis_command(rl_redis_t *r, rl_redis_cb cb, void *arg, int argc,
                 const char **argv, const size_t *lens)
{
    return s_command(r, false, cb, arg, argc, argv, lens);
}

int
rl_redis_command_durable(rl_redis_t *r, rl_redis_cb cb, void *arg, int argc,
                         const char **argv, const size_t *lens)
{
    return s_command(r, true, cb, arg, argc, argv, lens);
}

static const rl_lua_source_t *
s_script(const rl_redis_t *r, const char *name, size_t *index)
{
    for (size_t i = 0; i < r->nscripts; i++) {
        if (strcmp(rl_lua_sources[i].name, name) == 0) {
            *index = i;
            return &rl_lua_sources[i];
        }
    }
    return NULL;
}

/* EVALSHA <sha> <nkeys> argv...: routed by the first key. */
static int
s_script_send(rl_redis_t *r, bool durable, const char *name, rl_redis_cb cb,
              void *arg, int nkeys, int argc, const char **argv,
              const size_t *lens)
{
    size_t index = 0;
    const rl_lua_source_t *script = s_script(r, name, &index);
    assert(script != NULL);
    assert(nkeys >= 0 && nkeys <= argc && argc <= RL_REDIS_MAX_ARGS - 1);
    if (r->node != NULL && !rl_rnode_connected(r->node))
        return -1; /* before building a command that cannot go */
    char nk[RL_FMT_DEC_LEN];
    rl_fmt_dec(nk, nkeys);
    const char *av[RL_REDIS_MAX_ARGS + 3];
    size_t al[RL_REDIS_MAX_ARGS + 3];
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = r->shas[index];
    al[1] = 40;
    av[2] = nk;
    al[2] = strlen(nk);
    for (int i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = lens ? lens[i] : strlen(argv[i]);
    }
    const rl_rnode_cmd_t cmd = {
        .argc = argc + 3,
        .argv = av,
        .lens = al,
        .script = script,
        .wait_replicas = durable ? r->wait_replicas : 0,
    };
    int slot = r->cluster != NULL && nkeys > 0 ? rl_slot_key(av[3], al[3]) : -1;
    return s_send(r, &cmd, slot, cb, arg);
}

int
rl_redis_script(rl_redis_t *r, const char *name, rl_redis_cb cb, void *arg,
                int nkeys, int argc, const char **argv, const size_t *lens)
{
    return s_script_send(r, false, name, cb, arg, nkeys, argc, argv, lens);
}

int
rl_redis_script_durable(rl_redis_t *r, const char *name, rl_redis_cb cb,
                        void *arg, int nkeys, int argc, const char **argv,
                        const size_t *lens)
{
    return s_script_send(r, true, name, cb, arg, nkeys, argc, argv, lens);
}

const char *
rl_redis_reply_str(const redisReply *r)
{
    if (r == NULL)
        return NULL;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
        r->type == REDIS_REPLY_ERROR)
        return r->str;
    return NULL;
}

int
rl_redis_reply_ll(const redisReply *r, long long *out)
{
    if (r == NULL)
        return -1;
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = r->integer;
        return 0;
    }
    if (r->type != REDIS_REPLY_STRING || r->len == 0)
        return -1;
    char *end = NULL;
    long long v = strtoll(r->str, &end, 10);
    if (end == NULL || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

const char *
rl_redis_reply_tag(const redisReply *r)
{
    return (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0)
               ? rl_redis_reply_str(r->element[0])
               : NULL;
}

const char *
rl_redis_reply_field(const redisReply *r, size_t from, const char *field)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = from; i + 1 < r->elements; i += 2) {
        const char *k = rl_redis_reply_str(r->element[i]);
        if (k != NULL && strcmp(k, field) == 0)
            return rl_redis_reply_str(r->element[i + 1]);
    }
    return NULL;
}
