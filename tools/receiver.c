/*
 * reelay-receiver - a loopback webhook endpoint for integration tests:
 * verifies X-CreativeAI-Signature and Standard Webhooks signatures,
 * records every delivery, and fails (with extra headers, e.g.
 * Retry-After or Location), hangs or answers large bodies on command.
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>

#include "http_hold.h"
#include "rl_alloc.h"
#include "rl_clock.h"
#include "rl_crypto.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_loop.h"

#define RCV_DEFAULT_MAX_DELIVERIES 1000000
#define RCV_MAX_BODY (16 * 1024 * 1024)
#define RCV_CONN_TIMEOUT_S 600 /* idle or held connections */
#define RCV_TOLERANCE_S 300    /* Standard Webhooks timestamp skew */
#define RCV_SECRET_MAX 256     /* decoded whsec_ bytes */
#define RCV_SIG_B64_LEN 45     /* base64 of 32 bytes and the NUL */
#define RCV_DEFAULT_FAIL_STATUS 500
#define RCV_MAX_FAIL_HEADERS 8    /* extra headers of failed answers */
#define RCV_HEADER_VALUE_MAX 2048 /* bytes of one such header value */
#define RCV_REPLY_BLOCK 4096      /* reply_bytes are added in blocks */

static const char s_whsec_prefix[] = "whsec_";

/* A decoded Standard Webhooks secret. */
struct r_secret {
    uint8_t bytes[RCV_SECRET_MAX]; /* the HMAC key */
    size_t len;                    /* its length */
};

/* Command-line configuration. */
typedef struct {
    char host[64];            /* listen address */
    int port;                 /* 0 = any free port */
    const char *out_path;     /* --out, or NULL */
    size_t max_deliveries;    /* in-memory record cap */
    const char **key_files;   /* --key-file paths (argv strings), owned
                                 array */
    size_t nkey_files;        /* entries in key_files */
    const char **whsec_files; /* --whsec-file paths, owned array */
    size_t nwhsec_files;      /* entries in whsec_files */
} rcv_config_t;

/* The process context, passed as every callback's arg. */
typedef struct rcv {
    const rcv_config_t *cfg;  /* borrowed */
    struct event_base *base;  /* the loop */
    struct evhttp *http;      /* the server */
    struct event *sig_int;    /* SIGINT */
    struct event *sig_term;   /* SIGTERM */
    FILE *out;                /* --out, appended per delivery */
    char **keys;              /* X-CreativeAI-Signature keys */
    size_t nkeys;             /* entries in keys */
    struct r_secret *secrets; /* Standard Webhooks secrets */
    size_t nsecrets;          /* entries in secrets */
    char **records;           /* serialised deliveries, oldest first */
    size_t nrecords;          /* entries in records */
    size_t records_alloc;     /* allocated slots */
    uint64_t first_seq;       /* seq of records[0] */
    uint64_t next_seq;        /* seq of the next delivery */
    uint64_t dropped;         /* deliveries over the cap (not kept) */
    unsigned fail_next;       /* deliveries still to fail */
    int fail_status;          /* the status they answer */
    json_t *fail_headers;     /* {name: value} added to those answers */
    size_t reply_bytes;       /* body size of every answer, 0: "ok" */
    unsigned hang_next;       /* deliveries still to hang */
    http_holds_t *holds;      /* unanswered requests */
} rcv_t;

/* ---- replies --------------------------------------------------------- */

static int
s_dump_cb(const char *buffer, size_t size, void *arg)
{
    return evbuffer_add(arg, buffer, size);
}

/* Answers with `doc` as compact JSON; takes ownership of doc. */
static void
s_reply_json(struct evhttp_request *req, int status, json_t *doc)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    if (doc == NULL ||
        json_dump_callback(doc, s_dump_cb, out, JSON_COMPACT) != 0) {
        status = 500;
        evbuffer_add_printf(out, "{\"error\":\"encode\"}");
    }
    json_decref(doc);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, status, NULL, NULL);
}

/* ---- keys and signatures --------------------------------------------- */

static int
s_add_key(rcv_t *rcv, const char *key)
{
    rcv->keys = rl_realloc(rcv->keys, (rcv->nkeys + 1) * sizeof *rcv->keys);
    rcv->keys[rcv->nkeys++] = rl_strdup(key);
    return 0;
}

/* Adds a "whsec_BASE64" (or bare BASE64) secret. Returns 0 or -1. */
static int
s_add_secret(rcv_t *rcv, const char *text)
{
    struct r_secret sec;
    if (strncmp(text, s_whsec_prefix, sizeof s_whsec_prefix - 1) == 0)
        text += sizeof s_whsec_prefix - 1;
    int n = rl_base64_decode(text, strlen(text), sec.bytes, sizeof sec.bytes);
    if (n <= 0)
        return -1;
    sec.len = (size_t)n;
    rcv->secrets =
        rl_realloc(rcv->secrets, (rcv->nsecrets + 1) * sizeof *rcv->secrets);
    rcv->secrets[rcv->nsecrets++] = sec;
    return 0;
}

/* The index of the key whose HMAC matches "sha256=HEX", or -1. */
static int
s_verify_creativeai(const rcv_t *rcv, const char *header, const char *body,
                    size_t len)
{
    static const char prefix[] = "sha256=";
    char got[RL_SHA256_HEX_LEN];
    char want[RL_SHA256_HEX_LEN];

    if (header == NULL || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return -1;
    header += sizeof prefix - 1;
    size_t n = strlen(header);
    if (n != RL_SHA256_HEX_LEN - 1)
        return -1;
    for (size_t i = 0; i < n; i++)
        got[i] = (char)tolower((unsigned char)header[i]);
    for (size_t k = 0; k < rcv->nkeys; k++) {
        if (rl_hmac_sha256_hex(rcv->keys[k], strlen(rcv->keys[k]), body, len,
                               want) == 0 &&
            rl_timingsafe_equal(want, n, got, n))
            return (int)k;
    }
    return -1;
}

/* True when one "v1,BASE64" entry of the space-separated list equals
 * the expected base64 signature. */
static bool
s_sig_list_has(const char *list, const char *want)
{
    size_t want_len = strlen(want);
    while (*list != '\0') {
        while (*list == ' ')
            list++;
        const char *end = strchr(list, ' ');
        size_t len = end != NULL ? (size_t)(end - list) : strlen(list);
        if (len > 3 && strncmp(list, "v1,", 3) == 0 &&
            rl_timingsafe_equal(list + 3, len - 3, want, want_len))
            return true;
        list += len;
    }
    return false;
}

/* The Standard Webhooks verdict: JSON null without webhook-signature,
 * else true when a secret signs "id.timestamp.body" within tolerance. */
static json_t *
s_verify_standard(const rcv_t *rcv, const struct evkeyvalq *hdrs,
                  const char *body, size_t len)
{
    const char *id = evhttp_find_header(hdrs, "webhook-id");
    const char *ts = evhttp_find_header(hdrs, "webhook-timestamp");
    const char *sigs = evhttp_find_header(hdrs, "webhook-signature");
    uint8_t mac[RL_SHA256_LEN];
    char want[RCV_SIG_B64_LEN];
    char *end = NULL;
    bool ok = false;

    if (sigs == NULL)
        return json_null();
    if (id == NULL || ts == NULL)
        return json_false();
    errno = 0;
    long long when = strtoll(ts, &end, 10);
    long long now = rl_clock_wall_ms() / 1000;
    if (errno != 0 || end == ts || *end != '\0' ||
        llabs(now - when) > RCV_TOLERANCE_S)
        return json_false();

    size_t head = strlen(id) + 1 + strlen(ts) + 1;
    char *msg = rl_malloc(head + len + 1);
    rl_fmt_fit(msg, head + 1, "%s.%s.", id, ts); /* head: just above */
    memcpy(msg + head, body, len);
    for (size_t i = 0; i < rcv->nsecrets && !ok; i++)
        ok = rl_hmac_sha256(rcv->secrets[i].bytes, rcv->secrets[i].len, msg,
                            head + len, mac) == 0 &&
             rl_base64_encode(mac, sizeof mac, want, sizeof want) > 0 &&
             s_sig_list_has(sigs, want);
    free(msg);
    return json_boolean(ok);
}

/* ---- deliveries ------------------------------------------------------ */

/* Lowercased request headers; repeated names are joined with ", ". */
static json_t *
s_headers_json(const struct evkeyvalq *hdrs)
{
    json_t *obj = json_object();
    const struct evkeyval *kv;
    char name[256];

    TAILQ_FOREACH(kv, hdrs, next)
    {
        size_t n = strlen(kv->key);
        if (n >= sizeof name)
            continue;
        for (size_t i = 0; i <= n; i++)
            name[i] = (char)tolower((unsigned char)kv->key[i]);
        const char *old = json_string_value(json_object_get(obj, name));
        if (old == NULL) {
            json_object_set_new(obj, name, json_string(kv->value));
            continue;
        }
        size_t len = strlen(old) + 2 + strlen(kv->value) + 1;
        char *joined = rl_malloc(len);
        rl_fmt_fit(joined, len, "%s, %s", old, kv->value); /* len: above */
        json_object_set_new(obj, name, json_string(joined));
        free(joined);
    }
    return obj;
}

/* Sets "body" to the raw body, or to null plus "body_base64" when the
 * body is not UTF-8 (JSON strings cannot carry it). */
static void
s_set_body(json_t *doc, const char *body, size_t len)
{
    json_t *text = json_stringn(body, len);
    if (text != NULL) {
        json_object_set_new(doc, "body", text);
        return;
    }
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *b64 = rl_malloc(cap);
    if (rl_base64_encode(body, len, b64, cap) >= 0)
        json_object_set_new(doc, "body_base64", json_string(b64));
    free(b64);
    json_object_set_new(doc, "body", json_null());
}

/* Serialises doc (taking it), appends it to --out and keeps it. */
static void
s_record(rcv_t *rcv, json_t *doc)
{
    char *line = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (line == NULL) {
        rl_log_warnx("cannot encode a delivery record");
        return;
    }
    if (rcv->out != NULL) {
        fprintf(rcv->out, "%s\n", line);
        fflush(rcv->out);
    }
    if (rcv->nrecords >= rcv->cfg->max_deliveries) {
        rcv->dropped++;
        free(line);
        return;
    }
    if (rcv->nrecords == rcv->records_alloc) {
        rcv->records_alloc = rcv->records_alloc ? rcv->records_alloc * 2 : 64;
        rcv->records =
            rl_realloc(rcv->records, rcv->records_alloc * sizeof *rcv->records);
    }
    rcv->records[rcv->nrecords++] = line;
}

/* Answers a delivery: "ok" / "error", or reply_bytes of text; a failed
 * answer carries the extra headers asked for. */
static void
s_answer(rcv_t *rcv, struct evhttp_request *req, int status)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
    char block[RCV_REPLY_BLOCK];
    const char *name;
    json_t *value;

    if (rcv->reply_bytes == 0)
        evbuffer_add_printf(out, "%s", status == 200 ? "ok" : "error");
    else
        for (size_t i = 0; i < sizeof block; i++)
            block[i] = "0123456789abcdef"[i % 16];
    for (size_t left = rcv->reply_bytes; left > 0;) {
        size_t n = left < sizeof block ? left : sizeof block;
        evbuffer_add(out, block, n);
        left -= n;
    }
    evhttp_add_header(hdrs, "Content-Type", "text/plain");
    if (status != 200 && rcv->fail_headers != NULL) {
        json_object_foreach(rcv->fail_headers, name, value)
            evhttp_add_header(hdrs, name, json_string_value(value));
    }
    evhttp_send_reply(req, status, NULL, NULL);
}

/* Any POST outside the control paths: verify, record, answer. */
static void
s_delivery(rcv_t *rcv, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
    int status = 200;
    bool hang = false;

    int k = s_verify_creativeai(
        rcv, evhttp_find_header(hdrs, "X-CreativeAI-Signature"), body, len);
    if (rcv->hang_next > 0) {
        rcv->hang_next--;
        hang = true;
        status = 0;
    } else if (rcv->fail_next > 0) {
        rcv->fail_next--;
        status = rcv->fail_status;
    }
    json_t *doc = json_pack(
        "{s:I,s:I,s:s,s:o,s:b,s:s?,s:o,s:i}", "seq",
        (json_int_t)rcv->next_seq++, "at_ms", (json_int_t)rl_clock_wall_ms(),
        "path", evhttp_request_get_uri(req), "headers", s_headers_json(hdrs),
        "verified", k >= 0, "verified_key", k >= 0 ? rcv->keys[k] : NULL,
        "standard_verified", s_verify_standard(rcv, hdrs, body, len),
        "answered", status);
    if (doc != NULL) {
        s_set_body(doc, body, len);
        s_record(rcv, doc);
    }
    if (hang) {
        http_hold(rcv->holds, req);
        return;
    }
    s_answer(rcv, req, status);
}

static void
s_clear_records(rcv_t *rcv)
{
    for (size_t i = 0; i < rcv->nrecords; i++)
        free(rcv->records[i]);
    RL_FREE(rcv->records);
    rcv->nrecords = 0;
    rcv->records_alloc = 0;
    rcv->first_seq = rcv->next_seq;
    rcv->dropped = 0;
}

/* GET /_deliveries[?since=SEQ]: records with seq > SEQ as an array. */
static void
s_list(rcv_t *rcv, struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = evhttp_uri_get_query(uri);
    struct evkeyvalq params;
    unsigned long long since = 0;
    bool has_since = false;

    TAILQ_INIT(&params);
    if (query != NULL && evhttp_parse_query_str(query, &params) == 0) {
        const char *v = evhttp_find_header(&params, "since");
        char *end = NULL;
        errno = 0;
        if (v != NULL)
            since = strtoull(v, &end, 10);
        has_since = v != NULL;
        if (has_since && (errno != 0 || end == v || *end != '\0')) {
            evhttp_clear_headers(&params);
            s_reply_json(req, 400, json_pack("{s:s}", "error", "bad since"));
            return;
        }
    }
    evhttp_clear_headers(&params);

    size_t start = 0;
    if (has_since && since >= rcv->first_seq)
        start = since - rcv->first_seq + 1 < rcv->nrecords
                    ? (size_t)(since - rcv->first_seq + 1)
                    : rcv->nrecords;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, "[", 1);
    for (size_t i = start; i < rcv->nrecords; i++)
        evbuffer_add_printf(out, "%s%s", i > start ? "," : "", rcv->records[i]);
    evbuffer_add(out, "]", 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, 200, NULL, NULL);
}

/* A non-negative JSON integer up to max, or -1 (absent: -2). */
static long long
s_count(const json_t *obj, const char *key, long long max)
{
    const json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return -2;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > max)
        return -1;
    return json_integer_value(v);
}

/* NULL when v is absent or an object of at most RCV_MAX_FAIL_HEADERS
 * header names mapped to single-line strings; else what is wrong. */
static const char *
s_check_headers(const json_t *v)
{
    const char *name;
    const json_t *value;

    if (v == NULL)
        return NULL;
    if (!json_is_object(v) || json_object_size(v) > RCV_MAX_FAIL_HEADERS)
        return "headers must be an object of at most 8 entries";
    json_object_foreach((json_t *)v, name, value)
    {
        const char *text = json_string_value(value);
        if (*name == '\0' || strpbrk(name, ": \r\n") != NULL || text == NULL ||
            strlen(text) > RCV_HEADER_VALUE_MAX ||
            strpbrk(text, "\r\n") != NULL)
            return "headers: names without ':', single-line string values";
    }
    return NULL;
}

/* POST /_control: {"fail_next":N,"status":S,"headers":{name: value}},
 * {"hang_next":N}, {"reply_bytes":N}, {"key":"K"}, {"whsec":"whsec_…"},
 * {"reset":true}; combinable. status (200..599, default 500) and headers
 * go on the failed answers and only with fail_next (a new fail_next
 * without headers clears them); reply_bytes sets the body size
 * of every answer from now on (0: "ok" or "error"). */
static void
s_control(rcv_t *rcv, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    json_t *cmd =
        len ? json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL)
            : NULL;
    long long fail = s_count(cmd, "fail_next", INT_MAX);
    long long status = s_count(cmd, "status", 599);
    long long hang = s_count(cmd, "hang_next", INT_MAX);
    long long bytes = s_count(cmd, "reply_bytes", RCV_MAX_BODY);
    json_t *headers = json_object_get(cmd, "headers");
    const char *bad_headers = s_check_headers(headers);
    const json_t *key = json_object_get(cmd, "key");
    const char *whsec = json_string_value(json_object_get(cmd, "whsec"));
    const char *error = NULL;

    if (!json_is_object(cmd))
        error = "body must be a JSON object";
    else if (fail == -1 || hang == -1 || status == -1 || bytes == -1 ||
             (status >= 0 && status < 200))
        /* A 1xx is interim: the client would wait for the real answer. */
        error = "counts must be integers >= 0, status 200..599";
    else if (bad_headers != NULL)
        error = bad_headers;
    else if ((status >= 0 || headers != NULL) && fail < 0)
        error = "status and headers go with fail_next";
    else if (key != NULL && !json_is_string(key))
        error = "key must be a string";
    else if (json_object_get(cmd, "whsec") != NULL &&
             (whsec == NULL || s_add_secret(rcv, whsec) != 0))
        error = "whsec must be whsec_BASE64";
    if (error != NULL) {
        json_decref(cmd);
        s_reply_json(req, 400, json_pack("{s:s}", "error", error));
        return;
    }
    if (json_is_true(json_object_get(cmd, "reset")))
        s_clear_records(rcv);
    if (fail >= 0) {
        rcv->fail_next = (unsigned)fail;
        rcv->fail_status = status >= 0 ? (int)status : RCV_DEFAULT_FAIL_STATUS;
        json_decref(rcv->fail_headers);
        rcv->fail_headers = headers != NULL ? json_deep_copy(headers) : NULL;
    }
    if (bytes >= 0)
        rcv->reply_bytes = (size_t)bytes;
    if (hang >= 0)
        rcv->hang_next = (unsigned)hang;
    if (key != NULL)
        (void)s_add_key(rcv, json_string_value(key));
    json_decref(cmd);
    s_reply_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void
s_dispatch(struct evhttp_request *req, void *arg)
{
    rcv_t *rcv = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type m = evhttp_request_get_command(req);

    if (path == NULL)
        path = "";
    if (m == EVHTTP_REQ_POST && strcmp(path, "/_control") == 0) {
        s_control(rcv, req);
    } else if (m == EVHTTP_REQ_POST) {
        s_delivery(rcv, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_deliveries") == 0) {
        s_list(rcv, req);
    } else if (m == EVHTTP_REQ_GET && strcmp(path, "/_health") == 0) {
        size_t held = http_holds_count(rcv->holds);
        s_reply_json(req, 200,
                     json_pack("{s:b,s:I,s:I,s:I,s:I}", "ok", 1, "deliveries",
                               (json_int_t)rcv->nrecords, "next_seq",
                               (json_int_t)rcv->next_seq, "dropped",
                               (json_int_t)rcv->dropped, "held",
                               (json_int_t)held));
    } else {
        s_reply_json(req, 404, json_pack("{s:s}", "error", "not found"));
    }
}

/* ---- process --------------------------------------------------------- */

static void
s_on_signal(evutil_socket_t sig, short what, void *arg)
{
    rcv_t *rcv = arg;
    (void)what;
    rl_log_info("signal %d, exiting", (int)sig);
    event_base_loopbreak(rcv->base);
}

static void
s_rcv_destroy(rcv_t **p)
{
    rcv_t *rcv = *p;
    if (rcv == NULL)
        return;
    /* Freeing the server closes every connection and frees the held
     * requests. */
    if (rcv->http != NULL)
        evhttp_free(rcv->http);
    http_holds_destroy(&rcv->holds);
    if (rcv->sig_term != NULL)
        event_free(rcv->sig_term);
    if (rcv->sig_int != NULL)
        event_free(rcv->sig_int);
    if (rcv->base != NULL)
        event_base_free(rcv->base);
    if (rcv->out != NULL)
        fclose(rcv->out);
    s_clear_records(rcv);
    for (size_t i = 0; i < rcv->nkeys; i++)
        free(rcv->keys[i]);
    free(rcv->keys);
    free(rcv->secrets);
    json_decref(rcv->fail_headers);
    free(rcv);
    *p = NULL;
}

/* Calls add() with each non-empty line of the file `path` (keys and
 * secrets come in files: a command line is visible to every user).
 * Returns 0, or -1 after a message. */
static int
s_load_lines(rcv_t *rcv, const char *path,
             int (*add)(rcv_t *rcv, const char *line))
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (f == NULL) {
        rl_log_error("cannot open %s", path);
        return -1;
    }
    while (rc == 0 && getline(&line, &cap, f) >= 0) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] != '\0' && add(rcv, line) != 0) {
            rl_log_errorx("%s: a line is not a valid key or secret", path);
            rc = -1;
        }
    }
    if (line != NULL)
        explicit_bzero(line, cap);
    free(line);
    fclose(f);
    return rc;
}

static rcv_t *
s_rcv_new(const rcv_config_t *cfg)
{
    rcv_t *rcv = rl_calloc(1, sizeof *rcv);
    rcv->cfg = cfg;
    rcv->next_seq = 1;
    rcv->first_seq = 1;
    rcv->fail_status = RCV_DEFAULT_FAIL_STATUS;
    if (cfg->out_path != NULL &&
        (rcv->out = fopen(cfg->out_path, "a")) == NULL) {
        rl_log_error("cannot open %s", cfg->out_path);
        goto fail;
    }
    rcv->base = rl_loop_new();
    if (rcv->base == NULL)
        goto fail;
    rcv->holds = http_holds_new(rcv->base);
    rcv->http = evhttp_new(rcv->base);
    rcv->sig_int = evsignal_new(rcv->base, SIGINT, s_on_signal, rcv);
    rcv->sig_term = evsignal_new(rcv->base, SIGTERM, s_on_signal, rcv);
    for (size_t i = 0; i < cfg->nkey_files; i++)
        if (s_load_lines(rcv, cfg->key_files[i], s_add_key) != 0)
            goto fail;
    for (size_t i = 0; i < cfg->nwhsec_files; i++)
        if (s_load_lines(rcv, cfg->whsec_files[i], s_add_secret) != 0)
            goto fail;
    if (rcv->http == NULL || rcv->sig_int == NULL || rcv->sig_term == NULL ||
        event_add(rcv->sig_int, NULL) != 0 ||
        event_add(rcv->sig_term, NULL) != 0)
        goto fail;
    evhttp_set_gencb(rcv->http, s_dispatch, rcv);
    evhttp_set_max_body_size(rcv->http, RCV_MAX_BODY);
    evhttp_set_timeout(rcv->http, RCV_CONN_TIMEOUT_S);
    evhttp_set_allowed_methods(rcv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD);
    return rcv;
fail:
    s_rcv_destroy(&rcv);
    return NULL;
}

/* Binds host:port (port 0 = any) and prints "listening HOST:PORT". */
static int
s_rcv_listen(rcv_t *rcv)
{
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)rcv->cfg->port)};
    socklen_t len = sizeof sin;

    if (inet_pton(AF_INET, rcv->cfg->host, &sin.sin_addr) != 1) {
        rl_log_errorx("bad listen address %s", rcv->cfg->host);
        return -1;
    }
    struct evconnlistener *lev = evconnlistener_new_bind(
        rcv->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
        SOMAXCONN, (struct sockaddr *)&sin, sizeof sin);
    if (lev == NULL) {
        rl_log_error("bind %s:%d", rcv->cfg->host, rcv->cfg->port);
        return -1;
    }
    if (evhttp_bind_listener(rcv->http, lev) == NULL) {
        evconnlistener_free(lev);
        return -1;
    }
    if (getsockname(evconnlistener_get_fd(lev), (struct sockaddr *)&sin,
                    &len) != 0)
        return -1;
    printf("listening %s:%d\n", rcv->cfg->host, ntohs(sin.sin_port));
    fflush(stdout);
    return 0;
}

/* Splits "HOST:PORT" into cfg. Returns 0 or -1. */
static int
s_parse_listen(const char *arg, rcv_config_t *cfg)
{
    const char *colon = strrchr(arg, ':');
    char *end = NULL;
    if (colon == NULL || (size_t)(colon - arg) >= sizeof cfg->host)
        return -1;
    memcpy(cfg->host, arg, (size_t)(colon - arg));
    cfg->host[colon - arg] = '\0';
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
        port > 65535)
        return -1;
    cfg->port = (int)port;
    return 0;
}

static void
s_usage(FILE *f)
{
    fprintf(f, "usage: reelay-receiver --listen 127.0.0.1:PORT "
               "[--key-file FILE]...\n"
               "       [--whsec-file FILE]... [--out FILE]\n"
               "       [--max-deliveries N] [--log-level LEVEL]\n"
               "--key-file: API keys, one a line; --whsec-file: Standard "
               "Webhooks\nsecrets (whsec_BASE64), one a line\n");
}

/* Appends an argv string to a config list. */
static void
s_push(const char ***list, size_t *n, const char *arg)
{
    *list = rl_realloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = arg;
}

/* Parses the command line into *cfg (release with s_config_release).
 * Returns 0, or -1 after a message. */
static int
s_parse_args(int argc, char **argv, rcv_config_t *cfg)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"key-file", required_argument, NULL, 'k'},
        {"whsec-file", required_argument, NULL, 'w'},
        {"out", required_argument, NULL, 'o'},
        {"max-deliveries", required_argument, NULL, 'm'},
        {"log-level", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool listen = false;
    char *end = NULL;
    long n;
    int c;

    *cfg = (rcv_config_t){.max_deliveries = RCV_DEFAULT_MAX_DELIVERIES};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            if (s_parse_listen(optarg, cfg) != 0)
                goto bad;
            listen = true;
            break;
        case 'k':
            s_push(&cfg->key_files, &cfg->nkey_files, optarg);
            break;
        case 'w':
            s_push(&cfg->whsec_files, &cfg->nwhsec_files, optarg);
            break;
        case 'o':
            cfg->out_path = optarg;
            break;
        case 'm':
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || n < 1 || n > INT_MAX)
                goto bad;
            cfg->max_deliveries = (size_t)n;
            break;
        case 'v':
            if ((n = rl_log_level_parse(optarg)) < 0)
                goto bad;
            rl_log_init("reelay-receiver", (rl_log_level_t)n);
            break;
        case 'h':
            s_usage(stdout);
            exit(0);
        default:
            goto bad;
        }
    }
    if (!listen || optind != argc)
        goto bad;
    return 0;
bad:
    s_usage(stderr);
    return -1;
}

static void
s_config_release(rcv_config_t *cfg)
{
    RL_FREE(cfg->key_files);
    RL_FREE(cfg->whsec_files);
}

int
main(int argc, char **argv)
{
    rcv_config_t cfg;
    rcv_t *rcv = NULL;
    int rc = 1;

    rl_log_init("reelay-receiver", RL_LOG_WARN);
    if (s_parse_args(argc, argv, &cfg) != 0) {
        s_config_release(&cfg);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((rcv = s_rcv_new(&cfg)) == NULL || s_rcv_listen(rcv) != 0)
        goto out;
    if (event_base_dispatch(rcv->base) != -1)
        rc = 0;
out:
    s_rcv_destroy(&rcv);
    s_config_release(&cfg);
    return rc;
}
