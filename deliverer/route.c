/*
 * route - the deliverer's routing decisions, pure.
 * SPDX-License-Identifier: MIT
 */
#include "route.h"

#include <assert.h>
#include <string.h>

#include "deliverer.h"

route_completion_t
route_completion(const route_completion_in_t *in)
{
    assert(in != NULL);
    if (in->queued && in->connected && in->free_slots == 0)
        return ROUTE_WAIT;
    if (in->stopping || !in->named || in->kept)
        return ROUTE_DROP;
    if (!in->connected)
        return ROUTE_FAIL_OPEN;
    return in->free_slots == 0 ? ROUTE_WAIT : ROUTE_CLAIM;
}

route_admit_t
route_admit(hostgate_verdict_t v, bool stopping)
{
    switch (v) {
    case HOSTGATE_OK:
        return ROUTE_START;
    case HOSTGATE_BUSY:
        return stopping ? ROUTE_DEFER : ROUTE_PARK;
    case HOSTGATE_OPEN:
        break;
    }
    return ROUTE_DEFER;
}

long
route_defer_ms(long wait_ms, bool draining)
{
    if (draining)
        return 0;
    return wait_ms > DELIVERER_DEFER_MS ? wait_ms : DELIVERER_DEFER_MS;
}

bool
route_launch(long left_ms, long timeout_ms)
{
    long need = timeout_ms < DELIVERER_MIN_ATTEMPT_MS
                    ? timeout_ms
                    : DELIVERER_MIN_ATTEMPT_MS;
    return left_ms >= need;
}

size_t
route_scan(bool stopped, bool scanning, bool connected, size_t free_slots)
{
    if (stopped || scanning || !connected)
        return 0;
    return free_slots;
}

bool
route_backlog(long taken, size_t asked)
{
    return taken >= 0 && (size_t)taken >= asked;
}

route_record_t
route_record(bool answered, const char *word)
{
    if (!answered)
        return ROUTE_UNKNOWN;
    if (word != NULL && strcmp(word, "ok") == 0)
        return ROUTE_RECORDED;
    if (word != NULL && strcmp(word, "stale") == 0)
        return ROUTE_STALE;
    return ROUTE_LOST;
}
