/*
 * sim_kling - the provider simulator's Kling API: HS256 JWT verification
 * against REELAY_SIM_KLING_AK/_SK, and the text2video / image2video submit
 * and poll handlers with Kling's body shapes and state spellings.
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
#include "sim.h"

#define SIM_JWT_PART_MAX 2048

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
    if (n < 0 || !rl_timingsafe_equal(expect, (size_t)n, dot2 + 1,
                                      strlen(dot2 + 1)))
        goto out;
    const char *iss = json_string_value(json_object_get(payload, "iss"));
    if (iss == NULL || strcmp(iss, cfg->kling_ak) != 0)
        goto out;
    err = s_jwt_times(payload, (double)(rl_clock_wall_ms() / 1000));
out:
    json_decref(payload);
    json_decref(header);
    return err;
}

/* Kling auth: a bearer token, and a valid JWT when AK/SK are set. */
static sim_err_t
s_kling_auth(const sim_t *sim, struct evhttp_request *req)
{
    const char *token = sim_bearer(req);
    if (token == NULL)
        return SIM_E_AUTH_MISSING;
    if (sim->cfg->kling_ak == NULL)
        return SIM_E_OK;
    return s_kling_jwt(sim->cfg, token);
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

void
sim_kling_submit(sim_t *sim, struct evhttp_request *req, bool i2v)
{
    json_t *body = NULL;
    struct sim_script sc;
    char rid[SIM_ID_LEN];

    sim->submits++;
    sim_err_t err = s_kling_auth(sim, req);
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

    sim_script_parse(prompt, sim->cfg->name, SIM_API_KLING, &sc);
    if (!sim_submit_scripted(sim, req, SIM_API_KLING, prompt, &sc)) {
        struct sim_task *t = sim_task_new(sim, SIM_API_KLING, model, prompt,
                                          &sc);
        t->i2v = i2v;
        t->duration_s = duration;
        t->external_id = ext != NULL ? rl_strdup(ext) : NULL;
        sim_new_id(sim, "req-", rid, sizeof rid);
        sim_reply_json(req, 200,
                       json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:{s:s?},s:I,s:I}}",
                                 "code", 0, "message", "", "request_id", rid,
                                 "data", "task_id", t->id, "task_status",
                                 sim_script_state_name(SIM_API_KLING,
                                                       t->state),
                                 "task_info", "external_task_id",
                                 t->external_id, "created_at",
                                 (json_int_t)t->created_ms, "updated_at",
                                 (json_int_t)t->updated_ms));
    }
    json_decref(body);
    return;
fail:
    json_decref(body);
    sim_api_error(sim, req, SIM_API_KLING, err);
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
s_kling_task_json(const sim_t *sim, const struct sim_task *t)
{
    char url[SIM_ID_LEN + 128];
    char vid[SIM_ID_LEN + 8];
    char dur[16];

    json_t *data = json_pack(
        "{s:s,s:s,s:s,s:{s:s?},s:I,s:I}", "task_id", t->id, "task_status",
        sim_script_state_name(SIM_API_KLING, t->state), "task_status_msg",
        s_kling_fail_msg(t), "task_info", "external_task_id", t->external_id,
        "created_at", (json_int_t)t->created_ms, "updated_at",
        (json_int_t)t->updated_ms);
    if (data != NULL && t->state == SIM_ST_SUCCEEDED) {
        sim_output_url(sim, t, url, sizeof url);
        snprintf(vid, sizeof vid, "%s-v0", t->id);
        snprintf(dur, sizeof dur, "%d", t->duration_s);
        json_object_set_new(data, "task_result",
                            json_pack("{s:[{s:s,s:s,s:s}]}", "videos", "id",
                                      vid, "url", url, "duration", dur));
    }
    return data;
}

void
sim_kling_poll(sim_t *sim, struct evhttp_request *req, bool i2v,
               const char *id)
{
    char rid[SIM_ID_LEN];

    sim->polls++;
    sim_err_t err = s_kling_auth(sim, req);
    if (err != SIM_E_OK) {
        sim_api_error(sim, req, SIM_API_KLING, err);
        return;
    }
    struct sim_task *t = sim_task_find(sim, id);
    if (t == NULL || t->api != SIM_API_KLING || t->i2v != i2v) {
        sim_api_error(sim, req, SIM_API_KLING, SIM_E_NOT_FOUND);
        return;
    }
    if (sim_poll_scripted(sim, req, t))
        return;
    sim_new_id(sim, "req-", rid, sizeof rid);
    sim_reply_json(req, 200,
                   json_pack("{s:i,s:s,s:s,s:o}", "code", 0, "message", "",
                             "request_id", rid, "data",
                             s_kling_task_json(sim, t)));
}
