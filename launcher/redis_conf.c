/*
 * redis_conf - write the embedded Redis's configuration file.
 * SPDX-License-Identifier: MIT
 */
#include "redis_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rl_crypto.h"
#include "rl_fmt.h"

#define REDIS_CONF_BIND_LEN 64

/* The bind directive's addresses for host, which must be loopback: the
 * embedded Redis is never reachable from another machine. */
static int
s_bind(const char *host, char *out, size_t len)
{
    struct in_addr a;
    if (strcmp(host, "localhost") == 0) /* either family may answer */
        return rl_fmt(out, len, "127.0.0.1 -::1");
    if (inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127)
        return rl_fmt(out, len, "%s", host);
    return -1;
}

/* Can s go between double quotes in a Redis config file as is? */
static int
s_quotable(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '"' || *s == '\\' || *s == '\'' || (unsigned char)*s < 32)
            return 0;
    return 1;
}

static void
s_user(FILE *f, const char *user, const char *hash)
{
    /* resetpass: no password but this one, and never nopass. */
    fprintf(f, "user %s on resetpass #%s ~* &* +@all\n", user, hash);
}

static int
s_render(FILE *f, const rl_config_t *cfg, const char *dir, const char *bind,
         const char *hash)
{
    fprintf(f,
            "# Written by `reelay up` on every start, from the [redis] "
            "section of its\n# configuration: change that, not this "
            "file. Mode 0600.\n"
            "port %d\nbind %s\nprotected-mode yes\n"
            "dir \"%s\"\n"
            "appendonly yes\nappendfsync %s\nsave \"\"\nlogfile \"\"\n",
            cfg->redis_port, bind, dir, cfg->redis_appendfsync);
    s_user(f, "default", hash);
    if (cfg->redis_username[0] != '\0' &&
        strcmp(cfg->redis_username, "default") != 0)
        s_user(f, cfg->redis_username, hash);
    return ferror(f) ? -1 : 0;
}

/* Writes the file beside path, then renames it over path. */
static int
s_write(const char *path, const rl_config_t *cfg, const char *dir,
        const char *bind, const char *hash)
{
    char tmp[PATH_MAX];
    if (rl_fmt(tmp, sizeof tmp, "%s.tmp", path) != 0)
        return -1;
    if (unlink(tmp) != 0 && errno != ENOENT)
        return -1;
    int fd =
        open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = s_render(f, cfg, dir, bind, hash);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        rc = -1;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        int saved = errno;
        unlink(tmp);
        errno = saved;
    }
    return rc;
}

int
redis_conf_write(const char *path, const rl_config_t *cfg, const char *dir,
                 const char *password, char *why, size_t why_len)
{
    char bind[REDIS_CONF_BIND_LEN], hash[RL_SHA256_HEX_LEN];
    if (s_bind(cfg->redis_host, bind, sizeof bind) != 0) {
        rl_fmt_msg(why, why_len,
                   "[redis] host %s is not a loopback address: "
                   "the embedded Redis listens on loopback only",
                   cfg->redis_host);
        return -1;
    }
    if (!s_quotable(dir) || !s_quotable(cfg->redis_username)) {
        rl_fmt_msg(why, why_len,
                   "the data directory or [redis] username has "
                   "a quote, a backslash or a control character");
        return -1;
    }
    if (password == NULL || password[0] == '\0' ||
        rl_sha256_hex(password, strlen(password), hash) != 0) {
        rl_fmt_msg(why, why_len, "no password for the embedded Redis");
        return -1;
    }
    if (s_write(path, cfg, dir, bind, hash) != 0) {
        rl_fmt_msg(why, why_len, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
