/*
 * rl_http - asynchronous HTTP client: one curl multi handle driven by
 * libevent through curl_multi_socket_action (the libcurl hiperfifo model),
 * with per-origin admission lanes in front of it.
 * SPDX-License-Identifier: MIT
 */
#include "rl_http.h"

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_lanes.h"

#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/event.h>

#define S_HEADER_VALUE_MAX 64 /* longest captured header value */
#define S_BODY_INITIAL 1024   /* first allocation of a captured body */
#define S_POOL_MAX 128        /* idle easy handles kept for reuse */
#define S_ORIGIN_MEMO 8       /* lane keys remembered (s_lane_key) */

/*
 * Request lifetime:
 *
 *                 (origin at its cap)
 *   rl_http_request ---------------> WAITING --(admitted: s_start)--+
 *          |                            |                            |
 *          | s_start                    | wait timer, or s_start     |
 *          v                            | fails: not_sent            |
 *        ACTIVE <-----------------------)----------------------------+
 *          | curl reports DONE          v
 *          +----------------------->  DONE --> callback --> freed
 *   rl_http_cancel in any state: freed, no callback.
 *
 * WAITING: on h->waiting and in its origin's lane queue (rl_lanes); no
 *          easy handle yet (the request lives in req->spec), its wait
 *          timer armed with the request's timeout (a libevent common
 *          timeout: requests of one timeout share a queue, O(1) each).
 * ACTIVE:  on h->active, an easy handle set up and added to the multi
 *          with the request's whole timeout, counted in its lane; when it
 *          leaves, the lane's oldest waiting request starts.
 * DONE:    on h->done; s_process calls back in order (h->kick runs it
 *          for completions that did not come from curl: those are
 *          not_sent, the server saw nothing).
 * While its callback runs a request is on no list and its easy handle has
 * been removed; it is freed when the callback returns.
 */
struct s_sock {
    LIST_ENTRY(s_sock) link; /* in rl_http.socks */
    rl_http_t *h;            /* owning client */
    curl_socket_t fd;        /* the socket curl asked us to watch */
    struct event *ev;        /* persistent read/write event on fd */
};

typedef struct {
    char value[S_HEADER_VALUE_MAX]; /* trimmed, possibly cut value */
    bool present;                   /* the header was seen */
} s_header_t;

struct rl_http_req {
    TAILQ_ENTRY(rl_http_req) link; /* in h->waiting, active or done */
    rl_lane_entry_t lane;          /* in its origin's lane */
    bool https;                    /* the lane is in h->lanes[1] */
    rl_http_t *h;                  /* owning client */
    CURL *easy;                    /* the transfer; NULL until it starts */
    bool added;                    /* easy is in the multi */
    struct event *wait;            /* WAITING: the timeout, else NULL */
    long timeout_ms;               /* of the wait, then of the transfer */
    struct curl_slist *headers;    /* request headers, owned */
    const char *method;            /* in spec */
    const char *url;               /* in spec */
    const char *send;              /* request body, in spec */
    size_t send_len;               /* its length */
    rl_http_cb cb;                 /* completion callback */
    void *arg;                     /* its argument */
    char *body;                    /* captured body, NUL-terminated */
    size_t body_len;               /* bytes captured */
    size_t body_cap;               /* bytes allocated for body */
    size_t max_body;               /* capture cap */
    bool truncated;                /* bytes were discarded */
    s_header_t retry_after;        /* Retry-After */
    s_header_t poll_after;         /* openai-poll-after-ms */
    char error[CURL_ERROR_SIZE];   /* curl's detailed error text */
    int64_t start_us;              /* monotonic start time */
    CURLcode result;               /* outcome once done */
    bool done;                     /* on h->done */
    bool in_callback;              /* its callback is running */
    bool refused;                  /* the guard refused an address */
    struct sockaddr_storage *refused_addr; /* what it refused (distinct,
                                              RL_HTTP_REFUSED_MAX), or NULL */
    size_t nrefused;                       /* entries of refused_addr */
    bool refused_more;                     /* some did not fit */
    bool not_sent;                         /* completed without leaving us */
    bool gated;                            /* the send gate held it back */
    bool cleared;                          /* the send gate let it go once */
    char spec[];                           /* "METHOD\0URL\0BODY" */
};

TAILQ_HEAD(s_req_list, rl_http_req);

/* A lane key computed for a URL's scheme and authority as written: the
 * key depends on nothing else (s_lane_key). */
typedef struct {
    char raw[RL_LANES_KEY_MAX]; /* "scheme://authority" as written */
    char key[RL_LANES_KEY_MAX]; /* its rl_http_origin() */
    bool https;
} s_origin_memo_t;

struct rl_http {
    struct event_base *base;   /* borrowed loop */
    CURLM *multi;              /* the one multi handle */
    struct event *timer;       /* curl's single timeout */
    struct event *kick;        /* runs s_process for local completions */
    rl_lanes_t *lanes[2];      /* per-origin admission: http, https */
    rl_http_addr_guard guard;  /* connect-time address filter or NULL */
    void *guard_arg;           /* its argument */
    rl_http_send_gate gate;    /* pre-send check or NULL */
    void *gate_arg;            /* its argument */
    struct s_req_list waiting; /* requests waiting in a lane */
    struct s_req_list active;  /* transfers curl is running */
    struct s_req_list done;    /* finished, waiting for their callback */
    LIST_HEAD(, s_sock) socks; /* sockets with an event */
    size_t pending;            /* requests on waiting, active or done */
    int dispatching;           /* depth of s_dispatch_done */
    bool dying;                /* destroy was called from a callback */
    CURL *pool[S_POOL_MAX];    /* idle easy handles, reset, for reuse */
    size_t npool;              /* entries of pool in use */
    s_origin_memo_t origins[S_ORIGIN_MEMO]; /* the latest lane keys */
    size_t norigins;                        /* entries of origins ever filled */
};

static void s_process(rl_http_t *h);
static void s_leave_lane(rl_http_req_t *req);

/* --- sockets and timer: libevent <-> curl ------------------------------ */

static void
s_on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    rl_http_t *h = arg;
    int action = 0;
    int running = 0;

    if (what & EV_READ)
        action |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        action |= CURL_CSELECT_OUT;
    curl_multi_socket_action(h->multi, fd, action, &running);
    s_process(h);
}

static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    rl_http_t *h = arg;
    int running = 0;

    (void)fd;
    (void)what;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    s_process(h);
}

static void
s_sock_free(struct s_sock *sk)
{
    LIST_REMOVE(sk, link);
    event_free(sk->ev);
    free(sk);
}

static struct s_sock *
s_sock_new(rl_http_t *h, curl_socket_t fd)
{
    struct s_sock *sk = rl_calloc(1, sizeof *sk);

    sk->ev = event_new(h->base, fd, 0, s_on_socket_event, h);
    if (sk->ev == NULL) {
        free(sk);
        return NULL;
    }
    sk->h = h;
    sk->fd = fd;
    LIST_INSERT_HEAD(&h->socks, sk, link);
    return sk;
}

/* CURLMOPT_SOCKETFUNCTION: keep one persistent event per socket in step
 * with what curl waits for. */
static int
s_on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                 void *socketp)
{
    rl_http_t *h = userp;
    struct s_sock *sk = socketp;
    short kind = EV_PERSIST;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (sk != NULL)
            s_sock_free(sk);
        return 0;
    }
    if (sk == NULL) {
        sk = s_sock_new(h, fd);
        if (sk == NULL)
            return -1;
        curl_multi_assign(h->multi, fd, sk);
    }
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    event_del(sk->ev);
    event_assign(sk->ev, h->base, fd, kind, s_on_socket_event, h);
    return event_add(sk->ev, NULL) == 0 ? 0 : -1;
}

/* CURLMOPT_TIMERFUNCTION: only schedules; curl forbids calling
 * curl_multi_socket_action from inside its callbacks. */
static int
s_on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    rl_http_t *h = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0)
        return evtimer_del(h->timer) == 0 ? 0 : -1;
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    return evtimer_add(h->timer, &tv) == 0 ? 0 : -1;
}

/* Keeps addr among the addresses refused for req, once. */
static void
s_note_refused(rl_http_req_t *req, const struct sockaddr *addr,
               unsigned int len)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof ss);
    memcpy(&ss, addr, len < sizeof ss ? len : sizeof ss);
    for (size_t i = 0; i < req->nrefused; i++)
        if (memcmp(&req->refused_addr[i], &ss, sizeof ss) == 0)
            return;
    if (req->nrefused == RL_HTTP_REFUSED_MAX) {
        req->refused_more = true;
        return;
    }
    if (req->refused_addr == NULL) /* only requests that meet the guard */
        req->refused_addr =
            rl_calloc(RL_HTTP_REFUSED_MAX, sizeof *req->refused_addr);
    req->refused_addr[req->nrefused++] = ss;
}

/* CURLOPT_OPENSOCKETFUNCTION: the guard sees the address actually about
 * to be connected to, after DNS, so rebinding cannot slip past it. */
static curl_socket_t
s_on_open_socket(void *clientp, curlsocktype purpose,
                 struct curl_sockaddr *addr)
{
    rl_http_req_t *req = clientp;
    rl_http_t *h = req->h;

    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (h->guard != NULL && !h->guard(&addr->addr, h->guard_arg)) {
        req->refused = true;
        s_note_refused(req, &addr->addr, addr->addrlen);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

/* CURLOPT_PREREQFUNCTION: the last moment before the request is written
 * to its connection, after every wait of ours and of curl's. */
static int
s_on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
            int local_port)
{
    rl_http_req_t *req = clientp;
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (req->h->gate == NULL || req->h->gate(req->h->gate_arg)) {
        req->cleared = true;
        return CURL_PREREQFUNC_OK;
    }
    /* Called again when curl retries on a new connection (a reused one
     * died under the request): the server may have seen the first try,
     * so only a request never let go is reported not_sent. */
    req->gated = !req->cleared;
    return CURL_PREREQFUNC_ABORT;
}

/* --- response capture -------------------------------------------------- */

static void
s_body_reserve(rl_http_req_t *req, size_t need)
{
    size_t cap = req->body_cap ? req->body_cap : S_BODY_INITIAL;

    if (need <= req->body_cap)
        return;
    while (cap < need)
        cap *= 2;
    if (cap > req->max_body + 1)
        cap = req->max_body + 1;
    req->body = rl_realloc(req->body, cap);
    req->body_cap = cap;
}

/* CURLOPT_WRITEFUNCTION: keeps up to max_body bytes and swallows the rest
 * so the connection stays usable and the request still succeeds. */
static size_t
s_on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    rl_http_req_t *req = userdata;
    size_t n = size * nmemb;
    size_t room = req->max_body - req->body_len;
    size_t take = n < room ? n : room;

    if (take < n)
        req->truncated = true;
    if (take > 0) {
        s_body_reserve(req, req->body_len + take + 1);
        memcpy(req->body + req->body_len, ptr, take);
        req->body_len += take;
        req->body[req->body_len] = '\0';
    }
    return n;
}

static void
s_header_match(const char *line, size_t len, const char *name, s_header_t *out)
{
    size_t name_len = strlen(name);
    const char *v = line + name_len + 1;
    const char *end = line + len;
    size_t n;

    if (len <= name_len || line[name_len] != ':' ||
        strncasecmp(line, name, name_len) != 0)
        return;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    n = (size_t)(end - v);
    if (n >= sizeof out->value)
        n = sizeof out->value - 1;
    memcpy(out->value, v, n);
    out->value[n] = '\0';
    out->present = true;
}

/* CURLOPT_HEADERFUNCTION: lines arrive one at a time, not NUL-terminated.
 * A new status line (after a 1xx) forgets earlier captures. */
static size_t
s_on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    rl_http_req_t *req = userdata;
    size_t len = size * nmemb;

    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        req->retry_after.present = false;
        req->poll_after.present = false;
    }
    s_header_match(line, len, "retry-after", &req->retry_after);
    s_header_match(line, len, "openai-poll-after-ms", &req->poll_after);
    return len;
}

/* --- completion -------------------------------------------------------- */

/* An easy handle costs more to make (its buffers) than to reset, so
 * finished ones are kept, reset, for the next requests. */
static CURL *
s_easy_get(rl_http_t *h)
{
    return h->npool > 0 ? h->pool[--h->npool] : curl_easy_init();
}

/* Takes back an easy handle that is in no multi handle. */
static void
s_easy_put(rl_http_t *h, CURL *easy)
{
    if (h->npool < S_POOL_MAX && !h->dying) {
        curl_easy_reset(easy);
        h->pool[h->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

static void
s_req_free(rl_http_req_t *req)
{
    if (req->wait != NULL)
        event_free(req->wait);
    if (req->easy != NULL)
        s_easy_put(req->h, req->easy); /* after it left the multi */
    curl_slist_free_all(req->headers);
    free(req->refused_addr);
    free(req->body);
    free(req);
}

static void
s_complete(rl_http_req_t *req)
{
    rl_http_resp_t resp = {0};
    long status = 0;
    char *ip = NULL;

    if (req->easy != NULL) {
        curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(req->easy, CURLINFO_PRIMARY_IP, &ip);
    }
    resp.status = status;
    resp.curl_code = (int)req->result;
    resp.timed_out = req->result == CURLE_OPERATION_TIMEDOUT;
    resp.not_sent = req->not_sent || req->gated;
    resp.error = "";
    if (req->result != CURLE_OK)
        resp.error =
            req->error[0] ? req->error : curl_easy_strerror(req->result);
    resp.body = req->body != NULL ? req->body : "";
    resp.body_len = req->body_len;
    resp.truncated = req->truncated;
    resp.refused = req->refused && status == 0;
    if (resp.refused) {
        resp.refused_addr = req->refused_addr;
        resp.nrefused = req->nrefused;
        resp.refused_more = req->refused_more;
    }
    resp.retry_after = req->retry_after.present ? req->retry_after.value : NULL;
    resp.poll_after_ms = req->poll_after.present ? req->poll_after.value : NULL;
    resp.total_ms = (double)(rl_clock_mono_us() - req->start_us) / 1000.0;
    resp.primary_ip = ip != NULL ? ip : "";
    req->in_callback = true;
    req->cb(&resp, req->arg);
    s_req_free(req);
}

/* Moves every finished transfer to h->done without calling anyone, so
 * callbacks never run while curl's message queue is being read. */
static void
s_collect_done(rl_http_t *h)
{
    CURLMsg *msg;
    int left = 0;

    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        rl_http_req_t *req = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &req);
        assert(req != NULL && !req->done);
        req->result = msg->data.result;
        req->done = true;
        TAILQ_REMOVE(&h->active, req, link);
        TAILQ_INSERT_TAIL(&h->done, req, link);
    }
}

static void
s_free(rl_http_t *h)
{
    struct s_sock *sk;

    assert(TAILQ_EMPTY(&h->active) && TAILQ_EMPTY(&h->done) &&
           TAILQ_EMPTY(&h->waiting));
    rl_lanes_destroy(&h->lanes[0]);
    rl_lanes_destroy(&h->lanes[1]);
    if (h->kick != NULL)
        event_free(h->kick);
    while (h->npool > 0)
        curl_easy_cleanup(h->pool[--h->npool]);
    /* Cleanup may still report sockets, so the sockets go after it. */
    curl_multi_cleanup(h->multi);
    while ((sk = LIST_FIRST(&h->socks)) != NULL)
        s_sock_free(sk);
    if (h->timer != NULL)
        event_free(h->timer);
    free(h);
    curl_global_cleanup();
}

/* Completes finished requests one at a time. A callback may start or
 * cancel requests (cancel unlinks from h->done) or destroy the client
 * (deferred until the loop unwinds). */
static void
s_process(rl_http_t *h)
{
    rl_http_req_t *req;

    s_collect_done(h);
    h->dispatching++;
    while (!h->dying && (req = TAILQ_FIRST(&h->done)) != NULL) {
        TAILQ_REMOVE(&h->done, req, link);
        h->pending--;
        if (req->added)
            curl_multi_remove_handle(h->multi, req->easy);
        req->added = false;
        s_leave_lane(req);
        s_complete(req);
    }
    h->dispatching--;
    if (h->dying && h->dispatching == 0)
        s_free(h);
}

static void
s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_process(arg);
}

/* Completes req without curl (it never started): it goes on h->done,
 * not_sent, and is called back from the loop, never from here. */
static void
s_done_local(rl_http_req_t *req, CURLcode result, const char *why)
{
    rl_http_t *h = req->h;
    rl_fmt_msg(req->error, sizeof req->error, "%s", why);
    req->result = result;
    req->not_sent = true;
    req->done = true;
    TAILQ_INSERT_TAIL(&h->done, req, link);
    event_active(h->kick, EV_TIMEOUT, 0);
}

static bool s_set_transfer(rl_http_req_t *req);

/* Gives req an easy handle set up from its spec and hands it to curl
 * with its whole timeout (a wait for its turn took none of it, so a
 * timeout is the server's). Returns 0, or -1 (req on no list) when curl
 * refuses it. */
static int
s_start(rl_http_req_t *req)
{
    rl_http_t *h = req->h;

    req->easy = s_easy_get(h);
    if (req->easy == NULL || !s_set_transfer(req) ||
        curl_multi_add_handle(h->multi, req->easy) != CURLM_OK)
        return -1;
    req->added = true;
    TAILQ_INSERT_TAIL(&h->active, req, link);
    return 0;
}

/* req leaves its lane (when in one); the lane's next request starts. */
static void
s_leave_lane(rl_http_req_t *req)
{
    rl_http_t *h = req->h;
    rl_lane_entry_t *e;
    rl_http_req_t *next;

    if (req->lane.lane == NULL)
        return;
    e = rl_lanes_leave(h->lanes[req->https], &req->lane);
    if (e == NULL)
        return;
    next = (rl_http_req_t *)((char *)e - offsetof(rl_http_req_t, lane));
    TAILQ_REMOVE(&h->waiting, next, link);
    event_free(next->wait);
    next->wait = NULL;
    if (s_start(next) != 0)
        s_done_local(next, CURLE_FAILED_INIT, "request could not start");
}

/* A waiting request's timeout ran out before its turn came. */
static void
s_on_wait_timeout(evutil_socket_t fd, short what, void *arg)
{
    rl_http_req_t *req = arg;
    (void)fd;
    (void)what;
    TAILQ_REMOVE(&req->h->waiting, req, link);
    s_leave_lane(req); /* waiting: admits nobody */
    s_done_local(req, CURLE_OPERATION_TIMEDOUT,
                 "timed out waiting for a turn on a connection to the "
                 "host (not sent)");
}

/* Parks req in its lane's queue with a wait timer of its timeout. */
static int
s_wait(rl_http_req_t *req)
{
    rl_http_t *h = req->h;
    struct timeval plain = {req->timeout_ms / 1000,
                            (req->timeout_ms % 1000) * 1000};
    const struct timeval *tv = event_base_init_common_timeout(h->base, &plain);

    req->wait = evtimer_new(h->base, s_on_wait_timeout, req);
    if (req->wait == NULL ||
        evtimer_add(req->wait, tv != NULL ? tv : &plain) != 0)
        return -1;
    TAILQ_INSERT_TAIL(&h->waiting, req, link);
    return 0;
}

/* The raw origin of a URL curl cannot parse: "scheme://authority" as
 * written (the request fails in curl anyway). */
static void
s_origin_raw(const char *url, char *key, size_t len)
{
    const char *p = strstr(url, "://");
    size_t n = strlen(url);

    if (p != NULL)
        n = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
    if (n >= len)
        n = len - 1;
    memcpy(key, url, n);
    key[n] = '\0';
}

/* "scheme://host:port" from u, or -1. curl lowercases the scheme. */
static int
s_origin_parsed(CURLU *u, char *key, size_t len)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;

    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK) {
        for (char *c = host; *c != '\0'; c++)
            *c = (char)tolower((unsigned char)*c);
        rc = rl_fmt(key, len, "%s://%s:%s", scheme, host, port);
    }
    curl_free(port);
    curl_free(host);
    curl_free(scheme);
    return rc;
}

/* --- public API -------------------------------------------------------- */

int
rl_http_origin(const char *url, char *key, size_t len, bool *https)
{
    CURLU *u;
    int rc = -1;

    assert(url != NULL && key != NULL && len > 0 && https != NULL);
    u = curl_url();
    if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK)
        rc = s_origin_parsed(u, key, len);
    curl_url_cleanup(u);
    if (rc != 0)
        s_origin_raw(url, key, len);
    *https = strncasecmp(key, "https://", 8) == 0;
    return rc;
}

size_t
rl_http_origin_cap(const rl_http_opts_t *opts, bool https)
{
    long conns = opts != NULL ? opts->max_host_connections : 0;

    if (conns <= 0)
        return 0;
    return https ? (size_t)conns * RL_HTTP_MAX_STREAMS : (size_t)conns;
}

rl_http_t *
rl_http_new(struct event_base *base, const rl_http_opts_t *opts)
{
    rl_http_t *h;
    bool ok = true;

    assert(base != NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    h = rl_calloc(1, sizeof *h);
    h->base = base;
    TAILQ_INIT(&h->waiting);
    TAILQ_INIT(&h->active);
    TAILQ_INIT(&h->done);
    LIST_INIT(&h->socks);
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, s_on_timer, h);
    h->kick = event_new(base, -1, 0, s_on_kick, h);
    h->lanes[0] = rl_lanes_new(rl_http_origin_cap(opts, false));
    h->lanes[1] = rl_lanes_new(rl_http_origin_cap(opts, true));
    if (h->multi == NULL || h->timer == NULL || h->kick == NULL)
        goto fail;
    ok &=
        !curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, s_on_curl_socket);
    ok &= !curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    ok &= !curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, s_on_curl_timer);
    ok &= !curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    ok &= !curl_multi_setopt(h->multi, CURLMOPT_MAX_CONCURRENT_STREAMS,
                             (long)RL_HTTP_MAX_STREAMS);
    if (opts != NULL && opts->max_host_connections > 0)
        ok &= !curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                                 opts->max_host_connections);
    if (opts != NULL && opts->max_total_connections > 0)
        ok &= !curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                                 opts->max_total_connections);
    if (opts != NULL && opts->max_idle_connections > 0)
        ok &= !curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
                                 opts->max_idle_connections);
    if (!ok)
        goto fail;
    return h;
fail:
    s_free(h);
    return NULL;
}

void
rl_http_destroy(rl_http_t **p)
{
    rl_http_t *h;
    rl_http_req_t *req;

    assert(p != NULL);
    h = *p;
    *p = NULL;
    if (h == NULL || h->dying)
        return;
    while ((req = TAILQ_FIRST(&h->waiting)) != NULL) /* first: nothing */
        rl_http_cancel(h, req);                      /* more may start */
    while ((req = TAILQ_FIRST(&h->active)) != NULL)
        rl_http_cancel(h, req);
    while ((req = TAILQ_FIRST(&h->done)) != NULL)
        rl_http_cancel(h, req);
    if (h->dispatching > 0) {
        h->dying = true;
        return;
    }
    s_free(h);
}

void
rl_http_set_guard(rl_http_t *h, rl_http_addr_guard guard, void *arg)
{
    assert(h != NULL);
    h->guard = guard;
    h->guard_arg = arg;
}

void
rl_http_set_send_gate(rl_http_t *h, rl_http_send_gate gate, void *arg)
{
    assert(h != NULL);
    h->gate = gate;
    h->gate_arg = arg;
}

static bool
s_method_has_body(const char *method)
{
    return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
}

/* POST-style methods carry the body (req->spec holds it for as long as
 * the transfer runs, so curl does not copy it); everything but plain GET
 * and POST is sent as a custom method on top. */
static bool
s_set_method(rl_http_req_t *req)
{
    CURL *easy = req->easy;
    bool has_body = req->send_len > 0 || s_method_has_body(req->method);
    bool ok = true;

    if (strcmp(req->method, "HEAD") == 0)
        return curl_easy_setopt(easy, CURLOPT_NOBODY, 1L) == CURLE_OK;
    if (has_body) {
        ok &= !curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)req->send_len);
        ok &= !curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->send);
    }
    if (strcmp(req->method, has_body ? "POST" : "GET") != 0)
        ok &= !curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    return ok;
}

/* Copies the caller's headers and adds an empty "Expect:" (unless one is
 * given) so curl never waits for a 100 Continue. */
static bool
s_copy_headers(rl_http_req_t *req, const char *const *headers)
{
    bool has_expect = false;
    struct curl_slist *next;

    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
        if (strncasecmp(headers[i], "Expect:", 7) == 0)
            has_expect = true;
        next = curl_slist_append(req->headers, headers[i]);
        if (next == NULL)
            return false;
        req->headers = next;
    }
    if (!has_expect) {
        next = curl_slist_append(req->headers, "Expect:");
        if (next == NULL)
            return false;
        req->headers = next;
    }
    return true;
}

static bool
s_set_transfer(rl_http_req_t *req)
{
    CURL *e = req->easy;
    bool ok = s_set_method(req);

    ok &= !curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    ok &= !curl_easy_setopt(e, CURLOPT_URL, req->url);
    ok &= !curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    ok &= !curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    ok &= !curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    ok &= !curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    ok &= !curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    ok &= !curl_easy_setopt(e, CURLOPT_PROXY, ""); /* ignore *_proxy env */
    ok &= !curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    ok &= !curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->error);
    ok &= !curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_on_body);
    ok &= !curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    ok &= !curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_on_header);
    ok &= !curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    ok &= !curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, s_on_open_socket);
    ok &= !curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req);
    ok &= !curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, s_on_prereq);
    ok &= !curl_easy_setopt(e, CURLOPT_PREREQDATA, req);
    return ok;
}

/* A request with its method, URL and body copied into one block. */
static rl_http_req_t *
s_req_new(rl_http_t *h, const char *method, const char *url, const char *body,
          size_t body_len)
{
    size_t mlen = strlen(method) + 1, ulen = strlen(url) + 1;
    rl_http_req_t *req = rl_calloc(1, sizeof *req + mlen + ulen + body_len + 1);
    char *p = req->spec;

    req->h = h;
    req->method = memcpy(p, method, mlen);
    req->url = memcpy(p + mlen, url, ulen);
    req->send = p + mlen + ulen;
    if (body_len > 0)
        memcpy(p + mlen + ulen, body, body_len);
    req->send_len = body_len;
    return req;
}

/* The lane key of url: rl_http_origin(), remembered for the last
 * S_ORIGIN_MEMO spellings of scheme and authority, so that the requests
 * of the few origins a process talks to skip curl's URL parser (a
 * URL curl refuses for its path gets its origin's key: it fails in
 * curl anyway). */
static void
s_lane_key(rl_http_t *h, const char *url, char *key, size_t len, bool *https)
{
    char raw[RL_LANES_KEY_MAX];
    s_origin_memo_t *m;
    size_t n = h->norigins < S_ORIGIN_MEMO ? h->norigins : S_ORIGIN_MEMO;

    assert(len == sizeof m->key);
    s_origin_raw(url, raw, sizeof raw);
    if (strlen(raw) == sizeof raw - 1) { /* may be cut: not remembered */
        (void)rl_http_origin(url, key, len, https);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        m = &h->origins[i];
        if (strcmp(m->raw, raw) == 0) {
            memcpy(key, m->key, len);
            *https = m->https;
            return;
        }
    }
    (void)rl_http_origin(url, key, len, https);
    m = &h->origins[h->norigins++ % S_ORIGIN_MEMO];
    memcpy(m->raw, raw, sizeof raw);
    memcpy(m->key, key, len);
    m->https = *https;
}

rl_http_req_t *
rl_http_request(rl_http_t *h, const char *method, const char *url,
                const char *const *headers, const char *body, size_t body_len,
                long timeout_ms, size_t max_body, rl_http_cb cb, void *arg)
{
    rl_http_req_t *req;
    char key[RL_LANES_KEY_MAX];

    assert(h != NULL && !h->dying);
    assert(method != NULL && url != NULL);
    assert(body != NULL || body_len == 0);
    assert(timeout_ms > 0 && cb != NULL);
    req = s_req_new(h, method, url, body, body_len);
    req->cb = cb;
    req->arg = arg;
    req->max_body = max_body;
    req->timeout_ms = timeout_ms;
    req->start_us = rl_clock_mono_us();
    if (!s_copy_headers(req, headers))
        goto fail;
    s_lane_key(h, url, key, sizeof key, &req->https);
    if (rl_lanes_enter(h->lanes[req->https], key, &req->lane)
            ? s_start(req) != 0
            : s_wait(req) != 0)
        goto fail;
    h->pending++;
    return req;
fail:
    /* Entered active, there was nobody waiting; entered waiting, it
     * admits nobody: either way nothing starts. */
    if (req->lane.lane != NULL)
        rl_lanes_leave(h->lanes[req->https], &req->lane);
    s_req_free(req);
    return NULL;
}

void
rl_http_cancel(rl_http_t *h, rl_http_req_t *req)
{
    assert(h != NULL);
    if (req == NULL || req->in_callback)
        return;
    assert(req->h == h);
    TAILQ_REMOVE(req->done    ? &h->done
                 : req->added ? &h->active
                              : &h->waiting,
                 req, link);
    h->pending--;
    if (req->added)
        curl_multi_remove_handle(h->multi, req->easy);
    req->added = false;
    s_leave_lane(req);
    s_req_free(req);
}

size_t
rl_http_pending(const rl_http_t *h)
{
    assert(h != NULL);
    return h->pending;
}
