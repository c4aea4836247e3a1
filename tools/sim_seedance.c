/*
 * sim_seedance - the provider simulator's Seedance (BytePlus Ark) API:
 * the content-generation task submit, poll and DELETE handlers, with
 * Ark's content[] parsing, body shapes and state spellings.
 * SPDX-License-Identifier: MIT
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "sim.h"

#define SIM_ARK_FPS 24
#define SIM_ARK_TOKENS 108900 /* 720p, 5 s, as in the Ark docs */

/* The prompt of an Ark content[] array: the first text item's text, ""
 * for images only, or NULL when the array is malformed. */
static const char *
s_ark_prompt(const json_t *content)
{
    const char *prompt = NULL;
    size_t i;
    json_t *item;

    if (!json_is_array(content) || json_array_size(content) == 0)
        return NULL;
    json_array_foreach(content, i, item) {
        const char *type = sim_str(item, "type", NULL);
        if (type != NULL && strcmp(type, "text") == 0) {
            const char *text = sim_str(item, "text", NULL);
            if (text == NULL)
                return NULL;
            if (prompt == NULL)
                prompt = text;
        } else if (type == NULL || strcmp(type, "image_url") != 0 ||
                   sim_str(json_object_get(item, "image_url"), "url",
                           NULL) == NULL) {
            return NULL;
        }
    }
    return prompt != NULL ? prompt : "";
}

/* The requested length: top-level "duration", else the "--dur N" text
 * command, else 5 s. */
static int
s_ark_duration(const json_t *body, const char *prompt)
{
    const json_t *d = json_object_get(body, "duration");
    if (json_is_integer(d) && json_integer_value(d) > 0 &&
        json_integer_value(d) <= SIM_KLING_DURATION_MAX)
        return (int)json_integer_value(d);
    const char *p = strstr(prompt, "--dur ");
    if (p == NULL)
        p = strstr(prompt, "--duration ");
    if (p != NULL) {
        char *end = NULL;
        long n = strtol(strchr(p, ' ') + 1, &end, 10);
        if (end != NULL && n > 0 && n <= SIM_KLING_DURATION_MAX)
            return (int)n;
    }
    return SIM_DEFAULT_DURATION_S;
}

void
sim_seedance_submit(sim_t *sim, struct evhttp_request *req)
{
    json_t *body = NULL;
    struct sim_script sc;
    sim_err_t err = SIM_E_AUTH_MISSING;

    sim->submits++;
    if (sim_bearer(req) == NULL)
        goto fail;
    err = SIM_E_BAD_REQUEST;
    if ((body = sim_body_json(req)) == NULL)
        goto fail;
    const char *model = sim_str(body, "model", NULL);
    const char *prompt = s_ark_prompt(json_object_get(body, "content"));
    if (model == NULL || *model == '\0' || prompt == NULL)
        goto fail;

    sim_script_parse(prompt, sim->cfg->name, SIM_API_SEEDANCE, &sc);
    if (!sim_submit_scripted(sim, req, SIM_API_SEEDANCE, prompt, &sc)) {
        struct sim_task *t = sim_task_new(sim, SIM_API_SEEDANCE, model,
                                          prompt, &sc);
        t->duration_s = s_ark_duration(body, prompt);
        sim_reply_json(req, 200, json_pack("{s:s}", "id", t->id));
    }
    json_decref(body);
    return;
fail:
    json_decref(body);
    sim_api_error(sim, req, SIM_API_SEEDANCE, err);
}

/* The error member of a task: null unless it failed. */
static json_t *
s_ark_task_error(const struct sim_task *t)
{
    const char *code = "GenerationFailed";
    const char *msg = "The video generation failed.";

    if (t->state != SIM_ST_FAILED)
        return json_null();
    if (t->script.fail == SIM_FAIL_CONTENT) {
        code = "OutputVideoSensitiveContentDetected";
        msg = "The output video may contain sensitive information.";
    } else if (t->script.fail == SIM_FAIL_CAPACITY) {
        code = "ServerOverloaded";
        msg = "The service is overloaded, please try again later.";
    }
    return json_pack("{s:s,s:s}", "code", code, "message", msg);
}

static json_t *
s_ark_task_json(const sim_t *sim, const struct sim_task *t)
{
    char url[SIM_ID_LEN + 128];
    json_t *doc = json_pack(
        "{s:s,s:s,s:s,s:o,s:I,s:I}", "id", t->id, "model", t->model,
        "status", sim_script_state_name(SIM_API_SEEDANCE, t->state), "error",
        s_ark_task_error(t), "created_at", (json_int_t)(t->created_ms / 1000),
        "updated_at", (json_int_t)(t->updated_ms / 1000));
    if (doc != NULL && t->state == SIM_ST_SUCCEEDED) {
        sim_output_url(sim, t, url, sizeof url);
        json_object_set_new(doc, "content",
                            json_pack("{s:s}", "video_url", url));
        json_object_set_new(doc, "duration", json_integer(t->duration_s));
        json_object_set_new(doc, "framespersecond",
                            json_integer(SIM_ARK_FPS));
        json_object_set_new(doc, "usage",
                            json_pack("{s:i,s:i}", "completion_tokens",
                                      SIM_ARK_TOKENS, "total_tokens",
                                      SIM_ARK_TOKENS));
    }
    return doc;
}

/* The task a poll or DELETE names, or NULL after answering an error. */
static struct sim_task *
s_ark_lookup(sim_t *sim, struct evhttp_request *req, const char *id)
{
    if (!sim_need_bearer(sim, req, SIM_API_SEEDANCE))
        return NULL;
    struct sim_task *t = sim_task_find(sim, id);
    if (t == NULL || t->api != SIM_API_SEEDANCE || t->deleted) {
        sim_api_error(sim, req, SIM_API_SEEDANCE, SIM_E_NOT_FOUND);
        return NULL;
    }
    return t;
}

void
sim_seedance_poll(sim_t *sim, struct evhttp_request *req, const char *id)
{
    sim->polls++;
    struct sim_task *t = s_ark_lookup(sim, req, id);
    if (t != NULL && !sim_poll_scripted(sim, req, t))
        sim_reply_json(req, 200, s_ark_task_json(sim, t));
}

void
sim_seedance_cancel(sim_t *sim, struct evhttp_request *req, const char *id)
{
    sim->cancels++;
    struct sim_task *t = s_ark_lookup(sim, req, id);
    if (t == NULL)
        return;
    if (!sim_task_cancel(t))
        t->deleted = true;
    sim_reply_json(req, 200, json_object());
}
