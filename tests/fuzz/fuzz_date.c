/*
 * fuzz_date - the dates `reelay export` is given (--since, --until) and
 * the archive's file names it lists (rl_date_parse,
 * rl_archive_file_parse_name).
 *
 * Input: the text (up to its first NUL).
 *
 * Properties: a date accepted is a time >= 0 whose UTC day, formatted,
 * is the text's first ten characters, at midnight when the text is a
 * day alone; a file name accepted is the name rl_archive_file_name
 * makes of its kind and day.
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "rl_archive_file.h"
#include "rl_date.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in_t in = {data, size};
    char day[RL_DATE_DAY_LEN], name[RL_ARCHIVE_NAME_LEN];
    int64_t ms = -1;
    rl_archive_kind_t kind;
    fz_setup();
    char *text = fz_rest(&in, NULL);
    if (rl_date_parse(text, &ms) == 0) {
        FZ_CHECK(ms >= 0, "'%s' read as %lld", text, (long long)ms);
        FZ_CHECK(rl_date_day(ms, day) == 0 &&
                     strncmp(day, text, RL_DATE_DAY_LEN - 1) == 0,
                 "'%s' read as day %s", text, day);
        if (strlen(text) == RL_DATE_DAY_LEN - 1)
            FZ_CHECK(ms % RL_DATE_DAY_MS == 0, "'%s' not at midnight", text);
        fz_debug("%s = %lld\n", text, (long long)ms);
    }
    if (rl_archive_file_parse_name(text, &kind, &ms) == 0) {
        FZ_CHECK(rl_archive_file_name(name, kind, ms) == 0 &&
                     strcmp(name, text) == 0,
                 "file name '%s' made again as '%s'", text, name);
    }
    free(text);
    return 0;
}
