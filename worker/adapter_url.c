/*
 * adapter_url - percent-encoding of ids for adapter URLs.
 * SPDX-License-Identifier: MIT
 */
#include "adapter_url.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

int
adapter_url_escape(char *dst, size_t len, const char *src)
{
    /* "." and ".." survive encoding and would climb the path. */
    if (src == NULL || src[0] == '\0' || strcmp(src, ".") == 0 ||
        strcmp(src, "..") == 0)
        return -1;
    char *esc = curl_easy_escape(NULL, src, 0);
    if (esc == NULL)
        return -1;
    int n = snprintf(dst, len, "%s", esc);
    curl_free(esc);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
