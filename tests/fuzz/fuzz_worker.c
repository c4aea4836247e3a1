/*
 * fuzz_worker - a DISPATCH reaching a worker that holds its lease, and
 * the job it claims as Redis answers the claim: the worker's links
 * (decode, credit), job_claim() (its ref and memory), claim.lua's reply
 * read back (job_claim.c s_load: fence, prompt, chain, times, task) and the
 * first step of the job (a provider submit or, with a task id, a poll) and the
 * Redis writes that follow. The worker is in this process with its real
 * links, lease, HTTP client and job code; its Redis is the fake of
 * fz_redis.h (heartbeat renews the lease, claim answers the input, every
 * other script "ok"); its providers listen nowhere (127.0.0.1:1), so
 * every request fails at once as a network error. Each input's jobs are
 * dropped afterwards (job_drop_all), as at a lost lease.
 *
 * Input: the DISPATCH's account id and job id (a line each), then the
 * claim's reply in fz_redis.h's grammar.
 *
 * Properties: the worker neither crashes nor hits undefined behaviour
 * on any claim reply; it keeps its lease; what it sends to its broker
 * decodes.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "completion.h"
#include "fz.h"
#include "fz_redis.h"
#include "job.h"
#include "lease.h"
#include "links.h"
#include "rl_loop.h"
#include "rl_proto.h"
#include "stack.h"
#include "worker.h"

#define S_IDLE_PASSES 12
#define S_MAX_PASSES 400
#define S_START_PASSES 2000
#define S_ID_MAX 256

static struct event_base *s_base;
static fz_redis_t *s_redis;
static rl_config_t *s_cfg;
static worker_t s_w;
static void *s_broker;       /* the ROUTER the worker reaches */
static char s_wid[S_ID_MAX]; /* the worker's routing id */
static size_t s_wid_len;
static char s_frame[RL_PROTO_MAX_FRAME];

/* Reads what the worker sent its broker; returns whether it sent any. */
static bool
s_drain(void)
{
    bool got = false;
    int more = 0;
    size_t more_len = sizeof more;

    for (;;) {
        int n = zmq_recv(s_broker, s_wid, sizeof s_wid, ZMQ_DONTWAIT);
        rl_msg_t m;
        const char *why = NULL;
        if (n < 0)
            return got;
        s_wid_len = (size_t)n < sizeof s_wid ? (size_t)n : sizeof s_wid;
        zmq_getsockopt(s_broker, ZMQ_RCVMORE, &more, &more_len);
        FZ_CHECK(more, "a message of one frame from the worker");
        while ((n = zmq_recv(s_broker, s_frame, sizeof s_frame, 0)) < 0 &&
               zmq_errno() == EINTR)
            ; /* libFuzzer's timer signal: again */
        FZ_CHECK(n >= 0 && rl_proto_decode(s_frame, (size_t)n, &m, &why) == 0,
                 "the worker sent a frame that does not decode: %s", why);
        FZ_CHECK(m.type == RL_MSG_HELLO || m.type == RL_MSG_CREDIT ||
                     m.type == RL_MSG_HEARTBEAT,
                 "the worker sent a %s", rl_proto_type_name(m.type));
        rl_msg_release(&m);
        got = true;
    }
}

/* Runs the loop until nothing happens for a while. */
static void
s_pump(void)
{
    int idle = 0;

    for (int pass = 0; pass < S_MAX_PASSES && idle < S_IDLE_PASSES; pass++) {
        int before = event_base_get_num_events(s_base, EVENT_BASE_COUNT_ACTIVE);
        event_base_loop(s_base, EVLOOP_NONBLOCK);
        idle = s_drain() || before > 0 ? 0 : idle + 1;
    }
}

static void
s_init(void)
{
    rl_http_opts_t opts = {0};

    if (s_base != NULL)
        return;
    fz_setup();
    s_base = rl_loop_new();
    s_w.zctx = zmq_ctx_new();
    FZ_CHECK(s_base != NULL && s_w.zctx != NULL, "setup");
    s_redis = fz_redis_new(s_base);
    fz_redis_set_reply(s_redis, "*1\r\n$2\r\nok\r\n", 12);
    fz_redis_set_named(s_redis, "heartbeat", "*2\r\n$2\r\nok\r\n:1\r\n", 16);
    fz_redis_set_named(s_redis, "job_update", "+ok\r\n", 5);
    s_cfg = fz_config("worker", 1, fz_redis_port(s_redis));
    s_broker = zmq_socket(s_w.zctx, ZMQ_ROUTER);
    FZ_CHECK(s_broker != NULL && zmq_bind(s_broker, s_cfg->dispatch[0]) == 0,
             "cannot bind %s", s_cfg->dispatch[0]);
    s_w.cfg = s_cfg;
    s_w.on = worker_stack_on; /* as worker/main.c wires it */
    snprintf(s_w.id, sizeof s_w.id, "worker-fuzz");
    s_w.base = s_base;
    TAILQ_INIT(&s_w.jobs);
    s_w.redis = rl_redis_from_config(s_base, s_cfg);
    s_w.http = rl_http_new(s_base, &opts);
    FZ_CHECK(s_w.redis != NULL && s_w.http != NULL &&
                 completion_open(&s_w) == 0,
             "the worker's clients do not start");
    s_w.lease = lease_new(&s_w);
    s_w.links = links_new(&s_w);
    FZ_CHECK(s_w.links != NULL, "the worker's links do not start");
    for (int i = 0; i < S_START_PASSES && !rl_redis_answering(s_w.redis); i++)
        event_base_loop(s_base, EVLOOP_ONCE);
    lease_kick(s_w.lease);
    for (int i = 0;
         i < S_START_PASSES && (!lease_ok(s_w.lease) || s_wid_len == 0); i++) {
        event_base_loop(s_base, EVLOOP_ONCE);
        s_drain();
    }
    FZ_CHECK(lease_ok(s_w.lease) && s_wid_len > 0,
             "the worker holds no lease or never spoke");
}

/* One frame to the worker; libFuzzer's timer signal may interrupt it. */
static bool
s_send(const void *buf, size_t len, int flags)
{
    int rc;

    while ((rc = zmq_send(s_broker, buf, len, flags)) < 0 &&
           zmq_errno() == EINTR)
        ;
    return rc >= 0;
}

/* Sends DISPATCH {acct, job} to the worker; false when it cannot be
 * encoded (rl_proto's limits). */
static bool
s_dispatch(const char *acct, const char *job)
{
    rl_msg_t m;
    char *buf = NULL;
    size_t len = 0;
    bool sent = false;

    rl_msg_init(&m, RL_MSG_DISPATCH);
    if (strlen(acct) < sizeof m.acct && strlen(job) < sizeof m.job_id) {
        memcpy(m.acct, acct, strlen(acct) + 1);
        memcpy(m.job_id, job, strlen(job) + 1);
        if (rl_proto_encode(&m, &buf, &len) == 0) {
            FZ_CHECK(s_send(s_wid, s_wid_len, ZMQ_SNDMORE) &&
                         s_send(buf, len, 0),
                     "cannot send: %s", zmq_strerror(zmq_errno()));
            sent = true;
        }
    }
    free(buf);
    rl_msg_release(&m);
    return sent;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    char *acct, *job, *resp;
    size_t len = 0;

    s_init();
    acct = fz_str(&in, '\n', NULL);
    job = fz_str(&in, '\n', NULL);
    resp = fz_redis_resp(&in, &len);
    fz_redis_set_named(s_redis, "claim", resp, len);
    if (s_dispatch(acct, job))
        s_pump();
    fz_debug("claimed %llu, refused %llu, submits %llu, polls %llu, "
             "failovers %llu, failed %llu",
             (unsigned long long)s_w.stats.claimed,
             (unsigned long long)s_w.stats.claim_refused,
             (unsigned long long)s_w.stats.submits,
             (unsigned long long)s_w.stats.polls,
             (unsigned long long)s_w.stats.failovers,
             (unsigned long long)s_w.stats.failed);
    job_drop_all(&s_w, "the fuzz input is done");
    /* A job the input made the worker give up on is handed back with the
     * next renewal; renewed now, as the timer would within a third of
     * the lease, or thousands of inputs a second would pile up more refs
     * than a renewal carries and the lease would be given up (lease.h). */
    lease_kick(s_w.lease);
    s_pump();
    FZ_CHECK(lease_ok(s_w.lease), "the worker lost its lease");
    free(resp);
    free(job);
    free(acct);
    return 0;
}
