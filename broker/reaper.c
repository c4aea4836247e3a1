/*
 * reaper - the periodic recovery sweep.
 * SPDX-License-Identifier: MIT
 */
#include "reaper.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dispatch.h"
#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_log.h"

struct reaper {
    broker_t *broker;
    struct event *timer;
    bool running; /* a sweep is in flight */
};

#define S_COUNTS 4 /* reap.lua's reply: four counts */

reaper_verdict_t
reaper_read(const redisReply *reply, reaper_counts_t *counts)
{
    long long n[S_COUNTS];
    memset(counts, 0, sizeof *counts);
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return REAPER_UNKNOWN;
    if (reply->elements == 0)
        return REAPER_SKIPPED;
    if (reply->elements != S_COUNTS)
        return REAPER_UNKNOWN;
    for (size_t i = 0; i < S_COUNTS; i++)
        if (rl_redis_reply_ll(reply->element[i], &n[i]) != 0 || n[i] < 0)
            return REAPER_UNKNOWN;
    counts->unclaimed = n[0];
    counts->recovered = n[1];
    counts->failed = n[2];
    counts->expired = n[3];
    return n[0] > 0 || n[1] > 0 || n[2] > 0 || n[3] > 0 ? REAPER_REAPED
                                                        : REAPER_QUIET;
}

static void
s_on_reaped(redisReply *reply, void *arg)
{
    reaper_t *r = arg;
    reaper_counts_t c;
    /* Read before anything is stored, and logged inside the branch: gcc
     * -O3 otherwise warns that a pointer to c may dangle (a false
     * positive of -Wdangling-pointer). */
    reaper_verdict_t v = reaper_read(reply, &c);
    r->running = false;
    if (v == REAPER_REAPED) {
        rl_log_info("reaper: requeued %lld unclaimed, recovered %lld, "
                    "failed %lld, timed out in the queue %lld",
                    c.unclaimed, c.recovered, c.failed, c.expired);
        dispatch_wake(r->broker->dispatch);
    }
}

static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    reaper_t *r = arg;
    (void)fd;
    (void)what;
    if (r->running)
        return;
    const rl_config_t *cfg = r->broker->cfg;
    char maxrec[RL_FMT_DEC_LEN], limit[RL_FMT_DEC_LEN], period[RL_FMT_DEC_LEN];
    rl_fmt_dec(maxrec, cfg->max_recoveries);
    rl_fmt_dec(limit, REAPER_SWEEP_LIMIT);
    rl_fmt_dec(period, cfg->reaper_interval_ms);
    const char *argv[] = {maxrec, limit, r->broker->id, period};
    if (rl_redis_script(r->broker->redis, "reap", s_on_reaped, r, 0, 4, argv,
                        NULL) == 0)
        r->running = true;
}

reaper_t *
reaper_new(broker_t *b)
{
    reaper_t *r = rl_calloc(1, sizeof *r);
    r->broker = b;
    long ms = b->cfg->reaper_interval_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    r->timer = event_new(b->base, -1, EV_PERSIST, s_on_timer, r);
    event_add(r->timer, &tv);
    return r;
}

void
reaper_destroy(reaper_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    event_free((*p)->timer);
    free(*p);
    *p = NULL;
}
