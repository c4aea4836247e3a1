/*
 * test_deliverer_stdsig - Standard Webhooks signing: the published
 * vector, two signatures during a secret rotation, the webhook-id, and
 * the headers of every scheme (the CreativeAI ones kept byte for byte by
 * default), X-Reelay-Timestamp / -Sequence, and account fields with
 * sealed secrets and the rotation's expiry.
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rl_apikey.h"
#include "rl_crypto.h"
#include "stdsig.h"
#include "webhook.h"

/* docs/webhooks.md, Standard Webhooks scheme, verbatim. */
static const char s_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char s_msg_id[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
static const int64_t s_ts = 1614265330;
static const char s_body[] = "{\"test\": 2432232314}";
static const char s_sig[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
static const char s_other[] = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";

static void
test_vector(void **state)
{
    char sig[STDSIG_SIG_LEN];

    (void)state;
    assert_int_equal(
        stdsig_sign(s_secret, s_msg_id, s_ts, s_body, strlen(s_body), sig), 0);
    assert_string_equal(sig, s_sig);
    /* the prefix is optional */
    assert_int_equal(
        stdsig_sign(s_secret + 6, s_msg_id, s_ts, s_body, strlen(s_body), sig),
        0);
    assert_string_equal(sig, s_sig);
    assert_int_equal(
        stdsig_sign(s_secret, s_msg_id, s_ts + 1, s_body, strlen(s_body), sig),
        0);
    assert_string_not_equal(sig, s_sig);
    assert_int_equal(
        stdsig_sign("whsec_!!!", s_msg_id, s_ts, s_body, strlen(s_body), sig),
        -1);
    assert_int_equal(
        stdsig_sign("whsec_", s_msg_id, s_ts, s_body, strlen(s_body), sig), -1);
}

/* docs/webhooks.md's reelay-shaped vector: the contract's body as a
 * Standard Webhooks delivery of vgen_abc123 at its completed_at. */
static void
test_readme_vector(void **state)
{
    static const char body[] =
        "{\"id\":\"vgen_abc123\",\"object\":\"video.generation\","
        "\"status\":\"completed\",\"model\":\"kling-v3\",\"prompt\":"
        "\"Product reveal animation on white background\",\"output_url\":"
        "\"https://cdn.creativeai.run/output/video-abc123.mp4\",\"credits\":"
        "3,\"failover_used\":false,\"completed_at\":"
        "\"2026-03-10T14:23:01Z\"}";
    char id[STDSIG_ID_MAX];
    char sig[STDSIG_SIG_LEN];

    (void)state;
    assert_int_equal(stdsig_msg_id("vgen_abc123", "completed", id, sizeof id),
                     0);
    assert_string_equal(id, "msg_vgen_abc123_completed");
    assert_int_equal(
        stdsig_sign(s_secret, id, 1773152581, body, strlen(body), sig), 0);
    assert_string_equal(sig, "v1,Q4lR0S5cJTgCSz9dIQDLQh2fM6I/XqeU32mXjQeChIU=");
}

static void
test_rotation(void **state)
{
    const char *both[] = {s_other, s_secret};
    const char *one[] = {s_secret, NULL};
    const char *none[] = {NULL, ""};
    char other_sig[STDSIG_SIG_LEN];
    char want[2 * STDSIG_SIG_LEN];
    char out[2 * STDSIG_SIG_LEN];

    (void)state;
    assert_int_equal(
        stdsig_sign(s_other, s_msg_id, s_ts, s_body, strlen(s_body), other_sig),
        0);
    snprintf(want, sizeof want, "%s %s", other_sig, s_sig);
    assert_int_equal(stdsig_header(both, 2, s_msg_id, s_ts, s_body,
                                   strlen(s_body), out, sizeof out),
                     0);
    assert_string_equal(out, want);
    assert_int_equal(stdsig_header(one, 2, s_msg_id, s_ts, s_body,
                                   strlen(s_body), out, sizeof out),
                     0);
    assert_string_equal(out, s_sig);
    assert_int_equal(stdsig_header(none, 2, s_msg_id, s_ts, s_body,
                                   strlen(s_body), out, sizeof out),
                     -1);
    assert_int_equal(
        stdsig_header(both, 2, s_msg_id, s_ts, s_body, strlen(s_body), out, 50),
        -1);
}

static void
test_msg_id(void **state)
{
    char id[STDSIG_ID_MAX];

    (void)state;
    assert_int_equal(stdsig_msg_id("vgen_abc", "completed", id, sizeof id), 0);
    assert_string_equal(id, "msg_vgen_abc_completed");
    assert_int_equal(stdsig_msg_id("vgen_abc", "completed", id, 10), -1);
}

static const char *const s_kv[] = {
    "id",
    "vgen_abc123",
    "status",
    "completed",
    "model",
    "kling-v3",
    "prompt",
    "p",
    "credits",
    "3",
    "created_at",
    "1773152521000",
    "completed_at",
    "1773152581000",
    "history",
    "[{\"status\":\"pending\",\"at\":1773152521000},"
    "{\"status\":\"processing\",\"at\":1773152522000},"
    "{\"status\":\"completed\",\"at\":1773152581000}]",
};

#define S_SRC(kv)                                                              \
    {                                                                          \
        (kv), sizeof(kv) / sizeof((kv)[0]) / 2                                 \
    }

/* The header list as one string, lines separated by '\n'. */
static void
s_join(const webhook_req_t *w, char *out, size_t len)
{
    size_t used = 0;

    out[0] = '\0';
    for (size_t i = 0; w->headers[i] != NULL; i++)
        used += (size_t)snprintf(out + used, len - used, "%s\n", w->headers[i]);
}

static void
test_headers(void **state)
{
    rl_jobview_src_t src = S_SRC(s_kv);
    webhook_opts_t o = {
        2, s_ts, WEBHOOK_SIGN_CREATIVEAI, "rk_k", {s_secret, NULL}};
    char sig[WEBHOOK_SIG_LEN], std[STDSIG_SIG_LEN], want[2048], got[2048];
    webhook_req_t w;

    (void)state;
    assert_int_equal(webhook_sequence(&src), 3);
    assert_int_equal(webhook_build_opts(&w, &src, &o), 0);
    assert_int_equal(webhook_sign("rk_k", w.body, w.body_len, sig), 0);
    snprintf(want, sizeof want,
             "Content-Type: application/json\n"
             "X-CreativeAI-Event: video.generation.completed\n"
             "X-CreativeAI-Delivery-Id: vgen_abc123\n"
             "X-CreativeAI-Signature: %s\n"
             "X-Reelay-Attempt: 2\nUser-Agent: reelay/1\n"
             "X-Reelay-Timestamp: 1614265330\nX-Reelay-Sequence: 3\n",
             sig);
    s_join(&w, got, sizeof got);
    assert_string_equal(got, want);

    o.schemes = WEBHOOK_SIGN_STANDARD;
    webhook_release(&w);
    assert_int_equal(webhook_build_opts(&w, &src, &o), 0);
    assert_int_equal(stdsig_sign(s_secret, "msg_vgen_abc123_completed", s_ts,
                                 w.body, w.body_len, std),
                     0);
    snprintf(want, sizeof want,
             "Content-Type: application/json\n"
             "X-CreativeAI-Event: video.generation.completed\n"
             "X-CreativeAI-Delivery-Id: vgen_abc123\n"
             "X-Reelay-Attempt: 2\nUser-Agent: reelay/1\n"
             "X-Reelay-Timestamp: 1614265330\nX-Reelay-Sequence: 3\n"
             "webhook-id: msg_vgen_abc123_completed\n"
             "webhook-timestamp: 1614265330\nwebhook-signature: %s\n",
             std);
    s_join(&w, got, sizeof got);
    assert_string_equal(got, want);

    o.schemes = WEBHOOK_SIGN_CREATIVEAI | WEBHOOK_SIGN_STANDARD;
    webhook_release(&w);
    assert_int_equal(webhook_build_opts(&w, &src, &o), 0);
    assert_int_equal(w.headers[11] != NULL, 0);
    assert_non_null(strstr(w.headers[3], "X-CreativeAI-Signature: sha256="));
    assert_string_equal(w.headers[10] + strlen("webhook-signature: "), std);
    webhook_release(&w);

    o.secrets[0] = NULL; /* standard without a secret cannot sign */
    assert_int_equal(webhook_build_opts(&w, &src, &o), -1);
    assert_int_equal(webhook_schemes(NULL), WEBHOOK_SIGN_CREATIVEAI);
    assert_int_equal(webhook_schemes("creativeai"), WEBHOOK_SIGN_CREATIVEAI);
    assert_int_equal(webhook_schemes("standard"), WEBHOOK_SIGN_STANDARD);
    assert_int_equal(webhook_schemes("both"), 3);
    assert_int_equal(webhook_schemes("bogus"), WEBHOOK_SIGN_CREATIVEAI);
}

/* Account fields: sealed secrets open, the previous one signs only until
 * its expiry. */
static void
test_account(void **state)
{
    uint8_t master[RL_AEAD_KEY_LEN];
    char key[256], cur[256], prev[256], got[2048];
    const char *kv[2 * 16];
    size_t n = 0;
    webhook_req_t w;
    const char *why = NULL;
    const char *sig;

    (void)state;
    memset(master, 7, sizeof master);
    assert_true(rl_aead_seal(master, "rk_k", 4, key, sizeof key) > 0);
    assert_true(
        rl_aead_seal(master, s_secret, strlen(s_secret), cur, sizeof cur) > 0);
    assert_true(
        rl_aead_seal(master, s_other, strlen(s_other), prev, sizeof prev) > 0);
    for (size_t i = 0; i < sizeof s_kv / sizeof s_kv[0]; i++)
        kv[n++] = s_kv[i];
    kv[n++] = WEBHOOK_F_SIGNING;
    kv[n++] = "standard";
    kv[n++] = WEBHOOK_F_SECRET;
    kv[n++] = cur;
    kv[n++] = WEBHOOK_F_PREV;
    kv[n++] = prev;
    kv[n++] = WEBHOOK_F_PREV_UNTIL;
    kv[n++] = "1614265331000";
    rl_jobview_src_t src = {kv, n / 2};

    assert_int_equal(webhook_build(&w, &src, master, key, 1, s_ts * 1000, &why),
                     0);
    s_join(&w, got, sizeof got);
    assert_null(strstr(got, "X-CreativeAI-Signature"));
    sig = strstr(got, "webhook-signature: ");
    assert_non_null(sig);
    assert_non_null(strstr(strstr(sig, "v1,") + 3, " v1,")); /* two */
    webhook_release(&w);
    /* after the expiry only the current secret signs */
    assert_int_equal(
        webhook_build(&w, &src, master, key, 1, 1614265331000, &why), 0);
    s_join(&w, got, sizeof got);
    sig = strstr(got, "webhook-signature: ");
    assert_null(strstr(strstr(sig, "v1,") + 3, " v1,")); /* one */
    webhook_release(&w);
    /* a secret sealed under another master key does not open */
    memset(master, 8, sizeof master);
    assert_int_equal(webhook_build(&w, &src, master, key, 1, s_ts * 1000, &why),
                     -1);
    assert_string_equal(why, "webhook secret missing or cannot be opened");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),   cmocka_unit_test(test_readme_vector),
        cmocka_unit_test(test_rotation), cmocka_unit_test(test_msg_id),
        cmocka_unit_test(test_headers),  cmocka_unit_test(test_account),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
