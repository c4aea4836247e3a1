/*
 * rl_cidr - parsing and matching IP networks.
 * SPDX-License-Identifier: MIT
 */
#include "rl_cidr.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rl_fmt.h"

#define S_V4_BITS 32
#define S_V6_BITS 128
#define S_V4_LEN 4
#define S_V6_LEN 16
#define S_BYTE_BITS 8

/* Clears the bits of b (len bytes) beyond the first `prefix`. */
static void
s_mask(uint8_t *b, size_t len, int prefix)
{
    for (size_t i = 0; i < len; i++) {
        int keep = prefix - (int)(i * S_BYTE_BITS);

        if (keep >= S_BYTE_BITS)
            continue;
        b[i] &= keep <= 0 ? 0 : (uint8_t)(0xFF << (S_BYTE_BITS - keep));
    }
}

/* The prefix after '/', or -1 when it is not a number in [0, max]. */
static int
s_prefix(const char *text, int max)
{
    char *end = NULL;
    long n;

    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    n = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || n < 0 || n > max)
        return -1;
    return (int)n;
}

static int
s_parse(const char *text, rl_cidr_t *net)
{
    char addr[RL_CIDR_TEXT_MAX];
    const char *slash = strchr(text, '/');
    size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
    int bits;

    if (alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, text, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, net->addr) == 1)
        net->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, net->addr) == 1)
        net->family = AF_INET6;
    else
        return -1;
    bits = net->family == AF_INET ? S_V4_BITS : S_V6_BITS;
    net->prefix = slash != NULL ? s_prefix(slash + 1, bits) : bits;
    if (net->prefix < 0)
        return -1;
    s_mask(net->addr, net->family == AF_INET ? S_V4_LEN : S_V6_LEN,
           net->prefix);
    return 0;
}

int
rl_cidr_parse(const char *text, rl_cidr_t *net)
{
    assert(text != NULL && net != NULL);
    memset(net, 0, sizeof *net);
    if (s_parse(text, net) == 0)
        return 0;
    memset(net, 0, sizeof *net);
    return -1;
}

bool
rl_cidr_has(const rl_cidr_t *net, int family, const uint8_t *bytes)
{
    uint8_t copy[S_V6_LEN];
    size_t len = family == AF_INET ? S_V4_LEN : S_V6_LEN;

    assert(net != NULL && bytes != NULL);
    if (net->family != family)
        return false;
    memcpy(copy, bytes, len);
    s_mask(copy, len, net->prefix);
    return memcmp(copy, net->addr, len) == 0;
}

bool
rl_cidr_is_single(const rl_cidr_t *net)
{
    assert(net != NULL);
    return net->prefix == (net->family == AF_INET ? S_V4_BITS : S_V6_BITS);
}

const char *
rl_cidr_text(const rl_cidr_t *net, char *buf, size_t len)
{
    char addr[RL_CIDR_TEXT_MAX];

    assert(net != NULL && buf != NULL && len > 0);
    if ((net->family != AF_INET && net->family != AF_INET6) ||
        inet_ntop(net->family, net->addr, addr, sizeof addr) == NULL)
        goto unknown;
    if (rl_fmt(buf, len, "%s/%d", addr, net->prefix) != 0)
        goto unknown;
    return buf;
unknown:
    rl_fmt_msg(buf, len, "?");
    return buf;
}
