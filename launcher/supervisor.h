/*
 * supervisor - runs child processes and restarts the ones that die.
 *
 * Each child is an argv and an environment addition, started with
 * fork/exec in its own process group, its output appended to a log file.
 * A child that exits is restarted after a backoff (200 ms doubling to
 * 5 s, reset after 30 s of good running). Stopping sends SIGTERM to every
 * child, then SIGKILL to those still there after a grace period.
 * SPDX-License-Identifier: MIT
 */
#ifndef SUPERVISOR_H
#define SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;

#define SUPERVISOR_MAX_ARGS 16
#define SUPERVISOR_MAX_ENV 8
#define SUPERVISOR_MAX_CHILDREN 64

typedef struct supervisor supervisor_t;

supervisor_t *supervisor_new(struct event_base *base, const char *log_dir);
void supervisor_destroy(supervisor_t **p);

/* Adds and starts a child called `name` (used for its log file
 * <log_dir>/<name>.log, mode 0600). argv is copied; NULL-terminated.
 * Returns 0 or -1. */
int supervisor_add(supervisor_t *s, const char *name, const char *const *argv);

/* supervisor_add() with "NAME=VALUE" entries (NULL-terminated, copied,
 * at most SUPERVISOR_MAX_ENV) added to the environment the child
 * inherits: the way to hand a child a secret, since its command line is
 * visible to every user (ps) and its environment only to its owner. */
int supervisor_add_env(supervisor_t *s, const char *name,
                       const char *const *argv, const char *const *env);

/* The pid of child `name`, or -1. */
pid_t supervisor_pid(const supervisor_t *s, const char *name);

/* Reaps exited children and schedules restarts (call on SIGCHLD). */
void supervisor_reap(supervisor_t *s);

/* Stops every child: SIGTERM, then SIGKILL after grace_ms. Blocks until
 * all are gone (used once, on shutdown). */
void supervisor_stop_all(supervisor_t *s, long grace_ms);

/* Writes one line per child (name, pid, restarts) to stdout. */
void supervisor_print(const supervisor_t *s);

#endif
