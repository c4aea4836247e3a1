/*
 * sim_reqlog - the provider simulator's request log: method and raw
 * request target of the latest SIM_REQLOG_MAX API requests, served as
 * GET /_sim/requests, so a test can tell exactly which paths a worker
 * called (say, that a hostile task id sent nothing outside the API).
 * SPDX-License-Identifier: MIT
 */
#ifndef SIM_REQLOG_H
#define SIM_REQLOG_H

#include <stddef.h>
#include <stdint.h>

#include <event2/http.h>

#define SIM_REQLOG_MAX 4096     /* entries kept; older ones are dropped */
#define SIM_REQLOG_URI_MAX 4096 /* bytes of a request target kept */

struct sim_reqlog_entry {
    const char *method; /* static: "GET", ... */
    char *uri;          /* raw request target, owned; NULL when unused */
};

/* The log; zeroed is empty. */
struct sim_reqlog {
    struct sim_reqlog_entry entries[SIM_REQLOG_MAX]; /* a ring */
    size_t next;    /* the slot the next request goes to */
    uint64_t total; /* requests logged since the last clear */
};

/* Logs one request: its method and raw request target (uri), cut at
 * SIM_REQLOG_URI_MAX bytes, bytes outside printable ASCII as %XX. */
void sim_reqlog_add(struct sim_reqlog *log, enum evhttp_cmd_type method,
                    const char *uri);

/* Answers {"total": N, "requests": [{"method","uri"}, ...]}, oldest of
 * the kept entries first. */
void sim_reqlog_reply(const struct sim_reqlog *log, struct evhttp_request *req);

/* Frees every entry; the log is empty afterwards. */
void sim_reqlog_clear(struct sim_reqlog *log);

#endif
