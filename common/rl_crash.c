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

bool
rl_fault_drop(const char *what)
{
    char name[64] = "REELAY_DROP_";
    size_t n = strlen(name);
    for (const char *c = what; *c && n + 1 < sizeof name; c++, n++)
        name[n] = (char)((*c >= 'a' && *c <= 'z') ? *c - 32 : *c);
    name[n] = '\0';
    const char *v = getenv(name);
    if (v == NULL)
        return false;
    double p = strtod(v, NULL);
    if (!(p > 0 && (double)random() / RAND_MAX < p))
        return false;
    /* Said, so a test can tell its fault was injected. */
    fprintf(stderr, "reelay[%d]: fault point: %s dropped\n", (int)getpid(),
            what);
    return true;
}
#else
typedef int rl_crash_disabled_t;
#endif
