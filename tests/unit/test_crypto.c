/*
 * test_crypto - unit tests for rl_crypto against published vectors
 * (docs/webhooks.md, RFC 4648, FIPS 180-2).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rl_crypto.h"

/* CreativeAI scheme, verbatim from docs/webhooks.md. */
static const char s_seed_key[] = "rk_test_4f9c2a7e1b8d";
static const char s_seed_body[] =
    "{\"id\":\"vgen_abc123\",\"object\":\"video.generation\","
    "\"status\":\"completed\",\"model\":\"kling-v3\",\"prompt\":\"Product "
    "reveal animation on white background\",\"output_url\":\"https://"
    "cdn.creativeai.run/output/video-abc123.mp4\",\"credits\":3,"
    "\"failover_used\":false,\"completed_at\":\"2026-03-10T14:23:01Z\"}";
static const char s_seed_header[] =
    "sha256=439b334f97f944568661381a8a5865852c2483a96884e5cfd75aa5462b749f1a";

/* Standard Webhooks vector, verbatim from docs/webhooks.md. */
static const char s_wh_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char s_wh_id[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const char s_wh_timestamp[] = "1614265330";
static const char s_wh_body[] = "{\"test\": 2432232314}";
static const char s_wh_signature[] =
    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

static void
test_seed_signature(void **state)
{
    char hex[RL_SHA256_HEX_LEN];
    char header[80];

    (void)state;
    assert_int_equal(rl_hmac_sha256_hex(s_seed_key, strlen(s_seed_key),
                                        s_seed_body, strlen(s_seed_body), hex),
                     0);
    assert_int_equal(strlen(hex), 64);
    snprintf(header, sizeof header, "sha256=%s", hex);
    assert_string_equal(header, s_seed_header);
}

static void
test_standard_webhooks_signature(void **state)
{
    const char *b64_secret = s_wh_secret + strlen("whsec_");
    uint8_t key[64];
    uint8_t mac[RL_SHA256_LEN];
    char msg[128];
    char sig[64];
    int key_len;
    int n;

    (void)state;
    key_len = rl_base64_decode(b64_secret, strlen(b64_secret), key, sizeof key);
    assert_int_equal(key_len, 24);
    n = snprintf(msg, sizeof msg, "%s.%s.%s", s_wh_id, s_wh_timestamp,
                 s_wh_body);
    assert_true(n > 0 && (size_t)n < sizeof msg);
    assert_string_equal(
        msg, "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}");
    assert_int_equal(rl_hmac_sha256(key, (size_t)key_len, msg, (size_t)n, mac),
                     0);
    snprintf(sig, sizeof sig, "v1,");
    assert_int_equal(rl_base64_encode(mac, sizeof mac, sig + 3, sizeof sig - 3),
                     44);
    assert_string_equal(sig, s_wh_signature);
}

static void
test_sha256_hex(void **state)
{
    char hex[RL_SHA256_HEX_LEN];

    (void)state;
    assert_int_equal(rl_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(rl_sha256_hex("", 0, hex), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
}

static void
test_hmac_empty_key(void **state)
{
    char hex[RL_SHA256_HEX_LEN];

    (void)state;
    /* HMAC-SHA256 with an empty key and empty message (well known). */
    assert_int_equal(rl_hmac_sha256_hex("", 0, "", 0, hex), 0);
    assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5"
                             "ff1697c493715653c6c712144292c5ad");
}

static void
test_base64_rfc4648(void **state)
{
    static const char *const plain[] = {"",     "f",     "fo",    "foo",
                                        "foob", "fooba", "foobar"};
    static const char *const coded[] = {
        "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    char enc[16];
    uint8_t dec[16];

    (void)state;
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        size_t len = strlen(plain[i]);

        assert_int_equal(rl_base64_encode(plain[i], len, enc, sizeof enc),
                         (int)strlen(coded[i]));
        assert_string_equal(enc, coded[i]);
        assert_int_equal(rl_base64_decode(enc, strlen(enc), dec, sizeof dec),
                         (int)len);
        assert_memory_equal(dec, plain[i], len);
    }
}

static void
test_base64_round_trip_binary(void **state)
{
    uint8_t in[257];
    uint8_t out[257];
    char enc[400];

    (void)state;
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof in; len++) {
        int n = rl_base64_encode(in, len, enc, sizeof enc);

        assert_true(n >= 0);
        assert_int_equal(rl_base64_decode(enc, (size_t)n, out, len), (int)len);
        assert_memory_equal(in, out, len);
    }
}

static void
test_base64_unpadded_decode(void **state)
{
    uint8_t out[8];

    (void)state;
    assert_int_equal(rl_base64_decode("Zg", 2, out, sizeof out), 1);
    assert_int_equal(out[0], 'f');
    assert_int_equal(rl_base64_decode("Zm9vYmE", 7, out, sizeof out), 5);
    assert_memory_equal(out, "fooba", 5);
}

static void
test_base64_bad_input(void **state)
{
    uint8_t out[16];
    char enc[8];

    (void)state;
    assert_int_equal(rl_base64_decode("Zm9v!", 5, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Z", 1, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Zm9vY", 5, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Zg=", 3, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Zg===", 5, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Z=g=", 4, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode(" Zm9v", 5, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Zm9v\n", 5, out, sizeof out), -1);
    assert_int_equal(rl_base64_decode("Zm-_", 4, out, sizeof out), -1);
    /* Short output buffers. */
    assert_int_equal(rl_base64_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(rl_base64_encode("foobar", 6, enc, 8), -1);
    assert_int_equal(rl_base64_encode("foobar", 6, enc, 9), 8);
}

static void
test_base64url(void **state)
{
    static const uint8_t in[] = {0xfb, 0xff, 0xbf, 0xfe};
    char out[16];

    (void)state;
    assert_int_equal(rl_base64url_encode(in, 3, out, sizeof out), 4);
    assert_string_equal(out, "-_-_");
    assert_int_equal(rl_base64url_encode(in, 4, out, sizeof out), 6);
    assert_string_equal(out, "-_-__g");
    assert_int_equal(rl_base64url_encode("f", 1, out, sizeof out), 2);
    assert_string_equal(out, "Zg");
    assert_int_equal(rl_base64url_encode("", 0, out, sizeof out), 0);
    assert_string_equal(out, "");
    /* Exactly the unpadded length plus the NUL is enough. */
    assert_int_equal(rl_base64url_encode("f", 1, out, 3), 2);
    assert_int_equal(rl_base64url_encode("f", 1, out, 2), -1);
}

static void
test_random_id(void **state)
{
    char a[64];
    char b[64];

    (void)state;
    assert_int_equal(rl_random_id("vgen_", 24, a, sizeof a), 0);
    assert_int_equal(strlen(a), 5 + 24);
    assert_memory_equal(a, "vgen_", 5);
    assert_int_equal(strspn(a + 5, "0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                     24);
    assert_int_equal(rl_random_id("vgen_", 24, b, sizeof b), 0);
    assert_string_not_equal(a, b);
    /* Exact fit, then one byte short. */
    assert_int_equal(rl_random_id("k_", 10, a, 13), 0);
    assert_int_equal(strlen(a), 12);
    assert_int_equal(rl_random_id("k_", 10, a, 12), -1);
    assert_int_equal(rl_random_id("", 0, a, 1), 0);
    assert_string_equal(a, "");
    assert_int_equal(rl_random_id("", 1, a, 1), -1);
}

static void
test_random_id_distribution(void **state)
{
    enum { N_IDS = 200, N_CHARS = 62 };
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    unsigned seen[N_CHARS] = {0};
    char id[N_CHARS + 1];

    (void)state;
    for (int i = 0; i < N_IDS; i++) {
        assert_int_equal(rl_random_id("", N_CHARS, id, sizeof id), 0);
        for (int j = 0; j < N_CHARS; j++)
            seen[strchr(alphabet, id[j]) - alphabet]++;
    }
    /* 12400 draws, 200 expected per symbol: every symbol appears. */
    for (int j = 0; j < N_CHARS; j++)
        assert_true(seen[j] > 100 && seen[j] < 300);
}

static void
test_random_bytes(void **state)
{
    uint8_t a[32] = {0};
    uint8_t b[32] = {0};

    (void)state;
    assert_int_equal(rl_random_bytes(a, sizeof a), 0);
    assert_int_equal(rl_random_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(rl_random_bytes(a, 0), 0);
}

static void
test_timingsafe_equal(void **state)
{
    (void)state;
    assert_true(rl_timingsafe_equal("abc", 3, "abc", 3));
    assert_false(rl_timingsafe_equal("abc", 3, "abd", 3));
    assert_false(rl_timingsafe_equal("abc", 3, "abcd", 4));
    assert_false(rl_timingsafe_equal("abc", 3, "ab", 2));
    assert_true(rl_timingsafe_equal("", 0, "", 0));
    assert_true(rl_timingsafe_equal(s_seed_header, strlen(s_seed_header),
                                    s_seed_header, strlen(s_seed_header)));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_signature),
        cmocka_unit_test(test_standard_webhooks_signature),
        cmocka_unit_test(test_sha256_hex),
        cmocka_unit_test(test_hmac_empty_key),
        cmocka_unit_test(test_base64_rfc4648),
        cmocka_unit_test(test_base64_round_trip_binary),
        cmocka_unit_test(test_base64_unpadded_decode),
        cmocka_unit_test(test_base64_bad_input),
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_random_id),
        cmocka_unit_test(test_random_id_distribution),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_timingsafe_equal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
