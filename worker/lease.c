/*
 * lease - batch lease renewal of a worker. A lost lease, and a lease
 * held again, go up through w->on: the lease knows nothing of jobs or
 * links.
 * SPDX-License-Identifier: MIT
 */
#include "lease.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_log.h"
#include "rl_loop.h"

/* ".<generation>": a dot and an unsigned int's digits. */
#define LEASE_GEN_LEN 11

struct lease {
    worker_t *w;
    struct event *timer;
    int64_t ok_until; /* monotonic ms; 0 = not held */
    int64_t sent_at;  /* monotonic ms of the renewal in flight */
    bool in_flight;
    char base_id[sizeof(((worker_t *)0)->id)]; /* w->id at start */
    unsigned generation; /* owner ids taken after lease losses */
    char retired[sizeof(((worker_t *)0)->id)]; /* owner id to retire
                               with the next renewal, "" when none */
    bool sent_retire; /* the renewal in flight retires it */
    bool destroyed;   /* lease_destroy ran with a renewal in
                         flight: its reply frees the lease */
};

bool
lease_ok(const lease_t *l)
{
    return l != NULL && l->ok_until > rl_clock_mono_ms();
}

static void
s_on_renewed(redisReply *reply, void *arg)
{
    lease_t *l = arg;
    if (l->destroyed) {
        free(l); /* the worker is stopping: nothing more to do */
        return;
    }
    l->in_flight = false;
    long long expiry = 0;
    if (rl_redis_reply_ll(reply, &expiry) != 0)
        return; /* unknown: the next tick tries again */
    if (l->retired[0] != '\0' && !l->sent_retire)
        return; /* sent before the drop: the retirement must land first */
    l->retired[0] = '\0';
    bool was_ok = lease_ok(l);
    l->ok_until = l->sent_at + l->w->cfg->lease_ms * 9 / 10;
    if (!was_ok) {
        rl_log_info("lease held (expires %lld)", expiry);
        if (l->w->on.capacity != NULL)
            l->w->on.capacity(l->w);
    }
}

/* After a lease loss the worker goes on as a new lease owner, so that
 * nothing done under the old id (a claim still on its way) can count as
 * its own again; the old id is retired by the next renewal. No id is
 * waiting to be retired here: a loss needs a held lease, and the lease
 * is held again only once a renewal landed, which retired the last id. */
static void
s_new_owner(lease_t *l)
{
    worker_t *w = l->w;
    assert(l->retired[0] == '\0');
    memcpy(l->retired, w->id, sizeof l->retired); /* the same size */
    l->generation++;
    /* The base id cut to leave room for ".<generation>": it fits. */
    int n = snprintf(w->id, sizeof w->id, "%.*s.%u",
                     (int)(sizeof w->id - 1 - LEASE_GEN_LEN), l->base_id,
                     l->generation);
    assert(n > 0 && (size_t)n < sizeof w->id);
    (void)n;
    rl_log_info("lease owner is now %s (retiring %s)", w->id, l->retired);
}

static void
s_on_tick(evutil_socket_t fd, short what, void *arg)
{
    lease_t *l = arg;
    (void)fd;
    (void)what;
    worker_t *w = l->w;
    if (l->ok_until != 0 && !lease_ok(l)) {
        l->ok_until = 0;
        rl_log_warnx("lease lost: could not renew within %ld ms",
                     w->cfg->lease_ms);
        if (w->on.lease_lost != NULL)
            w->on.lease_lost(w); /* jobs dropped, credit taken back */
        s_new_owner(l);
    }
    if (l->in_flight)
        return;
    char lease_ms[24], maxrec[16];
    int nl = snprintf(lease_ms, sizeof lease_ms, "%ld", w->cfg->lease_ms);
    int nm = snprintf(maxrec, sizeof maxrec, "%d", w->cfg->max_recoveries);
    if (nl <= 0 || (size_t)nl >= sizeof lease_ms || nm <= 0 ||
        (size_t)nm >= sizeof maxrec)
        return; /* never: the buffers hold any number */
    const char *argv[] = {w->id, lease_ms, l->retired, maxrec};
    l->sent_at = rl_clock_mono_ms();
    l->sent_retire = l->retired[0] != '\0';
    if (rl_redis_script(w->redis, "heartbeat", s_on_renewed, l, 0, 4, argv,
                        NULL) == 0)
        l->in_flight = true;
}

void
lease_kick(lease_t *l)
{
    rl_loop_run_now(l->timer); /* the next renewal a period after it */
}

lease_t *
lease_new(worker_t *w)
{
    lease_t *l = rl_calloc(1, sizeof *l);
    l->w = w;
    memcpy(l->base_id, w->id, sizeof l->base_id); /* the same size */
    long period = w->cfg->lease_ms / 3;
    struct timeval tv = {period / 1000, (period % 1000) * 1000};
    l->timer = event_new(w->base, -1, EV_PERSIST, s_on_tick, l);
    event_add(l->timer, &tv);
    return l;
}

void
lease_destroy(lease_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    event_free((*p)->timer);
    /* A renewal in flight calls back into the lease (answered NULL at
     * the latest when the Redis client is destroyed): it frees it. */
    if ((*p)->in_flight)
        (*p)->destroyed = true;
    else
        free(*p);
    *p = NULL;
}
