/*
 * reelay-example-verify - verifies one reelay webhook delivery with
 * OpenSSL's libcrypto: the CreativeAI scheme (--key, X-CreativeAI-Signature)
 * or Standard Webhooks (--secret, webhook-* headers, timestamp within 5
 * minutes of now or of --now). A standalone example: it uses nothing of
 * reelay's own code.
 *
 *   REELAY_API_KEY=... reelay-example-verify --key HEADERS_FILE BODY_FILE
 *   REELAY_WEBHOOK_SECRET=whsec_... reelay-example-verify --secret
 *                         [--now UNIX_SECONDS] HEADERS_FILE BODY_FILE
 *
 * The key or secret comes from the environment, never the command line
 * (where any user of the machine can read it in ps).
 *
 * HEADERS_FILE holds the request's headers as "Name: value" lines,
 * BODY_FILE the raw body exactly as received. Prints "valid" and exits 0,
 * or "invalid: REASON" and exits 1 (2: usage or an unreadable file).
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define S_FILE_MAX (16 * 1024 * 1024) /* bytes of a headers or body file */
#define S_HEADER_MAX 2048             /* bytes of one header value */
#define S_SECRET_MAX 256              /* decoded secret bytes */
#define S_TOLERANCE_S 300             /* Standard Webhooks timestamp skew */
#define S_SHA256_LEN 32
#define S_B64_SHA256 45 /* base64 of 32 bytes and the NUL */
#define S_HEX_PREFIX "sha256="
#define S_WHSEC_PREFIX "whsec_"
#define S_EXIT_INVALID 1
#define S_EXIT_USAGE 2

/* A file read whole. */
typedef struct {
    char *bytes; /* owned, NUL-terminated */
    size_t len;  /* without the NUL */
} s_file_t;

/* Reads path into *f (at most S_FILE_MAX bytes). Returns 0 or -1. */
static int
s_read_file(const char *path, s_file_t *f)
{
    FILE *in = fopen(path, "rb");
    long size;
    int rc = -1;

    f->bytes = NULL;
    f->len = 0;
    if (in == NULL)
        return -1;
    size = fseek(in, 0, SEEK_END) == 0 ? ftell(in) : -1;
    if (size < 0 || size > S_FILE_MAX || fseek(in, 0, SEEK_SET) != 0)
        goto out;
    f->bytes = malloc((size_t)size + 1);
    if (f->bytes == NULL ||
        fread(f->bytes, 1, (size_t)size, in) != (size_t)size)
        goto out;
    f->bytes[size] = '\0';
    f->len = (size_t)size;
    rc = 0;
out:
    if (rc != 0) {
        free(f->bytes);
        f->bytes = NULL;
    }
    fclose(in);
    return rc;
}

/* The value of header `name` (case-insensitive) in "Name: value" lines,
 * trimmed, into out; false when absent or too long. */
static bool
s_header(const char *text, const char *name, char *out, size_t out_len)
{
    size_t nlen = strlen(name);

    for (const char *line = text; *line != '\0';) {
        const char *end = line + strcspn(line, "\r\n");

        if ((size_t)(end - line) > nlen && line[nlen] == ':' &&
            strncasecmp(line, name, nlen) == 0) {
            const char *v = line + nlen + 1;

            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            if ((size_t)(end - v) >= out_len)
                return false;
            memcpy(out, v, (size_t)(end - v));
            out[end - v] = '\0';
            return true;
        }
        line = end + strspn(end, "\r\n");
    }
    return false;
}

/* HMAC-SHA256 of msg under key into mac[S_SHA256_LEN]. Returns 0 or -1. */
static int
s_hmac(const void *key, size_t key_len, const void *msg, size_t msg_len,
       unsigned char mac[S_SHA256_LEN])
{
    unsigned int n = 0;

    if (key_len > (size_t)S_FILE_MAX ||
        HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, mac, &n) == NULL)
        return -1;
    return n == S_SHA256_LEN ? 0 : -1;
}

/* CreativeAI: X-CreativeAI-Signature == "sha256=" + hex HMAC(key, body). */
static const char *
s_verify_creativeai(const s_file_t *headers, const s_file_t *body,
                    const char *key)
{
    char got[S_HEADER_MAX];
    char want[sizeof S_HEX_PREFIX + 2 * S_SHA256_LEN];
    unsigned char mac[S_SHA256_LEN];
    size_t plen = strlen(S_HEX_PREFIX);

    if (!s_header(headers->bytes, "X-CreativeAI-Signature", got, sizeof got))
        return "no X-CreativeAI-Signature header";
    if (s_hmac(key, strlen(key), body->bytes, body->len, mac) != 0)
        return "HMAC failed";
    static const char hex[] = "0123456789abcdef";
    memcpy(want, S_HEX_PREFIX, plen);
    for (size_t i = 0; i < S_SHA256_LEN; i++) {
        want[plen + 2 * i] = hex[mac[i] >> 4];
        want[plen + 2 * i + 1] = hex[mac[i] & 0x0f];
    }
    want[plen + 2 * S_SHA256_LEN] = '\0';
    if (strlen(got) != strlen(want) ||
        CRYPTO_memcmp(got, want, strlen(want)) != 0)
        return "signature mismatch";
    return NULL;
}

/* The key bytes of "whsec_BASE64" into key; returns their number or -1. */
static int
s_secret_key(const char *secret, unsigned char key[S_SECRET_MAX])
{
    size_t len, pad = 0;
    int n;

    if (strncmp(secret, S_WHSEC_PREFIX, strlen(S_WHSEC_PREFIX)) == 0)
        secret += strlen(S_WHSEC_PREFIX);
    len = strlen(secret);
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > S_SECRET_MAX)
        return -1;
    while (pad < 2 && secret[len - 1 - pad] == '=')
        pad++;
    n = EVP_DecodeBlock(key, (const unsigned char *)secret, (int)len);
    return n < 0 ? -1 : n - (int)pad;
}

/* True when the space-separated list holds "v1,<want>". */
static bool
s_list_has(const char *list, const char *want)
{
    size_t wlen = strlen(want);

    while (*list != '\0') {
        size_t n;

        list += strspn(list, " ");
        n = strcspn(list, " ");
        if (n == 3 + wlen && strncmp(list, "v1,", 3) == 0 &&
            CRYPTO_memcmp(list + 3, want, wlen) == 0)
            return true;
        list += n;
    }
    return false;
}

/* The base64 signature of "id.timestamp.body" under key into want. */
static int
s_standard_sig(const unsigned char *key, int key_len, const char *id,
               const char *stamp, const s_file_t *body, char want[S_B64_SHA256])
{
    size_t head = strlen(id) + 1 + strlen(stamp) + 1;
    unsigned char mac[S_SHA256_LEN];
    char *msg = malloc(head + body->len + 1);
    int rc = -1;

    if (msg == NULL)
        return -1;
    /* "id.stamp." then the body: head counts the first part exactly. */
    memcpy(msg, id, strlen(id));
    msg[strlen(id)] = '.';
    memcpy(msg + strlen(id) + 1, stamp, strlen(stamp));
    msg[head - 1] = '.';
    memcpy(msg + head, body->bytes, body->len);
    if (s_hmac(key, (size_t)key_len, msg, head + body->len, mac) == 0 &&
        EVP_EncodeBlock((unsigned char *)want, mac, S_SHA256_LEN) > 0)
        rc = 0;
    free(msg);
    return rc;
}

/* Standard Webhooks: webhook-signature holds "v1," + base64 HMAC of
 * "{webhook-id}.{webhook-timestamp}.{body}", the timestamp near now. */
static const char *
s_verify_standard(const s_file_t *headers, const s_file_t *body,
                  const char *secret, long long now)
{
    char id[S_HEADER_MAX], stamp[S_HEADER_MAX], sigs[S_HEADER_MAX];
    char want[S_B64_SHA256];
    unsigned char key[S_SECRET_MAX];
    char *end = NULL;
    long long ts;
    int klen, rc;

    if (!s_header(headers->bytes, "webhook-id", id, sizeof id) ||
        !s_header(headers->bytes, "webhook-timestamp", stamp, sizeof stamp) ||
        !s_header(headers->bytes, "webhook-signature", sigs, sizeof sigs))
        return "missing webhook-id, webhook-timestamp or webhook-signature";
    errno = 0;
    ts = strtoll(stamp, &end, 10);
    if (errno != 0 || end == stamp || *end != '\0')
        return "malformed webhook-timestamp";
    if (ts < now - S_TOLERANCE_S || ts > now + S_TOLERANCE_S)
        return "timestamp outside the tolerance";
    klen = s_secret_key(secret, key);
    if (klen <= 0)
        return "the secret is not whsec_BASE64";
    rc = s_standard_sig(key, klen, id, stamp, body, want);
    OPENSSL_cleanse(key, sizeof key);
    if (rc != 0)
        return "HMAC failed";
    return s_list_has(sigs, want) ? NULL : "no matching signature";
}

static _Noreturn void
s_usage(void)
{
    fprintf(stderr, "usage: REELAY_API_KEY=... reelay-example-verify --key "
                    "HEADERS_FILE BODY_FILE\n"
                    "       REELAY_WEBHOOK_SECRET=whsec_... "
                    "reelay-example-verify --secret [--now UNIX_SECONDS] "
                    "HEADERS_FILE BODY_FILE\n");
    exit(S_EXIT_USAGE);
}

/* Command line: exactly one of --key / --secret, then two files; the key
 * or secret from the environment. */
typedef struct {
    const char *key;     /* --key: $REELAY_API_KEY */
    const char *secret;  /* --secret: $REELAY_WEBHOOK_SECRET */
    long long now;       /* --now, else the clock */
    const char *headers; /* HEADERS_FILE */
    const char *body;    /* BODY_FILE */
} s_args_t;

static s_args_t
s_args(int argc, char **argv)
{
    static const struct option longs[] = {
        {"key", no_argument, NULL, 'k'},
        {"secret", no_argument, NULL, 's'},
        {"now", required_argument, NULL, 'n'},
        {NULL, 0, NULL, 0},
    };
    s_args_t a = {NULL, NULL, (long long)time(NULL), NULL, NULL};
    bool key = false, secret = false;
    char *end = NULL;
    int opt;

    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (opt == 'k') {
            key = true;
        } else if (opt == 's') {
            secret = true;
        } else if (opt == 'n') {
            errno = 0;
            a.now = strtoll(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0')
                s_usage();
        } else {
            s_usage();
        }
    }
    if (key == secret || argc - optind != 2)
        s_usage();
    const char *env = key ? "REELAY_API_KEY" : "REELAY_WEBHOOK_SECRET";
    const char *value = getenv(env);
    if (value == NULL || *value == '\0') {
        fprintf(stderr, "%s is not set\n", env);
        exit(S_EXIT_USAGE);
    }
    *(key ? &a.key : &a.secret) = value;
    a.headers = argv[optind];
    a.body = argv[optind + 1];
    return a;
}

int
main(int argc, char **argv)
{
    s_args_t a = s_args(argc, argv);
    s_file_t headers, body;
    const char *why;
    int rc = S_EXIT_USAGE;

    if (s_read_file(a.headers, &headers) != 0) {
        fprintf(stderr, "cannot read %s\n", a.headers);
        return S_EXIT_USAGE;
    }
    if (s_read_file(a.body, &body) != 0) {
        fprintf(stderr, "cannot read %s\n", a.body);
        goto out;
    }
    why = a.key != NULL ? s_verify_creativeai(&headers, &body, a.key)
                        : s_verify_standard(&headers, &body, a.secret, a.now);
    if (why == NULL)
        printf("valid\n");
    else
        printf("invalid: %s\n", why);
    rc = why == NULL ? EXIT_SUCCESS : S_EXIT_INVALID;
out:
    free(body.bytes);
    free(headers.bytes);
    return rc;
}
