/*
 * completion - COMPLETION messages to the deliverers.
 * SPDX-License-Identifier: MIT
 */
#include "completion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "rl_crash.h"
#include "rl_jobview.h"
#include "rl_log.h"
#include "rl_proto.h"
#include "rl_zsock.h"

#define COMPLETION_HWM 10000

int
completion_open(worker_t *w)
{
    w->push = rl_zsock_new(w->base, w->zctx, ZMQ_PUSH, RL_PROTO_MAX_FRAME,
                           NULL, NULL);
    if (w->push == NULL ||
        rl_zsock_set_int(w->push, ZMQ_IMMEDIATE, 1) != 0 ||
        rl_zsock_set_int(w->push, ZMQ_SNDHWM, COMPLETION_HWM) != 0)
        return -1;
    for (size_t i = 0; i < w->cfg->ncompletion; i++) {
        if (rl_zsock_connect(w->push, w->cfg->completion[i]) != 0) {
            rl_log_error("completion: cannot connect %s",
                         w->cfg->completion[i]);
            return -1;
        }
    }
    return 0;
}

int
completion_push(worker_t *w, const char *acct, const char *job_id,
                const char *status, const char *sign_key,
                const redisReply *job)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_COMPLETION);
    snprintf(m.acct, sizeof m.acct, "%s", acct);
    snprintf(m.job_id, sizeof m.job_id, "%s", job_id);
    snprintf(m.status, sizeof m.status, "%s", status);
    m.sign_key = strdup(sign_key);
    const char *const *fields = rl_jobview_webhook_fields(NULL);
    for (size_t i = 0; fields[i] != NULL; i++) {
        const char *v = rl_redis_reply_field(job, 2, fields[i]);
        if (v != NULL)
            rl_msg_add_field(&m, fields[i], v);
    }
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;
    if (rl_fault_drop("completion")) {
        rc = 0; /* lost in flight: the deliverers' outbox scan finds it */
    } else if (m.sign_key != NULL && rl_proto_encode(&m, &buf, &len) == 0) {
        const void *parts[1] = {buf};
        rc = rl_zsock_send(w->push, parts, &len, 1);
    }
    free(buf);
    rl_msg_release(&m);
    return rc;
}
