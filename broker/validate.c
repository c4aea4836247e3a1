/*
 * validate - checks of the POST /v1/video/generations body.
 * SPDX-License-Identifier: MIT
 */
#include "validate.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_config_parse.h"
#include "rl_fmt.h"
#include "rl_text.h"

#define VALIDATE_MAX_DURATION 3600

/* The durations a model offers, quoted and joined: at most
 * RL_CONFIG_MAX_PRICES of ", \"NNNNs\"" (four digits at most). */
_Static_assert(RL_CONFIG_MAX_PRICE_SECONDS <= 9999,
               "a priced duration has four digits at most");
#define S_OFFERED_MAX (RL_CONFIG_MAX_PRICES * sizeof ", \"9999s\"")

static const char *const s_known_fields[] = {
    "model",       "prompt",          "duration",  "aspect_ratio",
    "webhook_url", "negative_prompt", "image_url", NULL,
};

static bool
s_known(const char *key)
{
    for (size_t i = 0; s_known_fields[i] != NULL; i++)
        if (strcmp(s_known_fields[i], key) == 0)
            return true;
    return false;
}

/* Number of UTF-8 code points (jansson has already validated UTF-8). */
static size_t
s_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

int
validate_duration(const void *json_value)
{
    const json_t *v = json_value;
    long secs = -1;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        secs = (n >= 1 && n <= VALIDATE_MAX_DURATION) ? (long)n : -1;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        if (*s < '0' || *s > '9')
            return -1;
        secs = strtol(s, &end, 10);
        if (end == s || (strcmp(end, "s") != 0 && *end != '\0'))
            return -1;
        if (secs < 1 || secs > VALIDATE_MAX_DURATION)
            return -1;
    }
    return (int)secs;
}

int
validate_http_url(const char *url, const char **why)
{
    if (strlen(url) > VALIDATE_MAX_URL) {
        *why = "is longer than 2048 bytes";
        return -1;
    }
    CURLU *u = curl_url();
    int rc = -1;
    char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
    *why = "is not an absolute http(s) URL";
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        goto out;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        host[0] == '\0')
        goto out;
    /* Longer than any DNS name, it could only fail later, where a
     * connection's origin is kept (rl_lanes keys). */
    if (strlen(host) > VALIDATE_MAX_HOST) {
        *why = "has a host longer than 253 bytes";
        goto out;
    }
    if (!rl_text_is_utf8(host, strlen(host))) {
        *why = "has a host that is not valid UTF-8";
        goto out;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
        *why = "must not carry credentials";
        goto out;
    }
    rc = 0;
out:
    curl_free(pass);
    curl_free(user);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

/* Reads an optional string field; -1 (with err) when present but not a
 * non-empty string. */
static int
s_opt_string(json_t *root, const char *field, char **out, api_error_t *err)
{
    json_t *v = json_object_get(root, field);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        api_error_invalid(err, "invalid_field", field,
                          "'%s' must be a non-empty string", field);
        return -1;
    }
    *out = rl_strdup(json_string_value(v));
    return 0;
}

static int
s_check_fields(json_t *root, api_error_t *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!s_known(key)) {
            api_error_invalid(err, "unknown_field", key,
                              "unknown field '%.64s'", key);
            return -1;
        }
    }
    return 0;
}

/* The name of m that is `name` (its own or one of its aliases), as the
 * config holds it: it lives as long as the config. */
static const char *
s_config_name(const rl_model_conf_t *m, const char *name)
{
    for (size_t i = 0; i < m->naliases; i++)
        if (strcmp(m->aliases[i], name) == 0)
            return m->aliases[i];
    return m->name;
}

static int
s_model(const rl_config_t *cfg, json_t *root, submission_t *s, api_error_t *err)
{
    json_t *v = json_object_get(root, "model");
    if (!json_is_string(v)) {
        api_error_invalid(err, "missing_model", "model",
                          "'model' is required and must be a string");
        return -1;
    }
    s->model = rl_config_model(cfg, json_string_value(v));
    if (s->model == NULL) {
        api_error_invalid(err, "unknown_model", "model",
                          "unknown model '%.64s'", json_string_value(v));
        return -1;
    }
    s->model_name = s_config_name(s->model, json_string_value(v));
    return 0;
}

static int
s_prompt(const rl_config_t *cfg, json_t *root, submission_t *s,
         api_error_t *err)
{
    json_t *v = json_object_get(root, "prompt");
    if (!json_is_string(v) || json_string_length(v) == 0) {
        api_error_invalid(err, "missing_prompt", "prompt",
                          "'prompt' is required and must be a non-empty "
                          "string");
        return -1;
    }
    /* jansson refuses \u0000 while parsing (no JSON_ALLOW_NUL), so
     * strings here never hide a NUL. */
    if (s_utf8_len(json_string_value(v)) > (size_t)cfg->max_prompt_len) {
        api_error_invalid(err, "invalid_prompt", "prompt",
                          "'prompt' must be at most %ld characters",
                          cfg->max_prompt_len);
        return -1;
    }
    s->prompt = rl_strdup(json_string_value(v));
    return 0;
}

/* Needs the model (its prices): without one only the model is named. */
static int
s_duration(json_t *root, submission_t *s, api_error_t *err)
{
    if (s->model == NULL)
        return 0;
    json_t *v = json_object_get(root, "duration");
    int secs = v ? validate_duration(v) : 5;
    long price = secs > 0 ? rl_config_price(s->model, secs) : -1;
    if (price < 0) {
        char offered[S_OFFERED_MAX] = "";
        size_t used = 0;
        for (size_t i = 0; i < s->model->nprices; i++) {
            int rc = rl_fmt(offered + used, sizeof offered - used, "%s\"%ds\"",
                            i ? ", " : "", s->model->prices[i].seconds);
            assert(rc == 0); /* S_OFFERED_MAX holds them all */
            if (rc != 0)
                break;
            used += strlen(offered + used);
        }
        api_error_invalid(err, "invalid_duration", "duration",
                          "'duration' must be one of %s for model '%s'",
                          offered, s->model->name);
        return -1;
    }
    s->duration_s = secs;
    s->price = price;
    return 0;
}

static int
s_aspect(const rl_config_t *cfg, json_t *root, submission_t *s,
         api_error_t *err)
{
    json_t *v = json_object_get(root, "aspect_ratio");
    if (v == NULL || json_is_null(v)) {
        s->aspect_ratio = cfg->naspect_ratios ? cfg->aspect_ratios[0] : "16:9";
        return 0;
    }
    for (size_t i = 0; json_is_string(v) && i < cfg->naspect_ratios; i++) {
        if (strcmp(cfg->aspect_ratios[i], json_string_value(v)) == 0) {
            s->aspect_ratio = cfg->aspect_ratios[i];
            return 0;
        }
    }
    api_error_invalid(err, "invalid_aspect_ratio", "aspect_ratio",
                      "'aspect_ratio' must be one of the configured ratios "
                      "(for example \"16:9\")");
    return -1;
}

/* An optional http(s) URL field (webhook_url, image_url) into *out;
 * code names the error of a string that is not such a URL. */
static int
s_url(json_t *root, const char *field, const char *code, char **out,
      api_error_t *err)
{
    const char *why = NULL;
    if (s_opt_string(root, field, out, err) != 0)
        return -1;
    if (*out && validate_http_url(*out, &why) != 0) {
        api_error_invalid(err, code, field, "'%s' %s", field, why);
        return -1;
    }
    return 0;
}

/* Where the next error goes: a slot of the list, or past its cap the
 * spare one (counted, not listed). */
static api_error_t *
s_slot(validate_errors_t *errs)
{
    return errs->n < VALIDATE_MAX_ERRORS ? &errs->items[errs->n] : &errs->spare;
}

api_error_t *
validate_errors_add(validate_errors_t *errs)
{
    api_error_t *e = s_slot(errs);
    errs->n++;
    return e;
}

/* Counts the problem a check left in the next slot when it failed. */
static void
s_keep(validate_errors_t *errs, int rc)
{
    if (rc != 0)
        errs->n++;
}

int
validate_submission_json(const rl_config_t *cfg, json_t *root,
                         submission_t *out, validate_errors_t *errs)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(root)) {
        api_error_invalid(validate_errors_add(errs), "malformed_json", NULL,
                          "the body must be a JSON object");
    } else {
        /* In this order; validate_submission reports the first problem.
         * Each check writes into the next slot; only a failure keeps it. */
        s_keep(errs, s_check_fields(root, s_slot(errs)));
        s_keep(errs, s_model(cfg, root, out, s_slot(errs)));
        s_keep(errs, s_prompt(cfg, root, out, s_slot(errs)));
        s_keep(errs, s_duration(root, out, s_slot(errs)));
        s_keep(errs, s_aspect(cfg, root, out, s_slot(errs)));
        s_keep(errs, s_url(root, "webhook_url", "invalid_webhook_url",
                           &out->webhook_url, s_slot(errs)));
        s_keep(errs, s_url(root, "image_url", "invalid_image_url",
                           &out->image_url, s_slot(errs)));
        s_keep(errs, s_opt_string(root, "negative_prompt",
                                  &out->negative_prompt, s_slot(errs)));
    }
    if (errs->n == 0)
        return 0;
    submission_release(out);
    return -1;
}

int
validate_submission_all(const rl_config_t *cfg, const char *body, size_t len,
                        submission_t *out, validate_errors_t *errs)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc;

    if (root == NULL) {
        memset(out, 0, sizeof *out);
        api_error_invalid(validate_errors_add(errs), "malformed_json", NULL,
                          "the body is not valid JSON: %s", jerr.text);
        return -1;
    }
    rc = validate_submission_json(cfg, root, out, errs);
    json_decref(root);
    return rc;
}

int
validate_submission(const rl_config_t *cfg, const char *body, size_t len,
                    submission_t *out, api_error_t *err)
{
    validate_errors_t errs;
    errs.n = 0;
    if (validate_submission_all(cfg, body, len, out, &errs) == 0)
        return 0;
    api_error_copy(err, &errs.items[0]);
    return -1;
}

void
submission_release(submission_t *s)
{
    free(s->prompt);
    free(s->webhook_url);
    free(s->negative_prompt);
    free(s->image_url);
    memset(s, 0, sizeof *s);
}
