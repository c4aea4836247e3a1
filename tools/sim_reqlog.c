/*
 * sim_reqlog - the provider simulator's request log (sim_reqlog.h).
 * SPDX-License-Identifier: MIT
 */
#include "sim_reqlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>

#include "rl_alloc.h"
#include "sim_http.h"

/* The method's name; libevent knows no more than these. */
static const char *
s_method(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    default:
        return "OTHER";
    }
}

/* A copy of the first SIM_REQLOG_URI_MAX bytes of uri with every byte
 * outside printable ASCII written %XX, so the log stays valid JSON text
 * whatever a client sent. Caller owns. */
static char *
s_printable(const char *uri)
{
    size_t n = strnlen(uri, SIM_REQLOG_URI_MAX);
    static const char hex[] = "0123456789ABCDEF";
    char *out = rl_malloc(3 * n + 1); /* every byte may take three */
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)uri[i];
        if (c > 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0F];
        }
    }
    out[o] = '\0';
    return out;
}

void
sim_reqlog_add(struct sim_reqlog *log, enum evhttp_cmd_type method,
               const char *uri)
{
    struct sim_reqlog_entry *e = &log->entries[log->next];
    free(e->uri);
    e->method = s_method(method);
    e->uri = s_printable(uri != NULL ? uri : "");
    log->next = (log->next + 1) % SIM_REQLOG_MAX;
    log->total++;
}

void
sim_reqlog_reply(const struct sim_reqlog *log, struct evhttp_request *req)
{
    json_t *list = json_array();
    size_t kept =
        log->total < SIM_REQLOG_MAX ? (size_t)log->total : SIM_REQLOG_MAX;
    size_t first = (log->next + SIM_REQLOG_MAX - kept) % SIM_REQLOG_MAX;
    for (size_t i = 0; i < kept; i++) {
        const struct sim_reqlog_entry *e =
            &log->entries[(first + i) % SIM_REQLOG_MAX];
        json_array_append_new(
            list, json_pack("{s:s,s:s}", "method", e->method, "uri", e->uri));
    }
    sim_reply_json(req, 200,
                   json_pack("{s:I,s:o}", "total", (json_int_t)log->total,
                             "requests", list));
}

void
sim_reqlog_clear(struct sim_reqlog *log)
{
    for (size_t i = 0; i < SIM_REQLOG_MAX; i++) {
        free(log->entries[i].uri);
        log->entries[i].uri = NULL;
        log->entries[i].method = NULL;
    }
    log->next = 0;
    log->total = 0;
}
