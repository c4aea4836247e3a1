/*
 * rl_log - one logger with levels for every process.
 * Lines go to stderr as "time role[pid] level: message". rl_log_warn()
 * appends strerror(errno), rl_log_warnx() does not (OpenBSD log.c). The
 * macros test the level before evaluating their arguments. A message may
 * quote outside text: it is written as one line of valid UTF-8, control
 * characters and invalid bytes escaped as \xNN (rl_text_safe).
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_LOG_H
#define RL_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    RL_LOG_ERROR = 0,
    RL_LOG_WARN = 1,
    RL_LOG_INFO = 2,
    RL_LOG_DEBUG = 3,
} rl_log_level_t;

/* Sets the role name printed on each line and the threshold. The role
 * string must outlive the process (a literal). */
void rl_log_init(const char *role, rl_log_level_t level);

/* Parses "error", "warn", "info" or "debug"; -1 when unknown. */
int rl_log_level_parse(const char *name);

/* The current threshold. */
rl_log_level_t rl_log_level(void);

/* Writes one line at `level`; `with_errno` appends strerror(errno). */
void rl_log_write(rl_log_level_t level, bool with_errno, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A log line an outsider can trigger at will (a refused connection, a
 * malformed frame) is written at most once per interval: keep one of
 * these per kind of line, zero-initialised. */
typedef struct {
    int64_t next_ms;     /* monotonic ms before which lines are held */
    uint64_t suppressed; /* lines held since the last one written */
} rl_log_limit_t;

/* True when a line limited by l may be written now, at most once per
 * interval_ms; then *held (may be NULL) is the number of lines held back
 * since the last one written, and the count starts again. False counts
 * one more line held. */
bool rl_log_limit(rl_log_limit_t *l, int64_t interval_ms, uint64_t *held);

#define RL_LOG_AT(lvl, errno_, ...)                                            \
    do {                                                                       \
        if ((lvl) <= rl_log_level())                                           \
            rl_log_write((lvl), (errno_), __VA_ARGS__);                        \
    } while (0)

#define rl_log_error(...) RL_LOG_AT(RL_LOG_ERROR, true, __VA_ARGS__)
#define rl_log_errorx(...) RL_LOG_AT(RL_LOG_ERROR, false, __VA_ARGS__)
#define rl_log_warn(...) RL_LOG_AT(RL_LOG_WARN, true, __VA_ARGS__)
#define rl_log_warnx(...) RL_LOG_AT(RL_LOG_WARN, false, __VA_ARGS__)
#define rl_log_info(...) RL_LOG_AT(RL_LOG_INFO, false, __VA_ARGS__)
#define rl_log_debug(...) RL_LOG_AT(RL_LOG_DEBUG, false, __VA_ARGS__)

#endif
