/*
 * fuzz_validate - a submission body as the broker receives it (HTTP or
 * ZeroMQ ingress), without the connection: validate_submission_all()
 * and validate_submission() against the fuzz catalog, and the rendering
 * of every error they report (api_error_json), as the answer sends it.
 * fuzz_http reaches the same code through the server; this target is
 * hundreds of times faster per input.
 *
 * Properties: every error renders as the /v1 error object, names a
 * param that is valid UTF-8, and the first error is validate_submission's;
 * an accepted submission holds what its checks promise (a catalog model,
 * a priced duration, a configured ratio, a prompt within max_prompt_len
 * characters, URLs validate_http_url accepts).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "api_error.h"
#include "fz.h"
#include "validate.h"

static rl_config_t *s_cfg;

static void
s_check_error(const api_error_t *e)
{
    char *text = api_error_json(e);
    json_t *o;

    FZ_CHECK(text != NULL, "api_error_json returned NULL");
    o = fz_json_object(text, strlen(text), "an error");
    fz_check_api_error(o, "a validation error");
    FZ_CHECK(e->status == 400, "a validation error of status %d", e->status);
    FZ_CHECK(e->param == NULL || fz_utf8(e->param), "param not UTF-8");
    FZ_CHECK(fz_utf8(e->message), "message not UTF-8");
    json_decref(o);
    free(text);
}

static size_t
s_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void
s_check_accepted(const submission_t *s)
{
    const char *why = NULL;
    bool ratio = false;

    FZ_CHECK(s->model != NULL &&
                 rl_config_model(s_cfg, s->model_name) == s->model,
             "accepted without a catalog model");
    FZ_CHECK(rl_config_price(s->model, s->duration_s) == s->price &&
                 s->price >= 0,
             "accepted an unpriced duration %d", s->duration_s);
    for (size_t i = 0; i < s_cfg->naspect_ratios; i++)
        ratio |= s->aspect_ratio == s_cfg->aspect_ratios[i];
    FZ_CHECK(ratio, "accepted a ratio that is not configured");
    FZ_CHECK(s->prompt != NULL && s->prompt[0] != '\0' && fz_utf8(s->prompt) &&
                 s_chars(s->prompt) <= (size_t)s_cfg->max_prompt_len,
             "accepted a bad prompt");
    FZ_CHECK(s->webhook_url == NULL ||
                 validate_http_url(s->webhook_url, &why) == 0,
             "accepted webhook_url %s", s->webhook_url);
    FZ_CHECK(s->image_url == NULL || validate_http_url(s->image_url, &why) == 0,
             "accepted image_url %s", s->image_url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    validate_errors_t errs;
    submission_t s;
    api_error_t first;
    int rc;

    fz_setup();
    if (s_cfg == NULL)
        s_cfg = fz_config("validate", 1, 1);
    errs.n = 0;
    rc = validate_submission_all(s_cfg, (const char *)data, size, &s, &errs);
    FZ_CHECK((rc == 0) == (errs.n == 0), "rc %d with %zu errors", rc, errs.n);
    if (rc == 0) {
        s_check_accepted(&s);
        submission_release(&s);
    }
    for (size_t i = 0; i < errs.n && i < VALIDATE_MAX_ERRORS; i++)
        s_check_error(&errs.items[i]);
    rc = validate_submission(s_cfg, (const char *)data, size, &s, &first);
    FZ_CHECK((rc == 0) == (errs.n == 0), "the two validations disagree");
    if (rc == 0) {
        submission_release(&s);
    } else {
        FZ_CHECK(strcmp(first.code, errs.items[0].code) == 0,
                 "first error %s, listed first %s", first.code,
                 errs.items[0].code);
        s_check_error(&first);
    }
    return 0;
}
