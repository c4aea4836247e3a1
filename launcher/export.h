/*
 * export - `reelay export`: every job created, and every ledger entry
 * written, in [--since, --until), as JSONL on standard output (one
 * rl_archive.h record a line, each with its "type"), from Redis and from
 * the archive directories together, each record once.
 * SPDX-License-Identifier: MIT
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <hiredis/hiredis.h>

#include "rl_config.h"
#include "rl_rsync.h"

#define EXPORT_MAX_DIRS 16 /* --archive-dir given at most this often */

typedef struct {
    const char *since;                 /* DATE (rl_date.h), required */
    const char *until;                 /* DATE or NULL: no end */
    const char *dirs[EXPORT_MAX_DIRS]; /* --archive-dir, in order */
    int ndirs;                         /* 0: <data_dir>/archive */
} export_args_t;

/* Checks a's dates and directories: 0, or 2 after a message on stderr
 * (a date that is not one, --until not after --since, a directory
 * that cannot be read, too many of them). */
int export_check(const rl_config_t *cfg, const export_args_t *a);

/* Writes the export to stdout and a summary to stderr. Returns 0, 1 when
 * Redis or the output failed (the output is then incomplete), or 2 as
 * export_check. c: a connection to the configured Redis. */
int export_run(rl_rsync_t *c, const rl_config_t *cfg, const export_args_t *a);

#endif
