/*
 * fz_webhook - what a deliverer does with a delivery, whatever it came
 * from (a COMPLETION's fail-open path, an outbox claim): its host key
 * and its signed webhook, built as attempt.c builds it, and checked.
 * SPDX-License-Identifier: MIT
 */
#ifndef FZ_WEBHOOK_H
#define FZ_WEBHOOK_H

#include "delivery.h"

/* Builds d's webhook (webhook_build with fz_config's master key at a
 * fixed time) and checks it: the body is a JSON object, no header line
 * splits, a refusal says why. A terminal job with a broker job id
 * (vgen_ or task_ and base62), UTF-8 fields, the default scheme and a
 * key that opens must get its webhook: else it could never be
 * delivered. */
void fz_check_webhook(const delivery_t *d);

#endif
