/*
 * test_proto - round trips of every rl_proto message and the decoder's
 * refusal of garbage, truncation and every broken limit.
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "rl_alloc.h"
#include "rl_proto.h"

#define RANDOM_ROUNDS 4000
#define RANDOM_MAX_LEN 96
#define MUTATE_ROUNDS 4000
#define RANDOM_SEED 0x5eed1234u

/* A hand-built frame, for messages the encoder refuses to write. */
typedef struct {
    msgpack_sbuffer sb; /* the frame */
    msgpack_packer pk;  /* writes into sb */
} raw_t;

static void
raw_open(raw_t *r)
{
    msgpack_sbuffer_init(&r->sb);
    msgpack_packer_init(&r->pk, &r->sb, msgpack_sbuffer_write);
}

/* Starts a frame [version, type, nargs more items...]. */
static void
raw_init(raw_t *r, int64_t version, int64_t type, size_t nargs)
{
    raw_open(r);
    msgpack_pack_array(&r->pk, 2 + nargs);
    msgpack_pack_int64(&r->pk, version);
    msgpack_pack_int64(&r->pk, type);
}

static void
raw_str(raw_t *r, const char *s, size_t n)
{
    msgpack_pack_str_with_body(&r->pk, s, n);
}

static void
raw_cstr(raw_t *r, const char *s)
{
    raw_str(r, s, strlen(s));
}

/* A message that failed to decode must hold nothing. */
static void
assert_released(const rl_msg_t *m)
{
    assert_null(m->sign_key);
    assert_null(m->api_key);
    assert_null(m->idempotency_key);
    assert_null(m->body);
    assert_null(m->fields);
    assert_int_equal(m->nfields, 0);
    assert_int_equal(m->acct[0], '\0');
}

/* Decodes buf expecting failure with reason `want` (NULL: any). */
static void
expect_reject(const void *buf, size_t len, const char *want)
{
    rl_msg_t m;
    const char *why = NULL;

    rl_msg_init(&m, RL_MSG_DISPATCH);
    assert_int_equal(rl_proto_decode(buf, len, &m, &why), -1);
    assert_non_null(why);
    if (want != NULL)
        assert_string_equal(why, want);
    assert_released(&m);
}

/* Decodes the raw frame expecting `want`, then frees it. */
static void
raw_reject(raw_t *r, const char *want)
{
    expect_reject(r->sb.data, r->sb.size, want);
    msgpack_sbuffer_destroy(&r->sb);
}

/* Decodes the raw frame, which must be accepted, and frees it. */
static void
raw_accept(raw_t *r, rl_msg_t *out)
{
    const char *why = "unset";

    rl_msg_init(out, RL_MSG_DISPATCH);
    if (rl_proto_decode(r->sb.data, r->sb.size, out, &why) != 0)
        fail_msg("rejected: %s", why);
    msgpack_sbuffer_destroy(&r->sb);
}

/* Encodes in, decodes into out and checks the common parts. */
static void
round_trip(const rl_msg_t *in, rl_msg_t *out)
{
    char *buf = NULL;
    size_t len = 0;
    const char *why = NULL;

    assert_int_equal(rl_proto_encode(in, &buf, &len), 0);
    assert_non_null(buf);
    assert_true(len > 0 && len <= RL_PROTO_MAX_FRAME);
    rl_msg_init(out, RL_MSG_HELLO);
    if (rl_proto_decode(buf, len, out, &why) != 0)
        fail_msg("decode: %s", why);
    assert_int_equal(out->type, in->type);
    free(buf);
}

static void
set_id(char *dst, const char *src)
{
    size_t n = strlen(src);

    assert_true(n <= RL_PROTO_MAX_ID);
    memcpy(dst, src, n + 1);
}

static void
make_completion(rl_msg_t *m)
{
    rl_msg_init(m, RL_MSG_COMPLETION);
    set_id(m->acct, "acct-1");
    set_id(m->job_id, "job-42");
    set_id(m->status, "completed");
    m->sign_key = rl_strdup("whsec_abc");
    assert_int_equal(rl_msg_add_field(m, "webhook_url", "http://x/y"), 0);
    assert_int_equal(rl_msg_add_field(m, "video_url", "s3://v.mp4"), 0);
    assert_int_equal(rl_msg_add_field(m, "error", ""), 0);
    assert_int_equal(rl_msg_add_field(m, "attempts", "3"), 0);
}

/* One valid encoding of each type, caller frees. */
static void
encode_each(rl_msg_type_t type, char **buf, size_t *len)
{
    rl_msg_t m;

    rl_msg_init(&m, type);
    set_id(m.acct, "a");
    set_id(m.job_id, "j");
    set_id(m.sender, "w1");
    set_id(m.incarnation, "inc");
    set_id(m.status, "failed");
    m.credit = 4;
    m.http_status = 202;
    if (type == RL_MSG_COMPLETION)
        assert_int_equal(rl_msg_add_field(&m, "k", "v"), 0);
    m.body = rl_strdup("{}");
    assert_int_equal(rl_proto_encode(&m, buf, len), 0);
    rl_msg_release(&m);
}

static void
test_type_names(void **state)
{
    (void)state;
    assert_string_equal(rl_proto_type_name(RL_MSG_DISPATCH), "dispatch");
    assert_string_equal(rl_proto_type_name(RL_MSG_COMPLETION), "completion");
    assert_string_equal(rl_proto_type_name(RL_MSG_REPLY), "reply");
    assert_string_equal(rl_proto_type_name((rl_msg_type_t)0), "unknown");
    assert_string_equal(rl_proto_type_name((rl_msg_type_t)99), "unknown");
}

static void
test_dispatch(void **state)
{
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    rl_msg_init(&in, RL_MSG_DISPATCH);
    set_id(in.acct, "acct-7");
    set_id(in.job_id, "01HZX");
    round_trip(&in, &out);
    assert_string_equal(out.acct, "acct-7");
    assert_string_equal(out.job_id, "01HZX");
    rl_msg_release(&out);
    rl_msg_release(&in);
}

static void
test_hello_and_credit(void **state)
{
    rl_msg_type_t types[] = {RL_MSG_HELLO, RL_MSG_CREDIT};
    int64_t credits[] = {0, 1, (int64_t)1 << 31};

    (void)state;
    for (size_t t = 0; t < 2; t++) {
        for (size_t c = 0; c < 3; c++) {
            rl_msg_t in;
            rl_msg_t out;

            rl_msg_init(&in, types[t]);
            set_id(in.sender, "worker-3");
            in.credit = credits[c];
            round_trip(&in, &out);
            assert_string_equal(out.sender, "worker-3");
            assert_int_equal(out.credit, credits[c]);
            rl_msg_release(&out);
        }
    }
}

static void
test_heartbeat(void **state)
{
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    rl_msg_init(&in, RL_MSG_HEARTBEAT);
    set_id(in.sender, "broker");
    set_id(in.incarnation, "b7c1f0");
    in.inflight = 17;
    round_trip(&in, &out);
    assert_string_equal(out.sender, "broker");
    assert_string_equal(out.incarnation, "b7c1f0");
    assert_int_equal(out.inflight, 17);
    rl_msg_release(&out);
}

static void
test_completion(void **state)
{
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    make_completion(&in);
    round_trip(&in, &out);
    assert_string_equal(out.acct, "acct-1");
    assert_string_equal(out.job_id, "job-42");
    assert_string_equal(out.status, "completed");
    assert_string_equal(out.sign_key, "whsec_abc");
    assert_int_equal(out.nfields, 4);
    assert_string_equal(rl_msg_field(&out, "webhook_url"), "http://x/y");
    assert_string_equal(rl_msg_field(&out, "video_url"), "s3://v.mp4");
    assert_string_equal(rl_msg_field(&out, "error"), "");
    assert_string_equal(rl_msg_field(&out, "attempts"), "3");
    assert_null(rl_msg_field(&out, "missing"));
    rl_msg_release(&out);
    rl_msg_release(&in);
}

static void
test_completion_failed_no_fields(void **state)
{
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    rl_msg_init(&in, RL_MSG_COMPLETION);
    set_id(in.acct, "a");
    set_id(in.job_id, "j");
    set_id(in.status, "failed");
    round_trip(&in, &out); /* a NULL sign_key travels as "" */
    assert_string_equal(out.status, "failed");
    assert_string_equal(out.sign_key, "");
    assert_int_equal(out.nfields, 0);
    rl_msg_release(&out);
}

static void
test_submit(void **state)
{
    static const char body[] = "{\"prompt\":\"a cat\"}";
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    rl_msg_init(&in, RL_MSG_SUBMIT);
    in.api_key = rl_strdup("key_live_1");
    in.idempotency_key = rl_strdup("");
    in.body = rl_strdup(body);
    in.body_len = sizeof(body) - 1;
    round_trip(&in, &out);
    assert_string_equal(out.api_key, "key_live_1");
    assert_string_equal(out.idempotency_key, "");
    assert_int_equal(out.body_len, sizeof(body) - 1);
    assert_memory_equal(out.body, body, sizeof(body));
    rl_msg_release(&out);
    rl_msg_release(&in);
}

static void
test_reply(void **state)
{
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    rl_msg_init(&in, RL_MSG_REPLY);
    in.http_status = 202;
    in.body = rl_strdup("{\"id\":\"j\"}"); /* body_len 0: strlen used */
    round_trip(&in, &out);
    assert_int_equal(out.http_status, 202);
    assert_int_equal(out.body_len, strlen("{\"id\":\"j\"}"));
    assert_string_equal(out.body, "{\"id\":\"j\"}");
    rl_msg_release(&out);
    rl_msg_release(&in);
}

static void
test_max_sizes_accepted(void **state)
{
    char id[RL_PROTO_MAX_ID + 1];
    rl_msg_t in;
    rl_msg_t out;

    (void)state;
    memset(id, 'x', RL_PROTO_MAX_ID);
    id[RL_PROTO_MAX_ID] = '\0';
    rl_msg_init(&in, RL_MSG_SUBMIT);
    in.api_key = rl_strdup(id);
    in.body = rl_calloc(1, RL_PROTO_MAX_STRING);
    in.body_len = RL_PROTO_MAX_STRING; /* all NUL bytes: body is binary */
    round_trip(&in, &out);
    assert_int_equal(out.body_len, RL_PROTO_MAX_STRING);
    assert_string_equal(out.api_key, id);
    rl_msg_release(&out);
    rl_msg_release(&in);
}

static void
test_release_twice(void **state)
{
    rl_msg_t m;

    (void)state;
    make_completion(&m);
    rl_msg_release(&m);
    assert_int_equal(m.type, RL_MSG_COMPLETION);
    assert_released(&m);
    rl_msg_release(&m);
}

static void
test_empty_and_not_array(void **state)
{
    static const uint8_t not_array[][3] = {
        {0x01}, {0xc0}, {0x80}, {0xa1, 'x'}, {0x91, 0x01}, {0x92, 0x01, 0xc3},
    };
    static const size_t lens[] = {1, 1, 1, 2, 2, 3};

    (void)state;
    expect_reject("", 0, "empty frame");
    expect_reject(NULL, 0, "empty frame");
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
        expect_reject(not_array[i], lens[i], NULL);
}

static uint32_t
next_random(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Any outcome but a crash is fine; an accepted message must be valid. */
static void
decode_anything(const uint8_t *buf, size_t len)
{
    rl_msg_t m;
    const char *why = NULL;

    rl_msg_init(&m, RL_MSG_DISPATCH);
    if (rl_proto_decode(buf, len, &m, &why) == 0) {
        assert_string_not_equal(rl_proto_type_name(m.type), "unknown");
        rl_msg_release(&m);
    } else {
        assert_non_null(why);
        assert_released(&m);
    }
}

static void
test_random_bytes(void **state)
{
    uint8_t buf[RANDOM_MAX_LEN];
    uint32_t x = RANDOM_SEED;

    (void)state;
    for (int round = 0; round < RANDOM_ROUNDS; round++) {
        size_t len = next_random(&x) % RANDOM_MAX_LEN;

        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)next_random(&x);
        if (len > 0 && round % 2 == 0)
            buf[0] = (uint8_t)(0x90 | (round % 8)); /* look like a message */
        decode_anything(buf, len);
    }
}

static void
test_mutated_encodings(void **state)
{
    uint32_t x = RANDOM_SEED;

    (void)state;
    for (int round = 0; round < MUTATE_ROUNDS; round++) {
        rl_msg_type_t type = (rl_msg_type_t)(1 + round % 7);
        char *buf;
        size_t len;
        int flips = 1 + (int)(next_random(&x) % 3);

        encode_each(type, &buf, &len);
        for (int f = 0; f < flips; f++)
            buf[next_random(&x) % len] = (char)next_random(&x);
        decode_anything((const uint8_t *)buf, len);
        free(buf);
    }
}

static void
test_truncated(void **state)
{
    (void)state;
    for (int t = RL_MSG_DISPATCH; t <= RL_MSG_REPLY; t++) {
        char *buf;
        size_t len;

        encode_each((rl_msg_type_t)t, &buf, &len);
        for (size_t n = 0; n < len; n++)
            expect_reject(buf, n, NULL);
        free(buf);
    }
}

static void
test_trailing_bytes(void **state)
{
    char *buf;
    size_t len;

    (void)state;
    encode_each(RL_MSG_DISPATCH, &buf, &len);
    buf = rl_realloc(buf, len + 1);
    buf[len] = 0x00;
    expect_reject(buf, len + 1, "trailing bytes");
    free(buf);
}

static void
test_wrong_version_and_type(void **state)
{
    static const int64_t versions[] = {0, 2, -1, INT64_MAX};
    static const int64_t types[] = {0, 8, -1, 99};
    raw_t r;

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        raw_init(&r, versions[i], RL_MSG_DISPATCH, 2);
        raw_cstr(&r, "a");
        raw_cstr(&r, "j");
        raw_reject(&r, "unsupported version");
    }
    for (size_t i = 0; i < 4; i++) {
        raw_init(&r, RL_PROTO_VERSION, types[i], 2);
        raw_cstr(&r, "a");
        raw_cstr(&r, "j");
        raw_reject(&r, "unknown message type");
    }
    raw_open(&r);
    msgpack_pack_array(&r.pk, 2); /* version as a string */
    raw_cstr(&r, "1");
    msgpack_pack_int64(&r.pk, RL_MSG_DISPATCH);
    raw_reject(&r, "unsupported version");
}

static void
test_field_count(void **state)
{
    raw_t r;

    (void)state;
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 3);
    raw_cstr(&r, "a");
    raw_cstr(&r, "j");
    raw_cstr(&r, "extra");
    raw_reject(&r, "wrong number of fields");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 1);
    raw_cstr(&r, "a");
    raw_reject(&r, "wrong number of fields");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_HELLO, 0);
    raw_reject(&r, "wrong number of fields");
}

static void
test_wrong_field_types(void **state)
{
    raw_t r;

    (void)state;
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 2);
    msgpack_pack_int64(&r.pk, 5); /* an int where acct goes */
    raw_cstr(&r, "j");
    raw_reject(&r, "expected a string");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 2);
    raw_cstr(&r, "a");
    msgpack_pack_nil(&r.pk);
    raw_reject(&r, "expected a string");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_HELLO, 2);
    raw_cstr(&r, "w");
    raw_cstr(&r, "5"); /* a string where credit goes */
    raw_reject(&r, "expected an integer");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_CREDIT, 2);
    raw_cstr(&r, "w");
    msgpack_pack_double(&r.pk, 5.0);
    raw_reject(&r, "expected an integer");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_SUBMIT, 3);
    raw_cstr(&r, "k");
    raw_cstr(&r, "");
    msgpack_pack_bin_with_body(&r.pk, "{}", 2); /* bin is not str */
    raw_reject(&r, "expected a string");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
    raw_cstr(&r, "a");
    raw_cstr(&r, "j");
    raw_cstr(&r, "completed");
    raw_cstr(&r, "");
    msgpack_pack_array(&r.pk, 0); /* fields must be a map */
    raw_reject(&r, "expected a map");
}

static void
test_completion_map_types(void **state)
{
    raw_t r;

    (void)state;
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
    raw_cstr(&r, "a");
    raw_cstr(&r, "j");
    raw_cstr(&r, "completed");
    raw_cstr(&r, "");
    msgpack_pack_map(&r.pk, 1);
    raw_cstr(&r, "k");
    msgpack_pack_int64(&r.pk, 1); /* value must be a string */
    raw_reject(&r, "expected a string");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
    raw_cstr(&r, "a");
    raw_cstr(&r, "j");
    raw_cstr(&r, "completed");
    raw_cstr(&r, "");
    msgpack_pack_map(&r.pk, 2);
    raw_cstr(&r, "k");
    raw_cstr(&r, "1");
    raw_cstr(&r, "k");
    raw_cstr(&r, "2");
    raw_reject(&r, "duplicate field");
}

static void
test_long_ids(void **state)
{
    char id[RL_PROTO_MAX_ID + 2];
    rl_msg_t m;
    rl_msg_t out;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    memset(id, 'i', sizeof(id));
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 2);
    raw_str(&r, id, RL_PROTO_MAX_ID + 1);
    raw_cstr(&r, "j");
    raw_reject(&r, "id too long");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 2);
    raw_str(&r, id, RL_PROTO_MAX_ID);
    raw_cstr(&r, "j");
    raw_accept(&r, &out);
    assert_int_equal(strlen(out.acct), RL_PROTO_MAX_ID);
    rl_msg_release(&out);

    rl_msg_init(&m, RL_MSG_DISPATCH); /* an unterminated id array */
    memset(m.acct, 'i', sizeof(m.acct));
    set_id(m.job_id, "j");
    assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    assert_null(buf);
    assert_int_equal(len, 0);
}

static void
test_empty_ids(void **state)
{
    rl_msg_t m;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    rl_msg_init(&m, RL_MSG_HELLO);
    assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_HELLO, 2);
    raw_cstr(&r, "");
    msgpack_pack_int64(&r.pk, 1);
    raw_reject(&r, "empty id");
}

static void
test_nul_in_strings(void **state)
{
    raw_t r;

    (void)state;
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 2);
    raw_str(&r, "ac\0ct", 5);
    raw_cstr(&r, "j");
    raw_reject(&r, "NUL byte in a string");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_SUBMIT, 3);
    raw_str(&r, "key\0", 4);
    raw_cstr(&r, "");
    raw_cstr(&r, "{}");
    raw_reject(&r, "NUL byte in a string");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
    raw_cstr(&r, "a");
    raw_cstr(&r, "j");
    raw_cstr(&r, "failed");
    raw_cstr(&r, "");
    msgpack_pack_map(&r.pk, 1);
    raw_cstr(&r, "k");
    raw_str(&r, "v\0v", 3);
    raw_reject(&r, "NUL byte in a string");
}

/* msgpack's str is UTF-8, and every reader renders ids and fields as
 * JSON: a string that is not is refused both ways; a body is bytes. */
static void
test_strings_not_utf8(void **state)
{
    rl_msg_t m, out;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_DISPATCH, 2);
    raw_cstr(&r, "acct_\xff");
    raw_cstr(&r, "j");
    raw_reject(&r, "string not UTF-8");
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
    raw_cstr(&r, "a");
    raw_cstr(&r, "task_1");
    raw_cstr(&r, "completed");
    raw_cstr(&r, "");
    msgpack_pack_map(&r.pk, 1);
    raw_cstr(&r, "id");
    raw_cstr(&r, "task_\xe2\x82"); /* a character cut short */
    raw_reject(&r, "string not UTF-8");
    make_completion(&m);
    assert_int_equal(rl_msg_add_field(&m, "prompt", "\xc0\xaf"), 0);
    assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    rl_msg_release(&m);
    rl_msg_init(&m, RL_MSG_SUBMIT);
    m.api_key = rl_strdup("rk_\xe2\x82\xac"); /* a whole euro sign */
    m.body = rl_strdup("{\xff}");
    round_trip(&m, &out);
    assert_string_equal(out.api_key, "rk_\xe2\x82\xac");
    assert_string_equal(out.body, "{\xff}");
    rl_msg_release(&out);
    rl_msg_release(&m);
}

static void
test_counts_out_of_range(void **state)
{
    static const int64_t bad[] = {-1, INT64_MIN, ((int64_t)1 << 31) + 1,
                                  INT64_MAX};
    rl_msg_t m;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw_init(&r, RL_PROTO_VERSION, RL_MSG_CREDIT, 2);
        raw_cstr(&r, "w");
        msgpack_pack_int64(&r.pk, bad[i]);
        raw_reject(&r, "integer out of range");
        rl_msg_init(&m, RL_MSG_HELLO);
        set_id(m.sender, "w");
        m.credit = bad[i];
        assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    }
    raw_init(&r, RL_PROTO_VERSION, RL_MSG_HEARTBEAT, 3);
    raw_cstr(&r, "w");
    raw_cstr(&r, "inc");
    msgpack_pack_uint64(&r.pk, UINT64_MAX); /* beyond int64 */
    raw_reject(&r, "expected an integer");
}

static void
test_http_status(void **state)
{
    static const int64_t bad[] = {0, 99, 600, -200, 1000};
    static const int64_t good[] = {100, 200, 599};
    rl_msg_t m;
    rl_msg_t out;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw_init(&r, RL_PROTO_VERSION, RL_MSG_REPLY, 2);
        msgpack_pack_int64(&r.pk, bad[i]);
        raw_cstr(&r, "{}");
        raw_reject(&r, "integer out of range");
        rl_msg_init(&m, RL_MSG_REPLY);
        m.http_status = bad[i];
        assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        rl_msg_init(&m, RL_MSG_REPLY);
        m.http_status = good[i];
        round_trip(&m, &out);
        assert_int_equal(out.http_status, good[i]);
        assert_string_equal(out.body, "");
        rl_msg_release(&out);
    }
}

static void
test_too_many_fields(void **state)
{
    char key[16];
    rl_msg_t m;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    make_completion(&m);
    while (m.nfields < RL_PROTO_MAX_FIELDS) {
        snprintf(key, sizeof(key), "f%zu", m.nfields);
        assert_int_equal(rl_msg_add_field(&m, key, "v"), 0);
    }
    assert_int_equal(rl_msg_add_field(&m, "one", "more"), -1);
    assert_int_equal(rl_proto_encode(&m, &buf, &len), 0);
    free(buf);
    rl_msg_release(&m);

    raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
    raw_cstr(&r, "a");
    raw_cstr(&r, "j");
    raw_cstr(&r, "completed");
    raw_cstr(&r, "");
    msgpack_pack_map(&r.pk, RL_PROTO_MAX_FIELDS + 1);
    for (size_t i = 0; i <= RL_PROTO_MAX_FIELDS; i++) {
        snprintf(key, sizeof(key), "f%zu", i);
        raw_cstr(&r, key);
        raw_cstr(&r, "v");
    }
    raw_reject(&r, "too many fields");
}

static void
test_bad_status(void **state)
{
    static const char *bad[] = {"running", "", "Completed", "completed "};
    rl_msg_t m;
    char *buf = NULL;
    size_t len = 0;
    raw_t r;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw_init(&r, RL_PROTO_VERSION, RL_MSG_COMPLETION, 5);
        raw_cstr(&r, "a");
        raw_cstr(&r, "j");
        raw_cstr(&r, bad[i]);
        raw_cstr(&r, "");
        msgpack_pack_map(&r.pk, 0);
        raw_reject(&r, NULL);
        make_completion(&m);
        set_id(m.status, bad[i]);
        assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
        rl_msg_release(&m);
    }
}

static void
test_oversize(void **state)
{
    char *big = rl_malloc(RL_PROTO_MAX_FRAME + 2);
    char *buf = NULL;
    size_t len = 0;
    rl_msg_t m;
    raw_t r;

    (void)state;
    memset(big, 'b', RL_PROTO_MAX_FRAME + 1);
    big[RL_PROTO_MAX_FRAME + 1] = '\0';
    expect_reject(big, RL_PROTO_MAX_FRAME + 1, "frame too large");

    raw_init(&r, RL_PROTO_VERSION, RL_MSG_REPLY, 2); /* body too long */
    msgpack_pack_int64(&r.pk, 200);
    raw_str(&r, big, RL_PROTO_MAX_STRING + 1);
    raw_reject(&r, "string too long");

    rl_msg_init(&m, RL_MSG_SUBMIT);
    m.api_key = rl_strndup(big, RL_PROTO_MAX_STRING + 1);
    assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    rl_msg_release(&m);

    make_completion(&m); /* each field fits, the frame does not */
    for (int i = 0; i < 5; i++) {
        char key[8];

        snprintf(key, sizeof(key), "big%d", i);
        assert_int_equal(rl_msg_add_field(&m, key,
                                          big + RL_PROTO_MAX_FRAME + 1 -
                                              RL_PROTO_MAX_STRING),
                         0);
    }
    assert_int_equal(rl_proto_encode(&m, &buf, &len), -1);
    assert_null(buf);
    rl_msg_release(&m);
    free(big);
}

static void
test_huge_container_headers(void **state)
{
    static const uint8_t array32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map32[] = {0x93, 0x01, 0x05, 0xdf,
                                    0xff, 0xff, 0xff, 0xff};
    uint8_t chain[3 * 1000];

    (void)state;
    expect_reject(array32, sizeof(array32), "malformed msgpack");
    expect_reject(map32, sizeof(map32), "malformed msgpack");
    for (size_t i = 0; i < sizeof(chain); i += 3) {
        chain[i] = 0xdc; /* array 16 of 65535, nested */
        chain[i + 1] = 0xff;
        chain[i + 2] = 0xff;
    }
    expect_reject(chain, sizeof(chain), "malformed msgpack");
}

static void
test_deep_nesting(void **state)
{
    uint8_t deep[200];

    (void)state;
    memset(deep, 0x91, sizeof(deep) - 1); /* [[[[...1]]]] */
    deep[sizeof(deep) - 1] = 0x01;
    expect_reject(deep, sizeof(deep), NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_names),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_hello_and_credit),
        cmocka_unit_test(test_heartbeat),
        cmocka_unit_test(test_completion),
        cmocka_unit_test(test_completion_failed_no_fields),
        cmocka_unit_test(test_submit),
        cmocka_unit_test(test_reply),
        cmocka_unit_test(test_max_sizes_accepted),
        cmocka_unit_test(test_release_twice),
        cmocka_unit_test(test_empty_and_not_array),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_mutated_encodings),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_wrong_version_and_type),
        cmocka_unit_test(test_field_count),
        cmocka_unit_test(test_wrong_field_types),
        cmocka_unit_test(test_completion_map_types),
        cmocka_unit_test(test_long_ids),
        cmocka_unit_test(test_empty_ids),
        cmocka_unit_test(test_nul_in_strings),
        cmocka_unit_test(test_strings_not_utf8),
        cmocka_unit_test(test_counts_out_of_range),
        cmocka_unit_test(test_http_status),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_bad_status),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_huge_container_headers),
        cmocka_unit_test(test_deep_nesting),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
