/*
 * test_worker_job_step - a job's next step, row by row of job_step.h's
 * tables: a submit's answer (accepted, content refused, failover, no
 * provider left), a poll's (progress, queue timeout, fetch, completion
 * and a refused output URL, failures mid-render), a result fetch's, poll
 * trouble (back-off and its cap, Retry-After, failover after too many),
 * the failure's code and message, the breaker's view of a submit, the
 * next affordable model, the credits billed, and phase, progress and
 * ETA.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "job_step.h"

#define S_INTERVAL 1000

/* A job on provider "sim" with a model to fail over to (index 1). */
static job_step_in_t
s_in(void)
{
    job_step_in_t in = {
        .provider = "sim",
        .base_url = "https://api.sim.example",
        .poll_interval_ms = S_INTERVAL,
        .max_queue_ms = 0,
        .transient = 0,
        .next_model = 1,
        .queued_ms = 0,
    };
    return in;
}

static adapter_result_t
s_result(adapter_state_t state, adapter_error_t error, const char *code,
         const char *message)
{
    adapter_result_t r;
    memset(&r, 0, sizeof r);
    r.state = state;
    r.error = error;
    r.progress = -1;
    adapter_copy(r.code, sizeof r.code, code);
    adapter_copy(r.message, sizeof r.message, message);
    return r;
}

static void
test_submit(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r = s_result(ADAPTER_QUEUED, ADAPTER_ERR_NONE, "", "");
    job_step_t st;

    (void)state;
    adapter_copy(r.task_id, sizeof r.task_id, "t-1");
    job_step_submit(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_ACCEPTED);
    assert_int_equal(st.delay_ms, S_INTERVAL);
    assert_true(job_step_healthy(&r));

    /* QUEUED without a task id: not accepted, but the provider is up */
    r.task_id[0] = '\0';
    job_step_submit(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_true(job_step_healthy(&r));

    /* a policy refusal ends the job: never retried elsewhere */
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_CONTENT_REJECTED, "blocked",
                 "prompt refused");
    job_step_submit(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.code, "content_rejected");
    assert_string_equal(st.message,
                        "prompt refused (provider sim, code blocked)");
    assert_true(job_step_healthy(&r));

    /* a rate limit: fail over, and the breaker counts it */
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED, "429",
                 "rate limited (HTTP 429)");
    job_step_submit(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_int_equal(st.next, 1);
    assert_string_equal(st.why,
                        "rate_limited at submit: rate limited (HTTP 429)");
    assert_false(job_step_healthy(&r));

    /* a permanent refusal is this job's, not the provider's fault */
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_PERMANENT, "http_error",
                 "HTTP 400");
    assert_true(job_step_healthy(&r));
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_CAPACITY, "full", "queue full");
    assert_false(job_step_healthy(&r));

    /* nothing left to go to: failed, refunded by job_finish.lua */
    in.next_model = -1;
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT, "http_error",
                 "HTTP 503");
    job_step_submit(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.code, "transient");
    assert_string_equal(st.message,
                        "no provider left: transient at submit: HTTP 503 "
                        "(provider sim, code http_error)");
}

static void
test_poll_progress(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r = s_result(ADAPTER_RUNNING, ADAPTER_ERR_NONE, "", "");
    job_step_t st;

    (void)state;
    in.transient = 3;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
    assert_int_equal(st.delay_ms, S_INTERVAL);
    assert_int_equal(st.transient, 0); /* a good answer clears the count */
    r.state = ADAPTER_QUEUED;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
    r.state = ADAPTER_FETCH;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FETCH);
}

static void
test_poll_queue_timeout(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r = s_result(ADAPTER_QUEUED, ADAPTER_ERR_NONE, "", "");
    job_step_t st;

    (void)state;
    in.max_queue_ms = 30000;
    in.queued_ms = 30000; /* not past it yet */
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
    in.queued_ms = 45500;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_int_equal(st.next, 1);
    assert_string_equal(st.why, "capacity: still queued at sim 45 s after "
                                "submit (max_queue_ms 30000)");
    /* the answer the job keeps says so */
    assert_int_equal(r.error, ADAPTER_ERR_CAPACITY);
    assert_string_equal(r.code, "queue_timeout");
    /* without a backup, waiting on beats failing */
    r = s_result(ADAPTER_QUEUED, ADAPTER_ERR_NONE, "", "");
    in.next_model = -1;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
    /* a task not submitted here (-1) or no budget (0): no timeout */
    in.next_model = 1;
    in.queued_ms = -1;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
    in.queued_ms = 99999;
    in.max_queue_ms = 0;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
    /* RUNNING is never a queue timeout */
    in.max_queue_ms = 1;
    r.state = ADAPTER_RUNNING;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_POLL);
}

static void
test_poll_terminal(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r;
    job_step_t st;

    (void)state;
    r = s_result(ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE, "", "");
    adapter_copy(r.output_url, sizeof r.output_url,
                 "https://cdn.sim.example/v.mp4");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_COMPLETE);
    /* a relative output URL is made absolute under base_url */
    adapter_copy(r.output_url, sizeof r.output_url, "/v1/videos/x/content");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_COMPLETE);
    assert_string_equal(r.output_url,
                        "https://api.sim.example/v1/videos/x/content");
    /* a refused one is a PERMANENT poll failure: failover */
    adapter_copy(r.output_url, sizeof r.output_url, "file:///etc/passwd");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_int_equal(r.state, ADAPTER_ERROR);
    assert_int_equal(r.error, ADAPTER_ERR_PERMANENT);
    assert_string_equal(r.code, "bad_output_url");
    assert_string_equal(r.output_url, "");
    /* a relative one too long under base_url */
    r = s_result(ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE, "", "");
    memset(r.output_url, 'a', ADAPTER_OUTPUT_URL_MAX);
    r.output_url[0] = '/';
    r.output_url[ADAPTER_OUTPUT_URL_MAX] = '\0';
    in.next_model = -1;
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.code, "permanent");
    assert_string_equal(st.message,
                        "no provider left: output URL refused: too long "
                        "(provider sim, code bad_output_url)");

    /* capacity or a retryable failure mid-render: another provider */
    in.next_model = 2;
    r = s_result(ADAPTER_FAILED, ADAPTER_ERR_CAPACITY, "busy", "no GPUs");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_int_equal(st.next, 2);
    assert_string_equal(st.why, "capacity mid-render: no GPUs");
    r = s_result(ADAPTER_FAILED, ADAPTER_ERR_TRANSIENT, "", "try again");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    /* any other failure is the job's: it fails */
    r = s_result(ADAPTER_FAILED, ADAPTER_ERR_PERMANENT, "permanent",
                 "bad input");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.code, "permanent");
    assert_string_equal(st.message, "bad input"); /* the code is the class */
    r = s_result(ADAPTER_FAILED, ADAPTER_ERR_NONE, "", "it broke");
    job_step_poll(&in, &r, false, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.code, "failed");
}

static void
test_fetch(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r = s_result(ADAPTER_FETCH, ADAPTER_ERR_NONE, "", "");
    job_step_t st;

    (void)state;
    /* a result still pending is trouble, never another fetch */
    job_step_poll(&in, &r, true, &st);
    assert_int_equal(st.action, JOB_STEP_BACKOFF);
    assert_int_equal(st.transient, 1);
    assert_string_equal(r.code, "malformed");
    /* so is a task the result fetch calls running */
    r = s_result(ADAPTER_RUNNING, ADAPTER_ERR_NONE, "", "");
    job_step_poll(&in, &r, true, &st);
    assert_int_equal(st.action, JOB_STEP_BACKOFF);
    /* and no queue timeout applies to it */
    in.max_queue_ms = 1;
    in.queued_ms = 99999;
    r = s_result(ADAPTER_QUEUED, ADAPTER_ERR_NONE, "", "");
    job_step_poll(&in, &r, true, &st);
    assert_int_equal(st.action, JOB_STEP_BACKOFF);
    r = s_result(ADAPTER_SUCCEEDED, ADAPTER_ERR_NONE, "", "");
    adapter_copy(r.output_url, sizeof r.output_url,
                 "https://cdn.sim.example/v.mp4");
    job_step_poll(&in, &r, true, &st);
    assert_int_equal(st.action, JOB_STEP_COMPLETE);
}

static void
test_trouble(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r = s_result(ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                  "http_error", "HTTP 502");
    job_step_t st;
    /* 1, 2, 4 intervals, then capped at JOB_BACKOFF_CAP intervals */
    static const long backoff[] = {2000, 4000, 4000, 4000, 4000};

    (void)state;
    for (int i = 0; i < JOB_MAX_TRANSIENT; i++) {
        in.transient = i;
        job_step_trouble(&in, &r, &st);
        assert_int_equal(st.action, JOB_STEP_BACKOFF);
        assert_int_equal(st.transient, i + 1);
        assert_int_equal(st.delay_ms, backoff[i]);
    }
    in.transient = JOB_MAX_TRANSIENT;
    job_step_trouble(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_string_equal(st.why, "6 consecutive transient poll failures "
                                "(last: HTTP 502)");
    /* Retry-After stretches the wait, up to the cap */
    in.transient = 0;
    r.retry_after_ms = 3000;
    job_step_trouble(&in, &r, &st);
    assert_int_equal(st.delay_ms, 3000);
    r.retry_after_ms = 60000;
    job_step_trouble(&in, &r, &st);
    assert_int_equal(st.delay_ms, S_INTERVAL * JOB_BACKOFF_CAP);
    r.retry_after_ms = 500; /* never shortens it */
    job_step_trouble(&in, &r, &st);
    assert_int_equal(st.delay_ms, 2000);
    /* permanent: fail over at once, the count untouched */
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_PERMANENT, "bad_task_id",
                 "task refused");
    in.transient = 2;
    job_step_trouble(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_string_equal(st.why, "task refused");
    assert_int_equal(st.transient, 2);
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_CONTENT_REJECTED, "", "nsfw");
    job_step_trouble(&in, &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.message, "nsfw");
}

static void
test_failover_and_fail(void **state)
{
    job_step_in_t in = s_in();
    adapter_result_t r = s_result(ADAPTER_QUEUED, ADAPTER_ERR_NONE, "", "");
    char long_why[2 * ADAPTER_MSG_MAX];
    job_step_t st;

    (void)state;
    job_step_failover(&in, "cannot build the poll request", &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAILOVER);
    assert_int_equal(st.next, 1);
    assert_string_equal(st.why, "cannot build the poll request");
    in.next_model = -1;
    job_step_failover(&in, "cannot build the poll request", &r, &st);
    assert_int_equal(st.action, JOB_STEP_FAIL);
    assert_string_equal(st.code, "failed");
    assert_string_equal(st.message,
                        "no provider left: cannot build the poll request");
    /* bounded, cut before a character the end would split */
    memset(long_why, 'x', sizeof long_why - 3);
    memcpy(long_why + ADAPTER_MSG_MAX - 20, "\xc3\xa9", 2);
    long_why[sizeof long_why - 3] = '\0';
    job_step_fail(&in, long_why, &r, &st);
    assert_int_equal(strlen(st.message), ADAPTER_MSG_MAX - 1);
    r = s_result(ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED, "rate_limited",
                 "slow down");
    job_step_fail(&in, "slow down", &r, &st);
    assert_string_equal(st.code, "rate_limited");
    assert_string_equal(st.message, "slow down");
}

static void
test_models_and_billing(void **state)
{
    static rl_config_t cfg; /* large: not on the stack */
    /* model 0 costs 10, 1 costs 12, 2 has no 5 s price, 3 costs 8 */
    static const long price[] = {10, 12, -1, 8};
    int chain[] = {0, 1, 2, 3};

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        cfg.models[i].prices[0].seconds = price[i] < 0 ? 10 : 5;
        cfg.models[i].prices[0].credits = price[i] < 0 ? 3 : price[i];
        cfg.models[i].nprices = 1;
    }
    cfg.nmodels = 4;
    /* the next one no dearer than was charged, skipping unpriced ones */
    assert_int_equal(job_step_next_model(&cfg, chain, 4, 0, 5, 10), 3);
    assert_int_equal(job_step_next_model(&cfg, chain, 4, 0, 5, 12), 1);
    assert_int_equal(job_step_next_model(&cfg, chain, 4, 3, 5, 12), -1);
    assert_int_equal(job_step_next_model(&cfg, chain, 4, 0, 5, 7), -1);
    assert_int_equal(job_step_next_model(&cfg, chain, 1, 0, 5, 99), -1);
    /* billed: the model that rendered it; unpriced: what was charged */
    assert_int_equal(job_step_billed(8, 10), 8);
    assert_int_equal(job_step_billed(-1, 10), 10);
}

static void
test_progress(void **state)
{
    adapter_result_t r = s_result(ADAPTER_QUEUED, ADAPTER_ERR_NONE, "", "");
    job_step_progress_t p;

    (void)state;
    p = job_step_progress(&r, 0, 0);
    assert_string_equal(p.phase, "Queued");
    assert_int_equal(p.progress, 0);
    assert_int_equal(p.eta_s, JOB_DEFAULT_RENDER_MS / 1000);
    p = job_step_progress(&r, 0, 90000);
    assert_int_equal(p.eta_s, 90);
    /* the provider's progress, and the ETA from the pace so far */
    r.state = ADAPTER_RUNNING;
    r.progress = 50;
    p = job_step_progress(&r, 20000, 60000);
    assert_string_equal(p.phase, "Rendering");
    assert_int_equal(p.progress, 50);
    assert_int_equal(p.eta_s, 20);
    r.progress = 10;
    assert_string_equal(job_step_progress(&r, 1000, 0).phase, "Preparing");
    r.progress = 90;
    assert_string_equal(job_step_progress(&r, 1000, 0).phase, "Encoding");
    r.progress = 100; /* never 100 before it is done */
    p = job_step_progress(&r, 1000, 0);
    assert_string_equal(p.phase, "Finishing");
    assert_int_equal(p.progress, 99);
    /* none given: the share of the expected time run */
    r.progress = -1;
    p = job_step_progress(&r, 30000, 60000);
    assert_int_equal(p.progress, 50);
    assert_int_equal(p.eta_s, 30);
    p = job_step_progress(&r, 0, 60000);
    assert_int_equal(p.progress, 0);
    assert_int_equal(p.eta_s, 60);
    p = job_step_progress(&r, 600000, 60000); /* way over: 99 %, ETA 0+ */
    assert_int_equal(p.progress, 99);
    assert_true(p.eta_s >= 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_poll_progress),
        cmocka_unit_test(test_poll_queue_timeout),
        cmocka_unit_test(test_poll_terminal),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_trouble),
        cmocka_unit_test(test_failover_and_fail),
        cmocka_unit_test(test_models_and_billing),
        cmocka_unit_test(test_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
