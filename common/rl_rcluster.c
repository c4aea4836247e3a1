/*
 * rl_rcluster - Redis Cluster routing over per-master connections.
 *
 * A request (req_t) is in one of four states:
 *
 *     accepted --send--> SENT --redirect/retry--> LATE or PARKED
 *                         |                          |   ^
 *                         +-- reply or NULL: done <--+   | (node not up,
 *                                                        |  TRYAGAIN)
 *     LATE --deadline passes--> ORPHAN --reply--> freed  |
 *     PARKED --retry_at--> LATE or PARKED ---------------+
 *
 *   SENT    in flight on req->node after its first send; the node's own
 *           deadline (the same as the request's) bounds it. In no list.
 *   LATE    in flight after a redirection; in c->late, whose deadlines
 *           the tick checks.
 *   PARKED  waiting until retry_at to be sent (again); in c->parked.
 *   ORPHAN  answered NULL at its deadline while in flight; in no list,
 *           not counted pending; freed when the node's reply comes.
 *
 * | transition                 | function            |
 * | accepted -> SENT           | rl_rcluster_send    |
 * | SENT/LATE -> LATE/PARKED   | s_on_reply, s_send  |
 * | PARKED -> LATE/PARKED      | s_on_tick, s_send   |
 * | LATE -> ORPHAN             | s_expire            |
 * | any -> done                | s_done              |
 * SPDX-License-Identifier: MIT
 */
#include "rl_rcluster.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_cmap.h"
#include "rl_fmt.h"
#include "rl_log.h"

#define RL_RCLUSTER_TICK_MS 20          /* parked retries, late deadlines */
#define RL_RCLUSTER_REFRESH_MIN_MS 100  /* between two map refreshes */
#define RL_RCLUSTER_REFRESH_DOWN_MS 500 /* refresh period while degraded */
#define RL_RCLUSTER_PARK_MS 20          /* retry of a node not up yet */
#define RL_RCLUSTER_RETRY_MS 25         /* first TRYAGAIN backoff... */
#define RL_RCLUSTER_RETRY_MAX_MS 400    /* ...doubling up to this */
#define RL_RCLUSTER_MAX_REDIRECTS 16    /* MOVED/ASK of one request */
#define RL_RCLUSTER_LOG_MS 10000        /* rate of repeated warnings */

typedef enum { REQ_SENT, REQ_LATE, REQ_PARKED, REQ_ORPHAN } req_state_t;

typedef struct cnode cnode_t;

typedef struct req {
    TAILQ_ENTRY(req) link; /* in c->late or c->parked */
    rl_rcluster_t *c;
    rl_redis_cb cb;
    void *arg;
    req_state_t state;
    int64_t deadline;   /* monotonic ms, fixed when accepted */
    int64_t retry_at;   /* PARKED: when to send again */
    int slot;           /* -1: any master */
    cnode_t *node;      /* SENT, LATE: where it is in flight */
    cnode_t *to;        /* the next send's node; NULL: the slot's master */
    bool asking;        /* the next send follows an ASK */
    int redirects;      /* MOVED and ASK followed */
    long retry_ms;      /* the next TRYAGAIN/CLUSTERDOWN backoff */
    rl_rnode_cmd_t cmd; /* argv and lens point into this allocation */
} req_t;

TAILQ_HEAD(req_list, req);

struct cnode {
    TAILQ_ENTRY(cnode) link;
    rl_rcluster_t *c;
    rl_rnode_t *rn;
    rl_cmap_addr_t addr;
    bool master;        /* serves slots in the current map */
    int64_t retired_at; /* 0: in use; else when it left the map */
};

TAILQ_HEAD(cnode_list, cnode);

struct rl_rcluster {
    struct event_base *base;
    rl_redis_opts_t node_opts; /* every node's; strings owned below */
    char *username;
    char *password;
    rl_cmap_addr_t seeds[RL_CMAP_MAX_SEEDS];
    size_t nseeds;
    struct cnode_list nodes;
    cnode_t *owner[RL_SLOT_COUNT]; /* the master of each slot, or NULL */
    bool complete;                 /* every slot has an owner */
    rl_cmap_t *scratch;            /* a map being parsed */
    struct req_list late;
    struct req_list parked;
    size_t npending; /* accepted, not yet called back */
    bool closing;    /* being destroyed: nothing more is sent */
    bool connected;  /* the aggregate last told to state_cb */
    bool refresh_wanted;
    bool refreshing;
    int64_t next_refresh; /* no refresh before */
    char refresh_host[RL_CMAP_HOST_MAX];
    unsigned rr; /* round robin of keyless commands */
    struct event *tick;
    rl_redis_state_cb state_cb;
    void *state_arg;
    rl_redis_drained_cb drained_cb;
    void *drained_arg;
    rl_redis_stats_t stats; /* own counters, and closed nodes' */
    rl_log_limit_t log_map, log_redirect;
};

static void s_update_state(rl_rcluster_t *c);
static void s_send(req_t *q);

static void
s_on_node_state(bool up, void *arg)
{
    cnode_t *n = arg;
    rl_rcluster_t *c = n->c;
    if ((up && !c->complete) || (!up && n->master))
        c->refresh_wanted = true;
    s_update_state(c);
}

static cnode_t *
s_node_find(rl_rcluster_t *c, const rl_cmap_addr_t *a)
{
    cnode_t *n;
    TAILQ_FOREACH(n, &c->nodes, link)
    if (n->addr.port == a->port && strcmp(n->addr.host, a->host) == 0)
        return n;
    return NULL;
}

/* The node of address a, opened when new, back in use when retired. */
static cnode_t *
s_node_get(rl_rcluster_t *c, const rl_cmap_addr_t *a)
{
    cnode_t *n = s_node_find(c, a);
    rl_redis_opts_t o = c->node_opts;

    if (n != NULL) {
        n->retired_at = 0;
        return n;
    }
    o.host = a->host;
    o.port = a->port;
    n = rl_calloc(1, sizeof *n);
    n->c = c;
    n->addr = *a;
    n->rn = rl_rnode_new(c->base, &o);
    assert(n->rn != NULL); /* the port and deadline were checked */
    rl_rnode_on_state(n->rn, s_on_node_state, n);
    TAILQ_INSERT_TAIL(&c->nodes, n, link);
    return n;
}

/* Closes a retired node: its commands in flight are answered NULL. */
static void
s_node_close(rl_rcluster_t *c, cnode_t *n)
{
    rl_redis_stats_t s;
    req_t *q;

    TAILQ_FOREACH(q, &c->parked, link)
    if (q->to == n)
        q->to = NULL;
    TAILQ_REMOVE(&c->nodes, n, link);
    rl_rnode_stats(n->rn, &s);
    c->stats.sent += s.sent;
    c->stats.replies += s.replies;
    c->stats.reconnects += s.reconnects;
    c->stats.auth_failures += s.auth_failures;
    c->stats.wait_short += s.wait_short;
    rl_rnode_destroy(&n->rn);
    free(n);
}

/* connected: a full map and every master's connection up. */
static bool
s_all_up(const rl_rcluster_t *c, bool answering)
{
    const cnode_t *n;

    if (!c->complete)
        return false;
    TAILQ_FOREACH(n, &c->nodes, link)
    if (n->master &&
        !(answering ? rl_rnode_answering(n->rn) : rl_rnode_connected(n->rn)))
        return false;
    return true;
}

static void
s_update_state(rl_rcluster_t *c)
{
    bool up = s_all_up(c, false);

    if (up == c->connected)
        return;
    c->connected = up;
    if (up)
        rl_log_info("redis cluster: every master connected");
    else
        rl_log_warnx("redis cluster: not every slot's master is connected");
    if (c->state_cb != NULL)
        c->state_cb(up, c->state_arg);
}

/* Points every slot at its master in map; nodes left without slots are
 * retired (closed by the tick once idle). */
static void
s_apply_map(rl_rcluster_t *c, const rl_cmap_t *map)
{
    cnode_t *index[RL_CMAP_MAX_MASTERS], *n;
    int64_t now = rl_clock_mono_ms();
    uint64_t held = 0;

    TAILQ_FOREACH(n, &c->nodes, link)
    n->master = false;
    for (size_t i = 0; i < map->naddrs; i++) {
        index[i] = s_node_get(c, &map->addrs[i]);
        index[i]->master = true;
    }
    for (size_t s = 0; s < RL_SLOT_COUNT; s++)
        c->owner[s] =
            map->owner[s] == RL_CMAP_NO_OWNER ? NULL : index[map->owner[s]];
    TAILQ_FOREACH(n, &c->nodes, link)
    if (!n->master && n->retired_at == 0)
        n->retired_at = now;
    c->complete = map->nslots == RL_SLOT_COUNT;
    if (!c->complete && rl_log_limit(&c->log_map, RL_RCLUSTER_LOG_MS, &held))
        rl_log_warnx("redis cluster: %zu of %d slots have a master",
                     map->nslots, RL_SLOT_COUNT);
    rl_log_debug("redis cluster: slot map of %zu masters from %s", map->naddrs,
                 c->refresh_host);
    s_update_state(c);
}

static void
s_on_slots(redisReply *reply, void *arg)
{
    rl_rcluster_t *c = arg;
    char why[128];
    uint64_t held = 0;

    c->refreshing = false;
    if (reply == NULL) {
        c->refresh_wanted = true;
        return;
    }
    if (rl_cmap_parse(reply, c->refresh_host, c->scratch, why, sizeof why) !=
        0) {
        c->refresh_wanted = true;
        if (rl_log_limit(&c->log_map, RL_RCLUSTER_LOG_MS, &held))
            rl_log_warnx("redis cluster: slot map from %s refused: %s",
                         c->refresh_host, why);
        return;
    }
    s_apply_map(c, c->scratch);
}

/* A node to ask for the map: a connected master, else any connected
 * node; with none, the seeds are (re)opened and NULL returned. */
static cnode_t *
s_map_source(rl_rcluster_t *c)
{
    cnode_t *n, *any = NULL;

    TAILQ_FOREACH(n, &c->nodes, link)
    {
        if (!rl_rnode_connected(n->rn))
            continue;
        if (n->master)
            return n;
        if (any == NULL)
            any = n;
    }
    if (any == NULL)
        for (size_t i = 0; i < c->nseeds; i++)
            (void)s_node_get(c, &c->seeds[i]);
    return any;
}

static void
s_refresh(rl_rcluster_t *c, int64_t now)
{
    static const char *argv[] = {"CLUSTER", "SLOTS"};
    const rl_rnode_cmd_t cmd = {.argc = 2, .argv = argv};
    cnode_t *n;

    if (c->refreshing || now < c->next_refresh)
        return;
    if (!c->refresh_wanted && c->connected)
        return;
    n = s_map_source(c);
    if (n == NULL)
        return;
    if (rl_rnode_send(n->rn, &cmd, s_on_slots, c) != 0)
        return;
    rl_fmt_fit(c->refresh_host, sizeof c->refresh_host, "%s", n->addr.host);
    c->refreshing = true;
    c->refresh_wanted = false;
    c->stats.refreshes++;
    c->next_refresh = now + (c->connected ? RL_RCLUSTER_REFRESH_MIN_MS
                                          : RL_RCLUSTER_REFRESH_DOWN_MS);
}

/* The one end of a request: its callback, once. */
static void
s_done(req_t *q, redisReply *reply)
{
    rl_rcluster_t *c = q->c;

    c->npending--;
    if (reply == NULL)
        c->stats.unknown++;
    if (q->cb != NULL)
        q->cb(reply, q->arg);
    free(q);
    if (c->npending == 0 && c->drained_cb != NULL)
        c->drained_cb(c->drained_arg);
}

/* LATE -> ORPHAN: the deadline passed while in flight (q is out of
 * c->late already). */
static void
s_expire(req_t *q)
{
    rl_rcluster_t *c = q->c;

    q->state = REQ_ORPHAN;
    c->npending--;
    c->stats.unknown++;
    if (q->cb != NULL)
        q->cb(NULL, q->arg);
    q->cb = NULL;
    if (c->npending == 0 && c->drained_cb != NULL)
        c->drained_cb(c->drained_arg);
}

static void
s_park(req_t *q, long delay_ms)
{
    q->state = REQ_PARKED;
    q->retry_at = rl_clock_mono_ms() + delay_ms;
    TAILQ_INSERT_TAIL(&q->c->parked, q, link);
}

static cnode_t *
s_route(rl_rcluster_t *c, int slot)
{
    cnode_t *n;
    unsigned i = 0, masters = 0;

    if (slot >= 0)
        return c->owner[slot];
    TAILQ_FOREACH(n, &c->nodes, link)
    masters += n->master && rl_rnode_connected(n->rn);
    if (masters == 0)
        return NULL;
    c->rr = (c->rr + 1) % masters;
    TAILQ_FOREACH(n, &c->nodes, link)
    if (n->master && rl_rnode_connected(n->rn) && i++ == c->rr)
        return n;
    return NULL;
}

static void s_on_reply(redisReply *reply, void *arg);

/* Sends a request again (-> LATE), or parks it while its node is not up
 * (-> PARKED); past its deadline it is answered NULL. */
static void
s_send(req_t *q)
{
    cnode_t *n = q->to != NULL ? q->to : s_route(q->c, q->slot);

    if (q->c->closing || rl_clock_mono_ms() >= q->deadline) {
        s_done(q, NULL);
        return;
    }
    q->cmd.asking = q->asking;
    if (n != NULL && rl_rnode_send(n->rn, &q->cmd, s_on_reply, q) == 0) {
        q->node = n;
        q->state = REQ_LATE;
        TAILQ_INSERT_TAIL(&q->c->late, q, link);
        return;
    }
    s_park(q, RL_RCLUSTER_PARK_MS);
}

/* Follows MOVED or ASK to rd->addr. */
static void
s_redirect(req_t *q, const rl_cmap_redirect_t *rd)
{
    rl_rcluster_t *c = q->c;
    cnode_t *n;

    if (++q->redirects > RL_RCLUSTER_MAX_REDIRECTS) {
        rl_log_warnx("redis cluster: slot %d redirected %d times: answered "
                     "as outcome unknown",
                     rd->slot, RL_RCLUSTER_MAX_REDIRECTS);
        s_done(q, NULL);
        return;
    }
    n = s_node_get(c, &rd->addr);
    q->to = n;
    q->asking = rd->kind == RL_CMAP_ASK;
    if (rd->kind == RL_CMAP_MOVED) {
        c->stats.moved++;
        c->owner[rd->slot] = n;
        n->master = true;
        c->refresh_wanted = true;
        s_update_state(c); /* a master not connected yet: not ready */
    } else {
        c->stats.ask++;
    }
    s_send(q);
}

/* TRYAGAIN or CLUSTERDOWN: the same slot again after a backoff. */
static void
s_retry_later(req_t *q, rl_cmap_kind_t kind)
{
    q->c->stats.retries++;
    if (kind == RL_CMAP_CLUSTERDOWN)
        q->c->refresh_wanted = true;
    q->to = NULL;
    q->asking = false;
    s_park(q, q->retry_ms);
    q->retry_ms = q->retry_ms * 2 > RL_RCLUSTER_RETRY_MAX_MS
                      ? RL_RCLUSTER_RETRY_MAX_MS
                      : q->retry_ms * 2;
}

static void
s_on_reply(redisReply *reply, void *arg)
{
    req_t *q = arg;
    rl_rcluster_t *c = q->c;
    rl_cmap_redirect_t rd;
    uint64_t held = 0;

    if (q->state == REQ_ORPHAN) {
        free(q);
        return;
    }
    if (q->state == REQ_LATE)
        TAILQ_REMOVE(&c->late, q, link);
    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        s_done(q, reply);
        return;
    }
    switch (rl_cmap_redirect(reply->str, reply->len, q->node->addr.host, &rd)) {
    case RL_CMAP_ANSWER:
        s_done(q, reply);
        break;
    case RL_CMAP_MOVED:
    case RL_CMAP_ASK:
        s_redirect(q, &rd);
        break;
    case RL_CMAP_TRYAGAIN:
    case RL_CMAP_CLUSTERDOWN:
        s_retry_later(q, rd.kind);
        break;
    case RL_CMAP_MALFORMED:
        if (rl_log_limit(&c->log_redirect, RL_RCLUSTER_LOG_MS, &held))
            rl_log_warnx("redis cluster: %s:%d sent an unreadable "
                         "redirection '%.80s': answered as outcome unknown",
                         q->node->addr.host, q->node->addr.port, reply->str);
        s_done(q, NULL);
        break;
    }
}

/* Parked requests due, late ones past their deadline, idle retired
 * nodes, and a map refresh when one is wanted. */
static void
s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    rl_rcluster_t *c = arg;
    int64_t now = rl_clock_mono_ms();
    struct req_list due = TAILQ_HEAD_INITIALIZER(due);
    req_t *q, *next;
    cnode_t *n, *nn;
    (void)fd;
    (void)what;

    for (q = TAILQ_FIRST(&c->parked); q != NULL; q = next) {
        next = TAILQ_NEXT(q, link);
        if (q->retry_at <= now || q->deadline <= now) {
            TAILQ_REMOVE(&c->parked, q, link);
            TAILQ_INSERT_TAIL(&due, q, link);
        }
    }
    while ((q = TAILQ_FIRST(&due)) != NULL) {
        TAILQ_REMOVE(&due, q, link);
        s_send(q);
    }
    /* Redirected requests are not in deadline order: all are looked at,
     * those expired set apart before any callback runs. */
    for (q = TAILQ_FIRST(&c->late); q != NULL; q = next) {
        next = TAILQ_NEXT(q, link);
        if (q->deadline <= now) {
            TAILQ_REMOVE(&c->late, q, link);
            TAILQ_INSERT_TAIL(&due, q, link);
        }
    }
    while ((q = TAILQ_FIRST(&due)) != NULL) {
        TAILQ_REMOVE(&due, q, link);
        s_expire(q);
    }
    for (n = TAILQ_FIRST(&c->nodes); n != NULL; n = nn) {
        nn = TAILQ_NEXT(n, link);
        if (n->retired_at != 0 &&
            (rl_rnode_pending(n->rn) == 0 ||
             now - n->retired_at > c->node_opts.command_timeout_ms))
            s_node_close(c, n);
    }
    s_refresh(c, now);
}

static char *
s_dup_set(const char *s)
{
    return s != NULL && s[0] != '\0' ? rl_strdup(s) : NULL;
}

rl_rcluster_t *
rl_rcluster_new(struct event_base *base, const rl_redis_opts_t *o)
{
    assert(base != NULL && o != NULL && o->cluster != NULL);
    rl_cmap_addr_t seeds[RL_CMAP_MAX_SEEDS];
    char why[128];
    int nseeds = rl_cmap_seeds_parse(o->cluster, seeds, RL_CMAP_MAX_SEEDS, why,
                                     sizeof why);
    struct timeval tv = {0, RL_RCLUSTER_TICK_MS * 1000};

    if (nseeds < 0) {
        rl_log_errorx("redis cluster: [redis] cluster: %s", why);
        return NULL;
    }
    if (o->command_timeout_ms <= 0)
        return NULL;
    rl_rcluster_t *c = rl_calloc(1, sizeof *c);
    c->base = base;
    c->username = s_dup_set(o->username);
    c->password = s_dup_set(o->password);
    c->node_opts = *o;
    c->node_opts.username = c->username;
    c->node_opts.password = c->password;
    c->node_opts.cluster = NULL;
    memcpy(c->seeds, seeds, (size_t)nseeds * sizeof *seeds);
    c->nseeds = (size_t)nseeds;
    TAILQ_INIT(&c->nodes);
    TAILQ_INIT(&c->late);
    TAILQ_INIT(&c->parked);
    c->scratch = rl_malloc(sizeof *c->scratch);
    c->refresh_wanted = true;
    for (size_t i = 0; i < c->nseeds; i++)
        (void)s_node_get(c, &c->seeds[i]);
    c->tick = event_new(base, -1, EV_PERSIST, s_on_tick, c);
    event_add(c->tick, &tv);
    return c;
}

void
rl_rcluster_destroy(rl_rcluster_t **p)
{
    rl_rcluster_t *c;
    req_t *q;
    cnode_t *n;

    if (p == NULL || *p == NULL)
        return;
    c = *p;
    c->state_cb = NULL;
    c->drained_cb = NULL;
    c->closing = true;
    event_free(c->tick);
    while ((q = TAILQ_FIRST(&c->parked)) != NULL) {
        TAILQ_REMOVE(&c->parked, q, link);
        s_done(q, NULL);
    }
    /* Closing a node answers its requests, late ones included. */
    while ((n = TAILQ_FIRST(&c->nodes)) != NULL)
        s_node_close(c, n);
    free(c->scratch);
    free(c->username);
    if (c->password != NULL)
        explicit_bzero(c->password, strlen(c->password));
    free(c->password);
    free(c);
    *p = NULL;
}

void
rl_rcluster_on_state(rl_rcluster_t *c, rl_redis_state_cb cb, void *arg)
{
    c->state_cb = cb;
    c->state_arg = arg;
}

void
rl_rcluster_on_drained(rl_rcluster_t *c, rl_redis_drained_cb cb, void *arg)
{
    c->drained_cb = cb;
    c->drained_arg = arg;
}

size_t
rl_rcluster_pending(const rl_rcluster_t *c)
{
    return c->npending;
}

bool
rl_rcluster_connected(const rl_rcluster_t *c)
{
    return c->connected;
}

bool
rl_rcluster_answering(const rl_rcluster_t *c)
{
    return s_all_up(c, true);
}

void
rl_rcluster_stats(const rl_rcluster_t *c, rl_redis_stats_t *out)
{
    const cnode_t *n;
    rl_redis_stats_t s;

    *out = c->stats;
    TAILQ_FOREACH(n, &c->nodes, link)
    {
        rl_rnode_stats(n->rn, &s);
        out->sent += s.sent;
        out->replies += s.replies;
        out->reconnects += s.reconnects;
        out->auth_failures += s.auth_failures;
        out->wait_short += s.wait_short;
    }
}

/* A request holding a copy of cmd: one allocation. */
static req_t *
s_req_new(rl_rcluster_t *c, const rl_rnode_cmd_t *cmd)
{
    size_t bytes = 0, lens[RL_REDIS_MAX_ARGS + 3];
    req_t *q;
    char *at;
    const char **argv;
    size_t *qlens;

    assert(cmd->argc <= RL_REDIS_MAX_ARGS + 3);
    for (int i = 0; i < cmd->argc; i++) {
        lens[i] = cmd->lens != NULL ? cmd->lens[i] : strlen(cmd->argv[i]);
        bytes += lens[i] + 1;
    }
    q = rl_malloc(sizeof *q +
                  (size_t)cmd->argc * (sizeof(char *) + sizeof(size_t)) +
                  bytes);
    memset(q, 0, sizeof *q);
    argv = (const char **)(q + 1);
    qlens = (size_t *)(argv + cmd->argc);
    at = (char *)(qlens + cmd->argc);
    for (int i = 0; i < cmd->argc; i++) {
        memcpy(at, cmd->argv[i], lens[i]);
        at[lens[i]] = '\0';
        argv[i] = at;
        qlens[i] = lens[i];
        at += lens[i] + 1;
    }
    q->c = c;
    q->cmd = *cmd;
    q->cmd.argv = argv;
    q->cmd.lens = qlens;
    q->retry_ms = RL_RCLUSTER_RETRY_MS;
    return q;
}

int
rl_rcluster_send(rl_rcluster_t *c, const rl_rnode_cmd_t *cmd, int slot,
                 rl_redis_cb cb, void *arg)
{
    assert(cmd != NULL && cmd->argc > 0 && slot < RL_SLOT_COUNT);
    cnode_t *n = s_route(c, slot);
    req_t *q;

    if (c->closing || n == NULL || !rl_rnode_connected(n->rn))
        return -1;
    q = s_req_new(c, cmd);
    q->cb = cb;
    q->arg = arg;
    q->slot = slot;
    q->node = n;
    q->state = REQ_SENT;
    q->deadline = rl_clock_mono_ms() + c->node_opts.command_timeout_ms;
    if (rl_rnode_send(n->rn, &q->cmd, s_on_reply, q) != 0) {
        free(q);
        return -1;
    }
    c->npending++;
    return 0;
}
