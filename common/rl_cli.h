/*
 * rl_cli - the command line shared by every role:
 *   -c FILE          configuration file (default deploy/reelay.ini)
 *   --index N        which entry of the endpoint and status lists this
 *                    process binds (0..1023)
 *   --check-config   load and validate the configuration, then exit
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CLI_H
#define RL_CLI_H

#include <stdbool.h>

#include "rl_config.h"

typedef struct {
    const char *config_path; /* borrowed from argv */
    int index;               /* 0 by default */
    bool check_config;
} rl_cli_t;

/* Parses argv. Returns 0, or -1 after printing usage to stderr. */
int rl_cli_parse(int argc, char **argv, const char *role, rl_cli_t *out);

/* Loads the configuration and sets up logging for `role`; prints the
 * reason and returns NULL when it is invalid. With --check-config it
 * also checks the role's CURVE keys and allow files (rl_zkeys_check),
 * prints "configuration ok" and the caller exits. */
rl_config_t *rl_cli_config(const rl_cli_t *cli, const char *role);

/* Room for a process id: a role of RL_CLI_ROLE_MAX characters at most,
 * the host name cut at 20, a pid (10 digits at most), 6 random
 * characters, three '-' and the NUL. */
#define RL_CLI_ROLE_MAX 9
#define RL_CLI_ID_LEN 48

/* Writes "<role>-<hostname>-<pid>-<random>" into buf (len >=
 * RL_CLI_ID_LEN), an id that is unique per process start (the
 * incarnation). */
void rl_cli_process_id(const char *role, char *buf, size_t len);

#endif
