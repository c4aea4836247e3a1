/*
 * rl_crash - exits at the named crash point chosen by REELAY_CRASH_AT.
 * SPDX-License-Identifier: MIT
 */
#include "rl_crash.h"

#ifdef REELAY_CRASH_POINTS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
rl_crash_point(const char *name)
{
    const char *at = getenv("REELAY_CRASH_AT");
    if (at != NULL && strcmp(at, name) == 0) {
        fprintf(stderr, "reelay[%d]: crash point '%s' reached: exiting\n",
                (int)getpid(), name);
        _exit(99);
    }
}
#else
typedef int rl_crash_disabled_t;
#endif
