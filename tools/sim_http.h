/*
 * sim_http - the provider simulator's HTTP vocabulary, below every API:
 * reading a request (bearer token, JSON body, query arguments, path
 * matching), answering it (JSON, raw bytes, a video, 405), and the
 * errors an API can answer with their HTTP status and message. It knows
 * no API: each spells an error its own way (sim_api.h).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_HTTP_H
#define SIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>
#include <jansson.h>

#define SIM_ID_LEN 64 /* room for a task id and its NUL */

/* Errors any API can answer; each API spells them its own way. */
typedef enum {
    SIM_E_OK = 0,
    SIM_E_RATE,
    SIM_E_CAPACITY,
    SIM_E_INPUT_POLICY,
    SIM_E_INTERNAL,
    SIM_E_UNAVAILABLE,
    SIM_E_NOT_FOUND,
    SIM_E_BAD_REQUEST,
    SIM_E_FULL,
    SIM_E_AUTH_MISSING,
    SIM_E_AUTH_INVALID,
    SIM_E_AUTH_FAILED,
    SIM_E_AUTH_NBF,
    SIM_E_AUTH_EXP,
    SIM_E_COUNT,
} sim_err_t;

/* The HTTP status and message of err (not SIM_E_OK): what an API answers
 * unless it spells the error otherwise. */
int sim_err_status(sim_err_t err);
const char *sim_err_message(sim_err_t err);

/* ---- replies --------------------------------------------------------- */

/* json_dump_callback() sink appending to the evbuffer arg. */
int sim_dump_cb(const char *buffer, size_t size, void *arg);

/* Answers with `doc` as compact JSON; takes ownership of doc (NULL
 * answers 500). */
void sim_reply_json(struct evhttp_request *req, int status, json_t *doc);

/* Answers with len bytes of body as content type ctype. */
void sim_reply_raw(struct evhttp_request *req, int status, const char *ctype,
                   const void *body, size_t len);

/* Answers 200 with the few bytes of MP4 every simulated video is. */
void sim_reply_video(struct evhttp_request *req);

/* Answers 405 in the simulator's own shape. */
void sim_not_allowed(struct evhttp_request *req);

/* Writes wall-clock ms as ISO 8601 UTC ("2025-01-02T03:04:05.678Z"). */
void sim_iso8601(int64_t ms, char *out, size_t len);

/* ---- requests -------------------------------------------------------- */

/* Decodes the %XX escapes of the path segment in id (len bytes) in
 * place, as a server reads an id a client percent-encoded. False when
 * the result is empty, holds a NUL or does not fit. */
bool sim_id_decode(char *id, size_t len);

/* True when path is exactly prefix + ID + suffix with a non-empty ID
 * free of '/' whose decoded form (sim_id_decode) fits len; that is
 * copied into id. */
bool sim_path_id(const char *path, const char *prefix, const char *suffix,
                 char *id, size_t len);

/* Matches path against a collection: 0 for the collection itself, 1 for
 * "prefix/ID" (ID decoded into id), -1 otherwise. */
int sim_path_collection(const char *path, const char *prefix, char *id,
                        size_t id_len);

/* Copies the decoded query argument `key` of req into out (len bytes).
 * False when absent, empty or too long. */
bool sim_query_arg(struct evhttp_request *req, const char *key, char *out,
                   size_t len);

/* The request header `name`, or NULL. Borrowed. */
const char *sim_header(struct evhttp_request *req, const char *name);

/* The bearer token of req, or NULL; borrowed from req's headers. */
const char *sim_bearer(struct evhttp_request *req);

/* The request body as a JSON object, or NULL. Caller owns. */
json_t *sim_body_json(struct evhttp_request *req);

/* obj[key] as a string: dflt when absent or null, NULL when not a
 * string. Borrowed from obj. */
const char *sim_str(const json_t *obj, const char *key, const char *dflt);

#endif
