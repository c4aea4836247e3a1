/*
 * keys - a local deployment's key pairs and allow files.
 * SPDX-License-Identifier: MIT
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rl_curve.h"
#include "rl_fmt.h"

#define KEYS_DIR_MODE 0700
#define KEYS_ALLOW_MODE 0600
#define KEYS_PATH_LEN 1024

static const char *const s_pairs[] = {"broker", "worker", "deliverer", "cli"};

/* Each link's allow file and the key pair it lists at first. */
static const struct {
    const char *domain;
    const char *peer;
} s_links[] = {
    {"dispatch", "worker"},
    {"completion", "worker"},
    {"ingress", "cli"},
};

static int
s_mkdir(const char *dir, char *err, size_t err_len)
{
    char buf[KEYS_PATH_LEN];
    if (rl_fmt(buf, sizeof buf, "%s", dir) != 0) {
        rl_fmt_msg(err, err_len, "%s: path too long", dir);
        return -1;
    }
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(buf, KEYS_DIR_MODE) == 0 || errno == EEXIST)
        return 0;
fail:
    rl_fmt_msg(err, err_len, "%s: %s", buf, strerror(errno));
    return -1;
}

/* Writes <dir>/<domain>.allow listing <dir>/<peer>.pub, unless the
 * allow file exists. */
static int
s_allow(const char *dir, const char *domain, const char *peer, char *err,
        size_t err_len)
{
    char path[KEYS_PATH_LEN + 64], pub[KEYS_PATH_LEN + 64], text[512];
    char key[RL_CURVE_KEY_LEN + 1];
    if (rl_fmt(path, sizeof path, "%s/%s.allow", dir, domain) != 0 ||
        rl_fmt(pub, sizeof pub, "%s/%s.pub", dir, peer) != 0) {
        rl_fmt_msg(err, err_len, "%s: path too long", dir);
        return -1;
    }
    if (access(path, F_OK) == 0)
        return 0;
    if (rl_curve_read_public(pub, key, err, err_len) != 0)
        return -1;
    bool fits = rl_fmt(text, sizeof text,
                       "# CURVE public keys admitted on the %s link, one "
                       "per line\n# (docs/security.md). Read again when it "
                       "changes: no restart.\n%s # %s\n",
                       domain, key, peer) == 0;
    size_t n = strlen(text);
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, KEYS_ALLOW_MODE);
    bool ok = fd >= 0 && fits && write(fd, text, n) == (ssize_t)n;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (!ok) {
        rl_fmt_msg(err, err_len, "%s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int
keys_ensure(const rl_config_t *cfg, char *err, size_t err_len)
{
    char dir[KEYS_PATH_LEN], path[KEYS_PATH_LEN + 64];
    if (!cfg->zmq_curve)
        return 0;
    if (rl_curve_dir(cfg, dir, sizeof dir) != 0) {
        rl_fmt_msg(err, err_len, "[zmq] keys_dir: path too long");
        return -1;
    }
    if (s_mkdir(dir, err, err_len) != 0)
        return -1;
    for (size_t i = 0; i < sizeof s_pairs / sizeof s_pairs[0]; i++) {
        if (rl_fmt(path, sizeof path, "%s/%s.key", dir, s_pairs[i]) != 0) {
            rl_fmt_msg(err, err_len, "%s: path too long", dir);
            return -1;
        }
        if (access(path, F_OK) != 0 &&
            rl_curve_keygen(dir, s_pairs[i], err, err_len) != 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof s_links / sizeof s_links[0]; i++)
        if (s_allow(dir, s_links[i].domain, s_links[i].peer, err, err_len) != 0)
            return -1;
    return 0;
}
