/*
 * fz - what the libFuzzer targets of tests/fuzz share: reading a
 * structured input front to back, checks that abort with a message (a
 * crash to libFuzzer, its input kept), tests of the answers' shape, and
 * the configuration every target loads.
 * SPDX-License-Identifier: MIT
 */
#ifndef FZ_H
#define FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rl_config.h"

/* libFuzzer's entry points, defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An input read front to back; reading past its end gives zeros and
 * empty strings, never an error. */
typedef struct {
    const uint8_t *p; /* the next byte */
    size_t n;         /* bytes left */
} fz_in_t;

/* The next byte, or 0 at the end. */
uint8_t fz_u8(fz_in_t *in);

/* The next two bytes, big-endian, or what is left of them. */
uint16_t fz_u16(fz_in_t *in);

/* The bytes up to the next `sep` (consumed) or the end, as a new
 * NUL-terminated string (caller frees); *len (may be NULL) gets its
 * length, which counts any NUL bytes inside. */
char *fz_str(fz_in_t *in, uint8_t sep, size_t *len);

/* Every byte left, as fz_str. */
char *fz_rest(fz_in_t *in, size_t *len);

/* Reports a broken property and aborts: libFuzzer keeps the input. */
_Noreturn void fz_fail(const char *file, int line, const char *cond,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Checks a property of the code under test (never of the input). */
#define FZ_CHECK(cond, ...)                                                    \
    do {                                                                       \
        if (!(cond))                                                           \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                   \
    } while (0)

/* Writes to stderr when the environment sets FZ_DEBUG (to see what a
 * target does with one input; fuzzing leaves it unset). */
void fz_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Once per process: only errors are logged, SIGPIPE is ignored. */
void fz_setup(void);

/* True when s (NUL-terminated) is valid UTF-8: what a JSON string, a
 * log line or an API error may carry. */
bool fz_utf8(const char *s);

/* Parses len bytes of text as JSON that must be an object (what says
 * what it is, for the report). Returns it (caller decrefs). */
json_t *fz_json_object(const char *text, size_t len, const char *what);

/* Checks the error object of the /v1 API:
 * {"error": {"type", "code", "message": strings, "param": string|null}}. */
void fz_check_api_error(const json_t *o, const char *what);

/* Checks that a JSON value can be written and read back unchanged (a
 * caller sends json_dumps of it). */
void fz_check_dumps(const json_t *v, const char *what);

/* The configuration of the targets: a catalog with a provider of every
 * adapter type and models with failover and aliases, a master key, an
 * admin token, ZeroMQ endpoints inproc://fz-<tag>-*, the HTTP API on
 * http_port and Redis on redis_port. Loaded through a temporary file,
 * as a role loads its own. Aborts when it does not load. Caller owns. */
rl_config_t *fz_config(const char *tag, int http_port, int redis_port);

/* The master key of fz_config, as [security] master_key holds it. */
#define FZ_MASTER_KEY                                                          \
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* The admin token of fz_config. */
#define FZ_ADMIN_TOKEN "fz-admin-token"

/* A loopback TCP port that was free a moment ago (bound, then closed). */
int fz_free_port(void);

#endif
