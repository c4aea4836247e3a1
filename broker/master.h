/*
 * master - the broker's master key: what seals API keys and webhook
 * secrets. It may be missing at start (the file can be made after the
 * broker started): then it is looked for again, at most every
 * BROKER_MASTER_RETRY_MS, by a request that needs it.
 * SPDX-License-Identifier: MIT
 */
#ifndef MASTER_H
#define MASTER_H

#include <stdint.h>

#include "broker.h"

/* While no master key is loaded, how often a request that needs one
 * looks for it again. */
#define BROKER_MASTER_RETRY_MS 1000

/* Reads the master key now, whenever it was last tried (at start).
 * Returns it, or NULL when none is configured yet. Borrowed from b. */
const uint8_t *broker_master_load(broker_t *b);

/* The master key, or NULL when none is configured yet (what needs it
 * answers 503 no_master_key). While missing, read again at most every
 * BROKER_MASTER_RETRY_MS, so the loop does a small file read only then,
 * never once it has the key. Borrowed from b. */
const uint8_t *broker_master(broker_t *b);

/* Wipes the key from memory; broker_master() reads it again. */
void broker_master_wipe(broker_t *b);

#endif
