/*
 * rl_config_parse - parse, check and store one typed config value, and
 * the validators named by rl_config.c's key tables.
 * SPDX-License-Identifier: MIT
 */
#include "rl_config_parse.h"
#include "rl_crypto.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rl_alloc.h"
#include "rl_cmap.h"
#include "rl_config.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_ptype.h"
#include "rl_secret.h"

#define DIGITS "0123456789"
#define MAX_HOST 253  /* a DNS name */
#define MAX_LABEL 63  /* one label of it */
#define MAX_RATIO 100 /* largest side of an aspect ratio, "21:9" */

/* Trims leading and trailing blanks in place. */
static char *
s_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static bool
s_all_of(const char *s, const char *set)
{
    return s[0] != '\0' && strspn(s, set) == strlen(s);
}

static int
s_parse_long(const char *v, long lo, long hi, long *out, char *why,
             size_t why_len)
{
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end != '\0' || isspace((unsigned char)*v)) {
        rl_fmt_msg(why, why_len, "'%.60s' is not a whole number", v);
        return -1;
    }
    if (errno == ERANGE || n < lo || n > hi) {
        rl_fmt_msg(why, why_len, "'%.60s' is out of bounds [%ld, %ld]", v, lo,
                   hi);
        return -1;
    }
    *out = n;
    return 0;
}

static int
s_parse_bool(const char *v, bool *out, char *why, size_t why_len)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            *out = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    rl_fmt_msg(why, why_len, "'%.60s' is not a boolean (true or false)", v);
    return -1;
}

/* Splits a comma list into trimmed entries that point into *copy, which
 * the caller frees. Returns the count (0 for an empty value) or -1. */
static int
s_split(const char *value, long cap, char **copy, char **items, char *why,
        size_t why_len)
{
    assert(cap <= RL_CONFIG_PARSE_MAX_ITEMS);
    *copy = rl_strdup(value);
    char *p = s_trim(*copy);
    int n = 0;
    if (*p == '\0')
        return 0;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        char *item = s_trim(p);
        if (*item == '\0') {
            rl_fmt_msg(why, why_len, "empty entry in list");
            return -1;
        }
        if (n == cap) {
            rl_fmt_msg(why, why_len, "more than %ld entries", cap);
            return -1;
        }
        items[n++] = item;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

static int
s_set_str(const rl_config_key_t *k, char **at, const char *value, char *why,
          size_t why_len)
{
    if (k->check != NULL && k->check(value, why, why_len) != 0)
        return -1;
    free(*at);
    *at = rl_strdup(value);
    return 0;
}

static int
s_set_list(const rl_config_key_t *k, char **at, size_t *count, char **items,
           int n, char *why, size_t why_len)
{
    for (int i = 0; i < n; i++)
        if (k->check != NULL && k->check(items[i], why, why_len) != 0)
            return -1;
    for (size_t i = 0; i < *count; i++)
        free(at[i]);
    for (int i = 0; i < n; i++)
        at[i] = rl_strdup(items[i]);
    *count = (size_t)n;
    return 0;
}

/* "0.2" seconds -> 200 ms; digits and at most one dot, no sign. */
static int
s_parse_secs(const char *item, long *ms, char *why, size_t why_len)
{
    const char *dot = strchr(item, '.');
    char *end = NULL;
    double secs = 0;
    if (s_all_of(item, DIGITS ".") && strspn(item, ".") < strlen(item) &&
        (dot == NULL || strchr(dot + 1, '.') == NULL))
        secs = strtod(item, &end);
    if (end == NULL || *end != '\0') {
        rl_fmt_msg(why, why_len, "'%.60s' is not a number of seconds", item);
        return -1;
    }
    if (secs > RL_CONFIG_MAX_DELAY_S) {
        rl_fmt_msg(why, why_len, "'%.60s' is out of bounds [0, %d] seconds",
                   item, RL_CONFIG_MAX_DELAY_S);
        return -1;
    }
    *ms = (long)llround(secs * 1000.0);
    return 0;
}

static int
s_set_secs(long *at, size_t *count, char **items, int n, char *why,
           size_t why_len)
{
    long ms[RL_CONFIG_PARSE_MAX_ITEMS];
    for (int i = 0; i < n; i++)
        if (s_parse_secs(items[i], &ms[i], why, why_len) != 0)
            return -1;
    memcpy(at, ms, (size_t)n * sizeof ms[0]);
    *count = (size_t)n;
    return 0;
}

/* RL_KEY_DAYS_MS stores up to RL_CONFIG_MAX_RETENTION_DAYS in ms. */
_Static_assert(sizeof(long) >= 8, "a long holds a number of days in ms");

/* "0.5" days -> 43200000 ms, within [0, max] days; digits and at most
 * one dot, no sign. 0 is 0; a positive value that rounds below 1 ms is
 * refused rather than read as 0, which means "off" to its readers. */
static int
s_parse_days(const char *v, long max, long *ms, char *why, size_t why_len)
{
    const char *dot = strchr(v, '.');
    char *end = NULL;
    double days = -1;
    if (s_all_of(v, DIGITS ".") && strspn(v, ".") < strlen(v) &&
        (dot == NULL || strchr(dot + 1, '.') == NULL))
        days = strtod(v, &end);
    if (end == NULL || *end != '\0') {
        rl_fmt_msg(why, why_len, "'%.60s' is not a number of days", v);
        return -1;
    }
    if (days > (double)max) {
        rl_fmt_msg(why, why_len, "'%.60s' is out of bounds [0, %ld] days", v,
                   max);
        return -1;
    }
    long n = (long)llround(days * RL_CONFIG_DAY_MS);
    if (days > 0 && n < 1) {
        rl_fmt_msg(why, why_len, "'%.60s' days is less than 1 ms", v);
        return -1;
    }
    *ms = n;
    return 0;
}

/* "5s:3" or "5:3" -> {5, 3}. Edits item in place. */
static int
s_parse_price(char *item, rl_price_t *p, char *why, size_t why_len)
{
    char *colon = strchr(item, ':');
    long secs = 0, credits = 0;
    char tmp[RL_CONFIG_WHY_LEN];
    if (colon != NULL) {
        *colon = '\0';
        char *d = s_trim(item);
        size_t len = strlen(d);
        if (len > 1 && d[len - 1] == 's')
            d[len - 1] = '\0';
        if (s_all_of(d, DIGITS) &&
            s_parse_long(d, 1, RL_CONFIG_MAX_PRICE_SECONDS, &secs, tmp,
                         sizeof tmp) == 0 &&
            s_parse_long(s_trim(colon + 1), 0, RL_CONFIG_MAX_PRICE_CREDITS,
                         &credits, tmp, sizeof tmp) == 0) {
            p->seconds = (int)secs;
            p->credits = credits;
            return 0;
        }
        *colon = ':';
    }
    rl_fmt_msg(why, why_len,
               "bad price '%.40s' (expected SECONDS[s]:CREDITS, seconds "
               "1..%d, credits 0..%ld)",
               item, RL_CONFIG_MAX_PRICE_SECONDS, RL_CONFIG_MAX_PRICE_CREDITS);
    return -1;
}

static int
s_set_prices(rl_price_t *at, size_t *count, char **items, int n, char *why,
             size_t why_len)
{
    rl_price_t prices[RL_CONFIG_PARSE_MAX_ITEMS];
    for (int i = 0; i < n; i++) {
        if (s_parse_price(items[i], &prices[i], why, why_len) != 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (prices[j].seconds == prices[i].seconds) {
                rl_fmt_msg(why, why_len, "duration %ds is priced twice",
                           prices[i].seconds);
                return -1;
            }
    }
    memcpy(at, prices, (size_t)n * sizeof prices[0]);
    *count = (size_t)n;
    return 0;
}

/* The three list types: split, check the count, then parse each entry. */
static int
s_set_any_list(const rl_config_key_t *k, void *base, const char *value,
               char *why, size_t why_len)
{
    char *items[RL_CONFIG_PARSE_MAX_ITEMS];
    char *copy = NULL;
    void *at = (char *)base + k->off;
    size_t *count = (size_t *)(void *)((char *)base + k->count_off);
    int rc = -1;
    int n = s_split(value, k->max, &copy, items, why, why_len);
    if (n < 0)
        goto out;
    if (n < k->min) {
        rl_fmt_msg(why, why_len, "needs at least %ld entries", k->min);
        goto out;
    }
    if (k->type == RL_KEY_LIST)
        rc = s_set_list(k, at, count, items, n, why, why_len);
    else if (k->type == RL_KEY_SECS_MS)
        rc = s_set_secs(at, count, items, n, why, why_len);
    else
        rc = s_set_prices(at, count, items, n, why, why_len);
out:
    free(copy);
    return rc;
}

int
rl_config_parse_set(const rl_config_key_t *k, void *base, const char *value,
                    char *why, size_t why_len)
{
    assert(k != NULL && base != NULL && value != NULL && why != NULL);
    void *at = (char *)base + k->off;
    long n = 0;
    switch (k->type) {
    case RL_KEY_STR:
        return s_set_str(k, at, value, why, why_len);
    case RL_KEY_INT:
    case RL_KEY_LONG:
        if (s_parse_long(value, k->min, k->max, &n, why, why_len) != 0)
            return -1;
        if (k->type == RL_KEY_INT)
            *(int *)at = (int)n; /* bounds keep it within int */
        else
            *(long *)at = n;
        return 0;
    case RL_KEY_BOOL:
        return s_parse_bool(value, at, why, why_len);
    case RL_KEY_DAYS_MS:
        if (s_parse_days(value, k->max, &n, why, why_len) != 0)
            return -1;
        *(long *)at = n;
        return 0;
    case RL_KEY_LIST:
    case RL_KEY_SECS_MS:
    case RL_KEY_PRICES:
        return s_set_any_list(k, base, value, why, why_len);
    }
    rl_fmt_msg(why, why_len, "internal error: unknown key type");
    return -1;
}

void
rl_config_parse_release(const rl_config_key_t *keys, size_t n, void *base,
                        bool pending)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].pending != pending)
            continue;
        void *at = (char *)base + keys[i].off;
        if (keys[i].type == RL_KEY_STR) {
            RL_FREE(*(char **)at);
        } else if (keys[i].type == RL_KEY_LIST) {
            size_t *count =
                (size_t *)(void *)((char *)base + keys[i].count_off);
            for (size_t j = 0; j < *count; j++)
                RL_FREE(((char **)at)[j]);
            *count = 0;
        }
    }
}

const rl_config_key_t *
rl_config_parse_missing(const rl_config_key_t *keys, size_t n, const void *base,
                        const void *refs)
{
    for (size_t i = 0; i < n; i++) {
        const rl_config_key_t *k = &keys[i];
        const char *b = k->pending ? refs : base;
        if (k->def != NULL)
            continue;
        if (k->type == RL_KEY_STR && *(char *const *)(b + k->off) == NULL)
            return k;
        if ((k->type == RL_KEY_LIST || k->type == RL_KEY_SECS_MS ||
             k->type == RL_KEY_PRICES) &&
            *(const size_t *)(const void *)(b + k->count_off) == 0)
            return k;
    }
    return NULL;
}

/* An IPv4 address or a DNS name (letters, digits, '-' and '.'). */
static bool
s_valid_host(const char *h)
{
    struct in_addr addr;
    size_t len = strlen(h), label = 0;
    if (len == 0 || len > MAX_HOST)
        return false;
    if (s_all_of(h, DIGITS "."))
        return inet_pton(AF_INET, h, &addr) == 1;
    for (size_t i = 0; i <= len; i++) {
        if (h[i] == '.' || h[i] == '\0') {
            if (label == 0 || label > MAX_LABEL || h[i - 1] == '-')
                return false;
            label = 0;
        } else if (isalnum((unsigned char)h[i]) || (h[i] == '-' && label)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

int
rl_config_split_addr(const char *addr, char *host, size_t host_len, int *port)
{
    assert(host != NULL && port != NULL);
    char name[MAX_HOST + 1];
    long n = 0;
    char why[RL_CONFIG_WHY_LEN];
    const char *colon = addr != NULL ? strrchr(addr, ':') : NULL;
    if (colon == NULL || (size_t)(colon - addr) >= sizeof name ||
        (size_t)(colon - addr) >= host_len)
        return -1;
    memcpy(name, addr, (size_t)(colon - addr));
    name[colon - addr] = '\0';
    if (!s_valid_host(name) || !s_all_of(colon + 1, DIGITS) ||
        s_parse_long(colon + 1, 1, 65535, &n, why, sizeof why) != 0)
        return -1;
    memcpy(host, name, (size_t)(colon - addr) + 1);
    *port = (int)n;
    return 0;
}

int
rl_config_check_cluster(const char *v, char *why, size_t why_len)
{
    rl_cmap_addr_t seeds[RL_CMAP_MAX_SEEDS];

    if (v[0] == '\0' ||
        rl_cmap_seeds_parse(v, seeds, RL_CMAP_MAX_SEEDS, why, why_len) > 0)
        return 0;
    return -1;
}

int
rl_config_check_nonempty(const char *v, char *why, size_t why_len)
{
    if (v[0] != '\0')
        return 0;
    rl_fmt_msg(why, why_len, "must not be empty");
    return -1;
}

int
rl_config_check_host(const char *v, char *why, size_t why_len)
{
    if (s_valid_host(v))
        return 0;
    rl_fmt_msg(why, why_len, "'%.60s' is not a host name or IPv4 address", v);
    return -1;
}

int
rl_config_check_addr(const char *v, char *why, size_t why_len)
{
    char host[MAX_HOST + 1];
    int port;
    if (rl_config_split_addr(v, host, sizeof host, &port) == 0)
        return 0;
    rl_fmt_msg(why, why_len, "'%.60s' is not HOST:PORT (port 1..65535)", v);
    return -1;
}

/* tcp://HOST:PORT (HOST may be '*' to bind all), ipc://PATH, inproc://X */
int
rl_config_check_endpoint(const char *v, char *why, size_t why_len)
{
    char tmp[RL_CONFIG_WHY_LEN], any[RL_CONFIG_WHY_LEN];
    if (strncmp(v, "tcp://", 6) == 0) {
        const char *addr = v + 6;
        /* '*' binds every interface: check the port alone (a "*:..."
         * too long for any stays, and is refused). */
        if (strncmp(addr, "*:", 2) == 0 &&
            rl_fmt(any, sizeof any, "localhost%s", addr + 1) == 0)
            addr = any;
        if (rl_config_check_addr(addr, tmp, sizeof tmp) == 0)
            return 0;
    } else if ((strncmp(v, "ipc://", 6) == 0 && v[6] != '\0') ||
               (strncmp(v, "inproc://", 9) == 0 && v[9] != '\0')) {
        return 0;
    }
    rl_fmt_msg(why, why_len,
               "'%.60s' is not an endpoint (tcp://HOST:PORT, ipc://PATH or "
               "inproc://NAME)",
               v);
    return -1;
}

int
rl_config_check_url(const char *v, char *why, size_t why_len)
{
    const char *rest = NULL;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    if (rest != NULL && rest[0] != '\0' && rest[0] != '/' &&
        strcspn(v, " \t\r\n") == strlen(v))
        return 0;
    rl_fmt_msg(why, why_len, "'%.60s' is not an http:// or https:// URL", v);
    return -1;
}

/* "16:9": two whole numbers 1..MAX_RATIO. */
int
rl_config_check_ratio(const char *v, char *why, size_t why_len)
{
    char side[RL_CONFIG_WHY_LEN];
    long w = 0, h = 0;
    const char *colon = strchr(v, ':');
    if (colon != NULL && (size_t)(colon - v) < sizeof side) {
        memcpy(side, v, (size_t)(colon - v));
        side[colon - v] = '\0';
        char tmp[RL_CONFIG_WHY_LEN];
        if (s_all_of(side, DIGITS) && s_all_of(colon + 1, DIGITS) &&
            s_parse_long(side, 1, MAX_RATIO, &w, tmp, sizeof tmp) == 0 &&
            s_parse_long(colon + 1, 1, MAX_RATIO, &h, tmp, sizeof tmp) == 0)
            return 0;
    }
    rl_fmt_msg(why, why_len, "'%.60s' is not an aspect ratio like 16:9", v);
    return -1;
}

/* Section and model names: they become environment variable names. */
int
rl_config_check_name(const char *v, char *why, size_t why_len)
{
    size_t len = strlen(v);
    if (len > 0 && len <= RL_CONFIG_MAX_NAME &&
        strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" DIGITS
                  "._-") == len)
        return 0;
    rl_fmt_msg(why, why_len,
               "'%.60s' is not a name (1..%d of A-Z a-z 0-9 . _ -)", v,
               RL_CONFIG_MAX_NAME);
    return -1;
}

/* Is v one of the '|'-separated words? */
static int
s_check_word(const char *v, const char *words, char *why, size_t why_len)
{
    size_t len = strlen(v);
    for (const char *w = words; *w != '\0';) {
        size_t wlen = strcspn(w, "|");
        if (wlen == len && strncmp(w, v, len) == 0)
            return 0;
        w += wlen + (w[wlen] == '|');
    }
    rl_fmt_msg(why, why_len, "'%.60s' is not one of %s", v, words);
    return -1;
}

int
rl_config_check_fsync(const char *v, char *why, size_t why_len)
{
    return s_check_word(v, "always|everysec", why, why_len);
}

int
rl_config_check_level(const char *v, char *why, size_t why_len)
{
    if (rl_log_level_parse(v) >= 0)
        return 0;
    return s_check_word(v, "error|warn|info|debug", why, why_len);
}

int
rl_config_check_ptype(const char *v, char *why, size_t why_len)
{
    char types[RL_PTYPE_LIST_MAX];
    rl_ptype_list('|', types);
    return s_check_word(v, types, why, why_len);
}

int
rl_config_check_master_key(const char *v, char *why, size_t why_len)
{
    uint8_t key[RL_AEAD_KEY_LEN];
    if (v[0] == '\0' || rl_aead_parse_key(v, key) == 0)
        return 0;
    rl_fmt_msg(why, why_len, "must be 64 hex digits (32 bytes)");
    return -1;
}

int
rl_config_check_signup(const char *v, char *why, size_t why_len)
{
    return s_check_word(v, "open|admin|closed", why, why_len);
}

int
rl_config_check_acl_user(const char *v, char *why, size_t why_len)
{
    size_t n = strlen(v);
    if (n > RL_CONFIG_MAX_ACL_USER) {
        rl_fmt_msg(why, why_len, "longer than %d characters",
                   RL_CONFIG_MAX_ACL_USER);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!isgraph((unsigned char)v[i])) {
            rl_fmt_msg(why, why_len,
                       "an ACL user name has no spaces or "
                       "control characters");
            return -1;
        }
    }
    return 0;
}

int
rl_config_check_secret(const char *v, char *why, size_t why_len)
{
    if (strlen(v) >= RL_SECRET_MAX) {
        rl_fmt_msg(why, why_len, "longer than %d bytes", RL_SECRET_MAX - 1);
        return -1;
    }
    if (strpbrk(v, "\r\n") != NULL) {
        rl_fmt_msg(why, why_len, "must be one line");
        return -1;
    }
    return 0;
}
