/*
 * rl_curve - CURVE key pairs of the ZeroMQ links: reading and writing
 * the key files, and putting keys on a socket.
 *
 * Keys are Z85 text (40 characters for 32 bytes). A key file holds one
 * key on a line of its own; blank lines and lines starting with '#' are
 * ignored. ('#' is a Z85 character, but the largest first digit of a
 * 32-byte key is '%', so no key starts with it.) Files live in the keys
 * directory ([zmq] keys_dir, default <data_dir>/keys): NAME.key holds a secret
 * key and must not be readable, writable or executable by group or others (0600
 * or 0400); NAME.pub holds the public key. The secret key of NAME may come from
 * the environment instead, REELAY_ZMQ_SECRET_<NAME> (upper-cased), and
 * never from a command line. The public half of a secret key is derived
 * from it, so a .key file is all a process needs of its own pair.
 *
 * Failure modes: every loader returns -1 with one line in err naming the
 * file (or variable) and the reason: missing, unreadable, too open, no
 * key, more than one key, not Z85, or CURVE not built into libzmq.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CURVE_H
#define RL_CURVE_H

#include <stdbool.h>
#include <stddef.h>

#include "rl_config.h"

#define RL_CURVE_KEY_LEN 40 /* Z85 characters of a key */
#define RL_CURVE_ENV_PREFIX "REELAY_ZMQ_SECRET_"
#define RL_CURVE_ERR_LEN 512 /* enough for any error line */

/* A process's own key pair. Members are API-only; wipe with
 * rl_curve_pair_wipe() when done. */
typedef struct {
    char public_key[RL_CURVE_KEY_LEN + 1]; /* Z85 */
    char secret_key[RL_CURVE_KEY_LEN + 1]; /* Z85 */
} rl_curve_pair_t;

/* True when libzmq was built with CURVE. */
bool rl_curve_available(void);

/* True when `text` is exactly one Z85 key of RL_CURVE_KEY_LEN
 * characters. */
bool rl_curve_key_valid(const char *text);

/* True when the line (leading whitespace skipped) is a comment: it
 * starts with '#'. */
bool rl_curve_comment(const char *line, size_t len);

/* Writes the keys directory into out: [zmq] keys_dir, or
 * <data_dir>/keys when that is "". Returns 0, or -1 when it does not
 * fit. */
int rl_curve_dir(const rl_config_t *cfg, char *out, size_t out_len);

/* Writes <keys_dir>/<file> into out, keys_dir being [zmq] keys_dir or
 * <data_dir>/keys. Returns 0, or -1 when it does not fit. */
int rl_curve_path(const rl_config_t *cfg, const char *file, char *out,
                  size_t out_len);

/* Reads the one key of a public key file. Returns 0 or -1 (err). */
int rl_curve_read_public(const char *path, char out[RL_CURVE_KEY_LEN + 1],
                         char *err, size_t err_len);

/* Reads a secret key file, refusing one that group or others may
 * access, and derives the public key. Returns 0 or -1 (err). */
int rl_curve_read_pair(const char *path, rl_curve_pair_t *out, char *err,
                       size_t err_len);

/* The key pair of `name` ("broker", "worker", ...): from
 * REELAY_ZMQ_SECRET_<NAME> when set, else <keys_dir>/<name>.key.
 * Returns 0 or -1 (err). */
int rl_curve_load_pair(const rl_config_t *cfg, const char *name,
                       rl_curve_pair_t *out, char *err, size_t err_len);

/* The public key of `name` from <keys_dir>/<name>.pub. Returns 0 or -1
 * (err). */
int rl_curve_load_public(const rl_config_t *cfg, const char *name,
                         char out[RL_CURVE_KEY_LEN + 1], char *err,
                         size_t err_len);

/* Makes a new key pair and writes <dir>/<name>.key and <dir>/<name>.pub,
 * both 0600 (a public key is no secret, but reelay writes every file
 * 0600). Refuses to overwrite either file. Returns 0 or -1 (err). */
int rl_curve_keygen(const char *dir, const char *name, char *err,
                    size_t err_len);

/* Makes `sock` a CURVE server with key pair `own`, its ZAP requests
 * carrying `domain`. Call before zmq_bind. Returns 0 or -1 (errno). */
int rl_curve_server(void *sock, const rl_curve_pair_t *own, const char *domain);

/* Makes `sock` a CURVE client of the server whose public key is
 * server_key. Call before zmq_connect. Returns 0 or -1 (errno). */
int rl_curve_client(void *sock, const rl_curve_pair_t *own,
                    const char *server_key);

/* Zeroes the pair (secret included). */
void rl_curve_pair_wipe(rl_curve_pair_t *p);

#endif
