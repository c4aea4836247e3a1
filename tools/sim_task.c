/*
 * sim_task - one simulated task's state and progress (sim_task.h).
 * SPDX-License-Identifier: MIT
 */
#include "sim_task.h"

#include <assert.h>

#include "rl_clock.h"
#include "sim_api.h"

const char *
sim_task_status(const struct sim_task *t)
{
    assert(t->state < SIM_ST_COUNT);
    return t->api->states[t->state];
}

int
sim_task_progress(const struct sim_task *t)
{
    if (t->state >= SIM_ST_SUCCEEDED)
        return t->state == SIM_ST_SUCCEEDED ? 100 : 0;
    if (t->state == SIM_ST_QUEUED)
        return 0;
    int64_t elapsed = rl_clock_mono_ms() - t->created_mono_ms;
    if (t->script.render_ms <= 0 || elapsed >= t->script.render_ms)
        return 99;
    return (int)(elapsed * 100 / t->script.render_ms);
}

void
sim_task_set_state(struct sim_task *t, sim_state_t state)
{
    assert(t->state < SIM_ST_SUCCEEDED);
    if (state != t->state) {
        t->state = state;
        t->updated_ms = rl_clock_wall_ms();
    }
}

bool
sim_task_cancel(struct sim_task *t)
{
    if (t->state >= SIM_ST_SUCCEEDED)
        return false;
    sim_task_set_state(t, SIM_ST_CANCELLED);
    t->cancelled = true;
    return true;
}
