/*
 * rl_archive_file - the archive's files: one JSONL file a day and a kind
 * in an archive directory, appended to durably, and read back a line at
 * a time within a cap.
 *
 *   <dir>/jobs-YYYY-MM-DD.jsonl     jobs removed from Redis that day (UTC)
 *   <dir>/ledger-YYYY-MM-DD.jsonl   ledger entries moved out that day
 *
 * The day is the day of the removal (the Redis clock of the round), not
 * of the job's finish, so only today's file is ever appended to and
 * yesterday's can be compressed or shipped away. The directory is made
 * 0700 when missing (its parent must exist), a file 0600.
 *
 * rl_archive_file_append() returns only once the bytes are on disk
 * (fdatasync; the directory fsync'd too when the file was new): a caller
 * that then removes what it wrote has lost nothing if the host crashes
 * after. A line left half-written by an earlier crash is ended with a
 * newline before new lines are added, so it spoils no line but itself.
 * A crash after the write and before the removal leaves the records
 * written again by the next round: readers keep one copy per id.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ARCHIVE_FILE_H
#define RL_ARCHIVE_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rl_archive.h"

#define RL_ARCHIVE_DIR "archive"       /* under [launcher] data_dir */
#define RL_ARCHIVE_LINE_MAX (16 << 20) /* bytes of one record, at most */
#define RL_ARCHIVE_NAME_LEN 32         /* "ledger-YYYY-MM-DD.jsonl" + NUL */

/* The file name (no directory) of kind's records archived on the UTC
 * day of ms. Returns 0, or -1 for a time outside rl_date's years. */
int rl_archive_file_name(char name[static RL_ARCHIVE_NAME_LEN],
                         rl_archive_kind_t kind, int64_t ms);

/* Reads a file name back: 0 with its kind and the midnight of its day,
 * or -1 when it is not one of ours. */
int rl_archive_file_parse_name(const char *name, rl_archive_kind_t *kind,
                               int64_t *day_ms);

/* Appends len bytes (whole lines, each ending in a newline) to kind's
 * file of the day of now_ms in dir, durably (above). Returns 0, or -1
 * with a reason in why; after -1 nothing may be taken as written. */
int rl_archive_file_append(const char *dir, rl_archive_kind_t kind,
                           int64_t now_ms, const char *buf, size_t len,
                           char *why, size_t why_len);

typedef enum {
    RL_ARCHIVE_READ_EOF = 0,  /* no more lines */
    RL_ARCHIVE_READ_LINE,     /* *buf holds a line of *len bytes */
    RL_ARCHIVE_READ_TOO_LONG, /* a line longer than max: skipped */
    RL_ARCHIVE_READ_ERROR,    /* a read error (errno) */
} rl_archive_read_t;

/* Reads the next line of f (its newline dropped; the last line may lack
 * one) into *buf (grown as needed, up to max + 1 bytes, NUL-terminated;
 * the caller frees it), its length in *len. A line longer than max bytes
 * is read through and skipped. */
rl_archive_read_t rl_archive_file_read_line(FILE *f, char **buf, size_t *cap,
                                            size_t max, size_t *len);

#endif
