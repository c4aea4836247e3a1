/*
 * adapter_url - the checks on provider-given ids and output URLs, and
 * the percent-encoding of ids for adapter request URLs.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_url.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "adapter.h"

#define ASCII_FIRST_PRINTABLE 0x21 /* '!': space and controls are below */
#define ASCII_LAST_PRINTABLE 0x7e  /* '~': DEL and non-ASCII are above */

const char *
adapter_url_id_check(const char *id)
{
    if (id == NULL || id[0] == '\0')
        return "empty";
    size_t len = strnlen(id, ADAPTER_ID_MAX + 1);
    if (len > ADAPTER_ID_MAX)
        return "too long";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < ASCII_FIRST_PRINTABLE || c > ASCII_LAST_PRINTABLE)
            return "not printable ASCII";
    }
    if (strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
        return "a dot segment";
    return NULL;
}

int
adapter_url_escape(char *dst, size_t len, const char *src)
{
    if (adapter_url_id_check(src) != NULL)
        return -1;
    char *esc = curl_easy_escape(NULL, src, 0);
    if (esc == NULL)
        return -1;
    int n = snprintf(dst, len, "%s", esc);
    curl_free(esc);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* True for a byte RFC 3986 allows in a URL: unreserved, gen-delims,
 * sub-delims, and '%' (its escape checked by the caller). */
static bool
s_uri_char(unsigned char c)
{
    return c < 0x80 &&
           (isalnum(c) || strchr("-._~:/?#[]@!$&'()*+,;=%", c) != NULL);
}

/* The reason the characters of url (len bytes) are refused, or NULL. */
static const char *
s_chars(const char *url, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)url[i];
        if (!s_uri_char(c))
            return "a character a URL may not hold (space, control, "
                   "non-ASCII or unsafe)";
        if (c == '%' && !(isxdigit((unsigned char)url[i + 1]) &&
                          isxdigit((unsigned char)url[i + 2])))
            return "a '%' that starts no %XX escape";
    }
    return NULL;
}

/* The length of url's scheme and "//" when it is http or https, else 0. */
static size_t
s_http_prefix(const char *url)
{
    if (strncasecmp(url, "http://", 7) == 0)
        return 7;
    if (strncasecmp(url, "https://", 8) == 0)
        return 8;
    return 0;
}

/* The reason libcurl's parse of url is refused, or NULL. */
static const char *
s_parsed(const char *url)
{
    const char *why = "not a URL libcurl parses";
    char *host = NULL, *user = NULL;
    CURLU *u = curl_url();
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    why = "no host";
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        host[0] == '\0')
        goto out;
    why = "credentials (userinfo) in the URL";
    if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER)
        goto out;
    why = NULL;
out:
    curl_free(user);
    curl_free(host);
    curl_url_cleanup(u);
    return why;
}

const char *
adapter_url_output_check(const char *url)
{
    if (url == NULL || url[0] == '\0')
        return "empty";
    size_t len = strnlen(url, ADAPTER_OUTPUT_URL_MAX + 1);
    if (len > ADAPTER_OUTPUT_URL_MAX)
        return "too long";
    const char *why = s_chars(url, len);
    if (why != NULL)
        return why;
    size_t scheme = s_http_prefix(url);
    if (scheme == 0)
        return "not an absolute http or https URL";
    /* The authority ends at the first '/', '?' or '#'. Judged here as
     * RFC 3986 reads it, whatever libcurl or a browser makes of the
     * rest: an empty one ("https:///x", which some parsers read as host
     * "x") has no host, and '@' in it is userinfo. */
    size_t authority = strcspn(url + scheme, "/?#");
    if (authority == 0)
        return "no host";
    if (memchr(url + scheme, '@', authority) != NULL)
        return "credentials (userinfo) in the URL";
    return s_parsed(url);
}
