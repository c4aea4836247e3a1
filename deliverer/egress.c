/*
 * egress - the SSRF guard of webhook connections and its refusal reasons.
 * SPDX-License-Identifier: MIT
 */
#include "egress.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "rl_alloc.h"
#include "rl_log.h"

#define S_HOST_MAX 256 /* bytes of a URL's host, NUL included */

/* One refusal, remembered for egress_refusal(). */
typedef struct {
    uint64_t seq;              /* its number (egress_refused()), 0: none */
    int port;                  /* the port curl was to connect to */
    ssrf_class_t cls;          /* the address's class */
    char text[SSRF_ADDR_TEXT]; /* the address */
} s_refusal_t;

struct egress {
    ssrf_allow_t allow;                  /* operator allowlist */
    uint64_t refused;                    /* connects refused by the guard */
    s_refusal_t recent[EGRESS_RECENT];   /* the latest, by seq % RECENT */
};

static int
s_port(const struct sockaddr *addr)
{
    if (addr->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)addr)->sin_port);
    if (addr->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
    return -1;
}

bool
egress_guard(const struct sockaddr *addr, void *arg)
{
    egress_t *eg = arg;
    s_refusal_t *r;

    if (ssrf_allowed(&eg->allow, addr))
        return true;
    eg->refused++;
    r = &eg->recent[eg->refused % EGRESS_RECENT];
    r->seq = eg->refused;
    r->port = s_port(addr);
    r->cls = ssrf_classify(addr);
    ssrf_addr_text(addr, r->text, sizeof r->text);
    rl_log_warnx("webhook connect to %s refused: %s address not allowed",
                 r->text, ssrf_class_name(r->cls));
    return false;
}

/* url's host (as curl normalised it, without IPv6 brackets) and port.
 * Returns 0, or -1 when the URL does not parse. */
static int
s_host_port(const char *url, char host_out[S_HOST_MAX], int *port)
{
    CURLU *u = curl_url();
    char *host = NULL;
    char *p = NULL;
    size_t n;
    int rc = -1;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        host[n - 1] = '\0';
        memmove(host, host + 1, n - 1);
    }
    *port = (int)strtol(p, NULL, 10); /* curl checked it is a port */
    rc = snprintf(host_out, S_HOST_MAX, "%s", host) < S_HOST_MAX ? 0 : -1;
out:
    curl_free(p);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

/* The host as an address refused by the allowlist, written up; false
 * when the host is a name or an allowed address. */
static bool
s_literal(const egress_t *eg, const char *host, char *out, size_t out_len)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    const struct sockaddr *addr = (const struct sockaddr *)&ss;
    char text[SSRF_ADDR_TEXT];

    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1)
        in4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1)
        in6->sin6_family = AF_INET6;
    else
        return false;
    if (ssrf_allowed(&eg->allow, addr))
        return false;
    snprintf(out, out_len, "address not allowed: %s (%s)",
             ssrf_addr_text(addr, text, sizeof text),
             ssrf_class_name(ssrf_classify(addr)));
    return true;
}

/* Whether text is already among the n refusals in list. */
static bool
s_listed(const s_refusal_t *const *list, size_t n, const char *text)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i]->text, text) == 0)
            return true;
    return false;
}

/* The addresses refused at `port` after refusal `since`, oldest first
 * and each once, written up; false when none is remembered, some may be
 * forgotten, or they do not fit out. */
static bool
s_remembered(const egress_t *eg, int port, uint64_t since, char *out,
             size_t out_len)
{
    const s_refusal_t *found[EGRESS_RECENT];
    size_t n = 0;
    size_t used;

    if (eg->refused - since > EGRESS_RECENT)
        return false; /* some are forgotten already */
    for (uint64_t seq = since + 1; seq <= eg->refused; seq++) {
        const s_refusal_t *r = &eg->recent[seq % EGRESS_RECENT];
        if (r->port == port && !s_listed(found, n, r->text))
            found[n++] = r;
    }
    used = (size_t)snprintf(out, out_len, "address not allowed: ");
    for (size_t i = 0; i < n && used < out_len; i++)
        used += (size_t)snprintf(out + used, out_len - used, "%s%s (%s)",
                                 i > 0 ? ", " : "", found[i]->text,
                                 ssrf_class_name(found[i]->cls));
    return n > 0 && used < out_len;
}

void
egress_refusal(const egress_t *eg, const char *url, uint64_t since,
               char *out, size_t out_len)
{
    char host[S_HOST_MAX];
    int port = -1;

    assert(eg != NULL && url != NULL && out != NULL && out_len > 0);
    if (s_host_port(url, host, &port) == 0 &&
        (s_literal(eg, host, out, out_len) ||
         s_remembered(eg, port, since, out, out_len)))
        return;
    snprintf(out, out_len, "%s", EGRESS_REFUSED_AT_CONNECT);
}

uint64_t
egress_refused(const egress_t *eg)
{
    return eg->refused;
}

egress_t *
egress_new(rl_http_t *http, const ssrf_allow_t *allow)
{
    egress_t *eg;

    assert(http != NULL && allow != NULL);
    eg = rl_calloc(1, sizeof *eg);
    eg->allow = *allow;
    rl_http_set_guard(http, egress_guard, eg);
    return eg;
}

void
egress_destroy(egress_t **p)
{
    if (p == NULL || *p == NULL)
        return;
    free(*p);
    *p = NULL;
}
