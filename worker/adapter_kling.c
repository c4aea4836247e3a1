/*
 * adapter_kling - requests and responses of the Kling video API.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_kling.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "adapter_url.h"
#include "rl_crypto.h"

#define KLING_CODE_RATE_LIMIT 1302
#define KLING_CODE_CONCURRENCY 1303

int
adapter_kling_jwt(const char *ak, const char *sk, int64_t now_s, char *buf,
                  size_t len)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    json_t *claims = json_pack("{s:s, s:I, s:I}", "iss", ak, "exp",
                               (json_int_t)(now_s + ADAPTER_KLING_JWT_TTL_S),
                               "nbf", (json_int_t)(now_s - 5));
    char *payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    char h64[64], p64[512], sig64[64];
    uint8_t mac[RL_SHA256_LEN];
    int rc = -1;
    if (payload == NULL ||
        rl_base64url_encode(header, strlen(header), h64, sizeof h64) < 0 ||
        rl_base64url_encode(payload, strlen(payload), p64, sizeof p64) < 0)
        goto out;
    char signing[600];
    int n = snprintf(signing, sizeof signing, "%s.%s", h64, p64);
    if (n < 0 || (size_t)n >= sizeof signing ||
        rl_hmac_sha256(sk, strlen(sk), signing, (size_t)n, mac) != 0 ||
        rl_base64url_encode(mac, sizeof mac, sig64, sizeof sig64) < 0)
        goto out;
    n = snprintf(buf, len, "%s.%s", signing, sig64);
    rc = (n < 0 || (size_t)n >= len) ? -1 : 0;
out:
    free(payload);
    return rc;
}

/* The Bearer header: the cached JWT while it has more than half of its
 * lifetime left, else a new one (kept in the cache when there is one). */
static int
s_auth(const rl_provider_conf_t *p, const adapter_job_t *j, int64_t now_s,
       adapter_request_t *req)
{
    char fresh[ADAPTER_TOKEN_MAX];
    adapter_token_t *t = j->token;
    char *jwt = t != NULL ? t->value : fresh;
    if (t == NULL || t->value[0] == '\0' || now_s >= t->renew_at_s) {
        if (adapter_kling_jwt(p->key, p->secret, now_s, jwt,
                              ADAPTER_TOKEN_MAX) != 0) {
            jwt[0] = '\0';
            return -1;
        }
        if (t != NULL)
            t->renew_at_s = now_s + ADAPTER_KLING_JWT_TTL_S / 2;
    }
    return adapter_request_header(req, "Authorization: Bearer %s", jwt);
}

static int
s_build_submit(const rl_provider_conf_t *p, const adapter_job_t *j,
               int64_t now_s, adapter_request_t *req)
{
    const char *kind = j->image_url ? "image2video" : "text2video";
    char duration[16], external[128];
    int nd = snprintf(duration, sizeof duration, "%d", j->duration_s);
    int ne =
        snprintf(external, sizeof external, "%s-%d", j->job_id, j->attempt);
    if (nd <= 0 || (size_t)nd >= sizeof duration || ne <= 0 ||
        (size_t)ne >= sizeof external)
        return -1;
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "model_name",
                             j->upstream_model, "prompt", j->prompt, "duration",
                             duration, "aspect_ratio", j->aspect_ratio, "mode",
                             "std", "external_task_id", external);
    if (j->negative_prompt)
        json_object_set_new(body, "negative_prompt",
                            json_string(j->negative_prompt));
    if (j->image_url)
        json_object_set_new(body, "image", json_string(j->image_url));
    req->method = "POST";
    adapter_request_body(req, json_dumps(body, JSON_COMPACT));
    json_decref(body);
    if (adapter_request_url(req, "%s/v1/videos/%s", p->base_url, kind) != 0 ||
        adapter_request_header(req, "Content-Type: application/json") != 0)
        return -1;
    return s_auth(p, j, now_s, req);
}

/* Maps a non-zero Kling body code (with its HTTP status) to a class. */
static adapter_error_t
s_classify(long status, json_int_t code)
{
    if (code == KLING_CODE_RATE_LIMIT)
        return ADAPTER_ERR_RATE_LIMITED;
    if (code == KLING_CODE_CONCURRENCY)
        return ADAPTER_ERR_CAPACITY;
    if (code == 1300 || code == 1301)
        return ADAPTER_ERR_CONTENT_REJECTED;
    if (code >= 5000 && code < 6000)
        return ADAPTER_ERR_TRANSIENT;
    if (status >= 500 || status == 408)
        return ADAPTER_ERR_TRANSIENT;
    /* 1000-1004 auth, 1100-1102 billing, 1200-1203 parameters */
    return ADAPTER_ERR_PERMANENT;
}

/* Parses a Kling envelope {code, message, data}. Returns data (borrowed
 * from *root) when code is 0, else NULL with out filled. */
static json_t *
s_envelope(const rl_http_resp_t *resp, json_t **root, adapter_result_t *out)
{
    *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    json_t *code = json_object_get(*root, "code");
    if (!json_is_integer(code)) {
        if (resp->status == 200)
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "malformed Kling response");
        else
            adapter_result_http(resp, out);
        return NULL;
    }
    json_int_t c = json_integer_value(code);
    json_t *data = json_object_get(*root, "data");
    if (c == 0 && resp->status == 200 && json_is_object(data))
        return data;
    char codebuf[24];
    adapter_result_code(codebuf, sizeof codebuf, (long long)c);
    const char *msg = json_string_value(json_object_get(*root, "message"));
    adapter_result_error(out, ADAPTER_ERROR, s_classify(resp->status, c),
                         codebuf, "%s", msg ? msg : "Kling error");
    out->retry_after_ms = adapter_retry_after_ms(resp);
    return NULL;
}

static void
s_parse_submit(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = NULL;
    json_t *data = s_envelope(resp, &root, out);
    const char *id = json_string_value(json_object_get(data, "task_id"));
    if (data != NULL && id == NULL)
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "Kling submit without task_id");
    if (data != NULL && id != NULL &&
        adapter_result_id(out, out->task_id, sizeof out->task_id, id, "Kling",
                          "task_id") == 0)
        out->state = ADAPTER_QUEUED;
    json_decref(root);
}

static int
s_build_poll(const rl_provider_conf_t *p, const adapter_job_t *j,
             const char *task_id, int64_t now_s, adapter_request_t *req)
{
    /* The poll path follows the create call. */
    const char *kind = j->image_url ? "image2video" : "text2video";
    char id[ADAPTER_TASK_MAX * 3];
    req->method = "GET";
    if (adapter_url_escape(id, sizeof id, task_id) != 0 ||
        adapter_request_url(req, "%s/v1/videos/%s/%s", p->base_url, kind, id) !=
            0)
        return -1;
    return s_auth(p, j, now_s, req);
}

/* A failed task: content policy, capacity, or anything else. */
static void
s_failed(json_t *data, adapter_result_t *out)
{
    const char *msg =
        json_string_value(json_object_get(data, "task_status_msg"));
    if (msg == NULL)
        msg = "Kling task failed";
    adapter_error_t e = ADAPTER_ERR_PERMANENT;
    if (strcasestr(msg, "policy") || strcasestr(msg, "content") ||
        strcasestr(msg, "sensitive"))
        e = ADAPTER_ERR_CONTENT_REJECTED;
    else if (strcasestr(msg, "resource exhausted") ||
             strcasestr(msg, "capacity") || strcasestr(msg, "busy"))
        e = ADAPTER_ERR_CAPACITY;
    adapter_result_error(out, ADAPTER_FAILED, e, "task_failed", "%s", msg);
}

static void
s_parse_poll(const rl_http_resp_t *resp, adapter_result_t *out)
{
    json_t *root = NULL;
    json_t *data = s_envelope(resp, &root, out);
    const char *st = json_string_value(json_object_get(data, "task_status"));
    out->progress = -1;
    if (data == NULL) {
        /* out filled by s_envelope */
    } else if (st == NULL) {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "Kling poll without task_status");
    } else if (strcmp(st, "submitted") == 0) {
        out->state = ADAPTER_QUEUED;
    } else if (strcmp(st, "processing") == 0) {
        out->state = ADAPTER_RUNNING;
    } else if (strcmp(st, "succeed") == 0) {
        json_t *videos =
            json_object_get(json_object_get(data, "task_result"), "videos");
        const char *url = json_string_value(
            json_object_get(json_array_get(videos, 0), "url"));
        if (url == NULL)
            adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                                 "malformed", "Kling success without url");
        else
            adapter_result_output(out, url, "Kling");
    } else if (strcmp(st, "failed") == 0) {
        s_failed(data, out);
    } else {
        adapter_result_error(out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                             "malformed", "unknown Kling status '%.32s'", st);
    }
    json_decref(root);
}

const adapter_t adapter_kling = {
    .type = "kling",
    .build_submit = s_build_submit,
    .parse_submit = s_parse_submit,
    .build_poll = s_build_poll,
    .parse_poll = s_parse_poll,
    .build_cancel = NULL, /* Kling documents no cancel */
};
