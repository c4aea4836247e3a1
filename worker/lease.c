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
#include <string.h>
#include <sys/types.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_fmt.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "rl_state_sweep.h"

/* ".<generation>": a dot and an unsigned int's digits. */
#define LEASE_GEN_LEN 11

/* Refs waiting to be handed back (lease.h); past this the lease is
 * given up. A renewal of a partition carries all of that partition's. */
#define LEASE_MAX_RELEASES RL_STATE_SWEEP_MAX

/* A ref waiting to be handed back. */
typedef struct {
    char ref[RL_KEY_MAX]; /* "acct|id" */
    int partition;        /* its partition, -1 when malformed */
    bool sent;            /* carried by the renewal in flight */
} lease_release_t;

/* The renewal of one partition in flight. */
typedef struct {
    lease_t *l;
    int p;
} lease_call_t;

struct lease {
    worker_t *w;
    struct event *timer;
    int64_t ok_until;  /* monotonic ms; 0 = not held */
    int64_t sent_at;   /* monotonic ms of the round in flight */
    int pending;       /* renewals of the round still unanswered */
    bool round_failed; /* one of them was not answered ok */
    char base_id[sizeof(((worker_t *)0)->id)]; /* w->id at start */
    unsigned generation; /* owner ids taken after lease losses */
    char retired[sizeof(((worker_t *)0)->id)]; /* owner id to retire
                               with the next round, "" when none */
    bool sent_retire; /* the round in flight retires it */
    bool destroyed;   /* lease_destroy ran with a round in flight: its
                         last reply frees the lease */
    lease_call_t calls[RL_PARTITIONS];
    lease_release_t releases[LEASE_MAX_RELEASES]; /* refs to hand back */
    size_t nreleases;
    bool overflow; /* a ref did not fit: give the lease up */
};

bool
lease_ok(const lease_t *l)
{
    return l != NULL && l->ok_until > rl_clock_mono_ms();
}

/* The renewal of partition p, carrying its refs marked sent, was not
 * answered. */
static void
s_unsend(lease_t *l, int p)
{
    for (size_t i = 0; i < l->nreleases; i++)
        if (l->releases[i].partition == p)
            l->releases[i].sent = false;
}

/* The renewal of partition p carrying its refs marked sent landed: they
 * are handed back (or were not ours any more). */
static void
s_drop_sent(lease_t *l, int p)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->nreleases; i++)
        if (!l->releases[i].sent || l->releases[i].partition != p)
            l->releases[kept++] = l->releases[i];
    l->nreleases = kept;
}

static ssize_t
s_release_at(const lease_t *l, const char *ref)
{
    for (size_t i = 0; i < l->nreleases; i++)
        if (strcmp(l->releases[i].ref, ref) == 0)
            return (ssize_t)i;
    return -1;
}

void
lease_release(lease_t *l, const char *ref)
{
    int p = rl_keys_ref_partition(ref);
    if (p < 0 || s_release_at(l, ref) >= 0)
        return; /* malformed: it names no job of ours */
    if (l->nreleases == LEASE_MAX_RELEASES ||
        rl_fmt(l->releases[l->nreleases].ref,
               sizeof l->releases[l->nreleases].ref, "%s", ref) != 0) {
        l->overflow = true; /* the next tick gives the lease up */
        return;
    }
    l->releases[l->nreleases].partition = p;
    l->releases[l->nreleases++].sent = false;
}

void
lease_unrelease(lease_t *l, const char *ref)
{
    ssize_t i = s_release_at(l, ref);
    if (i < 0)
        return;
    l->nreleases--;
    memmove(&l->releases[i], &l->releases[i + 1],
            (l->nreleases - (size_t)i) * sizeof l->releases[0]);
}

/* The round ended: every partition's renewal was answered. */
static void
s_round_over(lease_t *l)
{
    if (l->round_failed)
        return; /* the next tick sends a new round */
    if (l->retired[0] != '\0' && !l->sent_retire)
        return; /* sent before the loss: the retirement must land first */
    l->retired[0] = '\0';
    bool was_ok = lease_ok(l);
    l->ok_until = l->sent_at + l->w->cfg->lease_ms * 9 / 10;
    if (!was_ok) {
        rl_log_info("lease held on every partition");
        if (l->w->on.capacity != NULL)
            l->w->on.capacity(l->w);
    }
}

static void
s_on_renewed(const rl_state_heartbeat_reply_t *rep, void *arg)
{
    lease_call_t *call = arg;
    lease_t *l = call->l;
    l->pending--;
    if (l->destroyed) {
        if (l->pending == 0)
            free(l); /* the worker is stopping: nothing more to do */
        return;
    }
    if (rep->tag != RL_STATE_OK) {
        if (rep->tag == RL_STATE_BAD)
            rl_log_warnx("lease renewal: %s", rep->why);
        s_unsend(l, call->p); /* the next round carries them again */
        l->round_failed = true;
    } else {
        s_drop_sent(l, call->p);
    }
    if (l->pending == 0)
        s_round_over(l);
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
    /* Whatever was to be handed back goes with the retired id. */
    l->nreleases = 0;
    l->overflow = false;
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
    if (l->overflow && l->ok_until != 0 && l->pending == 0) {
        rl_log_warnx("more than %d jobs to hand back: giving the lease up",
                     LEASE_MAX_RELEASES);
        l->ok_until = 1; /* expired: taken as lost below */
    }
    if (l->ok_until != 0 && !lease_ok(l)) {
        l->ok_until = 0;
        rl_log_warnx("lease lost: could not renew within %ld ms",
                     w->cfg->lease_ms);
        if (w->on.lease_lost != NULL)
            w->on.lease_lost(w); /* jobs dropped, credit taken back */
        s_new_owner(l);
    }
    if (l->pending > 0)
        return;
    l->sent_at = rl_clock_mono_ms();
    l->sent_retire = l->retired[0] != '\0';
    l->round_failed = false;
    for (int p = 0; p < RL_PARTITIONS; p++) {
        const char *refs[LEASE_MAX_RELEASES];
        size_t n = 0;
        for (size_t i = 0; i < l->nreleases; i++) {
            if (l->releases[i].partition == p) {
                refs[n++] = l->releases[i].ref;
                l->releases[i].sent = true;
            }
        }
        rl_state_heartbeat_args_t a = {
            .partition = p,
            .worker = w->id,
            .lease_ms = w->cfg->lease_ms,
            .retired = l->retired,
            .max_recoveries = w->cfg->max_recoveries,
            .refs = refs,
            .nrefs = n,
        };
        l->calls[p].l = l;
        l->calls[p].p = p;
        if (rl_state_heartbeat(w->redis, &a, s_on_renewed, &l->calls[p]) == 0) {
            l->pending++;
        } else {
            s_unsend(l, p);
            l->round_failed = true;
        }
    }
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
    /* Renewals in flight call back into the lease (answered NULL at the
     * latest when the Redis client is destroyed): the last frees it. */
    if ((*p)->pending > 0)
        (*p)->destroyed = true;
    else
        free(*p);
    *p = NULL;
}
