/*
 * reelay-deliverer - signs and POSTs the webhooks of finished jobs.
 * Usage: reelay-deliverer -c CONFIG [--index N] [--check-config]
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "deliverer.h"
#include "rl_config.h"
#include "rl_log.h"
#include "rl_zkeys.h"

#define S_EXIT_USAGE 2

typedef struct {
    const char *config; /* -c */
    int index;          /* --index */
    bool check_only;    /* --check-config */
} s_args_t;

static _Noreturn void
s_usage(void)
{
    fprintf(stderr, "usage: reelay-deliverer -c CONFIG [--index N] "
                    "[--check-config]\n");
    exit(S_EXIT_USAGE);
}

static int
s_parse_index(const char *text)
{
    char *end = NULL;
    long n;

    errno = 0;
    n = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || n < 0 || n > 1024)
        s_usage();
    return (int)n;
}

static s_args_t
s_args(int argc, char **argv)
{
    static const struct option longs[] = {
        {"config", required_argument, NULL, 'c'},
        {"index", required_argument, NULL, 'i'},
        {"check-config", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    s_args_t a = {NULL, 0, false};
    int opt;

    while ((opt = getopt_long(argc, argv, "c:", longs, NULL)) != -1) {
        switch (opt) {
        case 'c':
            a.config = optarg;
            break;
        case 'i':
            a.index = s_parse_index(optarg);
            break;
        case 'k':
            a.check_only = true;
            break;
        default:
            s_usage();
        }
    }
    if (a.config == NULL || optind != argc)
        s_usage();
    return a;
}

int
main(int argc, char **argv)
{
    s_args_t args = s_args(argc, argv);
    char err[512];
    rl_config_t *cfg = rl_config_load(args.config, err, sizeof err);
    deliverer_t *ctx;
    int rc;

    if (cfg == NULL) {
        fprintf(stderr, "reelay-deliverer: %s\n", err);
        return EXIT_FAILURE;
    }
    if (args.check_only) {
        if (rl_zkeys_check(cfg, "deliverer", err, sizeof err) != 0) {
            fprintf(stderr, "reelay-deliverer: %s\n", err);
            rl_config_destroy(&cfg);
            return EXIT_FAILURE;
        }
        printf("%s: ok\n", args.config);
        rl_config_destroy(&cfg);
        return EXIT_SUCCESS;
    }
    rl_log_init("deliverer",
                (rl_log_level_t)rl_log_level_parse(cfg->log_level));
    ctx = deliverer_new(cfg, args.index);
    rc = ctx != NULL ? deliverer_run(ctx) : -1;
    deliverer_destroy(&ctx);
    rl_config_destroy(&cfg);
    return rc == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
