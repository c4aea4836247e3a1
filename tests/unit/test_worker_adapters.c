/*
 * test_worker_adapters - the adapter interface (registry, request
 * helpers, HTTP fallback classes) and the Kling and Seedance adapters:
 * the requests they build (URL, method, headers, JSON body, the Kling
 * JWT checked by re-signing it) and how they read real-shaped provider
 * answers (docs/providers.md, Kling and Seedance).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "adapter_kling.h"
#include "adapter_seedance.h"
#include "rl_crypto.h"
#include "rl_ptype.h"

#define NOW_S 1760000000 /* a fixed "now" for the JWT */
#define JWT_MAX 1024

static char s_kling_name[] = "kl";
static char s_kling_type[] = "kling";
static char s_kling_url[] = "https://api-singapore.klingai.com";
static char s_kling_ak[] = "AK123";
static char s_kling_sk[] = "SK-secret-456";
static char s_ark_name[] = "ark";
static char s_ark_type[] = "seedance";
static char s_ark_url[] = "https://ark.ap-southeast.bytepluses.com/api/v3";
static char s_ark_key[] = "ark-key-789";
static char s_empty[] = "";

static const rl_provider_conf_t s_kling = {
    .name = s_kling_name,
    .type = s_kling_type,
    .base_url = s_kling_url,
    .key = s_kling_ak,
    .secret = s_kling_sk,
    .poll_interval_ms = 1000,
    .submit_timeout_ms = 1000,
    .poll_timeout_ms = 1000,
};

static const rl_provider_conf_t s_ark = {
    .name = s_ark_name,
    .type = s_ark_type,
    .base_url = s_ark_url,
    .key = s_ark_key,
    .secret = s_empty,
    .poll_interval_ms = 1000,
    .submit_timeout_ms = 1000,
    .poll_timeout_ms = 1000,
};

static const adapter_job_t s_t2v = {
    .job_id = "vgen_abc",
    .attempt = 2,
    .upstream_model = "kling-v2-5-turbo",
    .prompt = "a red fox in snow",
    .negative_prompt = NULL,
    .image_url = NULL,
    .duration_s = 5,
    .aspect_ratio = "16:9",
};

static const adapter_job_t s_i2v = {
    .job_id = "vgen_img",
    .attempt = 1,
    .upstream_model = "kling-v2-5-turbo",
    .prompt = "the fox runs",
    .negative_prompt = "blurry",
    .image_url = "https://img.example.com/fox.png",
    .duration_s = 10,
    .aspect_ratio = "1:1",
};

/* A response as rl_http hands it over; body is a NUL-terminated literal. */
static rl_http_resp_t
s_resp(long status, const char *body)
{
    rl_http_resp_t r;
    memset(&r, 0, sizeof r);
    r.status = status;
    r.error = "";
    r.body = body;
    r.body_len = strlen(body);
    r.primary_ip = "";
    return r;
}

/* Runs a parse function on (status, body) into a zeroed *out. */
static void
s_parse(void (*parse)(const rl_http_resp_t *, adapter_result_t *), long status,
        const char *body, adapter_result_t *out)
{
    rl_http_resp_t r = s_resp(status, body);
    memset(out, 0, sizeof *out);
    parse(&r, out);
}

/* Asserts an ERROR/FAILED result of class e. */
static void
s_expect(const adapter_result_t *out, adapter_state_t state, adapter_error_t e)
{
    if (out->state != state || out->error != e)
        fail_msg("got state %d error %s (code '%s', message '%s'), want "
                 "state %d error %s",
                 (int)out->state, adapter_error_name(out->error), out->code,
                 out->message, (int)state, adapter_error_name(e));
}

/* The value of header `name` ("Name: value") in req, or NULL. */
static const char *
s_header(const adapter_request_t *req, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < req->nheaders; i++)
        if (strncmp(req->headers[i], name, n) == 0 &&
            strncmp(req->headers[i] + n, ": ", 2) == 0)
            return req->headers[i] + n + 2;
    return NULL;
}

/* The body of req as JSON (caller owns). */
static json_t *
s_body(const adapter_request_t *req)
{
    assert_non_null(req->body);
    assert_int_equal(req->body_len, strlen(req->body));
    json_t *j = json_loadb(req->body, req->body_len, 0, NULL);
    assert_non_null(j);
    return j;
}

static const char *
s_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Decodes base64url (no padding) into out as a NUL-terminated text;
 * returns the byte count or -1. */
static int
s_b64url_decode(const char *in, size_t len, uint8_t *out, size_t out_len)
{
    char std[JWT_MAX];
    if (len + 3 >= sizeof std)
        return -1;
    for (size_t i = 0; i < len; i++)
        std[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    size_t n = len;
    while (n % 4 != 0)
        std[n++] = '=';
    std[n] = '\0';
    int got = rl_base64_decode(std, n, out, out_len - 1);
    if (got >= 0)
        out[got] = '\0';
    return got;
}

/* Checks that jwt is the Kling token of (ak, sk) at now_s. */
static void
s_check_jwt(const char *jwt, const char *ak, const char *sk, int64_t now_s)
{
    const char *dot1 = strchr(jwt, '.');
    assert_non_null(dot1);
    const char *dot2 = strchr(dot1 + 1, '.');
    assert_non_null(dot2);
    assert_null(strchr(dot2 + 1, '.'));
    assert_null(strpbrk(jwt, "+/= ")); /* base64url, no padding */

    uint8_t header[256], payload[512];
    assert_true(
        s_b64url_decode(jwt, (size_t)(dot1 - jwt), header, sizeof header) > 0);
    assert_string_equal((const char *)header,
                        "{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    assert_true(s_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload,
                                sizeof payload) > 0);
    json_t *claims = json_loads((const char *)payload, 0, NULL);
    assert_non_null(claims);
    assert_string_equal(s_str(claims, "iss"), ak);
    assert_int_equal(json_integer_value(json_object_get(claims, "exp")),
                     now_s + ADAPTER_KLING_JWT_TTL_S);
    assert_int_equal(json_integer_value(json_object_get(claims, "nbf")),
                     now_s - 5);
    assert_int_equal(ADAPTER_KLING_JWT_TTL_S, 1800);
    json_decref(claims);

    uint8_t mac[RL_SHA256_LEN];
    char sig[64];
    assert_int_equal(
        rl_hmac_sha256(sk, strlen(sk), jwt, (size_t)(dot2 - jwt), mac), 0);
    assert_true(rl_base64url_encode(mac, sizeof mac, sig, sizeof sig) > 0);
    assert_string_equal(dot2 + 1, sig);
}

/* ---- adapter.h ---------------------------------------------------- */

static void
test_adapter_find(void **state)
{
    (void)state;
    assert_ptr_equal(adapter_find("kling"), &adapter_kling);
    assert_ptr_equal(adapter_find("seedance"), &adapter_seedance);
    assert_null(adapter_find("nope"));
    assert_null(adapter_find(""));
    assert_null(adapter_find("Kling"));
    assert_string_equal(adapter_kling.type, "kling");
    assert_string_equal(adapter_seedance.type, "seedance");
    /* Every provider type has its adapter, under its own name. */
    for (int t = 0; t < RL_PTYPE_COUNT; t++) {
        const adapter_t *a = adapter_find(rl_ptype_name((rl_ptype_t)t));
        assert_non_null(a);
        assert_string_equal(a->type, rl_ptype_name((rl_ptype_t)t));
    }
}

static void
test_request_helpers(void **state)
{
    (void)state;
    adapter_request_t req;
    memset(&req, 0, sizeof req);
    for (int i = 0; i < ADAPTER_MAX_HEADERS; i++)
        assert_int_equal(adapter_request_header(&req, "X-H%d: %d", i, i), 0);
    assert_int_equal(req.nheaders, ADAPTER_MAX_HEADERS);
    assert_int_equal(adapter_request_header(&req, "X-Over: 1"), -1);
    assert_int_equal(req.nheaders, ADAPTER_MAX_HEADERS);
    assert_string_equal(req.headers[0], "X-H0: 0");
    assert_string_equal(req.headers[ADAPTER_MAX_HEADERS - 1], "X-H7: 7");
    assert_null(req.headers[ADAPTER_MAX_HEADERS]); /* NULL-terminated */

    assert_int_equal(adapter_request_url(&req, "%s/v1/%d", "http://h", 3), 0);
    assert_string_equal(req.url, "http://h/v1/3");
    char long_part[ADAPTER_URL_MAX];
    memset(long_part, 'a', sizeof long_part - 1);
    long_part[sizeof long_part - 1] = '\0';
    assert_int_equal(adapter_request_url(&req, "http://h/%s", long_part), -1);

    char *json = strdup("{\"a\":1}");
    adapter_request_body(&req, json); /* takes ownership */
    assert_ptr_equal(req.body, json);
    assert_int_equal(req.body_len, 7);
    adapter_request_body(&req, strdup("{}")); /* frees the old one */
    assert_int_equal(req.body_len, 2);
    adapter_request_body(&req, NULL);
    assert_null(req.body);
    assert_int_equal(req.body_len, 0);
    adapter_request_body(&req, strdup("{}"));

    req.method = "POST";
    adapter_request_release(&req);
    assert_int_equal(req.nheaders, 0);
    assert_null(req.headers[0]);
    assert_null(req.body);
    assert_null(req.method);
    assert_string_equal(req.url, "");
    adapter_request_release(&req); /* zeroed: safe again */

    /* A header too long for the formatting buffer is refused. */
    char *huge = malloc(4096);
    assert_non_null(huge);
    memset(huge, 'v', 4095);
    huge[4095] = '\0';
    assert_int_equal(adapter_request_header(&req, "X-Big: %s", huge), -1);
    assert_int_equal(req.nheaders, 0);
    free(huge);
}

static void
test_copy_and_result_error(void **state)
{
    (void)state;
    char small[4];
    adapter_copy(small, sizeof small, "abcdef");
    assert_string_equal(small, "abc");
    adapter_copy(small, sizeof small, NULL);
    assert_string_equal(small, "");

    adapter_result_t out;
    memset(&out, 0, sizeof out);
    adapter_result_error(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY, "c1",
                         "no room for %d", 3);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    assert_string_equal(out.code, "c1");
    assert_string_equal(out.message, "no room for 3");
    char long_code[ADAPTER_CODE_MAX * 2];
    memset(long_code, 'c', sizeof long_code - 1);
    long_code[sizeof long_code - 1] = '\0';
    adapter_result_error(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT, long_code,
                         "%s", long_code);
    assert_int_equal(strlen(out.code), ADAPTER_CODE_MAX - 1);
}

/* Provider text is stored and rendered as JSON: what the helpers keep
 * is valid UTF-8 however it is cut. */
static void
test_copy_and_result_error_utf8(void **state)
{
    (void)state;
    char small[6];
    adapter_copy(small, sizeof small, "ab\xe2\x82\xac\xe2\x82\xac");
    assert_string_equal(small, "ab\xe2\x82\xac"); /* "ab" + one euro */
    adapter_copy(small, sizeof small, "abcd\xc3\xa9");
    assert_string_equal(small, "abcd");

    adapter_result_t out;
    memset(&out, 0, sizeof out);
    /* "%.4s" cuts the second euro sign; a newline would forge a line. */
    adapter_result_error(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT,
                         "malformed", "status '%.4s'\n",
                         "\xe2\x82\xac\xe2\x82\xac");
    assert_string_equal(out.message, "status '\xe2\x82\xac\\xE2'\\x0A");
    char euros[3 * ADAPTER_MSG_MAX + 1];
    for (size_t i = 0; i < ADAPTER_MSG_MAX; i++)
        memcpy(euros + 3 * i, "\xe2\x82\xac", 3);
    euros[3 * ADAPTER_MSG_MAX] = '\0';
    adapter_result_error(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT, "x", "%s",
                         euros);
    assert_int_equal(strlen(out.message), 3 * ((ADAPTER_MSG_MAX - 1) / 3));
}

static void
test_error_names(void **state)
{
    (void)state;
    assert_string_equal(adapter_error_name(ADAPTER_ERR_NONE), "none");
    assert_string_equal(adapter_error_name(ADAPTER_ERR_RATE_LIMITED),
                        "rate_limited");
    assert_string_equal(adapter_error_name(ADAPTER_ERR_CAPACITY), "capacity");
    assert_string_equal(adapter_error_name(ADAPTER_ERR_TRANSIENT), "transient");
    assert_string_equal(adapter_error_name(ADAPTER_ERR_PERMANENT), "permanent");
    assert_string_equal(adapter_error_name(ADAPTER_ERR_CONTENT_REJECTED),
                        "content_rejected");
    assert_string_equal(adapter_error_name((adapter_error_t)99), "unknown");
}

static void
test_result_http(void **state)
{
    (void)state;
    adapter_result_t out;
    rl_http_resp_t r = s_resp(0, "");
    r.timed_out = true;
    memset(&out, 0, sizeof out);
    adapter_result_http(&r, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "timeout");
    assert_int_equal(out.retry_after_ms, 0);

    r = s_resp(0, "");
    r.curl_code = 7;
    r.error = "Failed to connect: Connection refused";
    memset(&out, 0, sizeof out);
    adapter_result_http(&r, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "network");
    assert_string_equal(out.message, "Failed to connect: Connection refused");

    static const struct {
        long status;
        adapter_error_t e;
    } cases[] = {
        {408, ADAPTER_ERR_TRANSIENT}, {429, ADAPTER_ERR_RATE_LIMITED},
        {404, ADAPTER_ERR_PERMANENT}, {400, ADAPTER_ERR_PERMANENT},
        {500, ADAPTER_ERR_TRANSIENT}, {503, ADAPTER_ERR_TRANSIENT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = s_resp(cases[i].status, "<html>x</html>");
        memset(&out, 0, sizeof out);
        adapter_result_http(&r, &out);
        s_expect(&out, ADAPTER_ERROR, cases[i].e);
    }

    /* Retry-After in seconds becomes ms; junk and huge values are 0. */
    static const struct {
        const char *header;
        long ms;
    } hints[] = {
        {"7", 7000}, {"1", 1000},
        {"0", 0},    {"-3", 0},
        {"abc", 0},  {"3600", 0},
        {"", 0},     {"Wed, 21 Oct 2015 07:28:00 GMT", 0},
    };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        r = s_resp(503, "");
        r.retry_after = hints[i].header;
        memset(&out, 0, sizeof out);
        adapter_result_http(&r, &out);
        s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
        if (out.retry_after_ms != hints[i].ms)
            fail_msg("Retry-After '%s': %ld ms", hints[i].header,
                     out.retry_after_ms);
    }
    r = s_resp(429, "");
    r.retry_after = "7";
    memset(&out, 0, sizeof out);
    adapter_result_http(&r, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    assert_int_equal(out.retry_after_ms, 7000);
}

/* ---- Kling -------------------------------------------------------- */

static void
test_kling_jwt(void **state)
{
    (void)state;
    char jwt[JWT_MAX];
    assert_int_equal(
        adapter_kling_jwt("AK123", "SK-secret-456", NOW_S, jwt, sizeof jwt), 0);
    s_check_jwt(jwt, "AK123", "SK-secret-456", NOW_S);
    /* Deterministic for the same inputs; a new second, a new token. */
    char again[JWT_MAX];
    assert_int_equal(
        adapter_kling_jwt("AK123", "SK-secret-456", NOW_S, again, sizeof again),
        0);
    assert_string_equal(jwt, again);
    assert_int_equal(adapter_kling_jwt("AK123", "SK-secret-456", NOW_S + 1,
                                       again, sizeof again),
                     0);
    assert_string_not_equal(jwt, again);
    /* A short buffer is refused, the exact size accepted. */
    size_t len = strlen(jwt);
    assert_int_equal(
        adapter_kling_jwt("AK123", "SK-secret-456", NOW_S, again, len), -1);
    assert_int_equal(
        adapter_kling_jwt("AK123", "SK-secret-456", NOW_S, again, len + 1), 0);
    /* An access key that needs escaping still yields valid claims. */
    assert_int_equal(adapter_kling_jwt("a\"k", "s", NOW_S, jwt, sizeof jwt), 0);
    s_check_jwt(jwt, "a\"k", "s", NOW_S);
}

/* With a token cache the JWT is signed once and reused until half of its
 * lifetime has passed; then a new one is made and cached. */
static void
test_kling_jwt_cache(void **state)
{
    (void)state;
    adapter_token_t tok;
    adapter_job_t j = s_t2v;
    adapter_request_t req;
    char first[JWT_MAX], jwt[JWT_MAX];
    memset(&tok, 0, sizeof tok);
    j.token = &tok;
    memset(&req, 0, sizeof req);
    assert_int_equal(adapter_kling.build_poll(&s_kling, &j, "t1", NOW_S, &req),
                     0);
    snprintf(first, sizeof first, "%s", s_header(&req, "Authorization") + 7);
    adapter_request_release(&req);
    s_check_jwt(first, "AK123", "SK-secret-456", NOW_S);
    assert_string_equal(tok.value, first);
    assert_int_equal(tok.renew_at_s, NOW_S + ADAPTER_KLING_JWT_TTL_S / 2);
    /* Later, but before the renewal time: the same token. */
    assert_int_equal(
        adapter_kling.build_poll(&s_kling, &j, "t1",
                                 NOW_S + ADAPTER_KLING_JWT_TTL_S / 2 - 1, &req),
        0);
    assert_string_equal(s_header(&req, "Authorization") + 7, first);
    adapter_request_release(&req);
    /* At the renewal time: a new one, valid from then. */
    int64_t later = NOW_S + ADAPTER_KLING_JWT_TTL_S / 2;
    assert_int_equal(adapter_kling.build_submit(&s_kling, &j, later, &req), 0);
    assert_string_not_equal(s_header(&req, "Authorization") + 7, first);
    s_check_jwt(s_header(&req, "Authorization") + 7, "AK123", "SK-secret-456",
                later);
    assert_int_equal(
        adapter_kling_jwt("AK123", "SK-secret-456", later, jwt, sizeof jwt), 0);
    assert_string_equal(tok.value, jwt);
    adapter_request_release(&req);
}

static void
test_kling_build_submit_t2v(void **state)
{
    (void)state;
    adapter_request_t req;
    memset(&req, 0, sizeof req);
    assert_int_equal(adapter_kling.build_submit(&s_kling, &s_t2v, NOW_S, &req),
                     0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://api-singapore.klingai.com"
                                 "/v1/videos/text2video");
    assert_string_equal(s_header(&req, "Content-Type"), "application/json");
    const char *auth = s_header(&req, "Authorization");
    assert_non_null(auth);
    assert_memory_equal(auth, "Bearer ", 7);
    s_check_jwt(auth + 7, "AK123", "SK-secret-456", NOW_S);
    char jwt[JWT_MAX];
    assert_int_equal(
        adapter_kling_jwt("AK123", "SK-secret-456", NOW_S, jwt, sizeof jwt), 0);
    assert_string_equal(auth + 7, jwt);

    json_t *b = s_body(&req);
    assert_string_equal(s_str(b, "model_name"), "kling-v2-5-turbo");
    assert_string_equal(s_str(b, "prompt"), "a red fox in snow");
    assert_true(json_is_string(json_object_get(b, "duration")));
    assert_string_equal(s_str(b, "duration"), "5");
    assert_string_equal(s_str(b, "aspect_ratio"), "16:9");
    assert_string_equal(s_str(b, "external_task_id"), "vgen_abc-2");
    assert_string_equal(s_str(b, "mode"), "std");
    assert_null(json_object_get(b, "image"));
    assert_null(json_object_get(b, "negative_prompt"));
    json_decref(b);
    adapter_request_release(&req);
}

static void
test_kling_build_submit_i2v(void **state)
{
    (void)state;
    adapter_request_t req;
    memset(&req, 0, sizeof req);
    assert_int_equal(adapter_kling.build_submit(&s_kling, &s_i2v, NOW_S, &req),
                     0);
    assert_string_equal(req.url, "https://api-singapore.klingai.com"
                                 "/v1/videos/image2video");
    json_t *b = s_body(&req);
    assert_string_equal(s_str(b, "image"), "https://img.example.com/fox.png");
    assert_string_equal(s_str(b, "negative_prompt"), "blurry");
    assert_string_equal(s_str(b, "duration"), "10");
    assert_string_equal(s_str(b, "aspect_ratio"), "1:1");
    assert_string_equal(s_str(b, "external_task_id"), "vgen_img-1");
    json_decref(b);
    adapter_request_release(&req);
}

static void
test_kling_build_poll_and_cancel(void **state)
{
    (void)state;
    adapter_request_t req;
    memset(&req, 0, sizeof req);
    assert_int_equal(
        adapter_kling.build_poll(&s_kling, &s_t2v, "t1", NOW_S, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, "https://api-singapore.klingai.com"
                                 "/v1/videos/text2video/t1");
    assert_null(req.body);
    const char *auth = s_header(&req, "Authorization");
    assert_non_null(auth);
    s_check_jwt(auth + strlen("Bearer "), "AK123", "SK-secret-456", NOW_S);
    adapter_request_release(&req);

    assert_int_equal(
        adapter_kling.build_poll(&s_kling, &s_i2v, "t2", NOW_S, &req), 0);
    assert_string_equal(req.url, "https://api-singapore.klingai.com"
                                 "/v1/videos/image2video/t2");
    adapter_request_release(&req);

    assert_null(adapter_kling.build_cancel); /* Kling has no cancel */
    assert_null(adapter_kling.build_result);
    assert_null(adapter_kling.parse_result);
}

static void
test_kling_parse_submit(void **state)
{
    (void)state;
    adapter_result_t out;
    s_parse(adapter_kling.parse_submit, 200,
            "{\"code\":0,\"message\":\"\",\"request_id\":\"r\","
            "\"data\":{\"task_id\":\"t1\",\"task_status\":\"submitted\","
            "\"task_info\":{\"external_task_id\":\"vgen_abc-2\"},"
            "\"created_at\":1722769557708,\"updated_at\":1722769557708}}",
            &out);
    assert_int_equal(out.state, ADAPTER_QUEUED);
    assert_int_equal(out.error, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "t1");

    static const struct {
        long status;
        const char *body;
        adapter_error_t e;
        const char *code;
    } errs[] = {
        {429, "{\"code\":1302,\"message\":\"rate limit\",\"request_id\":\"r\"}",
         ADAPTER_ERR_RATE_LIMITED, "1302"},
        {429,
         "{\"code\":1303,\"message\":\"parallel task over resource pack "
         "limit\",\"request_id\":\"r\"}",
         ADAPTER_ERR_CAPACITY, "1303"},
        {400,
         "{\"code\":1301,\"message\":\"content policy\","
         "\"request_id\":\"r\"}",
         ADAPTER_ERR_CONTENT_REJECTED, "1301"},
        {401,
         "{\"code\":1000,\"message\":\"auth failed\",\"request_id\":\"r\"}",
         ADAPTER_ERR_PERMANENT, "1000"},
        {429, "{\"code\":1102,\"message\":\"resource pack depleted\"}",
         ADAPTER_ERR_PERMANENT, "1102"},
        {400, "{\"code\":1201,\"message\":\"bad param\"}",
         ADAPTER_ERR_PERMANENT, "1201"},
        {500,
         "{\"code\":5000,\"message\":\"server error\","
         "\"request_id\":\"r\"}",
         ADAPTER_ERR_TRANSIENT, "5000"},
        {200, "{\"code\":0,\"message\":\"\",\"data\":{\"task_id\":\"t1\",",
         ADAPTER_ERR_TRANSIENT, "malformed"},
        {200, "{\"code\":0,\"data\":{\"task_status\":\"submitted\"}}",
         ADAPTER_ERR_TRANSIENT, "malformed"},
        {503, "<html><body>503 Service Unavailable</body></html>",
         ADAPTER_ERR_TRANSIENT, "http_error"},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        s_parse(adapter_kling.parse_submit, errs[i].status, errs[i].body, &out);
        s_expect(&out, ADAPTER_ERROR, errs[i].e);
        assert_string_equal(out.code, errs[i].code);
        assert_string_equal(out.task_id, "");
    }
    s_parse(adapter_kling.parse_submit, 429,
            "{\"code\":1302,\"message\":\"too many requests\"}", &out);
    assert_string_equal(out.message, "too many requests");

    /* No answer at all: timed out, or refused. */
    rl_http_resp_t r = s_resp(0, "");
    r.timed_out = true;
    memset(&out, 0, sizeof out);
    adapter_kling.parse_submit(&r, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "timeout");
    r = s_resp(0, "");
    r.curl_code = 7;
    r.error = "Connection refused";
    memset(&out, 0, sizeof out);
    adapter_kling.parse_submit(&r, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "network");
}

/* A Kling poll answer with data {task_status, ...rest}. */
static void
s_kling_poll(const char *status, const char *rest, adapter_result_t *out)
{
    char body[2048];
    int n = snprintf(body, sizeof body,
                     "{\"code\":0,\"message\":\"\",\"request_id\":\"r\","
                     "\"data\":{\"task_id\":\"t1\",\"task_status\":\"%s\"%s}}",
                     status, rest);
    assert_true(n > 0 && (size_t)n < sizeof body);
    s_parse(adapter_kling.parse_poll, 200, body, out);
}

static void
test_kling_parse_poll(void **state)
{
    (void)state;
    adapter_result_t out;
    s_kling_poll("submitted", "", &out);
    assert_int_equal(out.state, ADAPTER_QUEUED);
    assert_int_equal(out.progress, -1);
    s_kling_poll("processing", "", &out);
    assert_int_equal(out.state, ADAPTER_RUNNING);
    s_kling_poll("succeed",
                 ",\"task_status_msg\":\"\",\"final_unit_deduction\":\"1\","
                 "\"task_result\":{\"videos\":[{\"id\":\"v1\",\"url\":"
                 "\"https://cdn.klingai.com/v1.mp4\",\"duration\":\"5.1\"}]}",
                 &out);
    assert_int_equal(out.state, ADAPTER_SUCCEEDED);
    assert_int_equal(out.error, ADAPTER_ERR_NONE);
    assert_string_equal(out.output_url, "https://cdn.klingai.com/v1.mp4");
    s_kling_poll("succeed", ",\"task_result\":{\"videos\":[]}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.output_url, "");
    s_kling_poll("succeed", "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);

    s_kling_poll("failed",
                 ",\"task_status_msg\":\"Failure to pass the risk control "
                 "system: content policy\"",
                 &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    assert_string_equal(out.code, "task_failed");
    assert_non_null(strstr(out.message, "content policy"));
    s_kling_poll("failed",
                 ",\"task_status_msg\":\"Resource exhausted, try "
                 "later\"",
                 &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    s_kling_poll("failed", ",\"task_status_msg\":\"image too small\"", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.message, "image too small");
    s_kling_poll("failed", "", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);

    s_kling_poll("exploded", "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");

    s_parse(adapter_kling.parse_poll, 200,
            "{\"code\":0,\"data\":{\"task_id\":\"t1\"}}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_kling.parse_poll, 200, "{\"code\":0,\"data\":{\"task_",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");
    s_parse(adapter_kling.parse_poll, 503,
            "<html><head><title>503 Service Temporarily Unavailable</title>"
            "</head></html>",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_kling.parse_poll, 404,
            "{\"code\":1203,\"message\":\"task not found\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    s_parse(adapter_kling.parse_poll, 200, "[]", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
}

/* ---- Seedance ----------------------------------------------------- */

static void
test_seedance_build_submit(void **state)
{
    (void)state;
    adapter_job_t j = s_t2v;
    j.upstream_model = "seedance-1-0-pro-250528";
    adapter_request_t req;
    memset(&req, 0, sizeof req);
    assert_int_equal(adapter_seedance.build_submit(&s_ark, &j, NOW_S, &req), 0);
    assert_string_equal(req.method, "POST");
    assert_string_equal(req.url, "https://ark.ap-southeast.bytepluses.com"
                                 "/api/v3/contents/generations/tasks");
    assert_string_equal(s_header(&req, "Authorization"), "Bearer ark-key-789");
    assert_string_equal(s_header(&req, "Content-Type"), "application/json");
    json_t *b = s_body(&req);
    assert_string_equal(s_str(b, "model"), "seedance-1-0-pro-250528");
    json_t *content = json_object_get(b, "content");
    assert_int_equal(json_array_size(content), 1);
    json_t *text = json_array_get(content, 0);
    assert_string_equal(s_str(text, "type"), "text");
    const char *t = s_str(text, "text");
    assert_non_null(t);
    assert_memory_equal(t, "a red fox in snow ", 18);
    assert_non_null(strstr(t, "--dur 5"));
    assert_non_null(strstr(t, "--rt 16:9"));
    json_decref(b);
    adapter_request_release(&req);

    /* With an image: a first_frame image_url item follows the text. */
    j = s_i2v;
    assert_int_equal(adapter_seedance.build_submit(&s_ark, &j, NOW_S, &req), 0);
    b = s_body(&req);
    content = json_object_get(b, "content");
    assert_int_equal(json_array_size(content), 2);
    t = s_str(json_array_get(content, 0), "text");
    assert_non_null(strstr(t, "--dur 10"));
    assert_non_null(strstr(t, "--rt 1:1"));
    json_t *img = json_array_get(content, 1);
    assert_string_equal(s_str(img, "type"), "image_url");
    assert_string_equal(s_str(json_object_get(img, "image_url"), "url"),
                        "https://img.example.com/fox.png");
    assert_string_equal(s_str(img, "role"), "first_frame");
    json_decref(b);
    adapter_request_release(&req);
}

static void
test_seedance_build_poll_and_cancel(void **state)
{
    (void)state;
    adapter_request_t req;
    memset(&req, 0, sizeof req);
    assert_int_equal(
        adapter_seedance.build_poll(&s_ark, &s_t2v, "cgt-1", NOW_S, &req), 0);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.url, "https://ark.ap-southeast.bytepluses.com"
                                 "/api/v3/contents/generations/tasks/cgt-1");
    assert_string_equal(s_header(&req, "Authorization"), "Bearer ark-key-789");
    assert_null(req.body);
    adapter_request_release(&req);

    assert_non_null(adapter_seedance.build_cancel);
    assert_int_equal(
        adapter_seedance.build_cancel(&s_ark, &s_t2v, "cgt-1", NOW_S, &req), 0);
    assert_string_equal(req.method, "DELETE");
    assert_string_equal(req.url, "https://ark.ap-southeast.bytepluses.com"
                                 "/api/v3/contents/generations/tasks/cgt-1");
    assert_string_equal(s_header(&req, "Authorization"), "Bearer ark-key-789");
    adapter_request_release(&req);
}

static void
test_seedance_parse_submit(void **state)
{
    (void)state;
    adapter_result_t out;
    s_parse(adapter_seedance.parse_submit, 200,
            "{\"id\":\"cgt-20250331175019-68d9t\"}", &out);
    assert_int_equal(out.state, ADAPTER_QUEUED);
    assert_int_equal(out.error, ADAPTER_ERR_NONE);
    assert_string_equal(out.task_id, "cgt-20250331175019-68d9t");

    static const struct {
        long status;
        const char *code;
        adapter_error_t e;
    } errs[] = {
        {429, "RateLimitExceeded.EndpointRPMExceeded",
         ADAPTER_ERR_RATE_LIMITED},
        {429, "RequestBurstTooFast", ADAPTER_ERR_RATE_LIMITED},
        {429, "ServerOverloaded", ADAPTER_ERR_CAPACITY},
        {429, "InflightBatchsizeExceeded", ADAPTER_ERR_CAPACITY},
        {429, "SetLimitExceeded", ADAPTER_ERR_PERMANENT},
        {400, "InputTextSensitiveContentDetected",
         ADAPTER_ERR_CONTENT_REJECTED},
        {400, "InputImageSensitiveContentDetected",
         ADAPTER_ERR_CONTENT_REJECTED},
        {400, "InvalidParameter", ADAPTER_ERR_PERMANENT},
        {403, "AccountOverdueError", ADAPTER_ERR_PERMANENT},
        {404, "ModelNotOpen", ADAPTER_ERR_PERMANENT},
        {500, "InternalServiceError", ADAPTER_ERR_TRANSIENT},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"error\":{\"code\":\"%s\",\"message\":\"m%zu\","
                 "\"param\":\"\",\"type\":\"t\"}}",
                 errs[i].code, i);
        s_parse(adapter_seedance.parse_submit, errs[i].status, body, &out);
        s_expect(&out, ADAPTER_ERROR, errs[i].e);
        assert_string_equal(out.code, errs[i].code);
        char msg[16];
        snprintf(msg, sizeof msg, "m%zu", i);
        assert_string_equal(out.message, msg);
    }

    s_parse(adapter_seedance.parse_submit, 200, "{\"id\":\"cgt-1\"", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");
    s_parse(adapter_seedance.parse_submit, 200, "{}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_seedance.parse_submit, 502, "<html>bad gateway</html>",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_seedance.parse_submit, 429, "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
    rl_http_resp_t r = s_resp(0, "");
    r.timed_out = true;
    memset(&out, 0, sizeof out);
    adapter_seedance.parse_submit(&r, &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "timeout");
}

/* An Ark task object with status and extra members. */
static void
s_ark_poll(const char *status, const char *rest, adapter_result_t *out)
{
    char body[2048];
    int n = snprintf(body, sizeof body,
                     "{\"id\":\"cgt-1\",\"model\":\"seedance-1-0-pro-250528\","
                     "\"status\":\"%s\",\"created_at\":1743414619,"
                     "\"updated_at\":1743414673%s}",
                     status, rest);
    assert_true(n > 0 && (size_t)n < sizeof body);
    s_parse(adapter_seedance.parse_poll, 200, body, out);
}

static void
test_seedance_parse_poll(void **state)
{
    (void)state;
    adapter_result_t out;
    s_ark_poll("queued", ",\"error\":null", &out);
    assert_int_equal(out.state, ADAPTER_QUEUED);
    assert_int_equal(out.progress, -1);
    s_ark_poll("running", "", &out);
    assert_int_equal(out.state, ADAPTER_RUNNING);
    s_ark_poll("succeeded",
               ",\"error\":null,\"content\":{\"video_url\":"
               "\"https://ark-content.example/v.mp4?sig=1\"},\"seed\":10,"
               "\"resolution\":\"720p\",\"ratio\":\"16:9\",\"duration\":5,"
               "\"framespersecond\":24,\"usage\":{\"completion_tokens\":"
               "108900}",
               &out);
    assert_int_equal(out.state, ADAPTER_SUCCEEDED);
    assert_string_equal(out.output_url,
                        "https://ark-content.example/v.mp4?sig=1");
    s_ark_poll("succeeded", ",\"content\":{}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);

    s_ark_poll("failed",
               ",\"error\":{\"code\":\"OutputVideoSensitiveContentDetected\","
               "\"message\":\"output flagged\"}",
               &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CONTENT_REJECTED);
    assert_string_equal(out.code, "OutputVideoSensitiveContentDetected");
    assert_string_equal(out.message, "output flagged");
    s_ark_poll("failed",
               ",\"error\":{\"code\":\"InvalidParameter\",\"message\":\"x\"}",
               &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    s_ark_poll("failed", ",\"error\":null", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "failed");
    s_ark_poll("expired", "", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_CAPACITY);
    assert_string_equal(out.code, "expired");
    s_ark_poll("cancelled", "", &out);
    s_expect(&out, ADAPTER_FAILED, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "cancelled");
    s_ark_poll("paused", "", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");

    s_parse(adapter_seedance.parse_poll, 200, "{\"id\":\"cgt-1\",\"stat", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    assert_string_equal(out.code, "malformed");
    s_parse(adapter_seedance.parse_poll, 200, "{\"id\":\"cgt-1\"}", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_seedance.parse_poll, 404,
            "{\"error\":{\"code\":\"ResourceNotFound\",\"message\":\"gone\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_PERMANENT);
    assert_string_equal(out.code, "ResourceNotFound");
    s_parse(adapter_seedance.parse_poll, 500,
            "{\"error\":{\"code\":\"InternalServiceError\",\"message\":\"x\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_seedance.parse_poll, 503, "<html>503</html>", &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_TRANSIENT);
    s_parse(adapter_seedance.parse_poll, 429,
            "{\"error\":{\"code\":\"RateLimitExceeded.EndpointRPMExceeded\","
            "\"message\":\"slow down\"}}",
            &out);
    s_expect(&out, ADAPTER_ERROR, ADAPTER_ERR_RATE_LIMITED);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adapter_find),
        cmocka_unit_test(test_request_helpers),
        cmocka_unit_test(test_copy_and_result_error),
        cmocka_unit_test(test_copy_and_result_error_utf8),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_result_http),
        cmocka_unit_test(test_kling_jwt),
        cmocka_unit_test(test_kling_jwt_cache),
        cmocka_unit_test(test_kling_build_submit_t2v),
        cmocka_unit_test(test_kling_build_submit_i2v),
        cmocka_unit_test(test_kling_build_poll_and_cancel),
        cmocka_unit_test(test_kling_parse_submit),
        cmocka_unit_test(test_kling_parse_poll),
        cmocka_unit_test(test_seedance_build_submit),
        cmocka_unit_test(test_seedance_build_poll_and_cancel),
        cmocka_unit_test(test_seedance_parse_submit),
        cmocka_unit_test(test_seedance_parse_poll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
