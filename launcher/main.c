/*
 * reelay - the launcher and admin command line:
 *   reelay up [-c CONFIG]                       run a local deployment
 *   reelay account create [-c CONFIG] [--credits N]
 *   reelay submit [-c CONFIG] --key-file FILE [--idempotency-key K] BODY
 *                                               submit over ZeroMQ ingress
 *                                               (FILE "-": standard input)
 *   reelay keygen [-c CONFIG] [--dir DIR] NAME  a CURVE key pair
 *   reelay audit [-c CONFIG]                    check the credit invariants
 *   reelay export [-c CONFIG] --since DATE [--until DATE] [--archive-dir
 * DIR]... jobs and ledger entries as JSONL (docs/retention.md) reelay
 * check-config [-c CONFIG] reelay help                                 this
 * list SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "audit.h"
#include "export.h"
#include "rl_ingress_client.h"
#include "rl_config.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_secret.h"
#include "rl_zkeys.h"
#include "up.h"

#define MAIN_DEFAULT_CONFIG "deploy/reelay.ini"
#define MAIN_MAX_CREDITS 1000000000L
#define MAIN_REDIS_WAIT_MS 5000
#define MAIN_WHY_LEN 512

typedef struct {
    const char *config;
    long credits;         /* -1: the configured signup credits */
    const char *key_file; /* submit: file holding the API key */
    const char *idem;     /* submit: Idempotency-Key or NULL */
    const char *body;     /* submit: the JSON body; keygen: NAME */
    const char *dir;      /* keygen: where, NULL = [zmq] keys_dir */
    export_args_t export; /* export: dates and archive directories */
} args_t;

static void
s_usage(FILE *to)
{
    fprintf(to, "usage: reelay up [-c CONFIG]\n"
                "       reelay account create [-c CONFIG] [--credits N]\n"
                "       reelay submit [-c CONFIG] --key-file FILE|- "
                "[--idempotency-key K] BODY\n"
                "       reelay keygen [-c CONFIG] [--dir DIR] NAME\n"
                "       reelay audit [-c CONFIG]\n"
                "       reelay export [-c CONFIG] --since DATE [--until DATE] "
                "[--archive-dir DIR]...\n"
                "       reelay check-config [-c CONFIG]\n"
                "       reelay help\n"
                "\n"
                "up            run a local deployment from CONFIG\n"
                "account       create an account and its first API key\n"
                "submit        submit a job over the ZeroMQ ingress\n"
                "keygen        make a CURVE key pair NAME.key, NAME.pub\n"
                "audit         check every account's credits against its "
                "ledger and jobs\n"
                "export        write the jobs created and the ledger entries "
                "written in\n"
                "              [--since, --until) as JSON lines, from Redis "
                "and the archive\n"
                "              (default <data_dir>/archive; DIR may repeat), "
                "each once.\n"
                "              DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
                "YYYY-MM-DDTHH:MM:SS.mmmZ\n"
                "              (UTC). docs/retention.md\n"
                "check-config  load CONFIG and report the first error\n"
                "\n"
                "CONFIG defaults to $REELAY_CONFIG, else " MAIN_DEFAULT_CONFIG
                ".\nExit status 2: a bad command line or configuration.\n");
}

static int
s_parse(int argc, char **argv, args_t *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"credits", required_argument, NULL, 'n'},
        {"key-file", required_argument, NULL, 'k'},
        {"idempotency-key", required_argument, NULL, 'i'},
        {"dir", required_argument, NULL, 'd'},
        {"since", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"archive-dir", required_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    a->config = getenv("REELAY_CONFIG");
    if (a->config == NULL)
        a->config = MAIN_DEFAULT_CONFIG;
    a->credits = -1;
    a->key_file = NULL;
    a->idem = NULL;
    a->body = NULL;
    a->dir = NULL;
    memset(&a->export, 0, sizeof a->export);
    int c;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        char *end = NULL;
        if (c == 'c') {
            a->config = optarg;
        } else if (c == 'n') {
            a->credits = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || a->credits < 0 ||
                a->credits > MAIN_MAX_CREDITS) {
                fprintf(stderr, "reelay: bad --credits '%s'\n", optarg);
                return -1;
            }
        } else if (c == 'k') {
            a->key_file = optarg;
        } else if (c == 'i') {
            a->idem = optarg;
        } else if (c == 'd') {
            a->dir = optarg;
        } else if (c == 's') {
            a->export.since = optarg;
        } else if (c == 'u') {
            a->export.until = optarg;
        } else if (c == 'a') {
            if (a->export.ndirs == EXPORT_MAX_DIRS) {
                fprintf(stderr, "reelay: more than %d --archive-dir\n",
                        EXPORT_MAX_DIRS);
                return -1;
            }
            a->export.dirs[a->export.ndirs++] = optarg;
        } else {
            return -1;
        }
    }
    a->body = optind < argc ? argv[optind++] : NULL;
    return optind == argc ? 0 : -1;
}

/* The configured Redis, or NULL after a message. */
static rl_rsync_t *
s_connect(const rl_config_t *cfg)
{
    char why[MAIN_WHY_LEN], where[MAIN_WHY_LEN];
    rl_rsync_t *c = admin_connect(cfg, cfg->redis_password, MAIN_REDIS_WAIT_MS,
                                  why, sizeof why);
    if (c == NULL) {
        admin_where(cfg, where, sizeof where);
        fprintf(stderr, "reelay: %s %s\n", where, why);
    }
    return c;
}

static int
s_export(const rl_config_t *cfg, const export_args_t *a)
{
    int rc = export_check(cfg, a);
    if (rc != 0)
        return rc;
    rl_rsync_t *c = s_connect(cfg);
    if (c == NULL)
        return 1;
    rc = export_run(c, cfg, a);
    rl_rsync_destroy(&c);
    return rc;
}

static int
s_audit(const rl_config_t *cfg)
{
    rl_rsync_t *c = s_connect(cfg);
    if (c == NULL)
        return 2;
    int rc = audit_run(c);
    rl_rsync_destroy(&c);
    return rc;
}

/* Prints the HTTP-equivalent status and body; exits 0 for 2xx. */
static int
s_submit(const rl_config_t *cfg, const args_t *a)
{
    char key[RL_SECRET_MAX], why[MAIN_WHY_LEN];
    if (a->key_file == NULL || a->body == NULL) {
        s_usage(stderr);
        return 2;
    }
    /* The key comes from a file, never the command line (ps shows it). */
    const char *path =
        strcmp(a->key_file, "-") == 0 ? "/dev/stdin" : a->key_file;
    if (rl_secret_read(path, key, sizeof key, why, sizeof why) != 0) {
        fprintf(stderr, "reelay: --key-file: %s\n", why);
        return 2;
    }
    int status = 0;
    char *reply = NULL;
    char err[RL_CURVE_ERR_LEN];
    rl_zkeys_t keys;
    if (cfg->zmq_curve &&
        rl_zkeys_load(cfg, "cli", &keys, err, sizeof err) != 0) {
        explicit_bzero(key, sizeof key);
        fprintf(stderr, "reelay: %s\n", err);
        return 1;
    }
    int rc = rl_ingress_submit(NULL, cfg->ingress[0],
                               cfg->zmq_curve ? &keys.own : NULL,
                               cfg->zmq_curve ? keys.broker : NULL, key,
                               a->idem, a->body, 10000, &status, &reply);
    int saved = errno;
    explicit_bzero(key, sizeof key);
    if (cfg->zmq_curve)
        rl_zkeys_wipe(&keys);
    if (rc != 0 && saved == EACCES) {
        fprintf(stderr,
                "reelay: %s refused our CURVE key (is cli.pub in "
                "the broker's ingress.allow, and broker.pub its key?)\n",
                cfg->ingress[0]);
        return 1;
    }
    if (rc != 0) {
        fprintf(stderr, "reelay: no answer from %s\n", cfg->ingress[0]);
        return 1;
    }
    printf("%d %s\n", status, reply);
    free(reply);
    return status >= 200 && status < 300 ? 0 : 1;
}

/* Writes NAME.key (0600) and NAME.pub into --dir or [zmq] keys_dir,
 * making the directory (0700) when missing. */
static int
s_keygen(const rl_config_t *cfg, const args_t *a)
{
    char dir[1024], err[RL_CURVE_ERR_LEN];
    if (a->body == NULL) {
        s_usage(stderr);
        return 2;
    }
    if (a->dir != NULL ? rl_fmt(dir, sizeof dir, "%s", a->dir) != 0
                       : rl_curve_dir(cfg, dir, sizeof dir) != 0) {
        fprintf(stderr, "reelay: %s: path too long\n",
                a->dir != NULL ? "--dir" : "[zmq] keys_dir");
        return 1;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "reelay: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    if (rl_curve_keygen(dir, a->body, err, sizeof err) != 0) {
        fprintf(stderr, "reelay: %s\n", err);
        return 1;
    }
    char pub[RL_CURVE_KEY_LEN + 1], path[1200];
    if (rl_fmt(path, sizeof path, "%s/%s.pub", dir, a->body) != 0) {
        fprintf(stderr, "reelay: %s: path too long\n", dir);
        return 1;
    }
    if (rl_curve_read_public(path, pub, err, sizeof err) != 0) {
        fprintf(stderr, "reelay: %s\n", err);
        return 1;
    }
    printf("secret %s/%s.key\npublic %s\nkey %s\n", dir, a->body, path, pub);
    return 0;
}

static int
s_account_create(const rl_config_t *cfg, long credits)
{
    rl_rsync_t *c = s_connect(cfg);
    if (c == NULL)
        return 1;
    char key[ADMIN_KEY_LEN], acct[ADMIN_ACCT_LEN];
    int rc = admin_account_create(c, cfg,
                                  credits < 0 ? cfg->signup_credits : credits,
                                  key, sizeof key, acct, sizeof acct);
    rl_rsync_destroy(&c);
    if (rc != 0)
        return 1;
    printf("account %s\napi_key %s\n", acct, key);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    /* Everything the launcher creates (data directory, keys, the
     * embedded Redis's files, logs) and its children create is private
     * to its user. */
    umask(077);
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        s_usage(stdout);
        return 0;
    }
    int skip = (strcmp(cmd, "account") == 0 && argc > 2 &&
                strcmp(argv[2], "create") == 0)
                   ? 2
                   : 1;
    args_t a;
    if (s_parse(argc - skip, argv + skip, &a) != 0) {
        s_usage(stderr);
        return 2;
    }
    char err[512];
    rl_config_t *cfg = rl_config_load(a.config, err, sizeof err);
    if (cfg == NULL) {
        fprintf(stderr, "reelay: %s\n", err);
        return 2;
    }
    int level = rl_log_level_parse(cfg->log_level);
    rl_log_init("launcher", level < 0 ? RL_LOG_INFO : (rl_log_level_t)level);
    signal(SIGPIPE, SIG_IGN);
    int rc = 2;
    if (strcmp(cmd, "up") == 0)
        rc = up_run(cfg, a.config);
    else if (skip == 2)
        rc = s_account_create(cfg, a.credits);
    else if (strcmp(cmd, "submit") == 0)
        rc = s_submit(cfg, &a);
    else if (strcmp(cmd, "keygen") == 0)
        rc = s_keygen(cfg, &a);
    else if (strcmp(cmd, "audit") == 0)
        rc = s_audit(cfg);
    else if (strcmp(cmd, "export") == 0)
        rc = s_export(cfg, &a.export);
    else if (strcmp(cmd, "check-config") == 0) {
        printf("configuration ok: %s\n", a.config);
        rc = 0;
    } else
        s_usage(stderr);
    rl_config_destroy(&cfg);
    return rc;
}
