/*
 * rl_zap - ZAP handler: CURVE keys admitted per domain from allow files.
 * SPDX-License-Identifier: MIT
 */
#include "rl_zap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <zmq.h>

#include "rl_allow.h"
#include "rl_alloc.h"
#include "rl_curve.h"
#include "rl_fmt.h"
#include "rl_log.h"
#include "rl_zsock.h"

#define S_VERSION "1.0"
#define S_FIELD_MAX 64   /* bytes of a domain or address we keep */
#define S_RAW_KEY_LEN 32 /* a CURVE key on the wire */
#define S_MIN_FRAMES 6   /* version .. mechanism */
#define S_CURVE_FRAMES 7 /* and the client's public key */
#define S_REPLY_FRAMES 6
#define S_ERR_LEN 512

typedef struct {
    char name[S_FIELD_MAX]; /* ZMQ_ZAP_DOMAIN of the link */
    rl_allow_t *allow;      /* <keys_dir>/<name>.allow */
} s_domain_t;

struct rl_zap {
    rl_zsock_t *sock; /* REP on RL_ZAP_ENDPOINT */
    s_domain_t domains[RL_ZAP_MAX_DOMAINS];
    size_t ndomains;
    struct event *reload;    /* RL_ZAP_RELOAD_MS: allow files */
    struct event *log_timer; /* flushes the denials summed up */
    bool log_armed;          /* log_timer pending: sum, don't log */
    uint64_t denied;         /* handshakes refused since start */
    uint64_t admitted;       /* handshakes admitted since start */
    uint64_t unlogged;       /* denials not logged yet */
    char last[S_ERR_LEN];    /* the latest denial, described */
};

static s_domain_t *
s_domain(const rl_zap_t *z, const char *name, size_t len)
{
    for (size_t i = 0; i < z->ndomains; i++)
        if (strlen(z->domains[i].name) == len &&
            memcmp(z->domains[i].name, name, len) == 0)
            return (s_domain_t *)&z->domains[i];
    return NULL;
}

static void
s_refresh(s_domain_t *d)
{
    char err[S_ERR_LEN];
    int rc = rl_allow_refresh(d->allow, err, sizeof err);
    if (rc > 0)
        rl_log_info("zap: %s reloaded: %zu key(s) for %s",
                    rl_allow_path(d->allow), rl_allow_count(d->allow), d->name);
    else if (rc < 0)
        rl_log_warnx("zap: %s; the previous list (%zu key(s)) stays", err,
                     rl_allow_count(d->allow));
}

static void
s_on_reload(evutil_socket_t fd, short what, void *arg)
{
    rl_zap_t *z = arg;
    (void)fd;
    (void)what;
    for (size_t i = 0; i < z->ndomains; i++)
        s_refresh(&z->domains[i]);
}

/* Counts a denial and logs it, or leaves it to the summary line. */
static void s_denied(rl_zap_t *z, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
s_denied(rl_zap_t *z, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rl_vfmt_msg(z->last, sizeof z->last, fmt, ap);
    va_end(ap);
    z->denied++;
    if (z->log_armed) {
        z->unlogged++;
        return;
    }
    rl_log_warnx("zap: denied %s", z->last);
    struct timeval tv = {RL_ZAP_LOG_MS / 1000, (RL_ZAP_LOG_MS % 1000) * 1000};
    event_add(z->log_timer, &tv);
    z->log_armed = true;
}

static void
s_on_log_timer(evutil_socket_t fd, short what, void *arg)
{
    rl_zap_t *z = arg;
    (void)fd;
    (void)what;
    z->log_armed = false;
    if (z->unlogged == 0)
        return;
    rl_log_warnx("zap: denied %llu more handshake(s) in %d s (%llu since "
                 "start); the latest: %s",
                 (unsigned long long)z->unlogged, RL_ZAP_LOG_MS / 1000,
                 (unsigned long long)z->denied, z->last);
    z->unlogged = 0;
    struct timeval tv = {RL_ZAP_LOG_MS / 1000, (RL_ZAP_LOG_MS % 1000) * 1000};
    event_add(z->log_timer, &tv);
    z->log_armed = true;
}

static void
s_reply(rl_zap_t *z, const void *request_id, size_t id_len, const char *status,
        const char *text, const char *user_id)
{
    const void *parts[S_REPLY_FRAMES] = {S_VERSION, request_id, status,
                                         text,      user_id,    ""};
    size_t lens[S_REPLY_FRAMES] = {strlen(S_VERSION), id_len,
                                   strlen(status),    strlen(text),
                                   strlen(user_id),   0};
    if (rl_zsock_send(z->sock, parts, lens, S_REPLY_FRAMES) != 0)
        rl_log_errorx("zap: reply not sent: %s", zmq_strerror(zmq_errno()));
}

/* Copies a frame as printable text for logs. */
static void
s_text(char *out, size_t out_len, const void *frame, size_t len)
{
    const unsigned char *p = frame;
    size_t n = len < out_len - 1 ? len : out_len - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[n] = '\0';
}

static void
s_on_request(rl_zsock_t *s, const void *const *parts, const size_t *lens,
             size_t nparts, void *arg)
{
    rl_zap_t *z = arg;
    (void)s;
    if (nparts < 2) { /* cannot even echo an id: answer anyway (REP) */
        s_reply(z, "", 0, "500", "malformed request", "");
        return;
    }
    char domain[S_FIELD_MAX], addr[S_FIELD_MAX], mech[S_FIELD_MAX];
    char key[RL_CURVE_KEY_LEN + 1] = "";
    if (nparts < S_MIN_FRAMES || lens[0] != strlen(S_VERSION) ||
        memcmp(parts[0], S_VERSION, lens[0]) != 0) {
        s_reply(z, parts[1], lens[1], "500", "malformed request", "");
        return;
    }
    s_text(domain, sizeof domain, parts[2], lens[2]);
    s_text(addr, sizeof addr, parts[3], lens[3]);
    s_text(mech, sizeof mech, parts[5], lens[5]);
    s_domain_t *d = s_domain(z, parts[2], lens[2]);
    bool curve = strcmp(mech, "CURVE") == 0 && nparts == S_CURVE_FRAMES &&
                 lens[6] == S_RAW_KEY_LEN;
    if (curve)
        zmq_z85_encode(key, parts[6], S_RAW_KEY_LEN);
    if (d != NULL)
        s_refresh(d);
    if (d != NULL && curve && rl_allow_has(d->allow, key)) {
        z->admitted++;
        rl_log_debug("zap: admitted %s from %s on %s", key, addr, domain);
        s_reply(z, parts[1], lens[1], "200", "OK", key);
        return;
    }
    if (d == NULL)
        s_denied(z, "%s from %s: unknown domain '%s'", mech, addr, domain);
    else if (!curve)
        s_denied(z, "%s from %s on %s: CURVE only", mech, addr, domain);
    else
        s_denied(z, "key %s from %s on %s: not in %s", key, addr, domain,
                 rl_allow_path(d->allow));
    s_reply(z, parts[1], lens[1], "400", "not allowed", "");
}

static int
s_add_domain(rl_zap_t *z, const rl_config_t *cfg, const char *name, char *err,
             size_t err_len)
{
    char file[S_FIELD_MAX + 8], path[1024];
    s_domain_t *d = &z->domains[z->ndomains];
    if (z->ndomains == RL_ZAP_MAX_DOMAINS || strlen(name) >= S_FIELD_MAX) {
        rl_fmt_msg(err, err_len, "zap: too many domains or '%s' too long",
                   name);
        return -1;
    }
    if (rl_fmt(file, sizeof file, "%s.allow", name) != 0 ||
        rl_curve_path(cfg, file, path, sizeof path) != 0) {
        rl_fmt_msg(err, err_len, "[zmq] keys_dir: path too long");
        return -1;
    }
    d->allow = rl_allow_new(path, err, err_len);
    if (d->allow == NULL)
        return -1;
    memcpy(d->name, name, strlen(name) + 1); /* < S_FIELD_MAX: above */
    z->ndomains++;
    rl_log_info("zap: %zu key(s) allowed on %s (%s)", rl_allow_count(d->allow),
                name, path);
    return 0;
}

rl_zap_t *
rl_zap_new(struct event_base *base, void *zctx, const rl_config_t *cfg,
           const char *const *domains, size_t n, char *err, size_t err_len)
{
    rl_zap_t *z = rl_calloc(1, sizeof *z);
    for (size_t i = 0; i < n; i++)
        if (s_add_domain(z, cfg, domains[i], err, err_len) != 0)
            goto fail;
    z->sock = rl_zsock_new(base, zctx, ZMQ_REP, 0, s_on_request, z);
    if (z->sock == NULL || rl_zsock_bind(z->sock, RL_ZAP_ENDPOINT) != 0) {
        rl_fmt_msg(err, err_len, "zap: cannot bind %s: %s", RL_ZAP_ENDPOINT,
                   zmq_strerror(zmq_errno()));
        goto fail;
    }
    struct timeval tv = {RL_ZAP_RELOAD_MS / 1000,
                         (RL_ZAP_RELOAD_MS % 1000) * 1000};
    z->reload = event_new(base, -1, EV_PERSIST, s_on_reload, z);
    z->log_timer = event_new(base, -1, 0, s_on_log_timer, z);
    event_add(z->reload, &tv);
    return z;
fail:
    rl_zap_destroy(&z);
    return NULL;
}

void
rl_zap_destroy(rl_zap_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    rl_zap_t *z = *p;
    if (z->log_timer != NULL)
        event_free(z->log_timer);
    if (z->reload != NULL)
        event_free(z->reload);
    rl_zsock_destroy(&z->sock);
    for (size_t i = z->ndomains; i > 0; i--)
        rl_allow_destroy(&z->domains[i - 1].allow);
    free(z);
    *p = NULL;
}

bool
rl_zap_permits(const rl_zap_t *z, const char *domain, const char *user_id)
{
    const s_domain_t *d = s_domain(z, domain, strlen(domain));
    return d != NULL && user_id != NULL && rl_allow_has(d->allow, user_id);
}

uint64_t
rl_zap_denied(const rl_zap_t *z)
{
    return z->denied;
}

uint64_t
rl_zap_admitted(const rl_zap_t *z)
{
    return z->admitted;
}
