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

#ifdef REELAY_CRASH_POINTS
void rl_crash_point(const char *name);
#else
#define rl_crash_point(name) ((void)0)
#endif

#endif
