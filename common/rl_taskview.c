/*
 * rl_taskview - the task API's JSON faces of a job.
 * SPDX-License-Identifier: MIT
 */
#include "rl_taskview.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_RATIO_MAX 100 /* the largest side of an aspect ratio */

/* The one mapping from engine failure classes to task API codes. */
static const rl_taskview_error_t s_errors[] = {
    {"content_rejected", "2038",
     "Your input text violates platform rules. Please modify and try "
     "again."},
    {"capacity", "4011",
     "The system is busy (generation queue timed out). Please try again "
     "later."},
    {"rate_limited", "4011",
     "The system is busy (generation queue timed out). Please try again "
     "later."},
    {"timeout", "4011",
     "The system is busy (generation queue timed out). Please try again "
     "later."},
    {NULL, "500", "Internal error. Please try again later."},
};

const rl_taskview_error_t *
rl_taskview_error(const char *engine_code)
{
    size_t i = 0;
    for (; s_errors[i].engine != NULL; i++)
        if (engine_code && strcmp(s_errors[i].engine, engine_code) == 0)
            break;
    return &s_errors[i];
}

static bool
s_is(const rl_jobview_src_t *src, const char *field, const char *value)
{
    const char *v = rl_jobview_get(src, field);
    return v != NULL && strcmp(v, value) == 0;
}

/* "W:H", each side 1..S_RATIO_MAX (the config's ratios), into *a and
 * *b; -1 otherwise (a side past it would overflow the pixel size). */
static int
s_ratio(const char *text, long *a, long *b)
{
    char *end = NULL;

    if (*text < '0' || *text > '9')
        return -1;
    *a = strtol(text, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9')
        return -1;
    *b = strtol(end + 1, &end, 10);
    return *end == '\0' && *a >= 1 && *a <= S_RATIO_MAX && *b >= 1 &&
                   *b <= S_RATIO_MAX
               ? 0
               : -1;
}

/* Pixel size of the output from its aspect ratio and resolution. */
static void
s_size(const rl_jobview_src_t *src, long *w, long *h)
{
    const char *res = rl_jobview_get(src, "output_resolution");
    long lines = 720;
    if (res && strcmp(res, "480p") == 0)
        lines = 480;
    else if (res && strcmp(res, "1080p") == 0)
        lines = 1080;
    else if (res && strcmp(res, "4k") == 0)
        lines = 2160;
    long a = 16, b = 9;
    const char *ar = rl_jobview_get(src, "aspect_ratio");
    if (ar == NULL || s_ratio(ar, &a, &b) != 0)
        a = 16, b = 9;
    /* The short side is the resolution's line count. */
    /* Video sizes are even: 480p at 16:9 is 854x480. */
    *w = a >= b ? (lines * a / b + 1) & ~1L : lines;
    *h = a >= b ? lines : (lines * b / a + 1) & ~1L;
}

static json_t *
s_output(const rl_jobview_src_t *src)
{
    if (!s_is(src, "status", "completed"))
        return json_null();
    long w = 0, h = 0;
    s_size(src, &w, &h);
    const char *url = rl_jobview_get(src, "output_url");
    return json_pack("[{s:s, s:I, s:I}]", "url", url ? url : "", "width",
                     (json_int_t)w, "height", (json_int_t)h);
}

static json_t *
s_error(const rl_jobview_src_t *src)
{
    if (!s_is(src, "status", "failed"))
        return json_null();
    const rl_taskview_error_t *e =
        rl_taskview_error(rl_jobview_get(src, "error_code"));
    return json_pack("{s:s, s:s}", "code", e->code, "message", e->message);
}

static const char *
s_status(const rl_jobview_src_t *src)
{
    if (s_is(src, "status", "completed"))
        return "success";
    if (s_is(src, "status", "failed"))
        return "fail";
    if (s_is(src, "status", "pending") || s_is(src, "phase", "Queued"))
        return "waiting";
    return "generating";
}

/* "Model used for generation" (that API's words): the name sent
 * (an alias such as Kinovi's "seedance-20" stays as sent), and after a
 * failover the catalog name of the backup that rendered it. */
static const char *
s_model(const rl_jobview_src_t *src)
{
    const char *used = rl_jobview_get(src, "model_used");
    if (used && *used && rl_jobview_get_num(src, "failover_used") != 0)
        return used;
    return rl_jobview_get(src, "model");
}

static json_t *
s_ms(long long ms)
{
    return ms > 0 ? json_integer(ms) : json_null();
}

json_t *
rl_taskview_record(const rl_jobview_src_t *src)
{
    bool ok = s_is(src, "status", "completed");
    long long used =
        ok ? rl_jobview_charged(src) : rl_jobview_get_num(src, "credits");
    const char *id = rl_jobview_get(src, "id");
    const char *model = s_model(src);
    return json_pack(
        "{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "taskId", id ? id : "",
        "model", model ? model : "", "status", s_status(src), "creditsUsed",
        (json_int_t)used, "output", s_output(src), "error", s_error(src),
        "createTime", s_ms(rl_jobview_get_num(src, "created_at")),
        "completeTime", s_ms(ok ? rl_jobview_get_num(src, "completed_at") : 0),
        "updateTime", s_ms(rl_jobview_get_num(src, "updated_at")));
}

json_t *
rl_taskview_callback(const rl_jobview_src_t *src)
{
    bool ok = s_is(src, "status", "completed");
    const char *id = rl_jobview_get(src, "id");
    const char *model = s_model(src);
    /* Sized to the id: a fixed buffer cut a long one mid-character, and
     * json_pack then refused the whole callback. */
    json_t *order = json_sprintf("order_%s", id && strncmp(id, "task_", 5) == 0
                                                 ? id + 5
                                                 : (id ? id : ""));
    long long used = ok ? rl_jobview_charged(src) : 0;
    json_t *data = json_pack(
        "{s:s, s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o}", "taskId",
        id ? id : "", "orderId", order, "model", model ? model : "", "state",
        ok ? "success" : "fail", "creditsUsed", (json_int_t)used, "output",
        s_output(src), "error", s_error(src), "createTime",
        s_ms(rl_jobview_get_num(src, "created_at")), "completeTime",
        s_ms(ok ? rl_jobview_get_num(src, "completed_at") : 0), "updateTime",
        s_ms(rl_jobview_get_num(src, "updated_at")));
    return json_pack("{s:i, s:s, s:o}", "code", 200, "message", "success",
                     "data", data);
}
