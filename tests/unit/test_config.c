/*
 * test_config - rl_config: defaults, a full file, the deploy file,
 * environment overrides, every error class, prices, failover, retry
 * schedules and rl_config_split_addr.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rl_config.h"

#define ERR_LEN 512
#define PATH_LEN 4096

/* Writes text to a new temp file; returns its path (caller frees and
 * unlinks). */
static char *
s_write_ini(const char *text)
{
    char path[] = "/tmp/test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return strdup(path);
}

/* Loads text as a config file; path_out (optional) gets the path. */
static rl_config_t *
s_load_text(const char *text, char *err, char *path_out)
{
    char *path = s_write_ini(text);
    rl_config_t *c = rl_config_load(path, err, ERR_LEN);
    if (path_out != NULL)
        snprintf(path_out, PATH_LEN, "%s", path);
    unlink(path);
    free(path);
    return c;
}

static void
test_defaults(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c = rl_config_load(NULL, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(c->redis_host, "127.0.0.1");
    assert_int_equal(c->redis_port, 6379);
    assert_true(c->redis_embedded);
    assert_int_equal(c->redis_command_timeout_ms, 2000);
    assert_int_equal(c->redis_reconnect_max_ms, 2000);
    assert_string_equal(c->redis_appendfsync, "always");
    assert_string_equal(c->http_listen, "127.0.0.1:8080");
    assert_int_equal(c->http_max_body, 65536);
    assert_int_equal(c->ningress, 1);
    assert_string_equal(c->ingress[0], "tcp://127.0.0.1:5570");
    assert_string_equal(c->dispatch[0], "tcp://127.0.0.1:5571");
    assert_string_equal(c->completion[0], "tcp://127.0.0.1:5572");
    assert_int_equal(c->heartbeat_ms, 1000);
    assert_int_equal(c->heartbeat_liveness, 3);
    assert_int_equal(c->brokers, 1);
    assert_int_equal(c->workers, 1);
    assert_int_equal(c->deliverers, 1);
    assert_int_equal(c->max_wait_s, 600);
    assert_int_equal(c->lease_ms, 10000);
    assert_int_equal(c->claim_timeout_ms, 5000);
    assert_int_equal(c->reaper_interval_ms, 1000);
    assert_int_equal(c->max_recoveries, 3);
    assert_int_equal(c->worker_max_inflight, 10000);
    assert_int_equal(c->signup_credits, 50);
    assert_int_equal(c->naspect_ratios, 3);
    assert_string_equal(c->aspect_ratios[0], "16:9");
    assert_string_equal(c->aspect_ratios[1], "9:16");
    assert_string_equal(c->aspect_ratios[2], "1:1");
    assert_int_equal(c->max_prompt_len, 2500);
    assert_int_equal(c->retention_ms, 30L * 86400000L);
    assert_true(c->archive);
    assert_int_equal(c->nretries, 3);
    assert_int_equal(c->retry_schedule_ms[0], 0);
    assert_int_equal(c->retry_schedule_ms[1], 5000);
    assert_int_equal(c->retry_schedule_ms[2], 30000);
    assert_int_equal(c->webhook_timeout_ms, 10000);
    assert_int_equal(c->dedup_ttl_s, 604800);
    assert_int_equal(c->outbox_scan_ms, 1000);
    assert_int_equal(c->delivery_concurrency, 256);
    assert_int_equal(c->rate_per_s, 0);
    assert_int_equal(c->max_active_jobs, 0); /* no limit */
    assert_string_equal(c->data_dir, "./run");
    assert_true(c->simulator);
    assert_string_equal(c->simulator_listen, "127.0.0.1:8090");
    assert_int_equal(c->demo_credits, 50);
    assert_string_equal(c->log_level, "info");
    assert_int_equal(c->nproviders, 0);
    assert_int_equal(c->nmodels, 0);
    assert_null(c->path);
    assert_null(rl_config_model(c, "kling-v3"));
    rl_config_destroy(&c);
    assert_null(c);
    rl_config_destroy(&c); /* idempotent */
    rl_config_destroy(NULL);
}

static const char s_full[] =
    "; a full file, every section\n"
    "[redis]\n"
    "host = redis.internal\n"
    "port = 6380\n"
    "embedded = no\n"
    "command_timeout_ms = 1500\n"
    "reconnect_max_ms = 4000\n"
    "appendfsync = everysec\n"
    "[http]\n"
    "listen = 0.0.0.0:9000\n"
    "max_body = 131072\n"
    "[zmq]\n"
    "ingress = tcp://127.0.0.1:6000, tcp://127.0.0.1:6001\n"
    "dispatch = tcp://*:6010,ipc:///tmp/d1\n"
    "completion = inproc://done\n"
    "heartbeat_ms = 250\n"
    "heartbeat_liveness = 5\n"
    "[processes]\n"
    "broker = 2\n"
    "worker = 8\n"
    "deliverer = 1\n"
    "[jobs]\n"
    "max_wait_s = 900\n"
    "lease_ms = 20000\n"
    "claim_timeout_ms = 3000\n"
    "reaper_interval_ms = 500\n"
    "max_recoveries = 0\n"
    "worker_max_inflight = 500\n"
    "signup_credits = 100\n"
    "aspect_ratios = 16:9, 21:9\n"
    "max_prompt_len = 4000\n"
    "[webhook]\n"
    "retry_schedule = 0, 1, 10, 60\n"
    "timeout_ms = 5000\n"
    "dedup_ttl_s = 86400\n"
    "outbox_scan_ms = 200\n"
    "delivery_concurrency = 64\n"
    "[launcher]\n"
    "data_dir = /var/lib/reelay\n"
    "simulator = off\n"
    "simulator_listen = localhost:18090\n"
    "demo_credits = 0\n"
    "log_level = debug\n"
    "# models may come before their providers\n"
    "[model.fast]\n"
    "provider = acme\n"
    "prices = 5:1\n"
    "failover = slow\n"
    "[model.slow]\n"
    "provider = acme\n"
    "upstream_model = acme-slow-2\n"
    "prices = 5s:3, 10s:6\n"
    "[provider.acme]\n"
    "type = replicate\n"
    "base_url = https://api.example.com/v1\n"
    "key = k1\n"
    "secret = s1\n"
    "poll_interval_ms = 750\n"
    "submit_timeout_ms = 20000\n"
    "poll_timeout_ms = 3000\n";

static void
test_full_file(void **state)
{
    (void)state;
    char err[ERR_LEN] = "", path[PATH_LEN];
    rl_config_t *c = s_load_text(s_full, err, path);
    if (c == NULL)
        fail_msg("load: %s", err);
    assert_string_equal(c->path, path);
    assert_string_equal(c->redis_host, "redis.internal");
    assert_int_equal(c->redis_port, 6380);
    assert_false(c->redis_embedded);
    assert_int_equal(c->redis_command_timeout_ms, 1500);
    assert_int_equal(c->redis_reconnect_max_ms, 4000);
    assert_string_equal(c->redis_appendfsync, "everysec");
    assert_string_equal(c->http_listen, "0.0.0.0:9000");
    assert_int_equal(c->http_max_body, 131072);
    assert_int_equal(c->ningress, 2);
    assert_string_equal(c->ingress[1], "tcp://127.0.0.1:6001");
    assert_int_equal(c->ndispatch, 2);
    assert_string_equal(c->dispatch[0], "tcp://*:6010");
    assert_string_equal(c->dispatch[1], "ipc:///tmp/d1");
    assert_string_equal(c->completion[0], "inproc://done");
    assert_int_equal(c->heartbeat_ms, 250);
    assert_int_equal(c->heartbeat_liveness, 5);
    assert_int_equal(c->brokers, 2);
    assert_int_equal(c->workers, 8);
    assert_int_equal(c->max_wait_s, 900);
    assert_int_equal(c->lease_ms, 20000);
    assert_int_equal(c->claim_timeout_ms, 3000);
    assert_int_equal(c->reaper_interval_ms, 500);
    assert_int_equal(c->max_recoveries, 0);
    assert_int_equal(c->worker_max_inflight, 500);
    assert_int_equal(c->signup_credits, 100);
    assert_int_equal(c->naspect_ratios, 2);
    assert_string_equal(c->aspect_ratios[1], "21:9");
    assert_int_equal(c->max_prompt_len, 4000);
    assert_int_equal(c->nretries, 4);
    assert_int_equal(c->retry_schedule_ms[3], 60000);
    assert_int_equal(c->webhook_timeout_ms, 5000);
    assert_int_equal(c->dedup_ttl_s, 86400);
    assert_int_equal(c->outbox_scan_ms, 200);
    assert_int_equal(c->delivery_concurrency, 64);
    assert_string_equal(c->data_dir, "/var/lib/reelay");
    assert_false(c->simulator);
    assert_string_equal(c->simulator_listen, "localhost:18090");
    assert_int_equal(c->demo_credits, 0);
    assert_string_equal(c->log_level, "debug");

    assert_int_equal(c->nproviders, 1);
    const rl_provider_conf_t *p = &c->providers[0];
    assert_string_equal(p->name, "acme");
    assert_string_equal(p->type, "replicate");
    assert_string_equal(p->base_url, "https://api.example.com/v1");
    assert_string_equal(p->key, "k1");
    assert_string_equal(p->secret, "s1");
    assert_int_equal(p->poll_interval_ms, 750);
    assert_int_equal(p->submit_timeout_ms, 20000);
    assert_int_equal(p->poll_timeout_ms, 3000);

    assert_int_equal(c->nmodels, 2);
    const rl_model_conf_t *fast = rl_config_model(c, "fast");
    const rl_model_conf_t *slow = rl_config_model(c, "slow");
    assert_non_null(fast);
    assert_non_null(slow);
    assert_null(rl_config_model(c, "medium"));
    assert_null(rl_config_model(c, NULL));
    assert_int_equal(fast->provider, 0);
    assert_string_equal(fast->upstream_model, "fast"); /* default: name */
    assert_string_equal(slow->upstream_model, "acme-slow-2");
    assert_int_equal(fast->nchain, 1);
    assert_ptr_equal(&c->models[fast->chain[0]], slow);
    assert_int_equal(slow->nchain, 0);
    assert_int_equal(rl_config_price(fast, 5), 1);
    assert_int_equal(rl_config_price(slow, 10), 6);
    assert_int_equal(rl_config_price(slow, 7), -1);
    rl_config_destroy(&c);
}

/* The deploy file is found next to this source file. */
static void
s_deploy_path(char *out, size_t len)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash != NULL ? (int)(slash - __FILE__) : 1;
    snprintf(out, len, "%.*s/../../deploy/reelay.ini", dir,
             slash != NULL ? __FILE__ : ".");
}

static void
test_deploy_file(void **state)
{
    (void)state;
    char err[ERR_LEN] = "", path[PATH_LEN];
    s_deploy_path(path, sizeof path);
    rl_config_t *c = rl_config_load(path, err, sizeof err);
    if (c == NULL)
        fail_msg("load %s: %s", path, err);
    assert_true(c->redis_embedded);
    assert_true(c->simulator);
    assert_int_equal(c->nproviders, 2);
    assert_string_equal(c->providers[0].name, "sim-kling");
    assert_string_equal(c->providers[0].type, "kling");
    assert_string_equal(c->providers[0].secret, "sim-sk");
    assert_int_equal(c->providers[0].poll_interval_ms, 1000);
    assert_string_equal(c->providers[1].type, "seedance");
    assert_string_equal(c->providers[1].key, "sim-ark-key");
    assert_string_equal(c->providers[1].secret, "");

    const rl_model_conf_t *v3 = rl_config_model(c, "kling-v3");
    const rl_model_conf_t *sd = rl_config_model(c, "seedance");
    const rl_model_conf_t *o3 = rl_config_model(c, "kling-o3-pro");
    assert_non_null(v3);
    assert_non_null(sd);
    assert_non_null(o3);
    assert_string_equal(c->providers[v3->provider].name, "sim-kling");
    assert_string_equal(c->providers[sd->provider].name, "sim-seedance");
    assert_string_equal(sd->upstream_model, "seedance-1-0-pro-250528");
    assert_string_equal(o3->upstream_model, "kling-v2-master");
    assert_int_equal(rl_config_price(v3, 5), 3);
    assert_int_equal(rl_config_price(v3, 10), 6);
    assert_int_equal(rl_config_price(sd, 5), 2);
    assert_int_equal(rl_config_price(o3, 10), 10);
    assert_int_equal(v3->nchain, 2);
    assert_ptr_equal(&c->models[v3->chain[0]], sd);
    assert_ptr_equal(&c->models[v3->chain[1]], o3);
    assert_int_equal(sd->nchain, 1);
    assert_ptr_equal(&c->models[sd->chain[0]], o3);
    assert_int_equal(o3->nchain, 0);
    /* Kinovi's model names find the Seedance model. */
    assert_int_equal(sd->naliases, 2);
    assert_ptr_equal(rl_config_model(c, "seedance-20"), sd);
    assert_ptr_equal(rl_config_model(c, "seedance2-fast"), sd);
    assert_int_equal(v3->naliases, 0);
    assert_int_equal(c->max_active_jobs, 0);
    rl_config_destroy(&c);
}

static void
test_env_fixed(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    setenv("REELAY_JOBS_LEASE_MS", "20000", 1);
    setenv("REELAY_REDIS_EMBEDDED", "false", 1);
    setenv("REELAY_ZMQ_INGRESS", "tcp://10.0.0.1:1, tcp://10.0.0.2:1", 1);
    setenv("REELAY_WEBHOOK_RETRY_SCHEDULE", "0,1.5", 1);
    setenv("REELAY_LIMITS_MAX_ACTIVE_JOBS", "7", 1);
    /* The environment wins over the file. */
    rl_config_t *c = s_load_text(
        "[jobs]\nlease_ms = 1000\n[limits]\nmax_active_jobs = 3\n", err, NULL);
    unsetenv("REELAY_LIMITS_MAX_ACTIVE_JOBS");
    unsetenv("REELAY_JOBS_LEASE_MS");
    unsetenv("REELAY_REDIS_EMBEDDED");
    unsetenv("REELAY_ZMQ_INGRESS");
    unsetenv("REELAY_WEBHOOK_RETRY_SCHEDULE");
    if (c == NULL)
        fail_msg("load: %s", err);
    assert_int_equal(c->lease_ms, 20000);
    assert_false(c->redis_embedded);
    assert_int_equal(c->ningress, 2);
    assert_string_equal(c->ingress[1], "tcp://10.0.0.2:1");
    assert_int_equal(c->nretries, 2);
    assert_int_equal(c->retry_schedule_ms[1], 1500);
    assert_int_equal(c->max_active_jobs, 7);
    rl_config_destroy(&c);

    /* Also without a file. */
    setenv("REELAY_HTTP_MAX_BODY", "2048", 1);
    c = rl_config_load(NULL, err, sizeof err);
    unsetenv("REELAY_HTTP_MAX_BODY");
    assert_non_null(c);
    assert_int_equal(c->http_max_body, 2048);
    rl_config_destroy(&c);
}

static const char s_catalog[] = "[provider.sim]\n"
                                "type = kling\n"
                                "base_url = http://127.0.0.1:8090\n"
                                "[provider.other]\n"
                                "type = fal\n"
                                "base_url = http://127.0.0.1:8091\n"
                                "[model.kling-v3]\n"
                                "provider = sim\n"
                                "prices = 5s:3\n";

static void
test_env_dynamic(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    setenv("REELAY_MODEL_KLING_V3_PRICES", "5s:4, 10s:8", 1);
    setenv("REELAY_MODEL_KLING_V3_PROVIDER", "other", 1);
    setenv("REELAY_PROVIDER_SIM_BASE_URL", "https://sim.example", 1);
    setenv("REELAY_PROVIDER_SIM_SECRET", "from-env", 1); /* not in file */
    setenv("REELAY_MODEL_NOPE_PRICES", "5s:1", 1);       /* no such section */
    rl_config_t *c = s_load_text(s_catalog, err, NULL);
    unsetenv("REELAY_MODEL_KLING_V3_PRICES");
    unsetenv("REELAY_MODEL_KLING_V3_PROVIDER");
    unsetenv("REELAY_PROVIDER_SIM_BASE_URL");
    unsetenv("REELAY_PROVIDER_SIM_SECRET");
    unsetenv("REELAY_MODEL_NOPE_PRICES");
    if (c == NULL)
        fail_msg("load: %s", err);
    assert_string_equal(c->providers[0].base_url, "https://sim.example");
    assert_string_equal(c->providers[0].secret, "from-env");
    assert_string_equal(c->providers[1].secret, "");
    assert_int_equal(c->nmodels, 1);
    const rl_model_conf_t *m = rl_config_model(c, "kling-v3");
    assert_int_equal(m->nprices, 2);
    assert_int_equal(rl_config_price(m, 10), 8);
    assert_string_equal(c->providers[m->provider].name, "other");
    rl_config_destroy(&c);
}

static void
test_env_invalid(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    setenv("REELAY_JOBS_LEASE_MS", "lots", 1);
    rl_config_t *c = rl_config_load(NULL, err, sizeof err);
    unsetenv("REELAY_JOBS_LEASE_MS");
    assert_null(c);
    assert_non_null(strstr(err, "environment REELAY_JOBS_LEASE_MS"));
    assert_non_null(strstr(err, "[jobs] lease_ms"));
    assert_non_null(strstr(err, "not a whole number"));

    /* A bad reference from the environment names the variable. */
    setenv("REELAY_MODEL_KLING_V3_PROVIDER", "ghost", 1);
    c = s_load_text(s_catalog, err, NULL);
    unsetenv("REELAY_MODEL_KLING_V3_PROVIDER");
    assert_null(c);
    assert_non_null(strstr(err, "environment REELAY_MODEL_KLING_V3_PROVIDER"));
    assert_non_null(strstr(err, "unknown provider 'ghost'"));
}

#define PROV "[provider.p]\ntype = kling\nbase_url = http://127.0.0.1:1\n"

typedef struct {
    const char *text;   /* the file */
    int line;           /* expected line in the message, 0 for none */
    const char *where;  /* expected "[section] key", or NULL */
    const char *reason; /* expected fragment of the reason */
} error_case_t;

static const error_case_t s_errors[] = {
    {"[nope]\nx = 1\n", 2, "[nope] x", "unknown section"},
    {"[redis]\nhots = x\n", 2, "[redis] hots", "unknown key"},
    {"port = 1\n", 1, NULL, "port: key outside any section"},
    {"[redis]\n\nport\n", 3, NULL, "syntax error"},
    {"[redis\nport = 1\n", 1, NULL, "syntax error"},
    {"[redis]\nport = 12ab\n", 2, "[redis] port", "not a whole number"},
    {"[redis]\nport = 70000\n", 2, "[redis] port", "out of bounds"},
    {"[redis]\nport = 99999999999999999999\n", 2, "[redis] port",
     "out of bounds"},
    {"[jobs]\nlease_ms = 5\n", 2, "[jobs] lease_ms", "out of bounds [100,"},
    {"[jobs]\nmax_recoveries = -1\n", 2, "[jobs] max_recoveries",
     "out of bounds"},
    {"[limits]\nmax_active_jobs = -1\n", 2, "[limits] max_active_jobs",
     "out of bounds [0, 1000000]"},
    {"[redis]\nembedded = maybe\n", 2, "[redis] embedded", "not a boolean"},
    {"[redis]\nappendfsync = never\n", 2, "[redis] appendfsync",
     "not one of always|everysec"},
    {"[redis]\nhost = bad_host!\n", 2, "[redis] host", "not a host"},
    {"[launcher]\nlog_level = loud\n", 2, "[launcher] log_level", "not one of"},
    {"[launcher]\ndata_dir =\n", 2, "[launcher] data_dir", "empty"},
    {"[http]\nlisten = 127.0.0.1\n", 2, "[http] listen", "not HOST:PORT"},
    {"[zmq]\ningress = tcp://127.0.0.1:1,,tcp://127.0.0.1:2\n", 2,
     "[zmq] ingress", "empty entry"},
    {"[zmq]\ningress = tcp://127.0.0.1:1,\n", 2, "[zmq] ingress",
     "empty entry"},
    {"[zmq]\ningress =\n", 2, "[zmq] ingress", "at least 1"},
    {"[zmq]\ningress = udp://127.0.0.1:1\n", 2, "[zmq] ingress",
     "not an endpoint"},
    {"[zmq]\ndispatch = tcp://127.0.0.1:0\n", 2, "[zmq] dispatch",
     "not an endpoint"},
    {"[jobs]\naspect_ratios = 16:9, wide\n", 2, "[jobs] aspect_ratios",
     "not an aspect ratio"},
    {"[jobs]\nretention_days = -1\n", 2, "[jobs] retention_days",
     "not a number of days"},
    {"[jobs]\nretention_days = 1e3\n", 2, "[jobs] retention_days",
     "not a number of days"},
    {"[jobs]\nretention_days = 1.2.3\n", 2, "[jobs] retention_days",
     "not a number of days"},
    {"[jobs]\nretention_days = .\n", 2, "[jobs] retention_days",
     "not a number of days"},
    {"[jobs]\nretention_days = 36501\n", 2, "[jobs] retention_days",
     "out of bounds [0, 36500] days"},
    {"[jobs]\nretention_days = 0.000000001\n", 2, "[jobs] retention_days",
     "less than 1 ms"},
    {"[jobs]\narchive = sometimes\n", 2, "[jobs] archive", "not a boolean"},
    {"[webhook]\nretry_schedule = 0,-5\n", 2, "[webhook] retry_schedule",
     "not a number of seconds"},
    {"[webhook]\nretry_schedule = 0,1e3\n", 2, "[webhook] retry_schedule",
     "not a number of seconds"},
    {"[webhook]\nretry_schedule = 0,1.2.3\n", 2, "[webhook] retry_schedule",
     "not a number of seconds"},
    {"[webhook]\nretry_schedule = 0,100000\n", 2, "[webhook] retry_schedule",
     "out of bounds"},
    {"[webhook]\nretry_schedule = 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n",
     2, "[webhook] retry_schedule", "more than 16 entries"},
    {"[processes]\nbroker = 2\n", 0, "[zmq] ingress",
     "1 endpoint(s) for 2 broker processes"},
    {"[processes]\ndeliverer = 3\n", 0, "[zmq] completion",
     "1 endpoint(s) for 3 deliverer processes"},
    {"[processes]\nworker = 3\n[health]\n"
     "worker_status_listen = 127.0.0.1:9101,127.0.0.1:9102\n",
     0, "[health] worker_status_listen",
     "2 endpoint(s) for 3 worker processes"},
    {"[processes]\ndeliverer = 2\n[zmq]\ncompletion = inproc://a,inproc://b\n"
     "[webhook]\ndeliverer_status_listen = 127.0.0.1:9102\n",
     0, "[webhook] deliverer_status_listen",
     "1 endpoint(s) for 2 deliverer processes"},
    {"[provider.p]\ntype = acme\n", 2, "[provider.p] type", "not one of"},
    {"[provider.p]\ncolour = red\n", 2, "[provider.p] colour", "unknown key"},
    {"[provider.p]\ntype = kling\nbase_url = ftp://x\n", 3,
     "[provider.p] base_url", "not an http"},
    {"[provider.p]\ntype = kling\n", 0, "[provider.p] base_url",
     "required key is missing"},
    {"[provider.a b]\ntype = kling\n", 2, "[provider.a b] type", "not a name"},
    {"[provider.p]\npoll_interval_ms = 0\n", 2, "[provider.p] poll_interval_ms",
     "out of bounds"},
    {PROV "[model.m]\nprovider = q\nprices = 5:1\n", 5, "[model.m] provider",
     "unknown provider 'q'"},
    {PROV "[model.m]\nprices = 5:1\n", 0, "[model.m] provider",
     "required key is missing"},
    {PROV "[model.m]\nprovider = p\n", 0, "[model.m] prices",
     "required key is missing"},
    {PROV "[model.m]\nprovider = p\nprices = 5x:1\n", 6, "[model.m] prices",
     "bad price '5x:1'"},
    {PROV "[model.m]\nprovider = p\nprices = 5s\n", 6, "[model.m] prices",
     "bad price"},
    {PROV "[model.m]\nprovider = p\nprices = 0s:1\n", 6, "[model.m] prices",
     "bad price"},
    {PROV "[model.m]\nprovider = p\nprices = 5s:-1\n", 6, "[model.m] prices",
     "bad price"},
    {PROV "[model.m]\nprovider = p\nprices = 5s:1, 5:2\n", 6,
     "[model.m] prices", "priced twice"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\nfailover = x\n", 7,
     "[model.m] failover", "unknown model 'x'"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\nfailover = m\n", 7,
     "[model.m] failover", "itself"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\nfailover = n, n\n"
          "[model.n]\nprovider = p\nprices = 5:1\n",
     7, "[model.m] failover", "listed twice"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\nfailover = a,,b\n", 7,
     "[model.m] failover", "empty entry"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\ncolour = red\n", 7,
     "[model.m] colour", "unknown key"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\naliases = n\n"
          "[model.n]\nprovider = p\nprices = 5:1\n",
     7, "[model.m] aliases", "alias 'n' is the name of model 'n'"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\naliases = m\n", 7,
     "[model.m] aliases", "alias 'm' is the name of model 'm'"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\naliases = x\n"
          "[model.n]\nprovider = p\nprices = 5:1\naliases = y, x\n",
     11, "[model.n] aliases", "alias 'x' is already an alias of model 'm'"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\naliases = x, x\n", 7,
     "[model.m] aliases", "alias 'x' is already an alias of model 'm'"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\naliases = a b\n", 7,
     "[model.m] aliases", "not a name"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\naliases = x,,y\n", 7,
     "[model.m] aliases", "empty entry"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\nfailover = n, nn\n"
          "[model.n]\nprovider = p\nprices = 5:1\naliases = nn\n",
     7, "[model.m] failover", "model 'nn' is listed twice"},
    {PROV "[model.m]\nprovider = p\nprices = 5:1\nfailover = mm\n"
          "aliases = mm\n",
     7, "[model.m] failover", "itself"},
};

static void
test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof s_errors / sizeof s_errors[0]; i++) {
        const error_case_t *e = &s_errors[i];
        char err[ERR_LEN] = "", path[PATH_LEN], where[PATH_LEN + 32];
        rl_config_t *c = s_load_text(e->text, err, path);
        if (c != NULL) {
            rl_config_destroy(&c);
            fail_msg("case %zu loaded:\n%s", i, e->text);
        }
        if (e->line > 0)
            snprintf(where, sizeof where, "%s:%d: ", path, e->line);
        else
            snprintf(where, sizeof where, "%s: ", path);
        if (strncmp(err, where, strlen(where)) != 0 ||
            (e->where != NULL && strstr(err, e->where) == NULL) ||
            strstr(err, e->reason) == NULL)
            fail_msg("case %zu: got \"%s\", want \"%s%s: ...%s\"", i, err,
                     where, e->where != NULL ? e->where : "", e->reason);
    }
}

static void
test_unreadable_file(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c = rl_config_load("/nonexistent/reelay.ini", err, sizeof err);
    assert_null(c);
    assert_non_null(strstr(err, "/nonexistent/reelay.ini: cannot open"));
    c = rl_config_load("/tmp", err, sizeof err); /* a directory */
    assert_null(c);
    assert_non_null(strstr(err, "/tmp: cannot read"));
    /* err may be left out. */
    assert_null(rl_config_load("/nonexistent/reelay.ini", NULL, 0));
}

static void
test_long_line(void **state)
{
    (void)state;
    char text[1024], err[ERR_LEN] = "", path[PATH_LEN], want[PATH_LEN + 8];
    int n = snprintf(text, sizeof text, "[launcher]\ndata_dir = /");
    memset(text + n, 'a', 400);
    snprintf(text + n + 400, sizeof text - (size_t)n - 400, "\n");
    rl_config_t *c = s_load_text(text, err, path);
    assert_null(c);
    snprintf(want, sizeof want, "%s:2: ", path);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "line longer than"));
}

static void
test_prices_and_failover(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load_text(
        PROV "[model.a]\nprovider = p\nprices = 5s:3, 10s:6 ,15:9\n"
             "failover = c, b\n"
             "[model.b]\nprovider = p\nprices = 5:0\nfailover = c\n"
             "[model.c]\nprovider = p\nprices=10s:1\nfailover =\n"
             "[model.a]\nupstream_model = a-2\n", /* sections merge */
        err, NULL);
    if (c == NULL)
        fail_msg("load: %s", err);
    const rl_model_conf_t *a = rl_config_model(c, "a");
    assert_int_equal(a->nprices, 3);
    assert_int_equal(a->prices[0].seconds, 5);
    assert_int_equal(a->prices[0].credits, 3);
    assert_int_equal(rl_config_price(a, 15), 9);
    assert_int_equal(rl_config_price(a, 20), -1);
    assert_string_equal(a->upstream_model, "a-2");
    assert_int_equal(a->nchain, 2);
    assert_string_equal(c->models[a->chain[0]].name, "c");
    assert_string_equal(c->models[a->chain[1]].name, "b");
    const rl_model_conf_t *b = rl_config_model(c, "b");
    assert_int_equal(rl_config_price(b, 5), 0);
    assert_int_equal(b->nchain, 1);
    assert_int_equal(rl_config_model(c, "c")->nchain, 0);
    rl_config_destroy(&c);
}

/* A list longer than a line continues on indented lines, each with whole
 * entries; a repeated key on a line of its own still replaces. */
static void
test_list_continued(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c =
        s_load_text(PROV "[model.a]\nprovider = p\nprices = 5:1\n"
                         "failover = b, c\n    d\n\te\n"
                         "[model.b]\nprovider = p\nprices = 5:1\n"
                         "[model.c]\nprovider = p\nprices = 5:1\n"
                         "[model.d]\nprovider = p\nprices = 5:1\n"
                         "[model.e]\nprovider = p\nprices = 5:1\n"
                         "[webhook]\nallow = 10.0.0.0/8\nallow = 192.0.2.1\n",
                    err, NULL);
    if (c == NULL)
        fail_msg("load: %s", err);
    const rl_model_conf_t *a = rl_config_model(c, "a");
    assert_int_equal(a->nchain, 4);
    assert_string_equal(c->models[a->chain[2]].name, "d");
    assert_string_equal(c->models[a->chain[3]].name, "e");
    assert_int_equal(c->nwebhook_allow, 1);
    char chain[RL_CONFIG_CHAIN_TEXT];
    assert_int_equal(rl_config_chain_text(c, a, chain, sizeof chain), 0);
    assert_string_equal(chain, "a,b,c,d,e");
    assert_int_equal(rl_config_chain_text(c, a, chain, 6), -1);
    rl_config_destroy(&c);
}

/* [model.NAME] aliases: a request may name a model by any of them. */
static void
test_aliases(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load_text(
        PROV "[model.a]\nprovider = p\nprices = 5:1\n"
             "aliases = a-20, a2-fast\nfailover = bee\n"
             "[model.b]\nprovider = p\nprices = 5:2\naliases = bee\n"
             "[model.c]\nprovider = p\nprices = 5:3\n",
        err, NULL);
    if (c == NULL)
        fail_msg("load: %s", err);
    const rl_model_conf_t *a = rl_config_model(c, "a");
    const rl_model_conf_t *b = rl_config_model(c, "b");
    assert_int_equal(a->naliases, 2);
    assert_string_equal(a->aliases[0], "a-20");
    assert_string_equal(a->aliases[1], "a2-fast");
    assert_ptr_equal(rl_config_model(c, "a-20"), a);
    assert_ptr_equal(rl_config_model(c, "a2-fast"), a);
    assert_ptr_equal(rl_config_model(c, "bee"), b);
    assert_int_equal(rl_config_model(c, "c")->naliases, 0);
    assert_null(rl_config_model(c, "A-20")); /* names are case-sensitive */
    assert_null(rl_config_model(c, "a-2"));
    /* A failover may name a model by an alias; the chain holds it. */
    assert_int_equal(a->nchain, 1);
    assert_ptr_equal(&c->models[a->chain[0]], b);
    rl_config_destroy(&c);

    /* REELAY_MODEL_<NAME>_ALIASES replaces the file's list. */
    setenv("REELAY_MODEL_KLING_V3_ALIASES", "kling-3, kling3", 1);
    c = s_load_text(s_catalog, err, NULL);
    unsetenv("REELAY_MODEL_KLING_V3_ALIASES");
    if (c == NULL)
        fail_msg("load: %s", err);
    const rl_model_conf_t *m = rl_config_model(c, "kling-v3");
    assert_int_equal(m->naliases, 2);
    assert_ptr_equal(rl_config_model(c, "kling3"), m);
    rl_config_destroy(&c);

    /* A clash set from the environment names the variable. */
    setenv("REELAY_MODEL_KLING_V3_ALIASES", "kling-v3", 1);
    c = s_load_text(s_catalog, err, NULL);
    unsetenv("REELAY_MODEL_KLING_V3_ALIASES");
    assert_null(c);
    assert_non_null(strstr(err, "environment REELAY_MODEL_KLING_V3_ALIASES"));
    assert_non_null(strstr(err, "is the name of model 'kling-v3'"));
}

static void
test_retry_fractional(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load_text(
        "[webhook]\nretry_schedule = 0, 0.2,0.5, .25, 1., 0.0006\n", err, NULL);
    if (c == NULL)
        fail_msg("load: %s", err);
    assert_int_equal(c->nretries, 6);
    assert_int_equal(c->retry_schedule_ms[0], 0);
    assert_int_equal(c->retry_schedule_ms[1], 200);
    assert_int_equal(c->retry_schedule_ms[2], 500);
    assert_int_equal(c->retry_schedule_ms[3], 250);
    assert_int_equal(c->retry_schedule_ms[4], 1000);
    assert_int_equal(c->retry_schedule_ms[5], 1); /* rounded */
    rl_config_destroy(&c);
}

/* [jobs] retention_days: a decimal number of days, as milliseconds (0
 * keeps every job), from the file or the environment. */
static void
test_retention_days(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        long ms;
    } cases[] = {
        {"0", 0},
        {"0.0", 0},
        {"30", 2592000000L},
        {"0.5", 43200000},
        {"0.0001", 8640},
        {".00002", 1728},
        {"1.", 86400000},
        {"36500", 3153600000000L},
    };
    char err[ERR_LEN] = "", text[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "[jobs]\nretention_days = %s\n",
                 cases[i].text);
        rl_config_t *c = s_load_text(text, err, NULL);
        if (c == NULL)
            fail_msg("%s: %s", cases[i].text, err);
        assert_int_equal(c->retention_ms, cases[i].ms);
        rl_config_destroy(&c);
    }
    setenv("REELAY_JOBS_RETENTION_DAYS", "0.00002", 1);
    setenv("REELAY_JOBS_ARCHIVE", "false", 1);
    rl_config_t *c = rl_config_load(NULL, err, sizeof err);
    unsetenv("REELAY_JOBS_RETENTION_DAYS");
    unsetenv("REELAY_JOBS_ARCHIVE");
    if (c == NULL)
        fail_msg("environment: %s", err);
    assert_int_equal(c->retention_ms, 1728);
    assert_false(c->archive);
    rl_config_destroy(&c);
}

/* A status listen list is off when empty, else needs an entry for every
 * process of its role (process --index i binds entry i). */
static void
test_status_lists(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    rl_config_t *c = s_load_text("[processes]\nworker = 4\ndeliverer = 2\n"
                                 "[zmq]\ncompletion = inproc://a,inproc://b\n",
                                 err, NULL);
    if (c == NULL)
        fail_msg("empty lists: %s", err);
    assert_int_equal(c->nworker_status_listen, 0);
    assert_int_equal(c->ndeliverer_status_listen, 0);
    rl_config_destroy(&c);
    c = s_load_text("[processes]\nworker = 2\ndeliverer = 2\n"
                    "[zmq]\ncompletion = inproc://a,inproc://b\n"
                    "[health]\n"
                    "worker_status_listen = 127.0.0.1:1,127.0.0.1:2\n"
                    "[webhook]\n"
                    "deliverer_status_listen = 127.0.0.1:3,127.0.0.1:4,"
                    "127.0.0.1:5\n",
                    err, NULL);
    if (c == NULL)
        fail_msg("one entry per process (or more): %s", err);
    assert_int_equal(c->nworker_status_listen, 2);
    assert_int_equal(c->ndeliverer_status_listen, 3);
    rl_config_destroy(&c);
}

static void
test_split_addr(void **state)
{
    (void)state;
    char host[64];
    int port = 0;
    assert_int_equal(
        rl_config_split_addr("127.0.0.1:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(
        rl_config_split_addr("redis-1.internal:1", host, sizeof host, &port),
        0);
    assert_string_equal(host, "redis-1.internal");
    assert_int_equal(port, 1);
    assert_int_equal(
        rl_config_split_addr("localhost:65535", host, sizeof host, &port), 0);
    assert_int_equal(port, 65535);

    static const char *const bad[] = {
        "127.0.0.1",       "127.0.0.1:",    ":8080",         "127.0.0.1:0",
        "127.0.0.1:65536", "127.0.0.1:80x", "127.0.0.1:-80", "127.0.0.1: 80",
        "127.0.0.1:+80",   "1.2.3.999:80",  "1.2.3:80",      "a..b:80",
        "-a.b:80",         "a-.b:80",       "a b:80",        "::1:80",
        "[::1]:80",        "*:80",          "host:80:81",    "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        port = 42;
        if (rl_config_split_addr(bad[i], host, sizeof host, &port) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(port, 42); /* untouched on error */
    }
    assert_int_equal(rl_config_split_addr(NULL, host, sizeof host, &port), -1);
    /* The host buffer must hold the host and its NUL. */
    assert_int_equal(rl_config_split_addr("abcdef:80", host, 6, &port), -1);
    assert_int_equal(rl_config_split_addr("abcde:80", host, 6, &port), 0);
    assert_string_equal(host, "abcde");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_deploy_file),
        cmocka_unit_test(test_env_fixed),
        cmocka_unit_test(test_env_dynamic),
        cmocka_unit_test(test_env_invalid),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_unreadable_file),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_list_continued),
        cmocka_unit_test(test_prices_and_failover),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_retry_fractional),
        cmocka_unit_test(test_retention_days),
        cmocka_unit_test(test_status_lists),
        cmocka_unit_test(test_split_addr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
