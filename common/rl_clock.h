/*
 * rl_clock - wall and monotonic time in milliseconds, and ISO-8601 text.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_CLOCK_H
#define RL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t rl_clock_wall_ms(void);

/* Milliseconds from an arbitrary origin (CLOCK_MONOTONIC). */
int64_t rl_clock_mono_ms(void);

/* Microseconds from an arbitrary origin (CLOCK_MONOTONIC). */
int64_t rl_clock_mono_us(void);

/* Writes `ms` (epoch milliseconds) as "2026-03-10T14:23:01Z" into buf.
 * Returns buf; buf must hold at least RL_CLOCK_ISO_LEN bytes. */
#define RL_CLOCK_ISO_LEN 32
char *rl_clock_iso8601(int64_t ms, char *buf, size_t len);

#endif
