/*
 * rl_allow - an allow list of CURVE public keys, read from a file and
 * read again when the file changes.
 *
 * Format: one Z85 public key (40 characters) per line, optionally
 * followed by whitespace and a '#' comment ('#' is a Z85 character: the
 * whitespace is what ends the key); blank lines and lines starting with
 * '#' are ignored. So a NAME.pub file made by `reelay
 * keygen` is itself a valid allow file, and appending it to one lists
 * that key.
 *
 * Limits: at most RL_ALLOW_MAX_KEYS keys in a file of at most
 * RL_ALLOW_MAX_BYTES bytes. Failure modes: a missing, unreadable,
 * oversized or malformed file is an error naming the file (and line);
 * on a reload the previous list stays in force, and the same broken
 * version of the file is not read (or reported) twice.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_ALLOW_H
#define RL_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#define RL_ALLOW_MAX_KEYS 4096
#define RL_ALLOW_MAX_BYTES (1024 * 1024)

typedef struct rl_allow rl_allow_t;

/* One listed key. */
typedef struct {
    char z85[41]; /* Z85 public key, NUL-terminated */
} rl_allow_key_t;

/* Reads the allow file at `path`. Returns the list (caller owns), or
 * NULL with the reason in err. */
rl_allow_t *rl_allow_new(const char *path, char *err, size_t err_len);

/* Frees. NULL-safe, sets *p to NULL. */
void rl_allow_destroy(rl_allow_t **p);

/* Reads the file again when its inode, size or modification time
 * changed since the last read. Returns 1 when a new list is in force, 0
 * when nothing changed, -1 when the changed file could not be used (err
 * says why; the previous list stays). */
int rl_allow_refresh(rl_allow_t *a, char *err, size_t err_len);

/* True when `key` (a Z85 public key, NUL-terminated) is listed. */
bool rl_allow_has(const rl_allow_t *a, const char *key);

/* Keys listed (duplicates counted once). */
size_t rl_allow_count(const rl_allow_t *a);

/* The file it reads. Borrowed. */
const char *rl_allow_path(const rl_allow_t *a);

/* Parses the text of an allow file (len bytes, need not be
 * NUL-terminated) into a sorted, de-duplicated array of keys. Returns
 * the array (caller frees) with its length in *n, or NULL with the
 * reason in err, "WHERE:LINE: ..." (`where` names the text). An empty
 * list is valid: *n = 0 and a non-NULL array. */
rl_allow_key_t *rl_allow_parse(const char *text, size_t len, const char *where,
                               size_t *n, char *err, size_t err_len);

#endif
