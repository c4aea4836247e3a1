/*
 * fuzz_http - the broker's HTTP API from raw bytes on a connection to the
 * answer, for both front doors (/v1/... and the task API's
 * /api/v1/jobs/...): evhttp's parsing, the route table, the
 * Authorization header, query strings, body validation, the handlers and
 * the rendering of every answer, including what they render from Redis.
 *
 * Input: the request bytes as sent, to a broker whose Redis is down
 * (every handler that needs it answers 503). Or, when it starts with the
 * line "%redis", a reply in fz_redis.h's grammar up to a line "%%" and
 * then the request, to a broker whose Redis is a fake that answers that
 * reply to every command: the job, task, account, ledger, key, delivery
 * and provider views are rendered from it.
 *
 * Properties, for every response: a whole HTTP response; a JSON answer
 * is an object, an error one has the /v1 error object or the task API's
 * message; a 503 or 429 says Retry-After; an answer that is not JSON is
 * one of evhttp's own refusals of a malformed request (4xx or 5xx).
 * With Redis down, never a 500 (an answer that could not be built).
 * From the fake Redis, a reply none of the scripts makes (a nil where a
 * string belongs) may get a 500, an error object like any other, and a
 * 202 replays the stored answer as stored.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "fz.h"
#include "fz_broker.h"
#include "fz_redis.h"
#include "rl_loop.h"

#define S_REDIS_MARK "%redis\n"
#define S_REDIS_END "\n%%\n"
#define S_CONNECT_PASSES 1000

static struct event_base *s_base;
static fz_broker_t s_down; /* Redis on a closed port */
static fz_broker_t s_fake; /* Redis is s_redis */
static fz_redis_t *s_redis;

static void
s_init(void)
{
    void *zctx;

    if (s_base != NULL)
        return;
    fz_setup();
    s_base = rl_loop_new();
    zctx = zmq_ctx_new();
    FZ_CHECK(s_base != NULL && zctx != NULL, "no loop or ZeroMQ context");
    s_redis = fz_redis_new(s_base);
    fz_broker_start(&s_down, s_base, zctx, "http-down", fz_free_port());
    fz_broker_start(&s_fake, s_base, zctx, "http-fake", fz_redis_port(s_redis));
    FZ_CHECK(fz_broker_wait_redis(&s_fake, S_CONNECT_PASSES),
             "the broker does not connect to the fake Redis");
}

/* An error answer of either door, or /readyz saying Redis is away. */
static void
s_check_error(const json_t *o, int status)
{
    if (json_object_get(o, "error") != NULL) {
        fz_check_api_error(o, "an error answer");
        return;
    }
    FZ_CHECK(
        json_is_string(json_object_get(o, "message")) ||
            (status == 503 && json_is_string(json_object_get(o, "status"))),
        "a %d answer with neither an error object nor a message", status);
}

/* fake: the answer may render a Redis reply no script of ours makes,
 * for which an honest 500 is right, and a 202 replays the answer stored
 * with an idempotency key as it was stored. */
static void
s_check(const fz_http_response_t *r, bool fake)
{
    json_t *o;

    FZ_CHECK(fake || r->status != 500, "500: %.*s", (int)r->body_len, r->body);
    if (fake && r->status == 202)
        return;
    if (r->status == 503 || r->status == 429)
        FZ_CHECK(r->retry_after, "a %d without Retry-After", r->status);
    if (!r->json) {
        FZ_CHECK(r->status < 200 || r->status >= 400,
                 "a %d answer that is not JSON", r->status);
        return;
    }
    o = fz_json_object(r->body, r->body_len, "a JSON answer");
    if (r->status >= 400)
        s_check_error(o, r->status);
    json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fz_broker_t *fb = &s_down;
    const char *req = (const char *)data;
    size_t len = size, off = 0;
    fz_http_answer_t a;
    fz_http_response_t r;

    s_init();
    if (size >= strlen(S_REDIS_MARK) &&
        memcmp(data, S_REDIS_MARK, strlen(S_REDIS_MARK)) == 0) {
        const char *spec = req + strlen(S_REDIS_MARK);
        const char *end = memmem(spec, size - strlen(S_REDIS_MARK), S_REDIS_END,
                                 strlen(S_REDIS_END));
        fz_in_t in = {(const uint8_t *)spec, end != NULL
                                                 ? (size_t)(end - spec)
                                                 : size - strlen(S_REDIS_MARK)};
        size_t resp_len = 0;
        char *resp = fz_redis_resp(&in, &resp_len);

        fz_redis_set_reply(s_redis, resp, resp_len);
        free(resp);
        fb = &s_fake;
        req = end != NULL ? end + strlen(S_REDIS_END) : "";
        len = end != NULL ? size - (size_t)(req - (const char *)data) : 0;
    }
    fz_http_exchange(s_base, fb->http_port, req, len, &a);
    fz_debug("answer (%s Redis):\n%s", fb == &s_fake ? "fake" : "no", a.bytes);
    while (fz_http_next(&a, &off, &r) == 1)
        s_check(&r, fb == &s_fake);
    fz_http_answer_release(&a);
    return 0;
}
