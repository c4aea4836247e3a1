/*
 * rl_loop - the process's libevent loop.
 * SPDX-License-Identifier: MIT
 */
#include "rl_loop.h"

#include <signal.h>

#include <event2/event.h>

struct event_base *
rl_loop_new(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base = NULL;

    /* A peer that closes while libevent writes to it must be an error on
     * that socket (EPIPE), never a signal that ends the process. */
    signal(SIGPIPE, SIG_IGN);
    if (cfg != NULL &&
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) ==
            0)
        base = event_base_new_with_config(cfg);
    if (cfg != NULL)
        event_config_free(cfg);
    return base != NULL ? base : event_base_new();
}

void
rl_loop_run_now(struct event *ev)
{
    /* With res 0 libevent's persist closure counts the next period from
     * now, not from the pending deadline. */
    event_active(ev, 0, 0);
}
