/*
 * adapter_url - percent-encoding of the provider-given ids that adapters
 * put into request URLs (a path segment or a query value), so an id from
 * outside can never change which URL is called.
 * SPDX-License-Identifier: MIT
 */
#ifndef ADAPTER_URL_H
#define ADAPTER_URL_H

#include <stddef.h>

/* Writes src percent-encoded (RFC 3986 unreserved characters kept) into
 * dst. Returns 0, or -1 when src is empty, "." or "..", or the result
 * does not fit. */
int adapter_url_escape(char *dst, size_t len, const char *src)
    __attribute__((warn_unused_result));

#endif
