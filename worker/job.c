/*
 * job - a job in a worker's memory and its Redis record: references,
 * state, the one timer and the maximum wait, fenced writes, the submit
 * intent, the terminal write and its completion push, drop. The bottom
 * of the job stack: provider calls are in job_run.c, the claim in
 * job_claim.c, and it calls neither (worker.h).
 * SPDX-License-Identifier: MIT
 */
#include "job_internal.h"

#include <assert.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "completion.h"
#include "job_step.h"
#include "lease.h"
#include "rl_crash.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_job.h"
#include "rl_text.h"

#define JOB_MAX_FIELDS 16 /* field/value entries a caller adds */
#define JOB_RESTATED 8    /* entries s_restate() adds */

adapter_result_t *
job_result(job_t *j)
{
    if (j->last == NULL)
        j->last = rl_calloc(1, sizeof *j->last);
    return j->last;
}

void
job_result_keep(job_t *j, const adapter_result_t *r)
{
    if (r != j->last)
        memcpy(job_result(j), r, sizeof *r);
}

void
job_result_forget(job_t *j)
{
    free(j->last);
    j->last = NULL;
}

/* The attempt, the upstream task or the chain index changed: writes
 * restate them until one that carried the new values is confirmed. */
void
job_changed(job_t *j)
{
    j->restate = true;
    j->restate_changed = true;
}

void
job_set_task(job_t *j, const char *task_id)
{
    free(j->task_id);
    j->task_id = rl_strdup(task_id != NULL ? task_id : "");
    job_changed(j);
}

void
job_ref(job_t *j)
{
    j->refs++;
}

/* Orders w->held by ref. */
static int
s_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const job_t *)a)->ref, ((const job_t *)b)->ref);
}

/* Slots freed or a claim answered: more credit may be granted. */
static void
s_capacity(worker_t *w)
{
    if (w->on.capacity != NULL)
        w->on.capacity(w);
}

#ifndef NDEBUG
/* Bit `to` of s_may_enter[from]: job_internal.h's table (asserted). */
#define S_TO(state) (1u << (state))
static const unsigned s_may_enter[] = {
    [JOB_CLAIMING] = S_TO(JOB_RECORDING) | S_TO(JOB_SUBMITTING) |
                     S_TO(JOB_WAITING) | S_TO(JOB_FINISHING) | S_TO(JOB_DEAD),
    [JOB_RECORDING] =
        S_TO(JOB_SUBMITTING) | S_TO(JOB_FINISHING) | S_TO(JOB_DEAD),
    [JOB_SUBMITTING] = S_TO(JOB_WAITING) | S_TO(JOB_RECORDING) |
                       S_TO(JOB_FINISHING) | S_TO(JOB_DEAD),
    [JOB_WAITING] = S_TO(JOB_POLLING) | S_TO(JOB_SUBMITTING) |
                    S_TO(JOB_FINISHING) | S_TO(JOB_DEAD),
    [JOB_POLLING] = S_TO(JOB_WAITING) | S_TO(JOB_RECORDING) |
                    S_TO(JOB_FINISHING) | S_TO(JOB_DEAD),
    [JOB_FINISHING] = S_TO(JOB_DEAD),
    [JOB_DEAD] = 0,
};
#endif

void
job_enter(job_t *j, job_state_t to)
{
    assert(j->state <= JOB_DEAD && to <= JOB_DEAD);
    assert(s_may_enter[j->state] & S_TO(to));
    j->state = to;
}

void
job_claim_over(job_t *j)
{
    if (!j->claiming)
        return;
    j->claiming = false;
    j->w->claiming--;
    s_capacity(j->w);
}

static void
s_free(job_t *j)
{
    worker_t *w = j->w;
    job_claim_over(j);
    TAILQ_REMOVE(&w->jobs, j, link);
    w->inflight--;
    if (j->timer)
        event_free(j->timer);
    free(j->last);
    free(j->task_id);
    free(j->prompt);
    free(j->key_hash);
    free(j->negative_prompt);
    free(j->image_url);
    free(j);
    s_capacity(w);
}

void
job_unref(job_t *j)
{
    assert(j->refs > 0);
    if (--j->refs == 0)
        s_free(j);
}

/* Cancels the provider request in the air, if any. Its callback will
 * not run, so the reference the request held (job_run.c, s_send) is
 * released here; the caller still holds one. */
static void
s_cancel_req(job_t *j)
{
    if (j->req == NULL)
        return;
    rl_http_cancel(j->w->http, j->req);
    j->req = NULL;
    job_unref(j);
}

void
job_kill(job_t *j)
{
    if (j->state == JOB_DEAD)
        return;
    job_enter(j, JOB_DEAD);
    tdelete(j, &j->w->held, s_ref_cmp);
    s_cancel_req(j);
    if (j->timer)
        evtimer_del(j->timer);
    job_unref(j); /* the "alive" reference */
}

void
job_drop(job_t *j, const char *why)
{
    rl_log_info("job %s: dropped: %s", j->id, why);
    j->w->stats.dropped++;
    /* It may still be leased to us in Redis: handed back, or it would
     * wait for this worker to die (lease.h). */
    lease_release(j->w->lease, j->ref);
    job_kill(j);
}

static void s_on_deadline(int fd, short what, void *arg);

/* The maximum wait shares the job's one timer: a wait that would end
 * after the deadline is cut short and ends in s_on_deadline instead. A
 * request in the air is bounded by its own timeout, and every step that
 * starts one looks at the deadline first (job_past_deadline). */
void
job_set_timer(job_t *j, long ms, void (*fn)(int, short, void *))
{
    const struct timeval *tv;
    struct timeval plain;
    if (j->state != JOB_FINISHING && j->deadline_ms > 0) {
        int64_t left = j->deadline_ms - rl_clock_wall_ms();
        if (left <= ms) {
            ms = left > 0 ? (long)left : 0;
            fn = s_on_deadline;
        }
    }
    if (j->timer == NULL)
        j->timer = evtimer_new(j->w->base, fn, j);
    else
        evtimer_assign(j->timer, j->w->base, fn, j);
    plain.tv_sec = ms / 1000;
    plain.tv_usec = (ms % 1000) * 1000;
    tv = &plain;
    for (size_t i = 0; i < j->w->ncommon; i++)
        if (j->w->common_ms[i] == ms)
            tv = j->w->common_tv[i];
    evtimer_add(j->timer, tv);
}

bool
job_past_deadline(job_t *j)
{
    if (j->deadline_ms <= 0 || rl_clock_wall_ms() < j->deadline_ms)
        return false;
    s_on_deadline(-1, 0, j);
    return true;
}

const rl_model_conf_t *
job_model(const job_t *j)
{
    return &j->w->cfg->models[j->chain[j->chain_idx]];
}

const rl_provider_conf_t *
job_provider(const job_t *j)
{
    return &j->w->cfg->providers[job_model(j)->provider];
}

static void
s_on_update(const rl_state_update_reply_t *rep, void *arg)
{
    job_t *j = arg;
    if (rep->tag == RL_STATE_STALE && j->state != JOB_DEAD) {
        j->w->stats.stale_writes++;
        job_drop(j, "fencing token is stale: another worker owns it");
    }
    job_unref(j);
}

/* A write that restated the fields came back. Replies come in order, so
 * when the last such write in the air landed and nothing changed since
 * it was sent, Redis holds the fields and writes stop restating them; an
 * unknown outcome (or a refusal) leaves them to the next write. */
static void
s_restated(job_t *j, rl_state_tag_t answer)
{
    assert(j->restating > 0);
    if (--j->restating == 0 && !j->restate_changed && answer == RL_STATE_OK)
        j->restate = false;
}

static void
s_on_update_restated(const rl_state_update_reply_t *rep, void *arg)
{
    s_restated(arg, rep->tag);
    s_on_update(rep, arg);
}

/* The fields a write restates from memory (the lease holder's state is
 * the truth): the attempt, the upstream task, the chain index and the
 * provider. Returns the number of argv entries written (8), or -1 should
 * a number not fit its buffer (JOB_NUM_LEN holds any). */
static int
s_restate(const job_t *j, char attempt[JOB_NUM_LEN], char idx[JOB_NUM_LEN],
          const char **argv)
{
    int na = snprintf(attempt, JOB_NUM_LEN, "%d", j->attempt);
    int ni = snprintf(idx, JOB_NUM_LEN, "%zu", j->chain_idx);
    if (na < 0 || na >= JOB_NUM_LEN || ni < 0 || ni >= JOB_NUM_LEN)
        return -1;
    argv[0] = "attempts";
    argv[1] = attempt;
    argv[2] = "task_id";
    argv[3] = j->task_id;
    argv[4] = "chain_idx";
    argv[5] = idx;
    argv[6] = "provider";
    argv[7] = job_provider(j)->name;
    return JOB_RESTATED;
}

/* Sends job_update.lua with kv, after the restated fields when
 * `restate` (cb then calls s_restated). */
static int
s_update_send(job_t *j, const char *history_json, const char **kv, int nkv,
              bool restate, rl_state_update_cb cb)
{
    char attempt[JOB_NUM_LEN], idx[JOB_NUM_LEN];
    const char *all[JOB_RESTATED + JOB_MAX_FIELDS];
    int argc = 0, n = 0;
    assert(nkv <= JOB_MAX_FIELDS);
    if (restate && (n = s_restate(j, attempt, idx, all)) < 0)
        return -1;
    argc += n;
    for (int i = 0; i < nkv; i++)
        all[argc++] = kv[i];
    rl_state_update_args_t a = {.acct = j->acct,
                                .job = j->id,
                                .fence = j->fence,
                                .history = history_json,
                                .kv = all,
                                .nkv = argc};
    if (rl_state_job_update(j->w->redis, &a, cb, j) != 0)
        return -1;
    job_ref(j);
    if (restate) {
        assert(j->restating < UINT16_MAX);
        j->restating++;
        j->restate_changed = false;
    }
    return 0;
}

void
job_update(job_t *j, const char *history_json, const char **kv, int nkv)
{
    /* A lost update is harmless: the fields that matter for a takeover
     * are restated until a write carrying them is confirmed, and the
     * terminal write is retried until its outcome is known. */
    (void)s_update_send(j, history_json, kv, nkv, j->restate,
                        j->restate ? s_on_update_restated : s_on_update);
}

static void s_record_send(job_t *j, const char *history_json);

static void
s_on_retry_record(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_record_send(arg, NULL);
}

/* Unknown outcome or Redis unreachable: the same write again shortly
 * (it is idempotent), until the lease runs out. */
static void
s_record_retry(job_t *j)
{
    if (++j->retries <= JOB_MAX_WRITE_RETRIES)
        job_set_timer(j, JOB_RETRY_MS, s_on_retry_record);
    else
        job_drop(j, "cannot record the submit intent");
}

static void
s_on_record(const rl_state_update_reply_t *rep, void *arg)
{
    job_t *j = arg;
    s_restated(j, rep->tag);
    if (j->state == JOB_RECORDING) {
        if (rep->tag == RL_STATE_OK) {
            void (*then)(job_t *) = j->recorded;
            j->recorded = NULL;
            j->retries = 0;
            then(j);
        } else if (rep->tag == RL_STATE_STALE) {
            j->w->stats.stale_writes++;
            job_drop(j, "fencing token is stale: another worker owns it");
        } else {
            s_record_retry(j);
        }
    }
    job_unref(j);
}

/* The intent write: the restated fields, and what a failover changed
 * (restated from memory, so a retry carries them too). */
static void
s_record_send(job_t *j, const char *history_json)
{
    const char *kv[] = {"failover_used", j->failover_used ? "1" : "0", "phase",
                        j->phase};
    if (j->state == JOB_RECORDING &&
        s_update_send(j, history_json, kv, 4, true, s_on_record) != 0)
        s_record_retry(j);
}

void
job_record(job_t *j, const char *history_json, void (*then)(job_t *))
{
    assert(j->req == NULL && then != NULL);
    job_enter(j, JOB_RECORDING);
    j->recorded = then;
    j->retries = 0;
    s_record_send(j, history_json);
}

static void s_finish_send(job_t *j);

static void
s_on_retry_finish(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_finish_send(arg);
}

/* Sends the COMPLETION fast path to a deliverer. */
static void
s_push(job_t *j, const rl_state_finish_reply_t *rep)
{
    const char *status = rl_state_field(&rep->fields, "status");
    if (status == NULL)
        return;
    rl_crash_point("worker_after_finish");
    if (completion_push(j->w, j->acct, j->id, status, rep->sealed,
                        &rep->fields) != 0)
        j->w->stats.push_dropped++;
}

static void
s_on_finish(const rl_state_finish_reply_t *rep, void *arg)
{
    job_t *j = arg;
    rl_state_tag_t tag = rep->tag;
    if (j->state != JOB_DEAD) {
        if (tag == RL_STATE_UNKNOWN && ++j->retries <= JOB_MAX_WRITE_RETRIES) {
            /* Outcome unknown: job_finish answers a retry whose first
             * run landed as it answered that one (same fence). */
            job_set_timer(j, JOB_RETRY_MS, s_on_retry_finish);
        } else if (tag == RL_STATE_OK) {
            s_push(j, rep);
            job_kill(j);
        } else {
            if (tag == RL_STATE_STALE)
                j->w->stats.stale_writes++;
            job_drop(j, tag == RL_STATE_STALE
                            ? "terminal write refused (stale token)"
                        : tag == RL_STATE_BAD
                            ? "terminal write refused (bad reply)"
                            : "terminal write outcome unknown");
        }
    }
    job_unref(j);
}

static void
s_finish_send(job_t *j)
{
    char attempt[JOB_NUM_LEN], idx[JOB_NUM_LEN], render_ms[JOB_NUM_LEN];
    int64_t now = rl_clock_wall_ms();
    long billed = job_step_billed(rl_config_price(job_model(j), j->duration_s),
                                  j->charged);
    int nr = snprintf(
        render_ms, sizeof render_ms, "%lld",
        (long long)(now - (j->running_ms ? j->running_ms : j->created_ms)));
    const adapter_result_t *r = job_result(j);
    const char *ok = (strcmp(j->outcome, "completed") == 0) ? "1" : "";
    const char *kv[] = {
        "output_url",
        ok[0] ? r->output_url : "",
        "error_code",
        ok[0] ? "" : r->code,
        "error_message",
        ok[0] ? "" : r->message,
        "failover_used",
        j->failover_used ? "1" : "0",
        "model_used",
        job_model(j)->name,
        "render_ms",
        render_ms,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL,
        NULL, /* s_restate */
    };
    int nkv = (int)(sizeof kv / sizeof kv[0]);
    rl_state_finish_args_t a = {
        .acct = j->acct,
        .job = j->id,
        .key_hash = j->key_hash != NULL ? j->key_hash : "",
        .worker = j->w->id,
        .fence = j->fence,
        .completed = ok[0] != '\0',
        .reason = r->message[0] ? r->message : (ok[0] ? "rendered" : "failed"),
        .billed = billed,
        .kv = kv,
        .nkv = nkv};
    /* Any of them not fitting (never: the buffers hold any number, ids
     * were checked on decode) is a write that cannot be sent; so is one
     * a fault test refuses. */
    if (!rl_fault_drop("finish_send") && nr > 0 &&
        (size_t)nr < sizeof render_ms &&
        s_restate(j, attempt, idx, kv + nkv - JOB_RESTATED) >= 0 &&
        rl_state_job_finish(j->w->redis, &a, s_on_finish, j) == 0)
        job_ref(j);
    else if (++j->retries <= JOB_MAX_WRITE_RETRIES)
        job_set_timer(j, JOB_RETRY_MS, s_on_retry_finish);
    else
        job_drop(j, "cannot write the terminal state");
}

/* Makes text (of a buffer of len bytes) valid UTF-8 in place: the
 * worker's messages quote provider text cut by %.Ns formats and full
 * buffers, and Redis keeps them for every view to render as JSON (Lua's
 * cjson writes invalid bytes into the history, which then no longer
 * parses). */
static void
s_safe(char *text, size_t len)
{
    char safe[ADAPTER_MSG_MAX];
    size_t n = strlen(text);

    if (rl_text_is_utf8(text, n))
        return;
    rl_text_safe(safe, sizeof safe < len ? sizeof safe : len, text, n, true,
                 NULL);
    memcpy(text, safe, strlen(safe) + 1);
}

void
job_finish(job_t *j, const char *status, const char *reason)
{
    if (j->state == JOB_DEAD || j->state == JOB_FINISHING)
        return;
    s_cancel_req(j);
    if (j->timer)
        evtimer_del(j->timer);
    job_enter(j, JOB_FINISHING);
    j->retries = 0;
    adapter_result_t *r = job_result(j);
    if (strcmp(status, "completed") == 0) {
        j->outcome = "completed";
        j->w->stats.completed++;
        r->message[0] = '\0';
    } else {
        j->outcome = "failed";
        j->w->stats.failed++;
        if (reason != NULL && reason != r->message)
            adapter_copy(r->message, sizeof r->message, reason);
        s_safe(r->message, sizeof r->message);
        s_safe(r->code, sizeof r->code);
    }
    s_finish_send(j);
}

static void
s_on_deadline(int fd, short what, void *arg)
{
    job_t *j = arg;
    (void)fd;
    (void)what;
    int64_t left = j->deadline_ms - rl_clock_wall_ms();
    if (left > 0) {
        /* libevent arms timers from its cached time, so one may fire a
         * little early: the deadline is the wall clock's. */
        job_set_timer(j, (long)left, s_on_deadline);
        return;
    }
    long waited = (long)((rl_clock_wall_ms() - j->created_ms) / 1000);
    adapter_result_t *r = job_result(j);
    /* Numbers and a phase of ours: it always fits (else it is cut). The
     * state and error class stay as they are. */
    adapter_result_error(r, r->state, r->error, "timeout",
                         "job exceeded the maximum wait of %ld s (waited "
                         "%ld s, last phase %s)",
                         j->w->cfg->max_wait_s, waited,
                         j->phase[0] ? j->phase : "Queued");
    job_finish(j, "failed", r->message);
}

job_t *
job_new(worker_t *w, const char *acct, const char *job_id, const char *ref)
{
    size_t na = strlen(acct), ni = strlen(job_id);
    job_t *j = rl_calloc(1, sizeof *j + 2 * (na + ni) + 4);
    char *p = j->names;

    assert(strlen(ref) == na + ni + 1 && !job_held(w, ref));
    j->w = w;
    j->refs = 1;
    j->state = JOB_CLAIMING;
    j->ref = memcpy(p, ref, na + ni + 2);
    p += na + ni + 2;
    j->acct = memcpy(p, acct, na + 1);
    j->id = memcpy(p + na + 1, job_id, ni + 1);
    if (tsearch(j, &w->held, s_ref_cmp) == NULL)
        abort(); /* tsearch's node allocation failed: out of memory */
    TAILQ_INSERT_TAIL(&w->jobs, j, link);
    w->inflight++;
    j->claiming = true;
    w->claiming++;
    return j;
}

bool
job_held(worker_t *w, const char *ref)
{
    job_t probe = {.ref = ref};
    return tfind(&probe, &w->held, s_ref_cmp) != NULL;
}

void
job_drop_all(worker_t *w, const char *why)
{
    job_t *j, *next;
    size_t n = 0;
    for (j = TAILQ_FIRST(&w->jobs); j != NULL; j = next) {
        /* job_kill may free j (and only j): take the next one first. */
        next = TAILQ_NEXT(j, link);
        if (j->state != JOB_DEAD) {
            n++;
            job_kill(j);
        }
    }
    if (n > 0)
        rl_log_warnx("dropped %zu jobs: %s", n, why);
    w->stats.dropped += n;
}
