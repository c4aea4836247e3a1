/*
 * up - `reelay up`: a whole local deployment from one config file: a
 * Redis server of its own (embedded default), the provider simulator, a
 * demo webhook receiver, and the configured number of processes of each
 * role, restarted when they die, stopped cleanly on SIGINT/SIGTERM.
 * SPDX-License-Identifier: MIT
 */
#ifndef UP_H
#define UP_H

#include "rl_config.h"

/* Runs until SIGINT/SIGTERM. config_path must be the file cfg came from
 * (children load it themselves). Returns the exit status. */
int up_run(const rl_config_t *cfg, const char *config_path);

#endif
