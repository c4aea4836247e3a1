/*
 * cluster_drive - drives rl_redis (common/rl_redis.h) against a real
 * Redis or Redis Cluster for tests/integration/test_redis_cluster.py,
 * which starts the servers (rcluster.py), changes them under it
 * (reshard, SIGKILL, SIGSTOP) and checks what this prints. One JSON
 * object per line on stdout; the last is the summary.
 *
 *   reelay-cluster-drive MODE [--cluster LIST | --port P] [--keys N]
 *       [--timeout-ms N] [--wait-replicas N] [--count N] [--tag T]
 *   (the password comes from REELAY_REDIS_PASSWORD, never argv)
 *
 * Modes:
 *   route    for N keys: CLUSTER KEYSLOT (any master) equals
 *            rl_slot_key(); SET then GET the key; the embedded script
 *            job_get on two keys of one slot, answered "unauthorized"
 *            and then "ok" with the hash's fields.
 *   loop     N chains, each SET key=v(round) then GET key, again and
 *            again until stdin says "stop" (or closes); a progress line
 *            every 200 ms. Checks every reply: OK, or the value just
 *            written ("stale": an older value of the chain, which only a
 *            failover's lost writes explain), never a redirection;
 *            "waiting" counts the chains whose last command was refused.
 *   durable  --count durable SETs of --tag's key, then a durable
 *            job_get (after SCRIPT FLUSH by the test: NOSCRIPT, EVAL,
 *            WAIT), one at a time.
 *   mget     --count MGETs of "{T}a" and "{T}b" (T: --tag), one at a
 *            time, each answered ["A", "B"] (the test set them); with
 *            progress lines, as loop.
 *   sync     the blocking client of the CLI (rl_rsync.h), with the
 *            [redis] section of --config: SET then GET of N keys
 *            "sync:{i}", then DBSIZE on every master, summed.
 * Exit status: 0 once the summary is printed, 2 on bad usage, 3 when
 * the client never connected.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_config.h"
#include "rl_redis.h"
#include "rl_rsync.h"
#include "rl_slot.h"

#define D_CONNECT_MS 90000 /* the client connects within */
#define D_TICK_MS 200      /* progress and retry period */
#define D_KEY_LEN 64
#define D_VAL_LEN 64
#define D_MAX_KEYS 100000

typedef struct drive drive_t;

typedef struct {
    drive_t *d;
    int index;
    long round;   /* the value being written */
    bool busy;    /* a command is awaiting its callback */
    bool waiting; /* refused: retried on the next tick */
    char key[D_KEY_LEN];
    char val[D_VAL_LEN];
} chain_t;

struct drive {
    struct event_base *base;
    rl_redis_t *redis;
    const char *mode;
    long keys, count;
    const char *tag;
    struct event *tick, *input;
    bool started, stopping;
    int64_t connect_until;
    chain_t *chains;
    long step; /* route and durable: the next key or command */
    unsigned long long ok, null, refused, bad, stale, leaks, twice;
    unsigned long long slot_ok, script_ok;
};

static void s_next(drive_t *d);

static bool
s_redirect(const redisReply *r)
{
    static const char *const words[] = {"MOVED ", "ASK ", "TRYAGAIN",
                                        "CLUSTERDOWN"};
    if (r == NULL || r->type != REDIS_REPLY_ERROR)
        return false;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strncmp(r->str, words[i], strlen(words[i])) == 0)
            return true;
    return false;
}

/* Counts a reply that is neither NULL nor what was expected. */
static void
s_unexpected(drive_t *d, const redisReply *r, const char *what)
{
    if (s_redirect(r))
        d->leaks++;
    else
        d->bad++;
    fprintf(stderr, "drive: %s: unexpected reply type %d '%s'\n", what, r->type,
            r->str != NULL ? r->str : "");
}

static void
s_print_stats(drive_t *d, const char *kind)
{
    rl_redis_stats_t s;
    long waiting = 0;
    rl_redis_stats(d->redis, &s);
    for (long i = 0; d->chains != NULL && i < d->keys; i++)
        waiting += d->chains[i].waiting;
    printf("{\"%s\": \"%s\", \"connected\": %s, \"ok\": %llu, \"null\": "
           "%llu, \"refused\": %llu, \"bad\": %llu, \"stale\": %llu, "
           "\"leaks\": %llu, \"twice\": %llu, \"slot_ok\": %llu, "
           "\"script_ok\": %llu, \"pending\": %zu, "
           "\"moved\": %llu, \"ask\": %llu, \"retries\": %llu, "
           "\"refreshes\": %llu, \"unknown\": %llu, \"wait_short\": %llu, "
           "\"reconnects\": %llu, \"waiting\": %ld}\n",
           kind, d->mode, rl_redis_connected(d->redis) ? "true" : "false",
           d->ok, d->null, d->refused, d->bad, d->stale, d->leaks, d->twice,
           d->slot_ok, d->script_ok, rl_redis_pending(d->redis), s.moved, s.ask,
           s.retries, s.refreshes, s.unknown, s.wait_short, s.reconnects,
           waiting);
    fflush(stdout);
}

static void
s_finish(drive_t *d)
{
    d->stopping = true;
    if (rl_redis_pending(d->redis) == 0)
        event_base_loopbreak(d->base);
}

static void
s_on_drained(void *arg)
{
    drive_t *d = arg;
    if (d->stopping)
        event_base_loopbreak(d->base);
}

/* ---- loop ----------------------------------------------------------- */

static void s_chain_set(chain_t *c);

static void
s_chain_done(chain_t *c)
{
    if (!c->busy)
        c->d->twice++;
    c->busy = false;
}

/* The round of a value "<chain>:<round>", or -1. */
static long
s_round_of(const char *v)
{
    const char *colon = strchr(v, ':');
    char *end = NULL;
    long round;
    if (colon == NULL)
        return -1;
    round = strtol(colon + 1, &end, 10);
    return end != colon + 1 && *end == '\0' ? round : -1;
}

static void
s_on_get(redisReply *r, void *arg)
{
    chain_t *c = arg;
    drive_t *d = c->d;
    s_chain_done(c);
    if (r == NULL) {
        d->null++;
    } else if (r->type == REDIS_REPLY_STRING && strcmp(r->str, c->val) == 0) {
        d->ok++;
    } else if (r->type == REDIS_REPLY_NIL ||
               (r->type == REDIS_REPLY_STRING && s_round_of(r->str) >= 0 &&
                s_round_of(r->str) < c->round)) {
        d->stale++; /* an older value, or the key lost with a failover */
    } else {
        s_unexpected(d, r, "GET");
    }
    c->round++;
    s_chain_set(c);
}

static void
s_on_set(redisReply *r, void *arg)
{
    chain_t *c = arg;
    drive_t *d = c->d;
    const char *gt[] = {"GET", c->key};
    s_chain_done(c);
    if (r == NULL) {
        d->null++;
    } else if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0) {
        d->ok++;
        if (d->stopping)
            return;
        if (rl_redis_command(d->redis, s_on_get, c, 2, gt, NULL) == 0) {
            c->busy = true;
            return;
        }
        d->refused++;
        c->waiting = true; /* the next tick writes a new round */
        c->round++;
        return;
    } else {
        s_unexpected(d, r, "SET");
    }
    c->round++;
    s_chain_set(c);
}

static void
s_chain_set(chain_t *c)
{
    drive_t *d = c->d;
    const char *argv[] = {"SET", c->key, c->val};
    if (d->stopping)
        return;
    rl_fmt_fit(c->val, sizeof c->val, "%d:%ld", c->index, c->round);
    if (rl_redis_command(d->redis, s_on_set, c, 3, argv, NULL) == 0) {
        c->busy = true;
        c->waiting = false;
        return;
    }
    d->refused++;
    c->waiting = true;
}

static void
s_loop_start(drive_t *d)
{
    d->chains = rl_calloc((size_t)d->keys, sizeof *d->chains);
    for (long i = 0; i < d->keys; i++) {
        chain_t *c = &d->chains[i];
        c->d = d;
        c->index = (int)i;
        rl_fmt_fit(c->key, sizeof c->key, "drive:{%ld}", i);
        s_chain_set(c);
    }
}

/* ---- route ---------------------------------------------------------- */

static void
s_route_key(drive_t *d, long i, char *key, size_t len)
{
    /* Plain keys, hash-tagged ones and odd bytes. */
    if (i % 3 == 0)
        rl_fmt_fit(key, len, "route:%ld", i);
    else if (i % 3 == 1)
        rl_fmt_fit(key, len, "x{%s%ld}y", d->tag, i / 7);
    else
        rl_fmt_fit(key, len, "{}%ld{a\x01}", i);
}

static void
s_on_route_get(redisReply *r, void *arg)
{
    drive_t *d = arg;
    char key[D_KEY_LEN];
    s_route_key(d, d->step, key, sizeof key);
    if (r == NULL)
        d->null++;
    else if (r->type == REDIS_REPLY_STRING && strcmp(r->str, key) == 0)
        d->ok++;
    else
        s_unexpected(d, r, "route GET");
    d->step++;
    s_next(d);
}

static void
s_on_route_set(redisReply *r, void *arg)
{
    drive_t *d = arg;
    char key[D_KEY_LEN];
    s_route_key(d, d->step, key, sizeof key);
    const char *argv[] = {"GET", key};
    if (r == NULL || r->type != REDIS_REPLY_STATUS) {
        if (r == NULL)
            d->null++;
        else
            s_unexpected(d, r, "route SET");
        d->step++;
        s_next(d);
        return;
    }
    if (rl_redis_command(d->redis, s_on_route_get, d, 2, argv, NULL) != 0) {
        d->refused++;
        d->step++;
        s_next(d);
    }
}

static void
s_on_keyslot(redisReply *r, void *arg)
{
    drive_t *d = arg;
    char key[D_KEY_LEN];
    s_route_key(d, d->step, key, sizeof key);
    const char *argv[] = {"SET", key, key};
    if (r != NULL && r->type == REDIS_REPLY_INTEGER &&
        r->integer == rl_slot_key(key, strlen(key)))
        d->slot_ok++;
    else if (r != NULL)
        s_unexpected(d, r, "CLUSTER KEYSLOT");
    if (rl_redis_command(d->redis, s_on_route_set, d, 3, argv, NULL) != 0) {
        d->refused++;
        d->step++;
        s_next(d);
    }
}

/* job_get (KEYS: a key record, a job hash; ARGV: the account) answers
 * "unauthorized" until the record names the account, then "ok" and the
 * job's fields. route knows which; durable takes either. */
static bool
s_script_right(const drive_t *d, const redisReply *r)
{
    const char *tag = rl_redis_reply_tag(r);
    bool route = strcmp(d->mode, "route") == 0;
    bool ok = tag != NULL && strcmp(tag, "ok") == 0 && r->elements == 3 &&
              rl_redis_reply_str(r->element[2]) != NULL &&
              strcmp(rl_redis_reply_str(r->element[2]), "v") == 0;
    bool unauthorized = tag != NULL && strcmp(tag, "unauthorized") == 0;
    if (!route)
        return ok || unauthorized;
    return d->step == d->keys + 3 ? ok : unauthorized;
}

static void
s_on_script(redisReply *r, void *arg)
{
    drive_t *d = arg;
    if (s_script_right(d, r))
        d->script_ok++;
    else if (r == NULL)
        d->null++;
    else
        s_unexpected(d, r, "job_get");
    d->step++;
    s_next(d);
}

static int
s_job_get(drive_t *d, bool durable)
{
    char k1[D_KEY_LEN], k2[D_KEY_LEN];
    rl_fmt_fit(k1, sizeof k1, "drive:key:{%s}", d->tag);
    rl_fmt_fit(k2, sizeof k2, "drive:job:{%s}", d->tag);
    const char *argv[] = {k1, k2, "acct-drive"};
    return durable ? rl_redis_script_durable(d->redis, "job_get", s_on_script,
                                             d, 2, 3, argv, NULL)
                   : rl_redis_script(d->redis, "job_get", s_on_script, d, 2, 3,
                                     argv, NULL);
}

/* The record and the job job_get then finds: HSET both. */
static void
s_on_hset(redisReply *r, void *arg)
{
    drive_t *d = arg;
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        s_unexpected(d, r, "HSET");
    d->step++;
    s_next(d);
}

static void
s_hset(drive_t *d, const char *what, const char *field, const char *value)
{
    char key[D_KEY_LEN];
    rl_fmt_fit(key, sizeof key, "drive:%s:{%s}", what, d->tag);
    const char *argv[] = {"HSET", key, field, value};
    if (rl_redis_command(d->redis, s_on_hset, d, 4, argv, NULL) != 0) {
        d->refused++;
        d->step++;
        s_next(d);
    }
}

static void
s_route_step(drive_t *d)
{
    char key[D_KEY_LEN];
    long extra = d->step - d->keys;
    int rc = 0;
    if (extra < 0) {
        s_route_key(d, d->step, key, sizeof key);
        const char *argv[] = {"CLUSTER", "KEYSLOT", key};
        rc = rl_redis_command(d->redis, s_on_keyslot, d, 3, argv, NULL);
    } else if (extra == 0 || extra == 3) {
        rc = s_job_get(d, false);
    } else if (extra == 1) {
        s_hset(d, "key", "acct", "acct-drive");
    } else if (extra == 2) {
        s_hset(d, "job", "f", "v");
    } else {
        s_finish(d);
    }
    if (rc != 0) {
        d->refused++;
        d->step++;
        s_next(d);
    }
}

/* ---- durable -------------------------------------------------------- */

static void
s_on_durable(redisReply *r, void *arg)
{
    drive_t *d = arg;
    if (r == NULL)
        d->null++;
    else if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
        d->ok++;
    else
        s_unexpected(d, r, "durable SET");
    d->step++;
    s_next(d);
}

static void
s_durable_step(drive_t *d)
{
    char key[D_KEY_LEN], val[RL_FMT_DEC_LEN];
    rl_fmt_fit(key, sizeof key, "drive:durable:{%s}", d->tag);
    const char *argv[] = {"SET", key, rl_fmt_dec(val, d->step)};
    int rc = 0;
    if (d->step < d->count)
        rc = rl_redis_command_durable(d->redis, s_on_durable, d, 3, argv, NULL);
    else if (d->step == d->count)
        rc = s_job_get(d, true);
    else
        s_finish(d);
    if (rc != 0) {
        d->refused++;
        d->step++;
        s_next(d);
    }
}

/* ---- mget ----------------------------------------------------------- */

static void
s_on_mget(redisReply *r, void *arg)
{
    drive_t *d = arg;
    if (r == NULL)
        d->null++;
    else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             rl_redis_reply_str(r->element[0]) != NULL &&
             rl_redis_reply_str(r->element[1]) != NULL &&
             strcmp(r->element[0]->str, "A") == 0 &&
             strcmp(r->element[1]->str, "B") == 0)
        d->ok++;
    else
        s_unexpected(d, r, "MGET");
    d->step++;
    s_next(d);
}

static void
s_mget_step(drive_t *d)
{
    char a[D_KEY_LEN], b[D_KEY_LEN];
    rl_fmt_fit(a, sizeof a, "{%s}a", d->tag);
    rl_fmt_fit(b, sizeof b, "{%s}b", d->tag);
    const char *argv[] = {"MGET", a, b};
    if (d->step >= d->count) {
        s_finish(d);
    } else if (rl_redis_command(d->redis, s_on_mget, d, 3, argv, NULL) != 0) {
        d->refused++;
        d->step++;
        s_next(d);
    }
}

/* ---- the loop's frame ------------------------------------------------ */

static void
s_next(drive_t *d)
{
    if (d->stopping)
        return;
    if (strcmp(d->mode, "route") == 0)
        s_route_step(d);
    else if (strcmp(d->mode, "durable") == 0)
        s_durable_step(d);
    else if (strcmp(d->mode, "mget") == 0)
        s_mget_step(d);
}

static void
s_start(drive_t *d)
{
    d->started = true;
    if (strcmp(d->mode, "loop") == 0) {
        s_loop_start(d);
        return;
    }
    s_next(d);
}

static void
s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    drive_t *d = arg;
    (void)fd;
    (void)what;
    if (!d->started) {
        if (rl_redis_connected(d->redis)) {
            s_start(d);
        } else if (rl_clock_mono_ms() > d->connect_until) {
            fprintf(stderr, "drive: never connected\n");
            exit(3);
        }
        return;
    }
    for (long i = 0; d->chains != NULL && i < d->keys; i++)
        if (d->chains[i].waiting && !d->stopping)
            s_chain_set(&d->chains[i]);
    if (strcmp(d->mode, "loop") == 0 || strcmp(d->mode, "mget") == 0)
        s_print_stats(d, "progress");
}

static void
s_on_input(evutil_socket_t fd, short what, void *arg)
{
    drive_t *d = arg;
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    (void)what;
    if (n < 0 && errno == EINTR)
        return;
    if (n > 0) {
        buf[n] = '\0';
        if (strstr(buf, "stop") == NULL)
            return;
    }
    event_del(d->input);
    s_finish(d);
}

/* ---- sync ---------------------------------------------------------- */

static int
s_on_dbsize(const char *addr, const redisReply *r, void *arg)
{
    long long *total = arg;
    (void)addr;
    if (r->type != REDIS_REPLY_INTEGER)
        return -1;
    *total += r->integer;
    return 0;
}

/* The blocking client: returns the exit status. */
static int
s_sync(const char *config, long keys)
{
    char err[512], key[D_KEY_LEN], why[256];
    unsigned long ok = 0, bad = 0, moved = 0, ask = 0;
    long long total = 0;
    rl_config_t *cfg = rl_config_load(config, err, sizeof err);
    rl_rsync_t *s;
    int each;

    if (cfg == NULL) {
        fprintf(stderr, "drive: %s\n", err);
        return 2;
    }
    s = rl_rsync_connect(cfg, cfg->redis_password, D_CONNECT_MS, why,
                         sizeof why);
    rl_config_destroy(&cfg);
    if (s == NULL) {
        fprintf(stderr, "drive: %s\n", why);
        return 3;
    }
    for (long i = 0; i < keys; i++) {
        rl_fmt_fit(key, sizeof key, "sync:{%ld}", i);
        const char *set[] = {"SET", key, key};
        const char *get[] = {"GET", key};
        redisReply *r = rl_rsync_command(s, 3, set, NULL);
        bool right = r != NULL && r->type == REDIS_REPLY_STATUS;
        if (r != NULL)
            freeReplyObject(r);
        r = right ? rl_rsync_command(s, 2, get, NULL) : NULL;
        right = r != NULL && r->type == REDIS_REPLY_STRING &&
                strcmp(r->str, key) == 0;
        if (r != NULL)
            freeReplyObject(r);
        if (right)
            ok++;
        else
            bad++;
        if (!right)
            fprintf(stderr, "drive: %s: %s\n", key, rl_rsync_error(s));
    }
    const char *dbsize[] = {"DBSIZE"};
    each = rl_rsync_each_master(s, 1, dbsize, NULL, s_on_dbsize, &total);
    rl_rsync_redirects(s, &moved, &ask);
    printf("{\"summary\": \"sync\", \"ok\": %lu, \"bad\": %lu, "
           "\"dbsize\": %lld, \"each\": %d, \"moved\": %lu, \"ask\": "
           "%lu}\n",
           ok, bad, total, each, moved, ask);
    rl_rsync_destroy(&s);
    return 0;
}

static int
s_usage(void)
{
    fprintf(stderr, "usage: reelay-cluster-drive route|loop|durable|mget|sync "
                    "[--cluster LIST | --port P | --config INI] [--keys N] "
                    "[--count N] "
                    "[--timeout-ms N] [--wait-replicas N] [--tag T]\n");
    return 2;
}

static long
s_num(const char *s, long max)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return *s != '\0' && *end == '\0' && v >= 0 && v <= max ? v : -1;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"cluster", required_argument, NULL, 'c'},
        {"port", required_argument, NULL, 'p'},
        {"keys", required_argument, NULL, 'k'},
        {"count", required_argument, NULL, 'n'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"wait-replicas", required_argument, NULL, 'w'},
        {"tag", required_argument, NULL, 'g'},
        {"config", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    drive_t d = {.keys = 100, .count = 3, .tag = "t"};
    const char *config = NULL;
    rl_redis_opts_t o = {.host = "127.0.0.1",
                         .command_timeout_ms = 5000,
                         .reconnect_max_ms = 500,
                         .password = getenv("REELAY_REDIS_PASSWORD")};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long v = c == 'c' || c == 'g' || c == 'f'
                     ? 0
                     : s_num(optarg, D_MAX_KEYS * 10);
        if (v < 0)
            return s_usage();
        if (c == 'c')
            o.cluster = optarg;
        else if (c == 'p')
            o.port = (int)v;
        else if (c == 'k')
            d.keys = v > 0 && v <= D_MAX_KEYS ? v : 1;
        else if (c == 'n')
            d.count = v;
        else if (c == 't')
            o.command_timeout_ms = v;
        else if (c == 'w')
            o.wait_replicas = (int)v;
        else if (c == 'g')
            d.tag = optarg;
        else if (c == 'f')
            config = optarg;
        else
            return s_usage();
    }
    if (optind != argc - 1)
        return s_usage();
    d.mode = argv[optind];
    rl_log_init("drive", RL_LOG_INFO);
    if (strcmp(d.mode, "sync") == 0)
        return config != NULL ? s_sync(config, d.keys) : s_usage();
    if (o.cluster == NULL && o.port == 0)
        return s_usage();
    d.base = event_base_new();
    d.redis = rl_redis_new(d.base, &o);
    if (d.redis == NULL)
        return s_usage();
    rl_redis_on_drained(d.redis, s_on_drained, &d);
    d.connect_until = rl_clock_mono_ms() + D_CONNECT_MS;
    struct timeval tv = {0, D_TICK_MS * 1000};
    d.tick = event_new(d.base, -1, EV_PERSIST, s_on_tick, &d);
    event_add(d.tick, &tv);
    d.input = event_new(d.base, 0, EV_READ | EV_PERSIST, s_on_input, &d);
    if (strcmp(d.mode, "loop") == 0)
        event_add(d.input, NULL);
    event_base_dispatch(d.base);
    s_print_stats(&d, "summary");
    event_free(d.input);
    event_free(d.tick);
    rl_redis_destroy(&d.redis);
    free(d.chains);
    event_base_free(d.base);
    return 0;
}
