/*
 * stack - the worker's up-calls (worker.h, worker_on_t), wired once: a
 * DISPATCH to take (links.c) goes to job_claim, a slot freed or the
 * lease held again (job.c, lease.c) grants the brokers credit, the lease
 * lost (lease.c) drops every job and takes the credit back. main.c and
 * the fuzz target of the worker use the same wiring.
 * SPDX-License-Identifier: MIT
 */
#ifndef WORKER_STACK_H
#define WORKER_STACK_H

#include "worker.h"

extern const worker_on_t worker_stack_on;

#endif
