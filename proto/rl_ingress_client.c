/*
 * rl_ingress_client - one-call SUBMIT over ZeroMQ.
 * SPDX-License-Identifier: MIT
 */
#include "rl_ingress_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "rl_alloc.h"
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

static int
s_recv(void *sock, long timeout_ms, int *http_status, char **reply)
{
    zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
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

int
rl_ingress_submit(void *zctx, const char *endpoint, const char *api_key,
                  const char *idempotency_key, const char *body,
                  long timeout_ms, int *http_status, char **reply)
{
    void *own = zctx ? NULL : zmq_ctx_new();
    void *ctx = zctx ? zctx : own;
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int rc = -1;
    int zero = 0;
    if (sock == NULL)
        goto out;
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(sock, endpoint) != 0 ||
        s_send(sock, api_key, idempotency_key, body) != 0)
        goto out;
    rc = s_recv(sock, timeout_ms, http_status, reply);
out:
    if (sock != NULL)
        zmq_close(sock);
    if (own != NULL)
        zmq_ctx_term(own);
    return rc;
}
