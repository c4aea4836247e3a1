/*
 * job_run - a job's conversation with its providers: submit, poll, result
 * fetch, failover along the model's chain, and the phase, progress and
 * ETA recorded from each poll. Every answer is handed to job_step, which
 * decides the next step; this module reads the facts and acts on the
 * decision (worker.h has the stack: job_claim.c above, job.c below).
 * SPDX-License-Identifier: MIT
 */
#include "job_run.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "job_step.h"
#include "lease.h"
#include "rl_crash.h"
#include "rl_clock.h"
#include "rl_jobview.h"
#include "rl_log.h"

#define JOB_MAX_RESPONSE (256 * 1024)
#define JOB_CANCEL_RESPONSE 4096 /* a cancel's answer is not read */

static void s_submit(job_t *j, const char *hop);
static void s_submit_recorded(job_t *j);
static void s_poll(job_t *j);
static void s_fetch(job_t *j);
static void s_cancel_upstream(job_t *j);

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

/* The chain index of the next model that costs no more than was
 * charged, -1 when none does. */
static long
s_next_affordable(const job_t *j)
{
    return job_step_next_model(j->w->cfg, j->chain, j->nchain, j->chain_idx,
                               j->duration_s, j->charged);
}

/* The facts job_step decides on. */
static void
s_facts(const job_t *j, job_step_in_t *in)
{
    const rl_provider_conf_t *p = job_provider(j);
    in->provider = p->name;
    in->base_url = p->base_url;
    in->poll_interval_ms = p->poll_interval_ms;
    in->max_queue_ms = p->max_queue_ms;
    in->transient = j->transient;
    in->next_model = s_next_affordable(j);
    in->queued_ms =
        j->submitted_ms > 0 ? rl_clock_wall_ms() - j->submitted_ms : -1;
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

/* The job's phase, one of ours (job_step's names, "Queued"). */
static void
s_set_phase(job_t *j, const char *phase)
{
    adapter_copy(j->phase, sizeof j->phase, phase);
}

/* Sends req; the callback gets the job with a reference held. */
static int
s_send(job_t *j, adapter_request_t *req, long timeout_ms, rl_http_cb cb)
{
    j->req = rl_http_request(
        j->w->http, req->method, req->url, (const char *const *)req->headers,
        req->body, req->body_len, timeout_ms, JOB_MAX_RESPONSE, cb, j);
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
    job_enter(j, JOB_WAITING);
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
        job_enter(j, JOB_WAITING);
        job_set_timer(j, ms, s_on_resubmit);
    } else {
        s_schedule_poll(j, ms); /* a result fetch: the poll leads to it */
    }
    return true;
}

/* A failed job's code and message, then its terminal write. */
static void
s_fail(job_t *j, const job_step_t *st)
{
    adapter_result_t *r = job_result(j);
    adapter_copy(r->code, sizeof r->code, st->code);
    adapter_copy(r->message, sizeof r->message, st->message);
    job_finish(j, "failed", r->message);
}

/* Moves the job to chain index `next` for `why` and submits there. */
static void
s_hop(job_t *j, long next, const char *why)
{
    /* A task that ended on its own is not cancelled: on some APIs
     * (Seedance, Runway) cancelling a finished task deletes it. */
    if (j->last == NULL || j->last->state != ADAPTER_FAILED)
        s_cancel_upstream(j);
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
    int n = snprintf(reason, sizeof reason, "failover from %s to %s: %s", from,
                     job_model(j)->name, why);
    /* why quotes provider text, maybe cut: the entry makes it valid
     * UTF-8, dropping a character the cut split. */
    const char *h = s_entry(hist, "Queued", n < 0 ? "failover" : reason,
                            n >= (int)sizeof reason);
    s_set_phase(j, "Queued");
    s_submit(j, h);
}

/* Acts on a decision that leaves the current poll loop: a fetch, a
 * back-off, the end, or a failover (ACCEPTED and POLL are their
 * callers'). */
static void
s_act(job_t *j, const job_step_t *st)
{
    j->transient = st->transient;
    switch (st->action) {
    case JOB_STEP_FETCH:
        s_fetch(j);
        break;
    case JOB_STEP_BACKOFF:
        rl_log_debug("job %s: transient poll failure %d: %s; next in %ld ms",
                     j->id, j->transient, job_result(j)->message, st->delay_ms);
        s_schedule_poll(j, st->delay_ms);
        break;
    case JOB_STEP_COMPLETE:
        job_finish(j, "completed", NULL);
        break;
    case JOB_STEP_FAILOVER:
        s_hop(j, st->next, st->why);
        break;
    case JOB_STEP_FAIL:
        s_fail(j, st);
        break;
    case JOB_STEP_ACCEPTED:
    case JOB_STEP_POLL:
        assert(!"handled by the caller");
        break;
    }
}

/* Away from the current model for `why`, a failure of ours (a request
 * that cannot be built or started, an open breaker): job_step_failover
 * with the job's last answer. */
static void
s_failover(job_t *j, const char *why)
{
    job_step_in_t in;
    job_step_t st;
    s_facts(j, &in);
    job_step_failover(&in, why, job_result(j), &st);
    s_act(j, &st);
}

/* A poll or fetch that failed before any answer about the task (its
 * error in the job's last answer). */
static void
s_trouble(job_t *j)
{
    job_step_in_t in;
    job_step_t st;
    s_facts(j, &in);
    job_step_trouble(&in, job_result(j), &st);
    s_act(j, &st);
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
        job_step_in_t in;
        job_step_t st;
        memset(r, 0, sizeof *r);
        s_adapter(j)->parse_submit(resp, r);
        breaker_record(s_breaker(j), j->w->cfg, job_step_healthy(r),
                       rl_clock_mono_ms());
        s_facts(j, &in);
        job_step_submit(&in, r, &st);
        if (st.action == JOB_STEP_ACCEPTED) {
            rl_crash_point("worker_after_submit");
            j->submitted_ms = rl_clock_wall_ms();
            job_set_task(j, r->task_id);
            job_result_forget(j);
            s_record_submit(j);
            s_schedule_poll(j, st.delay_ms);
        } else {
            job_result_keep(j, r);
            s_act(j, &st);
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
        adapter_result_error(
            r, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED, "circuit_open",
            "provider %s skipped: circuit breaker open", job_provider(j)->name);
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
    job_enter(j, JOB_SUBMITTING);
    s_adapter_job(j, &aj);
    if (a == NULL || a->build_submit(job_provider(j), &aj,
                                     rl_clock_wall_ms() / 1000, &req) != 0) {
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

/* Records phase, progress, ETA and the poll time of a QUEUED or RUNNING
 * answer; a new phase goes in the history too. */
static void
s_progress(job_t *j, const adapter_result_t *r)
{
    int64_t now = rl_clock_wall_ms();
    if (r->state == ADAPTER_RUNNING && j->running_ms == 0)
        j->running_ms = now;
    job_step_progress_t p = job_step_progress(
        r, r->state == ADAPTER_RUNNING ? now - j->running_ms : 0,
        j->w->render_avg_ms[j->chain[j->chain_idx]]);
    char progress[JOB_NUM_LEN], eta[JOB_NUM_LEN], at[JOB_NUM_LEN];
    char hist[RL_JOBVIEW_ENTRY_MAX];
    int np = snprintf(progress, sizeof progress, "%d", p.progress);
    int ne = snprintf(eta, sizeof eta, "%ld", p.eta_s);
    int nt = snprintf(at, sizeof at, "%lld", (long long)now);
    if (np <= 0 || np >= JOB_NUM_LEN || ne <= 0 || ne >= JOB_NUM_LEN ||
        nt <= 0 || nt >= JOB_NUM_LEN)
        return; /* JOB_NUM_LEN holds any; the next poll writes them */
    bool changed = strcmp(p.phase, j->phase) != 0;
    const char *kv[] = {"phase", p.phase, "progress",     progress,
                        "eta_s", eta,     "last_poll_at", at};
    job_update(
        j, changed ? s_entry(hist, p.phase, "provider progress", false) : NULL,
        kv, 8);
    s_set_phase(j, p.phase);
    j->progress = p.progress;
}

static void
s_on_result(const rl_http_resp_t *resp, void *arg)
{
    job_t *j = arg;
    j->req = NULL;
    if (j->state == JOB_POLLING && !s_not_sent(j, resp)) {
        adapter_result_t *r = job_result(j);
        job_step_in_t in;
        job_step_t st;
        memset(r, 0, sizeof *r);
        s_adapter(j)->parse_result(resp, r);
        s_facts(j, &in);
        job_step_poll(&in, r, true, &st);
        s_act(j, &st);
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
    if (job_past_deadline(j) || !s_may_poll(j))
        return;
    const adapter_result_t *last = job_result(j);
    /* The id a FETCH names (adapter_result_id checked it, in a buffer
     * of this size), or the job's task. */
    const char *ref = last->fetch_ref[0] ? last->fetch_ref : j->task_id;
    s_adapter_job(j, &aj);
    if (a->build_result == NULL || a->parse_result == NULL ||
        a->build_result(job_provider(j), &aj, ref, rl_clock_wall_ms() / 1000,
                        &req) != 0) {
        adapter_request_release(&req);
        s_failover(j, "cannot build the result request");
        return;
    }
    j->w->stats.polls++;
    if (s_send(j, &req, job_provider(j)->poll_timeout_ms, s_on_result) != 0) {
        adapter_result_t *r = job_result(j);
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT, "network",
                             "cannot start the result request");
        s_trouble(j);
    }
}

static void
s_on_poll(const rl_http_resp_t *resp, void *arg)
{
    job_t *j = arg;
    j->req = NULL;
    if (j->state == JOB_POLLING && !s_not_sent(j, resp)) {
        adapter_result_t *r = &j->w->scratch;
        job_step_in_t in;
        job_step_t st;
        memset(r, 0, sizeof *r);
        s_adapter(j)->parse_poll(resp, r);
        s_facts(j, &in);
        job_step_poll(&in, r, false, &st);
        if (st.action == JOB_STEP_POLL) {
            j->transient = st.transient;
            job_result_forget(j);
            s_progress(j, r);
            s_schedule_poll(j, st.delay_ms);
        } else {
            job_result_keep(j, r);
            s_act(j, &st);
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
    job_enter(j, JOB_POLLING);
    if (s_adapter(j)->build_poll(job_provider(j), &aj, j->task_id,
                                 rl_clock_wall_ms() / 1000, &req) != 0) {
        adapter_request_release(&req);
        s_failover(j, "cannot build the poll request");
        return;
    }
    j->w->stats.polls++;
    if (s_send(j, &req, job_provider(j)->poll_timeout_ms, s_on_poll) != 0) {
        adapter_result_t *r = job_result(j);
        adapter_result_error(r, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT, "network",
                             "cannot start the poll request");
        s_trouble(j);
    }
}

void
job_run_start(job_t *j)
{
    assert(j->state == JOB_CLAIMING);
    if (j->task_id[0] != '\0') {
        /* Taken over from a worker that died after submitting: resume
         * polling the same upstream task instead of rendering twice. */
        rl_log_info("job %s: resuming upstream task %s", j->id, j->task_id);
        j->submitted_ms = rl_clock_wall_ms(); /* its queue budget anew */
        const char *kv[] = {"resumed_at", "1"};
        char hist[RL_JOBVIEW_ENTRY_MAX];
        job_update(
            j,
            s_entry(hist, NULL, "resumed polling after worker recovery", false),
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

/* Asks the provider to cancel the job's task (when its API can), without
 * waiting for the answer. */
static void
s_cancel_upstream(job_t *j)
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
                        req.body_len, job_provider(j)->poll_timeout_ms,
                        JOB_CANCEL_RESPONSE, s_on_cancelled, NULL);
    adapter_request_release(&req);
}
