/*
 * rl_crash - named crash points for recovery tests.
 *
 * In builds with REELAY_CRASH_POINTS (CMake option, off by default;
 * scripts/build.sh, the dev/test build, turns it on; a release build
 * leaves it off so that no environment variable can crash a production
 * process or drop its messages), rl_crash_point("name") exits the
 * process at once with status 99 (no cleanup, like a kill -9 at that
 * line) when the environment variable REELAY_CRASH_AT equals "name".
 * Tests use it to stop a role between two steps that must survive a
 * crash. The points (docs/operations.md, Crash safety):
 *   broker_after_accept         accept.lua answered, before the 202
 *   worker_after_submit         upstream submit answered, before the
 *                               task id is recorded
 *   worker_after_finish         terminal write done, before the push
 *   deliverer_between_attempts  a failed attempt recorded as a retry,
 *                               before the next attempt
 *   broker_after_archive        finished jobs written to the archive and
 *                               fsync'd, before they leave Redis
 *   broker_after_ledger_archive ledger entries written to the archive,
 *                               before they leave Redis
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CRASH_H
#define RL_CRASH_H

/*
 * Message loss for fault tests: rl_fault_drop("dispatch") is true with
 * the probability given by the environment variable REELAY_DROP_DISPATCH
 * (0..1; the name upper-cased), so a test can lose ZeroMQ messages in
 * flight and watch Redis-side recovery put things right. Each drop is
 * written to stderr ("fault point: dispatch dropped"), so the test can
 * tell that it happened. The draws come from random(), never seeded:
 * the same run of draws in every process. The points: "dispatch" (a
 * DISPATCH lost), "completion" (a COMPLETION lost), "claim_reply" (a
 * claim ran, its reply lost), "finish_send" (a terminal write that
 * cannot be sent, as with Redis away).
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
