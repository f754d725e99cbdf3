/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's integrity check (bw_history_verify) on a real
 * history.db written by the store: two past days of three tags in two
 * log groups (closed chunks, minute aggregates, four partitions) and a
 * few batches of the next minute (still in recent). Untouched it
 * verifies; then each test changes the file behind the historian's back
 * with sqlite3 (edits a value, moves a chunk's end, deletes chunks in
 * the middle and at the end, inserts a forged chunk, drops partition
 * tables, deletes a partition record with its tables, edits an
 * aggregate, edits, deletes and removes recent batches, renames a tag,
 * erases a tag's whole history, changes the seal) and checks that the
 * check names what changed: the tag and the time range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/sqlite_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEC 1000000LL
#define MINUTE (60 * SEC)
#define MINUTES 5 /* per day, from 10:00 */
#define RECENT_BATCHES 5

static const uint8_t key[32] = {4, 2};
static const char *const names[] = {"T1.Level", "P1.Flow", "V1.Open"};
static const uint32_t groups[] = {0, 0, 1};

struct fixture {
    char dir[64], path[96];
    int64_t day_a, day_b; /* two and one days ago */
    int64_t next_minute;  /* where the recent samples are */
    char problems[64][256];
    char tags[64][BW_HISTORY_TAG_MAX + 1];
    size_t n;
    struct bw_history_verify_stats stats;
};

/* Start of minute k (from 10:00) of day. */
static int64_t at(int64_t day, int k)
{
    return day * 86400 * SEC + (600 + k) * MINUTE;
}

static double value_of(uint32_t tag, int64_t i)
{
    return tag == 2 ? (double)(i % 2) : tag == 0 ? 2.0 + sin((double)i / 17.0) : (double)i * 0.5;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/bw-hv-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
    int64_t now = bw_clock_realtime_us();
    f->day_b = now / (86400 * SEC) - 1;
    f->day_a = f->day_b - 1;
    f->next_minute = now - now % MINUTE + MINUTE; /* never over during the test */
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    if (bw_store_open(&cfg, &st) != BW_OK)
        return -1;
    int64_t days[] = {f->day_a, f->day_b};
    for (int d = 0; d < 2; d++)
        for (int64_t i = 0; i < MINUTES * 60; i++)
            for (uint32_t tag = 0; tag < 3; tag++) {
                struct bw_sample s = {
                    .ts_us = at(days[d], 0) + i * SEC, .value = value_of(tag, i), .quality = 2};
                if (i == 70 && tag == 1)
                    s.quality = 0; /* a bad sample counts in n_all only */
                if (bw_store_append(st, tag, &s) != BW_OK)
                    return -1;
            }
    int rc = bw_store_flush(st);
    /* One batch per flush, each with a sample of T1 and P1. */
    for (int64_t b = 0; !rc && b < RECENT_BATCHES; b++) {
        for (uint32_t tag = 0; tag < 2; tag++) {
            struct bw_sample s = {
                .ts_us = f->next_minute + b * SEC, .value = (double)b, .quality = 2};
            rc = bw_store_append(st, tag, &s);
        }
        if (!rc)
            rc = bw_store_flush(st);
    }
    bw_store_close(st);
    *state = f;
    return rc;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

/* ---- helpers ----------------------------------------------------------- */

static void collect(void *ctx, const struct bw_history_problem *p)
{
    struct fixture *f = ctx;
    if (f->n < 64) {
        snprintf(f->problems[f->n], sizeof(f->problems[0]), "%s", p->what);
        snprintf(f->tags[f->n], sizeof(f->tags[0]), "%s", p->tag);
    }
    f->n++;
}

static void run_verify(struct fixture *f)
{
    f->n = 0;
    assert_int_equal(bw_history_verify(f->path, key, sizeof(key), collect, f, &f->stats), BW_OK);
    assert_int_equal(f->stats.problems, f->n);
}

static void dump(const struct fixture *f)
{
    for (size_t i = 0; i < f->n && i < 64; i++)
        print_message("  problem: %s\n", f->problems[i]);
}

/* A problem about tag (NULL: any) whose text holds every piece given. */
static void expect(const struct fixture *f, const char *tag, const char *a, const char *b,
                   const char *c)
{
    for (size_t i = 0; i < f->n && i < 64; i++) {
        if (tag && strcmp(f->tags[i], tag) != 0)
            continue;
        const char *w = f->problems[i];
        if (strstr(w, a) && (!b || strstr(w, b)) && (!c || strstr(w, c)))
            return;
    }
    dump(f);
    fail_msg("no problem about %s with \"%s\" \"%s\" \"%s\"", tag ? tag : "-", a, b ? b : "",
             c ? c : "");
}

static void expect_count(const struct fixture *f, size_t n)
{
    if (f->n != n) {
        dump(f);
        fail_msg("%zu problems, expected %zu", f->n, n);
    }
}

/* RFC 3339 of a whole second. */
static const char *iso(int64_t us, char *out)
{
    time_t t = (time_t)(us / SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}

static const char *date(int64_t day, char *out)
{
    iso(day * 86400 * SEC, out);
    out[10] = '\0';
    return out;
}

static void sql(const struct fixture *f, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    char *err = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", text, err ? err : "?");
    sqlite3_close(db);
}

static int64_t tag_id(const struct fixture *f, const char *name)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM tags WHERE name = ?1", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return id;
}

/* Flips the last byte of a blob column of the first row a query names. */
static void flip_last_byte(const struct fixture *f, const char *table, const char *col,
                           const char *where)
{
    char q[256];
    snprintf(q, sizeof(q), "SELECT %s FROM %s WHERE %s", col, table, where);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int len = sqlite3_column_bytes(st, 0);
    assert_true(len > 0);
    uint8_t *blob = malloc((size_t)len);
    assert_non_null(blob);
    memcpy(blob, sqlite3_column_blob(st, 0), (size_t)len);
    sqlite3_finalize(st);
    blob[len - 1] ^= 0x01;
    snprintf(q, sizeof(q), "UPDATE %s SET %s = ?1 WHERE %s", table, col, where);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob, len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(db), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(blob);
}

static const char *ctable(char *out, char kind, uint32_t grp, int64_t day)
{
    sdb_table_name(out, 48, kind, grp, day);
    return out;
}

/* ---- tests ------------------------------------------------------------- */

static void test_untouched_verifies(void **state)
{
    struct fixture *f = *state;
    run_verify(f);
    expect_count(f, 0);
    assert_int_equal(f->stats.chunks, 3 * 2 * MINUTES);
    assert_int_equal(f->stats.partitions, 4);
    assert_int_equal(f->stats.batches, RECENT_BATCHES);
    assert_int_equal(f->stats.samples, 3 * 2 * MINUTES * 60 + 2 * RECENT_BATCHES);
    /* The same after the store opens and closes again (the recent
     * batches are read back, nothing is rewritten). */
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    bw_store_close(st);
    run_verify(f);
    expect_count(f, 0);
}

static void test_edit_a_value(void **state)
{
    struct fixture *f = *state;
    char t[48], where[96], a[32], b[32];
    snprintf(where, sizeof(where), "tag = %lld AND t0 = %lld", (long long)tag_id(f, "T1.Level"),
             (long long)at(f->day_a, 2));
    flip_last_byte(f, ctable(t, 'c', 0, f->day_a), "data", where);
    run_verify(f);
    expect(f, "T1.Level", "tag T1.Level: samples from", iso(at(f->day_a, 2), a),
           iso(at(f->day_a, 3) - SEC, b));
    expect(f, "T1.Level", "were changed (or inserted)", NULL, NULL);
    expect_count(f, 1);
}

static void test_move_a_chunk_end(void **state)
{
    struct fixture *f = *state;
    char t[48], a[32];
    sql(f, "UPDATE %s SET t1 = t1 - 1000000 WHERE tag = %lld AND t0 = %lld",
        ctable(t, 'c', 0, f->day_b), (long long)tag_id(f, "P1.Flow"), (long long)at(f->day_b, 1));
    run_verify(f);
    expect(f, "P1.Flow", "samples from", iso(at(f->day_b, 1), a), "were changed (or inserted)");
    expect_count(f, 1);
}

static void test_delete_a_middle_chunk(void **state)
{
    struct fixture *f = *state;
    char t[48], a[32], b[32];
    sql(f, "DELETE FROM %s WHERE tag = %lld AND t0 = %lld", ctable(t, 'c', 0, f->day_a),
        (long long)tag_id(f, "T1.Level"), (long long)at(f->day_a, 2));
    run_verify(f);
    expect(f, "T1.Level", "samples between", iso(at(f->day_a, 2) - SEC, a),
           iso(at(f->day_a, 3), b));
    expect(f, "T1.Level", "are missing (a chunk was deleted)", NULL, NULL);
    /* Its minute aggregate is left without samples. */
    expect(f, "T1.Level", "the minute aggregate at", iso(at(f->day_a, 2), a), "has none");
    expect_count(f, 2);
}

static void test_delete_the_newest_chunk(void **state)
{
    struct fixture *f = *state;
    char t[48], a[32], b[32];
    sql(f, "DELETE FROM %s WHERE tag = %lld AND t0 = %lld", ctable(t, 'c', 0, f->day_b),
        (long long)tag_id(f, "T1.Level"), (long long)at(f->day_b, MINUTES - 1));
    run_verify(f);
    expect(f, "T1.Level", "samples after", iso(at(f->day_b, MINUTES - 1) - SEC, a),
           iso(at(f->day_b, MINUTES) - SEC, b));
    expect(f, "T1.Level", "the newest chunks were deleted", NULL, NULL);
    expect(f, "T1.Level", "the minute aggregate at", iso(at(f->day_b, MINUTES - 1), a), NULL);
    expect_count(f, 2);
}

static void test_insert_a_chunk(void **state)
{
    struct fixture *f = *state;
    char t[48], a[32];
    /* A copy of a real chunk (data and MAC) ten minutes later. */
    int64_t shift = 10 * MINUTE;
    sql(f,
        "INSERT INTO %s SELECT tag, t0 + %lld, t1 + %lld, n, prev_t1, prev_grp, data, mac"
        " FROM %s WHERE tag = %lld AND t0 = %lld",
        ctable(t, 'c', 0, f->day_a), (long long)shift, (long long)shift, t,
        (long long)tag_id(f, "P1.Flow"), (long long)at(f->day_a, 3));
    run_verify(f);
    expect(f, "P1.Flow", "samples from", iso(at(f->day_a, 13), a), "were changed (or inserted)");
    expect_count(f, 1);
    /* One with a MAC of its own making, between two real ones. */
    sql(f,
        "INSERT INTO %s SELECT tag, t0 + 30000000, t1 + 1, n, prev_t1, prev_grp, data,"
        " randomblob(32) FROM %s WHERE tag = %lld AND t0 = %lld",
        t, t, (long long)tag_id(f, "P1.Flow"), (long long)at(f->day_a, 0));
    run_verify(f);
    expect(f, "P1.Flow", "samples from", iso(at(f->day_a, 0) + 30 * SEC, a), "inserted");
    expect_count(f, 2);
}

static void test_drop_partition_tables(void **state)
{
    struct fixture *f = *state;
    char t[48], d[32], a[32], b[32];
    sql(f, "DROP TABLE %s", ctable(t, 'c', 1, f->day_b));
    run_verify(f);
    expect(f, NULL, "group 1 day", date(f->day_b, d), "the partition was dropped (its chunks)");
    /* V1.Open lost its newest day: its tails row says so. */
    expect(f, "V1.Open", "samples after", iso(at(f->day_a, MINUTES) - SEC, a),
           iso(at(f->day_b, MINUTES) - SEC, b));
    expect_count(f, 2);

    sql(f, "DROP TABLE %s", ctable(t, 'm', 0, f->day_a));
    run_verify(f);
    expect(f, NULL, "group 0 day", date(f->day_a, d),
           "the partition was dropped (its minute aggregates)");
    expect_count(f, 3);
}

static void test_delete_a_partition_record_and_tables(void **state)
{
    struct fixture *f = *state;
    char t[48], a[32], b[32];
    sql(f, "DELETE FROM days WHERE grp = 1 AND day = %lld; DROP TABLE %s;", (long long)f->day_a,
        ctable(t, 'c', 1, f->day_a));
    sql(f, "DROP TABLE %s", ctable(t, 'm', 1, f->day_a));
    run_verify(f);
    /* No partition record is left to miss, but the chain of V1.Open's
     * chunks still points into the day. */
    expect(f, "V1.Open", "samples before", iso(at(f->day_b, 0), a),
           iso(at(f->day_a, MINUTES) - SEC, b));
    expect(f, "V1.Open", "were deleted", NULL, NULL);
    expect_count(f, 1);

    /* The same, dropped by retention (which marks it): no problem. */
    struct sdb db;
    assert_int_equal(sdb_open(&db, f->path, false, key, sizeof(key)), BW_OK);
    assert_int_equal(sdb_retention_mark(&db, 1, f->day_b), BW_OK);
    assert_int_equal(sdb_retention_mark(&db, 1, f->day_a), BW_OK); /* never lowered */
    sdb_close(&db);
    run_verify(f);
    expect_count(f, 0);
    /* A mark changed by hand is refused, and the day is missed again. */
    sql(f, "UPDATE meta SET value = zeroblob(40) WHERE key = 'retained_1'");
    run_verify(f);
    expect(f, NULL, "the retention mark of group 1 was changed", NULL, NULL);
    expect(f, "V1.Open", "samples before", iso(at(f->day_b, 0), a), NULL);
    expect_count(f, 2);
}

static void test_edit_an_aggregate(void **state)
{
    struct fixture *f = *state;
    char t[48], a[32];
    sql(f, "UPDATE %s SET mx = mx + 1 WHERE tag = %lld AND t = %lld", ctable(t, 'm', 0, f->day_b),
        (long long)tag_id(f, "P1.Flow"), (long long)at(f->day_b, 3));
    sql(f, "UPDATE %s SET n_all = n_all + 1 WHERE tag = %lld AND t = %lld",
        ctable(t, 'm', 1, f->day_a), (long long)tag_id(f, "V1.Open"), (long long)at(f->day_a, 0));
    run_verify(f);
    expect(f, "P1.Flow", "the minute aggregate at", iso(at(f->day_b, 3), a),
           "does not match its samples");
    expect(f, "V1.Open", "the minute aggregate at", iso(at(f->day_a, 0), a),
           "does not match its samples");
    expect_count(f, 2);
    /* A deleted aggregate row is missed. */
    sql(f, "DELETE FROM %s WHERE tag = %lld AND t = %lld", ctable(t, 'm', 0, f->day_a),
        (long long)tag_id(f, "T1.Level"), (long long)at(f->day_a, 4));
    run_verify(f);
    expect(f, "T1.Level", "the minute aggregate at", iso(at(f->day_a, 4), a), "is missing");
    expect_count(f, 3);
}

static int64_t batch_seq(const struct fixture *f, int k)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq FROM recent ORDER BY seq LIMIT 1 OFFSET ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int(st, 1, k);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t seq = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return seq;
}

static void test_edit_a_recent_batch(void **state)
{
    struct fixture *f = *state;
    char a[32], text[64];
    int64_t seq = batch_seq(f, 2);
    sql(f, "UPDATE recent SET t_max = t_max + 1 WHERE seq = %lld", (long long)seq);
    run_verify(f);
    snprintf(text, sizeof(text), "in recent batch %lld were changed", (long long)seq);
    /* The batch still decodes: the tags in it are named. */
    expect(f, "T1.Level", "samples from", iso(f->next_minute + 2 * SEC, a), text);
    expect(f, "P1.Flow", "samples from", iso(f->next_minute + 2 * SEC, a), text);
    expect_count(f, 2);

    char where[32];
    snprintf(where, sizeof(where), "seq = %lld", (long long)batch_seq(f, 0));
    flip_last_byte(f, "recent", "data", where);
    run_verify(f);
    snprintf(text, sizeof(text), "recent batch %lld", (long long)batch_seq(f, 0));
    expect(f, NULL, text, "changed", NULL);
}

static void test_delete_recent_batches(void **state)
{
    struct fixture *f = *state;
    char text[64];
    int64_t first = batch_seq(f, 0), middle = batch_seq(f, 2), last = batch_seq(f, 4);
    sql(f, "DELETE FROM recent WHERE seq = %lld", (long long)middle);
    run_verify(f);
    snprintf(text, sizeof(text), "recent batches %lld to %lld are missing", (long long)middle,
             (long long)middle);
    expect(f, NULL, text, NULL, NULL);
    expect_count(f, 1);

    sql(f, "DELETE FROM recent WHERE seq = %lld", (long long)last);
    run_verify(f);
    snprintf(text, sizeof(text), "recent batches %lld to %lld are missing (the newest",
             (long long)last, (long long)last);
    expect(f, NULL, text, NULL, NULL);
    expect_count(f, 2);

    sql(f, "DELETE FROM recent WHERE seq = %lld", (long long)first);
    run_verify(f);
    snprintf(text, sizeof(text), "recent batches %lld to %lld are missing (the oldest)",
             (long long)first, (long long)first);
    expect(f, NULL, text, NULL, NULL);

    sql(f, "DELETE FROM recent");
    run_verify(f);
    snprintf(text, sizeof(text), "all recent batches (%lld to %lld) are missing", (long long)first,
             (long long)last);
    expect(f, NULL, text, NULL, NULL);
    expect_count(f, 1);

    /* The writer, numbering its batches from 1 again, notices too. */
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    struct bw_sample s = {.ts_us = f->next_minute + 40 * SEC, .value = 1, .quality = 2};
    assert_int_equal(bw_store_append(st, 1, &s), BW_OK);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
    run_verify(f);
    expect(f, NULL, "the historian found the history changed", NULL, NULL);
}

static void test_rename_a_tag(void **state)
{
    struct fixture *f = *state;
    sql(f, "UPDATE tags SET name = 'T1.Renamed' WHERE name = 'T1.Level'");
    run_verify(f);
    expect(f, "T1.Renamed", "was changed (or the tag inserted)", NULL, NULL);
    expect_count(f, 1);
    sql(f, "DELETE FROM tags WHERE name = 'T1.Renamed'");
    run_verify(f);
    expect(f, NULL, "has samples but no name", NULL, NULL);
}

static void test_erase_a_tags_whole_history(void **state)
{
    struct fixture *f = *state;
    char t[48], u[48];
    int64_t id = tag_id(f, "V1.Open");
    sql(f, "DELETE FROM %s WHERE tag = %lld; DELETE FROM %s WHERE tag = %lld;",
        ctable(t, 'c', 1, f->day_a), (long long)id, ctable(u, 'c', 1, f->day_b), (long long)id);
    sql(f, "DELETE FROM %s WHERE tag = %lld; DELETE FROM %s WHERE tag = %lld;",
        ctable(t, 'm', 1, f->day_a), (long long)id, ctable(u, 'm', 1, f->day_b), (long long)id);
    sql(f, "DELETE FROM %s WHERE tag = %lld; DELETE FROM %s WHERE tag = %lld;",
        ctable(t, 'h', 1, f->day_a), (long long)id, ctable(u, 'h', 1, f->day_b), (long long)id);
    sql(f, "DELETE FROM tails WHERE tag = %lld", (long long)id);
    run_verify(f);
    expect(f, NULL, "do not match the seal", NULL, NULL);
    expect(f, "V1.Open", "has no samples left", NULL, NULL);
    expect_count(f, 2);
}

static void test_seal_and_key(void **state)
{
    struct fixture *f = *state;
    flip_last_byte(f, "meta", "value", "key = 'seal'");
    run_verify(f);
    expect(f, NULL, "the seal of the history was changed", NULL, NULL);
    expect_count(f, 1);

    /* The writer finds it too, and the seal says so from then on. */
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    struct bw_sample s = {.ts_us = f->next_minute + 30 * SEC, .value = 1, .quality = 2};
    assert_int_equal(bw_store_append(st, 0, &s), BW_OK);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
    run_verify(f);
    expect(f, NULL, "the historian found the history changed", NULL, NULL);

    /* Under another key nothing holds; a file that is not there cannot
     * be checked. */
    uint8_t other[32] = {9};
    struct bw_history_verify_stats stats;
    f->n = 0;
    assert_int_equal(bw_history_verify(f->path, other, sizeof(other), collect, f, &stats), BW_OK);
    assert_true(stats.problems >= stats.chunks + stats.batches);
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/none.db", f->dir);
    assert_int_equal(bw_history_verify(missing, key, sizeof(key), collect, f, &stats), BW_EIO);
    assert_int_equal(bw_history_verify(f->path, NULL, 0, collect, f, &stats), BW_EINVAL);
}

/* V1.Open moves to group 0 (a new project version): its chain goes on
 * across groups. Retention then drops group 1's days and marks them:
 * the chain may start in group 0 without a problem. */
static void test_tag_moves_group_then_retention(void **state)
{
    struct fixture *f = *state;
    static const uint32_t moved[] = {0, 0, 0};
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = moved,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    for (int64_t i = 0; i < 120; i++) {
        struct bw_sample s = {.ts_us = at(f->day_b, 60) + i * SEC, .value = 1, .quality = 2};
        assert_int_equal(bw_store_append(st, 2, &s), BW_OK);
    }
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
    run_verify(f);
    expect_count(f, 0);
    assert_int_equal(f->stats.chunks, 3 * 2 * MINUTES + 2);

    char c[48], m[48], a[32];
    for (int d = 0; d < 2; d++) {
        int64_t day = d ? f->day_b : f->day_a;
        sql(f, "DROP TABLE %s; DROP TABLE %s; DELETE FROM days WHERE grp = 1 AND day = %lld;",
            ctable(c, 'c', 1, day), ctable(m, 'm', 1, day), (long long)day);
    }
    run_verify(f);
    expect(f, "V1.Open", "samples before", iso(at(f->day_b, 60), a), "were deleted");
    expect_count(f, 1);
    struct sdb db;
    assert_int_equal(sdb_open(&db, f->path, false, key, sizeof(key)), BW_OK);
    assert_int_equal(sdb_begin(&db), BW_OK);
    assert_int_equal(sdb_retention_mark(&db, 1, f->day_b + 1), BW_OK);
    assert_int_equal(sdb_commit(&db), BW_OK);
    sdb_close(&db);
    run_verify(f);
    expect_count(f, 0);
}

/* A history with no closed chunk yet (a daemon that just started): only
 * recent batches, no partition. And an empty one. */
static void test_only_recent_batches(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/young.db", f->dir);
    struct bw_store_config cfg = {.path = path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    bw_store_close(st);
    f->n = 0;
    assert_int_equal(bw_history_verify(path, key, sizeof(key), collect, f, &f->stats), BW_OK);
    expect_count(f, 0);
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    struct bw_sample s = {.ts_us = f->next_minute, .value = 1, .quality = 2};
    assert_int_equal(bw_store_append(st, 0, &s), BW_OK);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
    assert_int_equal(bw_history_verify(path, key, sizeof(key), collect, f, &f->stats), BW_OK);
    expect_count(f, 0);
    assert_int_equal(f->stats.partitions, 0);
    assert_int_equal(f->stats.batches, 1);
    assert_int_equal(f->stats.samples, 1);
}

/* An hour aggregate edited, inserted or deleted is named by its hour. */
static void test_edit_an_hour_aggregate(void **state)
{
    struct fixture *f = *state;
    char t[48];
    int64_t id = tag_id(f, "V1.Open");
    sql(f, "UPDATE %s SET mx = mx + 1 WHERE tag = %lld", ctable(t, 'h', 1, f->day_a),
        (long long)id);
    run_verify(f);
    expect(f, "V1.Open", "the hour aggregate at", "does not match its minutes", NULL);
    expect_count(f, 1);
    sql(f, "DELETE FROM %s WHERE tag = %lld", ctable(t, 'h', 1, f->day_a), (long long)id);
    run_verify(f);
    expect(f, "V1.Open", "the hour aggregate at", "is missing", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_edit_an_hour_aggregate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untouched_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_recent_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_a_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_a_chunk_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_a_middle_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_the_newest_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_a_chunk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_partition_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_a_partition_record_and_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_an_aggregate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_a_recent_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_recent_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_a_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_a_tags_whole_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seal_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_moves_group_then_retention, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
