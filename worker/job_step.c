/*
 * job_step - a job's next step, decided from the provider's answer.
 * SPDX-License-Identifier: MIT
 */
#include "job_step.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "adapter_url.h"

#define S_TEXT_MAX (2 * ADAPTER_MSG_MAX) /* a reason before it is cut */

/* Formats a reason into dst (len bytes): one longer than dst is cut
 * before the character the end would split (adapter_copy), on purpose:
 * reasons are bounded, and quote provider text cut shorter still. */
static void __attribute__((format(printf, 3, 4)))
s_say(char *dst, size_t len, const char *fmt, ...)
{
    char text[S_TEXT_MAX];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    adapter_copy(dst, len, n < 0 ? "" : text);
}

static void
s_init(const job_step_in_t *in, job_step_t *out, job_step_action_t action)
{
    memset(out, 0, sizeof *out);
    out->action = action;
    out->transient = in->transient;
    out->next = -1;
}

void
job_step_fail(const job_step_in_t *in, const char *why,
              const adapter_result_t *r, job_step_t *out)
{
    const char *cls = adapter_error_name(r->error);

    s_init(in, out, JOB_STEP_FAIL);
    if (r->code[0] && strcmp(r->code, cls) != 0)
        s_say(out->message, sizeof out->message, "%s (provider %s, code %s)",
              why, in->provider, r->code);
    else
        s_say(out->message, sizeof out->message, "%s", why);
    adapter_copy(out->code, sizeof out->code, r->error ? cls : "failed");
}

void
job_step_failover(const job_step_in_t *in, const char *why,
                  const adapter_result_t *r, job_step_t *out)
{
    char msg[ADAPTER_MSG_MAX];

    if (in->next_model < 0) {
        s_say(msg, sizeof msg, "no provider left: %s", why);
        job_step_fail(in, msg, r, out);
        return;
    }
    s_init(in, out, JOB_STEP_FAILOVER);
    out->next = in->next_model;
    adapter_copy(out->why, sizeof out->why, why);
}

bool
job_step_healthy(const adapter_result_t *r)
{
    return r->state == ADAPTER_QUEUED || r->error == ADAPTER_ERR_PERMANENT ||
           r->error == ADAPTER_ERR_CONTENT_REJECTED;
}

void
job_step_submit(const job_step_in_t *in, const adapter_result_t *r,
                job_step_t *out)
{
    char why[ADAPTER_MSG_MAX];

    if (r->state == ADAPTER_QUEUED && r->task_id[0]) {
        s_init(in, out, JOB_STEP_ACCEPTED);
        out->delay_ms = in->poll_interval_ms;
        return;
    }
    if (r->error == ADAPTER_ERR_CONTENT_REJECTED) {
        job_step_fail(in, r->message, r, out);
        return;
    }
    s_say(why, sizeof why, "%s at submit: %.*s", adapter_error_name(r->error),
          JOB_STEP_CUT, r->message);
    job_step_failover(in, why, r, out);
}

void
job_step_trouble(const job_step_in_t *in, const adapter_result_t *r,
                 job_step_t *out)
{
    long interval = in->poll_interval_ms;
    long cap = interval * JOB_BACKOFF_CAP;
    long backoff;
    int n = in->transient + 1;
    char why[ADAPTER_MSG_MAX];

    if (r->error == ADAPTER_ERR_PERMANENT) {
        job_step_failover(in, r->message, r, out);
        return;
    }
    if (r->error == ADAPTER_ERR_CONTENT_REJECTED) {
        job_step_fail(in, r->message, r, out);
        return;
    }
    if (n > JOB_MAX_TRANSIENT) {
        s_say(why, sizeof why,
              "%d consecutive transient poll failures (last: %.*s)", n,
              JOB_STEP_CUT, r->message);
        job_step_failover(in, why, r, out);
        out->transient = n;
        return;
    }
    backoff = interval << n;
    backoff = backoff > cap ? cap : backoff;
    if (r->retry_after_ms > backoff)
        backoff = r->retry_after_ms > cap ? cap : r->retry_after_ms;
    s_init(in, out, JOB_STEP_BACKOFF);
    out->transient = n;
    out->delay_ms = backoff;
}

/* The output URL a SUCCEEDED answer hands the customer, checked once
 * more whichever adapter made it (a relative one made absolute under
 * base_url first). Returns NULL, or why it is refused. */
static const char *
s_output(const job_step_in_t *in, adapter_result_t *r)
{
    if (r->output_url[0] == '/') {
        char abs[sizeof r->output_url];
        int n = snprintf(abs, sizeof abs, "%s%s", in->base_url, r->output_url);
        if (n <= 0 || (size_t)n >= sizeof abs)
            return "too long";
        memcpy(r->output_url, abs, (size_t)n + 1);
    }
    return adapter_url_output_check(r->output_url);
}

/* A terminal answer (the task ended, or the call failed). */
static void
s_terminal(const job_step_in_t *in, adapter_result_t *r, job_step_t *out)
{
    char why[ADAPTER_MSG_MAX];

    if (r->state == ADAPTER_SUCCEEDED) {
        const char *bad = s_output(in, r);
        if (bad == NULL) {
            s_init(in, out, JOB_STEP_COMPLETE);
            return;
        }
        r->output_url[0] = '\0';
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                             "bad_output_url", "output URL refused: %s", bad);
        job_step_trouble(in, r, out);
    } else if (r->state == ADAPTER_FAILED &&
               (r->error == ADAPTER_ERR_CAPACITY ||
                r->error == ADAPTER_ERR_TRANSIENT)) {
        /* Out of capacity, or a failure the provider calls retryable:
         * another provider may well render it. */
        s_say(why, sizeof why, "%s mid-render: %.*s",
              adapter_error_name(r->error), JOB_STEP_CUT, r->message);
        job_step_failover(in, why, r, out);
    } else if (r->state == ADAPTER_FAILED) {
        job_step_fail(in, r->message, r, out);
    } else {
        job_step_trouble(in, r, out);
    }
}

/* The provider still shows the task waiting (Runway THROTTLED, fal
 * IN_QUEUE, Ark queued) past its max_queue_ms: a capacity signal. Without
 * a backup to go to, waiting on (up to max_wait) beats failing a job
 * that may still run. */
static bool
s_queued_too_long(const job_step_in_t *in, const adapter_result_t *r)
{
    return r->state == ADAPTER_QUEUED && in->max_queue_ms > 0 &&
           in->queued_ms >= 0 && in->queued_ms > in->max_queue_ms &&
           in->next_model >= 0;
}

void
job_step_poll(const job_step_in_t *in, adapter_result_t *r, bool fetch,
              job_step_t *out)
{
    char why[ADAPTER_MSG_MAX];

    if (fetch) {
        /* The answer about a task that ended: FETCH is never valid, and
         * anything but SUCCEEDED or FAILED is trouble. */
        if (r->state == ADAPTER_FETCH)
            adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "result still pending");
        s_terminal(in, r, out);
    } else if (s_queued_too_long(in, r)) {
        s_say(why, sizeof why,
              "capacity: still queued at %s %lld s after submit "
              "(max_queue_ms %ld)",
              in->provider, (long long)(in->queued_ms / 1000),
              in->max_queue_ms);
        adapter_result_error(r, ADAPTER_QUEUED, ADAPTER_ERR_CAPACITY,
                             "queue_timeout", "%s", why);
        job_step_failover(in, why, r, out);
    } else if (r->state == ADAPTER_QUEUED || r->state == ADAPTER_RUNNING) {
        s_init(in, out, JOB_STEP_POLL);
        out->transient = 0;
        out->delay_ms = in->poll_interval_ms;
    } else if (r->state == ADAPTER_FETCH) {
        s_init(in, out, JOB_STEP_FETCH);
    } else {
        s_terminal(in, r, out);
    }
}

long
job_step_next_model(const rl_config_t *cfg, const int *chain, size_t nchain,
                    size_t idx, int duration_s, long charged)
{
    for (size_t i = idx + 1; i < nchain; i++) {
        long price = rl_config_price(&cfg->models[chain[i]], duration_s);
        if (price >= 0 && price <= charged)
            return (long)i;
    }
    return -1;
}

long
job_step_billed(long price, long charged)
{
    return price < 0 ? charged : price;
}

static const char *
s_phase_of(int progress)
{
    if (progress < 15)
        return "Preparing";
    if (progress < 85)
        return "Rendering";
    if (progress < 95)
        return "Encoding";
    return "Finishing";
}

job_step_progress_t
job_step_progress(const adapter_result_t *r, int64_t ran_ms, long expected_ms)
{
    job_step_progress_t p = {"Queued", 0, 0};
    long expected = expected_ms > 0 ? expected_ms : JOB_DEFAULT_RENDER_MS;
    int progress;

    p.eta_s = expected / 1000;
    if (r->state != ADAPTER_RUNNING)
        return p;
    progress = r->progress >= 0 ? r->progress : (int)(ran_ms * 100 / expected);
    progress = progress > 99 ? 99 : progress;
    p.phase = s_phase_of(progress);
    p.progress = progress;
    p.eta_s = progress > 0 ? (long)(ran_ms * (100 - progress) / progress / 1000)
                           : (long)((expected - ran_ms) / 1000);
    p.eta_s = p.eta_s < 0 ? 0 : p.eta_s;
    return p;
}
