/*
 * fz_broker - an in-process broker and a raw HTTP client for the fuzz
 * targets.
 * SPDX-License-Identifier: MIT
 */
#include "fz_broker.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "dispatch.h"
#include "fz.h"
#include "http_api.h"
#include "ingress.h"
#include "master.h"
#include "rl_alloc.h"

#define S_IDLE_PASSES 24       /* loop turns without a byte: nothing more */
#define S_MAX_PASSES 4000      /* loop turns of one exchange at most */
#define S_CLOSE_PASSES 4       /* loop turns for the server to see a close */
#define S_CHUNK 65536          /* bytes read at once */
#define S_CONNECT_WAIT_MS 1000 /* an interrupted connect's rest */

void
fz_broker_start(fz_broker_t *fb, struct event_base *base, void *zctx,
                const char *tag, int redis_port)
{
    const rl_config_t *cfg;

    memset(fb, 0, sizeof *fb);
    fb->http_port = fz_free_port();
    fb->cfg = fz_config(tag, fb->http_port, redis_port);
    cfg = fb->cfg;
    fb->b.cfg = cfg;
    snprintf(fb->b.id, sizeof fb->b.id, "broker-fuzz-%s", tag);
    fb->b.base = base;
    fb->b.zctx = zctx;
    fb->b.redis = rl_redis_from_config(base, cfg);
    fb->b.dispatch = dispatch_new(&fb->b);
    fb->b.ingress = ingress_new(&fb->b);
    FZ_CHECK(fb->b.redis != NULL && fb->b.dispatch != NULL &&
                 fb->b.ingress != NULL && broker_master_load(&fb->b) != NULL &&
                 http_api_start(&fb->b) == 0,
             "the fuzz broker %s does not start", tag);
}

bool
fz_broker_wait_redis(fz_broker_t *fb, int passes)
{
    for (int i = 0; i < passes && !rl_redis_answering(fb->b.redis); i++)
        event_base_loop(fb->b.base, EVLOOP_ONCE);
    return rl_redis_answering(fb->b.redis);
}

/* Appends what the socket holds now; false once it is closed. */
static bool
s_read(int fd, fz_http_answer_t *a, bool *got)
{
    char buf[S_CHUNK];
    ssize_t n;

    *got = false;
    /* libFuzzer's timer signal interrupts calls: EINTR is "again". */
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0 ||
           (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        a->bytes = rl_realloc(a->bytes, a->len + (size_t)n + 1);
        memcpy(a->bytes + a->len, buf, (size_t)n);
        a->len += (size_t)n;
        a->bytes[a->len] = '\0';
        *got = true;
    }
    return !(n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK));
}

/* Whether connect() of fd, which returned rc, connected: a connect
 * interrupted by a signal (libFuzzer's timer) goes on in the kernel. */
static bool
s_connected(int fd, int rc)
{
    struct pollfd p = {fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;

    if (rc == 0 || errno != EINTR)
        return rc == 0;
    while ((rc = poll(&p, 1, S_CONNECT_WAIT_MS)) < 0 && errno == EINTR)
        ;
    return rc == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
           err == 0;
}

static int
s_connect(int port)
{
    struct sockaddr_in sin;
    struct linger quick = {1, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FZ_CHECK(fd >= 0 && s_connected(fd, connect(fd, (struct sockaddr *)&sin,
                                                sizeof sin)),
             "cannot connect to the broker: %s", strerror(errno));
    FZ_CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
    /* Closed with a reset: thousands of connections a second would
     * otherwise fill the port range with TIME_WAIT. */
    FZ_CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &quick, sizeof quick) == 0,
             "SO_LINGER");
    return fd;
}

void
fz_http_exchange(struct event_base *base, int port, const void *req, size_t len,
                 fz_http_answer_t *a)
{
    int fd = s_connect(port);
    size_t sent = 0;
    int idle = 0;
    bool got = false;

    memset(a, 0, sizeof *a);
    a->bytes = rl_strdup("");
    for (int pass = 0; pass < S_MAX_PASSES && idle < S_IDLE_PASSES; pass++) {
        if (sent < len) {
            ssize_t n =
                send(fd, (const char *)req + sent, len - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                     errno != EINTR)
                sent = len; /* the server closed: read what it said */
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (!s_read(fd, a, &got)) {
            a->closed = true;
            break;
        }
        idle = got || sent < len ? 0 : idle + 1;
    }
    close(fd);
    for (int i = 0; i < S_CLOSE_PASSES; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

void
fz_http_answer_release(fz_http_answer_t *a)
{
    free(a->bytes);
    memset(a, 0, sizeof *a);
}

/* The value of header `name` in the header block [h, end), or NULL;
 * *vlen gets its length. */
static const char *
s_header(const char *h, const char *end, const char *name, size_t *vlen)
{
    size_t nlen = strlen(name);

    while (h < end) {
        const char *eol = memchr(h, '\n', (size_t)(end - h));
        const char *v;

        eol = eol != NULL ? eol : end;
        if ((size_t)(eol - h) > nlen && h[nlen] == ':' &&
            strncasecmp(h, name, nlen) == 0) {
            v = h + nlen + 1;
            while (v < eol && *v == ' ')
                v++;
            *vlen = (size_t)(eol - v);
            if (*vlen > 0 && v[*vlen - 1] == '\r')
                (*vlen)--;
            return v;
        }
        h = eol + 1;
    }
    return NULL;
}

int
fz_http_next(const fz_http_answer_t *a, size_t *off, fz_http_response_t *r)
{
    const char *start = a->bytes + *off;
    size_t left = a->len - *off;
    const char *hend, *sp, *v;
    size_t vlen = 0, head, body = 0;
    char num[24];

    memset(r, 0, sizeof *r);
    if (left == 0)
        return 0;
    hend = memmem(start, left, "\r\n\r\n", 4);
    FZ_CHECK(hend != NULL, "a response without its end of headers: %.200s",
             start);
    /* evhttp answers in the version the request named, as it read it
     * (even "HTTP/0.1" or "HTTP/1.-1"): the status follows the first
     * space. */
    sp = memchr(start, ' ', (size_t)(hend - start));
    FZ_CHECK(
        memcmp(start, "HTTP/", 5) == 0 && sp != NULL && hend - sp > 4 &&
            isdigit((unsigned char)sp[1]) && isdigit((unsigned char)sp[2]) &&
            isdigit((unsigned char)sp[3]) && (sp[4] == ' ' || sp[4] == '\r'),
        "not an HTTP status line: %.80s", start);
    r->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    FZ_CHECK(r->status >= 100 && r->status <= 599, "status %.3s", sp + 1);
    head = (size_t)(hend - start) + 4;
    v = s_header(start, hend, "Content-Type", &vlen);
    r->json =
        v != NULL && vlen >= 16 && strncasecmp(v, "application/json", 16) == 0;
    r->retry_after = s_header(start, hend, "Retry-After", &vlen) != NULL;
    v = s_header(start, hend, "Content-Length", &vlen);
    if (v != NULL) {
        FZ_CHECK(vlen > 0 && vlen < sizeof num, "Content-Length %.*s",
                 (int)vlen, v);
        memcpy(num, v, vlen);
        num[vlen] = '\0';
        body = strtoul(num, NULL, 10);
    } else if (r->status >= 200) {
        FZ_CHECK(s_header(start, hend, "Transfer-Encoding", &vlen) == NULL,
                 "a chunked response");
        body = a->closed ? left - head : 0;
    }
    FZ_CHECK(head + body <= left, "a response cut short: %zu of %zu bytes",
             left - head, body);
    r->body = start + head;
    r->body_len = body;
    *off += head + body;
    return 1;
}
