/*
 * outbox - claims due outbox entries and records webhook attempts.
 * SPDX-License-Identifier: MIT
 */
#include "outbox.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crash.h"
#include "rl_jobview.h"
#include "rl_keys.h"
#include "rl_log.h"
#include "rl_state_outbox.h"
#include "route.h"

#define S_NUM_LEN 24 /* a decimal long long, its sign and the NUL */

/* Whether snprintf's answer n says the text fit a buffer of len bytes
 * (numbers always fit S_NUM_LEN; checked all the same). */
static bool
s_fit(int n, size_t len)
{
    return n > 0 && (size_t)n < len;
}
#define S_MAX_FIELDS 48 /* job fields an outbox claim reads */
#define S_MAX_REFS 64   /* announced refs claimed in one script call */
_Static_assert(4 + S_MAX_REFS + S_MAX_FIELDS < RL_REDIS_MAX_ARGS,
               "an outbox claim must fit rl_redis_script's arguments");
_Static_assert(OUTBOX_DONE_BATCH <= RL_STATE_DONE_MAX,
               "a batch of records must fit one outbox_done_many");

struct outbox {
    deliverer_t *ctx;    /* the process context */
    outbox_ops_t ops;    /* what it hands up */
    struct event *kick;  /* an early scan when slots free up */
    struct event *flush; /* claims the refs announced this loop turn */
    rl_msg_t *announced[S_MAX_REFS]; /* their COMPLETIONs, owned; each
                                        holds a reserved slot */
    size_t nannounced;
    struct event *done_flush; /* writes the attempts finished this turn */
    struct s_done *done[OUTBOX_DONE_BATCH]; /* those attempts, owned */
    size_t ndone;
    size_t reserved; /* slots held by claims awaiting their
                        answer and by announced refs */
    bool scanning;   /* a scan claim is awaiting its reply */
    bool backlog;    /* the last scan filled every slot */
    bool stopped;    /* draining: no more claims */
};

/* A claim in flight. */
typedef struct {
    outbox_t *ob;               /* its outbox */
    int64_t sent_ms;            /* rl_clock_mono_ms when it was sent: its
                                   lease starts later, when Redis runs it */
    size_t reserved;            /* slots held for it */
    rl_msg_t *msgs[S_MAX_REFS]; /* fast path: the COMPLETIONs of the refs
                                   it claims, owned (none: a scan) */
    size_t nmsgs;
} s_claim_t;

/* A record waiting to be written, then in flight. */
typedef struct s_done {
    outbox_t *ob;      /* its outbox */
    outbox_rec_t *rec; /* owned */
} s_done_t;

/* One outbox_done_many call in flight. */
typedef struct {
    outbox_t *ob;
    s_done_t *done[OUTBOX_DONE_BATCH]; /* owned, in argument order */
    size_t n;
} s_done_batch_t;

/* --- claims ------------------------------------------------------------ */

/* The lease of a claim: the longest attempt (the webhook timeout) plus
 * DELIVERER_LEASE_EXTRA_MS for its wait (parked, or for the claim's
 * reply) and its record. */
static long
s_lease_ms(const rl_config_t *cfg)
{
    return cfg->webhook_timeout_ms + DELIVERER_LEASE_EXTRA_MS;
}

/* Hands one entry claimed by c up to be started. Its attempt must be
 * over DELIVERER_RECORD_MARGIN_MS before the lease, counted from when
 * the claim was sent, ends. */
static void
s_take(outbox_t *ob, const s_claim_t *c, const redisReply *entry)
{
    const char *why = NULL;
    int64_t deadline =
        c->sent_ms + s_lease_ms(ob->ctx->cfg) - DELIVERER_RECORD_MARGIN_MS;
    delivery_t *d = delivery_from_claim(entry, deadline, &why);

    if (d == NULL) {
        ob->ctx->stats.bad_claims++;
        rl_log_warnx("outbox: dropping a claimed entry: %s", why);
        return;
    }
    ob->ops.start(ob->ops.arg, &d);
}

/* Takes every entry of c's reply; returns how many there were, or -1
 * when the reply is not an array (NULL: outcome unknown). */
static long
s_take_all(outbox_t *ob, const s_claim_t *c, const redisReply *reply)
{
    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i < reply->elements; i++)
        s_take(ob, c, reply->element[i]);
    return (long)reply->elements;
}

static void
s_msg_free(rl_msg_t **m)
{
    rl_msg_release(*m);
    free(*m);
    *m = NULL;
}

static void
s_claim_free(s_claim_t *c)
{
    for (size_t i = 0; i < c->nmsgs; i++)
        s_msg_free(&c->msgs[i]);
    free(c);
}

/* Redis could not answer a fast-path claim: its completions are
 * delivered fail-open (the outbox entries stay for a later claim). */
static void
s_claim_fail_open(outbox_t *ob, s_claim_t *c)
{
    for (size_t i = 0; i < c->nmsgs; i++)
        ob->ops.fail_open(ob->ops.arg, c->msgs[i]);
}

static void
s_on_claim(redisReply *reply, void *arg)
{
    s_claim_t *c = arg;
    outbox_t *ob = c->ob;
    long n;

    if (ob->ctx->destroying)
        goto out; /* Redis goes first, then the outbox: leases remain */
    ob->reserved -= c->reserved;
    n = s_take_all(ob, c, reply);
    if (n < 0 && reply != NULL)
        rl_log_warnx("outbox_claim: %s", rl_redis_reply_str(reply)
                                             ? rl_redis_reply_str(reply)
                                             : "unexpected reply");
    if (n < 0)
        s_claim_fail_open(ob, c);
    if (c->nmsgs == 0) {
        ob->scanning = false;
        ob->backlog = route_backlog(n, c->reserved);
    }
    ob->ops.slots_freed(ob->ops.arg);
out:
    s_claim_free(c);
}

/* Sends outbox_claim for up to `limit` due entries: the refs of c's
 * messages, or (none) any due ones; `limit` slots are reserved for it. */
static int
s_claim(outbox_t *ob, s_claim_t *c, size_t limit)
{
    const rl_config_t *cfg = ob->ctx->cfg;
    char lim[S_NUM_LEN], lease[S_NUM_LEN], ttl[S_NUM_LEN], nref[S_NUM_LEN];
    char refs[S_MAX_REFS][RL_KEY_MAX];
    size_t nfields = 0;
    const char *const *fields = rl_jobview_webhook_fields(&nfields);
    const char *argv[4 + S_MAX_REFS + S_MAX_FIELDS] = {lim, lease, ttl, nref};
    int argc = 4;

    assert(nfields <= S_MAX_FIELDS && c->nmsgs <= S_MAX_REFS);
    if (!s_fit(snprintf(nref, sizeof nref, "%zu", c->nmsgs), sizeof nref) ||
        !s_fit(snprintf(lim, sizeof lim, "%zu", limit), sizeof lim) ||
        !s_fit(snprintf(lease, sizeof lease, "%ld", s_lease_ms(cfg)),
               sizeof lease) ||
        !s_fit(snprintf(ttl, sizeof ttl, "%ld", cfg->dedup_ttl_s), sizeof ttl))
        return -1;
    for (size_t i = 0; i < c->nmsgs; i++) {
        if (rl_keys_ref(refs[i], sizeof refs[i], c->msgs[i]->acct,
                        c->msgs[i]->job_id) != 0)
            refs[i][0] = '\0'; /* cannot be: ids were checked on decode */
        argv[argc++] = refs[i];
    }
    memcpy(argv + argc, fields, nfields * sizeof *fields);
    argc += (int)nfields;
    c->sent_ms = rl_clock_mono_ms();
    if (rl_redis_script(ob->ctx->redis, "outbox_claim", s_on_claim, c, 0, argc,
                        argv, NULL) != 0)
        return -1;
    c->reserved = limit;
    ob->reserved += limit;
    return 0;
}

void
outbox_scan(outbox_t *ob)
{
    size_t limit = route_scan(ob->stopped, ob->scanning,
                              rl_redis_connected(ob->ctx->redis),
                              ob->ops.free_slots(ob->ops.arg));
    s_claim_t *c;

    if (limit == 0)
        return;
    c = rl_calloc(1, sizeof *c);
    c->ob = ob;
    if (s_claim(ob, c, limit) != 0) {
        s_claim_free(c);
        return;
    }
    ob->scanning = true;
}

static void
s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    outbox_scan(arg);
}

/* Claims the refs announced since the last flush, in one script call;
 * should Redis refuse the call, they are delivered fail-open. */
static void
s_flush(outbox_t *ob)
{
    s_claim_t *c;
    size_t n = ob->nannounced;

    if (n == 0)
        return;
    c = rl_calloc(1, sizeof *c);
    c->ob = ob;
    memcpy(c->msgs, ob->announced, n * sizeof *ob->announced);
    c->nmsgs = n;
    ob->nannounced = 0;
    ob->reserved -= n; /* s_claim reserves them again */
    if (s_claim(ob, c, n) != 0) {
        s_claim_fail_open(ob, c);
        s_claim_free(c);
    }
}

static void
s_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_flush(arg);
}

void
outbox_claim_ref(outbox_t *ob, rl_msg_t *m)
{
    rl_msg_t *copy;

    assert(m != NULL && m->type == RL_MSG_COMPLETION);
    if (ob->nannounced == S_MAX_REFS)
        s_flush(ob);
    copy = rl_malloc(sizeof *copy);
    *copy = *m; /* moves the owned strings */
    rl_msg_init(m, RL_MSG_COMPLETION);
    ob->announced[ob->nannounced++] = copy;
    ob->reserved++; /* its slot, until the claim answers */
    if (ob->nannounced == 1)
        event_active(ob->flush, EV_TIMEOUT, 0);
}

/* --- deferrals --------------------------------------------------------- */

/* The word route_record() reads from a typed answer. */
static const char *
s_word(const rl_state_done_reply_t *rep)
{
    return rep->tag == RL_STATE_BAD ? rep->why : rl_state_tag_name(rep->tag);
}

static void
s_on_deferred(const rl_state_done_reply_t *rep, void *arg)
{
    const char *word = s_word(rep);

    (void)arg;
    if (route_record(rep->tag != RL_STATE_UNKNOWN, word) == ROUTE_LOST)
        rl_log_warnx("outbox_defer: %s", word ? word : "unexpected reply");
}

void
outbox_defer(outbox_t *ob, delivery_t **d, long delay_ms)
{
    deliverer_t *ctx = ob->ctx;

    assert(d != NULL && *d != NULL && !(*d)->fail_open);
    /* Not sent (Redis away): the claim's lease brings the entry back. */
    (void)rl_state_outbox_defer(ctx->redis, (*d)->acct, (*d)->job, (*d)->token,
                                delay_ms, s_on_deferred, NULL);
    delivery_destroy(d);
}

/* --- records ----------------------------------------------------------- */

outbox_rec_t *
outbox_rec_new(const delivery_t *d, const char *token,
               const attempt_result_t *res)
{
    outbox_rec_t *rec = rl_calloc(1, sizeof *rec);
    const char *status = delivery_field(d, "status");

    rec->ref = rl_strdup(d->ref);
    rec->status = rl_strdup(status != NULL ? status : "");
    rec->token = rl_strdup(token);
    rec->outcome = res->decision.outcome;
    rec->due_mono_ms = rl_clock_mono_ms() + res->decision.delay_ms;
    rec->json = rl_strdup(res->record);
    rec->fail_open = d->fail_open;
    return rec;
}

void
outbox_rec_free(outbox_rec_t **p)
{
    outbox_rec_t *rec;

    if (p == NULL || *p == NULL)
        return;
    rec = *p;
    free(rec->json);
    free(rec->token);
    free(rec->status);
    free(rec->ref);
    free(rec);
    *p = NULL;
}

/* The ids of a record's ref. */
typedef struct {
    char acct[RL_PROTO_MAX_ID + 1];
    char job[RL_PROTO_MAX_ID + 1];
} s_ids_t;

/* Fills out, what outbox_done(_many) records of rec (its strings
 * borrowed from rec and ids). Returns 0, or -1 for a ref that does not
 * parse (never: checked when its delivery was made). */
static int
s_record_of(const deliverer_t *ctx, const outbox_rec_t *rec, s_ids_t *ids,
            rl_state_record_t *out)
{
    int64_t left = rec->due_mono_ms - rl_clock_mono_ms();

    if (rl_keys_parse_ref(rec->ref, ids->acct, sizeof ids->acct, ids->job,
                          sizeof ids->job) != 0)
        return -1;
    *out = (rl_state_record_t){.acct = ids->acct,
                               .job = ids->job,
                               .status = rec->status,
                               .token = rec->token,
                               .outcome = classify_outcome_name(rec->outcome),
                               .delay_ms = left > 0 ? left : 0,
                               .json = rec->json,
                               .dedup_ttl_s = ctx->cfg->dedup_ttl_s,
                               .fail_open = rec->fail_open};
    return 0;
}

const char *
outbox_answer_word(const rl_state_done_reply_t *rep)
{
    return s_word(rep);
}

int
outbox_send_rec(deliverer_t *ctx, const outbox_rec_t *rec, rl_state_done_cb cb,
                void *arg)
{
    s_ids_t ids;
    rl_state_record_t r;

    if (s_record_of(ctx, rec, &ids, &r) != 0 ||
        rl_state_outbox_done(ctx->redis, &r, cb, arg) != 0)
        return -1;
    return 0;
}

static void
s_count(deliverer_t *ctx, classify_outcome_t outcome)
{
    if (outcome == CLASSIFY_DELIVERED)
        ctx->stats.delivered++;
    else if (outcome == CLASSIFY_RETRY)
        ctx->stats.retried++;
    else
        ctx->stats.failed++;
}

/* Hands a record Redis did not take up to be written later. A
 * delivered record is written without its token: the delivery happened,
 * whatever claim holds the entry by then. */
static void
s_keep(outbox_t *ob, outbox_rec_t **rec)
{
    if ((*rec)->outcome == CLASSIFY_DELIVERED)
        (*rec)->token[0] = '\0';
    ob->ops.keep(ob->ops.arg, rec);
}

/* The answer about one record; frees dn. */
static void
s_done_one(const rl_state_done_reply_t *rep, s_done_t *dn)
{
    deliverer_t *ctx = dn->ob->ctx;
    const char *word = s_word(rep);

    if (ctx->destroying)
        goto out;
    switch (route_record(rep->tag != RL_STATE_UNKNOWN, word)) {
    case ROUTE_UNKNOWN:
        s_keep(dn->ob, &dn->rec);
        break;
    case ROUTE_RECORDED:
        s_count(ctx, dn->rec->outcome);
        if (dn->rec->outcome == CLASSIFY_RETRY)
            rl_crash_point("deliverer_between_attempts");
        break;
    case ROUTE_STALE:
        ctx->stats.stale++;
        rl_log_info("outbox_done %s: stale token %s", dn->rec->ref,
                    dn->rec->token);
        break;
    case ROUTE_LOST:
        ctx->stats.records_lost++;
        rl_log_errorx("outbox_done %s: %s", dn->rec->ref,
                      word != NULL ? word : "unexpected reply");
        break;
    }
out:
    outbox_rec_free(&dn->rec);
    free(dn);
}

static void
s_on_done_many(const rl_state_done_many_reply_t *rep, void *arg)
{
    s_done_batch_t *b = arg;
    rl_state_done_reply_t all = {rep->tag, rep->why};

    /* No reply (connection lost, timeout): every record is kept for
     * later. An error reply (the script failed) is each record's answer,
     * so each is counted lost, as one outbox_done of its own would be:
     * keeping them would retry a failing batch forever. */
    for (size_t i = 0; i < b->n; i++)
        s_done_one(rep->tag == RL_STATE_OK ? &rep->each[i] : &all, b->done[i]);
    free(b);
}

/* Writes the attempts finished this loop turn in one call; what Redis
 * cannot be asked for now is handed up to be written later. */
static void
s_flush_done(outbox_t *ob)
{
    deliverer_t *ctx = ob->ctx;
    s_done_batch_t *b;
    s_done_t *done[OUTBOX_DONE_BATCH];
    size_t ndone = ob->ndone;
    s_ids_t ids[OUTBOX_DONE_BATCH];
    rl_state_record_t recs[OUTBOX_DONE_BATCH];

    if (ndone == 0)
        return;
    /* Taken off first: a record handed up is no longer waiting here. */
    memcpy(done, ob->done, ndone * sizeof *done);
    ob->ndone = 0;
    b = rl_calloc(1, sizeof *b);
    b->ob = ob;
    for (size_t i = 0; i < ndone; i++) {
        s_done_t *dn = done[i];
        if (s_record_of(ctx, dn->rec, &ids[b->n], &recs[b->n]) != 0) {
            s_keep(ob, &dn->rec);
            free(dn);
            continue;
        }
        b->done[b->n++] = dn;
    }
    if (b->n > 0 && rl_state_outbox_done_many(ctx->redis, recs, b->n,
                                              s_on_done_many, b) == 0)
        return;
    for (size_t i = 0; i < b->n; i++) {
        s_keep(ob, &b->done[i]->rec);
        free(b->done[i]);
    }
    free(b);
}

static void
s_on_done_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    s_flush_done(arg);
}

void
outbox_record(outbox_t *ob, delivery_t **d, const attempt_result_t *res)
{
    s_done_t *dn = rl_calloc(1, sizeof *dn);

    dn->ob = ob;
    dn->rec = outbox_rec_new(*d, (*d)->token, res);
    delivery_destroy(d);
    /* Redis is away: kept at once, before the caller frees the slot, so
     * that a COMPLETION of this ref waiting for a slot finds the ref
     * handled here and is not delivered fail-open ahead of the retry
     * schedule. */
    if (!rl_redis_connected(ob->ctx->redis)) {
        s_keep(ob, &dn->rec);
        free(dn);
        return;
    }
    if (ob->ndone == OUTBOX_DONE_BATCH)
        s_flush_done(ob);
    ob->done[ob->ndone++] = dn;
    if (ob->ndone == 1)
        event_active(ob->done_flush, EV_TIMEOUT, 0);
    if (ob->backlog && !ob->stopped) {
        struct timeval now = {0, 0};
        evtimer_add(ob->kick, &now);
    }
}

/* --- lifetime ---------------------------------------------------------- */

outbox_t *
outbox_new(deliverer_t *ctx, const outbox_ops_t *ops)
{
    outbox_t *ob = rl_calloc(1, sizeof *ob);

    assert(ops != NULL && ops->free_slots != NULL && ops->start != NULL &&
           ops->fail_open != NULL && ops->keep != NULL &&
           ops->slots_freed != NULL);
    ob->ctx = ctx;
    ob->ops = *ops;
    ob->kick = evtimer_new(ctx->base, s_on_kick, ob);
    ob->flush = event_new(ctx->base, -1, 0, s_on_flush, ob);
    ob->done_flush = event_new(ctx->base, -1, 0, s_on_done_flush, ob);
    if (ob->kick == NULL || ob->flush == NULL || ob->done_flush == NULL) {
        rl_log_errorx("outbox: cannot create its timers");
        outbox_destroy(&ob);
    }
    return ob;
}

void
outbox_stop(outbox_t *ob)
{
    ob->stopped = true;
    event_del(ob->kick);
}

size_t
outbox_reserved(const outbox_t *ob)
{
    return ob->reserved;
}

size_t
outbox_unsent(const outbox_t *ob)
{
    return ob->ndone;
}

void
outbox_destroy(outbox_t **p)
{
    outbox_t *ob;

    if (p == NULL || *p == NULL)
        return;
    ob = *p;
    if (ob->kick != NULL)
        event_free(ob->kick);
    if (ob->flush != NULL)
        event_free(ob->flush);
    if (ob->done_flush != NULL)
        event_free(ob->done_flush);
    for (size_t i = 0; i < ob->ndone; i++) { /* their leases bring them */
        outbox_rec_free(&ob->done[i]->rec);  /* back to another claim */
        free(ob->done[i]);
    }
    for (size_t i = 0; i < ob->nannounced; i++)
        s_msg_free(&ob->announced[i]);
    free(ob);
    *p = NULL;
}
