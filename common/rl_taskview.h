/*
 * rl_taskview - a job's faces in the task API (docs/task-api.md, the
 * Kinovi-style front door), built from the same stored fields as
 * rl_jobview:
 *
 *   recordInfo  {taskId, model, status: waiting|generating|success|fail,
 *                creditsUsed, output: [{url, width, height}] | null,
 *                error: {code, message} | null, createTime, completeTime,
 *                updateTime}                     (times in milliseconds)
 *   callback    {code: 200, message: "success", data: {taskId, orderId,
 *                model, state: success|fail, creditsUsed, output, error,
 *                createTime, completeTime, updateTime}}
 *
 * Where the two differ the callback follows that API's: creditsUsed is 0
 * and completeTime null for a failed task, while recordInfo, like the
 * documented status call, shows the credits that were reserved.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_TASKVIEW_H
#define RL_TASKVIEW_H

#include <jansson.h>

#include "rl_jobview.h"

/* An engine failure class mapped to the task API's error code. */
typedef struct {
    const char *engine;  /* the job's error_code: content_rejected ... */
    const char *code;    /* "2038", "4011", "500" */
    const char *message; /* the task API's human-readable message */
} rl_taskview_error_t;

/* The mapping for an engine error code (never NULL: unknown codes map to
 * the generic "500"). */
const rl_taskview_error_t *rl_taskview_error(const char *engine_code);

/* The recordInfo object. Caller owns the reference. */
json_t *rl_taskview_record(const rl_jobview_src_t *src);

/* The callback body. Caller owns the reference. */
json_t *rl_taskview_callback(const rl_jobview_src_t *src);

#endif
