/*
 * rl_archive - building and reading the archive's records.
 * SPDX-License-Identifier: MIT
 */
#include "rl_archive.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rl_alloc.h"
#include "rl_fmt.h"
#include "rl_jobview.h"
#include "rl_text.h"

#define S_ID_CHARS                                                             \
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static bool
s_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    return n > 0 && n < RL_ARCHIVE_ID_MAX && strspn(id, S_ID_CHARS) == n;
}

int
rl_archive_key_job(char key[static RL_ARCHIVE_KEY_MAX], const char *acct,
                   const char *job)
{
    key[0] = '\0';
    if (!s_id_ok(acct) || !s_id_ok(job))
        return -1;
    rl_fmt_fit(key, RL_ARCHIVE_KEY_MAX, "j %s|%s", acct, job);
    return 0;
}

int
rl_archive_key_ledger(char key[static RL_ARCHIVE_KEY_MAX], const char *acct,
                      long long seq)
{
    key[0] = '\0';
    if (!s_id_ok(acct) || seq < 1)
        return -1;
    rl_fmt_fit(key, RL_ARCHIVE_KEY_MAX, "l %s:%lld", acct, seq);
    return 0;
}

/* text as a JSON string; bytes that are not UTF-8 (which jansson
 * refuses) escaped as rl_text_safe() does, so no field is ever lost. */
static json_t *
s_text(const char *text)
{
    json_t *v = json_string(text);
    if (v != NULL)
        return v;
    size_t len = strlen(text);
    char *safe = rl_malloc(4 * len + 1);
    rl_text_safe(safe, 4 * len + 1, text, len, false, NULL);
    v = json_string(safe);
    free(safe);
    return v;
}

/* text as JSON when it parses, else as a JSON string. */
static json_t *
s_json_or_text(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v != NULL ? v : s_text(text);
}

/* The string field/value pairs of an HGETALL array f into kv (*n
 * strings) and an object of them, but the history: *history gets it
 * parsed when it is a JSON array (else it stays a field, as text). An
 * element that is not a string is skipped with its pair. */
static json_t *
s_fields(const redisReply *f, json_t **history, const char **kv, size_t *n)
{
    json_t *o = json_object();
    *n = 0;
    for (size_t i = 0;
         f != NULL && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements;
         i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        kv[(*n)++] = k->str;
        kv[(*n)++] = v->str;
        if (strcmp(k->str, "history") == 0 && *history == NULL) {
            json_t *h = json_loads(v->str, 0, NULL);
            if (json_is_array(h)) {
                *history = h;
                continue;
            }
            json_decref(h);
        }
        json_t *t = s_text(v->str);
        if (rl_text_is_utf8(k->str, strlen(k->str)))
            json_object_set_new(o, k->str, t);
        else
            json_decref(t); /* a field name is ours: never outside text */
    }
    return o;
}

json_t *
rl_archive_job(const char *acct, const char *job, const redisReply *fields,
               const redisReply *log, int64_t archived_at)
{
    size_t cap = fields != NULL && fields->type == REDIS_REPLY_ARRAY
                     ? fields->elements
                     : 0;
    const char **kv = rl_calloc(cap + 1, sizeof *kv);
    json_t *history = NULL, *dlv = json_array();
    size_t n = 0;
    json_t *fo = s_fields(fields, &history, kv, &n);
    rl_jobview_src_t src = {.kv = kv, .npairs = n / 2};
    const char *status = rl_jobview_get(&src, "status");
    long long done = rl_jobview_get_num(&src, "completed_at");
    for (size_t i = 0;
         log != NULL && log->type == REDIS_REPLY_ARRAY && i < log->elements;
         i++)
        if (log->element[i]->type == REDIS_REPLY_STRING)
            json_array_append_new(dlv, s_json_or_text(log->element[i]->str));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:o, s:o, s:o}", "type", "job",
        "id", job, "acct", acct, "status",
        status != NULL ? s_text(status) : json_null(), "credits",
        (json_int_t)rl_jobview_charged(&src), "created_at",
        (json_int_t)rl_jobview_get_num(&src, "created_at"), "completed_at",
        done > 0 ? json_integer(done) : json_null(), "fields", fo, "history",
        history != NULL ? history : json_array(), "deliveries", dlv);
    if (o != NULL && archived_at > 0)
        json_object_set_new(o, "archived_at", json_integer(archived_at));
    free(kv);
    return o;
}

json_t *
rl_archive_ledger(const char *acct, long long seq, const char *text,
                  int64_t archived_at)
{
    char id[RL_ARCHIVE_KEY_MAX];
    rl_fmt_msg(id, sizeof id, "%s:%lld", acct, seq);
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o}", "type", "ledger", "id",
                          id, "acct", acct, "seq", (json_int_t)seq, "entry",
                          s_json_or_text(text));
    if (o != NULL && archived_at > 0)
        json_object_set_new(o, "archived_at", json_integer(archived_at));
    return o;
}

/* A whole, non-negative integer member, or -1. */
static int64_t
s_count(const json_t *o, const char *name)
{
    const json_t *v = json_object_get(o, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    return (int64_t)json_integer_value(v);
}

static int
s_parse_job(const json_t *o, rl_archive_rec_t *rec, const char **why)
{
    const char *acct = json_string_value(json_object_get(o, "acct"));
    const char *id = json_string_value(json_object_get(o, "id"));
    if (rl_archive_key_job(rec->key, acct, id) != 0) {
        *why = "a job without a valid id and account";
        return -1;
    }
    rec->at = s_count(o, "created_at");
    if (rec->at < 0 || !json_is_object(json_object_get(o, "fields"))) {
        *why = "a job without created_at or fields";
        return -1;
    }
    return 0;
}

static int
s_parse_ledger(const json_t *o, rl_archive_rec_t *rec, const char **why)
{
    char id[RL_ARCHIVE_KEY_MAX];
    const char *acct = json_string_value(json_object_get(o, "acct"));
    const char *given = json_string_value(json_object_get(o, "id"));
    int64_t seq = s_count(o, "seq");
    const json_t *e = json_object_get(o, "entry");
    if (rl_archive_key_ledger(rec->key, acct, seq) != 0 || given == NULL ||
        rl_fmt(id, sizeof id, "%s:%lld", acct, (long long)seq) != 0 ||
        strcmp(id, given) != 0) {
        *why = "a ledger entry without a valid id, account and seq";
        return -1;
    }
    const json_t *at = json_object_get(e, "at");
    if (!json_is_object(e) || !json_is_number(at) ||
        rl_jobview_json_ms(at) < 0) {
        *why = "a ledger entry without its time";
        return -1;
    }
    rec->at = rl_jobview_json_ms(at);
    return 0;
}

int
rl_archive_parse(const char *line, size_t len, rl_archive_rec_t *rec, char *why,
                 size_t why_len)
{
    json_error_t err;
    const char *bad = NULL;
    memset(rec, 0, sizeof *rec);
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (o == NULL) {
        rl_fmt_msg(why, why_len, "not JSON: %s", err.text);
        return -1;
    }
    const char *type = json_string_value(json_object_get(o, "type"));
    const json_t *arch = json_object_get(o, "archived_at");
    if (!json_is_object(o) || type == NULL) {
        bad = "not an object with a type";
    } else if (arch != NULL && s_count(o, "archived_at") < 0) {
        bad = "archived_at is not a time";
    } else if (strcmp(type, "job") == 0) {
        rec->kind = RL_ARCHIVE_JOB;
        (void)s_parse_job(o, rec, &bad);
    } else if (strcmp(type, "ledger") == 0) {
        rec->kind = RL_ARCHIVE_LEDGER;
        (void)s_parse_ledger(o, rec, &bad);
    } else {
        bad = "an unknown type";
    }
    if (bad != NULL) {
        rl_fmt_msg(why, why_len, "%s", bad);
        json_decref(o);
        memset(rec, 0, sizeof *rec);
        return -1;
    }
    rec->archived_at = arch != NULL ? s_count(o, "archived_at") : 0;
    rec->obj = o;
    return 0;
}

void
rl_archive_rec_release(rl_archive_rec_t *rec)
{
    if (rec == NULL)
        return;
    json_decref(rec->obj);
    rec->obj = NULL;
}
