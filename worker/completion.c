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
#include "rl_curve.h"
#include "rl_jobview.h"
#include "rl_log.h"
#include "rl_proto.h"
#include "rl_zretry.h"
#include "rl_zsock.h"

#define COMPLETION_HWM 10000
/* The account's webhook settings job_finish.lua appends to the job's
 * fields (_lib.lua acct_webhook_fields; deliverer/webhook.h WEBHOOK_F_*):
 * with the 24 webhook fields they stay far below RL_PROTO_MAX_FIELDS, and
 * the secrets among them are sealed, as stored. */
#define S_ACCT_PREFIX "acct:"

/* Copies the "acct:" pairs of job_finish's reply into m. */
static void
s_account_fields(rl_msg_t *m, const rl_state_fields_t *job)
{
    const redisReply *r = job->r;
    for (size_t i = job->from; i + 1 < r->elements; i += 2) {
        const char *k = rl_redis_reply_str(r->element[i]);
        const char *v = rl_redis_reply_str(r->element[i + 1]);
        if (k != NULL && v != NULL &&
            strncmp(k, S_ACCT_PREFIX, sizeof S_ACCT_PREFIX - 1) == 0)
            rl_msg_add_field(m, k, v);
    }
}

int
completion_open(worker_t *w)
{
    w->push = rl_zsock_new(w->base, w->zctx, ZMQ_PUSH, RL_PROTO_MAX_FRAME, NULL,
                           NULL);
    if (w->push == NULL ||
        (w->cfg->zmq_curve &&
         rl_curve_client(rl_zsock_handle(w->push), &w->keys.own,
                         w->keys.deliverer) != 0) ||
        rl_zsock_set_int(w->push, ZMQ_IMMEDIATE, 1) != 0 ||
        rl_zsock_set_int(w->push, ZMQ_SNDHWM, COMPLETION_HWM) != 0)
        return -1;
    if (w->cfg->zmq_curve) {
        w->push_retry = rl_zretry_new(w->base, w->zctx,
                                      rl_zsock_handle(w->push), "completion");
        if (w->push_retry == NULL)
            return -1;
    }
    for (size_t i = 0; i < w->cfg->ncompletion; i++) {
        if (rl_zsock_connect(w->push, w->cfg->completion[i]) != 0) {
            rl_log_error("completion: cannot connect %s",
                         w->cfg->completion[i]);
            return -1;
        }
    }
    return 0;
}

/* Copies text into a message field of len bytes; false when it does not
 * fit (the message is not sent: the outbox covers it). */
static bool
s_field(char *dst, size_t len, const char *text)
{
    size_t n = strlen(text);
    if (n >= len)
        return false;
    memcpy(dst, text, n + 1);
    return true;
}

int
completion_push(worker_t *w, const char *acct, const char *job_id,
                const char *status, const char *sign_key,
                const rl_state_fields_t *job)
{
    rl_msg_t m;
    rl_msg_init(&m, RL_MSG_COMPLETION);
    if (!s_field(m.acct, sizeof m.acct, acct) ||
        !s_field(m.job_id, sizeof m.job_id, job_id) ||
        !s_field(m.status, sizeof m.status, status)) {
        rl_msg_release(&m);
        return -1;
    }
    m.sign_key = strdup(sign_key);
    const char *const *fields = rl_jobview_webhook_fields(NULL);
    for (size_t i = 0; fields[i] != NULL; i++) {
        const char *v = rl_state_field(job, fields[i]);
        if (v != NULL)
            rl_msg_add_field(&m, fields[i], v);
    }
    if (job->r != NULL && job->r->type == REDIS_REPLY_ARRAY)
        s_account_fields(&m, job);
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
