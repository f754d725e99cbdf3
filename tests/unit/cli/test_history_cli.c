/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark history query` (src/cli/cmd_history.c) against a history.db
 * written here with known samples: the exact CSV and JSON of raw pages
 * (numbers as short as they read back, qualities and reasons by name,
 * the cursor on stderr or in next_cursor), trends (empty statistics for
 * empty buckets, the value in force before the range), and the errors
 * with their exit statuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 2026-01-01T00:00:00Z */
#define T0 1767225600000000LL
#define MS 1000LL

static const uint8_t key[32] = {9};
static const char *const names[] = {"Flow", "Other"};
static char dir[64];

static const struct bw_sample samples[] = {
    {T0 + 100 * MS, 0.1, BW_QUALITY_GOOD, BW_REASON_NONE},
    {T0 + 200 * MS, 3, BW_QUALITY_GOOD, BW_REASON_NONE},
    {T0 + 300 * MS, -2.5, BW_QUALITY_UNCERTAIN, BW_REASON_LAST_KNOWN},
    {T0 + 400 * MS, 7, BW_QUALITY_BAD, BW_REASON_COMM_FAILURE},
    {T0 + 500 * MS, 1e300, BW_QUALITY_GOOD, BW_REASON_NONE},
};

static int setup(void **state)
{
    (void)state;
    char path[128];
    bw_strlcpy(dir, "/tmp/bw-test-history-cli-XXXXXX", sizeof(dir));
    if (!mkdtemp(dir) || bw_snprintf(path, sizeof(path), "%s/history.db", dir) != BW_OK)
        return -1;
    struct bw_store_config cfg = {
        .path = path, .key = key, .key_len = sizeof(key), .tag_names = names, .tag_count = 2};
    struct bw_store *st = NULL;
    if (bw_store_open(&cfg, &st) != BW_OK)
        return -1;
    for (size_t i = 0; i < BW_ARRAY_LEN(samples); i++)
        if (bw_store_append(st, 0, &samples[i]) != BW_OK)
            return -1;
    int rc = bw_store_flush(st);
    bw_store_close(st);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    if (bw_snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) != BW_OK)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- running the command with its output captured ----------------- */

static char out_text[16384], err_text[4096];

static void slurp(FILE *f, char *buf, size_t size)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `bulwark history query --state DIR ARGS...` (a NULL-terminated
 * list); its stdout and stderr land in out_text and err_text. */
static int run(const char *first, ...)
{
    char *argv[24];
    int argc = 0;
    argv[argc++] = (char *)"--state";
    argv[argc++] = dir;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    assert_true(dup2(fileno(out), 1) >= 0 && dup2(fileno(err), 2) >= 0);
    const struct bw_cli_command *cmd = bw_cli_history_command.subs[0];
    struct bw_cli_args args;
    int status = BW_CLI_EXIT_USAGE;
    if (bw_cli_args_parse(cmd, argc, argv, &args) == BW_CLI_PARSE_OK)
        status = cmd->run(&args);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(out, out_text, sizeof(out_text));
    slurp(err, err_text, sizeof(err_text));
    return status;
}

#define FROM "--from", "2026-01-01T00:00:00Z"
#define TO "--to", "2026-01-01T00:00:01Z"

/* ---- raw samples -------------------------------------------------- */

static void test_raw_csv(void **state)
{
    (void)state;
    assert_int_equal(run("--tag", "Flow", FROM, TO, NULL), BW_CLI_EXIT_OK);
    assert_string_equal(out_text, "time,value,quality,reason\r\n"
                                  "2026-01-01T00:00:00.100000Z,0.1,good,none\r\n"
                                  "2026-01-01T00:00:00.200000Z,3,good,none\r\n"
                                  "2026-01-01T00:00:00.300000Z,-2.5,uncertain,last_known_value\r\n"
                                  "2026-01-01T00:00:00.400000Z,7,bad,comm_failure\r\n"
                                  "2026-01-01T00:00:00.500000Z,1e+300,good,none\r\n");
    assert_string_equal(err_text, "");
}

static void test_raw_pages(void **state)
{
    (void)state;
    assert_int_equal(run("--tag", "Flow", FROM, TO, "--limit", "2", NULL), BW_CLI_EXIT_OK);
    assert_string_equal(out_text, "time,value,quality,reason\r\n"
                                  "2026-01-01T00:00:00.100000Z,0.1,good,none\r\n"
                                  "2026-01-01T00:00:00.200000Z,3,good,none\r\n");
    assert_string_equal(err_text, "# more: --cursor 1767225600200000\n");
    assert_int_equal(run("--tag", "Flow", FROM, TO, "--limit", "2", "--cursor", "1767225600200000",
                         "--format", "json", NULL),
                     BW_CLI_EXIT_OK);
    assert_string_equal(out_text, "{\"tag\":\"Flow\",\"samples\":[\n"
                                  "{\"time\":\"2026-01-01T00:00:00.300000Z\",\"value\":-2.5,"
                                  "\"quality\":\"uncertain\",\"reason\":\"last_known_value\"},\n"
                                  "{\"time\":\"2026-01-01T00:00:00.400000Z\",\"value\":7,"
                                  "\"quality\":\"bad\",\"reason\":\"comm_failure\"}\n"
                                  "],\"next_cursor\":1767225600400000}\n");
    assert_int_equal(
        run("--tag", "Flow", FROM, TO, "--cursor", "1767225600400000", "--format", "json", NULL),
        BW_CLI_EXIT_OK);
    assert_non_null(strstr(out_text, "\"value\":1e+300,"));
    assert_non_null(strstr(out_text, "],\"next_cursor\":null}\n"));
    assert_string_equal(err_text, "");
}

static void test_raw_empty(void **state)
{
    (void)state;
    assert_int_equal(run("--tag", "Other", FROM, TO, NULL), BW_CLI_EXIT_OK);
    assert_string_equal(out_text, "time,value,quality,reason\r\n");
    assert_int_equal(run("--tag", "Other", FROM, TO, "--format", "json", NULL), BW_CLI_EXIT_OK);
    assert_string_equal(out_text, "{\"tag\":\"Other\",\"samples\":[],\"next_cursor\":null}\n");
}

/* ---- trends --------------------------------------------------------- */

static void test_trend_csv(void **state)
{
    (void)state;
    assert_int_equal(
        run("--tag", "Flow", FROM, "--to", "2026-01-01T00:00:02Z", "--points", "4", NULL),
        BW_CLI_EXIT_OK);
    /* The first bucket: the good and uncertain samples count (0.1, 3,
     * -2.5), the bad one only in count_all. */
    assert_string_equal(out_text,
                        "start,end,min,max,avg,first,last,count,count_all\r\n"
                        "2026-01-01T00:00:00.000000Z,2026-01-01T00:00:00.500000Z,"
                        "-2.5,3,0.20000000000000004,0.1,-2.5,3,4\r\n"
                        "2026-01-01T00:00:00.500000Z,2026-01-01T00:00:01.000000Z,"
                        "1e+300,1e+300,1e+300,1e+300,1e+300,1,1\r\n"
                        "2026-01-01T00:00:01.000000Z,2026-01-01T00:00:01.500000Z,,,,,,0,0\r\n"
                        "2026-01-01T00:00:01.500000Z,2026-01-01T00:00:02.000000Z,,,,,,0,0\r\n");
}

static void test_trend_json_before(void **state)
{
    (void)state;
    assert_int_equal(run("--tag", "Flow", "--from", "2026-01-01T00:00:00.25Z", "--to",
                         "2026-01-01T00:00:00.45Z", "--points", "1", "--format", "json", NULL),
                     BW_CLI_EXIT_OK);
    assert_string_equal(out_text,
                        "{\"tag\":\"Flow\",\"before\":{\"time\":\"2026-01-01T00:00:00.200000Z\","
                        "\"value\":3,\"quality\":\"good\",\"reason\":\"none\"},\"buckets\":[\n"
                        "{\"start\":\"2026-01-01T00:00:00.250000Z\","
                        "\"end\":\"2026-01-01T00:00:00.450000Z\",\"min\":-2.5,\"max\":-2.5,"
                        "\"avg\":-2.5,\"first\":-2.5,\"last\":-2.5,\"count\":1,\"count_all\":2}\n"
                        "]}\n");
    /* Nothing before the range (looking back as far as it is long). */
    assert_int_equal(run("--tag", "Flow", "--from", "2026-01-01T00:00:00.05Z", "--to",
                         "2026-01-01T00:00:00.06Z", "--points", "1", "--format", "json", NULL),
                     BW_CLI_EXIT_OK);
    assert_non_null(strstr(out_text, "\"before\":null,"));
    assert_non_null(strstr(out_text, "\"min\":null,"));
}

/* ---- errors --------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(run("--tag", "Nope", FROM, TO, NULL), BW_CLI_EXIT_FAIL);
    assert_string_equal(out_text, "");
    assert_string_equal(err_text, "bulwark: no history for tag Nope\n");
    assert_int_equal(run("--tag", "Nope", FROM, TO, "--points", "3", NULL), BW_CLI_EXIT_FAIL);
    assert_string_equal(err_text, "bulwark: no history for tag Nope\n");

    assert_int_equal(run("--tag", "Flow", "--from", "yesterday", TO, NULL), BW_CLI_EXIT_USAGE);
    assert_non_null(strstr(err_text, "history query: --from: "));
    assert_int_equal(run("--tag", "Flow", FROM, TO, "--points", "0", NULL), BW_CLI_EXIT_USAGE);
    assert_non_null(strstr(err_text, "--points: "));
    assert_int_equal(run("--tag", "Flow", FROM, NULL), BW_CLI_EXIT_USAGE);
    assert_non_null(strstr(err_text, "--to: is required"));
    assert_int_equal(run("--tag", "Flow", FROM, TO, "--points", "2", "--cursor", "1", NULL),
                     BW_CLI_EXIT_USAGE);
    assert_int_equal(run("--tag", "Flow", FROM, TO, "--format", "xml", NULL), BW_CLI_EXIT_USAGE);
    assert_string_equal(out_text, "");
}

static void test_no_history(void **state)
{
    (void)state;
    char saved[64];
    bw_strlcpy(saved, dir, sizeof(saved));
    bw_strlcpy(dir, "/nonexistent/bw-state", sizeof(dir));
    int status = run("--tag", "Flow", FROM, TO, NULL);
    bw_strlcpy(dir, saved, sizeof(dir));
    assert_int_equal(status, BW_CLI_EXIT_FAIL);
    assert_string_equal(err_text, "bulwark: no history in /nonexistent/bw-state (no tag is logged, "
                                  "or the daemon has not run)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_csv),           cmocka_unit_test(test_raw_pages),
        cmocka_unit_test(test_raw_empty),         cmocka_unit_test(test_trend_csv),
        cmocka_unit_test(test_trend_json_before), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_history),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
