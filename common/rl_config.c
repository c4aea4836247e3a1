/*
 * rl_config - load the INI file and the environment into rl_config_t.
 * One table of fixed keys and one per dynamic section kind; every value,
 * defaults included, goes through the same setter and the same checks.
 * SPDX-License-Identifier: MIT
 */
#include "rl_config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <arpa/inet.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rl_alloc.h"
#include "rl_cidr.h"
#include "rl_config_parse.h"
#include "rl_fmt.h"
#include "rl_secret.h"

#define ERR_LEN 512      /* one error message */
#define WHERE_LEN 320    /* "file:line" or "environment NAME" */
#define ENV_NAME_LEN 160 /* REELAY_<SECTION>_<KEY> */
#define PROVIDER_PREFIX "provider."
#define MODEL_PREFIX "model."
/* The bounds rl_fmt_fit() relies on below: a section is a prefix and a
 * checked name, an environment name fits WHERE_LEN after "environment ". */
_Static_assert(sizeof PROVIDER_PREFIX + RL_CONFIG_MAX_NAME <= ENV_NAME_LEN &&
                   sizeof MODEL_PREFIX + RL_CONFIG_MAX_NAME <= ENV_NAME_LEN,
               "a section name fits ENV_NAME_LEN");
_Static_assert(sizeof "environment " + ENV_NAME_LEN <= WHERE_LEN,
               "an environment location fits WHERE_LEN");
#define MAX_MODEL_KEYS 8

/* [model.*] keys that name other sections: kept as text until every
 * section has been read, then resolved to indexes. */
typedef struct {
    char *provider;                      /* [model.X] provider */
    char *failover[RL_CONFIG_MAX_CHAIN]; /* [model.X] failover, as names */
    size_t nfailover;
    int line[MAX_MODEL_KEYS]; /* per key: its line; 0 unset, -1 from env */
} model_refs_t;

/* One load in progress: the config being filled and where we are. */
typedef struct {
    rl_config_t *c;
    model_refs_t refs[RL_CONFIG_MAX_MODELS];
    const char *file; /* for messages */
    FILE *fp;
    int line;                /* current line, counted by s_read_line */
    bool indented;           /* it starts with a blank: a continuation */
    char *acc;               /* the value of the key being continued */
    char acc_key[WHERE_LEN]; /* "section\nname" of that key */
    bool failed;             /* err holds the first error */
    int err_line;            /* its line, 0 when none */
    char err[ERR_LEN];
} load_t;

/* Bounds shared by many keys. */
#define MIN_10M 600000L     /* ten minutes in ms */
#define HOUR_MS 3600000L    /* an hour in ms */
#define DAY_S 86400L        /* a day in seconds */
#define CREDITS 1000000000L /* most credits in one account */
#define EP RL_CONFIG_MAX_ENDPOINTS

/* [webhook] allow entries: ADDR or ADDR/PREFIX, IPv4 or IPv6. */
static int
s_check_cidr(const char *v, char *why, size_t why_len)
{
    rl_cidr_t net;

    if (rl_cidr_parse(v, &net) == 0)
        return 0;
    rl_fmt_msg(why, why_len, "'%s' is not an IP address or ADDR/PREFIX", v);
    return -1;
}

#define CF(f) offsetof(rl_config_t, f)
#define NUM(t, s, k, f, lo, hi, d)                                             \
    {                                                                          \
        s, k, t, CF(f), 0, lo, hi, NULL, d, false                              \
    }
#define STR(s, k, f, chk, d)                                                   \
    {                                                                          \
        s, k, RL_KEY_STR, CF(f), 0, 0, 0, chk, d, false                        \
    }
#define INT(...) NUM(RL_KEY_INT, __VA_ARGS__)
#define LNG(...) NUM(RL_KEY_LONG, __VA_ARGS__)
#define BOOL(s, k, f, d)                                                       \
    {                                                                          \
        s, k, RL_KEY_BOOL, CF(f), 0, 0, 0, NULL, d, false                      \
    }
#define LIST(s, k, f, cap, chk, d)                                             \
    {                                                                          \
        s, k, RL_KEY_LIST, CF(f), CF(n##f), 1, cap, chk, d, false              \
    }
#define DAYS(s, k, f, max, d)                                                  \
    {                                                                          \
        s, k, RL_KEY_DAYS_MS, CF(f), 0, 0, max, NULL, d, false                 \
    }
#define SECS(s, k, f, n, cap, d)                                               \
    {                                                                          \
        s, k, RL_KEY_SECS_MS, CF(f), CF(n), 1, cap, NULL, d, false             \
    }

/* The fixed keys: section, key, field, bounds, validator, default. For
 * lists the bounds are the entry count. deploy/reelay.ini explains each. */
static const rl_config_key_t s_fixed_keys[] = {
    STR("redis", "host", redis_host, rl_config_check_host, "127.0.0.1"),
    INT("redis", "port", redis_port, 1, 65535, "6379"),
    BOOL("redis", "embedded", redis_embedded, "true"),
    LNG("redis", "command_timeout_ms", redis_command_timeout_ms, 10, MIN_10M,
        "2000"),
    LNG("redis", "reconnect_max_ms", redis_reconnect_max_ms, 10, MIN_10M,
        "2000"),
    STR("redis", "appendfsync", redis_appendfsync, rl_config_check_fsync,
        "always"),
    STR("redis", "username", redis_username, rl_config_check_acl_user, ""),
    STR("redis", "password", redis_password, rl_config_check_secret, ""),
    STR("redis", "password_file", redis_password_file, NULL, ""),
    STR("redis", "cluster", redis_cluster, rl_config_check_cluster, ""),
    INT("redis", "wait_replicas", redis_wait_replicas, 0,
        RL_CONFIG_MAX_WAIT_REPLICAS, "0"),
    STR("http", "listen", http_listen, rl_config_check_addr, "127.0.0.1:8080"),
    LNG("http", "max_body", http_max_body, 1024, 64L << 20, "65536"),
    INT("http", "max_connections", http_max_connections, 1, 1000000, "1024"),
    LNG("http", "max_header_bytes", http_max_header_bytes, 1024, 1L << 20,
        "16384"),
    INT("http", "max_headers", http_max_headers, 8, 10000, "100"),
    LNG("http", "idle_timeout_ms", http_idle_timeout_ms, 100, HOUR_MS, "60000"),
    LNG("http", "request_timeout_ms", http_request_timeout_ms, 100, HOUR_MS,
        "30000"),
    LIST("zmq", "ingress", ingress, EP, rl_config_check_endpoint,
         "tcp://127.0.0.1:5570"),
    LIST("zmq", "dispatch", dispatch, EP, rl_config_check_endpoint,
         "tcp://127.0.0.1:5571"),
    LIST("zmq", "completion", completion, EP, rl_config_check_endpoint,
         "tcp://127.0.0.1:5572"),
    LNG("zmq", "heartbeat_ms", heartbeat_ms, 10, MIN_10M, "1000"),
    INT("zmq", "heartbeat_liveness", heartbeat_liveness, 1, 100, "3"),
    BOOL("zmq", "curve", zmq_curve, "true"),
    STR("zmq", "keys_dir", zmq_keys_dir, NULL, ""),
    INT("processes", "broker", brokers, 1, EP, "1"),
    INT("processes", "worker", workers, 1, 1024, "1"),
    INT("processes", "deliverer", deliverers, 1, EP, "1"),
    LNG("jobs", "max_wait_s", max_wait_s, 1, 7 * DAY_S, "600"),
    LNG("jobs", "lease_ms", lease_ms, 100, HOUR_MS, "10000"),
    LNG("jobs", "claim_timeout_ms", claim_timeout_ms, 100, HOUR_MS, "5000"),
    LNG("jobs", "reaper_interval_ms", reaper_interval_ms, 10, HOUR_MS, "1000"),
    INT("jobs", "max_recoveries", max_recoveries, 0, 100, "3"),
    INT("jobs", "worker_max_inflight", worker_max_inflight, 1, 1000000,
        "10000"),
    INT("jobs", "claim_window", claim_window, 1, 1000000, "256"),
    LNG("jobs", "signup_credits", signup_credits, 0, CREDITS, "50"),
    LIST("jobs", "aspect_ratios", aspect_ratios, RL_CONFIG_MAX_RATIOS,
         rl_config_check_ratio, "16:9,9:16,1:1"),
    LNG("jobs", "max_prompt_len", max_prompt_len, 1, 1000000, "2500"),
    DAYS("jobs", "retention_days", retention_ms, RL_CONFIG_MAX_RETENTION_DAYS,
         "30"),
    BOOL("jobs", "archive", archive, "true"),
    SECS("webhook", "retry_schedule", retry_schedule_ms, nretries,
         RL_CONFIG_MAX_RETRIES, "0,5,30"),
    LNG("webhook", "timeout_ms", webhook_timeout_ms, 100, MIN_10M, "10000"),
    LNG("webhook", "dedup_ttl_s", dedup_ttl_s, 1, 365 * DAY_S, "604800"),
    LNG("webhook", "outbox_scan_ms", outbox_scan_ms, 10, HOUR_MS, "1000"),
    LNG("webhook", "delivery_concurrency", delivery_concurrency, 1, 100000,
        "256"),
    LNG("webhook", "per_host_concurrency", per_host_concurrency, 1, 100000,
        "16"),
    INT("webhook", "host_breaker_failures", host_breaker_failures, 1, 1000,
        "5"),
    LNG("webhook", "host_cooldown_ms", host_cooldown_ms, 10, HOUR_MS, "30000"),
    {"webhook", "allow", RL_KEY_LIST, CF(webhook_allow), CF(nwebhook_allow), 0,
     RL_CONFIG_MAX_ALLOW, s_check_cidr, "", false},
    SECS("webhook", "long_schedule", long_schedule_ms, nlong_schedule,
         RL_CONFIG_MAX_RETRIES, "0,60,300,1800,7200,21600"),
    LNG("webhook", "rotation_grace_s", rotation_grace_s, 0, 30 * DAY_S,
        "86400"),
    {"webhook", "deliverer_status_listen", RL_KEY_LIST,
     CF(deliverer_status_listen), CF(ndeliverer_status_listen), 0, EP,
     rl_config_check_addr, "", false},
    STR("launcher", "data_dir", data_dir, rl_config_check_nonempty, "./run"),
    BOOL("launcher", "simulator", simulator, "true"),
    STR("launcher", "simulator_listen", simulator_listen, rl_config_check_addr,
        "127.0.0.1:8090"),
    STR("security", "master_key", master_key, rl_config_check_master_key, ""),
    STR("accounts", "signup", signup, rl_config_check_signup, "admin"),
    STR("accounts", "admin_token", admin_token, NULL, ""),
    LNG("accounts", "signup_per_hour", signup_per_hour, 1, 1000000, "5"),
    LNG("limits", "rate_per_s", rate_per_s, 0, 1000000, "0"),
    LNG("limits", "rate_burst", rate_burst, 1, 1000000, "100"),
    LNG("limits", "max_active_jobs", max_active_jobs, 0, 1000000, "0"),
    LNG("limits", "auth_failures_burst", auth_failures_burst, 1, 1000000, "20"),
    LNG("limits", "auth_failures_per_min", auth_failures_per_min, 1, 1000000,
        "6"),
    LNG("health", "interval_s", health_interval_s, 1, 7 * DAY_S, "300"),
    {"health", "worker_status_listen", RL_KEY_LIST, CF(worker_status_listen),
     CF(nworker_status_listen), 0, EP, rl_config_check_addr, "", false},
    INT("health", "breaker_failures", breaker_failures, 1, 1000, "5"),
    LNG("health", "breaker_cooldown_ms", breaker_cooldown_ms, 10, HOUR_MS,
        "30000"),
    BOOL("launcher", "receiver", receiver, "true"),
    STR("launcher", "receiver_listen", receiver_listen, rl_config_check_addr,
        "127.0.0.1:8099"),
    LNG("launcher", "demo_credits", demo_credits, 0, CREDITS, "50"),
    STR("launcher", "log_level", log_level, rl_config_check_level, "info"),
};

#define PF(f) offsetof(rl_provider_conf_t, f)
#define MF(f) offsetof(rl_model_conf_t, f)
#define RF(f) offsetof(model_refs_t, f)

#define PSTR(k, f, chk, d)                                                     \
    {                                                                          \
        "provider", k, RL_KEY_STR, PF(f), 0, 0, 0, chk, d, false               \
    }
#define PLNG(k, f, lo, hi, d)                                                  \
    {                                                                          \
        "provider", k, RL_KEY_LONG, PF(f), 0, lo, hi, NULL, d, false           \
    }

/* [provider.NAME] keys. A NULL default means the key is required. */
static const rl_config_key_t s_provider_keys[] = {
    PSTR("type", type, rl_config_check_ptype, NULL),
    PSTR("base_url", base_url, rl_config_check_url, NULL),
    PSTR("key", key, NULL, ""),
    PSTR("secret", secret, NULL, ""),
    PLNG("poll_interval_ms", poll_interval_ms, 10, HOUR_MS, "5000"),
    PLNG("submit_timeout_ms", submit_timeout_ms, 100, MIN_10M, "30000"),
    PLNG("poll_timeout_ms", poll_timeout_ms, 100, MIN_10M, "10000"),
    PLNG("max_queue_ms", max_queue_ms, 0, 24 * HOUR_MS, "300000"),
};

/* [model.NAME] keys; `pending` ones (the last field) live in model_refs_t
 * until resolved. An empty upstream_model becomes the model's own name. */
static const rl_config_key_t s_model_keys[] = {
    {"model", "provider", RL_KEY_STR, RF(provider), 0, 0, 0,
     rl_config_check_name, NULL, true},
    {"model", "upstream_model", RL_KEY_STR, MF(upstream_model), 0, 0, 0, NULL,
     "", false},
    {"model", "prices", RL_KEY_PRICES, MF(prices), MF(nprices), 1,
     RL_CONFIG_MAX_PRICES, NULL, NULL, false},
    {"model", "failover", RL_KEY_LIST, RF(failover), RF(nfailover), 0,
     RL_CONFIG_MAX_CHAIN, rl_config_check_name, "", true},
    {"model", "aliases", RL_KEY_LIST, MF(aliases), MF(naliases), 0,
     RL_CONFIG_MAX_ALIASES, rl_config_check_name, "", false},
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

_Static_assert(NKEYS(s_model_keys) <= MAX_MODEL_KEYS, "model_refs_t.line");

/* Records the first error only: later ones are usually its echoes. */
static void
s_fail(load_t *ld, const char *where, int line, const char *section,
       const char *key, const char *why)
{
    if (ld->failed)
        return;
    ld->failed = true;
    ld->err_line = line;
    /* A very long path is cut, visibly. */
    if (section != NULL && section[0] != '\0' && key != NULL)
        rl_fmt_msg(ld->err, sizeof ld->err, "%s: [%s] %s: %s", where, section,
                   key, why);
    else if (key != NULL)
        rl_fmt_msg(ld->err, sizeof ld->err, "%s: %s: %s", where, key, why);
    else
        rl_fmt_msg(ld->err, sizeof ld->err, "%s: %s", where, why);
}

/* Fails at a line of the file (0: the file as a whole). */
static void
s_fail_file(load_t *ld, int line, const char *section, const char *key,
            const char *why)
{
    char where[WHERE_LEN];
    if (line > 0)
        rl_fmt_msg(where, sizeof where, "%s:%d", ld->file, line);
    else
        rl_fmt_msg(where, sizeof where, "%s", ld->file);
    s_fail(ld, where, line, section, key, why);
}

/* REELAY_<SECTION>_<KEY>, upper-cased, non-alphanumerics as '_'. */
static void
s_env_name(char *out, size_t len, const char *section, const char *key)
{
    if (rl_fmt(out, len, "REELAY_%s_%s", section, key) != 0) {
        /* names are length-checked */
        assert(!"environment name too long");
        out[0] = '\0'; /* no override is looked up */
        return;
    }
    for (char *p = out; *p != '\0'; p++)
        *p =
            isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
}

static const rl_config_key_t *
s_find_key(const rl_config_key_t *keys, size_t n, const char *section,
           const char *name)
{
    for (size_t i = 0; i < n; i++)
        if ((section == NULL || strcmp(keys[i].section, section) == 0) &&
            strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* The struct key k writes into: its section's struct, or for a model's
 * name references the pending refs. */
static void *
s_key_base(const rl_config_key_t *k, void *base, model_refs_t *refs)
{
    return k->pending ? (void *)refs : base;
}

static bool
s_section_known(const char *section)
{
    for (size_t i = 0; i < NKEYS(s_fixed_keys); i++)
        if (strcmp(s_fixed_keys[i].section, section) == 0)
            return true;
    return false;
}

/* Applies a table's defaults; refs: a model's pending refs or NULL. */
static void
s_defaults(const rl_config_key_t *keys, size_t nkeys, void *base,
           model_refs_t *refs)
{
    char why[RL_CONFIG_WHY_LEN];
    for (size_t i = 0; i < nkeys; i++) {
        if (keys[i].def == NULL)
            continue;
        int rc = rl_config_parse_set(&keys[i], s_key_base(&keys[i], base, refs),
                                     keys[i].def, why, sizeof why);
        assert(rc == 0); /* the tables' defaults are valid */
        (void)rc;
    }
}

/* The index of [provider.NAME] or [model.NAME], created on first sight;
 * -1 with a reason when the name is bad or the table is full. */
static int
s_dynamic_index(load_t *ld, const char *name, bool model, char *why,
                size_t why_len)
{
    rl_config_t *c = ld->c;
    size_t *n = model ? &c->nmodels : &c->nproviders;
    size_t cap = model ? RL_CONFIG_MAX_MODELS : RL_CONFIG_MAX_PROVIDERS;
    for (size_t i = 0; i < *n; i++) {
        const char *have = model ? c->models[i].name : c->providers[i].name;
        if (strcmp(have, name) == 0)
            return (int)i;
    }
    if (rl_config_check_name(name, why, why_len) != 0)
        return -1;
    if (*n == cap) {
        rl_fmt_msg(why, why_len, "more than %zu %s sections", cap,
                   model ? "[model.*]" : "[provider.*]");
        return -1;
    }
    size_t i = (*n)++;
    if (model) {
        c->models[i].name = rl_strdup(name);
        s_defaults(s_model_keys, NKEYS(s_model_keys), &c->models[i],
                   &ld->refs[i]);
    } else {
        c->providers[i].name = rl_strdup(name);
        s_defaults(s_provider_keys, NKEYS(s_provider_keys), &c->providers[i],
                   NULL);
    }
    return (int)i;
}

/* Sets one key of a [provider.*] or [model.*] section from the file. */
static int
s_set_dynamic(load_t *ld, const char *section, const char *name,
              const char *value, char *why, size_t why_len)
{
    bool model = strncmp(section, MODEL_PREFIX, strlen(MODEL_PREFIX)) == 0;
    const char *sname =
        section + strlen(model ? MODEL_PREFIX : PROVIDER_PREFIX);
    const rl_config_key_t *keys = model ? s_model_keys : s_provider_keys;
    size_t nkeys = model ? NKEYS(s_model_keys) : NKEYS(s_provider_keys);
    const rl_config_key_t *k = s_find_key(keys, nkeys, NULL, name);
    if (k == NULL) {
        rl_fmt_msg(why, why_len, "unknown key");
        return -1;
    }
    int i = s_dynamic_index(ld, sname, model, why, why_len);
    if (i < 0)
        return -1;
    void *base =
        model ? (void *)&ld->c->models[i] : (void *)&ld->c->providers[i];
    if (rl_config_parse_set(k, s_key_base(k, base, &ld->refs[i]), value, why,
                            why_len) != 0)
        return -1;
    if (model)
        ld->refs[i].line[k - s_model_keys] = ld->line;
    return 0;
}

/* Sets one key from the file: a fixed key or a dynamic section's key. */
static int
s_set_from_file(load_t *ld, const char *section, const char *name,
                const char *value, char *why, size_t why_len)
{
    if (strncmp(section, PROVIDER_PREFIX, strlen(PROVIDER_PREFIX)) == 0 ||
        strncmp(section, MODEL_PREFIX, strlen(MODEL_PREFIX)) == 0)
        return s_set_dynamic(ld, section, name, value, why, why_len);
    const rl_config_key_t *k =
        s_find_key(s_fixed_keys, NKEYS(s_fixed_keys), section, name);
    if (k != NULL)
        return rl_config_parse_set(k, ld->c, value, why, why_len);
    if (section[0] == '\0')
        rl_fmt_msg(why, why_len, "key outside any section");
    else if (!s_section_known(section))
        rl_fmt_msg(why, why_len, "unknown section");
    else
        rl_fmt_msg(why, why_len, "unknown key");
    return -1;
}

/* libinih callback: 1 to go on, 0 on error (inih then reports the line,
 * but we keep our own message with the first error). */
/* A line holds at most 198 characters (libinih's buffer), so a long list
 * continues on indented lines, each holding whole entries: libinih hands
 * each line to the callback under the same key, and they are joined with
 * a comma here. Returns the whole value so far (ld->acc). */
static const char *
s_continued(load_t *ld, const char *section, const char *name,
            const char *value)
{
    char key[sizeof ld->acc_key];
    size_t n;

    if (rl_fmt(key, sizeof key, "%s\n%s", section, name) != 0)
        return NULL;
    if (!ld->indented || ld->acc == NULL || strcmp(key, ld->acc_key) != 0) {
        free(ld->acc);
        ld->acc = rl_strdup(value);
        memcpy(ld->acc_key, key, sizeof key);
        return ld->acc;
    }
    n = strlen(ld->acc);
    ld->acc = rl_realloc(ld->acc, n + strlen(value) + 2);
    ld->acc[n] = ',';
    memcpy(ld->acc + n + 1, value, strlen(value) + 1);
    return ld->acc;
}

static int
s_on_entry(void *user, const char *section, const char *name, const char *value)
{
    load_t *ld = user;
    char why[RL_CONFIG_WHY_LEN];
    if (ld->failed)
        return 1;
    value = s_continued(ld, section, name, value);
    if (value == NULL) {
        s_fail_file(ld, ld->line, NULL, NULL, "section and key names too long");
        return 0;
    }
    if (s_set_from_file(ld, section, name, value, why, sizeof why) != 0) {
        s_fail_file(ld, ld->line, section, name, why);
        return 0;
    }
    return 1;
}

/* libinih reader: fgets that counts lines, so errors found in the
 * handler (which inih gives no line number) carry one, and that rejects
 * lines longer than inih's buffer instead of splitting them in two. */
static char *
s_read_line(char *buf, int size, void *stream)
{
    load_t *ld = stream;
    if (fgets(buf, size, ld->fp) == NULL)
        return NULL;
    ld->line++;
    ld->indented = buf[0] == ' ' || buf[0] == '\t';
    size_t n = strlen(buf);
    if (n + 1 < (size_t)size || buf[n - 1] == '\n')
        return buf;
    int ch = fgetc(ld->fp);
    if (ch == EOF || ch == '\n')
        return buf;
    while (ch != EOF && ch != '\n')
        ch = fgetc(ld->fp);
    char why[RL_CONFIG_WHY_LEN];
    rl_fmt_msg(why, sizeof why, "line longer than %d characters", size - 2);
    s_fail_file(ld, ld->line, NULL, NULL, why);
    return buf;
}

static int
s_parse_file(load_t *ld, const char *path)
{
    ld->fp = fopen(path, "r");
    if (ld->fp == NULL) {
        char why[RL_CONFIG_WHY_LEN];
        rl_fmt_msg(why, sizeof why, "cannot open: %s", strerror(errno));
        s_fail_file(ld, 0, NULL, NULL, why);
        return -1;
    }
    int rc = ini_parse_stream(s_read_line, ld, s_on_entry, ld);
    if (ferror(ld->fp) && !ld->failed) {
        char why[RL_CONFIG_WHY_LEN];
        rl_fmt_msg(why, sizeof why, "cannot read: %s", strerror(errno));
        s_fail_file(ld, 0, NULL, NULL, why);
    }
    fclose(ld->fp);
    ld->fp = NULL;
    if (rc > 0 && (!ld->failed || rc < ld->err_line)) {
        ld->failed = false; /* a syntax error came first */
        s_fail_file(ld, rc, NULL, NULL,
                    "syntax error: expected [section] or key = value");
    } else if (rc < 0 && !ld->failed) {
        s_fail_file(ld, 0, NULL, NULL, "out of memory while parsing");
    }
    return ld->failed ? -1 : 0;
}

/* Applies REELAY_<SECTION>_<KEY> for each key of one section; refs is
 * the model's pending refs, NULL for other sections. */
static int
s_env_section(load_t *ld, const rl_config_key_t *keys, size_t nkeys,
              const char *section, void *base, model_refs_t *refs)
{
    char env[ENV_NAME_LEN], where[WHERE_LEN], why[RL_CONFIG_WHY_LEN];
    for (size_t i = 0; i < nkeys; i++) {
        s_env_name(env, sizeof env, section, keys[i].name);
        const char *value = getenv(env);
        if (value == NULL)
            continue;
        if (rl_config_parse_set(&keys[i], s_key_base(&keys[i], base, refs),
                                value, why, sizeof why) != 0) {
            rl_fmt_fit(where, sizeof where, "environment %s", env);
            s_fail(ld, where, 0, section, keys[i].name, why);
            return -1;
        }
        if (refs != NULL)
            refs->line[i] = -1;
    }
    return 0;
}

/* Environment overrides: every fixed key, then every key of every
 * declared dynamic section, whether or not the file set it. */
static int
s_apply_env(load_t *ld)
{
    rl_config_t *c = ld->c;
    char section[ENV_NAME_LEN];
    for (size_t i = 0; i < NKEYS(s_fixed_keys); i++)
        if (s_env_section(ld, &s_fixed_keys[i], 1, s_fixed_keys[i].section, c,
                          NULL) != 0)
            return -1;
    for (size_t i = 0; i < c->nproviders; i++) {
        rl_fmt_fit(section, sizeof section, PROVIDER_PREFIX "%s",
                   c->providers[i].name);
        if (s_env_section(ld, s_provider_keys, NKEYS(s_provider_keys), section,
                          &c->providers[i], NULL) != 0)
            return -1;
    }
    for (size_t i = 0; i < c->nmodels; i++) {
        rl_fmt_fit(section, sizeof section, MODEL_PREFIX "%s",
                   c->models[i].name);
        if (s_env_section(ld, s_model_keys, NKEYS(s_model_keys), section,
                          &c->models[i], &ld->refs[i]) != 0)
            return -1;
    }
    return 0;
}

/* Fails naming where model key `k` of model i was set. */
static void
s_fail_model(load_t *ld, size_t i, size_t k, const char *why)
{
    char section[ENV_NAME_LEN], where[WHERE_LEN], env[ENV_NAME_LEN];
    rl_fmt_fit(section, sizeof section, MODEL_PREFIX "%s",
               ld->c->models[i].name);
    if (ld->refs[i].line[k] >= 0) {
        s_fail_file(ld, ld->refs[i].line[k], section, s_model_keys[k].name,
                    why);
        return;
    }
    s_env_name(env, sizeof env, section, s_model_keys[k].name);
    rl_fmt_fit(where, sizeof where, "environment %s", env);
    s_fail(ld, where, 0, section, s_model_keys[k].name, why);
}

static int
s_check_providers(load_t *ld)
{
    char section[ENV_NAME_LEN];
    for (size_t i = 0; i < ld->c->nproviders; i++) {
        const rl_config_key_t *k =
            rl_config_parse_missing(s_provider_keys, NKEYS(s_provider_keys),
                                    &ld->c->providers[i], NULL);
        if (k == NULL)
            continue;
        rl_fmt_fit(section, sizeof section, PROVIDER_PREFIX "%s",
                   ld->c->providers[i].name);
        s_fail_file(ld, 0, section, k->name, "required key is missing");
        return -1;
    }
    return 0;
}

/* The index of a [model.*] key in s_model_keys. */
static size_t
s_model_key(const char *name)
{
    const rl_config_key_t *k =
        s_find_key(s_model_keys, NKEYS(s_model_keys), NULL, name);
    assert(k != NULL);
    return (size_t)(k - s_model_keys);
}

static int
s_model_index(const rl_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->nmodels; i++)
        if (strcmp(c->models[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The model whose name or alias is `name`, or -1. */
static int
s_model_find(const rl_config_t *c, const char *name)
{
    int i = s_model_index(c, name);
    for (size_t m = 0; i < 0 && m < c->nmodels; m++)
        for (size_t a = 0; a < c->models[m].naliases; a++)
            if (strcmp(c->models[m].aliases[a], name) == 0)
                return (int)m;
    return i;
}

/* Does alias j of model i clash with a model name or an earlier alias?
 * (The same name twice would make rl_config_model ambiguous.) Says why
 * when it does. */
static bool
s_alias_clashes(const rl_config_t *c, size_t i, size_t j, char *why,
                size_t why_len)
{
    const char *alias = c->models[i].aliases[j];
    int owner = s_model_index(c, alias);
    if (owner >= 0) {
        rl_fmt_msg(why, why_len, "alias '%s' is the name of model '%s'", alias,
                   c->models[owner].name);
        return true;
    }
    for (size_t m = 0; m <= i; m++)
        for (size_t a = 0; a < (m == i ? j : c->models[m].naliases); a++)
            if (strcmp(c->models[m].aliases[a], alias) == 0) {
                rl_fmt_msg(why, why_len,
                           "alias '%s' is already an alias of "
                           "model '%s'",
                           alias, c->models[m].name);
                return true;
            }
    return false;
}

/* Every model name and alias names one model only. */
static int
s_check_aliases(load_t *ld)
{
    char why[RL_CONFIG_WHY_LEN];
    for (size_t i = 0; i < ld->c->nmodels; i++)
        for (size_t j = 0; j < ld->c->models[i].naliases; j++)
            if (s_alias_clashes(ld->c, i, j, why, sizeof why)) {
                s_fail_model(ld, i, s_model_key("aliases"), why);
                return -1;
            }
    return 0;
}

static int
s_provider_index(const rl_config_t *c, const char *name)
{
    for (size_t i = 0; i < c->nproviders; i++)
        if (strcmp(c->providers[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The index of model i's j-th failover model, or -1 with a reason. */
static int
s_failover_index(const load_t *ld, size_t i, size_t j, char *why,
                 size_t why_len)
{
    const char *name = ld->refs[i].failover[j];
    int to = s_model_find(ld->c, name);
    if (to < 0) {
        rl_fmt_msg(why, why_len, "unknown model '%s'", name);
        return -1;
    }
    if ((size_t)to == i) {
        rl_fmt_msg(why, why_len, "a model cannot fail over to itself");
        return -1;
    }
    for (size_t k = 0; k < j; k++)
        if (ld->c->models[i].chain[k] == to) {
            rl_fmt_msg(why, why_len, "model '%s' is listed twice", name);
            return -1;
        }
    return to;
}

/* Resolves model i's provider and failover names to indexes. */
static int
s_resolve_model(load_t *ld, size_t i)
{
    rl_model_conf_t *m = &ld->c->models[i];
    const model_refs_t *r = &ld->refs[i];
    char why[RL_CONFIG_WHY_LEN];
    m->provider = s_provider_index(ld->c, r->provider);
    if (m->provider < 0) {
        rl_fmt_msg(why, sizeof why, "unknown provider '%s'", r->provider);
        s_fail_model(ld, i, s_model_key("provider"), why);
        return -1;
    }
    for (size_t j = 0; j < r->nfailover; j++) {
        m->chain[j] = s_failover_index(ld, i, j, why, sizeof why);
        if (m->chain[j] < 0) {
            s_fail_model(ld, i, s_model_key("failover"), why);
            return -1;
        }
    }
    m->nchain = r->nfailover;
    return 0;
}

static int
s_resolve_models(load_t *ld)
{
    for (size_t i = 0; i < ld->c->nmodels; i++) {
        rl_model_conf_t *m = &ld->c->models[i];
        const rl_config_key_t *k = rl_config_parse_missing(
            s_model_keys, NKEYS(s_model_keys), m, &ld->refs[i]);
        if (k != NULL) {
            s_fail_model(ld, i, (size_t)(k - s_model_keys),
                         "required key is missing");
            return -1;
        }
        if (m->upstream_model[0] == '\0') {
            free(m->upstream_model);
            m->upstream_model = rl_strdup(m->name);
        }
        if (s_resolve_model(ld, i) != 0)
            return -1;
    }
    return 0;
}

/* Process i of a role binds entry i of each of its lists (--index i):
 * broker i ingress[i] and dispatch[i], deliverer i completion[i] and,
 * when status endpoints are on, worker i and deliverer i their status
 * listen entry. An empty status list is off and needs no entries. */
static int
s_check_processes(load_t *ld)
{
    const rl_config_t *c = ld->c;
    const struct {
        const char *section, *key, *role;
        size_t have;
        int need;
        bool optional; /* empty = off */
    } ends[] = {
        {"zmq", "ingress", "broker", c->ningress, c->brokers, false},
        {"zmq", "dispatch", "broker", c->ndispatch, c->brokers, false},
        {"zmq", "completion", "deliverer", c->ncompletion, c->deliverers,
         false},
        {"health", "worker_status_listen", "worker", c->nworker_status_listen,
         c->workers, true},
        {"webhook", "deliverer_status_listen", "deliverer",
         c->ndeliverer_status_listen, c->deliverers, true},
    };
    char why[RL_CONFIG_WHY_LEN];
    for (size_t i = 0; i < NKEYS(ends); i++) {
        if (ends[i].have >= (size_t)ends[i].need ||
            (ends[i].optional && ends[i].have == 0))
            continue;
        rl_fmt_msg(why, sizeof why,
                   "%zu endpoint(s) for %d %s processes "
                   "([processes] %s)",
                   ends[i].have, ends[i].need, ends[i].role, ends[i].role);
        s_fail_file(ld, 0, ends[i].section, ends[i].key, why);
        return -1;
    }
    return 0;
}

/* Reads the Redis password from `path` into the config. missing_ok:
 * a file that does not exist leaves the password empty. */
static int
s_redis_password_read(load_t *ld, const char *path, bool missing_ok)
{
    char secret[RL_SECRET_MAX], why[RL_CONFIG_WHY_LEN];
    if (missing_ok && access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    if (rl_secret_read(path, secret, sizeof secret, why, sizeof why) != 0) {
        s_fail_file(ld, 0, "redis", "password_file", why);
        return -1;
    }
    free(ld->c->redis_password);
    ld->c->redis_password = rl_strdup(secret);
    explicit_bzero(secret, sizeof secret);
    return 0;
}

/* Settles the Redis password (see rl_config.h) and checks that a user
 * has one; an embedded Redis gets its password from the launcher. */
static int
s_redis_auth(load_t *ld)
{
    rl_config_t *c = ld->c;
    char path[WHERE_LEN];
    if (c->redis_password[0] != '\0' && c->redis_password_file[0] != '\0') {
        s_fail_file(ld, 0, "redis", "password_file",
                    "set password or password_file, not both");
        return -1;
    }
    if (c->redis_password_file[0] != '\0')
        return s_redis_password_read(ld, c->redis_password_file, false);
    if (c->redis_password[0] == '\0' && c->redis_embedded) {
        if (rl_fmt(path, sizeof path, "%s/" RL_CONFIG_REDIS_PASSWORD_FILE,
                   c->data_dir) != 0) {
            s_fail_file(ld, 0, "launcher", "data_dir", "path too long");
            return -1;
        }
        return s_redis_password_read(ld, path, true);
    }
    if (c->redis_username[0] != '\0' && c->redis_password[0] == '\0') {
        s_fail_file(ld, 0, "redis", "username",
                    "an ACL user needs password or password_file");
        return -1;
    }
    return 0;
}

/* A cluster is run by the operator: the launcher starts one server. */
static int
s_redis_cluster(load_t *ld)
{
    if (ld->c->redis_cluster[0] != '\0' && ld->c->redis_embedded) {
        s_fail_file(ld, 0, "redis", "cluster",
                    "a cluster needs embedded = false");
        return -1;
    }
    return 0;
}

static void
s_refs_release(load_t *ld)
{
    for (size_t i = 0; i < RL_CONFIG_MAX_MODELS; i++)
        rl_config_parse_release(s_model_keys, NKEYS(s_model_keys), &ld->refs[i],
                                true);
}

rl_config_t *
rl_config_load(const char *path, char *err, size_t err_len)
{
    load_t *ld = rl_calloc(1, sizeof *ld);
    ld->c = rl_calloc(1, sizeof *ld->c);
    ld->file = path != NULL ? path : "(defaults)";
    s_defaults(s_fixed_keys, NKEYS(s_fixed_keys), ld->c, NULL);
    int rc = path != NULL ? s_parse_file(ld, path) : 0;
    if (rc == 0)
        rc = s_apply_env(ld);
    if (rc == 0)
        rc = s_check_providers(ld);
    if (rc == 0)
        rc = s_check_aliases(ld);
    if (rc == 0)
        rc = s_resolve_models(ld);
    if (rc == 0)
        rc = s_check_processes(ld);
    if (rc == 0)
        rc = s_redis_cluster(ld);
    if (rc == 0)
        rc = s_redis_auth(ld);
    rl_config_t *c = ld->c;
    if (rc != 0) {
        if (err != NULL && err_len > 0)
            rl_fmt_msg(err, err_len, "%s", ld->err);
        rl_config_destroy(&c);
    } else if (path != NULL) {
        c->path = rl_strdup(path);
    }
    s_refs_release(ld);
    free(ld->acc);
    free(ld);
    return c;
}

void
rl_config_destroy(rl_config_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_config_t *c = *p;
    for (size_t i = 0; i < c->nmodels; i++) {
        rl_config_parse_release(s_model_keys, NKEYS(s_model_keys),
                                &c->models[i], false);
        free(c->models[i].name);
    }
    for (size_t i = 0; i < c->nproviders; i++) {
        rl_config_parse_release(s_provider_keys, NKEYS(s_provider_keys),
                                &c->providers[i], false);
        free(c->providers[i].name);
    }
    rl_config_parse_release(s_fixed_keys, NKEYS(s_fixed_keys), c, false);
    free(c->path);
    free(c);
    *p = NULL;
}

const rl_model_conf_t *
rl_config_model(const rl_config_t *c, const char *name)
{
    assert(c != NULL);
    if (name == NULL)
        return NULL;
    int i = s_model_find(c, name);
    return i >= 0 ? &c->models[i] : NULL;
}

int
rl_config_chain_text(const rl_config_t *c, const rl_model_conf_t *m, char *buf,
                     size_t len)
{
    if (rl_fmt(buf, len, "%s", m->name) != 0)
        return -1;
    for (size_t i = 0; i < m->nchain; i++) {
        size_t used = strlen(buf);
        if (rl_fmt(buf + used, len - used, ",%s",
                   c->models[m->chain[i]].name) != 0)
            return -1;
    }
    return 0;
}

long
rl_config_price(const rl_model_conf_t *m, int seconds)
{
    assert(m != NULL);
    for (size_t i = 0; i < m->nprices; i++)
        if (m->prices[i].seconds == seconds)
            return m->prices[i].credits;
    return -1;
}
