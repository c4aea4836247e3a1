/*
 * reelay-zpeer - a ZeroMQ peer for tests that plays a worker, a worker's
 * completion push or an ingress client against the real sockets, with a
 * CURVE key of its choice or none (NULL mechanism), and says what the
 * server made of its handshake:
 *
 *   reelay-zpeer worker ENDPOINT [keys] [--credit N] [--seconds S]
 *       DEALER to a broker's dispatch: HELLO with credit N, a heartbeat
 *       every 100 ms; prints "heartbeat" at the broker's first heartbeat
 *       and "dispatch ACCT JOB" for each DISPATCH, for S seconds.
 *   reelay-zpeer push ENDPOINT [keys] --frame FILE... [--repeat N]
 *       PUSH to a deliverer's completion socket: each FILE is one
 *       message (sent N times), all queued before the handshake so they
 *       leave in one write.
 *   reelay-zpeer submit ENDPOINT [keys] --api-key-file F BODY
 *       SUBMIT on a broker's ingress (rl_ingress_submit); prints
 *       "reply STATUS BODY".
 *   reelay-zpeer request ENDPOINT [keys] --frame FILE...
 *       DEALER to a broker's ingress: each FILE's bytes as one request
 *       (any bytes: a hostile service), one after another; prints
 *       "reply STATUS BODY" for each answer that decodes as a REPLY,
 *       "undecodable N" for one that does not, "no reply" at the
 *       deadline.
 *   keys: --key-file NAME.key (our pair) --server-pub NAME.pub; without
 *       them the NULL mechanism.
 *
 * Every mode prints "handshake ok" or "handshake refused EVENT VALUE"
 * (ZAP status 400 for a denied key) as the monitor reports it. Exit
 * status: 0 handshake ok, 3 refused, 4 no handshake in time, 2 usage.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_curve.h"
#include "rl_fmt.h"
#include "rl_ingress_client.h"
#include "rl_proto.h"
#include "rl_secret.h"

#define ZP_MAX_FRAMES 16
#define ZP_BEAT_MS 100
#define ZP_TIMEOUT_MS 10000 /* handshake and submit deadline */
#define ZP_LINGER_MS 5000
#define ZP_EXIT_REFUSED 3
#define ZP_EXIT_TIMEOUT 4
#define ZP_MON_EVENTS                                                          \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |         \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                                     \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

typedef struct {
    const char *mode, *endpoint, *key_file, *server_pub, *api_key_file;
    const char *body;
    const char *frames[ZP_MAX_FRAMES];
    size_t nframes;
    long credit, seconds, repeat;
    rl_curve_pair_t pair;
    char server[RL_CURVE_KEY_LEN + 1];
    bool curve;
} zp_t;

static _Noreturn void
s_usage(void)
{
    fprintf(stderr, "usage: reelay-zpeer worker|push|submit|request ENDPOINT "
                    "[--key-file F --server-pub F] [--credit N] "
                    "[--seconds S] [--frame FILE]... [--repeat N] "
                    "[--api-key-file F] [BODY]\n");
    exit(2);
}

static long
s_num(const char *text)
{
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < 0 || v > 1000000)
        s_usage();
    return v;
}

static void
s_args(int argc, char **argv, zp_t *z)
{
    static const struct option opts[] = {
        {"key-file", required_argument, NULL, 'k'},
        {"server-pub", required_argument, NULL, 's'},
        {"credit", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 't'},
        {"frame", required_argument, NULL, 'f'},
        {"repeat", required_argument, NULL, 'r'},
        {"api-key-file", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    int c;
    z->credit = 10;
    z->seconds = 5;
    z->repeat = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'k')
            z->key_file = optarg;
        else if (c == 's')
            z->server_pub = optarg;
        else if (c == 'c')
            z->credit = s_num(optarg);
        else if (c == 't')
            z->seconds = s_num(optarg);
        else if (c == 'r')
            z->repeat = s_num(optarg);
        else if (c == 'a')
            z->api_key_file = optarg;
        else if (c == 'f' && z->nframes < ZP_MAX_FRAMES)
            z->frames[z->nframes++] = optarg;
        else
            s_usage();
    }
    if (argc - optind < 2)
        s_usage();
    z->mode = argv[optind];
    z->endpoint = argv[optind + 1];
    z->body = optind + 2 < argc ? argv[optind + 2] : NULL;
    if ((z->key_file == NULL) != (z->server_pub == NULL))
        s_usage();
}

static int
s_keys(zp_t *z)
{
    char err[RL_CURVE_ERR_LEN];
    if (z->key_file == NULL)
        return 0;
    if (rl_curve_read_pair(z->key_file, &z->pair, err, sizeof err) != 0 ||
        rl_curve_read_public(z->server_pub, z->server, err, sizeof err) != 0) {
        fprintf(stderr, "reelay-zpeer: %s\n", err);
        return -1;
    }
    z->curve = true;
    return 0;
}

/* A socket of `type` with our keys, its monitor in *mon, connected. */
static void *
s_socket(void *ctx, const zp_t *z, int type, void **mon)
{
    char ep[64];
    int linger = ZP_LINGER_MS;
    void *sock = zmq_socket(ctx, type);
    rl_fmt_fit(ep, sizeof ep, "inproc://zpeer-monitor-%d", type);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (z->curve && rl_curve_client(sock, &z->pair, z->server) != 0) {
        fprintf(stderr, "reelay-zpeer: bad keys\n");
        exit(2);
    }
    zmq_socket_monitor(sock, ep, ZP_MON_EVENTS);
    *mon = zmq_socket(ctx, ZMQ_PAIR);
    zmq_connect(*mon, ep);
    if (zmq_connect(sock, z->endpoint) != 0) {
        fprintf(stderr, "reelay-zpeer: connect %s: %s\n", z->endpoint,
                zmq_strerror(zmq_errno()));
        exit(2);
    }
    return sock;
}

/* Reads one monitor event and prints it: 1 handshake ok, -1 refused. */
static int
s_event(void *mon)
{
    zmq_msg_t part;
    uint16_t event = 0;
    uint32_t value = 0;
    bool more = true;
    zmq_msg_init(&part);
    for (int i = 0; more && zmq_msg_recv(&part, mon, 0) >= 0; i++) {
        if (i == 0 && zmq_msg_size(&part) == 6) {
            memcpy(&event, zmq_msg_data(&part), sizeof event);
            memcpy(&value, (const char *)zmq_msg_data(&part) + 2, sizeof value);
        }
        more = zmq_msg_more(&part);
    }
    zmq_msg_close(&part);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        printf("handshake ok\n");
        fflush(stdout);
        return 1;
    }
    printf("handshake refused %s %u\n",
           event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH       ? "auth"
           : event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol"
                                                          : "no_detail",
           (unsigned)value);
    fflush(stdout);
    return -1;
}

static void
s_send_msg(void *sock, rl_msg_t *m)
{
    char *buf = NULL;
    size_t len = 0;
    rl_fmt_fit(m->sender, sizeof m->sender, "zpeer-worker");
    if (rl_proto_encode(m, &buf, &len) == 0)
        zmq_send(sock, buf, len, ZMQ_DONTWAIT);
    free(buf);
}

static void
s_worker_recv(void *sock)
{
    char buf[RL_PROTO_MAX_FRAME];
    static bool beat_seen;
    int n;
    while ((n = zmq_recv(sock, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        rl_msg_t m;
        rl_msg_init(&m, RL_MSG_HEARTBEAT);
        if (rl_proto_decode(buf, (size_t)n, &m, NULL) != 0)
            continue;
        if (m.type == RL_MSG_DISPATCH)
            printf("dispatch %s %s\n", m.acct, m.job_id);
        else if (m.type == RL_MSG_HEARTBEAT && !beat_seen)
            printf("heartbeat\n");
        beat_seen |= m.type == RL_MSG_HEARTBEAT;
        fflush(stdout);
        rl_msg_release(&m);
    }
}

static int
s_worker(void *ctx, const zp_t *z)
{
    void *mon = NULL;
    void *sock = s_socket(ctx, z, ZMQ_DEALER, &mon);
    int state = 0;
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_HELLO);
    m.credit = z->credit;
    s_send_msg(sock, &m);
    int64_t end = rl_clock_mono_ms() + z->seconds * 1000;
    int64_t beat = 0;
    while (rl_clock_mono_ms() < end) {
        zmq_pollitem_t items[2] = {{sock, 0, ZMQ_POLLIN, 0},
                                   {mon, 0, ZMQ_POLLIN, 0}};
        zmq_poll(items, 2, ZP_BEAT_MS);
        if (items[1].revents & ZMQ_POLLIN)
            state = s_event(mon);
        if (items[0].revents & ZMQ_POLLIN)
            s_worker_recv(sock);
        if (rl_clock_mono_ms() - beat >= ZP_BEAT_MS) {
            rl_msg_init(&m, RL_MSG_HEARTBEAT);
            rl_fmt_fit(m.incarnation, sizeof m.incarnation, "zpeer");
            s_send_msg(sock, &m);
            beat = rl_clock_mono_ms();
        }
    }
    zmq_close(mon);
    zmq_close(sock);
    return state > 0 ? 0 : state < 0 ? ZP_EXIT_REFUSED : ZP_EXIT_TIMEOUT;
}

static int
s_push(void *ctx, const zp_t *z)
{
    void *mon = NULL;
    void *sock = s_socket(ctx, z, ZMQ_PUSH, &mon);
    for (long r = 0; r < z->repeat; r++) {
        for (size_t i = 0; i < z->nframes; i++) {
            char *buf = rl_malloc(RL_PROTO_MAX_FRAME);
            FILE *f = fopen(z->frames[i], "rb");
            size_t n = f != NULL ? fread(buf, 1, RL_PROTO_MAX_FRAME, f) : 0;
            if (f != NULL)
                fclose(f);
            zmq_send(sock, buf, n, ZMQ_DONTWAIT);
            free(buf);
        }
    }
    int state = 0;
    zmq_pollitem_t item = {mon, 0, ZMQ_POLLIN, 0};
    int64_t end = rl_clock_mono_ms() + ZP_TIMEOUT_MS;
    while (state == 0 && rl_clock_mono_ms() < end)
        if (zmq_poll(&item, 1, ZP_BEAT_MS) > 0)
            state = s_event(mon);
    zmq_close(mon);
    zmq_close(sock); /* linger: what was queued leaves before we exit */
    return state > 0 ? 0 : state < 0 ? ZP_EXIT_REFUSED : ZP_EXIT_TIMEOUT;
}

/* One request's answer: "reply STATUS BODY", "undecodable N" or "no
 * reply". Returns 0 when it was a REPLY. */
static int
s_request_answer(void *sock)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    zmq_msg_t part;
    int rc = -1;

    if (zmq_poll(&item, 1, ZP_TIMEOUT_MS) <= 0) {
        printf("no reply\n");
        return -1;
    }
    zmq_msg_init(&part);
    while (zmq_msg_recv(&part, sock, 0) >= 0) {
        if (zmq_msg_size(&part) == 0 && zmq_msg_more(&part))
            continue; /* the empty delimiter */
        rl_msg_t m;
        rl_msg_init(&m, RL_MSG_REPLY);
        if (rl_proto_decode(zmq_msg_data(&part), zmq_msg_size(&part), &m,
                            NULL) == 0 &&
            m.type == RL_MSG_REPLY) {
            printf("reply %d %.*s\n", (int)m.http_status, (int)m.body_len,
                   m.body ? m.body : "");
            rc = 0;
        } else {
            printf("undecodable %zu\n", zmq_msg_size(&part));
        }
        rl_msg_release(&m);
        if (!zmq_msg_more(&part))
            break;
    }
    zmq_msg_close(&part);
    return rc;
}

static int
s_request(void *ctx, const zp_t *z)
{
    void *mon = NULL;
    void *sock = s_socket(ctx, z, ZMQ_DEALER, &mon);
    int rc = 0;
    char *buf = rl_malloc(RL_PROTO_MAX_FRAME);

    for (size_t i = 0; i < z->nframes; i++) {
        FILE *f = fopen(z->frames[i], "rb");
        size_t n = f != NULL ? fread(buf, 1, RL_PROTO_MAX_FRAME, f) : 0;
        if (f != NULL)
            fclose(f);
        if (zmq_send(sock, "", 0, ZMQ_SNDMORE) != 0 ||
            zmq_send(sock, buf, n, 0) != (int)n || s_request_answer(sock) != 0)
            rc = ZP_EXIT_TIMEOUT;
        fflush(stdout);
    }
    free(buf);
    zmq_close(mon);
    zmq_close(sock);
    return rc;
}

static int
s_submit(void *ctx, const zp_t *z)
{
    int status = 0;
    char *reply = NULL, key[RL_SECRET_MAX], why[256];
    if (z->api_key_file == NULL || z->body == NULL)
        s_usage();
    if (rl_secret_read(z->api_key_file, key, sizeof key, why, sizeof why) !=
        0) {
        fprintf(stderr, "reelay-zpeer: %s\n", why);
        return 2;
    }
    int rc = rl_ingress_submit(ctx, z->endpoint, z->curve ? &z->pair : NULL,
                               z->curve ? z->server : NULL, key, NULL, z->body,
                               ZP_TIMEOUT_MS, &status, &reply);
    explicit_bzero(key, sizeof key);
    if (rc == 0) {
        printf("reply %d %s\n", status, reply);
        free(reply);
        return 0;
    }
    printf("%s\n", errno == EACCES ? "handshake refused" : "no reply");
    return errno == EACCES ? ZP_EXIT_REFUSED : ZP_EXIT_TIMEOUT;
}

int
main(int argc, char **argv)
{
    zp_t z;
    memset(&z, 0, sizeof z);
    s_args(argc, argv, &z);
    if (s_keys(&z) != 0)
        return 2;
    void *ctx = zmq_ctx_new();
    int rc = 2;
    if (strcmp(z.mode, "worker") == 0)
        rc = s_worker(ctx, &z);
    else if (strcmp(z.mode, "push") == 0)
        rc = s_push(ctx, &z);
    else if (strcmp(z.mode, "submit") == 0)
        rc = s_submit(ctx, &z);
    else if (strcmp(z.mode, "request") == 0)
        rc = s_request(ctx, &z);
    else
        s_usage();
    zmq_ctx_term(ctx);
    rl_curve_pair_wipe(&z.pair);
    return rc;
}
