/*
 * test_http - unit tests for rl_http against a real libevent evhttp
 * server on 127.0.0.1, sharing the client's event base.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "rl_clock.h"
#include "rl_http.h"

#define T_WAIT_MS 5000    /* longest any test waits for callbacks */
#define T_TICK_MS 10      /* wakes the loop so deadlines are checked */
#define T_MAX_HELD 8      /* /hang requests the server may hold */
#define T_BIG_BODY 100000 /* size of the /big response */
#define T_CONCURRENT 200  /* requests in the concurrency test */
#define T_TIMEOUT_MS 5000 /* default per-request timeout */
#define T_MAX_BODY 65536  /* default capture cap */

typedef struct {
    struct event_base *base;
    struct evhttp *http;
    struct event *tick;
    rl_http_t *client;
    int port;
    int hits;                                /* requests the server saw */
    struct evhttp_request *held[T_MAX_HELD]; /* unanswered /hang requests */
    int n_held;
    uint16_t peer_ports[64]; /* client ports of the first /echo hits */
    int n_peers;
} fixture_t;

typedef struct {
    int calls;
    long status;
    int curl_code;
    bool timed_out;
    bool not_sent;
    bool truncated;
    bool refused;
    char body[256];
    size_t body_len;
    bool has_retry_after;
    char retry_after[64];
    bool has_poll_after;
    char poll_after[64];
    char ip[64];
    char error[256];
    double total_ms;
} result_t;

/* --- the server -------------------------------------------------------- */

static void
s_note_peer(fixture_t *f, struct evhttp_request *req)
{
    char *addr = NULL;
    uint16_t port = 0;

    evhttp_connection_get_peer(evhttp_request_get_connection(req), &addr,
                               &port);
    if (f->n_peers < (int)(sizeof f->peer_ports / sizeof f->peer_ports[0]))
        f->peer_ports[f->n_peers++] = port;
}

static void
s_serve_echo(fixture_t *f, struct evhttp_request *req, struct evbuffer *out)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const char *x_test =
        evhttp_find_header(evhttp_request_get_input_headers(req), "X-Test");
    const char *method =
        evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST" : "GET";

    s_note_peer(f, req);
    evbuffer_add_printf(out, "%s|%s|", method, x_test ? x_test : "");
    evbuffer_add_buffer(out, in);
    evhttp_send_reply(req, 200, "OK", out);
}

static void
s_serve(struct evhttp_request *req, void *arg)
{
    fixture_t *f = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);

    f->hits++;
    if (strcmp(path, "/echo") == 0) {
        s_serve_echo(f, req, out);
    } else if (strcmp(path, "/busy") == 0) {
        evhttp_add_header(hdrs, "Retry-After", "7");
        evhttp_add_header(hdrs, "OpenAI-Poll-After-Ms", " 1500 ");
        evbuffer_add_printf(out, "busy");
        evhttp_send_reply(req, 503, "Service Unavailable", out);
    } else if (strcmp(path, "/big") == 0) {
        for (int i = 0; i < T_BIG_BODY / 10; i++)
            evbuffer_add(out, "0123456789", 10);
        evhttp_send_reply(req, 200, "OK", out);
    } else if (strcmp(path, "/hang") == 0 && f->n_held < T_MAX_HELD) {
        f->held[f->n_held++] = req;
    } else {
        evhttp_send_reply(req, 404, "Not Found", out);
    }
    evbuffer_free(out);
}

static void
s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static int
s_bound_port(struct evhttp_bound_socket *bound)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;

    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sin,
                    &len) != 0)
        return -1;
    return ntohs(sin.sin_port);
}

static int
s_setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    struct timeval tick = {0, (long)T_TICK_MS * 1000};
    struct evhttp_bound_socket *bound;

    assert_non_null(f);
    f->base = event_base_new();
    f->http = evhttp_new(f->base);
    assert_non_null(f->http);
    evhttp_set_gencb(f->http, s_serve, f);
    bound = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
    assert_non_null(bound);
    f->port = s_bound_port(bound);
    assert_true(f->port > 0);
    f->tick = event_new(f->base, -1, EV_PERSIST, s_on_tick, NULL);
    event_add(f->tick, &tick);
    f->client = rl_http_new(f->base, NULL);
    assert_non_null(f->client);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    fixture_t *f = *state;

    rl_http_destroy(&f->client);
    assert_null(f->client);
    /* Answering frees held requests whose connection already closed. */
    for (int i = 0; i < f->n_held; i++)
        evhttp_send_reply(f->held[i], 500, "Gone", NULL);
    evhttp_free(f->http);
    event_free(f->tick);
    event_base_free(f->base);
    free(f);
    return 0;
}

/* --- helpers ----------------------------------------------------------- */

static void
s_copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src != NULL ? src : "");
}

static void
s_record(const rl_http_resp_t *resp, void *arg)
{
    result_t *r = arg;

    r->calls++;
    r->status = resp->status;
    r->curl_code = resp->curl_code;
    r->timed_out = resp->timed_out;
    r->not_sent = resp->not_sent;
    r->truncated = resp->truncated;
    r->refused = resp->refused;
    r->body_len = resp->body_len;
    s_copy(r->body, sizeof r->body, resp->body);
    r->has_retry_after = resp->retry_after != NULL;
    s_copy(r->retry_after, sizeof r->retry_after, resp->retry_after);
    r->has_poll_after = resp->poll_after_ms != NULL;
    s_copy(r->poll_after, sizeof r->poll_after, resp->poll_after_ms);
    s_copy(r->ip, sizeof r->ip, resp->primary_ip);
    s_copy(r->error, sizeof r->error, resp->error);
    r->total_ms = resp->total_ms;
}

/* Runs the loop until *calls reaches target or ms pass. */
static void
s_run_until(fixture_t *f, const int *calls, int target, int ms)
{
    int64_t deadline = rl_clock_mono_ms() + ms;

    while ((calls == NULL || *calls < target) && rl_clock_mono_ms() < deadline)
        event_base_loop(f->base, EVLOOP_ONCE);
}

static void
s_url(const fixture_t *f, int port, const char *path, char *buf, size_t len)
{
    int n = snprintf(buf, len, "http://127.0.0.1:%d%s", port, path);

    assert_true(n > 0 && (size_t)n < len);
    (void)f;
}

static rl_http_req_t *
s_get(fixture_t *f, const char *path, long timeout_ms, size_t max_body,
      result_t *r)
{
    char url[128];

    s_url(f, f->port, path, url, sizeof url);
    return rl_http_request(f->client, "GET", url, NULL, NULL, 0, timeout_ms,
                           max_body, s_record, r);
}

/* --- tests ------------------------------------------------------------- */

static void
test_get(void **state)
{
    fixture_t *f = *state;
    static const char *const headers[] = {"X-Test: hello", NULL};
    result_t r = {0};
    char url[128];

    s_url(f, f->port, "/echo", url, sizeof url);
    assert_non_null(rl_http_request(f->client, "GET", url, headers, NULL, 0,
                                    T_TIMEOUT_MS, T_MAX_BODY, s_record, &r));
    assert_int_equal(rl_http_pending(f->client), 1);
    s_run_until(f, &r.calls, 1, T_WAIT_MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.curl_code, 0);
    assert_string_equal(r.error, "");
    assert_string_equal(r.body, "GET|hello|");
    assert_int_equal(r.body_len, strlen("GET|hello|"));
    assert_false(r.truncated);
    assert_false(r.timed_out);
    assert_false(r.has_retry_after);
    assert_false(r.has_poll_after);
    assert_string_equal(r.ip, "127.0.0.1");
    assert_true(r.total_ms > 0.0);
    assert_int_equal(rl_http_pending(f->client), 0);
}

static void
test_post_body_and_headers(void **state)
{
    fixture_t *f = *state;
    static const char *const headers[] = {"Content-Type: application/json",
                                          "X-Test: p", NULL};
    static const char body[] = "{\"prompt\":\"a cat\"}";
    result_t r = {0};
    char url[128];

    s_url(f, f->port, "/echo", url, sizeof url);
    assert_non_null(rl_http_request(f->client, "POST", url, headers, body,
                                    strlen(body), T_TIMEOUT_MS, T_MAX_BODY,
                                    s_record, &r));
    s_run_until(f, &r.calls, 1, T_WAIT_MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "POST|p|{\"prompt\":\"a cat\"}");
}

static void
test_503_retry_after(void **state)
{
    fixture_t *f = *state;
    result_t r = {0};

    assert_non_null(s_get(f, "/busy", T_TIMEOUT_MS, T_MAX_BODY, &r));
    s_run_until(f, &r.calls, 1, T_WAIT_MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 503);
    assert_int_equal(r.curl_code, 0);
    assert_string_equal(r.body, "busy");
    assert_true(r.has_retry_after);
    assert_string_equal(r.retry_after, "7");
    assert_true(r.has_poll_after);
    assert_string_equal(r.poll_after, "1500");
}

static void
test_body_cap(void **state)
{
    fixture_t *f = *state;
    result_t small = {0};
    result_t large = {0};

    assert_non_null(s_get(f, "/big", T_TIMEOUT_MS, 100, &small));
    assert_non_null(s_get(f, "/big", T_TIMEOUT_MS, T_BIG_BODY, &large));
    s_run_until(f, &large.calls, 1, T_WAIT_MS);
    s_run_until(f, &small.calls, 1, T_WAIT_MS);
    assert_int_equal(small.calls, 1);
    assert_int_equal(small.status, 200);
    assert_int_equal(small.curl_code, 0);
    assert_true(small.truncated);
    assert_int_equal(small.body_len, 100);
    assert_int_equal(strlen(small.body), 100);
    assert_memory_equal(small.body, "0123456789", 10);
    assert_int_equal(large.calls, 1);
    assert_false(large.truncated);
    assert_int_equal(large.body_len, T_BIG_BODY);
}

static void
test_timeout(void **state)
{
    fixture_t *f = *state;
    result_t r = {0};

    assert_non_null(s_get(f, "/hang", 200, T_MAX_BODY, &r));
    s_run_until(f, &r.calls, 1, T_WAIT_MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(f->n_held, 1);
    assert_true(r.timed_out);
    assert_false(r.not_sent); /* it reached the server */
    assert_int_equal(r.status, 0);
    assert_int_not_equal(r.curl_code, 0);
    assert_string_not_equal(r.error, "");
    assert_true(r.total_ms >= 150.0 && r.total_ms < 2000.0);
}

/* With a per-host cap the client hands curl at most that many transfers
 * for one origin; the others wait their turn (oldest first) without
 * reaching the server, and a waiting request still times out on time. */
static void
test_host_cap_queues(void **state)
{
    fixture_t *f = *state;
    rl_http_opts_t opts = {.max_host_connections = 2};
    result_t hung[4] = {{0}};
    result_t late = {0};

    rl_http_destroy(&f->client);
    f->client = rl_http_new(f->base, &opts);
    assert_non_null(f->client);
    for (int i = 0; i < 4; i++)
        assert_non_null(s_get(f, "/hang", T_TIMEOUT_MS, T_MAX_BODY, &hung[i]));
    assert_non_null(s_get(f, "/echo", 300, T_MAX_BODY, &late));
    assert_int_equal(rl_http_pending(f->client), 5);
    s_run_until(f, &f->n_held, 2, T_WAIT_MS);
    s_run_until(f, NULL, 0, 100);
    assert_int_equal(f->n_held, 2); /* only two reached the server */
    /* The /echo behind them never gets a turn: it times out waiting,
     * and says it was never sent. */
    s_run_until(f, &late.calls, 1, T_WAIT_MS);
    assert_int_equal(late.calls, 1);
    assert_true(late.timed_out);
    assert_true(late.not_sent);
    assert_int_equal(late.status, 0);
    assert_true(late.total_ms >= 250.0 && late.total_ms < 2000.0);
    assert_int_equal(f->hits, 2);
    /* Answering the held two admits the next two, in order. */
    for (int i = 0; i < 2; i++)
        evhttp_send_reply(f->held[i], 200, "OK", NULL);
    f->n_held = 0; /* answered: teardown must not answer them again */
    s_run_until(f, &hung[1].calls, 1, T_WAIT_MS);
    s_run_until(f, &f->n_held, 2, T_WAIT_MS);
    assert_int_equal(hung[0].status, 200);
    assert_int_equal(hung[1].status, 200);
    assert_int_equal(hung[2].calls, 0);
    assert_int_equal(f->n_held, 2);
    assert_int_equal(f->hits, 4);
    assert_int_equal(rl_http_pending(f->client), 2);
}

/* Spellings of one origin share its lane, whether its key was just
 * computed or remembered: with one connection allowed, a request held by
 * the server keeps the others waiting, however the URL is written. */
static void
test_lane_shared_by_spellings(void **state)
{
    fixture_t *f = *state;
    rl_http_opts_t opts = {.max_host_connections = 1};
    /* scheme and userinfo before the address, then the path */
    static const char *const spellings[][2] = {
        {"http://", "/hang"},     {"HTTP://", "/echo"}, {"http://", "/echo"},
        {"http://u:p@", "/echo"}, {"HTTP://", "/echo"},
    };
    enum { N = sizeof spellings / sizeof spellings[0] };
    result_t r[N];
    char url[128];

    memset(r, 0, sizeof r);
    rl_http_destroy(&f->client);
    f->client = rl_http_new(f->base, &opts);
    assert_non_null(f->client);
    for (size_t i = 0; i < N; i++) {
        snprintf(url, sizeof url, "%s127.0.0.1:%d%s", spellings[i][0], f->port,
                 spellings[i][1]);
        assert_non_null(rl_http_request(f->client, "GET", url, NULL, NULL, 0,
                                        T_TIMEOUT_MS, T_MAX_BODY, s_record,
                                        &r[i]));
    }
    s_run_until(f, &f->n_held, 1, T_WAIT_MS);
    s_run_until(f, NULL, 0, 200);
    assert_int_equal(f->hits, 1); /* the others wait in the one lane */
    evhttp_send_reply(f->held[0], 200, "OK", NULL);
    f->n_held = 0;
    for (size_t i = 0; i < N; i++)
        s_run_until(f, &r[i].calls, 1, T_WAIT_MS);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(r[i].status, 200);
    assert_int_equal(f->hits, N);
}

/* The lane cap: connections for http, connections x HTTP/2 streams for
 * https (curl multiplexes over TLS), none without a connection limit. */
static void
test_origin_cap(void **state)
{
    rl_http_opts_t opts = {.max_host_connections = 64};

    (void)state;
    assert_int_equal(rl_http_origin_cap(&opts, false), 64);
    assert_int_equal(rl_http_origin_cap(&opts, true), 64 * RL_HTTP_MAX_STREAMS);
    opts.max_host_connections = 0;
    assert_int_equal(rl_http_origin_cap(&opts, true), 0);
    assert_int_equal(rl_http_origin_cap(NULL, false), 0);
}

/* A request that waited for its turn still gets its whole timeout once
 * it starts: the time in the queue is not the server's. */
static void
test_wait_keeps_timeout(void **state)
{
    fixture_t *f = *state;
    rl_http_opts_t opts = {.max_host_connections = 1};
    result_t first = {0};
    result_t second = {0};

    rl_http_destroy(&f->client);
    f->client = rl_http_new(f->base, &opts);
    assert_non_null(f->client);
    assert_non_null(s_get(f, "/hang", 300, T_MAX_BODY, &first));
    assert_non_null(s_get(f, "/hang", 400, T_MAX_BODY, &second));
    s_run_until(f, &second.calls, 1, T_WAIT_MS);
    assert_int_equal(first.calls, 1);
    assert_true(first.timed_out);
    assert_false(first.not_sent);
    /* Admitted after ~300 ms of waiting, then 400 ms of its own. */
    assert_int_equal(second.calls, 1);
    assert_true(second.timed_out);
    assert_false(second.not_sent);
    assert_int_equal(f->n_held, 2);
    assert_true(second.total_ms >= 650.0 && second.total_ms < 3000.0);
}

static void
s_assert_origin(const char *url, int rc, const char *key, bool https)
{
    char got[128];
    bool tls = !https;

    assert_int_equal(rl_http_origin(url, got, sizeof got, &tls), rc);
    assert_string_equal(got, key);
    assert_true(tls == https);
}

/* Every spelling of one origin gets one lane key. */
static void
test_origin(void **state)
{
    char small[12];
    bool tls;

    (void)state;
    s_assert_origin("https://api.x.com/v1/a?b=c", 0, "https://api.x.com:443",
                    true);
    s_assert_origin("HTTPS://User:pw@API.X.com/v1", 0, "https://api.x.com:443",
                    true);
    s_assert_origin("https://api.x.com:443", 0, "https://api.x.com:443", true);
    s_assert_origin("http://Ex.com#frag", 0, "http://ex.com:80", false);
    s_assert_origin("http://127.0.0.1:8090/t", 0, "http://127.0.0.1:8090",
                    false);
    s_assert_origin("http://[::1]:8080/a", 0, "http://[::1]:8080", false);
    /* Unparsable: the authority as written; curl will refuse it. */
    s_assert_origin("http://ex.com:99999/x", -1, "http://ex.com:99999", false);
    s_assert_origin("nonsense", -1, "nonsense", false);
    /* Too long for the buffer: cut, never overrun. */
    assert_int_equal(
        rl_http_origin("https://api.x.com/", small, sizeof small, &tls), -1);
    assert_string_equal(small, "https://api");
    assert_true(tls);
}

static int
s_closed_port(void)
{
    struct sockaddr_in sin = {0};
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    close(fd);
    return ntohs(sin.sin_port);
}

static void
test_connection_refused(void **state)
{
    fixture_t *f = *state;
    result_t r = {0};
    char url[128];

    s_url(f, s_closed_port(), "/echo", url, sizeof url);
    assert_non_null(rl_http_request(f->client, "GET", url, NULL, NULL, 0,
                                    T_TIMEOUT_MS, T_MAX_BODY, s_record, &r));
    s_run_until(f, &r.calls, 1, T_WAIT_MS);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_int_not_equal(r.curl_code, 0);
    assert_false(r.timed_out);
    assert_string_not_equal(r.error, "");
    assert_string_equal(r.body, "");
}

static void
test_cancel(void **state)
{
    fixture_t *f = *state;
    result_t cancelled = {0};
    result_t held = {0};
    result_t kept = {0};
    rl_http_req_t *req;

    req = s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &cancelled);
    assert_non_null(req);
    rl_http_cancel(f->client, req);
    req = s_get(f, "/hang", T_TIMEOUT_MS, T_MAX_BODY, &held);
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &kept));
    s_run_until(f, &f->n_held, 1, T_WAIT_MS);
    rl_http_cancel(f->client, req); /* cancel while the server holds it */
    s_run_until(f, &kept.calls, 1, T_WAIT_MS);
    s_run_until(f, NULL, 0, 200);
    assert_int_equal(kept.calls, 1);
    assert_int_equal(cancelled.calls, 0);
    assert_int_equal(held.calls, 0);
    assert_int_equal(rl_http_pending(f->client), 0);
}

static bool
s_refuse_loopback(const struct sockaddr *addr, void *arg)
{
    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    int *calls = arg;

    (*calls)++;
    return !(addr->sa_family == AF_INET &&
             sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
}

static void
test_guard(void **state)
{
    fixture_t *f = *state;
    result_t refused = {0};
    result_t allowed = {0};
    int guard_calls = 0;

    rl_http_set_guard(f->client, s_refuse_loopback, &guard_calls);
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &refused));
    s_run_until(f, &refused.calls, 1, T_WAIT_MS);
    assert_int_equal(refused.calls, 1);
    assert_int_equal(refused.status, 0);
    assert_int_not_equal(refused.curl_code, 0);
    assert_true(refused.refused);
    assert_true(guard_calls >= 1);
    assert_int_equal(f->hits, 0);
    rl_http_set_guard(f->client, NULL, NULL);
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &allowed));
    s_run_until(f, &allowed.calls, 1, T_WAIT_MS);
    assert_int_equal(allowed.status, 200);
    assert_false(allowed.refused);
    assert_int_equal(f->hits, 1);
}

static bool
s_gate(void *arg)
{
    return *(const bool *)arg;
}

/* A request the send gate holds back leaves nothing on the wire and is
 * reported not_sent (twice in a row: the abort leaves the client
 * usable); once the gate opens, requests go out again. */
static void
test_send_gate(void **state)
{
    fixture_t *f = *state;
    result_t first = {0}, held = {0}, fresh = {0}, again = {0};
    bool open = true;

    rl_http_set_send_gate(f->client, s_gate, &open);
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &first));
    s_run_until(f, &first.calls, 1, T_WAIT_MS);
    assert_int_equal(first.status, 200);
    assert_false(first.not_sent);
    assert_int_equal(f->hits, 1);
    open = false; /* the connection of the first is idle, reusable */
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &held));
    s_run_until(f, &held.calls, 1, T_WAIT_MS);
    assert_int_equal(held.calls, 1);
    assert_int_equal(held.status, 0);
    assert_true(held.not_sent);
    assert_false(held.refused);
    assert_int_equal(f->hits, 1);
    assert_non_null(s_get(f, "/echo?new", T_TIMEOUT_MS, T_MAX_BODY, &fresh));
    s_run_until(f, &fresh.calls, 1, T_WAIT_MS);
    assert_true(fresh.not_sent);
    assert_int_equal(f->hits, 1);
    open = true;
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &again));
    s_run_until(f, &again.calls, 1, T_WAIT_MS);
    assert_int_equal(again.status, 200);
    assert_false(again.not_sent);
    assert_int_equal(f->hits, 2);
}

static void
test_connection_reuse(void **state)
{
    fixture_t *f = *state;
    result_t first = {0};
    result_t second = {0};

    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &first));
    s_run_until(f, &first.calls, 1, T_WAIT_MS);
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &second));
    s_run_until(f, &second.calls, 1, T_WAIT_MS);
    assert_int_equal(second.status, 200);
    assert_int_equal(f->n_peers, 2);
    assert_int_equal(f->peer_ports[0], f->peer_ports[1]);
}

/* Distinct client ports among the /echo hits: the connections used. */
static int
s_connections(const fixture_t *f)
{
    int n = 0;

    for (int i = 0; i < f->n_peers; i++) {
        int j = 0;
        while (j < i && f->peer_ports[j] != f->peer_ports[i])
            j++;
        n += j == i;
    }
    return n;
}

/* A burst of 8, 8 requests one at a time, a burst of 8 again: the
 * connections the client keeps idle. */
static int
s_burst_dip_burst(fixture_t *f)
{
    enum { BURST = 8 };
    result_t r[3 * BURST];

    memset(r, 0, sizeof r);
    f->n_peers = 0;
    for (int i = 0; i < BURST; i++)
        assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &r[i]));
    for (int i = 0; i < BURST; i++)
        s_run_until(f, &r[i].calls, 1, T_WAIT_MS);
    for (int i = BURST; i < 2 * BURST; i++) {
        assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &r[i]));
        s_run_until(f, &r[i].calls, 1, T_WAIT_MS);
    }
    for (int i = 2 * BURST; i < 3 * BURST; i++)
        assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &r[i]));
    for (int i = 2 * BURST; i < 3 * BURST; i++)
        s_run_until(f, &r[i].calls, 1, T_WAIT_MS);
    for (int i = 0; i < 3 * BURST; i++)
        assert_int_equal(r[i].status, 200);
    assert_int_equal(f->n_peers, 3 * BURST);
    return s_connections(f);
}

/* With max_idle_connections the connections of a burst survive a dip in
 * traffic and serve the next burst; with curl's default (4 x the
 * transfers in progress) the dip closes some and the burst opens new
 * ones. */
static void
test_idle_connections_kept(void **state)
{
    fixture_t *f = *state;
    rl_http_opts_t opts = {.max_idle_connections = 16};

    assert_true(s_burst_dip_burst(f) > 8); /* the default client */
    rl_http_destroy(&f->client);
    f->client = rl_http_new(f->base, &opts);
    assert_non_null(f->client);
    assert_int_equal(s_burst_dip_burst(f), 8);
}

static void
test_concurrent(void **state)
{
    fixture_t *f = *state;
    static result_t results[T_CONCURRENT];
    int done = 0;

    memset(results, 0, sizeof results);
    for (int i = 0; i < T_CONCURRENT; i++)
        assert_non_null(
            s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &results[i]));
    assert_int_equal(rl_http_pending(f->client), T_CONCURRENT);
    while (done < T_CONCURRENT && rl_http_pending(f->client) > 0) {
        s_run_until(f, NULL, 0, T_TICK_MS);
        done = T_CONCURRENT - (int)rl_http_pending(f->client);
    }
    s_run_until(f, NULL, 0, 100);
    for (int i = 0; i < T_CONCURRENT; i++) {
        assert_int_equal(results[i].calls, 1);
        assert_int_equal(results[i].status, 200);
        assert_string_equal(results[i].body, "GET||");
    }
    assert_int_equal(f->hits, T_CONCURRENT);
}

/* A callback that starts a follow-up request and cancels a sibling. */
typedef struct {
    fixture_t *f;
    rl_http_req_t *victim;
    result_t self;
    result_t follow_up;
    result_t victim_result;
} chain_t;

static void
s_chain_cb(const rl_http_resp_t *resp, void *arg)
{
    chain_t *c = arg;

    s_record(resp, &c->self);
    rl_http_cancel(c->f->client, c->victim);
    c->victim = NULL;
    assert_non_null(
        s_get(c->f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &c->follow_up));
}

static void
test_callback_reentrancy(void **state)
{
    fixture_t *f = *state;
    chain_t c = {.f = f};
    char url[128];

    c.victim = s_get(f, "/hang", T_TIMEOUT_MS, T_MAX_BODY, &c.victim_result);
    assert_non_null(c.victim);
    s_url(f, f->port, "/echo", url, sizeof url);
    assert_non_null(rl_http_request(f->client, "GET", url, NULL, NULL, 0,
                                    T_TIMEOUT_MS, T_MAX_BODY, s_chain_cb, &c));
    s_run_until(f, &c.follow_up.calls, 1, T_WAIT_MS);
    s_run_until(f, NULL, 0, 100);
    assert_int_equal(c.self.calls, 1);
    assert_int_equal(c.follow_up.calls, 1);
    assert_int_equal(c.follow_up.status, 200);
    assert_int_equal(c.victim_result.calls, 0);
    assert_int_equal(rl_http_pending(f->client), 0);
}

static void
s_destroy_cb(const rl_http_resp_t *resp, void *arg)
{
    fixture_t *f = arg;

    (void)resp;
    f->hits += 1000; /* marks that the callback ran */
    rl_http_destroy(&f->client);
}

static void
test_destroy_with_pending(void **state)
{
    fixture_t *f = *state;
    result_t held = {0};
    char url[128];

    assert_non_null(s_get(f, "/hang", T_TIMEOUT_MS, T_MAX_BODY, &held));
    s_run_until(f, &f->n_held, 1, T_WAIT_MS);
    /* Destroying from inside a callback is deferred safely. */
    s_url(f, f->port, "/echo", url, sizeof url);
    assert_non_null(rl_http_request(f->client, "GET", url, NULL, NULL, 0,
                                    T_TIMEOUT_MS, T_MAX_BODY, s_destroy_cb, f));
    s_run_until(f, &f->hits, 1000, T_WAIT_MS);
    assert_null(f->client);
    s_run_until(f, NULL, 0, 100);
    assert_int_equal(held.calls, 0);
}

static void
test_destroy_direct(void **state)
{
    fixture_t *f = *state;
    result_t held = {0};
    result_t queued = {0};

    assert_non_null(s_get(f, "/hang", T_TIMEOUT_MS, T_MAX_BODY, &held));
    assert_non_null(s_get(f, "/echo", T_TIMEOUT_MS, T_MAX_BODY, &queued));
    s_run_until(f, &f->n_held, 1, T_WAIT_MS);
    rl_http_destroy(&f->client);
    rl_http_destroy(&f->client); /* idempotent */
    s_run_until(f, NULL, 0, 100);
    assert_int_equal(held.calls, 0);
    assert_int_equal(queued.calls, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_send_gate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_post_body_and_headers, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_503_retry_after, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_body_cap, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_host_cap_queues, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_wait_keeps_timeout, s_setup,
                                        s_teardown),
        cmocka_unit_test(test_origin_cap),
        cmocka_unit_test(test_origin),
        cmocka_unit_test_setup_teardown(test_connection_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_cancel, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_guard, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_connection_reuse, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_callback_reentrancy, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_with_pending, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_lane_shared_by_spellings, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_idle_connections_kept, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_destroy_direct, s_setup,
                                        s_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
