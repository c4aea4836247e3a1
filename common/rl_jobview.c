/*
 * rl_jobview - renders stored job fields as the public JSON objects.
 * SPDX-License-Identifier: MIT
 */
#include "rl_jobview.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_text.h"

#define S_INT64_REAL 9.2e18 /* reals within +-this convert to int64_t */

const char *
rl_jobview_get(const rl_jobview_src_t *src, const char *field)
{
    for (size_t i = 0; i < src->npairs; i++)
        if (src->kv[2 * i] != NULL && strcmp(src->kv[2 * i], field) == 0)
            return src->kv[2 * i + 1];
    return NULL;
}

long long
rl_jobview_num(const char *v)
{
    char *end = NULL;
    long long n;

    if (v == NULL || !(*v == '-' || (*v >= '0' && *v <= '9')))
        return 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    return (*end == '\0' && end != v && errno == 0) ? n : 0;
}

long long
rl_jobview_get_num(const rl_jobview_src_t *src, const char *field)
{
    return rl_jobview_num(rl_jobview_get(src, field));
}

json_t *
rl_jobview_time(long long ms)
{
    char iso[RL_CLOCK_ISO_LEN];

    return ms > 0 ? json_string(rl_clock_iso8601(ms, iso, sizeof iso))
                  : json_null();
}

static void
s_set_str(json_t *o, const char *key, const rl_jobview_src_t *src,
          const char *field)
{
    const char *v = rl_jobview_get(src, field);
    json_object_set_new(o, key, v ? json_string(v) : json_null());
}

static void
s_set_time(json_t *o, const char *key, int64_t ms)
{
    json_object_set_new(o, key, rl_jobview_time(ms));
}

long long
rl_jobview_charged(const rl_jobview_src_t *src)
{
    long long charged;

    /* Stored counts are small; two that are not must not overflow. */
    if (__builtin_sub_overflow(rl_jobview_get_num(src, "credits"),
                               rl_jobview_get_num(src, "credits_refunded"),
                               &charged))
        return 0;
    return charged;
}

static json_t *
s_duration(const rl_jobview_src_t *src)
{
    char buf[RL_FMT_DEC_LEN + 1];
    int64_t secs = rl_jobview_get_num(src, "duration");
    rl_fmt_fit(buf, sizeof buf, "%llds", (long long)secs); /* a number, s */
    return json_string(buf);
}

int64_t
rl_jobview_json_ms(const json_t *v)
{
    double d;

    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    /* Converting a real out of range is undefined: it reads as 0. */
    d = json_real_value(v);
    return d > -S_INT64_REAL && d < S_INT64_REAL ? (int64_t)d : 0;
}

/* The stored history entries in a fixed key order (Lua's cjson does not
 * keep one), with times as ISO-8601. */
static json_t *
s_history(const rl_jobview_src_t *src)
{
    static const char *const keys[] = {"status", "phase", "at", "reason"};
    const char *raw = rl_jobview_get(src, "history");
    json_t *h = raw ? json_loads(raw, 0, NULL) : NULL;
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e)
    {
        if (!json_is_object(e))
            continue;
        json_t *o = json_object();
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            json_t *v = json_object_get(e, keys[k]);
            if (k == 2 && json_is_number(v))
                s_set_time(o, "at", rl_jobview_json_ms(v));
            else if (v != NULL)
                json_object_set(o, keys[k], v);
        }
        json_array_append_new(out, o);
    }
    json_decref(h);
    return out;
}

static json_t *
s_error(const rl_jobview_src_t *src)
{
    const char *code = rl_jobview_get(src, "error_code");
    if (code == NULL || *code == '\0')
        return json_null();
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(code));
    s_set_str(e, "message", src, "error_message");
    const char *prov = rl_jobview_get(src, "provider");
    if (prov != NULL && *prov != '\0')
        json_object_set_new(e, "provider", json_string(prov));
    return e;
}

static int64_t
s_elapsed_s(const rl_jobview_src_t *src, int64_t now_ms)
{
    int64_t created = rl_jobview_get_num(src, "created_at");
    int64_t end = rl_jobview_get_num(src, "completed_at");
    if (created <= 0)
        return 0;
    int64_t until = end > 0 ? end : now_ms;
    return until > created ? (until - created) / 1000 : 0;
}

/* The job's webhook delivery as the deliverer recorded it, or NULL
 * before there is one (no webhook_url, or not terminal yet). */
static json_t *
s_webhook(const rl_jobview_src_t *src)
{
    const char *url = rl_jobview_get(src, "webhook_url");
    const char *state = rl_jobview_get(src, "wh_state");
    json_t *o;

    if (url == NULL || *url == '\0' || state == NULL || *state == '\0' ||
        strcmp(state, "none") == 0)
        return NULL;
    o = json_object();
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "attempts",
                        json_integer(rl_jobview_get_num(src, "wh_attempts")));
    s_set_time(o, "last_attempt_at", rl_jobview_get_num(src, "wh_last_at"));
    if (strcmp(state, "pending") == 0)
        s_set_time(o, "next_attempt_at", rl_jobview_get_num(src, "wh_next_at"));
    return o;
}

json_t *
rl_jobview_api(const rl_jobview_src_t *src, int64_t now_ms)
{
    const char *status = rl_jobview_get(src, "status");
    bool done = status && (strcmp(status, "completed") == 0 ||
                           strcmp(status, "failed") == 0);
    json_t *o = json_object();
    s_set_str(o, "id", src, "id");
    json_object_set_new(o, "object", json_string("video.generation"));
    s_set_str(o, "status", src, "status");
    s_set_str(o, "model", src, "model");
    s_set_str(o, "prompt", src, "prompt");
    json_object_set_new(o, "duration", s_duration(src));
    s_set_str(o, "aspect_ratio", src, "aspect_ratio");
    const char *url = rl_jobview_get(src, "webhook_url");
    json_object_set_new(o, "webhook_url",
                        url && *url ? json_string(url) : json_null());
    json_object_set_new(o, "credits", json_integer(rl_jobview_charged(src)));
    json_object_set_new(
        o, "failover_used",
        json_boolean(rl_jobview_get_num(src, "failover_used") != 0));
    s_set_time(o, "created_at", rl_jobview_get_num(src, "created_at"));
    const char *phase = rl_jobview_get(src, "phase");
    json_object_set_new(o, "phase",
                        phase && !done ? json_string(phase) : json_null());
    json_object_set_new(
        o, "progress",
        json_integer(done && strcmp(status, "completed") == 0
                         ? 100
                         : rl_jobview_get_num(src, "progress")));
    const char *eta = rl_jobview_get(src, "eta_s");
    json_object_set_new(o, "eta_seconds",
                        eta && !done
                            ? json_integer(rl_jobview_get_num(src, "eta_s"))
                            : json_null());
    json_object_set_new(o, "elapsed_seconds",
                        json_integer(s_elapsed_s(src, now_ms)));
    s_set_time(o, "last_poll_at", rl_jobview_get_num(src, "last_poll_at"));
    if (status && strcmp(status, "completed") == 0) {
        s_set_str(o, "output_url", src, "output_url");
        s_set_time(o, "completed_at", rl_jobview_get_num(src, "completed_at"));
    } else if (status && strcmp(status, "failed") == 0) {
        json_object_set_new(o, "error", s_error(src));
        s_set_time(o, "failed_at", rl_jobview_get_num(src, "completed_at"));
        s_set_time(o, "refunded_at", rl_jobview_get_num(src, "refunded_at"));
    }
    json_object_set_new(o, "status_history", s_history(src));
    json_t *wh = s_webhook(src);
    if (wh != NULL)
        json_object_set_new(o, "webhook", wh);
    return o;
}

const char *const *
rl_jobview_webhook_fields(size_t *n)
{
    static const char *const fields[] = {
        "id",
        "status",
        "model",
        "prompt",
        "duration",
        "aspect_ratio",
        "webhook_url",
        "output_url",
        "credits",
        "credits_refunded",
        "failover_used",
        "created_at",
        "completed_at",
        "error_code",
        "error_message",
        "provider",
        "history",
        "wh_attempts",
        "api",
        "output_resolution",
        "updated_at",
        "phase",
        "model_used",
        "wh_deliberate",
        NULL,
    };
    if (n != NULL)
        *n = sizeof fields / sizeof fields[0] - 1;
    return fields;
}

json_t *
rl_jobview_webhook(const rl_jobview_src_t *src)
{
    const char *status = rl_jobview_get(src, "status");
    bool ok = status && strcmp(status, "completed") == 0;
    json_t *o = json_object();
    s_set_str(o, "id", src, "id");
    json_object_set_new(o, "object", json_string("video.generation"));
    s_set_str(o, "status", src, "status");
    s_set_str(o, "model", src, "model");
    s_set_str(o, "prompt", src, "prompt");
    if (ok)
        s_set_str(o, "output_url", src, "output_url");
    else
        json_object_set_new(o, "output_url", json_null());
    json_object_set_new(o, "credits", json_integer(rl_jobview_charged(src)));
    json_object_set_new(
        o, "failover_used",
        json_boolean(rl_jobview_get_num(src, "failover_used") != 0));
    if (ok) {
        s_set_time(o, "completed_at", rl_jobview_get_num(src, "completed_at"));
    } else {
        json_object_set_new(o, "error", s_error(src));
        s_set_time(o, "failed_at", rl_jobview_get_num(src, "completed_at"));
    }
    json_object_set_new(o, "elapsed_seconds",
                        json_integer(s_elapsed_s(src, 0)));
    json_object_set_new(o, "status_history", s_history(src));
    return o;
}

const char *
rl_jobview_event(const char *status)
{
    return strcmp(status, "completed") == 0 ? "video.generation.completed"
                                            : "video.generation.failed";
}

json_t *
rl_jobview_entry(const rl_jobview_entry_t *e)
{
    json_t *o = json_object();

    assert(e != NULL && e->status != NULL);
    json_object_set_new(o, "status", json_string(e->status));
    if (e->phase != NULL)
        json_object_set_new(o, "phase", json_string(e->phase));
    if (e->at_ms > 0)
        json_object_set_new(o, "at", json_integer((json_int_t)e->at_ms));
    if (e->reason != NULL) {
        char safe[RL_JOBVIEW_REASON_MAX];
        rl_text_safe(safe, sizeof safe, e->reason, strlen(e->reason),
                     e->reason_cut, NULL);
        json_object_set_new(o, "reason", json_string(safe));
    }
    return o;
}

int
rl_jobview_entry_text(char *buf, size_t size, bool list,
                      const rl_jobview_entry_t *e)
{
    json_t *o = rl_jobview_entry(e);
    size_t n;

    if (list)
        o = json_pack("[o]", o);
    n = json_dumpb(o, buf, size, JSON_COMPACT);
    json_decref(o);
    if (n == 0 || n >= size) {
        if (size > 0)
            buf[0] = '\0';
        return -1;
    }
    buf[n] = '\0';
    return 0;
}
