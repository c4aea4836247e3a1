/*
 * up - the local deployment.
 * SPDX-License-Identifier: MIT
 */
#include "up.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "keys.h"
#include "rl_apikey.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_loop.h"
#include "rl_secret.h"
#include "redis_conf.h"
#include "supervisor.h"

#define UP_REDIS_WAIT_MS 15000
#define UP_STOP_GRACE_MS 5000
#define UP_REDIS_PASSWORD_BYTES 32 /* random bytes of a generated password */
#define UP_WHY_LEN 512
/* A file under one of up_t's directories (PATH_MAX each, the NUL
 * included): the names joined to them are constants of fewer than 32
 * characters, so UP_PATH_LEN always holds the path (s_path). */
#define UP_PATH_LEN (PATH_MAX + 32)

typedef struct {
    const rl_config_t *cfg;
    char config[PATH_MAX];   /* absolute config path for the children */
    char bindir[PATH_MAX];   /* where our binaries are */
    char data[PATH_MAX];     /* absolute data_dir */
    char key[ADMIN_KEY_LEN]; /* the demo API key */
    char redis_password[RL_SECRET_MAX]; /* [redis] password, or the
                                           embedded Redis's generated one */
    struct event_base *base;
    supervisor_t *sup;
} up_t;

/* dir/name into out: a directory of up_t and a short constant name. */
static void
s_path(char out[UP_PATH_LEN], const char *dir, const char *name)
{
    rl_fmt_fit(out, UP_PATH_LEN, "%s/%s", dir, name);
}

/* mkdir -p, each directory it makes private (0700), and `path` itself
 * made private even when it was there already (an older launcher made
 * it 0755). */
static int
s_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    if (rl_fmt(buf, sizeof buf, "%s", path) != 0)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    return chmod(buf, 0700);
}

/* The password the launcher talks to Redis with: [redis] password (or
 * password_file), else for the embedded Redis the one in
 * <data>/redis.password, generated on a fresh deployment like the
 * master key. Children read the same file (rl_config.h). */
static int
s_redis_password(up_t *u)
{
    char path[UP_PATH_LEN], why[UP_WHY_LEN];
    const char *have = u->cfg->redis_password;
    if (have[0] != '\0' || !u->cfg->redis_embedded) {
        /* The config refuses a longer one (rl_config_check_secret). */
        if (rl_fmt(u->redis_password, sizeof u->redis_password, "%s", have) !=
            0) {
            rl_log_errorx("[redis] password too long");
            return -1;
        }
        return 0;
    }
    s_path(path, u->data, RL_CONFIG_REDIS_PASSWORD_FILE);
    if (rl_secret_create(path, UP_REDIS_PASSWORD_BYTES) != 0) {
        rl_log_error("cannot create %s", path);
        return -1;
    }
    if (rl_secret_read(path, u->redis_password, sizeof u->redis_password, why,
                       sizeof why) != 0) {
        rl_log_errorx("%s", why);
        return -1;
    }
    return 0;
}

static int
s_paths(up_t *u, const char *config_path)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0 || realpath(config_path, u->config) == NULL)
        return -1;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    memcpy(u->bindir, self, (size_t)(slash - self) + 1); /* both PATH_MAX */
    if (s_mkdirs(u->cfg->data_dir) != 0 ||
        realpath(u->cfg->data_dir, u->data) == NULL)
        return -1;
    char sub[UP_PATH_LEN];
    s_path(sub, u->data, "logs");
    if (s_mkdirs(sub) != 0)
        return -1;
    s_path(sub, u->data, "redis");
    if (s_mkdirs(sub) != 0)
        return -1;
    /* The CURVE keys and allow files of every link, when missing. */
    char err[512];
    if (keys_ensure(u->cfg, err, sizeof err) != 0) {
        rl_log_errorx("%s", err);
        return -1;
    }
    /* The master key sealing API keys, made once per deployment unless
     * the configuration provides one. */
    if (u->cfg->master_key[0] == '\0' && rl_apikey_master_create(u->data))
        return -1;
    return s_redis_password(u);
}

/* Redis gets its settings, password included, from a file: its
 * command line is visible to every user. */
static int
s_start_redis(up_t *u)
{
    char conf[UP_PATH_LEN], dir[UP_PATH_LEN], why[UP_WHY_LEN];
    s_path(conf, u->data, REDIS_CONF_FILE);
    s_path(dir, u->data, "redis");
    if (redis_conf_write(conf, u->cfg, dir, u->redis_password, why,
                         sizeof why) != 0) {
        rl_log_errorx("embedded Redis: %s", why);
        return -1;
    }
    const char *argv[] = {"/usr/bin/redis-server", conf, NULL};
    return supervisor_add(u->sup, "redis", argv);
}

/* The demo account: reused from <data>/demo-key when still valid. */
static int
s_demo_account(up_t *u, rl_rsync_t *c)
{
    char path[UP_PATH_LEN], acct[ADMIN_ACCT_LEN];
    s_path(path, u->data, "demo-key");
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(u->key, sizeof u->key, f) != NULL)
            u->key[strcspn(u->key, "\n")] = '\0';
        fclose(f);
        if (u->key[0] && admin_key_valid(c, u->key))
            return 0;
    }
    if (admin_account_create(c, u->cfg, u->cfg->demo_credits, u->key,
                             sizeof u->key, acct, sizeof acct) != 0)
        return -1;
    int fd =
        open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    (void)fchmod(fd, 0600);
    fprintf(f, "%s\n", u->key);
    return fclose(f) == 0 ? 0 : -1;
}

/* Process i of a role runs with --index i: it binds entry i of the
 * role's endpoint and status lists. */
static void
s_add_role(up_t *u, const char *role, int count)
{
    char bin[UP_PATH_LEN], name[32], index[RL_FMT_DEC_LEN];
    rl_fmt_fit(bin, sizeof bin, "%s/reelay-%s", u->bindir, role);
    for (int i = 0; i < count; i++) {
        /* A role (9 characters at most) and an int: 32 hold them. */
        rl_fmt_fit(name, sizeof name, "%s-%d", role, i);
        rl_fmt_dec(index, i);
        const char *argv[] = {bin, "-c", u->config, "--index", index, NULL};
        supervisor_add(u->sup, name, argv);
    }
}

/* The simulator checks Kling's JWTs with the first Kling provider's
 * access and secret key, handed over in its environment. */
static void
s_add_simulator(up_t *u)
{
    const rl_config_t *cfg = u->cfg;
    char bin[UP_PATH_LEN], ak[RL_SECRET_MAX + 32], sk[RL_SECRET_MAX + 32];
    const char *argv[] = {bin, "--listen", cfg->simulator_listen, NULL};
    const char *env[3] = {NULL};
    s_path(bin, u->bindir, "reelay-simulator");
    for (size_t i = 0; i < cfg->nproviders; i++) {
        const rl_provider_conf_t *p = &cfg->providers[i];
        if (strcmp(p->type, "kling") != 0 || p->key[0] == '\0' ||
            p->secret[0] == '\0')
            continue;
        if (rl_fmt(ak, sizeof ak, "REELAY_SIM_KLING_AK=%s", p->key) == 0 &&
            rl_fmt(sk, sizeof sk, "REELAY_SIM_KLING_SK=%s", p->secret) == 0) {
            env[0] = ak;
            env[1] = sk;
        } else {
            rl_log_warnx("[provider.%s] key or secret too long for the "
                         "simulator",
                         p->name);
        }
        break;
    }
    supervisor_add_env(u->sup, "simulator", argv, env);
    explicit_bzero(sk, sizeof sk);
}

static void
s_add_tools(up_t *u)
{
    const rl_config_t *cfg = u->cfg;
    char bin[UP_PATH_LEN], out[UP_PATH_LEN], keys[UP_PATH_LEN];
    if (cfg->simulator)
        s_add_simulator(u);
    if (cfg->receiver) {
        s_path(bin, u->bindir, "reelay-receiver");
        s_path(out, u->data, "deliveries.jsonl");
        s_path(keys, u->data, "demo-key");
        const char *argv[] = {bin,          "--listen", cfg->receiver_listen,
                              "--key-file", keys,       "--out",
                              out,          NULL};
        supervisor_add(u->sup, "receiver", argv);
    }
}

static void
s_banner(const up_t *u)
{
    const rl_config_t *cfg = u->cfg;
    printf("\nreelay is up: http://%s\n\n", cfg->http_listen);
    supervisor_print(u->sup);
    printf("\ndemo API key (%ld credits on a fresh deployment): %s\n\n",
           cfg->demo_credits, u->key);
    printf("submit a job:\n  curl -s http://%s/v1/video/generations "
           "-H 'Authorization: Bearer %s' -H 'Content-Type: "
           "application/json' -d '{\"model\":\"kling-v3\",\"prompt\":"
           "\"Product reveal animation on white background\",\"duration\":"
           "\"5s\",\"aspect_ratio\":\"16:9\"",
           cfg->http_listen, u->key);
    if (cfg->receiver) /* without it, poll instead of a webhook */
        printf(",\"webhook_url\":\"http://%s/webhooks/creativeai\"",
               cfg->receiver_listen);
    printf("}'\n\n");
    printf("poll it:\n  curl -s http://%s/v1/video/generations/<id> -H "
           "'Authorization: Bearer %s'\n\n",
           cfg->http_listen, u->key);
    if (cfg->receiver)
        printf("webhooks received (signature verified): %s/deliveries.jsonl"
               "\n",
               u->data);
    printf("logs: %s/logs/\nstop with Ctrl-C\n", u->data);
    fflush(stdout);
}

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    up_t *u = arg;
    (void)what;
    if (sig == SIGCHLD) {
        supervisor_reap(u->sup);
        return;
    }
    rl_log_info("signal %d: stopping every process", (int)sig);
    event_base_loopbreak(u->base);
}

static int
s_start(up_t *u)
{
    const rl_config_t *cfg = u->cfg;
    char why[UP_WHY_LEN];
    if (cfg->redis_embedded && s_start_redis(u) != 0)
        return -1;
    rl_rsync_t *c = admin_connect(cfg, u->redis_password, UP_REDIS_WAIT_MS, why,
                                  sizeof why);
    if (c == NULL) {
        char where[UP_WHY_LEN];
        admin_where(cfg, where, sizeof where);
        rl_log_errorx("%s %s", where, why);
        return -1;
    }
    int rc = s_demo_account(u, c);
    rl_rsync_destroy(&c);
    if (rc != 0)
        return -1;
    s_add_tools(u);
    s_add_role(u, "broker", cfg->brokers);
    s_add_role(u, "worker", cfg->workers);
    s_add_role(u, "deliverer", cfg->deliverers);
    return 0;
}

int
up_run(const rl_config_t *cfg, const char *config_path)
{
    up_t u = {.cfg = cfg};
    if (s_paths(&u, config_path) != 0) {
        rl_log_error("cannot prepare %s", cfg->data_dir);
        explicit_bzero(u.redis_password, sizeof u.redis_password);
        return 1;
    }
    char logs[UP_PATH_LEN];
    s_path(logs, u.data, "logs");
    u.base = rl_loop_new();
    u.sup = supervisor_new(u.base, logs);
    struct event *sig[3];
    int signals[3] = {SIGINT, SIGTERM, SIGCHLD};
    for (int i = 0; i < 3; i++) {
        sig[i] = evsignal_new(u.base, signals[i], s_on_signal, &u);
        event_add(sig[i], NULL);
    }
    int rc = 1;
    if (s_start(&u) == 0) {
        s_banner(&u);
        event_base_dispatch(u.base);
        rc = 0;
    }
    supervisor_stop_all(u.sup, UP_STOP_GRACE_MS);
    for (int i = 0; i < 3; i++)
        event_free(sig[i]);
    supervisor_destroy(&u.sup);
    event_base_free(u.base);
    explicit_bzero(u.redis_password, sizeof u.redis_password);
    return rc;
}
