/*
 * rl_allow - allow lists of CURVE public keys, reloaded on change.
 * SPDX-License-Identifier: MIT
 */
#include "rl_allow.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rl_alloc.h"
#include "rl_curve.h"
#include "rl_fmt.h"

/* What tells one version of the file from another. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool valid; /* stat succeeded */
} s_version_t;

struct rl_allow {
    char *path;           /* the allow file, owned */
    rl_allow_key_t *keys; /* sorted, unique, owned */
    size_t nkeys;
    s_version_t loaded;  /* the version keys came from */
    s_version_t refused; /* the last version that failed to load */
    bool has_refused;    /* refused is set */
};

static int
s_key_cmp(const void *a, const void *b)
{
    return strcmp(((const rl_allow_key_t *)a)->z85,
                  ((const rl_allow_key_t *)b)->z85);
}

/* Checks one trimmed, non-empty line and copies its key. */
static int
s_parse_line(const char *line, size_t len, rl_allow_key_t *out,
             const char **why)
{
    size_t k = 0;
    while (k < len && !isspace((unsigned char)line[k]))
        k++;
    size_t rest = k;
    while (rest < len && isspace((unsigned char)line[rest]))
        rest++;
    if (rest < len && line[rest] != '#') {
        *why = "one key per line (a comment after it starts with '#')";
        return -1;
    }
    if (k != RL_CURVE_KEY_LEN) {
        *why = "not a Z85 CURVE public key (40 characters)";
        return -1;
    }
    memcpy(out->z85, line, k);
    out->z85[k] = '\0';
    if (!rl_curve_key_valid(out->z85)) {
        *why = "not a Z85 CURVE public key (40 characters)";
        return -1;
    }
    return 0;
}

/* Sorts and drops duplicates; returns the new count. */
static size_t
s_sort_unique(rl_allow_key_t *keys, size_t n)
{
    size_t out = 0;
    qsort(keys, n, sizeof *keys, s_key_cmp);
    for (size_t i = 0; i < n; i++)
        if (out == 0 || strcmp(keys[out - 1].z85, keys[i].z85) != 0)
            keys[out++] = keys[i];
    return out;
}

rl_allow_key_t *
rl_allow_parse(const char *text, size_t len, const char *where, size_t *n,
               char *err, size_t err_len)
{
    rl_allow_key_t *keys = rl_calloc(1, sizeof *keys);
    size_t count = 0, cap = 1;
    int line_no = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl != NULL);
        line_no++;
        while (ll > 0 && isspace((unsigned char)*line)) {
            line++;
            ll--;
        }
        while (ll > 0 && isspace((unsigned char)line[ll - 1]))
            ll--;
        if (ll == 0 || rl_curve_comment(line, ll))
            continue;
        const char *why = NULL;
        if (count == RL_ALLOW_MAX_KEYS) {
            rl_fmt_msg(err, err_len, "%s:%d: more than %d keys", where, line_no,
                       RL_ALLOW_MAX_KEYS);
            free(keys);
            return NULL;
        }
        if (count == cap) {
            cap *= 2;
            keys = rl_realloc(keys, cap * sizeof *keys);
        }
        if (s_parse_line(line, ll, &keys[count], &why) != 0) {
            rl_fmt_msg(err, err_len, "%s:%d: %s", where, line_no, why);
            free(keys);
            return NULL;
        }
        count++;
    }
    *n = s_sort_unique(keys, count);
    return keys;
}

static void
s_stat(const char *path, s_version_t *v)
{
    struct stat st;
    memset(v, 0, sizeof *v);
    if (stat(path, &st) != 0)
        return;
    v->dev = st.st_dev;
    v->ino = st.st_ino;
    v->size = st.st_size;
    v->mtime = st.st_mtim;
    v->valid = true;
}

static bool
s_same(const s_version_t *a, const s_version_t *b)
{
    return a->valid == b->valid && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Reads the whole file into a malloc'd buffer (*len bytes). */
static char *
s_slurp(const char *path, size_t *len, char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rl_fmt_msg(err, err_len, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = rl_malloc(RL_ALLOW_MAX_BYTES + 1);
    size_t have = 0;
    ssize_t n;
    while (have <= RL_ALLOW_MAX_BYTES &&
           (n = read(fd, buf + have, RL_ALLOW_MAX_BYTES + 1 - have)) > 0)
        have += (size_t)n;
    int saved = errno;
    close(fd);
    if (n < 0)
        rl_fmt_msg(err, err_len, "%s: %s", path, strerror(saved));
    else if (have > RL_ALLOW_MAX_BYTES)
        rl_fmt_msg(err, err_len, "%s: larger than %d bytes", path,
                   RL_ALLOW_MAX_BYTES);
    if (n < 0 || have > RL_ALLOW_MAX_BYTES) {
        free(buf);
        return NULL;
    }
    *len = have;
    return buf;
}

/* Loads the file now. The version is taken before the read, so an edit
 * during the read is seen by the next refresh. */
static int
s_load(rl_allow_t *a, char *err, size_t err_len)
{
    s_version_t v;
    size_t len = 0, n = 0;
    s_stat(a->path, &v);
    char *text = s_slurp(a->path, &len, err, err_len);
    rl_allow_key_t *keys =
        text != NULL ? rl_allow_parse(text, len, a->path, &n, err, err_len)
                     : NULL;
    free(text);
    if (keys == NULL) {
        a->refused = v;
        a->has_refused = true;
        return -1;
    }
    free(a->keys);
    a->keys = keys;
    a->nkeys = n;
    a->loaded = v;
    return 0;
}

rl_allow_t *
rl_allow_new(const char *path, char *err, size_t err_len)
{
    rl_allow_t *a = rl_calloc(1, sizeof *a);
    a->path = rl_strdup(path);
    if (s_load(a, err, err_len) != 0)
        rl_allow_destroy(&a);
    return a;
}

void
rl_allow_destroy(rl_allow_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_allow_t *a = *p;
    free(a->keys);
    free(a->path);
    free(a);
    *p = NULL;
}

int
rl_allow_refresh(rl_allow_t *a, char *err, size_t err_len)
{
    s_version_t now;
    s_stat(a->path, &now);
    if (s_same(&now, &a->loaded) ||
        (a->has_refused && s_same(&now, &a->refused)))
        return 0;
    if (!now.valid) {
        rl_fmt_msg(err, err_len, "%s: %s", a->path, strerror(errno));
        a->refused = now;
        a->has_refused = true;
        return -1;
    }
    return s_load(a, err, err_len) == 0 ? 1 : -1;
}

bool
rl_allow_has(const rl_allow_t *a, const char *key)
{
    rl_allow_key_t k;
    if (key == NULL || strlen(key) != RL_CURVE_KEY_LEN)
        return false;
    memcpy(k.z85, key, RL_CURVE_KEY_LEN + 1);
    return bsearch(&k, a->keys, a->nkeys, sizeof k, s_key_cmp) != NULL;
}

size_t
rl_allow_count(const rl_allow_t *a)
{
    return a->nkeys;
}

const char *
rl_allow_path(const rl_allow_t *a)
{
    return a->path;
}
