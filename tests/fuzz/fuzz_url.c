/*
 * fuzz_url - the parsers of addresses, networks and URLs from outside:
 * rl_cidr_parse (the [webhook] allow entries), the deliverer's SSRF
 * allowlist and address classes (ssrf.c), the webhook and image URL
 * check of submissions (validate_http_url), the origin and host keys
 * the HTTP client and the deliverer's host gate derive from a URL
 * (rl_http_origin, hostgate_key), the adapters' id escaping
 * (adapter_url_escape) and the config's address validators.
 *
 * Input: byte 0 an address family (even: IPv4, odd: IPv6), then 16
 * address bytes, then lines: each line is tried as all of the above, and
 * the lines together are the allowlist.
 *
 * Properties: a parsed network has its family's prefix bounds, no bits
 * past its prefix, and contains its own address; the allowlist parses
 * exactly when every entry does (and they are few enough); an address
 * the allowlist admits lies in one of its networks; the IPv6 forms that
 * carry an IPv4 address (mapped, NAT64, compatible) get its class and
 * its verdict; a URL validate_http_url accepts has an http(s) origin
 * and a host key; an escaped id unescapes to itself and holds nothing a
 * URL path or query could read otherwise.
 * SPDX-License-Identifier: MIT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "adapter_url.h"
#include "fz.h"
#include "hostgate.h"
#include "rl_cidr.h"
#include "rl_config_parse.h"
#include "rl_http.h"
#include "rl_lanes.h"
#include "ssrf.h"
#include "validate.h"

#define S_LINES_MAX 40
#define S_TEXT_MAX 2100 /* an escaped id of ADAPTER_TASK_MAX and more */

static void
s_check_cidr(const char *text)
{
    rl_cidr_t net;
    int bits;

    if (rl_cidr_parse(text, &net) != 0) {
        FZ_CHECK(net.family == 0 && net.prefix == 0, "a refused net kept");
        return;
    }
    FZ_CHECK(net.family == AF_INET || net.family == AF_INET6, "family");
    bits = net.family == AF_INET ? 32 : 128;
    FZ_CHECK(net.prefix >= 0 && net.prefix <= bits, "prefix %d", net.prefix);
    for (int b = net.prefix; b < bits; b++)
        FZ_CHECK((net.addr[b / 8] & (0x80 >> (b % 8))) == 0,
                 "%s: bit %d set past /%d", text, b, net.prefix);
    FZ_CHECK(rl_cidr_has(&net, net.family, net.addr),
             "%s does not contain its own address", text);
}

static void
s_check_url(const char *url)
{
    const char *why = NULL;
    char key[RL_LANES_KEY_MAX]; /* as the deliverer keeps it */
    bool https = false;

    if (validate_http_url(url, &why) != 0) {
        FZ_CHECK(why != NULL, "refused without a reason");
        return;
    }
    FZ_CHECK(rl_http_origin(url, key, sizeof key, &https) == 0 &&
                 (strncmp(key, "http://", 7) == 0 ||
                  strncmp(key, "https://", 8) == 0),
             "accepted URL %s has origin %s", url, key);
    char host[HOSTGATE_HOST_MAX]; /* as the deliverer keeps it */
    FZ_CHECK(hostgate_key(url, host, sizeof host) == 0,
             "accepted URL %s has no host key", url);
}

static void
s_check_escape(const char *id)
{
    char esc[S_TEXT_MAX];
    char *back;
    int n = 0;

    if (adapter_url_escape(esc, sizeof esc, id) != 0)
        return;
    FZ_CHECK(strcmp(esc, ".") != 0 && strcmp(esc, "..") != 0, "dot id");
    FZ_CHECK(strspn(esc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                         "0123456789-._~%") == strlen(esc),
             "escaped '%s' as '%s'", id, esc);
    back = curl_easy_unescape(NULL, esc, 0, &n);
    FZ_CHECK(back != NULL && (size_t)n == strlen(id) &&
                 memcmp(back, id, (size_t)n) == 0,
             "'%s' escaped as '%s' reads back otherwise", id, esc);
    curl_free(back);
}

static void
s_check_config_text(const char *v)
{
    char why[RL_CONFIG_WHY_LEN], host[256];
    int port = 0;

    if (rl_config_check_addr(v, why, sizeof why) == 0)
        FZ_CHECK(rl_config_split_addr(v, host, sizeof host, &port) == 0 &&
                     port >= 1 && port <= 65535,
                 "address %s checked but does not split", v);
    (void)rl_config_check_endpoint(v, why, sizeof why);
    (void)rl_config_check_url(v, why, sizeof why);
    (void)rl_config_check_host(v, why, sizeof why);
}

/* The IPv6 form `kind` (0 mapped, 1 NAT64, 2 compatible) of in4. */
static void
s_embed(const struct sockaddr_in *in4, int kind, struct sockaddr_in6 *m)
{
    static const uint8_t heads[3][12] = {
        {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
        {0, 0x64, 0xff, 0x9b},
        {0},
    };

    memset(m, 0, sizeof *m);
    m->sin6_family = AF_INET6;
    memcpy(m->sin6_addr.s6_addr, heads[kind], 12);
    memcpy(&m->sin6_addr.s6_addr[12], &in4->sin_addr, 4);
}

/* addr, and when it is IPv4 the IPv6 forms that carry it, get one
 * verdict. */
static void
s_check_addr(const ssrf_allow_t *allow, const struct sockaddr *sa)
{
    char text[SSRF_ADDR_TEXT], text6[SSRF_ADDR_TEXT];
    bool allowed = ssrf_allowed(allow, NULL, sa, NULL);
    ssrf_class_t cls = ssrf_classify(sa);
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
    struct sockaddr_in6 m;

    FZ_CHECK(cls <= SSRF_UNKNOWN, "class %d", (int)cls);
    FZ_CHECK(!allowed || cls == SSRF_PUBLIC || ssrf_allow_match(allow, sa),
             "allowed without a reason");
    ssrf_addr_text(sa, text, sizeof text);
    if (sa->sa_family != AF_INET)
        return;
    for (int kind = 0; kind < 3; kind++) {
        /* ::0.0.0.0 and ::0.0.0.1 are :: and ::1, not compatible. */
        if (kind == 2 && ntohl(in4->sin_addr.s_addr) <= 1)
            continue;
        s_embed(in4, kind, &m);
        ssrf_addr_text((struct sockaddr *)&m, text6, sizeof text6);
        FZ_CHECK(ssrf_classify((struct sockaddr *)&m) == cls &&
                     ssrf_allowed(allow, NULL, (struct sockaddr *)&m, NULL) ==
                         allowed,
                 "%s and %s disagree", text, text6);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    bool v6 = fz_u8(&in) & 1;
    struct sockaddr_storage ss;
    uint8_t b[16];
    char *lines[S_LINES_MAX];
    size_t n = 0;
    ssrf_allow_t allow;
    char why[256];
    bool all_parse = true;
    rl_cidr_t net;

    fz_setup();
    for (int i = 0; i < 16; i++)
        b[i] = fz_u8(&in);
    memset(&ss, 0, sizeof ss);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        memcpy(a->sin6_addr.s6_addr, b, 16);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        memcpy(&a->sin_addr, b, 4);
    }
    while (in.n > 0 && n < S_LINES_MAX) {
        lines[n] = fz_str(&in, '\n', NULL);
        s_check_cidr(lines[n]);
        s_check_url(lines[n]);
        s_check_escape(lines[n]);
        s_check_config_text(lines[n]);
        all_parse &= rl_cidr_parse(lines[n], &net) == 0;
        n++;
    }
    all_parse &= n <= RL_CONFIG_MAX_ALLOW;
    FZ_CHECK((ssrf_allow_parse(&allow, (const char *const *)lines, n, why,
                               sizeof why) == 0) == all_parse,
             "the allowlist and its %zu entries disagree", n);
    if (!all_parse)
        memset(&allow, 0, sizeof allow);
    s_check_addr(&allow, (struct sockaddr *)&ss);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    return 0;
}
