/*
 * audit - `reelay audit`: the credit invariants (docs/internals.md) checked
 * from Redis, with one line per account and a summary line "audit ok|FAILED:
 * accounts=N jobs=N violations=N". SPDX-License-Identifier: MIT
 */
#ifndef AUDIT_H
#define AUDIT_H

#include "rl_rsync.h"

/* Prints the audit; returns 0 when it passes, 1 on violations, 2 when
 * Redis cannot be read. */
int audit_run(rl_rsync_t *c);

#endif
