/*
 * master - the broker's master key, loaded at start or, while missing,
 * looked for again now and then.
 * SPDX-License-Identifier: MIT
 */
#include "master.h"

#include <string.h>

#include "rl_apikey.h"
#include "rl_clock.h"
#include "rl_log.h"

const uint8_t *
broker_master_load(broker_t *b)
{
    b->master_tried_ms = rl_clock_mono_ms() - BROKER_MASTER_RETRY_MS;
    return broker_master(b);
}

const uint8_t *
broker_master(broker_t *b)
{
    int64_t now = rl_clock_mono_ms();
    if (!b->has_master && now - b->master_tried_ms >= BROKER_MASTER_RETRY_MS) {
        b->master_tried_ms = now;
        b->has_master = rl_apikey_master(b->cfg, b->master) == 0;
        if (b->has_master)
            rl_log_info("master key loaded");
    }
    return b->has_master ? b->master : NULL;
}

void
broker_master_wipe(broker_t *b)
{
    explicit_bzero(b->master, sizeof b->master);
    b->has_master = false;
}
