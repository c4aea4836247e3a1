/*
 * rl_secret - secrets kept in files: read one, or create one that only
 * its owner can read. A secret file holds the secret on its first line;
 * the line end is not part of it (so `echo pw > file` works).
 *
 * Limits: a secret is 1..RL_SECRET_MAX - 1 bytes with no NUL, CR or LF
 * in it. Failure modes: rl_secret_read() returns -1 and says why (the
 * file is missing or unreadable, empty, or its first line is too long);
 * rl_secret_create() returns -1 with errno set.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_SECRET_H
#define RL_SECRET_H

#include <stddef.h>

#define RL_SECRET_MAX 512 /* buffer for one secret and its NUL */

/* Reads the secret in `path` into buf (NUL-terminated). Returns 0, or
 * -1 with the reason in why (buf is then zeroed). */
int rl_secret_read(const char *path, char *buf, size_t len, char *why,
                   size_t why_len) __attribute__((warn_unused_result));

/* Creates `path` (mode 0600, never following or replacing an existing
 * file) holding `nbytes` random bytes as lowercase hex and a newline,
 * unless the file exists already. Returns 0 (created or there), or -1
 * with errno set; a half-written file is removed. */
int rl_secret_create(const char *path, size_t nbytes)
    __attribute__((warn_unused_result));

#endif
