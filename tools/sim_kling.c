/*
 * sim_kling - the provider simulator's Kling API (base_url ORIGIN,
 * standing for https://api-singapore.klingai.com): HS256 JWT
 * verification against REELAY_SIM_KLING_AK/_SK, and the text2video /
 * image2video submit and poll handlers with Kling's body shapes and
 * state spellings. Errors are {code, message, request_id} with Kling's
 * numeric codes (s_codes).
 * SPDX-License-Identifier: MIT
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "sim_kling.h"

#define SIM_JWT_PART_MAX 2048
#define SIM_KLING_DURATION_MIN 3
#define SIM_KLING_DURATION_MAX 15

static const char s_t2v[] = "/v1/videos/text2video";
static const char s_i2v[] = "/v1/videos/image2video";

/* How Kling spells each error: its body "code" (the HTTP status and the
 * message are sim_http's). */
static const int s_codes[SIM_E_COUNT] = {
    [SIM_E_RATE] = 1302,         [SIM_E_CAPACITY] = 1303,
    [SIM_E_INPUT_POLICY] = 1301, [SIM_E_INTERNAL] = 5000,
    [SIM_E_UNAVAILABLE] = 5001,  [SIM_E_NOT_FOUND] = 1203,
    [SIM_E_BAD_REQUEST] = 1201,  [SIM_E_FULL] = 5001,
    [SIM_E_AUTH_MISSING] = 1001, [SIM_E_AUTH_INVALID] = 1002,
    [SIM_E_AUTH_FAILED] = 1000,  [SIM_E_AUTH_NBF] = 1003,
    [SIM_E_AUTH_EXP] = 1004,
};

static void
s_error(sim_core_t *c, struct evhttp_request *req, sim_err_t err)
{
    char rid[SIM_ID_LEN];
    sim_core_new_id(c, "req-", rid, sizeof rid);
    sim_reply_json(req, sim_err_status(err),
                   json_pack("{s:i,s:s,s:s}", "code", s_codes[err], "message",
                             sim_err_message(err), "request_id", rid));
}

/* ---- auth ------------------------------------------------------------ */

/* Decodes one base64url JWT segment into a JSON object, or NULL. */
static json_t *
s_jwt_part(const char *in, size_t len)
{
    char b64[SIM_JWT_PART_MAX];
    uint8_t raw[SIM_JWT_PART_MAX];

    if (len == 0 || len >= sizeof b64)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '+' || c == '/' || c == '=')
            return NULL;
        b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    int n = rl_base64_decode(b64, len, raw, sizeof raw);
    if (n <= 0)
        return NULL;
    json_t *doc = json_loadb((const char *)raw, (size_t)n, 0, NULL);
    if (doc != NULL && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    return doc;
}

/* Checks the exp and nbf claims against now (seconds). */
static sim_err_t
s_jwt_times(const json_t *payload, double now)
{
    const json_t *exp = json_object_get(payload, "exp");
    const json_t *nbf = json_object_get(payload, "nbf");
    if (!json_is_number(exp) || (nbf != NULL && !json_is_number(nbf)))
        return SIM_E_AUTH_INVALID;
    if (json_number_value(exp) <= now)
        return SIM_E_AUTH_EXP;
    if (nbf != NULL && json_number_value(nbf) > now)
        return SIM_E_AUTH_NBF;
    return SIM_E_OK;
}

/* Verifies a Kling HS256 JWT: alg, signature with SK, iss == AK, times. */
static sim_err_t
s_kling_jwt(const sim_config_t *cfg, const char *token)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    json_t *header = NULL;
    json_t *payload = NULL;
    uint8_t mac[RL_SHA256_LEN];
    char expect[64];
    sim_err_t err = SIM_E_AUTH_INVALID;

    if (dot2 == NULL || strchr(dot2 + 1, '.') != NULL)
        goto out;
    header = s_jwt_part(token, (size_t)(dot1 - token));
    payload = s_jwt_part(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    const char *alg = json_string_value(json_object_get(header, "alg"));
    if (payload == NULL || alg == NULL || strcmp(alg, "HS256") != 0)
        goto out;
    err = SIM_E_AUTH_FAILED;
    int n = -1;
    if (rl_hmac_sha256(cfg->kling_sk, strlen(cfg->kling_sk), token,
                       (size_t)(dot2 - token), mac) == 0)
        n = rl_base64url_encode(mac, sizeof mac, expect, sizeof expect);
    if (n < 0 ||
        !rl_timingsafe_equal(expect, (size_t)n, dot2 + 1, strlen(dot2 + 1)))
        goto out;
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    if (iss == NULL || strcmp(iss, cfg->kling_ak) != 0)
        goto out;
    int64_t now_s = rl_clock_wall_ms() / 1000; /* whole seconds, as JWTs */
    err = s_jwt_times(payload, (double)now_s);
out:
    json_decref(payload);
    json_decref(header);
    return err;
}

/* Kling auth: a bearer token, and a valid JWT when AK/SK are set. */
static sim_err_t
s_kling_auth(const sim_core_t *c, struct evhttp_request *req)
{
    const char *token = sim_bearer(req);
    if (token == NULL)
        return SIM_E_AUTH_MISSING;
    const sim_config_t *cfg = sim_core_config(c);
    if (cfg->kling_ak == NULL)
        return SIM_E_OK;
    return s_kling_jwt(cfg, token);
}

/* ---- handlers -------------------------------------------------------- */

/* Kling's duration is a string of seconds; -1 when invalid. */
static int
s_kling_duration(const json_t *v)
{
    if (v == NULL)
        return SIM_DEFAULT_DURATION_S;
    const char *s = json_string_value(v);
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return -1;
    char *end = NULL;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || n < SIM_KLING_DURATION_MIN ||
        n > SIM_KLING_DURATION_MAX)
        return -1;
    return (int)n;
}

/* POST /v1/videos/{text2video,image2video}. */
static void
s_submit(sim_core_t *c, struct evhttp_request *req, bool i2v)
{
    json_t *body = NULL;
    char rid[SIM_ID_LEN];

    sim_core_count(c, SIM_COUNT_SUBMIT);
    sim_err_t err = s_kling_auth(c, req);
    if (err != SIM_E_OK)
        goto fail;
    err = SIM_E_BAD_REQUEST;
    if ((body = sim_body_json(req)) == NULL)
        goto fail;
    const char *prompt = sim_str(body, "prompt", "");
    const char *model = sim_str(body, "model_name", "kling-v1");
    const char *ext = sim_str(body, "external_task_id", NULL);
    const char *image = sim_str(body, "image", NULL);
    int duration = s_kling_duration(json_object_get(body, "duration"));
    if (prompt == NULL || model == NULL || duration < 0 ||
        (json_object_get(body, "external_task_id") && ext == NULL) ||
        (i2v ? image == NULL || *image == '\0' : *prompt == '\0'))
        goto fail;

    struct sim_task *t = sim_core_submit(c, &sim_api_kling, req, model, prompt);
    if (t != NULL) {
        t->i2v = i2v;
        t->endpoint = i2v ? "image2video" : "text2video";
        t->duration_s = duration;
        t->external_id = ext != NULL ? rl_strdup(ext) : NULL;
        sim_core_new_id(c, "req-", rid, sizeof rid);
        sim_reply_json(req, 200,
                       json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:{s:s?},s:I,s:I}}",
                                 "code", 0, "message", "", "request_id", rid,
                                 "data", "task_id", t->id, "task_status",
                                 sim_task_status(t), "task_info",
                                 "external_task_id", t->external_id,
                                 "created_at", (json_int_t)t->created_ms,
                                 "updated_at", (json_int_t)t->updated_ms));
    }
    json_decref(body);
    return;
fail:
    json_decref(body);
    s_error(c, req, err);
}

static const char *
s_kling_fail_msg(const struct sim_task *t)
{
    if (t->state < SIM_ST_FAILED)
        return "";
    switch (t->script.fail) {
    case SIM_FAIL_CONTENT:
        return "Failure to pass the risk control system: content policy";
    case SIM_FAIL_CAPACITY:
        return "resource exhausted";
    case SIM_FAIL_EXPIRED:
        return "task timed out";
    default:
        return "video generation failed";
    }
}

/* The Kling task object, the "data" of a poll answer. */
static json_t *
s_kling_task_json(const sim_core_t *c, const struct sim_task *t)
{
    char url[SIM_URL_LEN];
    char vid[SIM_ID_LEN + 8];
    char dur[RL_FMT_DEC_LEN];

    json_t *data = json_pack(
        "{s:s,s:s,s:s,s:{s:s?},s:I,s:I}", "task_id", t->id, "task_status",
        sim_task_status(t), "task_status_msg", s_kling_fail_msg(t), "task_info",
        "external_task_id", t->external_id, "created_at",
        (json_int_t)t->created_ms, "updated_at", (json_int_t)t->updated_ms);
    if (data != NULL && t->state == SIM_ST_SUCCEEDED) {
        sim_core_output_url(c, t, url);
        rl_fmt_fit(vid, sizeof vid, "%s-v0", t->id);
        rl_fmt_dec(dur, t->duration_s);
        json_object_set_new(data, "task_result",
                            json_pack("{s:[{s:s,s:s,s:s}]}", "videos", "id",
                                      vid, "url", url, "duration", dur));
    }
    return data;
}

/* GET /v1/videos/{text2video,image2video}/ID. */
static void
s_poll(sim_core_t *c, struct evhttp_request *req, bool i2v, const char *id)
{
    char rid[SIM_ID_LEN];

    sim_core_count(c, SIM_COUNT_POLL);
    sim_err_t err = s_kling_auth(c, req);
    if (err != SIM_E_OK) {
        s_error(c, req, err);
        return;
    }
    struct sim_task *t = sim_core_task(c, &sim_api_kling, id);
    if (t == NULL || t->i2v != i2v) {
        s_error(c, req, SIM_E_NOT_FOUND);
        return;
    }
    if (sim_core_poll(c, req, t))
        return;
    sim_core_new_id(c, "req-", rid, sizeof rid);
    sim_reply_json(req, 200,
                   json_pack("{s:i,s:s,s:s,s:o}", "code", 0, "message", "",
                             "request_id", rid, "data",
                             s_kling_task_json(c, t)));
}

static bool
s_route(sim_core_t *c, struct evhttp_request *req, enum evhttp_cmd_type m,
        const char *path)
{
    char id[SIM_ID_LEN];

    for (int i2v = 0; i2v < 2; i2v++) {
        int r = sim_path_collection(path, i2v ? s_i2v : s_t2v, id, sizeof id);
        if (r == 0 && m == EVHTTP_REQ_POST)
            s_submit(c, req, i2v);
        else if (r == 1 && m == EVHTTP_REQ_GET)
            s_poll(c, req, i2v, id);
        else if (r >= 0)
            sim_not_allowed(req);
        if (r >= 0)
            return true;
    }
    return false;
}

const sim_api_t sim_api_kling = {
    .type = RL_PTYPE_KLING,
    .prefix = "/v1/videos/",
    .id_prefix = "kl",
    .states = {"submitted", "processing", "succeed", "failed", "failed",
               "failed"},
    .malformed_poll =
        "{\"code\":0,\"message\":\"\",\"data\":{\"task_status\":\"succ",
    .malformed_submit = "{\"code\":0,\"message\":\"\",\"data\":{\"task_id\":\"",
    .route = s_route,
    .error = s_error,
};
