/*
 * rl_ingress_client - one-call SUBMIT over ZeroMQ.
 * SPDX-License-Identifier: MIT
 */
#include "rl_ingress_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_proto.h"

static int
s_send(void *sock, const char *api_key, const char *idem, const char *body)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_SUBMIT);
    m.api_key = rl_strdup(api_key);
    m.idempotency_key = rl_strdup(idem ? idem : "");
    m.body = rl_strdup(body);
    m.body_len = strlen(body);
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;
    /* A DEALER speaks to the ROUTER like a REQ: empty delimiter first. */
    if (rl_proto_encode(&m, &buf, &len) == 0 &&
        zmq_send(sock, "", 0, ZMQ_SNDMORE) == 0 &&
        zmq_send(sock, buf, len, 0) == (int)len)
        rc = 0;
    free(buf);
    rl_msg_release(&m);
    return rc;
}

/* Handshake outcomes the monitor reports: a refusal ends the wait. */
#define S_MON_EVENTS                                                           \
    (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |   \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
#define S_MON_EVENT_LEN 6 /* uint16 event, uint32 value */

/* Reads one monitor event; true when it says the handshake failed. */
static bool
s_refused(void *mon)
{
    zmq_msg_t part;
    uint16_t event = 0;
    bool more = true;
    zmq_msg_init(&part);
    for (int i = 0; more && zmq_msg_recv(&part, mon, 0) >= 0; i++) {
        if (i == 0 && zmq_msg_size(&part) == S_MON_EVENT_LEN)
            memcpy(&event, zmq_msg_data(&part), sizeof event);
        more = zmq_msg_more(&part);
    }
    zmq_msg_close(&part);
    return (event & S_MON_EVENTS) != 0;
}

/* Waits for the reply (0), a refused handshake (-1, EACCES) or the
 * timeout (-1, ETIMEDOUT). mon may be NULL. */
static int
s_wait(void *sock, void *mon, long timeout_ms)
{
    zmq_pollitem_t items[2] = {{sock, 0, ZMQ_POLLIN, 0},
                               {mon, 0, ZMQ_POLLIN, 0}};
    int64_t deadline = rl_clock_mono_ms() + timeout_ms;
    for (long left = timeout_ms; left >= 0;
         left = (long)(deadline - rl_clock_mono_ms())) {
        if (zmq_poll(items, mon != NULL ? 2 : 1, left) < 0 && errno != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            return 0;
        if (mon != NULL && (items[1].revents & ZMQ_POLLIN) && s_refused(mon)) {
            errno = EACCES;
            return -1;
        }
    }
    errno = ETIMEDOUT;
    return -1;
}

static int
s_recv(void *sock, void *mon, long timeout_ms, int *http_status, char **reply)
{
    if (s_wait(sock, mon, timeout_ms) != 0)
        return -1;
    zmq_msg_t part;
    int rc = -1;
    zmq_msg_init(&part);
    /* Skip the empty delimiter, then decode the REPLY. */
    while (zmq_msg_recv(&part, sock, 0) >= 0) {
        if (zmq_msg_size(&part) > 0 || !zmq_msg_more(&part)) {
            rl_msg_t m;
            rl_msg_init(&m, RL_MSG_REPLY);
            if (rl_proto_decode(zmq_msg_data(&part), zmq_msg_size(&part), &m,
                                NULL) == 0 &&
                m.type == RL_MSG_REPLY) {
                *http_status = (int)m.http_status;
                *reply = rl_strndup(m.body ? m.body : "", m.body_len);
                rc = 0;
            }
            rl_msg_release(&m);
            break;
        }
    }
    zmq_msg_close(&part);
    if (rc != 0)
        errno = EPROTO;
    return rc;
}

/* A PAIR socket receiving sock's handshake failures, or NULL. */
static void *
s_monitor(void *ctx, void *sock)
{
    char ep[64];
    int zero = 0;
    /* 26 characters and a pointer's 18 at most. */
    rl_fmt_fit(ep, sizeof ep, "inproc://rl-ingress-monitor-%p", sock);
    if (zmq_socket_monitor(sock, ep, S_MON_EVENTS) != 0)
        return NULL;
    void *mon = zmq_socket(ctx, ZMQ_PAIR);
    if (mon == NULL)
        return NULL;
    zmq_setsockopt(mon, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(mon, ep) != 0) {
        zmq_close(mon);
        return NULL;
    }
    return mon;
}

int
rl_ingress_submit(void *zctx, const char *endpoint, const rl_curve_pair_t *own,
                  const char *server_key, const char *api_key,
                  const char *idempotency_key, const char *body,
                  long timeout_ms, int *http_status, char **reply)
{
    void *own_ctx = zctx ? NULL : zmq_ctx_new();
    void *ctx = zctx ? zctx : own_ctx;
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    void *mon = NULL;
    int rc = -1;
    int zero = 0;
    if (sock == NULL)
        goto out;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if ((own == NULL) != (server_key == NULL) ||
        (own != NULL && rl_curve_client(sock, own, server_key) != 0)) {
        errno = EINVAL;
        goto out;
    }
    mon = s_monitor(ctx, sock);
    if (zmq_connect(sock, endpoint) != 0 ||
        s_send(sock, api_key, idempotency_key, body) != 0)
        goto out;
    rc = s_recv(sock, mon, timeout_ms, http_status, reply);
out:;
    int saved = errno; /* the closes below must not change it */
    if (mon != NULL)
        zmq_close(mon);
    if (sock != NULL)
        zmq_close(sock);
    if (own_ctx != NULL)
        zmq_ctx_term(own_ctx);
    errno = saved;
    return rc;
}
