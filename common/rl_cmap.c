/*
 * rl_cmap - Redis Cluster slot maps, redirections and seed lists.
 * SPDX-License-Identifier: MIT
 */
#include "rl_cmap.h"

#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "rl_fmt.h"

#define S_PORT_MAX 65535
#define S_SLOT_DIGITS 5 /* 16383 */
#define S_PORT_DIGITS 5 /* 65535 */

/* letters, digits and ".-:_" only: a name, IPv4 or IPv6 address. */
static bool
s_host_ok(const char *h, size_t len)
{
    if (len == 0 || len >= RL_CMAP_HOST_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)h[i]) &&
            (h[i] == '\0' || strchr(".-:_", h[i]) == NULL))
            return false;
    return true;
}

/* A decimal of 1..digits digits and nothing else, at most max. */
static long
s_dec(const char *s, size_t len, size_t digits, long max)
{
    long v = 0;

    if (len == 0 || len > digits)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/* "host:port" of len bytes into out; an empty host is `empty_host`
 * (NULL: refused). Brackets around the host are dropped. */
static int
s_addr(const char *s, size_t len, const char *empty_host, rl_cmap_addr_t *out)
{
    const char *colon = NULL;
    size_t hlen;
    long port;

    for (size_t i = len; i > 0; i--)
        if (s[i - 1] == ':') {
            colon = s + i - 1;
            break;
        }
    if (colon == NULL)
        return -1;
    hlen = (size_t)(colon - s);
    port = s_dec(colon + 1, len - hlen - 1, S_PORT_DIGITS, S_PORT_MAX);
    if (port < 1)
        return -1;
    if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
        s++;
        hlen -= 2;
    }
    if (hlen == 0 && empty_host != NULL) {
        s = empty_host;
        hlen = strlen(empty_host);
    }
    if (!s_host_ok(s, hlen))
        return -1;
    memcpy(out->host, s, hlen);
    out->host[hlen] = '\0';
    out->port = (int)port;
    return 0;
}

int
rl_cmap_seeds_parse(const char *list, rl_cmap_addr_t *out, size_t max,
                    char *why, size_t why_len)
{
    assert(list != NULL && out != NULL && max > 0);
    size_t n = 0;
    const char *p = list;

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        while (p < end && isspace((unsigned char)*p))
            p++;
        while (end > p && isspace((unsigned char)end[-1]))
            end--;
        if (n == max) {
            rl_fmt_msg(why, why_len, "more than %zu nodes", max);
            return -1;
        }
        if (s_addr(p, (size_t)(end - p), NULL, &out[n]) != 0) {
            rl_fmt_msg(why, why_len, "'%.*s' is not HOST:PORT (port 1..65535)",
                       (int)((end - p) > 60 ? 60 : (end - p)), p);
            return -1;
        }
        n++;
        if (comma == NULL)
            return (int)n;
        p = comma + 1;
    }
}

/* True when err (len bytes) is `word` alone or followed by a space. */
static bool
s_word(const char *err, size_t len, const char *word)
{
    size_t wl = strlen(word);
    return len >= wl && memcmp(err, word, wl) == 0 &&
           (len == wl || err[wl] == ' ');
}

/* "<slot> <host>:<port>" after MOVED or ASK. */
static rl_cmap_kind_t
s_target(const char *s, size_t len, const char *asked_host,
         rl_cmap_redirect_t *out)
{
    const char *space = memchr(s, ' ', len);
    long slot;

    if (space == NULL)
        return RL_CMAP_MALFORMED;
    slot = s_dec(s, (size_t)(space - s), S_SLOT_DIGITS, RL_SLOT_COUNT - 1);
    if (slot < 0 || s_addr(space + 1, len - (size_t)(space - s) - 1, asked_host,
                           &out->addr) != 0)
        return RL_CMAP_MALFORMED;
    out->slot = (int)slot;
    return out->kind;
}

rl_cmap_kind_t
rl_cmap_redirect(const char *err, size_t len, const char *asked_host,
                 rl_cmap_redirect_t *out)
{
    assert(out != NULL);
    memset(out, 0, sizeof *out);
    out->kind = RL_CMAP_ANSWER;
    if (err == NULL)
        return out->kind;
    if (s_word(err, len, "MOVED") && len > 6) {
        out->kind = RL_CMAP_MOVED;
        out->kind = s_target(err + 6, len - 6, asked_host, out);
    } else if (s_word(err, len, "ASK") && len > 4) {
        out->kind = RL_CMAP_ASK;
        out->kind = s_target(err + 4, len - 4, asked_host, out);
    } else if (s_word(err, len, "MOVED") || s_word(err, len, "ASK")) {
        out->kind = RL_CMAP_MALFORMED;
    } else if (s_word(err, len, "TRYAGAIN")) {
        out->kind = RL_CMAP_TRYAGAIN;
    } else if (s_word(err, len, "CLUSTERDOWN")) {
        out->kind = RL_CMAP_CLUSTERDOWN;
    }
    return out->kind;
}

/* The index of addr in map->addrs, added when new; -1 when full. */
static int
s_master(rl_cmap_t *map, const char *host, size_t hlen, int port)
{
    for (size_t i = 0; i < map->naddrs; i++)
        if (map->addrs[i].port == port && strlen(map->addrs[i].host) == hlen &&
            memcmp(map->addrs[i].host, host, hlen) == 0)
            return (int)i;
    if (map->naddrs == RL_CMAP_MAX_MASTERS)
        return -1;
    memcpy(map->addrs[map->naddrs].host, host, hlen);
    map->addrs[map->naddrs].host[hlen] = '\0';
    map->addrs[map->naddrs].port = port;
    return (int)map->naddrs++;
}

static bool
s_int(const redisReply *r, long long lo, long long hi)
{
    return r->type == REDIS_REPLY_INTEGER && r->integer >= lo &&
           r->integer <= hi;
}

/* One range [start, end, [host, port, ...], ...] into map. */
static int
s_range(const redisReply *e, const char *asked_host, rl_cmap_t *map, char *why,
        size_t why_len)
{
    const redisReply *m;
    const char *host;
    size_t hlen;
    int idx;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
        !s_int(e->element[0], 0, RL_SLOT_COUNT - 1) ||
        !s_int(e->element[1], e->element[0]->integer, RL_SLOT_COUNT - 1)) {
        rl_fmt_msg(why, why_len, "a range is not [start, end, master, ...]");
        return -1;
    }
    m = e->element[2];
    if (m->type != REDIS_REPLY_ARRAY || m->elements < 2 ||
        (m->element[0]->type != REDIS_REPLY_STRING &&
         m->element[0]->type != REDIS_REPLY_NIL) ||
        !s_int(m->element[1], 1, S_PORT_MAX)) {
        rl_fmt_msg(why, why_len, "a master is not [host, port, ...]");
        return -1;
    }
    host = m->element[0]->type == REDIS_REPLY_STRING ? m->element[0]->str : "";
    hlen = m->element[0]->type == REDIS_REPLY_STRING ? m->element[0]->len : 0;
    if (hlen == 1 && host[0] == '?')
        return 0; /* unknown endpoint: its slots stay without an owner */
    if (hlen == 0) {
        host = asked_host;
        hlen = strlen(asked_host);
    }
    if (!s_host_ok(host, hlen)) {
        rl_fmt_msg(why, why_len, "a master's host is not a host name");
        return -1;
    }
    idx = s_master(map, host, hlen, (int)m->element[1]->integer);
    if (idx < 0) {
        rl_fmt_msg(why, why_len, "more than %d masters", RL_CMAP_MAX_MASTERS);
        return -1;
    }
    for (long long s = e->element[0]->integer; s <= e->element[1]->integer;
         s++) {
        if (map->owner[s] != RL_CMAP_NO_OWNER) {
            rl_fmt_msg(why, why_len, "slot %lld is in two ranges", s);
            return -1;
        }
        map->owner[s] = (uint16_t)idx;
        map->nslots++;
    }
    return 0;
}

int
rl_cmap_parse(const redisReply *r, const char *asked_host, rl_cmap_t *map,
              char *why, size_t why_len)
{
    assert(asked_host != NULL && map != NULL);
    for (size_t i = 0; i < RL_SLOT_COUNT; i++)
        map->owner[i] = RL_CMAP_NO_OWNER;
    map->naddrs = 0;
    map->nslots = 0;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        rl_fmt_msg(why, why_len, "%s",
                   r != NULL && r->type == REDIS_REPLY_ERROR
                       ? "an error instead of the slot map"
                       : "not an array");
        return -1;
    }
    for (size_t i = 0; i < r->elements; i++)
        if (s_range(r->element[i], asked_host, map, why, why_len) != 0)
            return -1;
    return 0;
}
