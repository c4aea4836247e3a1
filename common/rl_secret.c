/*
 * rl_secret - read and create secret files.
 * SPDX-License-Identifier: MIT
 */
#include "rl_secret.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rl_crypto.h"
#include "rl_fmt.h"

/* Reads from fd into buf until a line end, EOF or len bytes. Returns
 * the bytes read, or -1. */
static ssize_t
s_read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n < len) {
        ssize_t got = read(fd, buf + n, len - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0)
            break;
        n += (size_t)got;
        if (memchr(buf + n - (size_t)got, '\n', (size_t)got) != NULL)
            break;
    }
    return (ssize_t)n;
}

int
rl_secret_read(const char *path, char *buf, size_t len, char *why,
               size_t why_len)
{
    assert(path != NULL);
    assert(buf != NULL && len > 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rl_fmt_msg(why, why_len, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    ssize_t n = s_read_line(fd, buf, len);
    int read_errno = errno;
    close(fd);
    if (n < 0) {
        rl_fmt_msg(why, why_len, "cannot read %s: %s", path,
                   strerror(read_errno));
        goto fail;
    }
    size_t end = 0;
    while (end < (size_t)n && buf[end] != '\n' && buf[end] != '\r' &&
           buf[end] != '\0')
        end++;
    if (end == len) {
        rl_fmt_msg(why, why_len, "%s: the secret is longer than %zu bytes",
                   path, len - 1);
        goto fail;
    }
    if (end < (size_t)n && buf[end] == '\0') {
        rl_fmt_msg(why, why_len, "%s: the secret contains a NUL byte", path);
        goto fail;
    }
    if (end == 0) {
        rl_fmt_msg(why, why_len, "%s is empty", path);
        goto fail;
    }
    buf[end] = '\0';
    return 0;
fail:
    explicit_bzero(buf, len);
    return -1;
}

/* Writes all of buf to fd. Returns 0 or -1. */
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

int
rl_secret_create(const char *path, size_t nbytes)
{
    assert(path != NULL);
    assert(nbytes > 0 && 2 * nbytes + 2 <= RL_SECRET_MAX);
    uint8_t raw[RL_SECRET_MAX / 2];
    char hex[RL_SECRET_MAX];
    int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    int rc = rl_random_bytes(raw, nbytes);
    if (rc == 0) {
        rl_hex(raw, nbytes, hex); /* 2 * nbytes + 1 <= RL_SECRET_MAX */
        hex[2 * nbytes] = '\n';
        rc = s_write_all(fd, hex, 2 * nbytes + 1);
    }
    if (rc == 0)
        rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0) {
        unlink(path);
        errno = saved != 0 ? saved : EIO;
    }
    explicit_bzero(raw, sizeof raw);
    explicit_bzero(hex, sizeof hex);
    return rc == 0 ? 0 : -1;
}
