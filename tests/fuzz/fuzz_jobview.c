/*
 * fuzz_jobview - a job's stored fields as the broker reads them back
 * from Redis and the deliverer from Redis or a COMPLETION message, and
 * every face rendered from them: the job object (rl_jobview_api), the
 * webhook body (rl_jobview_webhook), the task API's recordInfo and
 * callback (rl_taskview_*), the X-Reelay-Sequence (webhook_sequence) and
 * the readers of numbers and times under them (the status history's
 * JSON, stored times and counts).
 *
 * Input: lines, alternately a field name and its value.
 *
 * Properties: the job object and the webhook body always render and
 * write as JSON; when every value is valid UTF-8 the task API's faces
 * render too, and the id, status and prompt given appear as given.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "rl_jobview.h"
#include "rl_taskview.h"
#include "webhook.h"

#define S_MAX_PAIRS 64
#define S_NOW_MS 1767225600000LL

/* The value o shows for key is the string given. */
static void
s_check_shown(const json_t *o, const char *key, const char *given,
              const char *what)
{
    const json_t *v = json_object_get(o, key);

    if (given == NULL)
        return;
    FZ_CHECK(json_is_string(v) && strcmp(json_string_value(v), given) == 0,
             "%s shows %s '%s' otherwise", what, key, given);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    char *kv[2 * S_MAX_PAIRS];
    size_t n = 0;
    bool utf8 = true;
    rl_jobview_src_t src;
    json_t *api, *hook, *record, *callback;

    fz_setup();
    while (in.n > 0 && n < 2 * S_MAX_PAIRS) {
        kv[n] = fz_str(&in, '\n', NULL);
        utf8 &= fz_utf8(kv[n]);
        n++;
    }
    if (n % 2 != 0)
        kv[n++] = strdup("");
    src.kv = (const char *const *)kv;
    src.npairs = n / 2;
    api = rl_jobview_api(&src, S_NOW_MS);
    hook = rl_jobview_webhook(&src);
    FZ_CHECK(api != NULL && hook != NULL, "a view returned NULL");
    fz_check_dumps(api, "the job object");
    fz_check_dumps(hook, "the webhook body");
    (void)webhook_sequence(&src);
    record = rl_taskview_record(&src);
    callback = rl_taskview_callback(&src);
    if (utf8) {
        FZ_CHECK(record != NULL && callback != NULL,
                 "a task API face of UTF-8 fields did not render");
        fz_check_dumps(record, "recordInfo");
        fz_check_dumps(callback, "the task callback");
        s_check_shown(api, "id", rl_jobview_get(&src, "id"), "job object");
        s_check_shown(api, "status", rl_jobview_get(&src, "status"),
                      "job object");
        s_check_shown(hook, "prompt", rl_jobview_get(&src, "prompt"),
                      "webhook body");
    }
    json_decref(callback);
    json_decref(record);
    json_decref(hook);
    json_decref(api);
    for (size_t i = 0; i < n; i++)
        free(kv[i]);
    return 0;
}
