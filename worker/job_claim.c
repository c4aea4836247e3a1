/*
 * job_claim - a DISPATCH taken: claim.lua under a fresh fencing token,
 * the job loaded from its reply and handed to job_run_start (the top of
 * the job stack, worker.h). A claim whose outcome is unknown is asked
 * again (claim.lua is idempotent for its owner); one refused, or a
 * record that is not one of ours, ends the job here.
 * SPDX-License-Identifier: MIT
 */
#include "job_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job_run.h"
#include "lease.h"
#include "rl_alloc.h"
#include "rl_crash.h"
#include "rl_jobview.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_job.h"

/* Chain "kling-v3,seedance" -> model indexes. Unknown names are skipped
 * (the catalog changed since the job was accepted), and so is a stored
 * chain longer than any the broker writes (not one of ours). */
static void
s_parse_chain(job_t *j, const char *chain)
{
    char buf[RL_CONFIG_CHAIN_TEXT];
    int n = snprintf(buf, sizeof buf, "%s", chain ? chain : "");
    if (n < 0 || (size_t)n >= sizeof buf)
        buf[0] = '\0';
    char *save = NULL;
    for (char *name = strtok_r(buf, ",", &save);
         name != NULL && j->nchain < RL_CONFIG_MAX_CHAIN + 1;
         name = strtok_r(NULL, ",", &save)) {
        const rl_model_conf_t *m = rl_config_model(j->w->cfg, name);
        if (m != NULL)
            j->chain[j->nchain++] = (int)(m - j->w->cfg->models);
    }
}

static long long
s_num(const rl_state_fields_t *f, const char *field)
{
    return rl_jobview_num(rl_state_field(f, field));
}

static char *
s_dup(const rl_state_fields_t *f, const char *field)
{
    const char *v = rl_state_field(f, field);
    return (v && *v) ? rl_strdup(v) : NULL;
}

/* Copies text into a field of len bytes. Returns 0, or -1 when it does
 * not fit: a value longer than any we write is not one of our records. */
static int
s_set(char *dst, size_t len, const char *text)
{
    int n = snprintf(dst, len, "%s", text);
    return n >= 0 && (size_t)n < len ? 0 : -1;
}

/* Loads the job from claim.lua's reply. Returns 0, or -1 when malformed. */
static int
s_load(job_t *j, const rl_state_claim_reply_t *rep)
{
    const rl_state_fields_t *r = &rep->fields;
    int fit = 0;
    fit |= s_set(j->fence, sizeof j->fence, rep->fence);
    j->key_hash = s_dup(r, "key_hash");
    j->prompt = s_dup(r, "prompt");
    j->negative_prompt = s_dup(r, "negative_prompt");
    j->image_url = s_dup(r, "image_url");
    const char *aspect = rl_state_field(r, "aspect_ratio");
    fit |= s_set(j->aspect, sizeof j->aspect, aspect ? aspect : "16:9");
    long long duration = s_num(r, "duration"), attempts = s_num(r, "attempts");
    /* Out of range is malformed: the attempt counter is incremented, the
     * times are subtracted from now (overflow is undefined). */
    j->duration_s = duration > 0 && duration <= INT_MAX ? (int)duration : 0;
    j->charged = (long)s_num(r, "credits");
    j->created_ms = s_num(r, "created_at");
    j->deadline_ms = s_num(r, "deadline_at");
    j->attempt = attempts >= 0 && attempts < INT_MAX ? (int)attempts : -1;
    j->claim_intent = s_num(r, "claim_intent") == 1;
    j->failover_used = s_num(r, "failover_used") != 0;
    s_parse_chain(j, rl_state_field(r, "chain"));
    j->chain_idx = (size_t)s_num(r, "chain_idx");
    job_set_task(j, rl_state_field(r, "task_id"));
    const char *phase = rl_state_field(r, "phase");
    fit |= s_set(j->phase, sizeof j->phase, phase ? phase : "Queued");
    if (fit != 0 || j->prompt == NULL || j->fence[0] == '\0' ||
        j->nchain == 0 || j->chain_idx >= j->nchain || j->duration_s <= 0 ||
        j->attempt < 0 || j->created_ms < 0 || j->deadline_ms < 0)
        return -1;
    return 0;
}

static void s_claim_send(job_t *j);

static void
s_on_retry_claim(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_claim_send(arg);
}

static void
s_on_claim(const rl_state_claim_reply_t *rep, void *arg)
{
    job_t *j = arg;
    /* fault tests: the claim ran, its reply is lost */
    rl_state_tag_t tag =
        rl_fault_drop("claim_reply") ? RL_STATE_UNKNOWN : rep->tag;
    if (j->state != JOB_DEAD) {
        if (tag == RL_STATE_UNKNOWN && ++j->retries <= JOB_MAX_WRITE_RETRIES) {
            /* claim.lua is idempotent for its owner: ask again. */
            job_set_timer(j, JOB_RETRY_MS, s_on_retry_claim);
        } else {
            job_claim_over(j);
            if (tag == RL_STATE_UNKNOWN) {
                /* It may have landed: leased to us, acted on by nobody. */
                job_drop(j, "claim outcome unknown");
            } else if (tag != RL_STATE_OK) {
                j->w->stats.claim_refused++;
                rl_log_debug("job %s: claim refused (%s)", j->id,
                             rep->why != NULL ? rep->why : "unknown");
                job_kill(j);
            } else if (s_load(j, rep) != 0) {
                job_drop(j, "malformed job record");
            } else {
                j->w->stats.claimed++;
                j->retries = 0;
                job_run_start(j);
            }
        }
    }
    job_unref(j);
}

static void
s_claim_send(job_t *j)
{
    /* Not handed back any more: a renewal sent from now on runs after
     * this claim (lease.h). */
    lease_unrelease(j->w->lease, j->ref);
    /* A retry tells claim.lua that a claim of ours may have run. */
    rl_state_claim_args_t a = {.acct = j->acct,
                               .job = j->id,
                               .worker = j->w->id,
                               .retry = j->retries > 0};
    if (rl_state_job_claim(j->w->redis, &a, s_on_claim, j) == 0)
        job_ref(j);
    else
        job_kill(j); /* never claimed: the reaper puts it back */
}

void
job_claim(worker_t *w, const char *acct, const char *job_id)
{
    char ref[RL_KEY_MAX];
    if (rl_keys_ref(ref, sizeof ref, acct, job_id) != 0)
        return; /* longer than any key: never accepted */
    if (job_held(w, ref)) {
        /* Dispatched again (the reaper requeued a dispatch whose claim
         * was late) to the worker that holds it: claim.lua would answer
         * ok with the same token, and two copies would render it. The
         * reaper clears the dispatch entry; the broker's credit comes
         * back. */
        rl_log_debug("job %s: dispatched again, held here; ignored", job_id);
        w->stats.claim_refused++;
        if (w->on.capacity != NULL)
            w->on.capacity(w);
        return;
    }
    s_claim_send(job_new(w, acct, job_id, ref));
}
