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
#include "keycache.h"
#include "route.h"

#define S_MAX_FIELDS 48 /* job fields an outbox claim reads */
#define S_ANNOUNCED 64  /* refs announced in one loop turn, at most */
#define S_MAX_REFS RL_STATE_CLAIM_MAX /* refs claimed in one script call */
_Static_assert(1 + 4 * S_MAX_REFS + 3 + 2 * S_MAX_REFS + S_MAX_FIELDS <
                   RL_REDIS_MAX_ARGS,
               "an outbox claim must fit rl_redis_script's arguments");
_Static_assert(OUTBOX_DONE_BATCH <= RL_STATE_DONE_MAX,
               "a batch of records must fit one outbox_done_many");

struct outbox {
    deliverer_t *ctx;    /* the process context */
    outbox_ops_t ops;    /* what it hands up */
    struct event *kick;  /* an early scan when slots free up */
    struct event *flush; /* claims the refs announced this loop turn */
    rl_msg_t *announced[S_ANNOUNCED]; /* their COMPLETIONs, owned; each
                                         holds a reserved slot */
    size_t nannounced;
    struct event *done_flush; /* writes the attempts finished this turn */
    struct s_done *done[OUTBOX_DONE_BATCH]; /* those attempts, owned */
    size_t ndone;
    size_t reserved;  /* slots held by claims awaiting their
                         answer and by announced refs */
    bool scanning;    /* a scan is going round the partitions */
    int scan_next;    /* the partition the next scan step reads */
    int scan_left;    /* partitions the scan has still to read */
    bool scan_full;   /* one of its claims filled every slot it asked */
    bool backlog;     /* the last scan filled every slot */
    keycache_t *keys; /* signing keys read, by key hash */
    bool stopped;     /* draining: no more claims */
};

/* A claim in flight: a scan's (outbox_due, then outbox_claim) or the
 * fast path's (outbox_claim of announced refs), of one partition. */
typedef struct {
    outbox_t *ob;               /* its outbox */
    int partition;              /* the partition it claims in */
    int64_t sent_ms;            /* rl_clock_mono_ms when it was sent: its
                                   lease starts later, when Redis runs it */
    size_t reserved;            /* slots held for it */
    rl_msg_t *msgs[S_MAX_REFS]; /* fast path: the COMPLETIONs of the refs
                                   it claims, owned (none: a scan) */
    size_t nmsgs;
    delivery_t *waiting[RL_STATE_CLAIM_MAX]; /* claimed, waiting for the
                                   read of their signing key, owned */
    size_t nwaiting;
    int fetching; /* reads of signing keys in flight */
} s_claim_t;

/* The read of one signing key for a claim. */
typedef struct {
    s_claim_t *c;
    char *key_hash; /* owned */
} s_fetch_t;

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

static void s_scan_step(outbox_t *ob);

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
    for (size_t i = 0; i < c->nwaiting; i++)
        delivery_destroy(&c->waiting[i]);
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

/* Starts *d once its signing key is known: now when it is kept (or the
 * claim named none), else after the read of its key record (s_fetch). */
static void
s_start_signed(outbox_t *ob, s_claim_t *c, delivery_t **d)
{
    const char *sealed =
        (*d)->key_hash[0] != '\0' ? keycache_get(ob->keys, (*d)->key_hash) : "";
    if (sealed != NULL) {
        delivery_set_sign_key(*d, sealed);
        ob->ops.start(ob->ops.arg, d);
        return;
    }
    /* One entry per ref claimed, at most S_MAX_REFS: a longer reply
     * is not the script's. */
    if (c->nwaiting == S_MAX_REFS) {
        ob->ctx->stats.bad_claims++;
        delivery_destroy(d);
        return;
    }
    c->waiting[c->nwaiting++] = *d;
    *d = NULL;
}

/* Hands one entry claimed by c up to be started. Its attempt must be
 * over DELIVERER_RECORD_MARGIN_MS before the lease, counted from when
 * the claim was sent, ends. */
static void
s_take(outbox_t *ob, s_claim_t *c, const redisReply *entry)
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
    s_start_signed(ob, c, &d);
}

static void
s_on_sealed(const rl_state_sealed_reply_t *rep, void *arg)
{
    s_fetch_t *f = arg;
    s_claim_t *c = f->c;
    outbox_t *ob = c->ob;
    if (rep->tag == RL_STATE_OK && !ob->ctx->destroying)
        keycache_put(ob->keys, f->key_hash, rep->sealed);
    free(f->key_hash);
    free(f);
    if (--c->fetching > 0)
        return;
    for (size_t i = 0; i < c->nwaiting && !ob->ctx->destroying; i++) {
        delivery_t *d = c->waiting[i];
        const char *sealed = keycache_get(ob->keys, d->key_hash);
        c->waiting[i] = NULL;
        if (sealed == NULL) {
            /* Unread: the claim's lease brings the entry back. */
            rl_log_warnx("outbox: signing key of %s not read; retried after "
                         "its claim's lease",
                         d->ref);
            delivery_destroy(&d);
            continue;
        }
        delivery_set_sign_key(d, sealed);
        ob->ops.start(ob->ops.arg, &d);
    }
    s_claim_free(c);
}

/* Reads the signing key of each delivery waiting in c (each key once).
 * Returns true when c waits for reads (it is freed by the last). */
static bool
s_fetch_keys(outbox_t *ob, s_claim_t *c)
{
    for (size_t i = 0; i < c->nwaiting; i++) {
        const char *h = c->waiting[i]->key_hash;
        bool asked = false;
        for (size_t j = 0; j < i && !asked; j++)
            asked = strcmp(c->waiting[j]->key_hash, h) == 0;
        if (asked)
            continue;
        s_fetch_t *f = rl_calloc(1, sizeof *f);
        f->c = c;
        f->key_hash = rl_strdup(h);
        if (rl_state_key_sealed(ob->ctx->redis, h, s_on_sealed, f) == 0) {
            c->fetching++;
        } else {
            free(f->key_hash);
            free(f);
        }
    }
    return c->fetching > 0;
}

static void
s_on_claim(const rl_state_list_reply_t *rep, void *arg)
{
    s_claim_t *c = arg;
    outbox_t *ob = c->ob;
    long n = -1;

    if (ob->ctx->destroying) {
        s_claim_free(c); /* Redis goes first, then the outbox: leases remain */
        return;
    }
    ob->reserved -= c->reserved;
    if (rep->tag == RL_STATE_OK) {
        n = (long)rep->list->elements;
        for (size_t i = 0; i < rep->list->elements; i++)
            s_take(ob, c, rep->list->element[i]);
    } else if (rep->tag == RL_STATE_BAD) {
        rl_log_warnx("outbox_claim: %s", rep->why);
    }
    if (n < 0)
        s_claim_fail_open(ob, c);
    bool scan = c->nmsgs == 0;
    if (scan && route_backlog(n, c->reserved))
        ob->scan_full = true;
    if (!s_fetch_keys(ob, c))
        s_claim_free(c);
    ob->ops.slots_freed(ob->ops.arg);
    if (scan)
        s_scan_step(ob);
}

/* Sends outbox_claim for refs (of c's partition); `limit` slots are
 * reserved for it. */
static int
s_claim(outbox_t *ob, s_claim_t *c, const char *const *refs, size_t n,
        size_t limit)
{
    const rl_config_t *cfg = ob->ctx->cfg;
    size_t nfields = 0;
    const char *const *fields = rl_jobview_webhook_fields(&nfields);

    assert(nfields <= S_MAX_FIELDS && n <= S_MAX_REFS);
    rl_state_oclaim_args_t a = {
        .partition = c->partition,
        .refs = refs,
        .nrefs = n,
        .lease_ms = s_lease_ms(cfg),
        .dedup_ttl_s = cfg->dedup_ttl_s,
        .fields = fields,
        .nfields = nfields,
    };
    c->sent_ms = rl_clock_mono_ms();
    if (rl_state_outbox_claim(ob->ctx->redis, &a, s_on_claim, c) != 0)
        return -1;
    c->reserved = limit;
    ob->reserved += limit;
    return 0;
}

/* A scan step's read of its partition's due entries was answered: it
 * claims them, or goes on to the next partition. */
static void
s_on_due(const rl_state_list_reply_t *rep, void *arg)
{
    s_claim_t *c = arg;
    outbox_t *ob = c->ob;
    const char *refs[S_MAX_REFS];
    size_t n = 0;

    if (ob->ctx->destroying) {
        s_claim_free(c);
        return;
    }
    ob->reserved -= c->reserved;
    size_t limit = c->reserved;
    c->reserved = 0;
    for (size_t i = 0;
         rep->tag == RL_STATE_OK && i < rep->list->elements && n < S_MAX_REFS;
         i++) {
        const char *ref = rl_redis_reply_str(rep->list->element[i]);
        if (ref != NULL)
            refs[n++] = ref;
    }
    if (rep->tag == RL_STATE_BAD)
        rl_log_warnx("outbox_due: %s", rep->why);
    if (rep->tag != RL_STATE_OK) {
        free(c);
        ob->scan_left = 0; /* Redis away: the next period scans again */
        s_scan_step(ob);
        return;
    }
    if (n == 0 || s_claim(ob, c, refs, n, limit) != 0) {
        free(c);
        s_scan_step(ob);
    }
}

/* The scan's next step: the due entries of the next partition, up to
 * the free slots; the scan ends once every partition was read or no
 * slot is left. */
static void
s_scan_step(outbox_t *ob)
{
    while (ob->scan_left > 0 && !ob->stopped) {
        size_t limit = ob->ops.free_slots(ob->ops.arg);
        if (limit == 0)
            break;
        if (limit > S_MAX_REFS)
            limit = S_MAX_REFS;
        s_claim_t *c = rl_calloc(1, sizeof *c);
        c->ob = ob;
        c->partition = ob->scan_next;
        ob->scan_next = (ob->scan_next + 1) % RL_PARTITIONS;
        ob->scan_left--;
        if (rl_state_outbox_due(ob->ctx->redis, c->partition, (long long)limit,
                                s_on_due, c) == 0) {
            c->reserved = limit;
            ob->reserved += limit;
            return;
        }
        free(c);
        ob->scan_left = 0;
    }
    ob->scanning = false;
    ob->backlog = ob->scan_full;
}

void
outbox_scan(outbox_t *ob)
{
    size_t limit = route_scan(ob->stopped, ob->scanning,
                              rl_redis_connected(ob->ctx->redis),
                              ob->ops.free_slots(ob->ops.arg));

    if (limit == 0)
        return;
    ob->scanning = true;
    ob->scan_full = false;
    ob->scan_left = RL_PARTITIONS;
    s_scan_step(ob);
}

static void
s_on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    outbox_scan(arg);
}

/* Claims the refs announced since the last flush, one script call per
 * partition; should Redis refuse a call, its refs are delivered
 * fail-open. */
static void
s_flush(outbox_t *ob)
{
    size_t n = ob->nannounced;
    rl_msg_t *msgs[S_ANNOUNCED];

    if (n == 0)
        return;
    memcpy(msgs, ob->announced, n * sizeof *msgs);
    ob->nannounced = 0;
    ob->reserved -= n; /* s_claim reserves them again */
    for (int p = 0; p < RL_PARTITIONS; p++) {
        s_claim_t *c = NULL;
        char refs[S_MAX_REFS][RL_KEY_MAX];
        const char *rp[S_MAX_REFS];
        for (size_t i = 0; i < n; i++) {
            if (msgs[i] == NULL || rl_keys_partition(msgs[i]->acct) != p)
                continue;
            if (c == NULL) {
                c = rl_calloc(1, sizeof *c);
                c->ob = ob;
                c->partition = p;
            }
            if (rl_keys_ref(refs[c->nmsgs], sizeof refs[c->nmsgs],
                            msgs[i]->acct, msgs[i]->job_id) != 0)
                refs[c->nmsgs][0] = '\0'; /* cannot be: ids were checked */
            rp[c->nmsgs] = refs[c->nmsgs];
            c->msgs[c->nmsgs++] = msgs[i];
            msgs[i] = NULL;
            if (c->nmsgs == S_MAX_REFS) {
                if (s_claim(ob, c, rp, c->nmsgs, c->nmsgs) != 0) {
                    s_claim_fail_open(ob, c);
                    s_claim_free(c);
                }
                c = NULL;
            }
        }
        if (c != NULL && s_claim(ob, c, rp, c->nmsgs, c->nmsgs) != 0) {
            s_claim_fail_open(ob, c);
            s_claim_free(c);
        }
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
    if (ob->nannounced == S_ANNOUNCED)
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
    s_done_t *done[OUTBOX_DONE_BATCH];
    size_t ndone = ob->ndone;

    if (ndone == 0)
        return;
    /* Taken off first: a record handed up is no longer waiting here. */
    memcpy(done, ob->done, ndone * sizeof *done);
    ob->ndone = 0;
    /* One call per partition (a script's keys share its slot). */
    for (int p = 0; p < RL_PARTITIONS; p++) {
        s_done_batch_t *b = NULL;
        s_ids_t ids[OUTBOX_DONE_BATCH];
        rl_state_record_t recs[OUTBOX_DONE_BATCH];
        for (size_t i = 0; i < ndone; i++) {
            s_done_t *dn = done[i];
            if (dn == NULL)
                continue;
            int rp = rl_keys_ref_partition(dn->rec->ref);
            if (rp >= 0 && rp != p)
                continue;
            done[i] = NULL;
            if (rp < 0 || s_record_of(ctx, dn->rec, &ids[b ? b->n : 0],
                                      &recs[b ? b->n : 0]) != 0) {
                s_keep(ob, &dn->rec);
                free(dn);
                continue;
            }
            if (b == NULL) {
                b = rl_calloc(1, sizeof *b);
                b->ob = ob;
            }
            b->done[b->n++] = dn;
        }
        if (b == NULL)
            continue;
        if (rl_state_outbox_done_many(ctx->redis, recs, b->n, s_on_done_many,
                                      b) == 0)
            continue;
        for (size_t i = 0; i < b->n; i++) {
            s_keep(ob, &b->done[i]->rec);
            free(b->done[i]);
        }
        free(b);
    }
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
    ob->keys = keycache_new();
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
    keycache_destroy(&ob->keys);
    free(ob);
    *p = NULL;
}
