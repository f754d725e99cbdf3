/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's writer on a real history.db: samples appended by
 * several threads become durable batches, then one-minute chunks with
 * their minute aggregates; what was not yet in a chunk when the store
 * closed is read back at the next open; out-of-order samples are
 * dropped and counted; a full queue refuses without waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/sqlite_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-12-04T00:00:00Z */
#define DAY0 1796342400000000LL
#define SEC 1000000LL

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
static const char *const names[] = {"T1.Level", "P1.Flow", "V1.Open"};
static const uint32_t groups[] = {0, 0, 1};

struct fixture {
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/bw-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/history.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static struct bw_store *open_store(const struct fixture *f, size_t queue)
{
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .queue_samples = queue,
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    return st;
}

static double value_at(uint32_t tag, int64_t i)
{
    return tag == 2 ? (double)(i % 2) : 100.0 + (double)tag + sin((double)i / 30.0);
}

struct collect {
    struct bw_sample *s;
    size_t n, cap;
};

static bool collect_sample(void *ctx, const struct bw_sample *s)
{
    struct collect *c = ctx;
    if (c->n < c->cap)
        c->s[c->n] = *s;
    c->n++;
    return true;
}

static size_t read_tag(const struct fixture *f, uint32_t tag, int64_t from, int64_t to,
                       struct collect *c)
{
    /* Closed chunks and the recent batches alike, as a query sees them. */
    struct bw_history *h = NULL;
    assert_int_equal(bw_history_open(f->path, &h), BW_OK);
    struct bw_history_query q;
    bw_history_query_init(&q);
    snprintf(q.tag, sizeof(q.tag), "%s", names[tag]);
    q.from_us = from;
    q.to_us = to;
    q.limit = BW_HISTORY_MAX_LIMIT;
    c->n = 0;
    bool more = true;
    while (more) {
        assert_int_equal(bw_history_raw(h, &q, collect_sample, c, &more), BW_OK);
        if (c->n)
            q.cursor_us = c->s[(c->n < c->cap ? c->n : c->cap) - 1].ts_us;
    }
    bw_history_close(h);
    return c->n;
}

/* Ten minutes of 1 s samples of three tags: durable, chunked by minute,
 * exactly what was appended. */
static void test_ten_minutes(void **state)
{
    struct fixture *f = *state;
    struct bw_store *st = open_store(f, 0);
    for (int64_t i = 0; i < 600; i++)
        for (uint32_t tag = 0; tag < 3; tag++) {
            struct bw_sample s = {.ts_us = DAY0 + i * SEC, .value = value_at(tag, i), .quality = 2};
            assert_int_equal(bw_store_append(st, tag, &s), BW_OK);
        }
    assert_int_equal(bw_store_flush(st), BW_OK);
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.appended, 1800);
    assert_int_equal(stats.written, 1800);
    assert_int_equal(stats.dropped, 0);
    /* Every minute but the last of each tag is over by the samples'
     * own time: those chunks closed; the last stay open (in recent). */
    assert_int_equal(stats.chunks, 27);
    bw_store_close(st);

    struct bw_sample buf[700];
    struct collect c = {.s = buf, .cap = 700};
    for (uint32_t tag = 0; tag < 3; tag++) {
        assert_int_equal(read_tag(f, tag, DAY0, DAY0 + 600 * SEC, &c), 600);
        for (int64_t i = 0; i < 600; i++) {
            assert_true(buf[i].ts_us == DAY0 + i * SEC);
            assert_true(buf[i].value == value_at(tag, i));
            assert_int_equal(buf[i].quality, 2);
        }
    }
    /* A range inside a minute. */
    assert_int_equal(read_tag(f, 0, DAY0 + 90 * SEC, DAY0 + 100 * SEC, &c), 10);
    assert_true(buf[0].ts_us == DAY0 + 90 * SEC);
}

static bool count_minute(void *ctx, int64_t minute, const struct sdb_agg *a)
{
    struct sdb_agg *sum = ctx;
    (void)minute;
    sum->n += a->n;
    sum->n_all += a->n_all;
    sum->sum += a->sum;
    return true;
}

/* Minute aggregates hold what the raw samples give. */
static void test_minute_aggregates(void **state)
{
    struct fixture *f = *state;
    struct bw_store *st = open_store(f, 0);
    double total = 0;
    for (int64_t i = 0; i < 180; i++) {
        struct bw_sample s = {.ts_us = DAY0 + i * SEC, .value = (double)i, .quality = 2};
        if (i == 61) /* a bad sample counts, its value does not */
            s.quality = 0;
        else
            total += (double)i;
        assert_int_equal(bw_store_append(st, 0, &s), BW_OK);
    }
    /* A sample three minutes on: the stream's time closes those minutes. */
    struct bw_sample later = {.ts_us = DAY0 + 360 * SEC, .value = 0, .quality = 2};
    assert_int_equal(bw_store_append(st, 0, &later), BW_OK);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
    struct sdb db;
    assert_int_equal(sdb_open(&db, f->path, true, key, sizeof(key)), BW_OK);
    int64_t id;
    assert_int_equal(sdb_tag_id(&db, names[0], &id), BW_OK);
    struct sdb_agg sum;
    sdb_agg_init(&sum);
    assert_int_equal(sdb_minutes_read(&db, 0, id, DAY0, DAY0 + 180 * SEC, count_minute, &sum),
                     BW_OK);
    sdb_close(&db);
    assert_int_equal(sum.n, 179);
    assert_int_equal(sum.n_all, 180);
    assert_true(sum.sum == total);
}

/* Samples of a minute that is not over stay in the recent batches and
 * come back at the next open; nothing is lost or doubled. */
static void test_reopen_reads_back(void **state)
{
    struct fixture *f = *state;
    int64_t now = bw_clock_realtime_us();
    int64_t base = now - now % (60 * SEC) + 60 * SEC; /* the next minute: never over yet */
    struct bw_store *st = open_store(f, 0);
    for (int64_t i = 0; i < 30; i++) {
        struct bw_sample s = {.ts_us = base + i * SEC, .value = (double)i, .quality = 2};
        assert_int_equal(bw_store_append(st, 1, &s), BW_OK);
    }
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
    struct bw_sample buf[64];
    struct collect c = {.s = buf, .cap = 64};
    /* Not in a chunk yet, but a query finds them in the recent batches. */
    assert_int_equal(read_tag(f, 1, base, base + 60 * SEC, &c), 30);

    st = open_store(f, 0);
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.replayed, 30);
    /* The same samples again are refused as out of order. */
    for (int64_t i = 0; i < 30; i++) {
        struct bw_sample s = {.ts_us = base + i * SEC, .value = (double)i, .quality = 2};
        assert_int_equal(bw_store_append(st, 1, &s), BW_OK);
    }
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.dropped, 30);
    bw_store_close(st);
}

static void test_full_queue_refuses(void **state)
{
    struct fixture *f = *state;
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .queue_samples = 16,
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3,
                                  .flush_ms = 60000,
                                  .flush_samples = 1000};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    int full = 0;
    for (int64_t i = 0; i < 40; i++) {
        struct bw_sample s = {.ts_us = DAY0 + i * SEC, .value = 1, .quality = 2};
        if (bw_store_append(st, 0, &s) == BW_EFULL)
            full++;
    }
    assert_int_equal(full, 24);
    struct bw_sample nan = {.ts_us = DAY0 + 99 * SEC, .value = NAN, .quality = 2};
    assert_int_equal(bw_store_append(st, 0, &nan), BW_EINVAL);
    assert_int_equal(bw_store_append(st, 7, &nan), BW_EINVAL);
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.refused, 24);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_close(st);
}

struct producer {
    struct bw_store *st;
    uint32_t tag;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int64_t i = 0; i < 20000; i++) {
        struct bw_sample s = {.ts_us = DAY0 + i * 10000, .value = (double)i, .quality = 2};
        while (bw_store_append(p->st, p->tag, &s) == BW_EFULL)
            usleep(100);
    }
    return NULL;
}

/* Three threads append at once (TSan runs this): every sample lands. */
static void test_concurrent_producers(void **state)
{
    struct fixture *f = *state;
    struct bw_store *st = open_store(f, 4096);
    pthread_t th[3];
    struct producer p[3];
    for (uint32_t i = 0; i < 3; i++) {
        p[i] = (struct producer){st, i};
        assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    }
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(bw_store_flush(st), BW_OK);
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.written, 60000);
    assert_int_equal(stats.dropped, 0);
    bw_store_close(st);
    struct bw_sample *buf = calloc(20001, sizeof(*buf));
    assert_non_null(buf);
    struct collect c = {.s = buf, .cap = 20001};
    assert_int_equal(read_tag(f, 2, DAY0, DAY0 + 200 * SEC, &c), 20000);
    for (int64_t i = 0; i < 20000; i++)
        assert_true(buf[i].value == (double)i);
    free(buf);
}

static struct bw_store *open_spooling(const struct fixture *f, size_t queue, uint64_t spool)
{
    struct bw_store_config cfg = {.path = f->path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .queue_samples = queue,
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 3,
                                  .flush_samples = 500,
                                  .spool_bytes = spool};
    struct bw_store *st = NULL;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    return st;
}

/* The writer stalled on purpose: the queue overflows into the spool,
 * which is written in order once the writer runs again; nothing lost. */
static void test_spool_keeps_order(void **state)
{
    struct fixture *f = *state;
    struct bw_store *st = open_spooling(f, 1000, 24 * 100000);
    bw_store_hold(st, true);
    for (int64_t i = 0; i < 50000; i++) {
        struct bw_sample s = {.ts_us = DAY0 + i * 1000, .value = (double)i, .quality = 2};
        assert_int_equal(bw_store_append(st, 0, &s), BW_OK);
    }
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.spooled, 49000);
    assert_int_equal(stats.written, 0);
    bw_store_hold(st, false);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.written, 50000);
    assert_int_equal(stats.dropped, 0);
    assert_int_equal(stats.refused, 0);
    bw_store_close(st);
    struct bw_sample *buf = calloc(50001, sizeof(*buf));
    assert_non_null(buf);
    struct collect c = {.s = buf, .cap = 50001};
    assert_int_equal(read_tag(f, 0, DAY0, DAY0 + 3600 * SEC, &c), 50000);
    for (int64_t i = 0; i < 50000; i++)
        assert_true(buf[i].value == (double)i && buf[i].ts_us == DAY0 + i * 1000);
    free(buf);
}

/* When the spool is full too, samples are refused and counted; the
 * spool survives a stop and is written at the next open. */
static void test_spool_full_and_restart(void **state)
{
    struct fixture *f = *state;
    struct bw_store *st = open_spooling(f, 1000, 24 * 2000);
    bw_store_hold(st, true);
    int refused = 0;
    for (int64_t i = 0; i < 5000; i++) {
        struct bw_sample s = {.ts_us = DAY0 + i * 1000, .value = (double)i, .quality = 2};
        if (bw_store_append(st, 1, &s) == BW_EFULL)
            refused++;
    }
    assert_int_equal(refused, 2000);
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.refused, 2000);
    assert_int_equal(stats.spooled, 2000);
    /* Closing writes the queue; the spool stays on disk and is written
     * at the next open. */
    bw_store_close(st);
    st = open_spooling(f, 1000, 24 * 2000);
    assert_int_equal(bw_store_flush(st), BW_OK);
    bw_store_stats_get(st, &stats);
    assert_int_equal(stats.lost_at_open, 0);
    assert_int_equal(stats.written, 2000);
    bw_store_close(st);
    struct bw_sample buf[3100];
    struct collect c = {.s = buf, .cap = 3100};
    assert_int_equal(read_tag(f, 1, DAY0, DAY0 + 3600 * SEC, &c), 3000);
    for (int i = 0; i < 3000; i++)
        assert_true(buf[i].value == (double)i);
}

struct writer_arg {
    struct bw_store *st;
    _Atomic bool stop;
};

static void *keep_writing(void *arg)
{
    struct writer_arg *w = arg;
    for (int64_t i = 0; !w->stop; i++) {
        struct bw_sample s = {.ts_us = DAY0 + i * 1000, .value = (double)i, .quality = 2};
        while (bw_store_append(w->st, 2, &s) == BW_EFULL && !w->stop)
            usleep(100);
        if (i % 1000 == 0)
            usleep(1000);
    }
    return NULL;
}

/* A copy taken while writing goes on opens and holds an unbroken prefix
 * of what was written. */
static void test_backup_while_writing(void **state)
{
    struct fixture *f = *state;
    struct bw_store *st = open_store(f, 0);
    struct writer_arg w = {.st = st};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, keep_writing, &w), 0);
    usleep(300000);
    char copy[128];
    snprintf(copy, sizeof(copy), "%s/copy.db", f->dir);
    assert_int_equal(bw_store_backup(f->path, copy), BW_OK);
    assert_int_equal(bw_store_backup(f->path, copy), BW_EEXIST);
    w.stop = true;
    pthread_join(th, NULL);
    bw_store_close(st);
    struct stat sb;
    assert_int_equal(stat(copy, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    struct bw_history *h = NULL;
    assert_int_equal(bw_history_open(copy, &h), BW_OK);
    struct bw_history_query q;
    bw_history_query_init(&q);
    snprintf(q.tag, sizeof(q.tag), "%s", names[2]);
    q.from_us = DAY0;
    q.to_us = DAY0 + 3600 * SEC;
    q.limit = BW_HISTORY_MAX_LIMIT;
    static struct bw_sample buf[BW_HISTORY_MAX_LIMIT];
    struct collect c = {.s = buf, .cap = BW_HISTORY_MAX_LIMIT};
    bool more = false;
    assert_int_equal(bw_history_raw(h, &q, collect_sample, &c, &more), BW_OK);
    bw_history_close(h);
    assert_true(c.n > 0);
    for (size_t i = 0; i < c.n && i < c.cap; i++)
        assert_true(buf[i].value == (double)i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ten_minutes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_minute_aggregates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_producers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_full_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup_while_writing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
