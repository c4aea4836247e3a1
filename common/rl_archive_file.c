/*
 * rl_archive_file - durable appends to the archive's daily files, and
 * their bounded line reader.
 * SPDX-License-Identifier: MIT
 */
#include "rl_archive_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rl_alloc.h"
#include "rl_date.h"
#include "rl_fmt.h"

#define S_SUFFIX ".jsonl"
#define S_GROW 4096 /* first size of a line buffer */

static const char *
s_prefix(rl_archive_kind_t kind)
{
    return kind == RL_ARCHIVE_JOB ? "jobs-" : "ledger-";
}

int
rl_archive_file_name(char name[static RL_ARCHIVE_NAME_LEN],
                     rl_archive_kind_t kind, int64_t ms)
{
    char day[RL_DATE_DAY_LEN];
    name[0] = '\0';
    if (rl_date_day(ms, day) != 0)
        return -1;
    /* "ledger-" + 10 + ".jsonl" + NUL = 24 bytes */
    rl_fmt_fit(name, RL_ARCHIVE_NAME_LEN, "%s%s" S_SUFFIX, s_prefix(kind), day);
    return 0;
}

int
rl_archive_file_parse_name(const char *name, rl_archive_kind_t *kind,
                           int64_t *day_ms)
{
    char day[RL_DATE_DAY_LEN];
    rl_archive_kind_t k = RL_ARCHIVE_JOB;
    size_t plen = strlen(s_prefix(k));
    if (strncmp(name, s_prefix(k), plen) != 0) {
        k = RL_ARCHIVE_LEDGER;
        plen = strlen(s_prefix(k));
        if (strncmp(name, s_prefix(k), plen) != 0)
            return -1;
    }
    const char *rest = name + plen;
    if (strlen(rest) != RL_DATE_DAY_LEN - 1 + strlen(S_SUFFIX) ||
        strcmp(rest + RL_DATE_DAY_LEN - 1, S_SUFFIX) != 0)
        return -1;
    memcpy(day, rest, RL_DATE_DAY_LEN - 1);
    day[RL_DATE_DAY_LEN - 1] = '\0';
    if (rl_date_parse(day, day_ms) != 0)
        return -1;
    *kind = k;
    return 0;
}

/* Ends a line an earlier crash left half-written: when the file's last
 * byte is not a newline, adds one. */
static int
s_end_torn_line(int fd, off_t size)
{
    char last = '\n';
    if (size > 0 && pread(fd, &last, 1, size - 1) != 1)
        return -1;
    if (last != '\n' && write(fd, "\n", 1) != 1)
        return -1;
    return 0;
}

static int
s_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync of a directory, so a file made in it survives a crash. */
static int
s_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int
rl_archive_file_append(const char *dir, rl_archive_kind_t kind, int64_t now_ms,
                       const char *buf, size_t len, char *why, size_t why_len)
{
    char name[RL_ARCHIVE_NAME_LEN], path[PATH_MAX];
    struct stat st;
    const char *step = "open";
    int fd = -1, rc = -1;
    if (rl_archive_file_name(name, kind, now_ms) != 0 ||
        rl_fmt(path, sizeof path, "%s/%s", dir, name) != 0) {
        rl_fmt_msg(why, why_len, "%s: no file name for this time", dir);
        return -1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rl_fmt_msg(why, why_len, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    /* Read too: s_end_torn_line() reads the last byte. */
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || (step = "stat", fstat(fd, &st)) != 0)
        goto out;
    if ((step = "end the torn line of", s_end_torn_line(fd, st.st_size)) != 0)
        goto out;
    if ((step = "write", s_write_all(fd, buf, len)) != 0)
        goto out;
    if ((step = "fdatasync", fdatasync(fd)) != 0)
        goto out;
    if (st.st_size == 0 &&
        (step = "fsync the directory of", s_sync_dir(dir)) != 0)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        rl_fmt_msg(why, why_len, "%s %s: %s", step, path, strerror(errno));
    if (fd >= 0 && close(fd) != 0 && rc == 0) {
        rl_fmt_msg(why, why_len, "close %s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

rl_archive_read_t
rl_archive_file_read_line(FILE *f, char **buf, size_t *cap, size_t max,
                          size_t *len)
{
    size_t n = 0;
    int c;
    int too_long = 0;
    while ((c = getc_unlocked(f)) != EOF && c != '\n') {
        if (n >= max) {
            too_long = 1;
            continue;
        }
        if (n + 1 >= *cap) {
            size_t want = *cap == 0 ? S_GROW : *cap * 2;
            *cap = want > max + 1 ? max + 1 : want;
            *buf = rl_realloc(*buf, *cap);
        }
        (*buf)[n++] = (char)c;
    }
    if (c == EOF && ferror(f))
        return RL_ARCHIVE_READ_ERROR;
    if (c == EOF && n == 0 && !too_long)
        return RL_ARCHIVE_READ_EOF;
    if (too_long)
        return RL_ARCHIVE_READ_TOO_LONG;
    if (*cap == 0) {
        *cap = max + 1 < S_GROW ? max + 1 : S_GROW;
        *buf = rl_realloc(*buf, *cap);
    }
    (*buf)[n] = '\0';
    *len = n;
    return RL_ARCHIVE_READ_LINE;
}
