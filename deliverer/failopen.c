/*
 * failopen - deliveries and attempt records kept while Redis is away.
 * SPDX-License-Identifier: MIT
 */
#include "failopen.h"

#include <assert.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_log.h"
#include "route.h"

#define S_FLUSH_BATCH 256 /* outbox_done commands in flight at most */

typedef struct s_rec {
    STAILQ_ENTRY(s_rec) link; /* in entry->recs, oldest first */
    outbox_rec_t *rec;        /* owned */
} s_rec_t;

typedef struct s_entry {
    TAILQ_ENTRY(s_entry) link;    /* in fo->entries */
    TAILQ_ENTRY(s_entry) pending; /* in fo->pending while queued */
    failopen_t *fo;               /* owner */
    char *ref;                    /* tree key, owned */
    delivery_t *d;                /* WAITING for its next attempt */
    struct event *timer;          /* when that attempt is due */
    bool in_air;                  /* an attempt of it is out */
    bool queued;                  /* on fo->pending */
    bool flushing;                /* its head record is being written */
    STAILQ_HEAD(, s_rec) recs;    /* records not written yet */
    size_t nrecs;                 /* entries of recs */
} s_entry_t;

struct failopen {
    deliverer_t *ctx;              /* the process context */
    failopen_ops_t ops;            /* what it hands up */
    void *root;                    /* tsearch tree of entries by ref */
    TAILQ_HEAD(, s_entry) entries; /* every entry */
    TAILQ_HEAD(, s_entry) pending; /* entries with records to write */
    size_t n;                      /* entries */
    size_t nrecs;                  /* records over all entries */
    size_t nflushing;              /* outbox_done in flight */
};

static void s_pump(failopen_t *fo);

/* --- entries ----------------------------------------------------------- */

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(((const s_entry_t *)a)->ref, ((const s_entry_t *)b)->ref);
}

static s_entry_t *
s_find(const failopen_t *fo, const char *ref)
{
    s_entry_t key;
    void *const *node;

    key.ref = (char *)ref;
    node = tfind(&key, &fo->root, s_cmp);
    return node != NULL ? *node : NULL;
}

static void s_on_timer(evutil_socket_t fd, short what, void *arg);

/* A new entry for ref, or NULL when the store is full. */
static s_entry_t *
s_entry_new(failopen_t *fo, const char *ref)
{
    s_entry_t *e;

    if (fo->n >= FAILOPEN_CAP)
        return NULL;
    e = rl_calloc(1, sizeof *e);
    e->fo = fo;
    e->ref = rl_strdup(ref);
    STAILQ_INIT(&e->recs);
    e->timer = evtimer_new(fo->ctx->base, s_on_timer, e);
    if (e->timer == NULL || tsearch(e, &fo->root, s_cmp) == NULL) {
        rl_log_errorx("failopen: out of memory");
        abort();
    }
    TAILQ_INSERT_TAIL(&fo->entries, e, link);
    fo->n++;
    return e;
}

static void
s_entry_free(s_entry_t *e)
{
    failopen_t *fo = e->fo;
    s_rec_t *r;

    tdelete(e, &fo->root, s_cmp);
    TAILQ_REMOVE(&fo->entries, e, link);
    if (e->queued)
        TAILQ_REMOVE(&fo->pending, e, pending);
    fo->n--;
    while ((r = STAILQ_FIRST(&e->recs)) != NULL) {
        STAILQ_REMOVE_HEAD(&e->recs, link);
        outbox_rec_free(&r->rec);
        free(r);
        fo->nrecs--;
    }
    event_free(e->timer);
    delivery_destroy(&e->d);
    free(e->ref);
    free(e);
}

/* Frees an entry that has nothing left to do. */
static void
s_maybe_free(s_entry_t *e)
{
    if (e->d == NULL && !e->in_air && !e->flushing && e->nrecs == 0)
        s_entry_free(e);
}

static void
s_queue(s_entry_t *e, bool front)
{
    if (e->queued || e->flushing || e->nrecs == 0)
        return;
    if (front)
        TAILQ_INSERT_HEAD(&e->fo->pending, e, pending);
    else
        TAILQ_INSERT_TAIL(&e->fo->pending, e, pending);
    e->queued = true;
}

static void
s_push(s_entry_t *e, outbox_rec_t **rec)
{
    s_rec_t *r = rl_calloc(1, sizeof *r);

    r->rec = *rec;
    *rec = NULL;
    STAILQ_INSERT_TAIL(&e->recs, r, link);
    e->nrecs++;
    e->fo->nrecs++;
    s_queue(e, false);
}

/* --- writing records --------------------------------------------------- */

/* Counts the answer to a record written (not UNKNOWN: that one is
 * written again), as outbox.c counts its own. */
static void
s_count(deliverer_t *ctx, const rl_state_done_reply_t *rep,
        const outbox_rec_t *rec)
{
    const char *word = outbox_answer_word(rep);

    switch (route_record(true, word)) {
    case ROUTE_RECORDED:
        if (rec->outcome == CLASSIFY_DELIVERED)
            ctx->stats.delivered++;
        else if (rec->outcome == CLASSIFY_RETRY)
            ctx->stats.retried++;
        else
            ctx->stats.failed++;
        break;
    case ROUTE_STALE:
        ctx->stats.stale++; /* said as outbox.c says it */
        rl_log_info("outbox_done %s (kept): stale token %s", rec->ref,
                    rec->token);
        break;
    case ROUTE_LOST:
    case ROUTE_UNKNOWN:
        ctx->stats.records_lost++;
        rl_log_errorx("outbox_done %s (kept): %s", rec->ref,
                      word != NULL ? word : "unexpected reply");
        break;
    }
}

static void
s_on_written(const rl_state_done_reply_t *rep, void *arg)
{
    s_entry_t *e = arg;
    failopen_t *fo = e->fo;
    deliverer_t *ctx = fo->ctx;
    s_rec_t *r;

    if (ctx->destroying)
        return; /* failopen_destroy frees the entry */
    e->flushing = false;
    fo->nflushing--;
    if (rep->tag == RL_STATE_UNKNOWN) {
        s_queue(e, true); /* outcome unknown: written again later */
        return;
    }
    r = STAILQ_FIRST(&e->recs);
    s_count(ctx, rep, r->rec);
    STAILQ_REMOVE_HEAD(&e->recs, link);
    e->nrecs--;
    fo->nrecs--;
    outbox_rec_free(&r->rec);
    free(r);
    s_queue(e, false);
    s_maybe_free(e);
    s_pump(fo);
}

/* Writes head records of queued entries, up to S_FLUSH_BATCH at once. */
static void
s_pump(failopen_t *fo)
{
    s_entry_t *e;

    while (fo->nflushing < S_FLUSH_BATCH &&
           rl_redis_connected(fo->ctx->redis) &&
           (e = TAILQ_FIRST(&fo->pending)) != NULL) {
        TAILQ_REMOVE(&fo->pending, e, pending);
        e->queued = false;
        if (outbox_send_rec(fo->ctx, STAILQ_FIRST(&e->recs)->rec, s_on_written,
                            e) != 0) {
            s_queue(e, true);
            return;
        }
        e->flushing = true;
        fo->nflushing++;
    }
}

void
failopen_flush(failopen_t *fo)
{
    s_pump(fo);
}

/* --- attempts ---------------------------------------------------------- */

static void
s_arm(s_entry_t *e, long ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

    evtimer_add(e->timer, &tv);
}

/* Starts the waiting attempt when a slot is free and its host admits
 * it (per-host cap and breaker, as for claimed deliveries), else waits a
 * little, or for the host's cool-down. */
static void
s_try_start(s_entry_t *e)
{
    failopen_t *fo = e->fo;
    deliverer_t *ctx = fo->ctx;
    long wait_ms = 0;

    if (fo->ops.free_slots(fo->ops.arg) == 0) {
        s_arm(e, FAILOPEN_SLOT_WAIT_MS);
        return;
    }
    e->in_air = true;
    if (!fo->ops.start(fo->ops.arg, &e->d, &wait_ms)) {
        e->in_air = false;
        ctx->stats.fail_open_waits++;
        s_arm(e, wait_ms > FAILOPEN_SLOT_WAIT_MS ? wait_ms
                                                 : FAILOPEN_SLOT_WAIT_MS);
    }
}

/* The next attempt is due. Once Redis has taken every record (so it
 * holds this retry on its own schedule) the outbox entry takes over; a
 * connection alone is no proof, as a stalled server still accepts
 * connections. While draining the attempt is left to the outbox. */
static void
s_on_timer(evutil_socket_t fd, short what, void *arg)
{
    s_entry_t *e = arg;
    deliverer_t *ctx = e->fo->ctx;

    (void)fd;
    (void)what;
    if (ctx->stopping || (e->nrecs == 0 && rl_redis_connected(ctx->redis))) {
        delivery_destroy(&e->d);
        s_maybe_free(e);
        return;
    }
    s_try_start(e);
}

void
failopen_add(failopen_t *fo, const rl_msg_t *m)
{
    deliverer_t *ctx = fo->ctx;
    const char *why = NULL;
    const char *url;
    delivery_t *d;
    s_entry_t *e;

    if (ctx->stopping)
        return;
    d = delivery_from_msg(m, &why);
    if (d == NULL) {
        ctx->stats.bad_messages++;
        rl_log_warnx("completion %s: unusable: %s", m->job_id, why);
        return;
    }
    url = delivery_field(d, "webhook_url");
    if (url == NULL || *url == '\0' || s_find(fo, d->ref) != NULL)
        goto drop;
    e = s_entry_new(fo, d->ref);
    if (e == NULL) {
        ctx->stats.fail_open_dropped++;
        rl_log_warnx("job %s: Redis unavailable and %d fail-open deliveries "
                     "kept; left to the outbox",
                     d->job, FAILOPEN_CAP);
        goto drop;
    }
    ctx->stats.fail_open++;
    rl_log_warnx("job %s: Redis unavailable; delivering fail-open "
                 "(attempt %d)",
                 d->job, d->attempt);
    e->d = d;
    s_try_start(e);
    return;
drop:
    delivery_destroy(&d);
}

void
failopen_on_result(failopen_t *fo, delivery_t **d, const attempt_result_t *res)
{
    deliverer_t *ctx = fo->ctx;
    s_entry_t *e = s_find(fo, (*d)->ref);
    outbox_rec_t *rec;

    assert(e != NULL && e->in_air && e->d == NULL);
    e->in_air = false;
    rec = outbox_rec_new(*d, "", res);
    s_push(e, &rec);
    if (res->decision.outcome == CLASSIFY_RETRY && !ctx->stopping) {
        e->d = *d;
        *d = NULL;
        e->d->attempt++;
        s_arm(e, res->decision.delay_ms);
    }
    delivery_destroy(d);
    s_pump(fo);
    s_maybe_free(e);
}

void
failopen_keep(failopen_t *fo, outbox_rec_t **rec)
{
    s_entry_t *e = s_find(fo, (*rec)->ref);

    if (e == NULL)
        e = s_entry_new(fo, (*rec)->ref);
    if (e == NULL) {
        fo->ctx->stats.records_lost++;
        rl_log_warnx("%s: attempt record lost, %d kept already", (*rec)->ref,
                     FAILOPEN_CAP);
        outbox_rec_free(rec);
        return;
    }
    rl_log_info("%s: attempt record kept until Redis answers", e->ref);
    s_push(e, rec);
    s_pump(fo);
}

/* --- lifetime ---------------------------------------------------------- */

bool
failopen_has(const failopen_t *fo, const char *ref)
{
    return fo->n > 0 && s_find(fo, ref) != NULL;
}

size_t
failopen_records(const failopen_t *fo)
{
    return fo->nrecs;
}

failopen_t *
failopen_new(deliverer_t *ctx, const failopen_ops_t *ops)
{
    failopen_t *fo = rl_calloc(1, sizeof *fo);

    assert(ops != NULL && ops->free_slots != NULL && ops->start != NULL);
    fo->ctx = ctx;
    fo->ops = *ops;
    TAILQ_INIT(&fo->entries);
    TAILQ_INIT(&fo->pending);
    return fo;
}

void
failopen_stop(failopen_t *fo)
{
    s_entry_t *e;
    s_entry_t *next;

    for (e = TAILQ_FIRST(&fo->entries); e != NULL; e = next) {
        next = TAILQ_NEXT(e, link);
        if (e->d != NULL) {
            evtimer_del(e->timer);
            delivery_destroy(&e->d);
            s_maybe_free(e);
        }
    }
}

void
failopen_destroy(failopen_t **p)
{
    failopen_t *fo;
    s_entry_t *e;

    if (p == NULL || *p == NULL)
        return;
    fo = *p;
    if (fo->nrecs > 0)
        rl_log_warnx("failopen: %zu attempt records never written", fo->nrecs);
    while ((e = TAILQ_FIRST(&fo->entries)) != NULL)
        s_entry_free(e);
    free(fo);
    *p = NULL;
}
