/*
 * rl_loop - the process's libevent loop.
 * SPDX-License-Identifier: MIT
 */
#include "rl_loop.h"

#include <signal.h>
#include <stdint.h>

#include <event2/event.h>

#include "rl_log.h"

/* libevent's own messages would go to stderr unformatted and unbounded
 * (some follow what a peer sends): they go through rl_log, at most one
 * a second. Debug and informational ones are dropped. */
static void
s_on_libevent_log(int severity, const char *msg)
{
    static rl_log_limit_t limit;
    uint64_t held = 0;

    if (severity < EVENT_LOG_WARN || !rl_log_limit(&limit, 1000, &held))
        return;
    rl_log_warnx("libevent: %s (%llu more held)", msg,
                 (unsigned long long)held);
}

struct event_base *
rl_loop_new(void)
{
    struct event_config *cfg = event_config_new();
    struct event_base *base = NULL;

    /* A peer that closes while libevent writes to it must be an error on
     * that socket (EPIPE), never a signal that ends the process. */
    signal(SIGPIPE, SIG_IGN);
    event_set_log_callback(s_on_libevent_log);
    if (cfg != NULL &&
        event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
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
