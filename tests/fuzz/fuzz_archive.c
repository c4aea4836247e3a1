/*
 * fuzz_archive - the archive's files as `reelay export` reads them
 * (outside bytes: a file may be torn, corrupt or hostile): the bounded
 * line reader (rl_archive_file_read_line) over the whole input, and
 * each line through rl_archive_parse, as export's two passes do.
 *
 * Input: byte 0 picks the line cap (odd: 256 bytes, so the too-long path
 * runs; even: RL_ARCHIVE_LINE_MAX), the rest is the file.
 *
 * Properties: the reader never hands back more than the cap, and each
 * line holds no newline; a parsed record has a key of its kind ("j
 * A|J" or "l A:SEQ"), times >= 0 and an object; written out and parsed
 * again (what export prints is what a later export of that output would
 * read) it has the same kind, key and times.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "rl_archive.h"
#include "rl_archive_file.h"

#define S_SMALL_CAP 256

static void
s_check_record(const char *line, size_t len)
{
    rl_archive_rec_t rec, again;
    char why[256];
    if (rl_archive_parse(line, len, &rec, why, sizeof why) != 0) {
        FZ_CHECK(why[0] != '\0', "a refusal without a reason");
        return;
    }
    FZ_CHECK(json_is_object(rec.obj), "a record that is not an object");
    FZ_CHECK(rec.at >= 0 && rec.archived_at >= 0, "negative times");
    FZ_CHECK(strncmp(rec.key, rec.kind == RL_ARCHIVE_JOB ? "j " : "l ", 2) == 0,
             "key '%s' of the wrong kind", rec.key);
    char *text = json_dumps(rec.obj, JSON_COMPACT);
    FZ_CHECK(text != NULL, "a parsed record that cannot be written");
    FZ_CHECK(rl_archive_parse(text, strlen(text), &again, why, sizeof why) == 0,
             "a record written out is refused: %s", why);
    FZ_CHECK(again.kind == rec.kind && strcmp(again.key, rec.key) == 0 &&
                 again.at == rec.at && again.archived_at == rec.archived_at,
             "a record changed on its way out and back: %s", rec.key);
    fz_debug("record %s at %lld\n", rec.key, (long long)rec.at);
    rl_archive_rec_release(&again);
    rl_archive_rec_release(&rec);
    free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_setup();
    if (size == 0)
        return 0;
    size_t cap_max = data[0] & 1 ? S_SMALL_CAP : RL_ARCHIVE_LINE_MAX;
    FILE *f = fmemopen((void *)(data + 1), size - 1, "r");
    if (f == NULL)
        return 0; /* an empty buffer: fmemopen refuses size 0 */
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        rl_archive_read_t got =
            rl_archive_file_read_line(f, &buf, &cap, cap_max, &len);
        if (got == RL_ARCHIVE_READ_EOF || got == RL_ARCHIVE_READ_ERROR)
            break;
        if (got != RL_ARCHIVE_READ_LINE)
            continue;
        FZ_CHECK(len <= cap_max && cap <= cap_max + 1, "a line over the cap");
        FZ_CHECK(memchr(buf, '\n', len) == NULL, "a newline inside a line");
        s_check_record(buf, len);
    }
    free(buf);
    fclose(f);
    return 0;
}
