/*
 * rl_redis - hiredis async with deadlines, reconnection and scripts.
 *
 * Connection states:
 *
 *     DOWN --connect()--> CONNECTING --connect ok--> AUTH --AUTH ok--> UP
 *      ^                      |          (no password: straight to UP) |
 *      |                      |                       |                |
 *      +---- backoff timer ---+-- fail/timeout -------+-- refused -----+--
 *                                                   drop/stall/NOAUTH
 *
 *   DOWN        r->ac == NULL; the backoff timer is armed.
 *   CONNECTING  r->ac != NULL, !r->up, !r->authing; the connect deadline
 *               is armed.
 *   AUTH        r->ac != NULL, !r->up, r->authing: AUTH is the one
 *               command sent; the connect deadline still runs.
 *   UP          r->ac != NULL, r->up; commands are accepted.
 *
 * | transition                  | function        |
 * | DOWN -> CONNECTING          | s_connect       |
 * | CONNECTING -> AUTH          | s_on_connect    |
 * | CONNECTING or AUTH -> UP    | s_ready         |
 * | AUTH or UP -> DOWN, refused | s_auth_failed   |
 * | any -> DOWN                 | s_drop, s_close |
 * SPDX-License-Identifier: MIT
 */
#include "rl_redis.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <openssl/sha.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_lua.h"

#define RL_REDIS_BACKOFF_MIN_MS 100
#define RL_REDIS_TICK_MS 50
#define RL_REDIS_STALL_DIV 2 /* waited 1/2 of its deadline: not answering */

typedef struct pending {
    TAILQ_ENTRY(pending) link;
    rl_redis_t *owner;
    rl_redis_cb cb;
    void *arg;
    int64_t deadline;              /* monotonic ms */
    const rl_lua_source_t *script; /* set for EVALSHA, to retry as EVAL */
    int argc;    /* the original script arguments, for EVAL: */
    char **argv; /* copies in the same allocation as the struct */
    size_t *lens;
} pending_t;

TAILQ_HEAD(pending_list, pending);

struct rl_redis {
    struct event_base *base;
    char *host;
    int port;
    long timeout_ms;
    long backoff_max_ms;
    long backoff_ms;
    char *username;            /* ACL user, NULL: the default user */
    char *password;            /* NULL: no AUTH */
    redisAsyncContext *ac;     /* NULL while DOWN */
    bool up;                   /* connected and usable */
    bool authing;              /* AUTH sent, its reply awaited */
    bool auth_failing;         /* the last AUTH failed: log repeats quietly */
    bool answered;             /* a reply came since the connect */
    struct event *retry_timer; /* backoff before reconnecting */
    struct event *tick;        /* deadline checks */
    int64_t connect_deadline;  /* monotonic ms while CONNECTING */
    struct pending_list pending;
    size_t npending; /* entries of pending */
    rl_redis_state_cb state_cb;
    void *state_arg;
    rl_redis_drained_cb drained_cb; /* run when npending drops to 0 */
    void *drained_arg;
    char (*shas)[41]; /* sha1 hex of each embedded script */
    size_t nscripts;
    rl_redis_stats_t stats;
};

static void s_connect(rl_redis_t *r);
static void s_drop(rl_redis_t *r, const char *why);
static void s_close(rl_redis_t *r);

static void
s_set_up(rl_redis_t *r, bool up)
{
    if (r->up == up)
        return;
    r->up = up;
    if (r->state_cb != NULL)
        r->state_cb(up, r->state_arg);
}

static void
s_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_connect(arg);
}

static void
s_schedule_retry(rl_redis_t *r)
{
    struct timeval tv = {r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000};
    evtimer_add(r->retry_timer, &tv);
    r->backoff_ms *= 2;
    if (r->backoff_ms > r->backoff_max_ms)
        r->backoff_ms = r->backoff_max_ms;
}

/* AUTH was refused, or the server wants a password we lack: an error
 * once per streak, counted, and retried after the backoff like any
 * failed connect (not reset: a wrong password backs off to the cap). */
static void
s_auth_failed(rl_redis_t *r, const char *why)
{
    r->stats.auth_failures++;
    if (!r->auth_failing)
        rl_log_errorx("redis %s:%d: authentication as %s%s%s failed (%s): "
                      "not ready; retrying, backoff up to %ld ms",
                      r->host, r->port, r->username ? "user '" : "",
                      r->username ? r->username : "the default user",
                      r->username ? "'" : "", why, r->backoff_max_ms);
    else
        rl_log_debug("redis %s:%d: authentication failed again: %s", r->host,
                     r->port, why);
    r->auth_failing = true;
    s_close(r);
}

/* The first reply of a usable connection: NOAUTH means the server wants
 * a password we were not given. */
static void
s_on_probe(redisReply *reply, void *arg)
{
    rl_redis_t *r = arg;
    if (reply == NULL)
        return; /* outcome unknown: dropped or destroyed */
    if (reply->type == REDIS_REPLY_ERROR &&
        strncmp(reply->str, "NOAUTH", 6) == 0) {
        s_auth_failed(r, r->password != NULL
                             ? reply->str
                             : "the server requires a password ([redis] "
                               "password or password_file)");
        return;
    }
    if (r->auth_failing)
        rl_log_info("redis %s:%d: authenticated, answering again", r->host,
                    r->port);
    r->auth_failing = false;
}

/* A first command on a new connection, so rl_redis_answering() turns
 * true once the server answers even when the role has nothing to send. */
static void
s_probe(rl_redis_t *r)
{
    const char *argv[] = {"PING"};
    (void)rl_redis_command(r, s_on_probe, r, 1, argv, NULL);
}

/* CONNECTING or AUTH -> UP. */
static void
s_ready(rl_redis_t *r)
{
    assert(r->ac != NULL && !r->up);
    r->authing = false;
    r->backoff_ms = RL_REDIS_BACKOFF_MIN_MS;
    r->answered = false;
    s_set_up(r, true);
    s_probe(r);
}

static void
s_on_auth(redisAsyncContext *ac, void *reply_, void *privdata)
{
    rl_redis_t *r = privdata;
    redisReply *reply = reply_;
    /* NULL: the context went away (dropped on purpose, or lost: then the
     * disconnect callback retries). */
    if (ac->data != r || r->ac != ac || reply == NULL)
        return;
    assert(r->authing);
    if (reply->type == REDIS_REPLY_ERROR) {
        s_auth_failed(r, reply->str);
        return;
    }
    s_ready(r);
}

/* CONNECTING -> AUTH: AUTH [username] password, the first command. */
static void
s_auth(rl_redis_t *r)
{
    const char *argv[3] = {"AUTH"};
    int argc = 1;
    if (r->username != NULL)
        argv[argc++] = r->username;
    argv[argc++] = r->password;
    r->authing = true;
    /* Only a context being freed refuses a command; the connect deadline
     * then drops it (freeing it inside the connect callback would not be
     * safe). */
    if (redisAsyncCommandArgv(r->ac, s_on_auth, r, argc, argv, NULL) !=
        REDIS_OK)
        rl_log_warnx("redis %s:%d: cannot send AUTH", r->host, r->port);
}

static void
s_on_connect(const redisAsyncContext *ac, int status)
{
    rl_redis_t *r = ac->data;
    if (r == NULL || r->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback returns. */
        rl_log_debug("redis %s:%d: connect failed: %s", r->host, r->port,
                     ac->errstr);
        r->ac = NULL;
        s_schedule_retry(r);
        return;
    }
    /* While AUTH keeps failing its error said it all. */
    RL_LOG_AT(r->auth_failing ? RL_LOG_DEBUG : RL_LOG_INFO, false,
              "redis %s:%d: connected", r->host, r->port);
    if (r->password != NULL)
        s_auth(r);
    else
        s_ready(r);
}

static void
s_on_disconnect(const redisAsyncContext *ac, int status)
{
    rl_redis_t *r = ac->data;
    (void)status;
    if (r == NULL || r->ac != ac)
        return; /* a context we dropped on purpose */
    rl_log_warnx("redis %s:%d: disconnected: %s", r->host, r->port,
                 ac->errstr[0] ? ac->errstr : "closed");
    r->ac = NULL;
    r->authing = false;
    r->stats.reconnects++;
    s_set_up(r, false);
    s_schedule_retry(r);
}

static void
s_connect(rl_redis_t *r)
{
    redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
    if (ac == NULL || ac->err) {
        rl_log_debug("redis %s:%d: %s", r->host, r->port,
                     ac ? ac->errstr : "cannot allocate");
        if (ac != NULL)
            redisAsyncFree(ac);
        s_schedule_retry(r);
        return;
    }
    ac->data = r;
    r->ac = ac;
    r->connect_deadline = rl_clock_mono_ms() + r->timeout_ms;
    redisLibeventAttach(ac, r->base);
    redisAsyncSetConnectCallback(ac, s_on_connect);
    redisAsyncSetDisconnectCallback(ac, s_on_disconnect);
}

/* Closes the current context on purpose: every pending command is
 * answered NULL by hiredis (through s_on_reply), then we reconnect after
 * the backoff. Safe inside a reply callback (hiredis frees the context
 * when the callback returns). */
static void
s_close(rl_redis_t *r)
{
    redisAsyncContext *ac = r->ac;
    assert(ac != NULL);
    r->ac = NULL;
    r->authing = false;
    s_set_up(r, false);
    ac->data = NULL;
    redisAsyncFree(ac);
    s_schedule_retry(r);
}

/* Drops a stalled or timed-out connection, saying why. */
static void
s_drop(rl_redis_t *r, const char *why)
{
    if (r->ac == NULL)
        return;
    rl_log_warnx("redis %s:%d: %s; reconnecting", r->host, r->port, why);
    r->stats.reconnects++;
    s_close(r);
}

static void
s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    rl_redis_t *r = arg;
    (void)fd;
    (void)what;
    int64_t now = rl_clock_mono_ms();
    if (r->ac != NULL && !r->up && now > r->connect_deadline) {
        s_drop(r, r->authing ? "AUTH timed out" : "connect timed out");
        return;
    }
    pending_t *head = TAILQ_FIRST(&r->pending);
    if (head != NULL && now > head->deadline)
        s_drop(r, "command deadline passed");
}

static int s_send(rl_redis_t *r, pending_t *p, int argc, const char **argv,
                  const size_t *lens);

static bool
s_is_noscript(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, "NOSCRIPT", 8) == 0;
}

/* Re-sends a script as EVAL after NOSCRIPT. Returns 0 when resent. */
static int
s_resend_eval(rl_redis_t *r, pending_t *p)
{
    const char *argv[RL_REDIS_MAX_ARGS + 3];
    size_t lens[RL_REDIS_MAX_ARGS + 3];
    argv[0] = "EVAL";
    lens[0] = 4;
    argv[1] = p->script->source;
    lens[1] = strlen(p->script->source);
    for (int i = 0; i < p->argc; i++) {
        argv[2 + i] = p->argv[i];
        lens[2 + i] = p->lens[i];
    }
    p->script = NULL; /* EVAL once; a second NOSCRIPT cannot happen */
    return s_send(r, p, p->argc + 2, argv, lens);
}

/* LOADING: a restarted server still reading its dataset refuses the
 * command without running it. */
static bool
s_is_loading(const redisReply *reply)
{
    return reply != NULL && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, "LOADING", 7) == 0;
}

static void
s_on_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
    pending_t *p = privdata;
    rl_redis_t *r = p->owner;
    redisReply *reply = reply_;
    TAILQ_REMOVE(&r->pending, p, link);
    r->npending--;
    if (reply != NULL) {
        r->stats.replies++;
        r->answered = true;
    }
    if (s_is_noscript(reply) && p->script != NULL && r->up) {
        if (s_resend_eval(r, p) == 0)
            return;
    }
    /* Not an answer but a server not ready yet: the caller hears
     * "outcome unknown" (and sends again, as after any drop), and the
     * connection is dropped, so that nothing is sent before the server
     * answers again after the backoff. */
    if (s_is_loading(reply)) {
        reply = NULL;
        if (r->ac == ac)
            s_drop(r, "the server is loading its dataset");
    }
    if (reply == NULL)
        r->stats.unknown++;
    if (p->cb != NULL)
        p->cb(reply, p->arg);
    free(p); /* one allocation, copies included */
    if (r->npending == 0 && r->drained_cb != NULL)
        r->drained_cb(r->drained_arg);
}

static int
s_send(rl_redis_t *r, pending_t *p, int argc, const char **argv,
       const size_t *lens)
{
    if (r->ac == NULL || !r->up)
        return -1;
    if (redisAsyncCommandArgv(r->ac, s_on_reply, p, argc, argv, lens) !=
        REDIS_OK)
        return -1;
    p->deadline = rl_clock_mono_ms() + r->timeout_ms;
    TAILQ_INSERT_TAIL(&r->pending, p, link);
    r->npending++;
    r->stats.sent++;
    return 0;
}

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

/* A copy of s, or NULL for NULL or "". */
static char *
s_dup_set(const char *s)
{
    return s != NULL && s[0] != '\0' ? rl_strdup(s) : NULL;
}

rl_redis_t *
rl_redis_new(struct event_base *base, const rl_redis_opts_t *o)
{
    assert(base != NULL);
    assert(o != NULL && o->host != NULL);
    if (o->port <= 0 || o->port > 65535 || o->command_timeout_ms <= 0)
        return NULL;
    rl_redis_t *r = rl_calloc(1, sizeof *r);
    r->base = base;
    r->host = rl_strdup(o->host);
    r->port = o->port;
    r->username = s_dup_set(o->username);
    r->password = s_dup_set(o->password);
    r->timeout_ms = o->command_timeout_ms;
    r->backoff_max_ms = o->reconnect_max_ms > RL_REDIS_BACKOFF_MIN_MS
                            ? o->reconnect_max_ms
                            : RL_REDIS_BACKOFF_MIN_MS;
    r->backoff_ms = RL_REDIS_BACKOFF_MIN_MS;
    TAILQ_INIT(&r->pending);
    s_load_shas(r);
    r->retry_timer = evtimer_new(base, s_on_retry, r);
    r->tick = event_new(base, -1, EV_PERSIST, s_on_tick, r);
    struct timeval tv = {0, RL_REDIS_TICK_MS * 1000};
    event_add(r->tick, &tv);
    s_connect(r);
    return r;
}

void
rl_redis_destroy(rl_redis_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_redis_t *r = *p;
    r->state_cb = NULL;
    r->drained_cb = NULL;
    event_free(r->tick);
    event_free(r->retry_timer);
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    r->up = false;
    if (ac != NULL) {
        ac->data = NULL;
        redisAsyncFree(ac); /* answers every pending command with NULL */
    }
    free(r->shas);
    free(r->host);
    free(r->username);
    if (r->password != NULL)
        explicit_bzero(r->password, strlen(r->password));
    free(r->password);
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
    };
    return rl_redis_new(base, &o);
}

void
rl_redis_on_state(rl_redis_t *r, rl_redis_state_cb cb, void *arg)
{
    r->state_cb = cb;
    r->state_arg = arg;
}

void
rl_redis_on_drained(rl_redis_t *r, rl_redis_drained_cb cb, void *arg)
{
    r->drained_cb = cb;
    r->drained_arg = arg;
}

size_t
rl_redis_pending(const rl_redis_t *r)
{
    return r->npending;
}

bool
rl_redis_connected(const rl_redis_t *r)
{
    return r->up;
}

bool
rl_redis_answering(const rl_redis_t *r)
{
    const pending_t *head = TAILQ_FIRST(&r->pending);
    int64_t sent;

    if (!r->up || !r->answered)
        return false;
    if (head == NULL)
        return true;
    sent = head->deadline - r->timeout_ms;
    return rl_clock_mono_ms() - sent <= r->timeout_ms / RL_REDIS_STALL_DIV;
}

int
rl_redis_command(rl_redis_t *r, rl_redis_cb cb, void *arg, int argc,
                 const char **argv, const size_t *lens)
{
    assert(argc > 0);
    if (!r->up)
        return -1;
    pending_t *p = rl_calloc(1, sizeof *p);
    p->owner = r;
    p->cb = cb;
    p->arg = arg;
    if (s_send(r, p, argc, argv, lens) != 0) {
        free(p);
        return -1;
    }
    return 0;
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

/* A pending script with a copy of its arguments, so NOSCRIPT can be
 * retried as EVAL after the caller's have gone: one allocation holding
 * the struct, argv[argc], lens[argc] and the NUL-terminated bytes. */
static pending_t *
s_pending_script(int argc, const char **argv, const size_t *lens)
{
    static_assert(sizeof(pending_t) % _Alignof(char *) == 0 &&
                      sizeof(char *) % _Alignof(size_t) == 0,
                  "argv and lens follow the struct aligned");
    size_t bytes = 0;
    for (int i = 0; i < argc; i++)
        bytes += lens[i] + 1;
    pending_t *p = rl_malloc(
        sizeof *p + (size_t)argc * (sizeof(char *) + sizeof(size_t)) + bytes);
    memset(p, 0, sizeof *p);
    p->argc = argc;
    p->argv = (char **)(p + 1);
    p->lens = (size_t *)(p->argv + argc);
    char *at = (char *)(p->lens + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(at, argv[i], lens[i]);
        at[lens[i]] = '\0';
        p->argv[i] = at;
        p->lens[i] = lens[i];
        at += lens[i] + 1;
    }
    return p;
}

int
rl_redis_script(rl_redis_t *r, const char *name, rl_redis_cb cb, void *arg,
                int nkeys, int argc, const char **argv, const size_t *lens)
{
    size_t index = 0;
    const rl_lua_source_t *script = s_script(r, name, &index);
    assert(script != NULL);
    assert(nkeys >= 0 && nkeys <= argc && argc <= RL_REDIS_MAX_ARGS - 1);
    if (!r->up)
        return -1;
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
    /* EVAL takes numkeys then the same arguments as EVALSHA. */
    pending_t *p = s_pending_script(argc + 1, av + 2, al + 2);
    p->owner = r;
    p->cb = cb;
    p->arg = arg;
    p->script = script;
    if (s_send(r, p, argc + 3, av, al) != 0) {
        free(p);
        return -1;
    }
    return 0;
}

void
rl_redis_stats(const rl_redis_t *r, rl_redis_stats_t *out)
{
    *out = r->stats;
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
