/*
 * rl_httpd - an evhttp listener with connection, time, size and framing
 * limits.
 *
 * Each accepted connection gets a pass-through filter bufferevent
 * (evhttp_set_bevcb): the filter sees a request's first byte, which arms
 * its deadline, and its free_context tells when evhttp closed the
 * connection, which keeps the count of open connections exact. Requests
 * evhttp has parsed pass the size and framing checks before the caller's
 * callback sees them.
 * SPDX-License-Identifier: MIT
 */
#include "rl_httpd.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>

#include "rl_addrlimit.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_log.h"

#define S_BACKLOG 1024
#define S_LOG_EVERY_MS 10000  /* one line per kind of refusal per 10 s */
#define S_MAX_LISTENERS 8     /* listeners in one process */
#define S_CL_DIGITS_MAX 18    /* a Content-Length that fits a long */
#define S_HEADER_OVERHEAD 4   /* ": " and CRLF of one header line */
#define S_LINE_OVERHEAD 16    /* method, spaces, version, CRLF */
#define S_STATUS_LINE_MAX 128 /* "HTTP/1.1 413 Payload Too Large" */
/* What follows the status line of an error object's answer. */
#define S_ERROR_HEAD                                                           \
    "\r\nContent-Type: application/json\r\nConnection: close\r\n"              \
    "Content-Length: %zu\r\n\r\n"
_Static_assert(sizeof S_ERROR_HEAD + RL_FMT_DEC_LEN <= S_STATUS_LINE_MAX,
               "a status line and the error head fit 2 S_STATUS_LINE_MAX");
#define S_PAGE_SCAN 512            /* bytes of an answer searched for a page */
#define S_WRITE_IOV 16             /* pieces of an answer per write */
#define S_NOFILE_RESERVE 256       /* files kept for all but HTTP clients */
#define S_MIN_CONNECTIONS 16       /* the cap is never lowered below this */
#define S_NOFILE_PLENTY (1L << 30) /* an unlimited open-file limit */
#define S_AUTH_CLIENTS 65536       /* client addresses the guard remembers */

typedef struct conn conn_t;

struct rl_httpd {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener; /* owned by http's bound socket */
    struct event *resume;            /* accepting again after an error */
    rl_httpd_limits_t lim;
    rl_httpd_cb cb;
    void *arg;
    const char *name;
    int port;
    bool capped;             /* accepting paused at the cap */
    bool erred;              /* accepting paused after an error */
    LIST_HEAD(, conn) conns; /* every open connection */
    conn_t **by_fd;          /* conns indexed by socket */
    size_t nby_fd;
    rl_httpd_stats_t st;
    rl_addrlimit_t *fails;      /* failed authentications, or NULL */
    rl_log_limit_t log_accept;  /* accept() errors */
    rl_log_limit_t log_cap;     /* at the connection cap */
    rl_log_limit_t log_refused; /* requests refused here */
};

/* One accepted connection: lives from evhttp's bufferevent callback to
 * the filter's free_context. */
struct conn {
    rl_httpd_t *h;           /* NULL once the listener is gone */
    struct bufferevent *bev; /* the filter evhttp reads through */
    struct event *deadline;  /* request_timeout_ms after a first byte */
    struct event *kick;      /* runs the output filter (see s_on_added) */
    int fd;                  /* its socket, -1 until first read */
    bool reading;            /* a request has begun and not completed */
    LIST_ENTRY(conn) link;
};

/* libevent hands the accept-error callback the evhttp it was bound to,
 * not our context; this table finds the listener from it. A process has
 * one or two listeners and one thread. */
static rl_httpd_t *s_listeners[S_MAX_LISTENERS];

static rl_httpd_t *
s_by_http(const void *http)
{
    for (size_t i = 0; i < S_MAX_LISTENERS; i++)
        if (s_listeners[i] != NULL && s_listeners[i]->http == http)
            return s_listeners[i];
    return NULL;
}

static int
s_register(rl_httpd_t *h)
{
    for (size_t i = 0; i < S_MAX_LISTENERS; i++)
        if (s_listeners[i] == NULL) {
            s_listeners[i] = h;
            return 0;
        }
    return -1;
}

static void
s_unregister(rl_httpd_t *h)
{
    for (size_t i = 0; i < S_MAX_LISTENERS; i++)
        if (s_listeners[i] == h)
            s_listeners[i] = NULL;
}

/* ---- accepting: the cap and accept errors ------------------------- */

static void
s_accepting(rl_httpd_t *h)
{
    if (h->capped || h->erred)
        evconnlistener_disable(h->listener);
    else
        evconnlistener_enable(h->listener);
}

static void
s_on_resume(evutil_socket_t fd, short what, void *arg)
{
    rl_httpd_t *h = arg;
    (void)fd;
    (void)what;
    h->erred = false;
    s_accepting(h);
}

/* accept() failed: EMFILE, ENFILE, ENOBUFS, ENOMEM (libevent retries
 * EAGAIN and ECONNABORTED itself). The listener stays readable, so
 * accepting pauses instead of spinning, and the line is rate-limited. */
static void
s_on_accept_error(struct evconnlistener *lev, void *http)
{
    int err = EVUTIL_SOCKET_ERROR();
    rl_httpd_t *h = s_by_http(http);
    uint64_t held = 0;
    (void)lev;
    if (h == NULL)
        return;
    h->st.accept_errors++;
    h->erred = true;
    s_accepting(h);
    struct timeval tv = {0, RL_HTTPD_ACCEPT_PAUSE_MS * 1000};
    evtimer_add(h->resume, &tv);
    if (rl_log_limit(&h->log_accept, S_LOG_EVERY_MS, &held))
        rl_log_warnx("%s: accept: %s; pausing %d ms (%llu more since the "
                     "last line)",
                     h->name, evutil_socket_error_to_string(err),
                     RL_HTTPD_ACCEPT_PAUSE_MS, (unsigned long long)held);
}

/* ---- connections --------------------------------------------------- */

static void
s_map_fd(rl_httpd_t *h, conn_t *c)
{
    int fd = (int)bufferevent_getfd(c->bev);
    if (fd < 0)
        return;
    if ((size_t)fd >= h->nby_fd) {
        size_t n = h->nby_fd ? h->nby_fd : 64;
        while (n <= (size_t)fd)
            n *= 2;
        h->by_fd = rl_realloc(h->by_fd, n * sizeof *h->by_fd);
        memset(h->by_fd + h->nby_fd, 0, (n - h->nby_fd) * sizeof *h->by_fd);
        h->nby_fd = n;
    }
    c->fd = fd;
    h->by_fd[fd] = c;
}

static void
s_on_deadline(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    (void)fd;
    (void)what;
    if (c->h == NULL || !c->reading)
        return;
    c->h->st.request_timeouts++;
    /* evhttp closes the connection on a read timeout, without an answer
     * (there is no request to answer yet). c may be gone after this. */
    bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

static enum bufferevent_filter_result
s_filter_in(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
            enum bufferevent_flush_mode mode, void *arg)
{
    conn_t *c = arg;
    size_t n = evbuffer_get_length(src);
    (void)mode;
    if (n == 0)
        return BEV_NEED_MORE;
    if (c->h != NULL) {
        if (c->fd < 0)
            s_map_fd(c->h, c);
        if (!c->reading && c->h->lim.request_timeout_ms > 0) {
            struct timeval tv = {c->h->lim.request_timeout_ms / 1000,
                                 (c->h->lim.request_timeout_ms % 1000) * 1000};
            c->reading = true;
            evtimer_add(c->deadline, &tv);
        }
    }
    if (limit >= 0 && n > (size_t)limit)
        n = (size_t)limit;
    evbuffer_remove_buffer(src, dst, n);
    return BEV_OK;
}

/* Writes what the kernel takes of buf to fd now; returns the bytes
 * written (0 on EAGAIN or an error: the socket's own write reports it). */
static size_t
s_write_now(struct evbuffer *buf, int fd)
{
    struct evbuffer_iovec vec[S_WRITE_IOV];
    struct iovec iov[S_WRITE_IOV];
    struct msghdr msg;
    int n = evbuffer_peek(buf, -1, NULL, vec, S_WRITE_IOV);
    ssize_t w;

    if (n <= 0 || fd < 0)
        return 0;
    if (n > S_WRITE_IOV)
        n = S_WRITE_IOV;
    for (int i = 0; i < n; i++) {
        iov[i].iov_base = vec[i].iov_base;
        iov[i].iov_len = vec[i].iov_len;
    }
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w <= 0)
        return 0;
    evbuffer_drain(buf, (size_t)w);
    return (size_t)w;
}

/* The error object of a protocol error evhttp answered itself. */
static const char *
s_evhttp_error_code(int status, const char **message)
{
    switch (status) {
    case 400:
        *message = "the request is not valid HTTP/1.1";
        return "malformed_request";
    case 413:
        *message = "the request's headers or body are too large";
        return "request_too_large";
    case 501:
        *message = "this method is not supported";
        return "method_not_supported";
    default:
        *message = "the request could not be read";
        return "http_error";
    }
}

/* evhttp answers the protocol errors it finds itself (a malformed
 * request line or header, a bad chunk, a header section or body past its
 * cut, a method it does not know) with an HTML page, always closing the
 * connection after it. Such a page is recognised by its fixed opening
 * and replaced by the API's error object with the same status. */
static void
s_json_error_page(struct evbuffer *src)
{
    static const char page[] = "\r\n\r\n<HTML><HEAD>\n<TITLE>";
    char line[S_STATUS_LINE_MAX], head[S_STATUS_LINE_MAX * 2];
    const char *code, *message;
    struct evbuffer_ptr at, end;
    size_t len = evbuffer_get_length(src);
    char *status_line, *text;
    int status;

    /* Only where an answer starts, and only in its first bytes: an
     * error page is short, and this runs on every write. */
    if (len < sizeof page || evbuffer_search(src, "HTTP/1.", 7, NULL).pos != 0)
        return;
    if (evbuffer_ptr_set(src, &end, len < S_PAGE_SCAN ? len : S_PAGE_SCAN,
                         EVBUFFER_PTR_SET) != 0)
        return;
    at = evbuffer_search_range(src, page, sizeof page - 1, NULL, &end);
    if (at.pos < 0)
        return;
    len = 0;
    status_line = evbuffer_readln(src, &len, EVBUFFER_EOL_CRLF_STRICT);
    if (status_line == NULL || len < 12 || len >= sizeof line ||
        strncmp(status_line, "HTTP/1.", 7) != 0) {
        free(status_line);
        return; /* not a status line of evhttp's: leave it be */
    }
    memcpy(line, status_line, len + 1);
    free(status_line);
    status = (int)strtol(line + 9, NULL, 10);
    code = s_evhttp_error_code(status, &message);
    json_t *o = json_pack("{s:{s:s, s:s, s:s, s:n}}", "error", "type",
                          "invalid_request_error", "code", code, "message",
                          message, "param");
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    evbuffer_drain(src, evbuffer_get_length(src));
    /* The status line is shorter than S_STATUS_LINE_MAX (above): head
     * holds it and S_ERROR_HEAD (the assertion at the top). */
    rl_fmt_fit(head, sizeof head, "%s" S_ERROR_HEAD, line,
               text != NULL ? strlen(text) : 0);
    evbuffer_add(src, head, strlen(head));
    if (text != NULL)
        evbuffer_add(src, text, strlen(text));
    free(text);
}

/* evhttp counts an answer sent when this filter's output is empty, and
 * then may close the socket at once (Connection: close): whatever the
 * socket's own buffer still held would be lost. So the output's last
 * byte leaves here, written straight to the kernel once the socket's
 * buffer is empty; the rest goes through the socket's buffer as usual,
 * and its draining calls this filter again for that last byte. */
static enum bufferevent_filter_result
s_filter_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
             enum bufferevent_flush_mode mode, void *arg)
{
    conn_t *c = arg;
    bool moved = false;
    size_t n;

    (void)mode;
    s_json_error_page(src);
    if (evbuffer_get_length(dst) == 0)
        moved = s_write_now(src, (int)bufferevent_getfd(c->bev)) > 0;
    n = evbuffer_get_length(src);
    if (n > 1) {
        n--;
        if (limit >= 0 && n > (size_t)limit)
            n = (size_t)limit;
        moved = evbuffer_remove_buffer(src, dst, n) > 0 || moved;
    }
    return moved ? BEV_OK : BEV_NEED_MORE;
}

/* evhttp writes an answer while writing is disabled, then enables it;
 * a filter bufferevent runs its output filter only when data is added
 * or its socket drains, never on enable, so the answer would wait for
 * the next event on the socket. Data added to the output schedules a
 * flush on this loop turn, after evhttp has enabled writing. */
static void
s_on_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    conn_t *c = arg;
    (void)buf;
    if (info->n_added > 0)
        event_active(c->kick, EV_TIMEOUT, 1);
}

static void
s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    (void)fd;
    (void)what;
    bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
}

/* The filter is gone: evhttp closed the connection. */
static void
s_conn_free(void *arg)
{
    conn_t *c = arg;
    rl_httpd_t *h = c->h;

    if (c->deadline != NULL)
        event_free(c->deadline);
    if (c->kick != NULL)
        event_free(c->kick);
    if (h != NULL) {
        LIST_REMOVE(c, link);
        if (c->fd >= 0 && (size_t)c->fd < h->nby_fd && h->by_fd[c->fd] == c)
            h->by_fd[c->fd] = NULL;
        h->st.open--;
        if (h->capped && h->st.open < (uint64_t)h->lim.max_connections) {
            h->capped = false;
            s_accepting(h);
        }
    }
    free(c);
}

/* evhttp accepted a connection and asks for its bufferevent. */
static struct bufferevent *
s_on_connection(struct event_base *base, void *arg)
{
    rl_httpd_t *h = arg;
    conn_t *c = rl_calloc(1, sizeof *c);
    struct bufferevent *sock =
        bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

    c->h = h;
    c->fd = -1;
    c->deadline = evtimer_new(base, s_on_deadline, c);
    c->kick = event_new(base, -1, 0, s_on_kick, c);
    c->bev =
        sock == NULL || c->deadline == NULL || c->kick == NULL
            ? NULL
            : bufferevent_filter_new(sock, s_filter_in, s_filter_out,
                                     BEV_OPT_CLOSE_ON_FREE, s_conn_free, c);
    if (c->bev == NULL || evbuffer_add_cb(bufferevent_get_output(c->bev),
                                          s_on_added, c) == NULL) {
        /* evhttp makes a plain bufferevent of its own: this connection
         * goes unwatched, and uncounted. */
        if (c->bev != NULL) {
            c->h = NULL; /* s_conn_free: never counted nor listed */
            bufferevent_free(c->bev); /* frees sock and c */
        } else {
            if (sock != NULL)
                bufferevent_free(sock);
            if (c->deadline != NULL)
                event_free(c->deadline);
            if (c->kick != NULL)
                event_free(c->kick);
            free(c);
        }
        return NULL;
    }
    LIST_INSERT_HEAD(&h->conns, c, link);
    h->st.accepted++;
    h->st.open++;
    if (h->st.open >= (uint64_t)h->lim.max_connections && !h->capped) {
        uint64_t held = 0;
        h->capped = true;
        h->st.at_cap++;
        s_accepting(h);
        if (rl_log_limit(&h->log_cap, S_LOG_EVERY_MS, &held))
            rl_log_warnx("%s: %d connections open: not accepting until one "
                         "closes ([http] max_connections; %llu more since "
                         "the last line)",
                         h->name, h->lim.max_connections,
                         (unsigned long long)held);
    }
    return c->bev;
}

static conn_t *
s_conn_of(rl_httpd_t *h, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    int fd;

    if (evcon == NULL)
        return NULL;
    fd = (int)bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    if (fd < 0 || (size_t)fd >= h->nby_fd)
        return NULL;
    return h->by_fd[fd];
}

/* ---- requests -------------------------------------------------------- */

void
rl_httpd_refuse(struct evhttp_request *req, int status, const char *code,
                const char *message, int close)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    json_t *o = json_pack("{s:{s:s, s:s, s:s, s:n}}", "error", "type",
                          "invalid_request_error", "code", code, "message",
                          message, "param");
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    evhttp_add_header(out, "Content-Type", "application/json");
    if (close)
        evhttp_add_header(out, "Connection", "close");
    if (text != NULL)
        evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
    free(text);
    evhttp_send_reply(req, status, NULL, NULL);
}

static void
s_refuse(rl_httpd_t *h, struct evhttp_request *req, int status,
         const char *code, const char *message)
{
    uint64_t held = 0;

    if (rl_log_limit(&h->log_refused, S_LOG_EVERY_MS, &held))
        rl_log_info("%s: %d %s from %s (%llu more refusals since the last "
                    "line)",
                    h->name, status, code, rl_httpd_peer(req),
                    (unsigned long long)held);
    rl_httpd_refuse(req, status, code, message, 1);
}

static bool
s_digits(const char *v)
{
    size_t n = strlen(v);
    return n > 0 && n <= S_CL_DIGITS_MAX && strspn(v, "0123456789") == n;
}

/* HTTP/1.0 or HTTP/1.1: refuses anything else (505, connection closed),
 * answering as HTTP/1.1 (evhttp would echo the version it was sent, and
 * frame its answer by rules that version does not have). */
static bool
s_version_ok(rl_httpd_t *h, struct evhttp_request *req)
{
    if (req->major == 1 && (req->minor == 0 || req->minor == 1))
        return true;
    req->major = 1;
    req->minor = 1;
    h->st.bad_framing++;
    s_refuse(h, req, 505, "http_version_not_supported",
             "only HTTP/1.0 and HTTP/1.1 are served");
    return false;
}

/* The framing of req is unambiguous: refuses it (400, connection
 * closed) and returns false otherwise. */
static bool
s_framing_ok(rl_httpd_t *h, struct evhttp_request *req)
{
    const struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const struct evkeyval *kv;
    const char *cl = NULL, *te = NULL, *why = NULL;
    int ncl = 0, nte = 0;

    TAILQ_FOREACH(kv, in, next)
    {
        if (strcasecmp(kv->key, "Content-Length") == 0) {
            ncl++;
            cl = kv->value;
        } else if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
            nte++;
            te = kv->value;
        }
    }
    if (ncl > 1)
        why = "Content-Length is given more than once";
    else if (ncl == 1 && !s_digits(cl))
        why = "Content-Length must be decimal digits";
    else if (nte > 0 && ncl > 0)
        why = "Transfer-Encoding and Content-Length together";
    else if (nte > 1 || (nte == 1 && strcasecmp(te, "chunked") != 0))
        why = "the only Transfer-Encoding accepted is one 'chunked'";
    else if (nte == 1 && req->major == 1 && req->minor == 0)
        why = "Transfer-Encoding on an HTTP/1.0 request";
    if (why == NULL)
        return true;
    h->st.bad_framing++;
    s_refuse(h, req, 400, "ambiguous_framing", why);
    return false;
}

/* The request line and headers are within the limits: refuses it (431,
 * connection closed) and returns false otherwise. */
static bool
s_size_ok(rl_httpd_t *h, struct evhttp_request *req)
{
    const struct evkeyvalq *in = evhttp_request_get_input_headers(req);
    const struct evkeyval *kv;
    const char *uri = evhttp_request_get_uri(req);
    size_t bytes = S_LINE_OVERHEAD + (uri != NULL ? strlen(uri) : 0);
    int n = 0;

    TAILQ_FOREACH(kv, in, next)
    {
        n++;
        bytes += strlen(kv->key) + strlen(kv->value) + S_HEADER_OVERHEAD;
    }
    if (n > h->lim.max_headers) {
        h->st.too_large++;
        s_refuse(h, req, 431, "headers_too_large",
                 "the request has too many header lines");
        return false;
    }
    if (bytes > (size_t)h->lim.max_header_bytes) {
        h->st.too_large++;
        s_refuse(h, req, 431, "headers_too_large",
                 "the request line and headers are too large");
        return false;
    }
    return true;
}

/* The client may still try to authenticate: refuses it (429 with
 * Retry-After) and returns false otherwise. */
static bool
s_guess_ok(rl_httpd_t *h, struct evhttp_request *req)
{
    int retry = 0;
    char value[RL_FMT_DEC_LEN];

    if (h->fails == NULL || rl_addrlimit_allowed(h->fails, rl_httpd_peer(req),
                                                 rl_clock_mono_ms(), &retry))
        return true;
    h->st.auth_refused++;
    rl_fmt_dec(value, retry > 0 ? retry : 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      value);
    rl_httpd_refuse(req, 429, "too_many_auth_failures",
                    "too many failed authentications from this address; "
                    "retry after the Retry-After header",
                    0);
    return false;
}

static void
s_on_request(struct evhttp_request *req, void *arg)
{
    rl_httpd_t *h = arg;
    conn_t *c = s_conn_of(h, req);

    if (c != NULL) {
        c->reading = false;
        evtimer_del(c->deadline);
    }
    if (!s_version_ok(h, req) || !s_framing_ok(h, req) || !s_size_ok(h, req) ||
        !s_guess_ok(h, req))
        return;
    h->cb(req, h->arg);
}

void
rl_httpd_auth_failed(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    rl_httpd_t *h;
    conn_t *c;
    int fd;

    if (evcon == NULL)
        return;
    fd = (int)bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    for (size_t i = 0; i < S_MAX_LISTENERS; i++) {
        h = s_listeners[i];
        if (h == NULL || h->fails == NULL || fd < 0 ||
            (size_t)fd >= h->nby_fd || (c = h->by_fd[fd]) == NULL ||
            c->bev != evhttp_connection_get_bufferevent(evcon))
            continue;
        rl_addrlimit_take(h->fails, rl_httpd_peer(req), rl_clock_mono_ms());
        return;
    }
}

/* ---- the listener -------------------------------------------------- */

/* "A.B.C.D:PORT" or "[V6]:PORT", PORT 0..65535 (0: any free port). */
static int
s_parse_addr(const char *addr, struct sockaddr_storage *ss, int *len)
{
    const char *colon = strrchr(addr, ':');
    char host[INET6_ADDRSTRLEN + 2];
    size_t n;
    char *end = NULL;
    long port;

    if (colon == NULL || colon[1] == '\0' ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        return -1;
    port = strtol(colon + 1, &end, 10);
    n = (size_t)(colon - addr);
    if (port > 65535 || n == 0 || n >= sizeof host)
        return -1;
    memcpy(host, addr, n);
    host[n] = '\0';
    memset(ss, 0, sizeof *ss);
    if (host[0] == '[' && host[n - 1] == ']') {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        host[n - 1] = '\0';
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = (int)sizeof *in6;
        return evutil_inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1 ? 0
                                                                          : -1;
    }
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    in4->sin_family = AF_INET;
    in4->sin_port = htons((uint16_t)port);
    *len = (int)sizeof *in4;
    return evutil_inet_pton(AF_INET, host, &in4->sin_addr) == 1 ? 0 : -1;
}

static int
s_listen(rl_httpd_t *h, const char *addr, int flags, char *why, size_t why_len)
{
    struct sockaddr_storage ss;
    int sslen = 0;
    struct evhttp_bound_socket *bound;

    if (s_parse_addr(addr, &ss, &sslen) != 0) {
        rl_fmt_msg(why, why_len, "'%s' is not IP:PORT or [IPV6]:PORT", addr);
        return -1;
    }
    h->listener = evconnlistener_new_bind(
        h->base, NULL, NULL,
        LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
            ((flags & RL_HTTPD_SHARE_PORT) ? LEV_OPT_REUSEABLE_PORT : 0),
        S_BACKLOG, (struct sockaddr *)&ss, sslen);
    if (h->listener == NULL) {
        rl_fmt_msg(why, why_len, "cannot listen on %s: %s", addr,
                   strerror(errno));
        return -1;
    }
    bound = evhttp_bind_listener(h->http, h->listener);
    if (bound == NULL) {
        evconnlistener_free(h->listener);
        h->listener = NULL;
        rl_fmt_msg(why, why_len, "cannot serve HTTP on %s", addr);
        return -1;
    }
    evconnlistener_set_error_cb(h->listener, s_on_accept_error);
    sslen = (int)sizeof ss;
    if (getsockname(evconnlistener_get_fd(h->listener), (struct sockaddr *)&ss,
                    (socklen_t *)&sslen) == 0)
        h->port = ntohs(ss.ss_family == AF_INET6
                            ? ((struct sockaddr_in6 *)&ss)->sin6_port
                            : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

rl_httpd_t *
rl_httpd_new(struct event_base *base, const char *addr,
             const rl_httpd_limits_t *lim, int flags, uint16_t methods,
             rl_httpd_cb cb, void *arg, const char *name, char *why,
             size_t why_len)
{
    assert(base != NULL && addr != NULL && lim != NULL && cb != NULL);
    assert(lim->max_connections > 0 && lim->max_headers > 0);
    rl_httpd_t *h = rl_calloc(1, sizeof *h);
    struct timeval idle = {lim->idle_timeout_ms / 1000,
                           (lim->idle_timeout_ms % 1000) * 1000};

    h->base = base;
    h->lim = *lim;
    h->cb = cb;
    h->arg = arg;
    h->name = name;
    LIST_INIT(&h->conns);
    h->http = evhttp_new(base);
    h->resume = evtimer_new(base, s_on_resume, h);
    if (lim->auth_failures_burst > 0 && lim->auth_failures_per_min > 0)
        h->fails = rl_addrlimit_new((double)lim->auth_failures_burst,
                                    (double)lim->auth_failures_per_min,
                                    S_AUTH_CLIENTS);
    if (h->http == NULL || h->resume == NULL || s_register(h) != 0) {
        rl_fmt_msg(why, why_len, "cannot make an HTTP server");
        rl_httpd_destroy(&h);
        return NULL;
    }
    evhttp_set_gencb(h->http, s_on_request, h);
    evhttp_set_bevcb(h->http, s_on_connection, h);
    evhttp_set_allowed_methods(h->http, methods);
    /* evhttp's own cut, well past ours: s_size_ok answers 431 below it;
     * past it evhttp answers 413 and closes, having held no more. */
    evhttp_set_max_headers_size(h->http, (ev_ssize_t)lim->max_header_bytes * 2);
    evhttp_set_max_body_size(h->http, (ev_ssize_t)lim->max_body);
    evhttp_set_timeout_tv(h->http, &idle);
    if (s_listen(h, addr, flags, why, why_len) != 0) {
        rl_httpd_destroy(&h);
        return NULL;
    }
    return h;
}

void
rl_httpd_destroy(rl_httpd_t **p)
{
    rl_httpd_t *h;
    conn_t *c;

    if (p == NULL || *p == NULL)
        return;
    h = *p;
    /* evhttp_free closes every connection; their filters may be freed
     * later (libevent finalises bufferevents on its loop), so each one
     * forgets the listener first. */
    while ((c = LIST_FIRST(&h->conns)) != NULL) {
        LIST_REMOVE(c, link);
        c->h = NULL;
        event_free(c->deadline);
        c->deadline = NULL;
        event_free(c->kick);
        c->kick = NULL;
    }
    if (h->http != NULL)
        evhttp_free(h->http);
    if (h->resume != NULL)
        event_free(h->resume);
    rl_addrlimit_destroy(&h->fails);
    s_unregister(h);
    free(h->by_fd);
    free(h);
    *p = NULL;
}

int
rl_httpd_port(const rl_httpd_t *h)
{
    return h->port;
}

struct evhttp *
rl_httpd_evhttp(rl_httpd_t *h)
{
    return h->http;
}

rl_httpd_stats_t
rl_httpd_stats(const rl_httpd_t *h)
{
    return h->st;
}

const char *
rl_httpd_peer(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char *addr = NULL;
    ev_uint16_t port = 0;

    if (evcon == NULL)
        return "";
    evhttp_connection_get_peer(evcon, &addr, &port);
    return addr != NULL ? addr : "";
}

/* Raises the open-file limit to its hard limit; returns the soft limit
 * now in force, or -1 when it cannot be read. */
static long
s_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? S_NOFILE_PLENTY : (long)rl.rlim_cur;
}

rl_httpd_limits_t
rl_httpd_limits(const rl_config_t *cfg, long max_body)
{
    rl_httpd_limits_t lim = {
        .max_connections = cfg->http_max_connections,
        .max_header_bytes = cfg->http_max_header_bytes,
        .max_headers = cfg->http_max_headers,
        .max_body = max_body,
        .idle_timeout_ms = cfg->http_idle_timeout_ms,
        .request_timeout_ms = cfg->http_request_timeout_ms,
        .auth_failures_burst = cfg->auth_failures_burst,
        .auth_failures_per_min = cfg->auth_failures_per_min,
    };
    long nofile = s_raise_nofile();

    /* Room for Redis, ZeroMQ, curl and the log besides the clients: at
     * the cap, accept() must never be the call that finds none left. */
    if (nofile > 0 && lim.max_connections > nofile - S_NOFILE_RESERVE) {
        long room = nofile - S_NOFILE_RESERVE;
        lim.max_connections =
            room > S_MIN_CONNECTIONS ? (int)room : S_MIN_CONNECTIONS;
        rl_log_warnx("[http] max_connections lowered from %d to %d: this "
                     "process may open %ld files (raise its limit, e.g. "
                     "LimitNOFILE=)",
                     cfg->http_max_connections, lim.max_connections, nofile);
    }
    return lim;
}
