/*
 * fuzz_sim_script - the provider simulator's directive grammar
 * ("[sim key=value ...]" in a prompt, tools/sim_script.h) and the pure
 * decisions made from a parsed script: the state a poll shows, what a
 * poll or a submit answers, the prompt's counting key.
 *
 * Input: byte 0 the API, bytes 1-2 a poll number, bytes 3-6 the elapsed
 * time in ms, then the prompt up to a newline, then the simulator's
 * name (none when empty).
 *
 * Properties: every member of a parsed script is within its documented
 * range; the decisions return members of their enums, and a poll that
 * does not answer normally gives no answered-poll number.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "rl_ptype.h"
#include "sim_script.h"

#define S_MAX_MS 86400000

static void
s_check_script(const struct sim_script *sc)
{
    FZ_CHECK(sc->render_ms >= 0 && sc->render_ms <= S_MAX_MS, "render_ms");
    FZ_CHECK(sc->queue_ms >= 0 && sc->queue_ms <= S_MAX_MS, "queue_ms");
    FZ_CHECK(sc->steps >= 0 && sc->steps <= 10000, "steps %d", sc->steps);
    FZ_CHECK(sc->submit >= SIM_SUBMIT_OK && sc->submit <= SIM_SUBMIT_HANG,
             "submit %d", (int)sc->submit);
    FZ_CHECK(sc->fail >= SIM_FAIL_NONE && sc->fail <= SIM_FAIL_EXPIRED,
             "fail %d", (int)sc->fail);
    FZ_CHECK(sc->malformed >= SIM_MALFORMED_NONE &&
                 sc->malformed <= SIM_MALFORMED_POLL,
             "malformed %d", (int)sc->malformed);
    FZ_CHECK(sc->submit_times >= -1 && sc->fail_after_polls >= -1 &&
                 sc->malformed_times >= -1 && sc->poll_hang >= 0 &&
                 sc->poll_5xx >= 0,
             "a negative count");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    rl_ptype_t api = (rl_ptype_t)(fz_u8(&in) % RL_PTYPE_COUNT);
    unsigned poll = fz_u16(&in);
    int64_t elapsed = ((int64_t)fz_u16(&in) << 16) | fz_u16(&in);
    char *prompt = fz_str(&in, '\n', NULL);
    char *name = fz_rest(&in, NULL);
    struct sim_script sc;
    unsigned answered = 0;
    sim_poll_t p;
    sim_state_t st;
    sim_submit_t sub;

    fz_setup();
    sim_script_parse(prompt, name[0] != '\0' ? name : NULL, rl_ptype_name(api),
                     &sc);
    s_check_script(&sc);
    p = sim_script_poll(&sc, poll + 1, &answered);
    FZ_CHECK(p >= SIM_POLL_ANSWER && p <= SIM_POLL_MALFORMED, "poll %d",
             (int)p);
    FZ_CHECK(p == SIM_POLL_ANSWER || answered == 0,
             "a poll that does not answer has answered number %u", answered);
    st = sim_script_state(&sc, answered > 0 ? answered : 1, elapsed);
    FZ_CHECK(st >= SIM_ST_QUEUED && st < SIM_ST_COUNT, "state %d", (int)st);
    sub = sim_script_submit(&sc, poll);
    FZ_CHECK(sub >= SIM_SUBMIT_OK && sub <= SIM_SUBMIT_MALFORMED, "submit %d",
             (int)sub);
    (void)sim_script_counts_submits(&sc);
    FZ_CHECK(sim_script_prompt_key_len(prompt) <= strlen(prompt),
             "a key longer than its prompt");
    free(name);
    free(prompt);
    return 0;
}
