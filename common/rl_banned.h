/*
 * rl_banned - the C functions reelay never calls, made compile errors.
 *
 * sprintf and vsprintf write without a bound, strcpy, strcat and gets
 * likewise; strncpy may leave a string unterminated; atoi and atol cannot
 * report an error; strtok keeps hidden state. Use snprintf (checking
 * its result), strtol with an end pointer and a range, strtok_r.
 *
 * Every file is compiled with this header included first (CMakeLists:
 * -include). The system headers that declare these names are included
 * here before they are poisoned, so their own declarations are not
 * errors; their include guards keep them from being read again.
 * scripts/check-source also refuses the names, for files not compiled.
 * SPDX-License-Identifier: MIT
 */
#ifndef RL_BANNED_H
#define RL_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* _FORTIFY_SOURCE may define some of them as macros. */
#undef sprintf
#undef vsprintf
#undef strcpy
#undef strcat
#undef strncpy
#undef gets
#undef atoi
#undef atol
#undef strtok

#pragma GCC poison sprintf vsprintf strcpy strcat strncpy gets atoi atol strtok

#endif
