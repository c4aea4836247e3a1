/*
 * rl_archive - the records of the archive: what a finished job and a
 * ledger entry look like once they leave Redis (docs/retention.md), one
 * JSON object a line, and the same objects `reelay export` prints.
 *
 *   {"type":"job", "id", "acct", "status", "credits" (what it cost: the
 *    charge less its refunds), "created_at", "completed_at",
 *    ["archived_at",] "fields" {every stored field but the history, as
 *    text}, "history" [...], "deliveries" [its attempt log]}
 *   {"type":"ledger", "id" "<acct>:<seq>", "acct", "seq", ["archived_at",]
 *    "entry" {type, credits, balance, job, reason, at}}
 *
 * Times are epoch milliseconds; archived_at is the Redis clock of the
 * round that archived the record (absent in what export reads from
 * Redis). A ledger entry's seq is its place in the account's ledger
 * counted from the first entry ever (1), which never changes
 * (retain_ledger_read.lua): with the account, it names the entry.
 *
 * Reading (rl_archive_parse) takes outside bytes: a line is refused,
 * with a reason, unless it is an object of a known type whose id,
 * account, sequence number and times are present and in bounds; the
 * rest of the object is carried as it is. Ids are 1 to
 * RL_ARCHIVE_ID_MAX - 1 bytes of [A-Za-z0-9_.-].
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ARCHIVE_H
#define RL_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#define RL_ARCHIVE_ID_MAX 65 /* an account or job id, NUL included */
/* A record's dedup key: "j <acct>|<job>" or "l <acct>:<seq>". */
#define RL_ARCHIVE_KEY_MAX (2 * RL_ARCHIVE_ID_MAX + 24)

typedef enum {
    RL_ARCHIVE_JOB = 0, /* a job */
    RL_ARCHIVE_LEDGER,  /* a ledger entry */
} rl_archive_kind_t;

/* A record read back (rl_archive_parse). */
typedef struct {
    rl_archive_kind_t kind;       /* which */
    char key[RL_ARCHIVE_KEY_MAX]; /* what duplicates share */
    int64_t at;                   /* a job's created_at, an entry's at */
    int64_t archived_at;          /* 0 when absent */
    json_t *obj;                  /* the whole object (owned) */
} rl_archive_rec_t;

/* The record of job `job` of account `acct` from its stored fields
 * (fields: HGETALL's array) and attempt log (log: LRANGE's array; NULL
 * for none); archived_at 0 leaves it out. Elements that are not strings
 * are skipped; the history and each attempt are kept as parsed JSON
 * when they are JSON, as text otherwise. Returns a new reference (caller
 * owns). */
json_t *rl_archive_job(const char *acct, const char *job,
                       const redisReply *fields, const redisReply *log,
                       int64_t archived_at);

/* The record of ledger entry `text` (as stored: JSON, kept as text when
 * it is not) of account acct at sequence number seq. Returns a new
 * reference (caller owns). */
json_t *rl_archive_ledger(const char *acct, long long seq, const char *text,
                          int64_t archived_at);

/* The dedup key of job or entry: "j acct|job", "l acct:seq". Returns 0,
 * or -1 when an id is not one (too long, or outside the charset). */
int rl_archive_key_job(char key[static RL_ARCHIVE_KEY_MAX], const char *acct,
                       const char *job);
int rl_archive_key_ledger(char key[static RL_ARCHIVE_KEY_MAX], const char *acct,
                          long long seq);

/* Parses one line (len bytes, no newline, not NUL-terminated) into rec.
 * Returns 0 (rec->obj owned by the caller: rl_archive_rec_release), or
 * -1 with a reason in why and nothing to release. */
int rl_archive_parse(const char *line, size_t len, rl_archive_rec_t *rec,
                     char *why, size_t why_len);

/* Releases what rl_archive_parse gave rec. NULL-safe, idempotent. */
void rl_archive_rec_release(rl_archive_rec_t *rec);

#endif
