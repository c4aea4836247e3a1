/*
 * rl_config_parse - the typed values of rl_config's key tables: one
 * setter that parses, checks and stores a value as its key's type says,
 * and the validators the tables name. Private to rl_config.c.
 *
 * Limits: lists hold at most RL_CONFIG_PARSE_MAX_ITEMS entries; list
 * entries are comma-separated and trimmed, and an empty entry is an
 * error. Every failure writes a short reason (no location) into why.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CONFIG_PARSE_H
#define RL_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define RL_CONFIG_WHY_LEN 200 /* a reason, without its location */
#define RL_CONFIG_PARSE_MAX_ITEMS 32
#define RL_CONFIG_MAX_DELAY_S 86400      /* longest retry delay */
#define RL_CONFIG_MAX_PRICE_SECONDS 3600 /* longest priced duration */
#define RL_CONFIG_MAX_PRICE_CREDITS 1000000L
#define RL_CONFIG_MAX_ACL_USER 128     /* [redis] username */
#define RL_CONFIG_MAX_WAIT_REPLICAS 16 /* [redis] wait_replicas */
#define RL_CONFIG_DAY_MS 86400000.0    /* RL_KEY_DAYS_MS: ms in a day */

typedef enum {
    RL_KEY_STR,     /* char *, checked by `check` */
    RL_KEY_INT,     /* int within [min, max] */
    RL_KEY_LONG,    /* long within [min, max] */
    RL_KEY_BOOL,    /* bool: true|false|yes|no|on|off|1|0 */
    RL_KEY_LIST,    /* char *[max] + size_t count, each entry checked */
    RL_KEY_SECS_MS, /* seconds (fractional) as long ms[max] + count */
    RL_KEY_PRICES,  /* "5s:3, 10s:6" as rl_price_t[max] + count */
    RL_KEY_DAYS_MS, /* days (fractional, 0..max) as long ms; a value
                       above 0 must come to at least 1 ms */
} rl_config_type_t;

/* Returns 0 when value is acceptable, else -1 with a reason in why. */
typedef int (*rl_config_check_fn)(const char *value, char *why, size_t why_len);

/* One key of a table. Lists take min/max as their entry count bounds. */
typedef struct {
    const char *section; /* "redis", or "provider"/"model" */
    const char *name;    /* key name in the file */
    rl_config_type_t type;
    size_t off;               /* value's offset in the section struct */
    size_t count_off;         /* lists: offset of their size_t count */
    long min, max;            /* bounds, see above */
    rl_config_check_fn check; /* strings and list entries; may be NULL */
    const char *def;          /* default as text; NULL: required */
    bool pending;             /* lives in rl_config.c's model refs */
} rl_config_key_t;

/* Parses `value` as k says and stores it at base + k->off, replacing
 * (and freeing) the previous value. On error returns -1 with a reason in
 * why and leaves the stored value unchanged. */
int rl_config_parse_set(const rl_config_key_t *k, void *base, const char *value,
                        char *why, size_t why_len);

/* Frees the values of the keys whose `pending` equals `pending`. */
void rl_config_parse_release(const rl_config_key_t *keys, size_t n, void *base,
                             bool pending);

/* The first required key (NULL default) still unset, or NULL. Pending
 * keys are looked up in refs. */
const rl_config_key_t *rl_config_parse_missing(const rl_config_key_t *keys,
                                               size_t n, const void *base,
                                               const void *refs);

/* Validators for the tables. */
int rl_config_check_nonempty(const char *v, char *why, size_t why_len);
int rl_config_check_host(const char *v, char *why, size_t why_len);
int rl_config_check_addr(const char *v, char *why, size_t why_len);
int rl_config_check_endpoint(const char *v, char *why, size_t why_len);
int rl_config_check_url(const char *v, char *why, size_t why_len);
int rl_config_check_ratio(const char *v, char *why, size_t why_len);
int rl_config_check_name(const char *v, char *why, size_t why_len);
int rl_config_check_fsync(const char *v, char *why, size_t why_len);
int rl_config_check_level(const char *v, char *why, size_t why_len);
int rl_config_check_ptype(const char *v, char *why, size_t why_len);
int rl_config_check_master_key(const char *v, char *why, size_t why_len);
int rl_config_check_signup(const char *v, char *why, size_t why_len);
/* An ACL user name: printable, no spaces; "" allowed (none). */
int rl_config_check_acl_user(const char *v, char *why, size_t why_len);
/* [redis] cluster: "" or "host:port,..." (rl_cmap_seeds_parse). */
int rl_config_check_cluster(const char *v, char *why, size_t why_len);
/* A secret: one line, shorter than RL_SECRET_MAX; "" allowed. */
int rl_config_check_secret(const char *v, char *why, size_t why_len);

#endif
