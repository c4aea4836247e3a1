/*
 * export - `reelay export`. Redis is read first, then the archive, so a
 * record the retention step moves out meanwhile is met in one or the
 * other (it is archived before it leaves Redis): never in neither.
 *
 * Each record is written once, keyed as rl_archive_key_*() says: a
 * record read from Redis wins; among archived copies (a crash between
 * the archive write and the removal leaves one more, docs/retention.md)
 * the one archived last wins, found by a first pass over the archive
 * and written by a second. The keys seen are held in memory (a jansson
 * object as the set): memory grows with the records exported.
 *
 * Archive lines are outside input: one that is not a record
 * (rl_archive_parse) or longer than RL_ARCHIVE_LINE_MAX is skipped,
 * named on stderr (the first EXPORT_MAX_REPORTS) and counted in the
 * summary; the export goes on.
 * SPDX-License-Identifier: MIT
 */
#include "export.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rl_alloc.h"
#include "rl_archive.h"
#include "rl_archive_file.h"
#include "rl_date.h"
#include "rl_fmt.h"
#include "rl_jobview.h"
#include "rl_keys.h"

#define EXPORT_PAGE 256       /* jobs read from Redis a round trip */
#define EXPORT_MAX_REPORTS 20 /* bad lines named on stderr */
#define EXPORT_LEDGER_TRIES 5 /* reads of a ledger that moved meanwhile */
#define EXPORT_WHY_LEN 256

typedef struct {
    int64_t since, until;                 /* [since, until) */
    char dirs[EXPORT_MAX_DIRS][PATH_MAX]; /* the archive directories */
    int ndirs;                            /* how many */
    json_t *seen;                         /* key -> archived_at, -1 once
                                             written */
    size_t jobs, entries, from_redis;     /* written */
    size_t dups, bad, files;              /* skipped; files read */
    bool out_failed;                      /* stdout refused a write */
} export_t;

static const char *const s_date_help =
    "a date is YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
    "YYYY-MM-DDTHH:MM:SS.mmmZ (UTC)";

/* --- options -------------------------------------------------------------- */

static int
s_check(const rl_config_t *cfg, const export_args_t *a, export_t *x)
{
    x->until = INT64_MAX;
    if (a->since == NULL) {
        fprintf(stderr, "reelay export: --since DATE is required (%s)\n",
                s_date_help);
        return 2;
    }
    const char *opt = NULL, *bad = NULL;
    if (rl_date_parse(a->since, &x->since) != 0) {
        opt = "since";
        bad = a->since;
    } else if (a->until != NULL && rl_date_parse(a->until, &x->until) != 0) {
        opt = "until";
        bad = a->until;
    }
    if (bad != NULL) {
        fprintf(stderr, "reelay export: --%s '%s' is not a date (%s)\n", opt,
                bad, s_date_help);
        return 2;
    }
    if (x->until <= x->since) {
        fprintf(stderr, "reelay export: --until must be after --since\n");
        return 2;
    }
    if (a->ndirs == 0) {
        /* The default: this host's archive, when it has one yet. */
        if (rl_fmt(x->dirs[0], PATH_MAX, "%s/" RL_ARCHIVE_DIR, cfg->data_dir) !=
            0) {
            fprintf(stderr, "reelay export: [launcher] data_dir too long\n");
            return 2;
        }
        DIR *d = opendir(x->dirs[0]);
        x->ndirs = d != NULL ? 1 : 0;
        if (d != NULL)
            closedir(d);
        return 0;
    }
    for (int i = 0; i < a->ndirs; i++) {
        DIR *d = opendir(a->dirs[i]);
        if (d == NULL || rl_fmt(x->dirs[i], PATH_MAX, "%s", a->dirs[i]) != 0) {
            fprintf(stderr, "reelay export: --archive-dir '%s': %s\n",
                    a->dirs[i], d == NULL ? strerror(errno) : "too long");
            if (d != NULL)
                closedir(d);
            return 2;
        }
        closedir(d);
    }
    x->ndirs = a->ndirs;
    return 0;
}

int
export_check(const rl_config_t *cfg, const export_args_t *a)
{
    export_t *x = rl_calloc(1, sizeof *x); /* 64 KB of paths */
    int rc = s_check(cfg, a, x);
    free(x);
    return rc;
}

/* --- output --------------------------------------------------------------- */

/* Writes o (a reference taken) as one line, counted by its kind. */
static void
s_write(export_t *x, json_t *o, rl_archive_kind_t kind)
{
    if (o == NULL)
        return;
    if (json_dumpf(o, stdout, JSON_COMPACT) != 0 || fputc('\n', stdout) < 0)
        x->out_failed = true;
    json_decref(o);
    if (kind == RL_ARCHIVE_JOB)
        x->jobs++;
    else
        x->entries++;
}

static bool
s_in_range(const export_t *x, int64_t at)
{
    return at >= x->since && at < x->until;
}

/* --- Redis ---------------------------------------------------------------- */

/* One page of jobs of acct (ids), each with its attempt log. */
static int
s_job_page(rl_rsync_t *c, export_t *x, const char *acct, const redisReply *ids)
{
    char jk[RL_KEY_MAX], lk[RL_KEY_MAX], key[RL_ARCHIVE_KEY_MAX];
    for (size_t i = 0; i < ids->elements; i++) {
        const char *j = ids->element[i]->str;
        if (j == NULL || rl_keys_job(jk, sizeof jk, acct, j) != 0 ||
            rl_keys_deliveries(lk, sizeof lk, acct, j) != 0)
            return -1;
        const char *hv[] = {"HGETALL", jk};
        const char *lv[] = {"LRANGE", lk, "0", "-1"};
        redisReply *h = rl_rsync_command(c, 2, hv, NULL);
        redisReply *l = h != NULL ? rl_rsync_command(c, 4, lv, NULL) : NULL;
        if (h == NULL || l == NULL) {
            if (h != NULL)
                freeReplyObject(h);
            return -1;
        }
        /* A job gone since the index was read is in the archive now. */
        if (h->type == REDIS_REPLY_ARRAY && h->elements > 0 &&
            rl_archive_key_job(key, acct, j) == 0) {
            s_write(x, rl_archive_job(acct, j, h, l, 0), RL_ARCHIVE_JOB);
            json_object_set_new(x->seen, key, json_integer(-1));
            x->from_redis++;
        }
        freeReplyObject(h);
        freeReplyObject(l);
    }
    return 0;
}

/* The jobs of acct created in range, a page at a time. */
static int
s_redis_jobs(rl_rsync_t *c, export_t *x, const char *acct)
{
    char ik[RL_KEY_MAX], until[RL_FMT_DEC_LEN + 1];
    if (rl_keys_acct_jobs(ik, sizeof ik, acct) != 0)
        return -1;
    if (x->until == INT64_MAX)
        rl_fmt_fit(until, sizeof until, "+inf");
    else
        rl_fmt_fit(until, sizeof until, "(%lld", (long long)x->until);
    for (long long off = 0;; off += EXPORT_PAGE) {
        char since[RL_FMT_DEC_LEN], offs[RL_FMT_DEC_LEN], page[RL_FMT_DEC_LEN];
        rl_fmt_dec(since, x->since);
        rl_fmt_dec(offs, off);
        rl_fmt_dec(page, EXPORT_PAGE);
        const char *argv[] = {"ZRANGEBYSCORE", ik,   since, until,
                              "LIMIT",         offs, page};
        redisReply *ids = rl_rsync_command(c, 7, argv, NULL);
        if (ids == NULL || ids->type != REDIS_REPLY_ARRAY) {
            if (ids != NULL)
                freeReplyObject(ids);
            return -1;
        }
        int rc = s_job_page(c, x, acct, ids);
        size_t n = ids->elements;
        freeReplyObject(ids);
        if (rc != 0)
            return -1;
        if (n < EXPORT_PAGE)
            return 0;
    }
}

/* ledger_archived of account key ak, or -1. */
static long long
s_archived(rl_rsync_t *c, const char *ak)
{
    const char *argv[] = {"HGET", ak, "ledger_archived"};
    redisReply *r = rl_rsync_command(c, 3, argv, NULL);
    long long n = -1;
    if (r != NULL && r->type == REDIS_REPLY_NIL)
        n = 0;
    else if (r != NULL && r->type == REDIS_REPLY_STRING)
        n = strtoll(r->str, NULL, 10);
    if (r != NULL)
        freeReplyObject(r);
    return n;
}

/* The entries of acct's ledger written in range. Its sequence numbers
 * count from ledger_archived, read before and after the ledger: when a
 * pop moved it in between, the ledger is read again. */
static int
s_redis_ledger(rl_rsync_t *c, export_t *x, const char *acct)
{
    char ak[RL_KEY_MAX], lk[RL_KEY_MAX], key[RL_ARCHIVE_KEY_MAX];
    redisReply *l = NULL;
    long long base = -1;
    if (rl_keys_acct(ak, sizeof ak, acct) != 0 ||
        rl_keys_ledger(lk, sizeof lk, acct) != 0)
        return -1;
    for (int t = 0; t < EXPORT_LEDGER_TRIES && l == NULL; t++) {
        base = s_archived(c, ak);
        const char *argv[] = {"LRANGE", lk, "0", "-1"};
        l = base >= 0 ? rl_rsync_command(c, 4, argv, NULL) : NULL;
        if (l == NULL || l->type != REDIS_REPLY_ARRAY) {
            if (l != NULL)
                freeReplyObject(l);
            return -1;
        }
        if (s_archived(c, ak) != base) {
            freeReplyObject(l);
            l = NULL;
        }
    }
    if (l == NULL)
        return -1;
    for (size_t i = 0; i < l->elements; i++) {
        const char *text = l->element[i]->str;
        long long seq = base + (long long)(l->elements - i);
        json_t *e = text != NULL ? json_loads(text, 0, NULL) : NULL;
        const json_t *at = json_object_get(e, "at");
        bool in = json_is_number(at) && s_in_range(x, rl_jobview_json_ms(at));
        json_decref(e);
        if (!in || rl_archive_key_ledger(key, acct, seq) != 0)
            continue;
        s_write(x, rl_archive_ledger(acct, seq, text, 0), RL_ARCHIVE_LEDGER);
        json_object_set_new(x->seen, key, json_integer(-1));
        x->from_redis++;
    }
    freeReplyObject(l);
    return 0;
}

static int
s_cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
s_redis(rl_rsync_t *c, export_t *x)
{
    redisReply *accts[RL_PARTITIONS] = {0};
    size_t total = 0, n = 0;
    int bad = 0;
    for (int p = 0; p < RL_PARTITIONS && !bad; p++) {
        char key[RL_KEY_MAX];
        if (rl_keys_accounts(key, sizeof key, p) == 0) {
            const char *argv[] = {"SMEMBERS", key};
            accts[p] = rl_rsync_command(c, 2, argv, NULL);
        }
        bad = accts[p] == NULL || accts[p]->type != REDIS_REPLY_ARRAY;
        if (!bad)
            total += accts[p]->elements;
    }
    const char **ids = rl_calloc(total + 1, sizeof *ids);
    for (int p = 0; p < RL_PARTITIONS && !bad; p++)
        for (size_t i = 0; i < accts[p]->elements; i++)
            if (accts[p]->element[i]->type == REDIS_REPLY_STRING)
                ids[n++] = accts[p]->element[i]->str;
    qsort(ids, n, sizeof *ids, s_cmp_str);
    int rc = bad ? -1 : 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (s_redis_jobs(c, x, ids[i]) != 0 ||
            s_redis_ledger(c, x, ids[i]) != 0)
            rc = -1;
    free(ids);
    for (int p = 0; p < RL_PARTITIONS; p++)
        if (accts[p] != NULL)
            freeReplyObject(accts[p]);
    return rc;
}

/* --- the archive ---------------------------------------------------------- */

typedef void (*s_rec_fn)(export_t *x, rl_archive_rec_t *rec);

/* A bad line: counted, and named while few. */
static void
s_bad(export_t *x, const char *path, size_t line, const char *why)
{
    if (x->bad++ < EXPORT_MAX_REPORTS)
        fprintf(stderr, "reelay export: %s:%zu: skipped: %s\n", path, line,
                why);
}

/* Every record of one file that is in range, to fn. report: name and
 * count bad lines (the first pass does; the second meets them again). */
static void
s_file(export_t *x, const char *path, s_rec_fn fn, bool report)
{
    char why[EXPORT_WHY_LEN];
    char *buf = NULL;
    size_t cap = 0, len = 0, no = 0;
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        if (report)
            s_bad(x, path, 0, strerror(errno));
        return;
    }
    for (;;) {
        rl_archive_read_t got =
            rl_archive_file_read_line(f, &buf, &cap, RL_ARCHIVE_LINE_MAX, &len);
        no++;
        if (got == RL_ARCHIVE_READ_EOF || got == RL_ARCHIVE_READ_ERROR) {
            if (got == RL_ARCHIVE_READ_ERROR && report)
                s_bad(x, path, no, strerror(errno));
            break;
        }
        rl_archive_rec_t rec;
        if (got == RL_ARCHIVE_READ_TOO_LONG) {
            if (report)
                s_bad(x, path, no, "longer than RL_ARCHIVE_LINE_MAX");
        } else if (len == 0) {
            continue; /* a torn line's newline, or a blank line */
        } else if (rl_archive_parse(buf, len, &rec, why, sizeof why) != 0) {
            if (report)
                s_bad(x, path, no, why);
        } else {
            if (s_in_range(x, rec.at))
                fn(x, &rec);
            rl_archive_rec_release(&rec);
        }
    }
    free(buf);
    fclose(f);
}

static int
s_only_ours(const struct dirent *e)
{
    rl_archive_kind_t kind;
    int64_t day;
    return rl_archive_file_parse_name(e->d_name, &kind, &day) == 0;
}

/* Every file of every directory that may hold records in range (a file
 * of day D holds records at most D's end old), in name order. */
static void
s_archive(export_t *x, s_rec_fn fn, bool report)
{
    char path[PATH_MAX];
    for (int d = 0; d < x->ndirs; d++) {
        struct dirent **names = NULL;
        int n = scandir(x->dirs[d], &names, s_only_ours, alphasort);
        if (n < 0 && report)
            s_bad(x, x->dirs[d], 0, strerror(errno));
        for (int i = 0; i < n; i++) {
            rl_archive_kind_t kind;
            int64_t day = 0;
            (void)rl_archive_file_parse_name(names[i]->d_name, &kind, &day);
            if (day + RL_DATE_DAY_MS > x->since &&
                rl_fmt(path, sizeof path, "%s/%s", x->dirs[d],
                       names[i]->d_name) == 0) {
                x->files += report;
                s_file(x, path, fn, report);
            }
            free(names[i]);
        }
        free(names);
    }
}

/* First pass: the last archived copy of each record not read from
 * Redis. */
static void
s_note(export_t *x, rl_archive_rec_t *rec)
{
    json_t *v = json_object_get(x->seen, rec->key);
    if (v != NULL)
        x->dups++; /* -1: read from Redis; else another archived copy */
    if (v == NULL || (json_integer_value(v) >= 0 &&
                      rec->archived_at > json_integer_value(v)))
        json_object_set_new(x->seen, rec->key, json_integer(rec->archived_at));
}

/* Second pass: writes each copy the first pass chose, once. */
static void
s_emit(export_t *x, rl_archive_rec_t *rec)
{
    json_t *v = json_object_get(x->seen, rec->key);
    if (v == NULL || json_integer_value(v) != rec->archived_at ||
        json_integer_value(v) < 0)
        return;
    json_object_set_new(x->seen, rec->key, json_integer(-1));
    s_write(x, json_incref(rec->obj), rec->kind);
}

int
export_run(rl_rsync_t *c, const rl_config_t *cfg, const export_args_t *a)
{
    export_t *x = rl_calloc(1, sizeof *x);
    int rc = s_check(cfg, a, x);
    if (rc != 0)
        goto out;
    x->seen = json_object();
    if (s_redis(c, x) != 0) {
        const char *why = rl_rsync_error(c);
        fprintf(stderr, "reelay export: reading Redis failed%s%s\n",
                why != NULL && why[0] != '\0' ? ": " : "",
                why != NULL ? why : "");
        rc = 1;
        goto out;
    }
    s_archive(x, s_note, true);
    s_archive(x, s_emit, false);
    if (fflush(stdout) != 0 || x->out_failed) {
        fprintf(stderr, "reelay export: writing the output failed: %s\n",
                strerror(errno));
        rc = 1;
        goto out;
    }
    fprintf(stderr,
            "reelay export: %zu jobs and %zu ledger entries (%zu from "
            "Redis, %zu from %zu archive files in %d directories); %zu "
            "duplicates and %zu bad lines skipped\n",
            x->jobs, x->entries, x->from_redis,
            x->jobs + x->entries - x->from_redis, x->files, x->ndirs, x->dups,
            x->bad);
out:
    json_decref(x->seen);
    free(x);
    return rc;
}
