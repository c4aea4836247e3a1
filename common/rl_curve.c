/*
 * rl_curve - CURVE key files and socket options.
 * SPDX-License-Identifier: MIT
 */
#include "rl_curve.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "rl_fmt.h"

#define S_FILE_MAX 4096      /* bytes of a key file we read */
#define S_NAME_MAX 64        /* characters of a key pair's name */
#define S_KEYS_SUBDIR "keys" /* under data_dir when keys_dir is "" */
#define S_SECRET_MODE 0600
#define S_PUBLIC_MODE 0600 /* not secret, but reelay writes every file 0600 */
#define S_OPEN_BITS (S_IRWXG | S_IRWXO) /* a secret file has none */

bool
rl_curve_available(void)
{
    return zmq_has("curve") != 0;
}

bool
rl_curve_key_valid(const char *text)
{
    uint8_t raw[32];
    return text != NULL && strlen(text) == RL_CURVE_KEY_LEN &&
           zmq_z85_decode(raw, text) != NULL;
}

static bool
s_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > S_NAME_MAX)
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

bool
rl_curve_comment(const char *line, size_t len)
{
    return len > 0 && line[0] == '#';
}

int
rl_curve_dir(const rl_config_t *cfg, char *out, size_t out_len)
{
    if (cfg->zmq_keys_dir != NULL && cfg->zmq_keys_dir[0] != '\0')
        return rl_fmt(out, out_len, "%s", cfg->zmq_keys_dir);
    return rl_fmt(out, out_len, "%s/" S_KEYS_SUBDIR, cfg->data_dir);
}

int
rl_curve_path(const rl_config_t *cfg, const char *file, char *out,
              size_t out_len)
{
    char dir[1024];
    if (rl_curve_dir(cfg, dir, sizeof dir) != 0)
        return -1;
    return rl_fmt(out, out_len, "%s/%s", dir, file);
}

/* Finds the one key line of text (modified in place: the key is
 * NUL-terminated where it ends). Returns it, or NULL with the reason. */
static const char *
s_key_line(char *text, const char **why)
{
    const char *key = NULL;
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        while (isspace((unsigned char)*line))
            line++;
        char *end = line + strlen(line);
        while (end > line && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (*line != '\0' && !rl_curve_comment(line, strlen(line))) {
            if (key != NULL) {
                *why = "more than one key";
                return NULL;
            }
            key = line;
        }
        line = next;
    }
    if (key == NULL)
        *why = "no key in it";
    else if (!rl_curve_key_valid(key))
        *why = "not a Z85 CURVE key (40 characters)";
    else
        return key;
    return NULL;
}

/* Reads path into buf (NUL-terminated); with `secret`, refuses a file
 * that group or others may access. Returns 0 or -1 (err). */
static int
s_read_file(const char *path, bool secret, char *buf, size_t len, char *err,
            size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rl_fmt_msg(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    ssize_t n = -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rl_fmt_msg(err, err_len, "%s: not a regular file", path);
    } else if (secret && (st.st_mode & S_OPEN_BITS) != 0) {
        rl_fmt_msg(err, err_len,
                   "%s: secret key file has mode %04o, open to "
                   "group or others: chmod 600 it",
                   path, (unsigned)(st.st_mode & 07777));
    } else if ((n = read(fd, buf, len - 1)) < 0) {
        rl_fmt_msg(err, err_len, "%s: %s", path, strerror(errno));
    } else if ((size_t)n == len - 1) {
        rl_fmt_msg(err, err_len, "%s: larger than %zu bytes", path, len - 1);
        n = -1;
    }
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

/* Fills the pair from a Z85 secret key; `where` names its source. */
static int
s_pair_from_secret(const char *secret, const char *where, rl_curve_pair_t *out,
                   char *err, size_t err_len)
{
    if (!rl_curve_key_valid(secret)) {
        rl_fmt_msg(err, err_len, "%s: not a Z85 CURVE key (40 characters)",
                   where);
        return -1;
    }
    memcpy(out->secret_key, secret, RL_CURVE_KEY_LEN + 1);
    if (zmq_curve_public(out->public_key, out->secret_key) != 0) {
        rl_fmt_msg(err, err_len, "%s: %s", where, zmq_strerror(zmq_errno()));
        rl_curve_pair_wipe(out);
        return -1;
    }
    return 0;
}

int
rl_curve_read_public(const char *path, char out[RL_CURVE_KEY_LEN + 1],
                     char *err, size_t err_len)
{
    char buf[S_FILE_MAX];
    const char *why = NULL;
    if (s_read_file(path, false, buf, sizeof buf, err, err_len) != 0)
        return -1;
    const char *key = s_key_line(buf, &why);
    if (key == NULL) {
        rl_fmt_msg(err, err_len, "%s: %s", path, why);
        return -1;
    }
    memcpy(out, key, RL_CURVE_KEY_LEN + 1);
    return 0;
}

int
rl_curve_read_pair(const char *path, rl_curve_pair_t *out, char *err,
                   size_t err_len)
{
    char buf[S_FILE_MAX];
    const char *why = NULL;
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (s_read_file(path, true, buf, sizeof buf, err, err_len) != 0)
        goto out;
    const char *key = s_key_line(buf, &why);
    if (key == NULL)
        rl_fmt_msg(err, err_len, "%s: %s", path, why);
    else
        rc = s_pair_from_secret(key, path, out, err, err_len);
out:
    explicit_bzero(buf, sizeof buf);
    return rc;
}

/* REELAY_ZMQ_SECRET_<NAME>: upper-cased, '-' as '_'. Returns 0, or -1
 * when it does not fit. */
static int
s_env_name(const char *name, char *out, size_t len)
{
    if (rl_fmt(out, len, RL_CURVE_ENV_PREFIX "%s", name) != 0)
        return -1;
    for (char *p = out; *p != '\0'; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    return 0;
}

int
rl_curve_load_pair(const rl_config_t *cfg, const char *name,
                   rl_curve_pair_t *out, char *err, size_t err_len)
{
    char env[sizeof RL_CURVE_ENV_PREFIX + S_NAME_MAX], path[1024];
    memset(out, 0, sizeof *out);
    /* A valid name is S_NAME_MAX characters at most: env holds it. */
    if (!s_name_valid(name) || s_env_name(name, env, sizeof env) != 0) {
        rl_fmt_msg(err, err_len, "bad key pair name '%s'", name);
        return -1;
    }
    const char *secret = getenv(env);
    if (secret != NULL)
        return s_pair_from_secret(secret, env, out, err, err_len);
    char file[S_NAME_MAX + 8];
    if (rl_fmt(file, sizeof file, "%s.key", name) != 0 ||
        rl_curve_path(cfg, file, path, sizeof path) != 0) {
        rl_fmt_msg(err, err_len, "[zmq] keys_dir: path too long");
        return -1;
    }
    return rl_curve_read_pair(path, out, err, err_len);
}

int
rl_curve_load_public(const rl_config_t *cfg, const char *name,
                     char out[RL_CURVE_KEY_LEN + 1], char *err, size_t err_len)
{
    char file[S_NAME_MAX + 8], path[1024];
    if (!s_name_valid(name)) {
        rl_fmt_msg(err, err_len, "bad key pair name '%s'", name);
        return -1;
    }
    if (rl_fmt(file, sizeof file, "%s.pub", name) != 0 ||
        rl_curve_path(cfg, file, path, sizeof path) != 0) {
        rl_fmt_msg(err, err_len, "[zmq] keys_dir: path too long");
        return -1;
    }
    return rl_curve_read_public(path, out, err, err_len);
}

/* Creates path (never over an existing file) with `mode` and writes a
 * comment line and the key. Returns 0 or -1 (err). */
static int
s_write_key(const char *path, mode_t mode, const char *what, const char *name,
            const char *key, char *err, size_t err_len)
{
    char text[256];
    bool fits =
        rl_fmt(text, sizeof text, "# reelay CURVE %s key \"%s\" (Z85)\n%s\n",
               what, name, key) == 0;
    size_t n = strlen(text);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    bool ok = fd >= 0 && fits && fchmod(fd, mode) == 0 &&
              write(fd, text, n) == (ssize_t)n;
    if (!ok)
        rl_fmt_msg(err, err_len, "%s: %s", path,
                   fd >= 0           ? "cannot write"
                   : errno == EEXIST ? "exists; not overwritten"
                                     : strerror(errno));
    if (fd >= 0 && close(fd) != 0 && ok) {
        rl_fmt_msg(err, err_len, "%s: %s", path, strerror(errno));
        ok = false;
    }
    explicit_bzero(text, sizeof text);
    if (!ok && fd >= 0)
        unlink(path);
    return ok ? 0 : -1;
}

int
rl_curve_keygen(const char *dir, const char *name, char *err, size_t err_len)
{
    char key_path[1024], pub_path[1024];
    rl_curve_pair_t p;
    int rc = -1;
    memset(&p, 0, sizeof p);
    if (!s_name_valid(name)) {
        rl_fmt_msg(err, err_len,
                   "bad key pair name '%s' (letters, digits, "
                   "'-' and '_', at most %d)",
                   name, S_NAME_MAX);
        goto out;
    }
    if (rl_fmt(key_path, sizeof key_path, "%s/%s.key", dir, name) != 0 ||
        rl_fmt(pub_path, sizeof pub_path, "%s/%s.pub", dir, name) != 0) {
        rl_fmt_msg(err, err_len, "%s: path too long", dir);
        goto out;
    }
    if (access(pub_path, F_OK) == 0) {
        rl_fmt_msg(err, err_len, "%s: exists; not overwritten", pub_path);
        goto out;
    }
    if (zmq_curve_keypair(p.public_key, p.secret_key) != 0) {
        rl_fmt_msg(err, err_len, "zmq_curve_keypair: %s",
                   zmq_strerror(zmq_errno()));
        goto out;
    }
    if (s_write_key(key_path, S_SECRET_MODE, "secret", name, p.secret_key, err,
                    err_len) != 0)
        goto out;
    if (s_write_key(pub_path, S_PUBLIC_MODE, "public", name, p.public_key, err,
                    err_len) != 0) {
        unlink(key_path);
        goto out;
    }
    rc = 0;
out:
    rl_curve_pair_wipe(&p);
    return rc;
}

int
rl_curve_server(void *sock, const rl_curve_pair_t *own, const char *domain)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, own->secret_key,
                       RL_CURVE_KEY_LEN + 1) != 0)
        return -1;
    return 0;
}

int
rl_curve_client(void *sock, const rl_curve_pair_t *own, const char *server_key)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key,
                       RL_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, own->public_key,
                       RL_CURVE_KEY_LEN + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, own->secret_key,
                       RL_CURVE_KEY_LEN + 1) != 0)
        return -1;
    return 0;
}

void
rl_curve_pair_wipe(rl_curve_pair_t *p)
{
    if (p != NULL)
        explicit_bzero(p, sizeof *p);
}
