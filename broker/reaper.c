/*
 * reaper - the periodic recovery sweep, one partition at a time in
 * steps: reap_scan reads (under the partition's lock), then batches of
 * reap_unclaimed, reap_worker (after a read of each dead worker's job
 * set) and reap_expire act. The partitions are swept side by side.
 * SPDX-License-Identifier: MIT
 */
#include "reaper.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dispatch.h"
#include "rl_alloc.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_sweep.h"

/* Strings copied out of a reply, and how many were acted on. */
typedef struct {
    char **v;
    size_t n;
    size_t at;
} s_list_t;

typedef enum {
    S_UNCLAIMED, /* reap_unclaimed in flight */
    S_MEMBERS,   /* a dead worker's job set being read */
    S_WORKER,    /* reap_worker in flight */
    S_EXPIRE,    /* reap_expire in flight */
} s_step_t;

typedef struct {
    reaper_t *r;
    int p;          /* the partition */
    s_list_t due;   /* dispatched past their claim deadline */
    s_list_t dead;  /* workers whose lease expired; at: the current */
    s_list_t jobs;  /* the current dead worker's job set */
    bool jobs_read; /* jobs holds its set */
    s_list_t head;  /* the queue's head */
    bool head_done; /* reap_expire stopped at a job not due */
    s_step_t step;  /* what is in flight */
    long long unclaimed, recovered, failed, expired;
} s_sweep_t;

struct reaper {
    broker_t *broker;
    struct event *timer;
    int running;    /* sweeps in flight */
    bool destroyed; /* reaper_destroy ran while sweeps were in flight */
};

static void s_next(s_sweep_t *s);

static void
s_list_copy(s_list_t *l, const redisReply *a)
{
    l->v = rl_calloc(a->elements ? a->elements : 1, sizeof *l->v);
    for (size_t i = 0; i < a->elements; i++) {
        const char *s = rl_redis_reply_str(a->element[i]);
        if (s != NULL)
            l->v[l->n++] = rl_strdup(s);
    }
    l->at = 0;
}

static void
s_list_free(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The sweep of a partition is over (done, or cut short: the next period
 * sweeps again). */
static void
s_end(s_sweep_t *s)
{
    reaper_t *r = s->r;
    if (!r->destroyed &&
        s->unclaimed + s->recovered + s->failed + s->expired > 0) {
        rl_log_info("reaper: partition %d: requeued %lld unclaimed, "
                    "recovered %lld, failed %lld, timed out in the queue "
                    "%lld",
                    s->p, s->unclaimed, s->recovered, s->failed, s->expired);
        dispatch_wake(r->broker->dispatch);
    }
    s_list_free(&s->due);
    s_list_free(&s->dead);
    s_list_free(&s->jobs);
    s_list_free(&s->head);
    free(s);
    if (--r->running == 0 && r->destroyed)
        free(r);
}

/* The next batch of list l: its refs from l->at on, at most
 * RL_STATE_SWEEP_MAX; l->at moves past them. */
static rl_state_sweep_args_t
s_batch(s_sweep_t *s, s_list_t *l)
{
    size_t n = l->n - l->at;
    if (n > RL_STATE_SWEEP_MAX)
        n = RL_STATE_SWEEP_MAX;
    rl_state_sweep_args_t a = {
        .partition = s->p,
        .holder = s->r->broker->id,
        .max_recoveries = s->r->broker->cfg->max_recoveries,
        .refs = (const char *const *)l->v + l->at,
        .nrefs = n,
    };
    l->at += n;
    return a;
}

static void
s_on_step(const rl_state_sweep_reply_t *rep, void *arg)
{
    s_sweep_t *s = arg;
    if (s->r->destroyed || rep->tag == RL_STATE_SKIPPED ||
        rep->tag == RL_STATE_UNKNOWN || rep->tag == RL_STATE_BAD) {
        if (rep->tag == RL_STATE_BAD)
            rl_log_warnx("reaper: partition %d: %s", s->p, rep->why);
        s_end(s);
        return;
    }
    switch (s->step) {
    case S_UNCLAIMED:
        s->unclaimed += rep->n;
        break;
    case S_WORKER:
        if (rep->tag == RL_STATE_OK) {
            s->recovered += rep->n;
            s->failed += rep->failed;
        }
        if (rep->tag == RL_STATE_ALIVE || s->jobs.at >= s->jobs.n) {
            s_list_free(&s->jobs); /* on to the next dead worker */
            s->jobs_read = false;
            s->dead.at++;
        }
        break;
    case S_EXPIRE:
        s->expired += rep->n;
        s->head_done = !rep->all;
        break;
    case S_MEMBERS:
        break; /* not a sweep step's reply */
    }
    s_next(s);
}

static void
s_on_members(const rl_state_members_reply_t *rep, void *arg)
{
    s_sweep_t *s = arg;
    if (s->r->destroyed || rep->tag != RL_STATE_OK) {
        s_end(s);
        return;
    }
    s_list_copy(&s->jobs, rep->refs);
    s->jobs_read = true;
    s_next(s);
}

/* Sends the sweep's next call, or ends it. */
static void
s_next(s_sweep_t *s)
{
    rl_redis_t *redis = s->r->broker->redis;
    int rc;
    if (s->due.at < s->due.n) {
        rl_state_sweep_args_t a = s_batch(s, &s->due);
        s->step = S_UNCLAIMED;
        rc = rl_state_reap_unclaimed(redis, &a, s_on_step, s);
    } else if (s->dead.at < s->dead.n && !s->jobs_read) {
        s->step = S_MEMBERS;
        rc = rl_state_worker_jobs(redis, s->p, s->dead.v[s->dead.at],
                                  s_on_members, s);
    } else if (s->dead.at < s->dead.n) {
        /* Every batch of its set, an empty one too: the last forgets it. */
        rl_state_sweep_args_t a = s_batch(s, &s->jobs);
        a.worker = s->dead.v[s->dead.at];
        s->step = S_WORKER;
        rc = rl_state_reap_worker(redis, &a, s_on_step, s);
    } else if (s->head.at < s->head.n && !s->head_done) {
        rl_state_sweep_args_t a = s_batch(s, &s->head);
        s->step = S_EXPIRE;
        rc = rl_state_reap_expire(redis, &a, s_on_step, s);
    } else {
        s_end(s);
        return;
    }
    if (rc != 0)
        s_end(s); /* Redis went away: the next period sweeps again */
}

static void
s_on_scan(const rl_state_scan_reply_t *rep, void *arg)
{
    s_sweep_t *s = arg;
    if (s->r->destroyed || rep->tag != RL_STATE_OK) {
        if (rep->tag == RL_STATE_BAD)
            rl_log_warnx("reaper: partition %d: %s", s->p, rep->why);
        s_end(s);
        return;
    }
    s_list_copy(&s->due, rep->due);
    s_list_copy(&s->dead, rep->dead);
    s_list_copy(&s->head, rep->head);
    s_next(s);
}

static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    reaper_t *r = arg;
    (void)fd;
    (void)what;
    if (r->running > 0)
        return; /* the last period's sweeps are still going */
    for (int p = 0; p < RL_PARTITIONS; p++) {
        s_sweep_t *s = rl_calloc(1, sizeof *s);
        s->r = r;
        s->p = p;
        r->running++;
        if (rl_state_reap_scan(r->broker->redis, p, r->broker->id,
                               r->broker->cfg->reaper_interval_ms,
                               REAPER_SWEEP_LIMIT, REAPER_HEAD_LIMIT, s_on_scan,
                               s) != 0)
            s_end(s);
    }
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
    if ((*p)->running > 0)
        (*p)->destroyed = true;
    else
        free(*p);
    *p = NULL;
}
