/*
 * test_deliverer_webhook - the signed webhook request: the CreativeAI
 * signature vector, the exact bodies of a completed and a failed job
 * built from field/value pairs, the headers, the sealed signing key, and
 * refusals.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "webhook.h"

/* docs/webhooks.md, CreativeAI scheme, verbatim. */
static const char s_key[] = "rk_test_4f9c2a7e1b8d";
static const char s_vector_body[] =
    "{\"id\":\"vgen_abc123\",\"object\":\"video.generation\","
    "\"status\":\"completed\",\"model\":\"kling-v3\",\"prompt\":\"Product "
    "reveal animation on white background\",\"output_url\":\"https://"
    "cdn.creativeai.run/output/video-abc123.mp4\",\"credits\":3,"
    "\"failover_used\":false,\"completed_at\":\"2026-03-10T14:23:01Z\"}";
static const char s_vector_header[] =
    "sha256=439b334f97f944568661381a8a5865852c2483a96884e5cfd75aa5462b749f1a";

/* The example job as stored: 2026-03-10T14:23:01Z is 1773152581000. */
static const char *const s_completed_kv[] = {
    "acct",
    "acct_1",
    "id",
    "vgen_abc123",
    "status",
    "completed",
    "model",
    "kling-v3",
    "prompt",
    "Product reveal animation on white background",
    "webhook_url",
    "https://your-app.com/webhooks/creativeai",
    "output_url",
    "https://cdn.creativeai.run/output/video-abc123.mp4",
    "credits",
    "3",
    "failover_used",
    "0",
    "created_at",
    "1773152521000",
    "completed_at",
    "1773152581000",
    "history",
    "[{\"status\":\"pending\",\"at\":1773152521000},"
    "{\"status\":\"completed\",\"phase\":\"Finishing\","
    "\"at\":1773152581000,\"reason\":\"rendered\"}]",
    "wh_attempts",
    "0",
};

/* The contract's 9 fields in its order, then elapsed time and history.
 * Signatures computed outside the project (Python hmac). */
static const char s_completed_body[] =
    "{\"id\":\"vgen_abc123\",\"object\":\"video.generation\","
    "\"status\":\"completed\",\"model\":\"kling-v3\",\"prompt\":\"Product "
    "reveal animation on white background\",\"output_url\":\"https://"
    "cdn.creativeai.run/output/video-abc123.mp4\",\"credits\":3,"
    "\"failover_used\":false,\"completed_at\":\"2026-03-10T14:23:01Z\","
    "\"elapsed_seconds\":60,\"status_history\":[{\"status\":\"pending\","
    "\"at\":\"2026-03-10T14:22:01Z\"},{\"status\":\"completed\","
    "\"phase\":\"Finishing\",\"at\":\"2026-03-10T14:23:01Z\","
    "\"reason\":\"rendered\"}]}";
static const char s_completed_sig[] =
    "X-CreativeAI-Signature: sha256="
    "0a41ec7185fdf24beb49a0bae0f43ba7d7038aeeb10d5049b2659dd2f17d66c7";

static const char *const s_failed_kv[] = {
    "id",
    "vgen_f1",
    "status",
    "failed",
    "model",
    "kling-v3",
    "prompt",
    "p",
    "credits",
    "5",
    "credits_refunded",
    "5",
    "failover_used",
    "1",
    "provider",
    "kling",
    "error_code",
    "timeout",
    "error_message",
    "job exceeded its maximum wait",
    "created_at",
    "1773152521000",
    "completed_at",
    "1773153121000",
};

static const char s_failed_body[] =
    "{\"id\":\"vgen_f1\",\"object\":\"video.generation\","
    "\"status\":\"failed\",\"model\":\"kling-v3\",\"prompt\":\"p\","
    "\"output_url\":null,\"credits\":0,\"failover_used\":true,"
    "\"error\":{\"code\":\"timeout\",\"message\":\"job exceeded its "
    "maximum wait\",\"provider\":\"kling\"},"
    "\"failed_at\":\"2026-03-10T14:32:01Z\",\"elapsed_seconds\":600,"
    "\"status_history\":[]}";
static const char s_failed_sig[] =
    "X-CreativeAI-Signature: sha256="
    "137669d4b35ce991a4fc0179a33f8268513fb4f5ceb1fbc984b9bf18a4c7a82a";

#define S_SRC(kv)                                                              \
    {                                                                          \
        (kv), sizeof(kv) / sizeof((kv)[0]) / 2                                 \
    }
#define S_NOW_MS 1773152581000LL /* 2026-03-10T14:23:01Z */

/* The CreativeAI scheme with the API key in the clear. */
static int
s_build(webhook_req_t *w, const rl_jobview_src_t *src, const char *key,
        int attempt)
{
    webhook_opts_t o = {
        attempt, S_NOW_MS / 1000, WEBHOOK_SIGN_CREATIVEAI, key, {NULL, NULL}};

    return webhook_build_opts(w, src, &o);
}

static void
test_sign_vector(void **state)
{
    char sig[WEBHOOK_SIG_LEN];

    (void)state;
    assert_int_equal(
        webhook_sign(s_key, s_vector_body, strlen(s_vector_body), sig), 0);
    assert_string_equal(sig, s_vector_header);
}

static void
test_completed(void **state)
{
    rl_jobview_src_t src = S_SRC(s_completed_kv);
    webhook_req_t w;

    (void)state;
    assert_int_equal(s_build(&w, &src, s_key, 1), 0);
    assert_string_equal(w.body, s_completed_body);
    assert_int_equal(w.body_len, strlen(s_completed_body));
    assert_string_equal(w.headers[0], "Content-Type: application/json");
    assert_string_equal(w.headers[1],
                        "X-CreativeAI-Event: video.generation.completed");
    assert_string_equal(w.headers[2], "X-CreativeAI-Delivery-Id: "
                                      "vgen_abc123");
    assert_string_equal(w.headers[3], s_completed_sig);
    assert_string_equal(w.headers[4], "X-Reelay-Attempt: 1");
    assert_string_equal(w.headers[5], "User-Agent: reelay/1");
    /* The replay-proof extras follow (test_deliverer_stdsig.c checks
     * their values); the default scheme adds no webhook-* header. */
    assert_true(strncmp(w.headers[6], "X-Reelay-Timestamp: ", 20) == 0);
    assert_string_equal(w.headers[7], "X-Reelay-Sequence: 2");
    assert_null(w.headers[8]);
    webhook_release(&w);
    assert_null(w.body);
    webhook_release(&w); /* twice is harmless */
}

static void
test_failed(void **state)
{
    rl_jobview_src_t src = S_SRC(s_failed_kv);
    webhook_req_t w;

    (void)state;
    assert_int_equal(s_build(&w, &src, s_key, 3), 0);
    assert_string_equal(w.body, s_failed_body);
    assert_string_equal(w.headers[1],
                        "X-CreativeAI-Event: video.generation.failed");
    assert_string_equal(w.headers[2], "X-CreativeAI-Delivery-Id: vgen_f1");
    assert_string_equal(w.headers[3], s_failed_sig);
    assert_string_equal(w.headers[4], "X-Reelay-Attempt: 3");
    webhook_release(&w);
}

/* Signed afresh: another key gives another signature of the same body. */
static void
test_other_key(void **state)
{
    rl_jobview_src_t src = S_SRC(s_completed_kv);
    webhook_req_t w;

    (void)state;
    assert_int_equal(s_build(&w, &src, "another-key", 2), 0);
    assert_string_equal(w.body, s_completed_body);
    assert_string_not_equal(w.headers[3], s_completed_sig);
    assert_string_equal(w.headers[4], "X-Reelay-Attempt: 2");
    webhook_release(&w);
}

/* The key arrives sealed under the master key (rl_apikey); it opens to
 * the same signature, and refuses another master or an empty seal. */
static void
test_sealed_key(void **state)
{
    rl_jobview_src_t src = S_SRC(s_completed_kv);
    uint8_t master[RL_AEAD_KEY_LEN];
    uint8_t other[RL_AEAD_KEY_LEN];
    char sealed[256];
    const char *why = NULL;
    webhook_req_t w;

    (void)state;
    memset(master, 0x42, sizeof master);
    memset(other, 0x43, sizeof other);
    assert_true(
        rl_aead_seal(master, s_key, strlen(s_key), sealed, sizeof sealed) > 0);
    assert_int_equal(webhook_build(&w, &src, master, sealed, 1, S_NOW_MS, &why),
                     0);
    assert_string_equal(w.body, s_completed_body);
    assert_string_equal(w.headers[3], s_completed_sig);
    webhook_release(&w);
    assert_int_equal(webhook_build(&w, &src, other, sealed, 1, S_NOW_MS, &why),
                     -1);
    assert_non_null(why);
    assert_null(w.body);
    assert_int_equal(webhook_build(&w, &src, master, "", 1, S_NOW_MS, NULL),
                     -1);
    assert_int_equal(webhook_build(&w, &src, master, s_key, 1, S_NOW_MS, NULL),
                     -1); /* plaintext is not sealed */
}

static void
test_refusals(void **state)
{
    static const char *const pending[] = {"id", "vgen_1", "status", "pending"};
    static const char *const no_id[] = {"status", "completed"};
    static const char *const forged[] = {"id", "vgen_1\r\nX-Evil: 1", "status",
                                         "completed"};
    rl_jobview_src_t a = S_SRC(pending);
    rl_jobview_src_t b = S_SRC(no_id);
    rl_jobview_src_t c = S_SRC(forged);
    webhook_req_t w;

    (void)state;
    assert_int_equal(s_build(&w, &a, s_key, 1), -1);
    assert_null(w.body);
    assert_int_equal(s_build(&w, &b, s_key, 1), -1);
    assert_int_equal(s_build(&w, &c, s_key, 1), -1);
    assert_null(w.body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_vector), cmocka_unit_test(test_completed),
        cmocka_unit_test(test_failed),      cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_sealed_key),  cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
