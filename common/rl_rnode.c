/*
 * rl_rnode - one hiredis async connection with deadlines, reconnection,
 * AUTH, scripts and WAIT.
 *
 * Connection states:
 *
 *     DOWN --connect()--> CONNECTING --connect ok--> AUTH --AUTH ok--> UP
 *      ^                      |          (no password: straight to UP) |
 *      |                      |                       |                |
 *      +---- backoff timer ---+-- fail/timeout -------+-- refused -----+--
 *                                                   drop/stall/NOAUTH
 *
 *   DOWN        n->ac == NULL; the backoff timer is armed.
 *   CONNECTING  n->ac != NULL, !n->up, !n->authing; the connect deadline
 *               is armed.
 *   AUTH        n->ac != NULL, !n->up, n->authing: AUTH is the one
 *               command sent; the connect deadline still runs.
 *   UP          n->ac != NULL, n->up; commands are accepted.
 *
 * | transition                  | function        |
 * | DOWN -> CONNECTING          | s_connect       |
 * | CONNECTING -> AUTH          | s_on_connect    |
 * | CONNECTING or AUTH -> UP    | s_ready         |
 * | AUTH or UP -> DOWN, refused | s_auth_failed   |
 * | any -> DOWN                 | s_drop, s_close |
 *
 * A pending_t is a command whose callback has not run: queued (its
 * hiredis reply awaited, in n->pending in the order sent) or, for a
 * command with wait_replicas, holding its reply until its WAIT (a
 * pending_t of its own, queued after it) answers. n->npending counts
 * them all.
 * SPDX-License-Identifier: MIT
 */
#include "rl_rnode.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_log.h"

#define RL_RNODE_BACKOFF_MIN_MS 100
#define RL_RNODE_TICK_MS 50
#define RL_RNODE_STALL_DIV 2  /* waited 1/2 of its deadline: not answering */
#define RL_RNODE_WAIT_DIV 2   /* WAIT's timeout: 1/2 of the deadline */
#define RL_RNODE_LOG_MS 10000 /* a WAIT shortfall is logged this often */
#define RL_RNODE_MAX_DEPTH 64 /* nesting of a reply kept for WAIT */

typedef struct pending {
    TAILQ_ENTRY(pending) link;
    rl_rnode_t *owner;
    rl_redis_cb cb;
    void *arg;
    int64_t deadline;              /* monotonic ms */
    const rl_lua_source_t *script; /* set for EVALSHA, to retry as EVAL */
    int argc;    /* the original script arguments, for EVAL: */
    char **argv; /* copies in the same allocation as the struct */
    size_t *lens;
    int wait_replicas;    /* > 0: confirmed by WAIT before the callback */
    bool asking;          /* ASKING goes before each send */
    struct pending *wait; /* a command: its WAIT, queued after it */
    struct pending *cmd;  /* a WAIT: its command; NULL once orphaned */
    redisReply *held;     /* a command's reply (a copy) awaiting WAIT */
} pending_t;

TAILQ_HEAD(pending_list, pending);

struct rl_rnode {
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
    size_t npending; /* pending_t alive: queued or holding a reply */
    rl_redis_state_cb state_cb;
    void *state_arg;
    rl_redis_drained_cb drained_cb; /* run when npending drops to 0 */
    void *drained_arg;
    rl_log_limit_t wait_log; /* WAIT shortfalls are logged sparingly */
    rl_redis_stats_t stats;
};

static void s_connect(rl_rnode_t *n);
static void s_drop(rl_rnode_t *n, const char *why);
static void s_close(rl_rnode_t *n);
static int s_send(rl_rnode_t *n, pending_t *p, int argc,
                  const char *const *argv, const size_t *lens);

static void
s_set_up(rl_rnode_t *n, bool up)
{
    if (n->up == up)
        return;
    n->up = up;
    if (n->state_cb != NULL)
        n->state_cb(up, n->state_arg);
}

static void
s_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_connect(arg);
}

static void
s_schedule_retry(rl_rnode_t *n)
{
    struct timeval tv = {n->backoff_ms / 1000, (n->backoff_ms % 1000) * 1000};
    evtimer_add(n->retry_timer, &tv);
    n->backoff_ms *= 2;
    if (n->backoff_ms > n->backoff_max_ms)
        n->backoff_ms = n->backoff_max_ms;
}

/* AUTH was refused, or the server wants a password we lack: an error
 * once per streak, counted, and retried after the backoff like any
 * failed connect (not reset: a wrong password backs off to the cap). */
static void
s_auth_failed(rl_rnode_t *n, const char *why)
{
    n->stats.auth_failures++;
    if (!n->auth_failing)
        rl_log_errorx("redis %s:%d: authentication as %s%s%s failed (%s): "
                      "not ready; retrying, backoff up to %ld ms",
                      n->host, n->port, n->username ? "user '" : "",
                      n->username ? n->username : "the default user",
                      n->username ? "'" : "", why, n->backoff_max_ms);
    else
        rl_log_debug("redis %s:%d: authentication failed again: %s", n->host,
                     n->port, why);
    n->auth_failing = true;
    s_close(n);
}

/* The first reply of a usable connection: NOAUTH means the server wants
 * a password we were not given. */
static void
s_on_probe(redisReply *reply, void *arg)
{
    rl_rnode_t *n = arg;
    if (reply == NULL)
        return; /* outcome unknown: dropped or destroyed */
    if (reply->type == REDIS_REPLY_ERROR &&
        strncmp(reply->str, "NOAUTH", 6) == 0) {
        s_auth_failed(n, n->password != NULL
                             ? reply->str
                             : "the server requires a password ([redis] "
                               "password or password_file)");
        return;
    }
    if (n->auth_failing)
        rl_log_info("redis %s:%d: authenticated, answering again", n->host,
                    n->port);
    n->auth_failing = false;
}

/* A first command on a new connection, so rl_rnode_answering() turns
 * true once the server answers even when the role has nothing to send. */
static void
s_probe(rl_rnode_t *n)
{
    const char *argv[] = {"PING"};
    const rl_rnode_cmd_t cmd = {.argc = 1, .argv = argv};
    (void)rl_rnode_send(n, &cmd, s_on_probe, n);
}

/* CONNECTING or AUTH -> UP. */
static void
s_ready(rl_rnode_t *n)
{
    assert(n->ac != NULL && !n->up);
    n->authing = false;
    n->backoff_ms = RL_RNODE_BACKOFF_MIN_MS;
    n->answered = false;
    s_set_up(n, true);
    s_probe(n);
}

static void
s_on_auth(redisAsyncContext *ac, void *reply_, void *privdata)
{
    rl_rnode_t *n = privdata;
    redisReply *reply = reply_;
    /* NULL: the context went away (dropped on purpose, or lost: then the
     * disconnect callback retries). */
    if (ac->data != n || n->ac != ac || reply == NULL)
        return;
    assert(n->authing);
    if (reply->type == REDIS_REPLY_ERROR) {
        s_auth_failed(n, reply->str);
        return;
    }
    s_ready(n);
}

/* CONNECTING -> AUTH: AUTH [username] password, the first command. */
static void
s_auth(rl_rnode_t *n)
{
    const char *argv[3] = {"AUTH"};
    int argc = 1;
    if (n->username != NULL)
        argv[argc++] = n->username;
    argv[argc++] = n->password;
    n->authing = true;
    /* Only a context being freed refuses a command; the connect deadline
     * then drops it (freeing it inside the connect callback would not be
     * safe). */
    if (redisAsyncCommandArgv(n->ac, s_on_auth, n, argc, argv, NULL) !=
        REDIS_OK)
        rl_log_warnx("redis %s:%d: cannot send AUTH", n->host, n->port);
}

static void
s_on_connect(const redisAsyncContext *ac, int status)
{
    rl_rnode_t *n = ac->data;
    if (n == NULL || n->ac != ac)
        return;
    if (status != REDIS_OK) {
        /* hiredis frees the context after this callback returns. */
        rl_log_debug("redis %s:%d: connect failed: %s", n->host, n->port,
                     ac->errstr);
        n->ac = NULL;
        s_schedule_retry(n);
        return;
    }
    /* While AUTH keeps failing its error said it all. */
    RL_LOG_AT(n->auth_failing ? RL_LOG_DEBUG : RL_LOG_INFO, false,
              "redis %s:%d: connected", n->host, n->port);
    if (n->password != NULL)
        s_auth(n);
    else
        s_ready(n);
}

static void
s_on_disconnect(const redisAsyncContext *ac, int status)
{
    rl_rnode_t *n = ac->data;
    (void)status;
    if (n == NULL || n->ac != ac)
        return; /* a context we dropped on purpose */
    rl_log_warnx("redis %s:%d: disconnected: %s", n->host, n->port,
                 ac->errstr[0] ? ac->errstr : "closed");
    n->ac = NULL;
    n->authing = false;
    n->stats.reconnects++;
    s_set_up(n, false);
    s_schedule_retry(n);
}

static void
s_connect(rl_rnode_t *n)
{
    redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
    if (ac == NULL || ac->err) {
        rl_log_debug("redis %s:%d: %s", n->host, n->port,
                     ac ? ac->errstr : "cannot allocate");
        if (ac != NULL)
            redisAsyncFree(ac);
        s_schedule_retry(n);
        return;
    }
    ac->data = n;
    n->ac = ac;
    n->connect_deadline = rl_clock_mono_ms() + n->timeout_ms;
    redisLibeventAttach(ac, n->base);
    redisAsyncSetConnectCallback(ac, s_on_connect);
    redisAsyncSetDisconnectCallback(ac, s_on_disconnect);
}

/* Closes the current context on purpose: every pending command is
 * answered NULL by hiredis (through s_on_reply), then we reconnect after
 * the backoff. Safe inside a reply callback (hiredis frees the context
 * when the callback returns). */
static void
s_close(rl_rnode_t *n)
{
    redisAsyncContext *ac = n->ac;
    assert(ac != NULL);
    n->ac = NULL;
    n->authing = false;
    s_set_up(n, false);
    ac->data = NULL;
    redisAsyncFree(ac);
    s_schedule_retry(n);
}

/* Drops a stalled or timed-out connection, saying why. */
static void
s_drop(rl_rnode_t *n, const char *why)
{
    if (n->ac == NULL)
        return;
    rl_log_warnx("redis %s:%d: %s; reconnecting", n->host, n->port, why);
    n->stats.reconnects++;
    s_close(n);
}

static void
s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    rl_rnode_t *n = arg;
    (void)fd;
    (void)what;
    int64_t now = rl_clock_mono_ms();
    if (n->ac != NULL && !n->up && now > n->connect_deadline) {
        s_drop(n, n->authing ? "AUTH timed out" : "connect timed out");
        return;
    }
    pending_t *head = TAILQ_FIRST(&n->pending);
    if (head != NULL && now > head->deadline)
        s_drop(n, "command deadline passed");
}

static bool
s_error_is(const redisReply *reply, const char *prefix)
{
    size_t len = strlen(prefix);
    return reply != NULL && reply->type == REDIS_REPLY_ERROR &&
           reply->len >= len && strncmp(reply->str, prefix, len) == 0;
}

/* An error that says the command did not run: nothing to wait for. */
static bool
s_not_run(const redisReply *reply)
{
    static const char *const prefixes[] = {
        "MOVED ",   "ASK ",     "TRYAGAIN",   "CLUSTERDOWN",
        "NOSCRIPT", "READONLY", "MASTERDOWN",
    };
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (s_error_is(reply, prefixes[i]))
            return true;
    return false;
}

/* A WAIT is orphaned when its command no longer waits for it. */
static void
s_orphan_wait(pending_t *p)
{
    if (p->wait != NULL) {
        p->wait->cmd = NULL;
        p->wait = NULL;
    }
}

/* Re-sends a script as EVAL after NOSCRIPT. Returns 0 when resent. */
static int
s_resend_eval(rl_rnode_t *n, pending_t *p)
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
    s_orphan_wait(p); /* the EVAL gets a WAIT of its own */
    return s_send(n, p, p->argc + 2, argv, lens);
}

/* LOADING: a restarted server still reading its dataset refuses the
 * command without running it. */
static bool
s_is_loading(const redisReply *reply)
{
    return s_error_is(reply, "LOADING");
}

static void
s_reply_free(redisReply *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->element != NULL && i < r->elements; i++)
        s_reply_free(r->element[i]);
    free(r->element);
    free(r->str);
    free(r);
}

/* A deep copy of r (hiredis frees its reply when the callback returns),
 * or NULL when it nests deeper than RL_RNODE_MAX_DEPTH. */
static redisReply *
s_reply_copy(const redisReply *r, int depth)
{
    redisReply *c;

    if (depth > RL_RNODE_MAX_DEPTH)
        return NULL;
    c = rl_calloc(1, sizeof *c);
    c->type = r->type;
    c->integer = r->integer;
    if (r->str != NULL) {
        c->str = rl_malloc(r->len + 1);
        memcpy(c->str, r->str, r->len);
        c->str[r->len] = '\0';
        c->len = r->len;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements > 0) {
        c->element = rl_calloc(r->elements, sizeof *c->element);
        c->elements = r->elements;
        for (size_t i = 0; i < r->elements; i++) {
            c->element[i] = s_reply_copy(r->element[i], depth + 1);
            if (c->element[i] == NULL) {
                s_reply_free(c);
                return NULL;
            }
        }
    }
    return c;
}

/* Calls p back with reply and frees it: the one end of a command. */
static void
s_finish(rl_rnode_t *n, pending_t *p, redisReply *reply)
{
    n->npending--;
    if (reply == NULL)
        n->stats.unknown++;
    if (p->cb != NULL)
        p->cb(reply, p->arg);
    s_reply_free(p->held);
    free(p); /* one allocation, copies included */
    if (n->npending == 0 && n->drained_cb != NULL)
        n->drained_cb(n->drained_arg);
}

/* A command that WAIT could not confirm: outcome unknown. */
static void
s_wait_short(rl_rnode_t *n, pending_t *p, const char *why)
{
    uint64_t held = 0;
    n->stats.wait_short++;
    if (rl_log_limit(&n->wait_log, RL_RNODE_LOG_MS, &held))
        rl_log_warnx("redis %s:%d: a write was not confirmed by %d "
                     "replica(s) (%s): answered as outcome unknown "
                     "(%llu more since the last line)",
                     n->host, n->port, p->wait_replicas, why,
                     (unsigned long long)held);
    s_finish(n, p, NULL);
}

static void
s_on_wait(redisAsyncContext *ac, void *reply_, void *privdata)
{
    pending_t *w = privdata;
    rl_rnode_t *n = w->owner;
    redisReply *reply = reply_;
    pending_t *p = w->cmd;
    char why[64];
    (void)ac;

    TAILQ_REMOVE(&n->pending, w, link);
    n->npending--;
    free(w);
    if (reply != NULL) {
        n->stats.replies++;
        n->answered = true;
    }
    if (p == NULL) { /* orphaned: its command was answered already */
        if (n->npending == 0 && n->drained_cb != NULL)
            n->drained_cb(n->drained_arg);
        return;
    }
    p->wait = NULL;
    if (reply != NULL && reply->type == REDIS_REPLY_INTEGER &&
        reply->integer >= p->wait_replicas && p->held != NULL) {
        s_finish(n, p, p->held);
        return;
    }
    if (reply == NULL)
        rl_fmt_msg(why, sizeof why, "no answer to WAIT");
    else if (reply->type == REDIS_REPLY_INTEGER)
        rl_fmt_msg(why, sizeof why, "WAIT counted %lld", reply->integer);
    else
        rl_fmt_msg(why, sizeof why, "WAIT failed: %.40s",
                   reply->str != NULL ? reply->str : "not a number");
    s_wait_short(n, p, why);
}

static void
s_on_reply(redisAsyncContext *ac, void *reply_, void *privdata)
{
    pending_t *p = privdata;
    rl_rnode_t *n = p->owner;
    redisReply *reply = reply_;
    TAILQ_REMOVE(&n->pending, p, link);
    if (reply != NULL) {
        n->stats.replies++;
        n->answered = true;
    }
    if (s_error_is(reply, "NOSCRIPT") && p->script != NULL && n->up) {
        if (s_resend_eval(n, p) == 0)
            return;
    }
    /* Not an answer but a server not ready yet: the caller hears
     * "outcome unknown" (and sends again, as after any drop), and the
     * connection is dropped, so that nothing is sent before the server
     * answers again after the backoff. */
    if (s_is_loading(reply)) {
        reply = NULL;
        if (n->ac == ac)
            s_drop(n, "the server is loading its dataset");
    }
    if (p->wait_replicas > 0 && reply != NULL && !s_not_run(reply)) {
        if (p->wait != NULL) {
            p->held = s_reply_copy(reply, 0);
            if (p->held != NULL)
                return; /* s_on_wait decides */
        }
        s_orphan_wait(p);
        s_wait_short(n, p, "WAIT not sent");
        return;
    }
    s_orphan_wait(p);
    s_finish(n, p, reply);
}

/* Queues a pending_t sent on the connection. */
static void
s_queue(rl_rnode_t *n, pending_t *p)
{
    p->deadline = rl_clock_mono_ms() + n->timeout_ms;
    TAILQ_INSERT_TAIL(&n->pending, p, link);
    n->stats.sent++;
}

/* WAIT N T after p, T half its deadline (at least 1 ms: 0 waits
 * forever). Returns 0 when sent. */
static int
s_send_wait(rl_rnode_t *n, pending_t *p)
{
    char replicas[RL_FMT_DEC_LEN], ms[RL_FMT_DEC_LEN];
    long t = n->timeout_ms / RL_RNODE_WAIT_DIV;
    const char *argv[] = {"WAIT", rl_fmt_dec(replicas, p->wait_replicas),
                          rl_fmt_dec(ms, t > 0 ? t : 1)};
    pending_t *w = rl_calloc(1, sizeof *w);

    w->owner = n;
    w->cmd = p;
    if (redisAsyncCommandArgv(n->ac, s_on_wait, w, 3, argv, NULL) != REDIS_OK) {
        free(w);
        return -1;
    }
    s_queue(n, w);
    n->npending++;
    p->wait = w;
    return 0;
}

static int
s_send(rl_rnode_t *n, pending_t *p, int argc, const char *const *argv,
       const size_t *lens)
{
    static const char *asking[] = {"ASKING"};

    if (n->ac == NULL || !n->up)
        return -1;
    /* ASKING's answer (OK) matters to nobody: the command after it says
     * whether it worked. */
    if (p->asking &&
        redisAsyncCommandArgv(n->ac, NULL, NULL, 1, (const char **)asking,
                              NULL) != REDIS_OK)
        return -1;
    if (redisAsyncCommandArgv(n->ac, s_on_reply, p, argc, (const char **)argv,
                              lens) != REDIS_OK)
        return -1;
    s_queue(n, p);
    if (p->wait_replicas > 0)
        (void)s_send_wait(n, p); /* unsent: s_on_reply answers NULL */
    return 0;
}

/* A copy of s, or NULL for NULL or "". */
static char *
s_dup_set(const char *s)
{
    return s != NULL && s[0] != '\0' ? rl_strdup(s) : NULL;
}

rl_rnode_t *
rl_rnode_new(struct event_base *base, const rl_redis_opts_t *o)
{
    assert(base != NULL);
    assert(o != NULL && o->host != NULL);
    if (o->port <= 0 || o->port > 65535 || o->command_timeout_ms <= 0)
        return NULL;
    rl_rnode_t *n = rl_calloc(1, sizeof *n);
    n->base = base;
    n->host = rl_strdup(o->host);
    n->port = o->port;
    n->username = s_dup_set(o->username);
    n->password = s_dup_set(o->password);
    n->timeout_ms = o->command_timeout_ms;
    n->backoff_max_ms = o->reconnect_max_ms > RL_RNODE_BACKOFF_MIN_MS
                            ? o->reconnect_max_ms
                            : RL_RNODE_BACKOFF_MIN_MS;
    n->backoff_ms = RL_RNODE_BACKOFF_MIN_MS;
    TAILQ_INIT(&n->pending);
    n->retry_timer = evtimer_new(base, s_on_retry, n);
    n->tick = event_new(base, -1, EV_PERSIST, s_on_tick, n);
    struct timeval tv = {0, RL_RNODE_TICK_MS * 1000};
    event_add(n->tick, &tv);
    s_connect(n);
    return n;
}

void
rl_rnode_destroy(rl_rnode_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_rnode_t *n = *p;
    n->state_cb = NULL;
    n->drained_cb = NULL;
    event_free(n->tick);
    event_free(n->retry_timer);
    redisAsyncContext *ac = n->ac;
    n->ac = NULL;
    n->up = false;
    if (ac != NULL) {
        ac->data = NULL;
        redisAsyncFree(ac); /* answers every pending command with NULL */
    }
    free(n->host);
    free(n->username);
    if (n->password != NULL)
        explicit_bzero(n->password, strlen(n->password));
    free(n->password);
    free(n);
    *p = NULL;
}

void
rl_rnode_on_state(rl_rnode_t *n, rl_redis_state_cb cb, void *arg)
{
    n->state_cb = cb;
    n->state_arg = arg;
}

void
rl_rnode_on_drained(rl_rnode_t *n, rl_redis_drained_cb cb, void *arg)
{
    n->drained_cb = cb;
    n->drained_arg = arg;
}

size_t
rl_rnode_pending(const rl_rnode_t *n)
{
    return n->npending;
}

bool
rl_rnode_connected(const rl_rnode_t *n)
{
    return n->up;
}

bool
rl_rnode_answering(const rl_rnode_t *n)
{
    const pending_t *head = TAILQ_FIRST(&n->pending);
    int64_t sent;

    if (!n->up || !n->answered)
        return false;
    if (head == NULL)
        return true;
    sent = head->deadline - n->timeout_ms;
    return rl_clock_mono_ms() - sent <= n->timeout_ms / RL_RNODE_STALL_DIV;
}

void
rl_rnode_stats(const rl_rnode_t *n, rl_redis_stats_t *out)
{
    *out = n->stats;
}

const char *
rl_rnode_host(const rl_rnode_t *n)
{
    return n->host;
}

int
rl_rnode_port(const rl_rnode_t *n)
{
    return n->port;
}

/* A pending script with a copy of its arguments, so NOSCRIPT can be
 * retried as EVAL after the caller's have gone: one allocation holding
 * the struct, argv[argc], lens[argc] and the NUL-terminated bytes. */
static pending_t *
s_pending_script(int argc, const char *const *argv, const size_t *lens)
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
rl_rnode_send(rl_rnode_t *n, const rl_rnode_cmd_t *cmd, rl_redis_cb cb,
              void *arg)
{
    assert(cmd != NULL && cmd->argc > 0);
    assert(cmd->script == NULL || (cmd->argc >= 3 && cmd->lens != NULL));
    if (!n->up)
        return -1;
    /* EVAL takes numkeys then the same arguments as EVALSHA. */
    pending_t *p =
        cmd->script != NULL
            ? s_pending_script(cmd->argc - 2, cmd->argv + 2, cmd->lens + 2)
            : rl_calloc(1, sizeof *p);
    p->owner = n;
    p->cb = cb;
    p->arg = arg;
    p->script = cmd->script;
    p->wait_replicas = cmd->wait_replicas;
    p->asking = cmd->asking;
    if (s_send(n, p, cmd->argc, cmd->argv, cmd->lens) != 0) {
        free(p);
        return -1;
    }
    n->npending++;
    return 0;
}
