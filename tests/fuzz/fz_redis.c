/*
 * fz_redis - a fake Redis server for the fuzz targets.
 * SPDX-License-Identifier: MIT
 */
#include "fz_redis.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <openssl/sha.h>

#include "rl_alloc.h"
#include "rl_lua.h"

#define S_ARGS_MAX 300 /* arguments of a command read (and ignored) */
#define S_LINE_MAX 64  /* a RESP header line: "*N" or "$N" */
#define S_NUM_LEN 24   /* a decimal count and its NUL */
#define S_NAME_MAX 48  /* a command or script name */
#define S_SHA_HEX 41   /* a SHA-1 in hex and its NUL */
#define S_NAMED_MAX 8  /* replies set for one name */

typedef struct {
    char name[S_NAME_MAX]; /* a script or command name */
    char *reply;           /* its RESP, owned */
    size_t len;
} s_named_t;

struct fz_redis {
    struct evconnlistener *listener; /* on 127.0.0.1, a free port */
    int port;                        /* its port */
    char *reply;                     /* RESP answered to every command */
    size_t reply_len;                /* its length */
    s_named_t named[S_NAMED_MAX];    /* replies for one name */
    size_t nnamed;
    size_t answered; /* commands answered, PING aside */
};

/* --- the reply grammar ------------------------------------------------- */

/* A header or a line item: its type byte, then text without CR or LF. */
static void
s_put_line(struct evbuffer *out, char type, const char *text, size_t len)
{
    evbuffer_add(out, &type, 1);
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r')
            evbuffer_add(out, &text[i], 1);
    evbuffer_add(out, "\r\n", 2);
}

static void
s_put_count(struct evbuffer *out, char type, long n)
{
    char num[S_NUM_LEN];
    int k = snprintf(num, sizeof num, "%ld", n);

    s_put_line(out, type, num, (size_t)k);
}

/* One item from the next line of in (a nil when none is left). */
static void
s_item(fz_in_t *in, struct evbuffer *out, int depth)
{
    size_t len = 0;
    char *line = in->n > 0 ? fz_str(in, '\n', &len) : NULL;
    char *end = NULL;
    long n;

    if (line == NULL || len == 0 || line[0] == '_') {
        evbuffer_add(out, "$-1\r\n", 5);
    } else if (line[0] == '$') {
        s_put_count(out, '$', (long)len - 1);
        evbuffer_add(out, line + 1, len - 1);
        evbuffer_add(out, "\r\n", 2);
    } else if (line[0] == '*') {
        n = strtol(line + 1, &end, 10);
        if (end == line + 1 || n < 0)
            n = 0;
        if (n > FZ_REDIS_ITEMS)
            n = FZ_REDIS_ITEMS;
        if (depth >= FZ_REDIS_DEPTH)
            n = 0;
        s_put_count(out, '*', n);
        for (long i = 0; i < n; i++)
            s_item(in, out, depth + 1);
    } else if (line[0] == ':') {
        n = strtol(line + 1, &end, 10);
        s_put_count(out, ':', end == line + 1 ? 0 : n);
    } else if (line[0] == '+' || line[0] == '-') {
        s_put_line(out, line[0], line + 1, len - 1);
    } else {
        s_put_line(out, '+', line, len); /* a bare word is a status */
    }
    free(line);
}

char *
fz_redis_resp(fz_in_t *in, size_t *len)
{
    struct evbuffer *out = evbuffer_new();
    char *resp;

    s_item(in, out, 0);
    *len = evbuffer_get_length(out);
    resp = rl_malloc(*len + 1);
    evbuffer_remove(out, resp, *len);
    resp[*len] = '\0';
    evbuffer_free(out);
    return resp;
}

/* --- the server -------------------------------------------------------- */

/* Reads one "<type><number>\r\n" line at the front of in without taking
 * it; returns its length with the CRLF, 0 when incomplete, -1 when it is
 * not such a line. */
static long
s_peek_num(struct evbuffer *in, char type, long *n)
{
    struct evbuffer_ptr eol =
        evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF_STRICT);
    char line[S_LINE_MAX];
    char *end = NULL;

    if (eol.pos < 0)
        return evbuffer_get_length(in) > S_LINE_MAX ? -1 : 0;
    if (eol.pos < 2 || eol.pos >= S_LINE_MAX)
        return -1;
    evbuffer_copyout(in, line, (size_t)eol.pos);
    line[eol.pos] = '\0';
    *n = strtol(line + 1, &end, 10);
    if (line[0] != type || *end != '\0' || *n < 0)
        return -1;
    return (long)eol.pos + 2;
}

/* Takes one whole command off in; 1 when taken (args[0..1] get the
 * start of its first two arguments), 0 when incomplete, -1 when it is
 * not RESP. */
static int
s_take_command(struct evbuffer *in, char args[2][S_NAME_MAX])
{
    size_t avail = evbuffer_get_length(in), off;
    long head, nargs, n;
    struct evbuffer_ptr at;

    head = s_peek_num(in, '*', &nargs);
    if (head <= 0 || nargs > S_ARGS_MAX)
        return head == 0 ? 0 : -1;
    off = (size_t)head;
    for (long i = 0; i < nargs; i++) {
        unsigned char line[S_LINE_MAX];
        size_t k = 0;
        char *end = NULL;

        if (evbuffer_ptr_set(in, &at, off, EVBUFFER_PTR_SET) != 0)
            return 0;
        evbuffer_copyout_from(in, &at, line, sizeof line - 1);
        while (k < sizeof line - 1 && off + k < avail && line[k] != '\n')
            k++;
        if (off + k >= avail)
            return 0;
        line[k] = '\0';
        n = strtol((char *)line + 1, &end, 10);
        if (line[0] != '$' || n < 0)
            return -1;
        off += k + 1 + (size_t)n + 2;
        if (off > avail)
            return 0;
        if (i < 2) {
            size_t keep =
                (size_t)n < S_NAME_MAX - 1 ? (size_t)n : S_NAME_MAX - 1;
            evbuffer_ptr_set(in, &at, off - (size_t)n - 2, EVBUFFER_PTR_SET);
            evbuffer_copyout_from(in, &at, args[i], keep);
            args[i][keep] = '\0';
        }
    }
    evbuffer_drain(in, off);
    return 1;
}

/* The name of a command: the script's for EVALSHA (by its SHA-1, as
 * rl_redis sends it), else the command's own. */
static const char *
s_name(char args[2][S_NAME_MAX])
{
    if (strcasecmp(args[0], "EVALSHA") != 0)
        return args[0];
    for (size_t i = 0; rl_lua_sources[i].name != NULL; i++) {
        const char *src = rl_lua_sources[i].source;
        unsigned char md[SHA_DIGEST_LENGTH];
        char hex[S_SHA_HEX];
        SHA1((const unsigned char *)src, strlen(src), md);
        for (int k = 0; k < SHA_DIGEST_LENGTH; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        if (strcmp(hex, args[1]) == 0)
            return rl_lua_sources[i].name;
    }
    return args[0];
}

/* The reply to a command of that name. */
static void
s_answer(fz_redis_t *r, struct bufferevent *bev, const char *name)
{
    for (size_t i = 0; i < r->nnamed; i++) {
        if (strcmp(r->named[i].name, name) == 0) {
            bufferevent_write(bev, r->named[i].reply, r->named[i].len);
            return;
        }
    }
    r->answered++;
    bufferevent_write(bev, r->reply, r->reply_len);
}

static void
s_on_read(struct bufferevent *bev, void *arg)
{
    fz_redis_t *r = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    char args[2][S_NAME_MAX];
    int rc;

    memset(args, 0, sizeof args);
    while ((rc = s_take_command(in, args)) == 1) {
        if (strcasecmp(args[0], "PING") == 0)
            bufferevent_write(bev, "+PONG\r\n", 7);
        else
            s_answer(r, bev, s_name(args));
        memset(args, 0, sizeof args);
    }
    if (rc < 0)
        bufferevent_free(bev); /* not a client of ours */
}

static void
s_on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        bufferevent_free(bev);
}

static void
s_on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
            int len, void *arg)
{
    struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l),
                                                     fd, BEV_OPT_CLOSE_ON_FREE);

    (void)addr;
    (void)len;
    bufferevent_setcb(bev, s_on_read, NULL, s_on_event, arg);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

fz_redis_t *
fz_redis_new(struct event_base *base)
{
    fz_redis_t *r = rl_calloc(1, sizeof *r);
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->listener = evconnlistener_new_bind(
        base, s_on_accept, r, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
        (struct sockaddr *)&sin, sizeof sin);
    FZ_CHECK(r->listener != NULL &&
                 getsockname(evconnlistener_get_fd(r->listener),
                             (struct sockaddr *)&sin, &len) == 0,
             "the fake Redis cannot listen");
    r->port = ntohs(sin.sin_port);
    fz_redis_set_reply(r, "$-1\r\n", 5);
    return r;
}

int
fz_redis_port(const fz_redis_t *r)
{
    return r->port;
}

void
fz_redis_set_reply(fz_redis_t *r, const char *resp, size_t len)
{
    free(r->reply);
    r->reply = rl_malloc(len + 1);
    memcpy(r->reply, resp, len);
    r->reply[len] = '\0';
    r->reply_len = len;
}

void
fz_redis_set_named(fz_redis_t *r, const char *name, const char *resp,
                   size_t len)
{
    s_named_t *n = NULL;

    for (size_t i = 0; i < r->nnamed && n == NULL; i++)
        if (strcmp(r->named[i].name, name) == 0)
            n = &r->named[i];
    if (n == NULL) {
        FZ_CHECK(r->nnamed < S_NAMED_MAX, "too many named replies");
        n = &r->named[r->nnamed++];
        snprintf(n->name, sizeof n->name, "%s", name);
    }
    free(n->reply);
    n->reply = rl_malloc(len + 1);
    memcpy(n->reply, resp, len);
    n->reply[len] = '\0';
    n->len = len;
}

size_t
fz_redis_take_count(fz_redis_t *r)
{
    size_t n = r->answered;

    r->answered = 0;
    return n;
}
