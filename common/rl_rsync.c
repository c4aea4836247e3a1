/*
 * rl_rsync - blocking Redis, one server or a cluster, for the CLI.
 * SPDX-License-Identifier: MIT
 */
#include "rl_rsync.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_cmap.h"
#include "rl_fmt.h"
#include "rl_slot.h"

#define RL_RSYNC_IO_MS 1000   /* connect, and each reply */
#define RL_RSYNC_RETRY_MS 50  /* between two tries to connect */
#define RL_RSYNC_AGAIN_MS 100 /* after TRYAGAIN or CLUSTERDOWN */
#define RL_RSYNC_MAX_CONNS (RL_CMAP_MAX_MASTERS + RL_CMAP_MAX_SEEDS)

typedef struct {
    rl_cmap_addr_t addr;
    redisContext *ctx; /* NULL: closed */
} sconn_t;

struct rl_rsync {
    char *username;                          /* NULL: the default user */
    char *password;                          /* NULL: no AUTH */
    bool cluster;                            /* seeds are a cluster's */
    rl_cmap_addr_t seeds[RL_CMAP_MAX_SEEDS]; /* one server: seeds[0] */
    size_t nseeds;
    rl_cmap_t *map; /* cluster: who serves each slot */
    sconn_t *conns; /* every node talked to */
    size_t nconns;
    char err[256]; /* why the last call failed */
    unsigned long moved, ask;
};

static void
s_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* AUTH (with a password), then PING. Returns 0 when it answers PONG,
 * 1 when it refused us (s->err says so: retrying cannot help), -1 when
 * it does not answer (yet). */
static int
s_hello(rl_rsync_t *s, redisContext *c)
{
    const char *argv[3] = {"AUTH"};
    int argc = 1, rc = -1;
    redisReply *r;

    if (s->password != NULL) {
        if (s->username != NULL)
            argv[argc++] = s->username;
        argv[argc++] = s->password;
        r = redisCommandArgv(c, argc, argv, NULL);
        if (r == NULL)
            return -1;
        if (r->type == REDIS_REPLY_ERROR) {
            rl_fmt_msg(s->err, sizeof s->err, "refused AUTH as %s%s%s: %s",
                       s->username ? "user '" : "",
                       s->username ? s->username : "the default user",
                       s->username ? "'" : "", r->str);
            rc = 1;
        }
        freeReplyObject(r);
        if (rc == 1)
            return rc;
    }
    r = redisCommand(c, "PING");
    if (r != NULL && r->type == REDIS_REPLY_STATUS &&
        strcmp(r->str, "PONG") == 0) {
        rc = 0;
    } else if (r != NULL && r->type == REDIS_REPLY_ERROR &&
               strncmp(r->str, "NOAUTH", 6) == 0) {
        rl_fmt_msg(s->err, sizeof s->err,
                   "requires a password: set [redis] password "
                   "or password_file");
        rc = 1;
    }
    if (r != NULL)
        freeReplyObject(r);
    return rc;
}

/* The connection to a, opened (and authenticated) when closed; NULL
 * with s->err set when it cannot be. *refused (may be NULL) is set when
 * the server refused our credentials. */
static redisContext *
s_conn(rl_rsync_t *s, const rl_cmap_addr_t *a, bool *refused)
{
    struct timeval tv = {RL_RSYNC_IO_MS / 1000, (RL_RSYNC_IO_MS % 1000) * 1000};
    sconn_t *sc = NULL;
    int rc;

    for (size_t i = 0; i < s->nconns && sc == NULL; i++)
        if (s->conns[i].addr.port == a->port &&
            strcmp(s->conns[i].addr.host, a->host) == 0)
            sc = &s->conns[i];
    if (sc == NULL) {
        if (s->nconns == RL_RSYNC_MAX_CONNS) {
            rl_fmt_msg(s->err, sizeof s->err, "more than %d nodes",
                       RL_RSYNC_MAX_CONNS);
            return NULL;
        }
        s->conns = rl_realloc(s->conns, (s->nconns + 1) * sizeof *s->conns);
        sc = &s->conns[s->nconns++];
        sc->addr = *a;
        sc->ctx = NULL;
    }
    if (sc->ctx != NULL)
        return sc->ctx;
    sc->ctx = redisConnectWithTimeout(a->host, a->port, tv);
    rc = -1;
    if (sc->ctx != NULL && sc->ctx->err == 0) {
        redisSetTimeout(sc->ctx, tv);
        rc = s_hello(s, sc->ctx);
    }
    if (rc == 0)
        return sc->ctx;
    if (rc == -1)
        rl_fmt_msg(s->err, sizeof s->err, "%s:%d does not answer", a->host,
                   a->port);
    if (refused != NULL)
        *refused = rc == 1;
    if (sc->ctx != NULL)
        redisFree(sc->ctx);
    sc->ctx = NULL;
    return NULL;
}

/* Closes the connection c (after an I/O error or timeout). */
static void
s_close(rl_rsync_t *s, redisContext *c)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].ctx == c) {
            rl_fmt_msg(s->err, sizeof s->err, "%s:%d: %s",
                       s->conns[i].addr.host, s->conns[i].addr.port,
                       c->errstr[0] ? c->errstr : "no answer");
            redisFree(c);
            s->conns[i].ctx = NULL;
        }
}

/* Reads the slot map from c (a node on host). Returns 0 when it covers
 * every slot. */
static int
s_load_map(rl_rsync_t *s, redisContext *c, const char *host)
{
    char why[128];
    redisReply *r = redisCommand(c, "CLUSTER SLOTS");
    int rc = -1;

    if (r == NULL) {
        s_close(s, c);
        return -1;
    }
    if (rl_cmap_parse(r, host, s->map, why, sizeof why) != 0)
        rl_fmt_msg(s->err, sizeof s->err, "slot map refused: %s", why);
    else if (s->map->nslots != RL_SLOT_COUNT)
        rl_fmt_msg(s->err, sizeof s->err, "%zu of %d slots have a master",
                   s->map->nslots, RL_SLOT_COUNT);
    else
        rc = 0;
    freeReplyObject(r);
    return rc;
}

/* One try at every seed: 0 connected (and a full map), 1 refused. */
static int
s_try(rl_rsync_t *s)
{
    for (size_t i = 0; i < s->nseeds; i++) {
        bool refused = false;
        redisContext *c = s_conn(s, &s->seeds[i], &refused);
        if (refused)
            return 1;
        if (c != NULL &&
            (!s->cluster || s_load_map(s, c, s->seeds[i].host) == 0))
            return 0;
    }
    return -1;
}

static char *
s_dup_set(const char *v)
{
    return v != NULL && v[0] != '\0' ? rl_strdup(v) : NULL;
}

rl_rsync_t *
rl_rsync_connect(const rl_config_t *cfg, const char *password, long timeout_ms,
                 char *why, size_t why_len)
{
    assert(cfg != NULL);
    rl_rsync_t *s = rl_calloc(1, sizeof *s);
    int64_t until = rl_clock_mono_ms() + timeout_ms;
    int rc = -1;

    s->username = s_dup_set(cfg->redis_username);
    s->password = s_dup_set(password);
    s->cluster = cfg->redis_cluster[0] != '\0';
    if (s->cluster) {
        int n = rl_cmap_seeds_parse(cfg->redis_cluster, s->seeds,
                                    RL_CMAP_MAX_SEEDS, why, why_len);
        if (n < 0) {
            rl_rsync_destroy(&s);
            return NULL;
        }
        s->nseeds = (size_t)n;
        s->map = rl_malloc(sizeof *s->map);
    } else {
        rl_fmt_fit(s->seeds[0].host, sizeof s->seeds[0].host, "%s",
                   cfg->redis_host);
        s->seeds[0].port = cfg->redis_port;
        s->nseeds = 1;
    }
    do {
        rc = s_try(s);
        if (rc >= 0)
            break;
        s_sleep_ms(RL_RSYNC_RETRY_MS);
    } while (rl_clock_mono_ms() < until);
    if (rc != 0) {
        rl_fmt_msg(why, why_len, "%s", s->err[0] ? s->err : "does not answer");
        rl_rsync_destroy(&s);
        return NULL;
    }
    s->err[0] = '\0';
    return s;
}

void
rl_rsync_destroy(rl_rsync_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_rsync_t *s = *p;
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].ctx != NULL)
            redisFree(s->conns[i].ctx);
    free(s->conns);
    free(s->map);
    free(s->username);
    if (s->password != NULL)
        explicit_bzero(s->password, strlen(s->password));
    free(s->password);
    free(s);
    *p = NULL;
}

/* Where a command of slot goes: its master (no slot: the first). */
static rl_cmap_addr_t
s_target(const rl_rsync_t *s, int slot)
{
    if (!s->cluster || s->map->naddrs == 0)
        return s->seeds[0];
    if (slot < 0 || s->map->owner[slot] == RL_CMAP_NO_OWNER)
        return s->map->addrs[0];
    return s->map->addrs[s->map->owner[slot]];
}

/* The command on c, after ASKING when asking. NULL: I/O error (c is
 * closed). */
static redisReply *
s_send(rl_rsync_t *s, redisContext *c, bool asking, int argc, const char **argv,
       const size_t *lens)
{
    void *r = NULL;

    if (asking) {
        if (redisAppendCommand(c, "ASKING") != REDIS_OK ||
            redisGetReply(c, &r) != REDIS_OK) {
            s_close(s, c);
            return NULL;
        }
        freeReplyObject(r);
    }
    r = redisCommandArgv(c, argc, argv, lens);
    if (r == NULL)
        s_close(s, c);
    return r;
}

redisReply *
rl_rsync_command(rl_rsync_t *s, int argc, const char **argv, const size_t *lens)
{
    assert(s != NULL && argc > 0);
    int slot = s->cluster ? rl_slot_command(argc, argv, lens) : -1;
    rl_cmap_addr_t to = s_target(s, slot);
    rl_cmap_redirect_t rd;
    bool asking = false;

    s->err[0] = '\0';
    for (int i = 0; i <= RL_RSYNC_MAX_REDIRECTS; i++) {
        redisContext *c = s_conn(s, &to, NULL);
        redisReply *r =
            c != NULL ? s_send(s, c, asking, argc, argv, lens) : NULL;
        if (r == NULL)
            return NULL;
        if (!s->cluster || r->type != REDIS_REPLY_ERROR)
            return r;
        switch (rl_cmap_redirect(r->str, r->len, to.host, &rd)) {
        case RL_CMAP_ANSWER:
            return r;
        case RL_CMAP_MOVED:
            s->moved++;
            (void)s_load_map(s, c, to.host); /* a stale map: a new one */
            to = rd.addr;
            asking = false;
            break;
        case RL_CMAP_ASK:
            s->ask++;
            to = rd.addr;
            asking = true;
            break;
        case RL_CMAP_TRYAGAIN:
        case RL_CMAP_CLUSTERDOWN:
            s_sleep_ms(RL_RSYNC_AGAIN_MS);
            if (rd.kind == RL_CMAP_CLUSTERDOWN)
                (void)s_load_map(s, c, to.host);
            to = s_target(s, slot);
            asking = false;
            break;
        case RL_CMAP_MALFORMED:
            rl_fmt_msg(s->err, sizeof s->err, "%s:%d: bad redirection '%.80s'",
                       to.host, to.port, r->str);
            freeReplyObject(r);
            return NULL;
        }
        freeReplyObject(r);
    }
    rl_fmt_msg(s->err, sizeof s->err, "redirected more than %d times",
               RL_RSYNC_MAX_REDIRECTS);
    return NULL;
}

int
rl_rsync_each_master(rl_rsync_t *s, int argc, const char **argv,
                     const size_t *lens, rl_rsync_each_cb cb, void *arg)
{
    assert(s != NULL && argc > 0 && cb != NULL);
    size_t n = s->cluster ? s->map->naddrs : 1;
    char addr[RL_CMAP_HOST_MAX + 8];

    s->err[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        rl_cmap_addr_t a = s->cluster ? s->map->addrs[i] : s->seeds[0];
        redisContext *c = s_conn(s, &a, NULL);
        redisReply *r =
            c != NULL ? s_send(s, c, false, argc, argv, lens) : NULL;
        int stop;
        if (r == NULL)
            return -1;
        rl_fmt_fit(addr, sizeof addr, "%s:%d", a.host, a.port);
        stop = cb(addr, r, arg);
        freeReplyObject(r);
        if (stop != 0) {
            rl_fmt_msg(s->err, sizeof s->err, "stopped at %s", addr);
            return -1;
        }
    }
    return 0;
}

const char *
rl_rsync_error(const rl_rsync_t *s)
{
    return s->err;
}

void
rl_rsync_redirects(const rl_rsync_t *s, unsigned long *moved,
                   unsigned long *ask)
{
    *moved = s->moved;
    *ask = s->ask;
}
