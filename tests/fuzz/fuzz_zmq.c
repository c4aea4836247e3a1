/*
 * fuzz_zmq - ZeroMQ frames through the real sockets of the roles, in one
 * process on inproc endpoints: the broker's ingress (SUBMIT: decode,
 * validate, the REPLY it answers), the broker's dispatch ROUTER (HELLO,
 * CREDIT, HEARTBEAT from a worker) and a worker's links (HEARTBEAT and
 * DISPATCH from a broker). Redis is down, so a submission is answered
 * without being stored and a worker holds no lease (a DISPATCH is not
 * claimed: fuzz_worker claims it). The deliverer's COMPLETION intake and
 * its fail-open path are fuzz_proto's (their socket would start webhook
 * requests).
 *
 * Input: byte 0 the door (low two bits: ingress from a DEALER, ingress
 * from a REQ-style DEALER with an empty delimiter, dispatch, worker
 * links; bit 2: an extra frame before the message), then the frame.
 *
 * Properties: the ingress answers every message of two or three frames
 * with a REPLY that decodes, whose status is not 500 and whose body is
 * the /v1 error object; what the broker and the worker send back decodes
 * as a message of their side of the protocol; no role keeps more than
 * one peer for the one fuzzing socket.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "dispatch.h"
#include "fz.h"
#include "fz_broker.h"
#include "links.h"
#include "rl_loop.h"
#include "rl_proto.h"
#include "worker.h"

#define S_IDLE_PASSES 8
#define S_MAX_PASSES 400
#define S_ID_MAX 256
#define S_FRAME_MAX (RL_PROTO_MAX_FRAME + 1)

enum { S_INGRESS, S_INGRESS_REQ, S_DISPATCH, S_LINKS };

static struct event_base *s_base;
static void *s_zctx;
static fz_broker_t s_broker;
static rl_config_t *s_wcfg; /* the worker's: its broker is us */
static worker_t s_worker;
static void *s_ingress;            /* DEALER to the broker's ingress */
static void *s_dispatch;           /* DEALER to the broker's dispatch */
static void *s_as_broker;          /* ROUTER the worker's links reach */
static char s_worker_id[S_ID_MAX]; /* its routing id, "" until it spoke */
static size_t s_worker_id_len;
static char *s_frame; /* receive buffer */

static void *
s_socket(int type, const char *endpoint, bool bind)
{
    void *s = zmq_socket(s_zctx, type);
    int zero = 0;

    FZ_CHECK(s != NULL &&
                 zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) == 0 &&
                 (bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint)) == 0,
             "socket for %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return s;
}

static void
s_init(void)
{
    char endpoint[64];

    if (s_base != NULL)
        return;
    fz_setup();
    s_base = rl_loop_new();
    s_zctx = zmq_ctx_new();
    s_frame = malloc(S_FRAME_MAX);
    FZ_CHECK(s_base != NULL && s_zctx != NULL && s_frame != NULL, "setup");
    fz_broker_start(&s_broker, s_base, s_zctx, "zmq-b", fz_free_port());
    s_ingress = s_socket(ZMQ_DEALER, s_broker.cfg->ingress[0], false);
    s_dispatch = s_socket(ZMQ_DEALER, s_broker.cfg->dispatch[0], false);
    s_wcfg = fz_config("zmq-w", 1, fz_free_port());
    snprintf(endpoint, sizeof endpoint, "%s", s_wcfg->dispatch[0]);
    s_as_broker = s_socket(ZMQ_ROUTER, endpoint, true);
    s_worker.cfg = s_wcfg;
    snprintf(s_worker.id, sizeof s_worker.id, "worker-fuzz");
    s_worker.base = s_base;
    s_worker.zctx = s_zctx;
    TAILQ_INIT(&s_worker.jobs);
    s_worker.links = links_new(&s_worker);
    FZ_CHECK(s_worker.links != NULL, "the worker's links do not start");
}

/* One message of the socket into parts (NULL when none is waiting). The
 * last frame is in s_frame; returns the number of frames, *len the
 * last one's length; the first frame (a ROUTER's routing id) is copied
 * to first. */
static int
s_recv(void *sock, size_t *len, char *first, size_t *first_len)
{
    int nparts = 0, more = 0;
    size_t more_len = sizeof more;
    int n;

    do {
        n = zmq_recv(sock, s_frame, S_FRAME_MAX, nparts ? 0 : ZMQ_DONTWAIT);
        if (n < 0 && zmq_errno() == EINTR && nparts > 0)
            continue; /* the rest of a message is there: again */
        if (n < 0)
            return nparts;
        if (nparts == 0 && first != NULL) {
            *first_len = (size_t)n < S_ID_MAX ? (size_t)n : S_ID_MAX;
            memcpy(first, s_frame, *first_len);
        }
        *len = (size_t)n < S_FRAME_MAX ? (size_t)n : S_FRAME_MAX;
        nparts++;
        zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &more_len);
    } while (more);
    return nparts;
}

/* A message one of the roles sent decodes; its type is returned. */
static rl_msg_type_t
s_decoded(size_t len, const char *who)
{
    rl_msg_t m;
    const char *why = NULL;
    rl_msg_type_t type;

    FZ_CHECK(rl_proto_decode(s_frame, len, &m, &why) == 0,
             "%s sent a frame that does not decode: %s", who, why);
    type = m.type;
    if (type == RL_MSG_REPLY) {
        json_t *o = fz_json_object(m.body, m.body_len, "a REPLY body");
        FZ_CHECK(m.http_status != 500, "a 500 REPLY: %s", m.body);
        FZ_CHECK(m.http_status >= 400, "a %lld REPLY with Redis down",
                 (long long)m.http_status);
        fz_check_api_error(o, "a REPLY");
        json_decref(o);
    }
    rl_msg_release(&m);
    return type;
}

/* Runs the loop and checks what comes back on every fuzzer socket;
 * returns the REPLYs the ingress sent. */
static int
s_pump(void)
{
    int replies = 0, idle = 0;
    char first[S_ID_MAX];
    size_t len = 0, first_len = 0;
    rl_msg_type_t t;

    for (int pass = 0; pass < S_MAX_PASSES && idle < S_IDLE_PASSES; pass++) {
        bool got = false;
        int n;
        event_base_loop(s_base, EVLOOP_NONBLOCK);
        while ((n = s_recv(s_ingress, &len, NULL, NULL)) > 0) {
            FZ_CHECK(s_decoded(len, "the ingress") == RL_MSG_REPLY,
                     "the ingress sent something else than a REPLY");
            replies++;
            got = true;
        }
        while (s_recv(s_dispatch, &len, NULL, NULL) > 0) {
            t = s_decoded(len, "dispatch");
            FZ_CHECK(t == RL_MSG_HEARTBEAT || t == RL_MSG_DISPATCH,
                     "dispatch sent a %s", rl_proto_type_name(t));
            got = true;
        }
        while (s_recv(s_as_broker, &len, first, &first_len) == 2) {
            t = s_decoded(len, "the worker");
            FZ_CHECK(t == RL_MSG_HELLO || t == RL_MSG_CREDIT ||
                         t == RL_MSG_HEARTBEAT,
                     "the worker sent a %s", rl_proto_type_name(t));
            memcpy(s_worker_id, first, first_len);
            s_worker_id_len = first_len;
            got = true;
        }
        idle = got ? 0 : idle + 1;
    }
    return replies;
}

static void
s_send(void *sock, const void *const *parts, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++) {
        int rc;
        /* libFuzzer's timer signal may interrupt it: again. */
        while ((rc = zmq_send(sock, parts[i], lens[i],
                              (i + 1 < n ? ZMQ_SNDMORE : 0) | ZMQ_DONTWAIT)) <
                   0 &&
               zmq_errno() == EINTR)
            ;
        FZ_CHECK(rc >= 0, "cannot send: %s", zmq_strerror(zmq_errno()));
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    uint8_t door = fz_u8(&in);
    bool extra = (door & 4) != 0;
    const void *parts[4];
    size_t lens[4];
    int n = 0, replies;

    s_init();
    if (s_worker_id_len == 0)
        (void)s_pump(); /* the worker says hello first */
    if ((door & 3) == S_LINKS) {
        parts[n] = s_worker_id;
        lens[n++] = s_worker_id_len;
    }
    if (extra) {
        parts[n] = "x";
        lens[n++] = 1;
    }
    if ((door & 3) == S_INGRESS_REQ) {
        parts[n] = "";
        lens[n++] = 0;
    }
    parts[n] = in.p;
    lens[n++] = in.n;
    s_send((door & 3) == S_DISPATCH ? s_dispatch
           : (door & 3) == S_LINKS  ? s_as_broker
                                    : s_ingress,
           parts, lens, n);
    replies = s_pump();
    /* (An extra frame makes three, which the ingress takes only as the
     * REQ delimiter: empty.) */
    if ((door & 3) <= S_INGRESS_REQ)
        FZ_CHECK(replies == (extra ? 0 : 1), "%d REPLYs to one message",
                 replies);
    FZ_CHECK(dispatch_workers(s_broker.b.dispatch) <= 1,
             "dispatch keeps %zu workers for one socket",
             dispatch_workers(s_broker.b.dispatch));
    return 0;
}
