/*
 * stack - the worker's up-calls, wired once.
 * SPDX-License-Identifier: MIT
 */
#include "stack.h"

#include "job.h"
#include "links.h"

static void
s_on_dispatched(worker_t *w, const char *acct, const char *job_id)
{
    job_claim(w, acct, job_id);
}

static void
s_on_capacity(worker_t *w)
{
    links_grant(w->links);
}

static void
s_on_lease_lost(worker_t *w)
{
    job_drop_all(w, "lease lost");
    links_revoke(w->links);
}

const worker_on_t worker_stack_on = {
    .dispatched = s_on_dispatched,
    .capacity = s_on_capacity,
    .lease_lost = s_on_lease_lost,
};
