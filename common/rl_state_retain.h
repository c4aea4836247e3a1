/*
 * rl_state_retain - the typed calls of the retention step's scripts
 * (docs/retention.md; rl_state.h has what they share): retain_due,
 * retain_read, retain_remove, retain_ledger_read, retain_ledger_pop.
 * Each builds every key its script touches (rl_keys.h) and declares it
 * in KEYS, and answers its callback once with the parsed reply, unless
 * it returns -1 (Redis not connected, a key that does not fit, or a ref
 * that is not "A|J"): then the callback is not called.
 *
 * Every call carries the caller's holder id and lock period: each script
 * takes or renews the retention lock first and answers SKIPPED, doing
 * nothing, while another holder has it.
 *
 * Limits: RL_STATE_RETAIN_BATCH jobs a read or removal call,
 * RL_STATE_RETAIN_LEDGER_MAX ledger entries a ledger call (asserted).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_STATE_RETAIN_H
#define RL_STATE_RETAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_keys.h"
#include "rl_redis.h"
#include "rl_state.h"

#define RL_STATE_RETAIN_BATCH 16      /* jobs per read or removal call */
#define RL_STATE_RETAIN_LEDGER_MAX 64 /* ledger entries per call */
/* Longest ref retain_due hands out (it drops longer ones): each part
 * then fits every key builder. */
#define RL_STATE_RETAIN_REF_MAX (RL_KEY_MAX - 64)

/* What every call shares: the partition it works on (every ref and
 * account given must be of it: one of another is refused, -1), who holds
 * its lock, and for how long. */
typedef struct {
    int partition;          /* 0 .. RL_PARTITIONS - 1 */
    const char *holder;     /* the caller's id (broker id) */
    long long lock_ms;      /* the lock lasts this long after each call */
    long long retention_ms; /* [jobs] retention_days, in ms (> 0) */
} rl_state_retain_ctx_t;

/* --- retain_due ------------------------------------------------------ */

/* tag: OK, SKIPPED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;      /* the answer */
    const char *why;         /* BAD: what was wrong */
    long long now;           /* OK: the Redis clock (ms) */
    const redisReply *refs;  /* OK: refs due, the oldest first (strings) */
    const redisReply *accts; /* OK: accounts with ledger work (strings) */
} rl_state_retain_due_reply_t;

typedef void (*rl_state_retain_due_cb)(const rl_state_retain_due_reply_t *rep,
                                       void *arg);

/* Up to max_refs refs of jobs whose retention passed and up to
 * max_accts accounts whose ledger may hold entries to archive; a ref
 * that is not "A|J" or is longer than RL_STATE_RETAIN_REF_MAX is dropped
 * from the index instead. */
int rl_state_retain_due(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                        long long max_refs, long long max_accts,
                        rl_state_retain_due_cb cb, void *arg);

/* --- retain_read ----------------------------------------------------- */

typedef enum {
    RL_RETAIN_READY = 0, /* it may go: its record follows */
    RL_RETAIN_BUSY,      /* not done, or its webhook pending */
    RL_RETAIN_YOUNG,     /* finished within the retention */
    RL_RETAIN_GONE,      /* no longer in Redis */
} rl_state_retain_verdict_t;

/* One job of a read. */
typedef struct {
    rl_state_retain_verdict_t verdict;
    const redisReply *fields; /* READY: HGETALL's array (borrowed) */
    const redisReply *log;    /* READY: its attempt log (borrowed) */
} rl_state_retain_job_t;

/* tag: OK (jobs, n: one per ref asked, in order), SKIPPED, UNKNOWN or
 * BAD (a reply of another shape or length included). */
typedef struct {
    rl_state_tag_t tag;                                /* the answer */
    const char *why;                                   /* BAD: what was wrong */
    rl_state_retain_job_t jobs[RL_STATE_RETAIN_BATCH]; /* OK */
    size_t n;                                          /* OK */
} rl_state_retain_read_reply_t;

typedef void (*rl_state_retain_read_cb)(const rl_state_retain_read_reply_t *rep,
                                        void *arg);

/* The verdict and record of each of refs[0..n) (n at most
 * RL_STATE_RETAIN_BATCH). */
int rl_state_retain_read(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                         const char *const *refs, size_t n,
                         rl_state_retain_read_cb cb, void *arg);

/* --- retain_remove --------------------------------------------------- */

/* How a removal may treat a job. */
typedef enum {
    RL_RETAIN_ANY = 0, /* no archive kept: remove whatever version it is */
    RL_RETAIN_VERSION, /* archived: remove it only as it was archived */
    RL_RETAIN_KEEP,    /* not archived (not ready when read): never remove
                          it; a busy one is moved on, a gone one cleaned */
} rl_state_retain_mode_t;

/* A job to remove and the version of it that was archived. */
typedef struct {
    const char *ref;             /* "A|J" */
    rl_state_retain_mode_t mode; /* above */
    const char *wh_token;        /* VERSION: the fields archived ("" when
                                    absent) */
    const char *wh_attempts;
    const char *wh_state;
} rl_state_retain_victim_t;

/* tag: OK (the four counts), SKIPPED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
    long long removed;  /* gone now */
    long long busy;     /* kept: in flight, webhook pending, young */
    long long changed;  /* kept: changed since its archived copy */
    long long gone;     /* removed before (cleaned up after) */
} rl_state_retain_remove_reply_t;

typedef void (*rl_state_retain_remove_cb)(
    const rl_state_retain_remove_reply_t *rep, void *arg);

/* Removes v[0..n) (n at most RL_STATE_RETAIN_BATCH) that may go; a busy
 * one is looked at again recheck_ms later. */
int rl_state_retain_remove(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                           long long recheck_ms,
                           const rl_state_retain_victim_t *v, size_t n,
                           rl_state_retain_remove_cb cb, void *arg);

/* --- retain_ledger_read ---------------------------------------------- */

/* tag: OK, SKIPPED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag;        /* the answer */
    const char *why;           /* BAD: what was wrong */
    long long archived;        /* OK: the account's ledger_archived */
    const redisReply *entries; /* OK: the oldest entries, oldest first */
} rl_state_retain_ledger_reply_t;

typedef void (*rl_state_retain_ledger_cb)(
    const rl_state_retain_ledger_reply_t *rep, void *arg);

/* Up to max (at most RL_STATE_RETAIN_LEDGER_MAX) of the oldest ledger
 * entries of acct, with its ledger_archived. */
int rl_state_retain_ledger_read(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                                const char *acct, long long max,
                                rl_state_retain_ledger_cb cb, void *arg);

/* --- retain_ledger_pop ----------------------------------------------- */

/* tag: OK (count), CHANGED (a pop ran since the read: nothing done),
 * SKIPPED, UNKNOWN or BAD. */
typedef struct {
    rl_state_tag_t tag; /* the answer */
    const char *why;    /* BAD: what was wrong */
    long long count;    /* OK: entries that may go (check) or went (pop) */
} rl_state_retain_pop_reply_t;

typedef void (*rl_state_retain_pop_cb)(const rl_state_retain_pop_reply_t *rep,
                                       void *arg);

/* Counts (pop false) or moves out (pop true) the entries of acct's
 * ledger tail that may go, of entries[0..n) (at most
 * RL_STATE_RETAIN_LEDGER_MAX, as read, the oldest first), read when its
 * ledger_archived was `archived`. The job each entry names is read from
 * its JSON here, to declare its hash. */
int rl_state_retain_ledger_pop(rl_redis_t *r, const rl_state_retain_ctx_t *x,
                               const char *acct, long long archived, bool pop,
                               const char *const *entries, size_t n,
                               rl_state_retain_pop_cb cb, void *arg);

/* Parsers of the replies above (the calls use them; unit tests too). */
void rl_state_retain_due_parse(const redisReply *r,
                               rl_state_retain_due_reply_t *out);
void rl_state_retain_read_parse(const redisReply *r, size_t n,
                                rl_state_retain_read_reply_t *out);
void rl_state_retain_remove_parse(const redisReply *r,
                                  rl_state_retain_remove_reply_t *out);
void rl_state_retain_ledger_parse(const redisReply *r,
                                  rl_state_retain_ledger_reply_t *out);
void rl_state_retain_pop_parse(const redisReply *r,
                               rl_state_retain_pop_reply_t *out);

#endif
