/*
 * test_archive_file - rl_archive_file: the daily file names both ways,
 * appends (the directory 0700 and the file 0600 made when missing, a
 * line left half-written ended first, a directory that cannot be made
 * refused with its reason), and the bounded line reader (a long line
 * skipped, a last line without its newline, blank lines, NUL bytes).
 * SPDX-License-Identifier: MIT
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rl_archive_file.h"
#include "rl_date.h"

#define S_DAY 1709164800000LL /* 2024-02-29 */

static void
test_names(void **state)
{
    (void)state;
    char name[RL_ARCHIVE_NAME_LEN];
    rl_archive_kind_t kind;
    int64_t day;
    assert_int_equal(rl_archive_file_name(name, RL_ARCHIVE_JOB, S_DAY + 5), 0);
    assert_string_equal(name, "jobs-2024-02-29.jsonl");
    assert_int_equal(rl_archive_file_name(name, RL_ARCHIVE_LEDGER, S_DAY), 0);
    assert_string_equal(name, "ledger-2024-02-29.jsonl");
    assert_int_equal(rl_archive_file_name(name, RL_ARCHIVE_JOB, -1), -1);
    assert_int_equal(
        rl_archive_file_parse_name("ledger-2024-02-29.jsonl", &kind, &day), 0);
    assert_int_equal(kind, RL_ARCHIVE_LEDGER);
    assert_int_equal(day, S_DAY);
    assert_int_equal(
        rl_archive_file_parse_name("jobs-2024-02-29.jsonl", &kind, &day), 0);
    assert_int_equal(kind, RL_ARCHIVE_JOB);
    static const char *const bad[] = {
        "jobs-2024-02-30.jsonl",
        "jobs-2024-02-29.json",
        "jobs-2024-02-29.jsonl.gz",
        "job-2024-02-29.jsonl",
        "jobs-2024-2-29.jsonl",
        "ledger-.jsonl",
        ".",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rl_archive_file_parse_name(bad[i], &kind, &day), -1);
}

/* A fresh directory (caller removes it) and dir/archive in *sub. */
static void
s_dirs(char *top, size_t len, char *sub, size_t sub_len)
{
    char tmpl[] = "/tmp/test_archive_file_XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    snprintf(top, len, "%s", tmpl);
    snprintf(sub, sub_len, "%s/archive", tmpl);
}

static char *
s_read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
test_append(void **state)
{
    (void)state;
    char top[256], dir[300], path[400], why[256];
    struct stat st;
    s_dirs(top, sizeof top, dir, sizeof dir);
    mode_t old = umask(0);
    assert_int_equal(rl_archive_file_append(dir, RL_ARCHIVE_JOB, S_DAY,
                                            "{\"a\":1}\n", 8, why, sizeof why),
                     0);
    umask(old);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    snprintf(path, sizeof path, "%s/jobs-2024-02-29.jsonl", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* A crash cut a line short: the next append ends it first. */
    FILE *f = fopen(path, "a");
    fputs("{\"torn", f);
    fclose(f);
    assert_int_equal(rl_archive_file_append(dir, RL_ARCHIVE_JOB, S_DAY + 1,
                                            "{\"b\":2}\n", 8, why, sizeof why),
                     0);
    char *all = s_read_all(path);
    assert_string_equal(all, "{\"a\":1}\n{\"torn\n{\"b\":2}\n");
    free(all);

    /* The next day, another file. */
    assert_int_equal(rl_archive_file_append(dir, RL_ARCHIVE_LEDGER,
                                            S_DAY + RL_DATE_DAY_MS, "x\n", 2,
                                            why, sizeof why),
                     0);
    snprintf(path, sizeof path, "%s/ledger-2024-03-01.jsonl", dir);
    assert_int_equal(stat(path, &st), 0);
    unlink(path);
    snprintf(path, sizeof path, "%s/jobs-2024-02-29.jsonl", dir);
    unlink(path);
    rmdir(dir);

    /* A directory whose parent is missing is refused, with why. */
    snprintf(path, sizeof path, "%s/no/such", top);
    assert_int_equal(rl_archive_file_append(path, RL_ARCHIVE_JOB, S_DAY, "x\n",
                                            2, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "mkdir"));
    rmdir(top);
}

static void
test_read_lines(void **state)
{
    (void)state;
    static const char text[] = "short\n"
                               "a line far too long for the cap\n"
                               "\n"
                               "nul\0inside\n"
                               "last without newline";
    FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
    assert_non_null(f);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 20, &len),
                     RL_ARCHIVE_READ_LINE);
    assert_int_equal(len, 5);
    assert_string_equal(buf, "short");
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 20, &len),
                     RL_ARCHIVE_READ_TOO_LONG);
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 20, &len),
                     RL_ARCHIVE_READ_LINE);
    assert_int_equal(len, 0);
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 20, &len),
                     RL_ARCHIVE_READ_LINE);
    assert_int_equal(len, 10);
    assert_memory_equal(buf, "nul\0inside", 10);
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 20, &len),
                     RL_ARCHIVE_READ_LINE);
    assert_string_equal(buf, "last without newline");
    assert_true(cap <= 21);
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 20, &len),
                     RL_ARCHIVE_READ_EOF);
    free(buf);
    fclose(f);

    /* An empty first line grows the buffer no further than the cap
     * (found by fuzz_archive: corpus/archive/regress-empty-line-cap). */
    f = fmemopen((void *)"\nab", 3, "r");
    buf = NULL;
    cap = 0;
    assert_int_equal(rl_archive_file_read_line(f, &buf, &cap, 4, &len),
                     RL_ARCHIVE_READ_LINE);
    assert_int_equal(len, 0);
    assert_true(cap <= 5);
    free(buf);
    fclose(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_read_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
