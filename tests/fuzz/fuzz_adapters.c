/*
 * fuzz_adapters - a provider's answer as rl_http hands it to an adapter:
 * the submit, poll and result parsers of the ten adapters, and what the
 * worker does with their verdict: the next request it builds from the
 * task id (a poll, a cancel) or the fetch reference (a result fetch),
 * and the fields it stores and every job view renders (output_url,
 * error_code, error_message).
 *
 * Input: byte 0 the adapter (of the ten), byte 1 the parser (low two
 * bits: submit, poll, result) and how the answer came (bit 2: timed out,
 * no status; bit 3: body truncated), bytes 2-3 the HTTP status (mod 600),
 * then the Retry-After header value up to a newline ("" absent), then
 * the body.
 *
 * Properties: a verdict the worker can act on (a state and error class
 * that go together, a submit queued or refused, progress in -1..100, a
 * Retry-After hint in [0, 1 h)); every text it keeps is valid UTF-8, so
 * the views render it; a request built from a provider-given id stays
 * on the provider's origin (every provider id escaped in every path),
 * and a success always carries an output URL.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "fz.h"
#include "rl_http.h"
#include "rl_jobview.h"
#include "rl_ptype.h"

#define S_ORIGIN_MAX 300

static rl_config_t *s_cfg;

static const rl_provider_conf_t *
s_provider(const char *type)
{
    for (size_t i = 0; i < s_cfg->nproviders; i++)
        if (strcmp(s_cfg->providers[i].type, type) == 0)
            return &s_cfg->providers[i];
    FZ_CHECK(false, "no provider of type %s", type);
}

/* A request built from a provider-given id goes where the provider is
 * (and, strict, is a URL curl parses). */
static void
s_check_request(const rl_provider_conf_t *p, const adapter_request_t *req,
                const char *what, const char *id)
{
    char want[S_ORIGIN_MAX], got[S_ORIGIN_MAX];
    bool https = false;

    FZ_CHECK(rl_http_origin(p->base_url, want, sizeof want, &https) == 0,
             "base_url %s", p->base_url);
    FZ_CHECK(rl_http_origin(req->url, got, sizeof got, &https) == 0 &&
                 strcmp(want, got) == 0,
             "the %s of id '%s' goes to %s, not %s", what, id, req->url, want);
    for (size_t i = 0; i < req->nheaders; i++)
        FZ_CHECK(strpbrk(req->headers[i], "\r\n") == NULL,
                 "a %s header splits: %s", what, req->headers[i]);
}

/* What the worker builds next from an id of this answer. */
static void
s_next_requests(const adapter_t *a, const adapter_result_t *out)
{
    const rl_provider_conf_t *p = s_provider(a->type);
    adapter_job_t job = {"vgen_fuzz", 1, "model", "a cat", NULL,
                         NULL,        5, "16:9",  NULL};
    adapter_request_t req;

    if (out->task_id[0] != '\0') {
        memset(&req, 0, sizeof req);
        if (a->build_poll(p, &job, out->task_id, 0, &req) == 0)
            s_check_request(p, &req, "poll", out->task_id);
        adapter_request_release(&req);
        if (a->build_cancel != NULL &&
            a->build_cancel(p, &job, out->task_id, 0, &req) == 0)
            s_check_request(p, &req, "cancel", out->task_id);
        adapter_request_release(&req);
    }
    if (out->fetch_ref[0] != '\0' && a->build_result != NULL) {
        memset(&req, 0, sizeof req);
        if (a->build_result(p, &job, out->fetch_ref, 0, &req) == 0)
            s_check_request(p, &req, "result fetch", out->fetch_ref);
        adapter_request_release(&req);
    }
}

/* The fields the worker stores (job.c s_finish_send) render in the job
 * object and the webhook as they were kept. */
static void
s_check_views(const adapter_result_t *out)
{
    bool ok = out->state == ADAPTER_SUCCEEDED;
    const char *kv[] = {
        "id",
        "vgen_fuzz",
        "status",
        ok ? "completed" : "failed",
        "output_url",
        ok ? out->output_url : "",
        "error_code",
        ok ? "" : (out->code[0] ? out->code : "failed"),
        "error_message",
        ok ? "" : out->message,
    };
    rl_jobview_src_t src = {kv, sizeof kv / sizeof kv[0] / 2};
    json_t *api = rl_jobview_api(&src, 0);
    json_t *hook = rl_jobview_webhook(&src);
    const char *want = ok ? out->output_url : out->message;
    const json_t *got =
        ok ? json_object_get(api, "output_url")
           : json_object_get(json_object_get(api, "error"), "message");

    FZ_CHECK(json_is_string(got) && strcmp(json_string_value(got), want) == 0,
             "the job object lost %s '%s'", ok ? "output_url" : "the message",
             want);
    fz_check_dumps(api, "the job object");
    fz_check_dumps(hook, "the webhook body");
    json_decref(hook);
    json_decref(api);
}

static void
s_check_texts(const adapter_result_t *out)
{
    const char *const texts[] = {out->task_id, out->output_url, out->code,
                                 out->message, out->fetch_ref};

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        FZ_CHECK(fz_utf8(texts[i]), "kept text %zu is not UTF-8: %s", i,
                 texts[i]);
}

static void
s_check(const adapter_t *a, int which, const adapter_result_t *out)
{
    FZ_CHECK(out->state >= ADAPTER_QUEUED && out->state <= ADAPTER_FETCH,
             "state %d", (int)out->state);
    FZ_CHECK(out->error >= ADAPTER_ERR_NONE &&
                 out->error <= ADAPTER_ERR_CONTENT_REJECTED,
             "error class %d", (int)out->error);
    if (out->state == ADAPTER_FAILED || out->state == ADAPTER_ERROR)
        FZ_CHECK(out->error != ADAPTER_ERR_NONE, "a failure without class");
    if (out->state == ADAPTER_SUCCEEDED)
        FZ_CHECK(out->output_url[0] != '\0', "a success without output");
    /* (A queued submit without a task id fails over: job_run.c.) */
    if (which == 0)
        FZ_CHECK(out->state == ADAPTER_ERROR || out->state == ADAPTER_QUEUED,
                 "%s submit: state %d", a->type, (int)out->state);
    if (which == 2)
        FZ_CHECK(out->state == ADAPTER_SUCCEEDED ||
                     out->state == ADAPTER_FAILED ||
                     out->state == ADAPTER_ERROR,
                 "%s result: state %d", a->type, (int)out->state);
    if (out->state == ADAPTER_FETCH)
        FZ_CHECK(which == 1 && a->build_result != NULL,
                 "%s: FETCH without a result fetch", a->type);
    FZ_CHECK(out->progress >= -1 && out->progress <= 100, "progress %d",
             out->progress);
    FZ_CHECK(out->retry_after_ms >= 0 && out->retry_after_ms < 3600000,
             "retry_after_ms %ld", out->retry_after_ms);
    s_check_texts(out);
    s_next_requests(a, out);
    if (out->state == ADAPTER_SUCCEEDED || out->state == ADAPTER_FAILED)
        s_check_views(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    const adapter_t *a;
    uint8_t mode;
    int which;
    char *retry_after, *body;
    rl_http_resp_t resp;
    adapter_result_t out;

    fz_setup();
    if (s_cfg == NULL)
        s_cfg = fz_config("adapters", 1, 1);
    a = adapter_find(rl_ptype_name((rl_ptype_t)(fz_u8(&in) % RL_PTYPE_COUNT)));
    mode = fz_u8(&in);
    which = (mode & 3) % 3;
    if (which == 2 && a->parse_result == NULL)
        which = 1;
    memset(&resp, 0, sizeof resp);
    resp.status = fz_u16(&in) % 600;
    retry_after = fz_str(&in, '\n', NULL);
    body = fz_rest(&in, &resp.body_len);
    resp.body = body;
    resp.error = "";
    resp.primary_ip = "";
    resp.retry_after = retry_after[0] != '\0' ? retry_after : NULL;
    resp.truncated = (mode & 8) != 0;
    if (mode & 4) {
        resp.status = 0;
        resp.timed_out = true;
        resp.curl_code = 28;
        resp.error = "Timeout was reached";
    }
    memset(&out, 0, sizeof out);
    if (which == 0)
        a->parse_submit(&resp, &out);
    else if (which == 1)
        a->parse_poll(&resp, &out);
    else
        a->parse_result(&resp, &out);
    s_check(a, which, &out);
    free(body);
    free(retry_after);
    return 0;
}
