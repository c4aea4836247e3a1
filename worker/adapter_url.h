/*
 * adapter_url - the checks on strings a provider's answer hands over
 * before they reach a request URL or a customer: provider-given ids
 * (escaped into a path segment or a query value, so an id can never
 * change which URL is called) and output URLs.
 * SPDX-License-Identifier: MIT
 *
 * Limits: an id is 1..ADAPTER_ID_MAX bytes, an output URL
 * 1..ADAPTER_OUTPUT_URL_MAX bytes (adapter.h). Failure modes: every
 * function refuses (NULL reason / -1) rather than truncating or
 * repairing; nothing is logged here.
 */
#ifndef ADAPTER_URL_H
#define ADAPTER_URL_H

#include <stddef.h>

/* NULL when id is acceptable as a provider id: 1..ADAPTER_ID_MAX bytes,
 * each printable ASCII (0x21..0x7e: no space, no control character, no
 * byte of a multi-byte or invalid UTF-8 sequence), and not "." or ".."
 * (which survive percent-encoding and would climb a path). Otherwise a
 * static phrase saying why ("too long"). */
const char *adapter_url_id_check(const char *id);

/* Writes the id src percent-encoded (RFC 3986 unreserved characters
 * kept) into dst, for one path segment or one query value. Returns 0, or
 * -1 when adapter_url_id_check() refuses src or the result does not fit
 * len bytes. */
int adapter_url_escape(char *dst, size_t len, const char *src)
    __attribute__((warn_unused_result));

/* NULL when url is acceptable as a job's output URL: an absolute http or
 * https URL ("http://" or "https://", any case) of at most
 * ADAPTER_OUTPUT_URL_MAX bytes, made only of the characters RFC 3986
 * allows (no space, control, non-ASCII, '"', '<', '>', '\\', '^', '`',
 * '{', '|', '}'), every '%' starting a %XX escape, that libcurl parses
 * with a non-empty host and no userinfo ('@' before the path).
 * Otherwise a static phrase saying why. */
const char *adapter_url_output_check(const char *url);

#endif
