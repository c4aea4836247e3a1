/*
 * egress - the SSRF guard of webhook connections and its DNS pre-check.
 * SPDX-License-Identifier: MIT
 */
#include "egress.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "rl_alloc.h"
#include "rl_log.h"

struct egress {
    struct evdns_base *dns;  /* resolver on the loop */
    ssrf_allow_t allow;      /* operator allowlist */
    uint64_t refused;        /* connects refused by the guard */
};

struct egress_lookup {
    egress_t *eg;            /* owner */
    egress_cb cb;            /* the verdict goes here; NULL: cancelled */
    void *arg;               /* its argument */
    bool starting;           /* inside egress_check */
    bool answered;           /* evdns has called back */
    char why[EGRESS_WHY_LEN]; /* refusal reason */
};

bool
egress_guard(const struct sockaddr *addr, void *arg)
{
    egress_t *eg = arg;
    char text[SSRF_ADDR_TEXT];

    if (ssrf_allowed(&eg->allow, addr))
        return true;
    eg->refused++;
    rl_log_warnx("webhook connect to %s refused: %s address not allowed",
                 ssrf_addr_text(addr, text, sizeof text),
                 ssrf_class_name(ssrf_classify(addr)));
    return false;
}

/* The first address of ai the allowlist refuses, written up in why;
 * false when every one is allowed. */
static bool
s_refuses(const egress_t *eg, const struct evutil_addrinfo *ai, char *why,
          size_t why_len)
{
    char text[SSRF_ADDR_TEXT];

    for (; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_addr == NULL || ssrf_allowed(&eg->allow, ai->ai_addr))
            continue;
        snprintf(why, why_len, "address not allowed: %s (%s)",
                 ssrf_addr_text(ai->ai_addr, text, sizeof text),
                 ssrf_class_name(ssrf_classify(ai->ai_addr)));
        return true;
    }
    return false;
}

/* evdns's answer. A cancelled lookup (cb NULL) is only freed: evdns
 * requests are never cancelled, they are left to run out (a few
 * seconds at most), so no callback arrives after its lookup is gone. */
static void
s_on_resolved(int result, struct evutil_addrinfo *ai, void *arg)
{
    egress_lookup_t *l = arg;
    bool refused = false;

    if (result == 0 && l->cb != NULL)
        refused = s_refuses(l->eg, ai, l->why, sizeof l->why);
    if (ai != NULL)
        evutil_freeaddrinfo(ai);
    l->answered = true;
    if (l->cb != NULL)
        l->cb(!refused, refused ? l->why : NULL, l->arg);
    if (!l->starting)
        free(l);
}

/* The host part of url without IPv6 brackets into out; -1 when the URL
 * does not parse. */
static int
s_host(const char *url, char *out, size_t out_len)
{
    CURLU *u = curl_url();
    char *host = NULL;
    size_t n;
    int rc = -1;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host[n - 1] = '\0';
        memmove(host, host + 1, n - 1);
    }
    rc = snprintf(out, out_len, "%s", host) < (int)out_len ? 0 : -1;
out:
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

egress_lookup_t *
egress_check(egress_t *eg, const char *url, egress_cb cb, void *arg)
{
    struct evutil_addrinfo hints;
    char host[256];
    egress_lookup_t *l;
    void *req;

    assert(eg != NULL && url != NULL && cb != NULL);
    if (s_host(url, host, sizeof host) != 0) {
        cb(true, NULL, arg);
        return NULL;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    l = rl_calloc(1, sizeof *l);
    l->eg = eg;
    l->cb = cb;
    l->arg = arg;
    l->starting = true;
    req = evdns_getaddrinfo(eg->dns, host, NULL, &hints, s_on_resolved, l);
    l->starting = false;
    if (l->answered || req == NULL) {
        if (!l->answered) /* no answer promised: curl and the guard decide */
            cb(true, NULL, arg);
        free(l);
        return NULL;
    }
    return l;
}

void
egress_cancel(egress_lookup_t *l)
{
    if (l != NULL)
        l->cb = NULL; /* s_on_resolved frees it when evdns answers */
}

uint64_t
egress_refused(const egress_t *eg)
{
    return eg->refused;
}

egress_t *
egress_new(struct event_base *base, rl_http_t *http,
           const ssrf_allow_t *allow)
{
    egress_t *eg;

    assert(base != NULL && http != NULL && allow != NULL);
    eg = rl_calloc(1, sizeof *eg);
    eg->allow = *allow;
    eg->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                       EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (eg->dns == NULL) {
        free(eg);
        return NULL;
    }
    evdns_base_set_option(eg->dns, "timeout:", EGRESS_DNS_TIMEOUT);
    evdns_base_set_option(eg->dns, "attempts:", EGRESS_DNS_ATTEMPTS);
    rl_http_set_guard(http, egress_guard, eg);
    return eg;
}

void
egress_destroy(egress_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    evdns_base_free((*p)->dns, 0);
    free(*p);
    *p = NULL;
}
