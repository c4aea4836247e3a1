/*
 * rl_crash - named crash points for recovery tests.
 *
 * In builds with REELAY_CRASH_POINTS (the default; release packaging may
 * turn it off), rl_crash_point("name") exits the process at once with
 * status 99 (no cleanup, like a kill -9 at that line) when the
 * environment variable REELAY_CRASH_AT equals "name". Tests use it to
 * stop a role between two steps that must survive a crash.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CRASH_H
#define RL_CRASH_H

/*
 * Message loss for fault tests: rl_fault_drop("dispatch") is true with
 * the probability given by the environment variable REELAY_DROP_DISPATCH
 * (0..1; the name upper-cased), so a test can lose ZeroMQ messages in
 * flight and watch Redis-side recovery put things right.
 */
#ifdef REELAY_CRASH_POINTS
#include <stdbool.h>
void rl_crash_point(const char *name);
bool rl_fault_drop(const char *what);
#else
#define rl_crash_point(name) ((void)0)
#define rl_fault_drop(what) false
#endif

#endif
