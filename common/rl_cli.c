/*
 * rl_cli - argument parsing and start-up shared by the roles.
 * SPDX-License-Identifier: MIT
 */
#include "rl_cli.h"

#include <assert.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_zkeys.h"

#define RL_CLI_DEFAULT_CONFIG "deploy/reelay.ini"
#define RL_CLI_MAX_INDEX 1023 /* [processes] worker allows 1024 */

static void
s_usage(const char *role)
{
    fprintf(stderr,
            "usage: reelay-%s [-c CONFIG] [--index N] [--check-config]\n",
            role);
}

int
rl_cli_parse(int argc, char **argv, const char *role, rl_cli_t *out)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"index", required_argument, NULL, 'i'},
        {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    out->config_path = getenv("REELAY_CONFIG");
    if (out->config_path == NULL)
        out->config_path = RL_CLI_DEFAULT_CONFIG;
    out->index = 0;
    out->check_config = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'c':
            out->config_path = optarg;
            break;
        case 'i':
            out->index = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || out->index < 0 ||
                out->index > RL_CLI_MAX_INDEX) {
                fprintf(stderr, "reelay-%s: bad --index '%s'\n", role, optarg);
                return -1;
            }
            break;
        case 'k':
            out->check_config = true;
            break;
        default:
            s_usage(role);
            return -1;
        }
    }
    if (optind != argc) {
        s_usage(role);
        return -1;
    }
    return 0;
}

rl_config_t *
rl_cli_config(const rl_cli_t *cli, const char *role)
{
    char err[512];
    rl_config_t *cfg = rl_config_load(cli->config_path, err, sizeof err);
    if (cfg == NULL) {
        fprintf(stderr, "reelay-%s: %s\n", role, err);
        return NULL;
    }
    int level = rl_log_level_parse(cfg->log_level);
    rl_log_init(role, level < 0 ? RL_LOG_INFO : (rl_log_level_t)level);
    if (cli->check_config) {
        if (rl_zkeys_check(cfg, role, err, sizeof err) != 0) {
            fprintf(stderr, "reelay-%s: %s\n", role, err);
            rl_config_destroy(&cfg);
            return NULL;
        }
        printf("configuration ok: %s\n", cli->config_path);
    }
    return cfg;
}

void
rl_cli_process_id(const char *role, char *buf, size_t len)
{
    char host[64] = "host";
    char rnd[16] = "";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    for (char *p = host; *p; p++)
        if (*p == '|' || *p == ' ')
            *p = '_';
    host[20] = '\0';
    rl_random_id("", 6, rnd, sizeof rnd);
    assert(len >= RL_CLI_ID_LEN && strlen(role) <= RL_CLI_ROLE_MAX);
    int rc = rl_fmt(buf, len, "%s-%s-%d-%s", role, host, (int)getpid(), rnd);
    assert(rc == 0); /* RL_CLI_ID_LEN holds any (rl_cli.h) */
    (void)rc;
}
