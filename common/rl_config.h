/*
 * rl_config - the one configuration of every reelay process.
 *
 * An INI file (libinih) is parsed once into an immutable rl_config_t,
 * then every key may be overridden by an environment variable
 * REELAY_<SECTION>_<KEY>: the section and key upper-cased, every
 * character that is not a letter or digit turned into '_' (so
 * [model.kling-v3] prices -> REELAY_MODEL_KLING_V3_PRICES). Each fixed key is
 * an entry of one table (name, type, default, bounds), the place to read
 * what a key means; deploy/reelay.ini documents them for operators.
 *
 * Failure modes: rl_config_load() returns NULL and writes one line naming
 * the file, section, key and reason into err for an unreadable file, an
 * unknown section or key, a value out of bounds, or an inconsistent
 * catalog (a failover chain naming an unknown model, a model naming an
 * unknown provider, a model name or alias used twice), or a Redis
 * password that cannot be read from its file.
 *
 * The Redis password ([redis] password) is, after loading, the first of:
 * password (or REELAY_REDIS_PASSWORD); the first line of password_file;
 * with embedded = true, the first line of <data_dir>/redis.password when
 * that file exists; else none (no AUTH).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define RL_CONFIG_MAX_MODELS 32
#define RL_CONFIG_MAX_PROVIDERS 16
#define RL_CONFIG_MAX_CHAIN 8
#define RL_CONFIG_MAX_PRICES 8
#define RL_CONFIG_MAX_ENDPOINTS 16
#define RL_CONFIG_MAX_RETRIES 16
#define RL_CONFIG_MAX_RATIOS 8
#define RL_CONFIG_MAX_ALLOW 32
#define RL_CONFIG_MAX_ALIASES 8
#define RL_CONFIG_MAX_NAME 40              /* [provider.NAME], [model.NAME] */
#define RL_CONFIG_MAX_RETENTION_DAYS 36500 /* [jobs] retention_days */
/* A model and its failover chain as "name,backup,...": the longest
 * chain of the longest names, the NUL included. */
#define RL_CONFIG_CHAIN_TEXT                                                   \
    ((RL_CONFIG_MAX_CHAIN + 1) * (RL_CONFIG_MAX_NAME + 1))

/* The password of the launcher's embedded Redis, in [launcher] data_dir:
 * made by `reelay up`, read by every process whose [redis] embedded is
 * true and that has no password of its own. */
#define RL_CONFIG_REDIS_PASSWORD_FILE "redis.password"

typedef struct {
    char *name;             /* section suffix: [provider.NAME] */
    char *type;             /* a provider type (rl_ptype.h): "kling", ... */
    char *base_url;         /* e.g. https://api-singapore.klingai.com */
    char *key;              /* API key or access key ("" when none) */
    char *secret;           /* secret key where the API signs (Kling) */
    long poll_interval_ms;  /* time between status polls */
    long submit_timeout_ms; /* per-request timeout for submit */
    long poll_timeout_ms;   /* per-request timeout for a poll */
    long max_queue_ms;      /* a task still queued upstream this long
                               after submit fails over (0 = never) */
} rl_provider_conf_t;

typedef struct {
    int seconds;  /* duration in seconds */
    long credits; /* price of that duration */
} rl_price_t;

typedef struct {
    char *name;                           /* public model id: [model.NAME] */
    char *aliases[RL_CONFIG_MAX_ALIASES]; /* other names requests may use
                                             (e.g. Kinovi's "seedance-20") */
    size_t naliases;
    int provider;                            /* index into providers[] */
    char *upstream_model;                    /* the provider's own model name */
    rl_price_t prices[RL_CONFIG_MAX_PRICES]; /* allowed durations */
    size_t nprices;
    int chain[RL_CONFIG_MAX_CHAIN]; /* failover: indexes into models[] */
    size_t nchain;                  /* backups after this model, in order */
} rl_model_conf_t;

typedef struct {
    /* [redis] */
    char *redis_host;              /* host of the Redis server */
    int redis_port;                /* its port */
    bool redis_embedded;           /* launcher starts its own redis-server */
    long redis_command_timeout_ms; /* our deadline per command */
    long redis_reconnect_max_ms;   /* cap of the reconnect backoff */
    char *redis_appendfsync;       /* embedded Redis: always|everysec */
    char *redis_username;          /* ACL user to AUTH as ("": the default
                                      user) */
    char *redis_password;          /* AUTH password ("": no AUTH); after
                                      loading also what password_file, or
                                      the launcher's generated file, holds */
    char *redis_password_file;     /* file holding the password ("": none) */
    char *redis_cluster;           /* Redis Cluster seeds "host:port,..."
                                      ("": one server at host:port) */
    int redis_wait_replicas;       /* replicas a durable write waits for */

    /* [http] */
    char *http_listen;            /* "127.0.0.1:8080" */
    long http_max_body;           /* bytes, larger bodies are 413 */
    int http_max_connections;     /* open at once, per listener */
    long http_max_header_bytes;   /* request line + headers; more is 431 */
    int http_max_headers;         /* header lines; more is 431 */
    long http_idle_timeout_ms;    /* no byte either way: closed */
    long http_request_timeout_ms; /* first byte to whole request */

    /* [zmq] */
    char *ingress[RL_CONFIG_MAX_ENDPOINTS]; /* broker i binds ingress[i] */
    size_t ningress;
    char *dispatch[RL_CONFIG_MAX_ENDPOINTS]; /* broker i binds dispatch[i] */
    size_t ndispatch;
    char *completion[RL_CONFIG_MAX_ENDPOINTS]; /* deliverer i binds [i] */
    size_t ncompletion;
    long heartbeat_ms;      /* ZMQ heartbeat period, both ways */
    int heartbeat_liveness; /* missed heartbeats before a peer is dead */
    bool zmq_curve;         /* CURVE + ZAP on every link (rl_curve.h) */
    char *zmq_keys_dir;     /* key pairs and allow files; "" =
                               <data_dir>/keys */

    /* [processes] */
    int brokers; /* processes per role */
    int workers;
    int deliverers;

    /* [jobs] */
    long max_wait_s;         /* a job older than this fails (refund) */
    long lease_ms;           /* worker lease (heartbeat expiry) */
    long claim_timeout_ms;   /* dispatched but unclaimed: requeue after */
    long reaper_interval_ms; /* how often the reaper sweeps */
    int max_recoveries;      /* recoveries before a job is failed */
    int worker_max_inflight; /* jobs one worker process holds at once */
    int claim_window;        /* jobs dispatched to a worker and not
                                claimed yet, at most */
    long signup_credits;     /* credits of a new account */
    char *aspect_ratios[RL_CONFIG_MAX_RATIOS]; /* accepted aspect ratios */
    size_t naspect_ratios;
    long max_prompt_len; /* characters */
    long retention_ms;   /* a finished job leaves Redis this long after
                            it finished ([jobs] retention_days); 0 keeps
                            every job */
    bool archive;        /* write what leaves Redis to <data_dir>/archive
                            first (rl_archive.h) */

    /* [webhook] */
    long retry_schedule_ms[RL_CONFIG_MAX_RETRIES]; /* delay before each try */
    size_t nretries;                               /* number of attempts */
    long webhook_timeout_ms;                       /* per attempt */
    long dedup_ttl_s;          /* (job, status) dedup window */
    long outbox_scan_ms;       /* deliverer scans the outbox this often */
    long delivery_concurrency; /* attempts in the air per deliverer */
    long per_host_concurrency; /* attempts in the air per webhook host */
    int host_breaker_failures; /* failures in a row that pause a host */
    long host_cooldown_ms;     /* how long a paused host waits */
    char *webhook_allow[RL_CONFIG_MAX_ALLOW]; /* IPs/CIDRs webhooks may
                                   reach despite the SSRF guard */
    size_t nwebhook_allow;
    long long_schedule_ms[RL_CONFIG_MAX_RETRIES]; /* wh_schedule = long */
    size_t nlong_schedule;                        /* its number of attempts */
    long rotation_grace_s; /* a rotated whsec_ secret keeps signing */
    char *deliverer_status_listen[RL_CONFIG_MAX_ENDPOINTS]; /* deliverer
                                   i's /healthz /readyz /stats at [i];
                                   none: off */
    size_t ndeliverer_status_listen;

    /* [security] */
    char *master_key; /* 64 hex digits: AES-256-GCM key sealing
                         the API keys kept for signing; "" =
                         REELAY_MASTER_KEY_FILE or the launcher's
                         generated file */

    /* [accounts] */
    char *signup;         /* POST /v1/accounts: open|admin|closed */
    char *admin_token;    /* Bearer token of admin calls ("" none) */
    long signup_per_hour; /* open sign-ups per client address */

    /* [limits] */
    long rate_per_s;            /* submissions per second per key, 0 = off */
    long rate_burst;            /* token bucket size */
    long max_active_jobs;       /* jobs per account not yet completed or
                                   failed; over it 429, 0 = no limit */
    long auth_failures_burst;   /* failed API-key or admin-token tries a
                                   client address may make at once */
    long auth_failures_per_min; /* and then a minute, before 429 */

    /* [health] */
    long health_interval_s; /* provider health check period */
    char *worker_status_listen[RL_CONFIG_MAX_ENDPOINTS]; /* worker i's
                                   /healthz /readyz /stats at [i]; none:
                                   off */
    size_t nworker_status_listen;
    int breaker_failures;     /* submit failures in a row that open a
                                 provider's circuit breaker */
    long breaker_cooldown_ms; /* open breaker: time before a trial */

    /* [launcher] */
    char *data_dir;         /* embedded Redis data, logs */
    bool simulator;         /* start the provider simulator */
    char *simulator_listen; /* "127.0.0.1:8090" */
    bool receiver;          /* start a demo webhook receiver */
    char *receiver_listen;  /* "127.0.0.1:8099" */
    long demo_credits;      /* credits of the demo account */
    char *log_level;        /* error|warn|info|debug */

    /* [provider.*] and [model.*] */
    rl_provider_conf_t providers[RL_CONFIG_MAX_PROVIDERS];
    size_t nproviders;
    rl_model_conf_t models[RL_CONFIG_MAX_MODELS];
    size_t nmodels;

    char *path; /* the file it was loaded from */
} rl_config_t;

/* Loads `path` (NULL: defaults only) and applies environment overrides.
 * Returns a new config (caller owns, free with rl_config_destroy), or
 * NULL with a message in err. */
rl_config_t *rl_config_load(const char *path, char *err, size_t err_len);

/* Frees a config. NULL-safe, sets *p to NULL. */
void rl_config_destroy(rl_config_t **p);

/* The model whose name or one of whose aliases is `name`, or NULL. A
 * name is never ambiguous: rl_config_load() refuses a catalog that uses
 * one twice. */
const rl_model_conf_t *rl_config_model(const rl_config_t *c, const char *name);

/* m's name and its failover chain as "name,backup,..." into buf (at
 * least RL_CONFIG_CHAIN_TEXT bytes, which always holds it). Returns 0,
 * or -1 when buf is shorter than the text (nothing half-written is
 * meant to be used then). */
int rl_config_chain_text(const rl_config_t *c, const rl_model_conf_t *m,
                         char *buf, size_t len);

/* The price of `seconds` for model m, or -1 when that duration is not
 * offered. */
long rl_config_price(const rl_model_conf_t *m, int seconds);

/* Splits "host:port" into host (copied into host buf) and port. Returns 0
 * or -1 on a malformed address. */
int rl_config_split_addr(const char *addr, char *host, size_t host_len,
                         int *port);

#endif
