/*
 * job_run - a job's conversation with its providers: submit, poll,
 * transient-failure tolerance, failover along the model's chain, and the
 * phase, progress and ETA recorded from each poll.
 * SPDX-License-Identifier: MIT
 */
#include "job_internal.h"

#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "adapter_url.h"
#include "lease.h"
#include "rl_crash.h"
#include "rl_clock.h"
#include "rl_jobview.h"
#include "rl_log.h"

#define JOB_MAX_RESPONSE (256 * 1024)
#define JOB_DEFAULT_RENDER_MS 60000 /* ETA basis before a model has an average */

static void s_submit(job_t *j, const char *hop);
static void s_submit_recorded(job_t *j);
static void s_poll(job_t *j);

static breaker_t *
s_breaker(const job_t *j)
{
    return &j->w->breakers[job_model(j)->provider];
}

static const adapter_t *
s_adapter(const job_t *j)
{
    return adapter_find(job_provider(j)->type);
}

static void
s_adapter_job(const job_t *j, adapter_job_t *aj)
{
    aj->job_id = j->id;
    aj->attempt = j->attempt;
    aj->upstream_model = job_model(j)->upstream_model;
    aj->prompt = j->prompt;
    aj->negative_prompt = j->negative_prompt;
    aj->image_url = j->image_url;
    aj->duration_s = j->duration_s;
    aj->aspect_ratio = j->aspect;
    aj->token = &j->w->tokens[job_model(j)->provider];
}

/* A "processing" history entry (rl_jobview_entry) in buf, of
 * RL_JOBVIEW_ENTRY_MAX bytes: job_update.lua stamps its time. NULL, and
 * the write goes without an entry, should it not fit (it always does:
 * the phase is ours, the reason is cut to fit). */
static const char *
s_entry(char *buf, const char *phase, const char *reason, bool cut)
{
    rl_jobview_entry_t e = {"processing", phase, 0, reason, cut};
    if (rl_jobview_entry_text(buf, RL_JOBVIEW_ENTRY_MAX, false, &e) == 0)
        return buf;
    rl_log_warnx("history entry '%s' does not fit", reason);
    return NULL;
}

/* Sends req; the callback gets the job with a reference held. */
static int
s_send(job_t *j, adapter_request_t *req, long timeout_ms, rl_http_cb cb)
{
    j->req = rl_http_request(j->w->http, req->method, req->url,
                             (const char *const *)req->headers, req->body,
                             req->body_len, timeout_ms, JOB_MAX_RESPONSE, cb,
                             j);
    adapter_request_release(req);
    if (j->req == NULL)
        return -1;
    job_ref(j);
    return 0;
}

static void
s_on_poll_timer(int fd, short what, void *arg)
{
    job_t *j = arg;
    (void)fd;
    (void)what;
    lateness_record(&j->w->late, rl_clock_mono_us() - j->poll_due_us);
    s_poll(j);
}

static void
s_schedule_poll(job_t *j, long ms)
{
    j->state = JOB_WAITING;
    j->poll_due_us = rl_clock_mono_us() + (int64_t)ms * 1000;
    job_set_timer(j, ms, s_on_poll_timer);
}

static void
s_on_resubmit(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_submit_recorded(arg); /* the intent of this attempt is recorded */
}

/* The request never left the worker (it waited its whole timeout for a
 * turn on a connection to the provider, or curl could not start it):
 * the provider saw nothing, so it is no failure of the provider's (no
 * breaker record, no transient count, no failover) and the same step
 * (submit, or poll) runs again a poll interval later. */
static bool
s_not_sent(job_t *j, const rl_http_resp_t *resp)
{
    long ms = job_provider(j)->poll_interval_ms;
    if (!resp->not_sent)
        return false;
    j->w->stats.not_sent++;
    rl_log_debug("job %s: request not sent (%s); again in %ld ms", j->id,
                 resp->error, ms);
    if (j->state == JOB_SUBMITTING) {
        j->state = JOB_WAITING;
        job_set_timer(j, ms, s_on_resubmit);
    } else {
        s_schedule_poll(j, ms); /* a result fetch: the poll leads to it */
    }
    return true;
}

/* Fails the job with our error class as its code and the provider's own
 * code and message passed through in the message. */
static void
s_fail(job_t *j, const char *why)
{
    adapter_result_t *r = job_result(j);
    char msg[ADAPTER_MSG_MAX];
    if (r->code[0] && strcmp(r->code, adapter_error_name(r->error)) != 0)
        snprintf(msg, sizeof msg, "%s (provider %s, code %s)", why,
                 job_provider(j)->name, r->code);
    else
        snprintf(msg, sizeof msg, "%s", why);
    adapter_copy(r->code, sizeof r->code,
                 r->error ? adapter_error_name(r->error) : "failed");
    adapter_copy(r->message, sizeof r->message, msg);
    job_finish(j, "failed", r->message);
}

/* The next model of the chain that costs no more than was charged. */
static long
s_next_affordable(const job_t *j)
{
    for (size_t i = j->chain_idx + 1; i < j->nchain; i++) {
        long price =
            rl_config_price(&j->w->cfg->models[j->chain[i]], j->duration_s);
        if (price >= 0 && price <= j->charged)
            return (long)i;
    }
    return -1;
}

static void
s_failover(job_t *j, const char *why)
{
    long next = s_next_affordable(j);
    if (next < 0) {
        char msg[ADAPTER_MSG_MAX];
        snprintf(msg, sizeof msg, "no provider left: %s", why);
        s_fail(j, msg);
        return;
    }
    /* A task that ended on its own is not cancelled: on some APIs
     * (Seedance, Runway) cancelling a finished task deletes it. */
    if (j->last == NULL || j->last->state != ADAPTER_FAILED)
        job_run_cancel_upstream(j);
    const char *from = job_model(j)->name;
    j->chain_idx = (size_t)next;
    j->failover_used = true;
    job_set_task(j, ""); /* and the chain index changed: job_changed */
    j->transient = 0;
    j->running_ms = 0;
    j->w->stats.failovers++;
    rl_log_info("job %s: failover %s -> %s: %s", j->id, from,
                job_model(j)->name, why);
    char reason[ADAPTER_MSG_MAX + 128], hist[RL_JOBVIEW_ENTRY_MAX];
    int n = snprintf(reason, sizeof reason, "failover from %s to %s: %s",
                     from, job_model(j)->name, why);
    /* why quotes provider text, maybe cut: the entry makes it valid
     * UTF-8, dropping a character the cut split. */
    const char *h = s_entry(hist, "Queued", n < 0 ? "failover" : reason,
                            n >= (int)sizeof reason);
    snprintf(j->phase, sizeof j->phase, "Queued");
    s_submit(j, h);
}

/* A failover's record (its history entry, failover_used, the phase) on
 * its own, when no intent write follows to carry it. */
static void
s_hop_alone(job_t *j, const char *hop)
{
    const char *kv[] = {"failover_used", "1", "phase", "Queued"};
    if (hop != NULL)
        job_update(j, hop, kv, 4);
}

/* Records the upstream task (restated by job_update, so should this
 * write be lost the next progress write carries it). */
static void
s_record_submit(job_t *j)
{
    char reason[RL_JOBVIEW_REASON_MAX], hist[RL_JOBVIEW_ENTRY_MAX];
    int n = snprintf(reason, sizeof reason, "submitted to %s (%s)",
                     job_provider(j)->name, job_model(j)->upstream_model);
    job_update(j,
               s_entry(hist, "Queued", n < 0 ? "submitted" : reason,
                       n >= (int)sizeof reason),
               NULL, 0);
}

static void
s_on_submit(const rl_http_resp_t *resp, void *arg)
{
    job_t *j = arg;
    j->req = NULL;
    if (j->state == JOB_SUBMITTING && !s_not_sent(j, resp)) {
        adapter_result_t *r = &j->w->scratch;
        memset(r, 0, sizeof *r);
        s_adapter(j)->parse_submit(resp, r);
        bool healthy = r->state == ADAPTER_QUEUED ||
                       r->error == ADAPTER_ERR_PERMANENT ||
                       r->error == ADAPTER_ERR_CONTENT_REJECTED;
        breaker_record(s_breaker(j), j->w->cfg, healthy, rl_clock_mono_ms());
        if (r->state == ADAPTER_QUEUED && r->task_id[0]) {
            rl_crash_point("worker_after_submit");
            j->submitted_ms = rl_clock_wall_ms();
            job_set_task(j, r->task_id);
            job_result_forget(j);
            s_record_submit(j);
            s_schedule_poll(j, job_provider(j)->poll_interval_ms);
        } else if (r->error == ADAPTER_ERR_CONTENT_REJECTED) {
            job_result_keep(j, r);
            s_fail(j, j->last->message);
        } else {
            job_result_keep(j, r);
            r = j->last;
            char why[ADAPTER_MSG_MAX];
            snprintf(why, sizeof why, "%s at submit: %.180s",
                     adapter_error_name(r->error), r->message);
            s_failover(j, why);
        }
    }
    job_unref(j);
}

/* Whether the job may still go to a provider: it is not past its
 * maximum wait (else it is failed now, after the record of the failover
 * `hop` that led here, if any), and the worker still holds its lease
 * (else it is dropped: a worker paused past its lease, a zombie, must
 * not render anything again, the job has a new owner by now). */
static bool
s_may_submit(job_t *j, const char *hop)
{
    if (hop != NULL && j->deadline_ms > 0 &&
        rl_clock_wall_ms() >= j->deadline_ms)
        s_hop_alone(j, hop);
    if (job_past_deadline(j))
        return false;
    if (!lease_ok(j->w->lease)) {
        job_drop(j, "lease not held: no upstream submit");
        return false;
    }
    return true;
}

/* Whether the worker may still ask the provider about the job's task (a
 * poll, a result fetch): only while it holds its lease. A worker paused
 * past it (a zombie) finds its poll timers due on waking, before the
 * lease tick can tell it the lease is gone; by then the job has a new
 * owner polling the same task, or its failover target. Drops the job
 * otherwise. */
static bool
s_may_poll(job_t *j)
{
    if (lease_ok(j->w->lease))
        return true;
    job_drop(j, "lease not held: no upstream poll");
    return false;
}

/* Submits to the job's current model; `hop` is the history entry of the
 * failover that led here (or NULL), written with the intent (one round
 * trip for both). */
static void
s_submit(job_t *j, const char *hop)
{
    if (!s_may_submit(j, hop)) /* before writing an intent for nothing */
        return;
    if (!breaker_allow(s_breaker(j), j->w->cfg, rl_clock_mono_ms()) &&
        s_next_affordable(j) >= 0) {
        s_hop_alone(j, hop); /* the next hop has a record of its own */
        adapter_result_t *r = job_result(j);
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED,
                             "circuit_open",
                             "provider %s skipped: circuit breaker open",
                             job_provider(j)->name);
        s_failover(j, r->message);
        return;
    }
    /* Redis learns the attempt number before the provider sees it: the
     * claim did it for the first submit, a write does for the others. */
    if (j->claim_intent) {
        s_hop_alone(j, hop);
        j->claim_intent = false;
        s_submit_recorded(j);
        return;
    }
    j->attempt++;
    job_changed(j);
    job_record(j, hop, s_submit_recorded);
}

/* The intent is recorded: the upstream submit itself. The checks come
 * again, right before the request: recording took a round trip to Redis
 * (or a not-sent submit waited a poll interval), and the lease may have
 * run out meanwhile. */
static void
s_submit_recorded(job_t *j)
{
    const adapter_t *a = s_adapter(j);
    adapter_request_t req = {0};
    adapter_job_t aj;
    if (!s_may_submit(j, NULL))
        return;
    j->state = JOB_SUBMITTING;
    s_adapter_job(j, &aj);
    if (a == NULL ||
        a->build_submit(job_provider(j), &aj, rl_clock_wall_ms() / 1000,
                        &req) != 0) {
        adapter_request_release(&req);
        adapter_result_t *r = job_result(j);
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                             "unsupported",
                             "the provider cannot express this job");
        s_failover(j, r->message);
        return;
    }
    j->w->stats.submits++;
    if (s_send(j, &req, job_provider(j)->submit_timeout_ms, s_on_submit) != 0)
        s_failover(j, "cannot start the submit request");
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

/* Records phase, progress, ETA and the poll time. */
static void
s_progress(job_t *j, const adapter_result_t *r)
{
    int64_t now = rl_clock_wall_ms();
    const char *phase = "Queued";
    int progress = 0;
    long expected = j->w->render_avg_ms[j->chain[j->chain_idx]];
    if (expected <= 0)
        expected = JOB_DEFAULT_RENDER_MS;
    long eta_s = expected / 1000;
    if (r->state == ADAPTER_RUNNING) {
        if (j->running_ms == 0)
            j->running_ms = now;
        int64_t ran = now - j->running_ms;
        progress = r->progress >= 0
                       ? r->progress
                       : (int)(ran * 100 / expected);
        progress = progress > 99 ? 99 : progress;
        phase = s_phase_of(progress);
        eta_s = progress > 0 ? (long)(ran * (100 - progress) / progress / 1000)
                             : (long)((expected - ran) / 1000);
        eta_s = eta_s < 0 ? 0 : eta_s;
    }
    char p[16], e[24], t[24], hist[RL_JOBVIEW_ENTRY_MAX];
    snprintf(p, sizeof p, "%d", progress);
    snprintf(e, sizeof e, "%ld", eta_s);
    snprintf(t, sizeof t, "%lld", (long long)now);
    bool changed = strcmp(phase, j->phase) != 0;
    const char *kv[] = {"phase", phase, "progress", p, "eta_s", e,
                        "last_poll_at", t};
    job_update(j, changed ? s_entry(hist, phase, "provider progress", false)
                          : NULL,
               kv, 8);
    snprintf(j->phase, sizeof j->phase, "%s", phase);
    j->progress = progress;
}

/* A poll failed without an answer about the task: back off, or fail over
 * after too many in a row. */
static void
s_poll_trouble(job_t *j, adapter_result_t *r)
{
    long interval = job_provider(j)->poll_interval_ms;
    if (r->error == ADAPTER_ERR_PERMANENT) {
        s_failover(j, r->message);
        return;
    }
    if (r->error == ADAPTER_ERR_CONTENT_REJECTED) {
        s_fail(j, r->message);
        return;
    }
    if (++j->transient > JOB_MAX_TRANSIENT) {
        char why[ADAPTER_MSG_MAX];
        snprintf(why, sizeof why, "%d consecutive transient poll failures "
                 "(last: %.180s)", j->transient, r->message);
        s_failover(j, why);
        return;
    }
    long backoff = interval << j->transient;
    long cap = interval * JOB_BACKOFF_CAP;
    backoff = backoff > cap ? cap : backoff;
    if (r->retry_after_ms > backoff)
        backoff = r->retry_after_ms > cap ? cap : r->retry_after_ms;
    rl_log_debug("job %s: transient poll failure %d: %s; next in %ld ms",
                 j->id, j->transient, r->message, backoff);
    s_schedule_poll(j, backoff);
}

/* Finishes a rendered job; a relative output URL (OpenAI's content
 * path) is made absolute under the provider's base URL. The URL handed
 * to the customer is checked once more here, whichever adapter made it:
 * one that is not a plain absolute http(s) URL is a provider error (a
 * PERMANENT poll failure: failover, or the job fails with its refund). */
static void
s_complete(job_t *j)
{
    adapter_result_t *r = job_result(j);
    const char *why = NULL;
    if (r->output_url[0] == '/') {
        char abs[sizeof r->output_url];
        int n = snprintf(abs, sizeof abs, "%s%s", job_provider(j)->base_url,
                         r->output_url);
        if (n > 0 && (size_t)n < sizeof abs)
            memcpy(r->output_url, abs, (size_t)n + 1);
        else
            why = "too long";
    }
    if (why == NULL)
        why = adapter_url_output_check(r->output_url);
    if (why != NULL) {
        r->output_url[0] = '\0';
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT,
                             "bad_output_url", "output URL refused: %s",
                             why);
        s_poll_trouble(j, r);
        return;
    }
    job_finish(j, "completed", NULL);
}

/* A terminal answer (from a poll or a result fetch). */
static void
s_terminal(job_t *j, adapter_result_t *r)
{
    if (r->state == ADAPTER_SUCCEEDED) {
        s_complete(j);
    } else if (r->state == ADAPTER_FAILED &&
               (r->error == ADAPTER_ERR_CAPACITY ||
                r->error == ADAPTER_ERR_TRANSIENT)) {
        /* Out of capacity, or a failure the provider calls retryable:
         * another provider may well render it. */
        char why[ADAPTER_MSG_MAX];
        snprintf(why, sizeof why, "%s mid-render: %.180s",
                 adapter_error_name(r->error), r->message);
        s_failover(j, why);
    } else if (r->state == ADAPTER_FAILED) {
        s_fail(j, r->message);
    } else {
        s_poll_trouble(j, r);
    }
}

static void
s_on_result(const rl_http_resp_t *resp, void *arg)
{
    job_t *j = arg;
    j->req = NULL;
    if (j->state == JOB_POLLING && !s_not_sent(j, resp)) {
        adapter_result_t *r = job_result(j);
        memset(r, 0, sizeof *r);
        s_adapter(j)->parse_result(resp, r);
        if (r->state == ADAPTER_FETCH) /* never valid here */
            adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "result still pending");
        s_terminal(j, r);
    }
    job_unref(j);
}

/* The upstream task ended: ask for its outcome (fal, MiniMax). */
static void
s_fetch(job_t *j)
{
    const adapter_t *a = s_adapter(j);
    adapter_request_t req = {0};
    adapter_job_t aj;
    char ref[ADAPTER_TASK_MAX];
    if (job_past_deadline(j) || !s_may_poll(j))
        return;
    const adapter_result_t *last = job_result(j);
    snprintf(ref, sizeof ref, "%s",
             last->fetch_ref[0] ? last->fetch_ref : j->task_id);
    s_adapter_job(j, &aj);
    if (a->build_result == NULL || a->parse_result == NULL ||
        a->build_result(job_provider(j), &aj, ref, rl_clock_wall_ms() / 1000,
                        &req) != 0) {
        adapter_request_release(&req);
        s_failover(j, "cannot build the result request");
        return;
    }
    j->w->stats.polls++;
    if (s_send(j, &req, job_provider(j)->poll_timeout_ms, s_on_result) !=
        0) {
        adapter_result_t *r = job_result(j);
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "network", "cannot start the result request");
        s_poll_trouble(j, r);
    }
}

/* The provider still shows the task waiting (Runway THROTTLED, fal
 * IN_QUEUE, Ark queued) past its max_queue_ms: a capacity signal. */
static bool
s_queued_too_long(const job_t *j, const adapter_result_t *r)
{
    long budget = job_provider(j)->max_queue_ms;
    /* Without a backup to go to, waiting on (up to max_wait) beats
     * failing a job that may still run. */
    return r->state == ADAPTER_QUEUED && budget > 0 && j->submitted_ms > 0 &&
           rl_clock_wall_ms() - j->submitted_ms > budget &&
           s_next_affordable(j) >= 0;
}

static void
s_queue_failover(job_t *j, const adapter_result_t *r)
{
    char why[ADAPTER_MSG_MAX];
    adapter_result_t *last = job_result(j);
    *last = *r;
    snprintf(why, sizeof why,
             "capacity: still queued at %s %lld s after submit "
             "(max_queue_ms %ld)",
             job_provider(j)->name,
             (long long)((rl_clock_wall_ms() - j->submitted_ms) / 1000),
             job_provider(j)->max_queue_ms);
    adapter_result_error(last, ADAPTER_QUEUED, ADAPTER_ERR_CAPACITY,
                         "queue_timeout", "%s", why);
    s_failover(j, why);
}

static void
s_on_poll(const rl_http_resp_t *resp, void *arg)
{
    job_t *j = arg;
    j->req = NULL;
    if (j->state == JOB_POLLING && !s_not_sent(j, resp)) {
        adapter_result_t *r = &j->w->scratch;
        memset(r, 0, sizeof *r);
        s_adapter(j)->parse_poll(resp, r);
        if (s_queued_too_long(j, r)) {
            s_queue_failover(j, r);
        } else if (r->state == ADAPTER_QUEUED ||
                   r->state == ADAPTER_RUNNING) {
            j->transient = 0;
            job_result_forget(j);
            s_progress(j, r);
            s_schedule_poll(j, job_provider(j)->poll_interval_ms);
        } else {
            job_result_keep(j, r);
            if (r->state == ADAPTER_FETCH)
                s_fetch(j);
            else
                s_terminal(j, j->last);
        }
    }
    job_unref(j);
}

static void
s_poll(job_t *j)
{
    adapter_request_t req = {0};
    adapter_job_t aj;
    if (!s_may_poll(j))
        return;
    s_adapter_job(j, &aj);
    j->state = JOB_POLLING;
    if (s_adapter(j)->build_poll(job_provider(j), &aj, j->task_id,
                                 rl_clock_wall_ms() / 1000, &req) != 0) {
        adapter_request_release(&req);
        s_failover(j, "cannot build the poll request");
        return;
    }
    j->w->stats.polls++;
    if (s_send(j, &req, job_provider(j)->poll_timeout_ms, s_on_poll) != 0) {
        adapter_result_t *r = job_result(j);
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "network", "cannot start the poll request");
        s_poll_trouble(j, r);
    }
}

void
job_run_start(job_t *j)
{
    if (j->task_id[0] != '\0') {
        /* Taken over from a worker that died after submitting: resume
         * polling the same upstream task instead of rendering twice. */
        rl_log_info("job %s: resuming upstream task %s", j->id, j->task_id);
        j->submitted_ms = rl_clock_wall_ms(); /* its queue budget anew */
        const char *kv[] = {"resumed_at", "1"};
        char hist[RL_JOBVIEW_ENTRY_MAX];
        job_update(j,
                   s_entry(hist, NULL,
                           "resumed polling after worker recovery", false),
                   kv, 2);
        s_schedule_poll(j, 0);
        return;
    }
    s_submit(j, NULL);
}

static void
s_on_cancelled(const rl_http_resp_t *resp, void *arg)
{
    (void)arg;
    rl_log_debug("upstream cancel answered %ld", resp->status);
}

void
job_run_cancel_upstream(job_t *j)
{
    const adapter_t *a = s_adapter(j);
    if (a == NULL || a->build_cancel == NULL || j->task_id[0] == '\0')
        return;
    adapter_request_t req = {0};
    adapter_job_t aj;
    s_adapter_job(j, &aj);
    if (a->build_cancel(job_provider(j), &aj, j->task_id,
                        rl_clock_wall_ms() / 1000, &req) == 0)
        rl_http_request(j->w->http, req.method, req.url,
                        (const char *const *)req.headers, req.body,
                        req.body_len, job_provider(j)->poll_timeout_ms, 4096,
                        s_on_cancelled, NULL);
    adapter_request_release(&req);
}
