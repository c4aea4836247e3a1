/*
 * egress - the SSRF guard of webhook connections, this host's addresses
 * and the refusal reasons.
 * SPDX-License-Identifier: MIT
 */
#include "egress.h"

#include <assert.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "rl_alloc.h"
#include "rl_log.h"

#define S_DETAIL_LEN 160 /* the row a refusal names, NUL included */

struct egress {
    struct event *refresh; /* re-reads this host's addresses */
    ssrf_allow_t allow;    /* operator allowlist */
    ssrf_hosts_t hosts;    /* this host's addresses */
    uint64_t refused;      /* connects refused by the guard */
};

/* What the log says of a refusal beyond its class: the table row that
 * refused addr, or that it is this host's. */
static const char *
s_detail(const struct sockaddr *addr, ssrf_class_t why, char *buf, size_t len)
{
    const ssrf_range_t *row = ssrf_range_of(addr);
    char net[RL_CIDR_NET_TEXT];
    int n = 0;

    if (why == SSRF_THIS_HOST)
        n = snprintf(buf, len,
                     " (an address of this host: [webhook] allow "
                     "opens it only by naming it)");
    else if (row != NULL)
        n = snprintf(buf, len, " (%s %s, %s)",
                     rl_cidr_text(&row->net, net, sizeof net), row->name,
                     row->rfc);
    /* The table's rows fit S_DETAIL_LEN: one that would not says
     * nothing rather than half. */
    if (n < 0 || (size_t)n >= len)
        n = 0;
    buf[n] = '\0';
    return buf;
}

bool
egress_guard(const struct sockaddr *addr, void *arg)
{
    egress_t *eg = arg;
    char text[SSRF_ADDR_TEXT];
    char detail[S_DETAIL_LEN];
    ssrf_class_t why;

    if (ssrf_allowed(&eg->allow, &eg->hosts, addr, &why))
        return true;
    eg->refused++;
    rl_log_warnx("webhook connect to %s refused: %s address not allowed%s",
                 ssrf_addr_text(addr, text, sizeof text), ssrf_class_name(why),
                 s_detail(addr, why, detail, sizeof detail));
    return false;
}

/* Appends the formatted text to out (out_len bytes, *used of them
 * taken). Returns false, out unchanged past *used, when it does not
 * fit. */
static bool __attribute__((format(printf, 4, 5)))
s_append(char *out, size_t out_len, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out + *used, out_len - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= out_len - *used) {
        out[*used] = '\0';
        return false;
    }
    *used += (size_t)n;
    return true;
}

/* The phrase of a refusal that names no address, cut to out_len. */
static void
s_at_connect(char *out, size_t out_len)
{
    size_t n = strlen(EGRESS_REFUSED_AT_CONNECT);

    n = n < out_len ? n : out_len - 1;
    memcpy(out, EGRESS_REFUSED_AT_CONNECT, n);
    out[n] = '\0';
}

void
egress_refusal(const egress_t *eg, const rl_http_resp_t *resp, char *out,
               size_t out_len)
{
    char text[SSRF_ADDR_TEXT];
    size_t used = 0;
    bool fit;

    assert(eg != NULL && resp != NULL && out != NULL && out_len > 0);
    if (resp->nrefused == 0) {
        s_at_connect(out, out_len);
        return;
    }
    fit = s_append(out, out_len, &used, "address not allowed: ");
    for (size_t i = 0; i < resp->nrefused && fit; i++) {
        const struct sockaddr *addr =
            (const struct sockaddr *)&resp->refused_addr[i];
        ssrf_class_t why;

        /* Allowed now, refused then: only this host's addresses change
         * (a refresh in between). */
        if (ssrf_allowed(&eg->allow, &eg->hosts, addr, &why))
            why = SSRF_THIS_HOST;
        fit = s_append(out, out_len, &used, "%s%s (%s)", i > 0 ? ", " : "",
                       ssrf_addr_text(addr, text, sizeof text),
                       ssrf_class_name(why));
    }
    if (fit && resp->refused_more)
        fit = s_append(out, out_len, &used, ", ...");
    if (!fit) /* cut: say so rather than end mid-address */
        s_at_connect(out, out_len);
}

/* Reads the addresses of every interface into *out. Returns 0 or -1
 * (errno set by getifaddrs). */
static int
s_read_hosts(ssrf_hosts_t *out)
{
    struct ifaddrs *all = NULL;
    const struct sockaddr **addrs;
    size_t n = 0;

    if (getifaddrs(&all) != 0)
        return -1;
    for (const struct ifaddrs *i = all; i != NULL; i = i->ifa_next)
        n++;
    addrs = rl_calloc(n > 0 ? n : 1, sizeof *addrs);
    n = 0;
    for (const struct ifaddrs *i = all; i != NULL; i = i->ifa_next)
        addrs[n++] = i->ifa_addr; /* NULL for some: skipped */
    ssrf_hosts_set(out, addrs, n);
    free(addrs);
    freeifaddrs(all);
    return 0;
}

/* Reads this host's addresses into eg, logging a change. Returns 0, or
 * -1 (errno set) with eg's list kept. */
static int
s_load(egress_t *eg)
{
    ssrf_hosts_t *fresh = rl_calloc(1, sizeof *fresh);
    const ssrf_hosts_t *old = &eg->hosts;

    if (s_read_hosts(fresh) != 0) {
        free(fresh);
        return -1;
    }
    if (fresh->n != old->n || fresh->dropped != old->dropped ||
        memcmp(fresh->addr, old->addr, fresh->n * sizeof fresh->addr[0]) != 0) {
        rl_log_info("webhooks refused to the %zu addresses of this host",
                    fresh->n);
        if (fresh->dropped > 0)
            rl_log_warnx("this host has %zu addresses beyond the %d the "
                         "SSRF guard keeps: those are not refused as this "
                         "host's",
                         fresh->dropped, SSRF_HOSTS_MAX);
    }
    memcpy(&eg->hosts, fresh, sizeof eg->hosts);
    free(fresh);
    return 0;
}

int
egress_refresh(egress_t *eg)
{
    assert(eg != NULL);
    if (s_load(eg) == 0)
        return 0;
    rl_log_warn("cannot read this host's addresses (keeping %zu)", eg->hosts.n);
    return -1;
}

static void
s_on_refresh(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)egress_refresh(arg); /* a failure is logged; the list is kept */
}

const ssrf_hosts_t *
egress_hosts(const egress_t *eg)
{
    assert(eg != NULL);
    return &eg->hosts;
}

uint64_t
egress_refused(const egress_t *eg)
{
    return eg->refused;
}

egress_t *
egress_new(struct event_base *base, rl_http_t *http, const ssrf_allow_t *allow)
{
    struct timeval every = {EGRESS_HOSTS_REFRESH_MS / 1000,
                            (EGRESS_HOSTS_REFRESH_MS % 1000) * 1000};
    egress_t *eg;

    assert(base != NULL && http != NULL && allow != NULL);
    eg = rl_calloc(1, sizeof *eg);
    eg->allow = *allow;
    if (s_load(eg) != 0) {
        rl_log_error("cannot read this host's addresses (getifaddrs)");
        goto fail;
    }
    eg->refresh = event_new(base, -1, EV_PERSIST, s_on_refresh, eg);
    if (eg->refresh == NULL || event_add(eg->refresh, &every) != 0) {
        rl_log_errorx("cannot schedule the host address refresh");
        goto fail;
    }
    rl_http_set_guard(http, egress_guard, eg);
    return eg;
fail:
    egress_destroy(&eg);
    return NULL;
}

void
egress_destroy(egress_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    if ((*p)->refresh != NULL)
        event_free((*p)->refresh); /* deletes it first */
    free(*p);
    *p = NULL;
}
