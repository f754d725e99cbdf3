/* SPDX-License-Identifier: Apache-2.0
 *
 * Queries of the history against a brute-force computation over the
 * samples that were written: raw pages with a cursor, trends of random
 * ranges and bucket counts (from minute aggregates where buckets are a
 * minute or longer, from raw samples otherwise, and with samples still
 * in the recent batches), and the last value before a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000LL
#define MINUTE (60 * SEC)

static const uint8_t key[32] = {7};
static const char *const names[] = {"T1", "T2"};
static char dir[64], path[96];

static struct bw_sample *written;
static size_t written_n;
static int64_t t_first, t_last;

static uint64_t rng = 88172645463325252ULL;
static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Four hours of irregular samples of T1 (1 to 9 s apart, some bad)
 * ending in the current minute, so the newest are still in the recent
 * batches; T2 gets a few samples so queries must pick the right tag. */
static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/bw-hist-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/history.db", dir);
    struct bw_store_config cfg = {
        .path = path, .key = key, .key_len = sizeof(key), .tag_names = names, .tag_count = 2};
    struct bw_store *st = NULL;
    if (bw_store_open(&cfg, &st) != BW_OK)
        return -1;
    int64_t now = bw_clock_realtime_us();
    t_first = now - 4 * 3600 * SEC;
    written = calloc(4 * 3600, sizeof(*written));
    int64_t t = t_first;
    while (t < now) {
        struct bw_sample s = {
            .ts_us = t, .value = (double)(next_random() % 100000) / 100.0, .quality = 2};
        if (next_random() % 50 == 0)
            s.quality = 0;
        if (bw_store_append(st, 0, &s) != BW_OK)
            return -1;
        written[written_n++] = s;
        t_last = t;
        t += (int64_t)(1 + next_random() % 9) * SEC + (int64_t)(next_random() % 1000);
    }
    for (int i = 0; i < 10; i++) {
        struct bw_sample s = {.ts_us = t_first + i * MINUTE, .value = -1, .quality = 2};
        if (bw_store_append(st, 1, &s) != BW_OK)
            return -1;
    }
    int rc = bw_store_flush(st);
    bw_store_close(st);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    free(written);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct bw_history_query query(int64_t from, int64_t to, uint32_t points)
{
    struct bw_history_query q;
    bw_history_query_init(&q);
    snprintf(q.tag, sizeof(q.tag), "T1");
    q.from_us = from;
    q.to_us = to;
    q.points = points;
    q.limit = BW_HISTORY_MAX_LIMIT;
    return q;
}

struct page {
    struct bw_sample s[BW_HISTORY_MAX_LIMIT];
    size_t n;
};

static bool page_add(void *ctx, const struct bw_sample *s)
{
    struct page *p = ctx;
    p->s[p->n++] = *s;
    return true;
}

static void test_raw_everything_and_pages(void **state)
{
    (void)state;
    struct bw_history *h = NULL;
    assert_int_equal(bw_history_open(path, &h), BW_OK);
    static struct page p;
    p.n = 0;
    struct bw_history_query q = query(t_first, t_last + 1, 0);
    bool more = true;
    assert_int_equal(bw_history_raw(h, &q, page_add, &p, &more), BW_OK);
    assert_false(more);
    assert_int_equal(p.n, written_n);
    for (size_t i = 0; i < written_n; i++) {
        assert_true(p.s[i].ts_us == written[i].ts_us);
        assert_true(p.s[i].value == written[i].value);
        assert_int_equal(p.s[i].quality, written[i].quality);
    }
    /* Pages of 500 with the cursor give the same, once each. */
    size_t total = 0;
    q.limit = 500;
    q.cursor_us = INT64_MIN;
    do {
        p.n = 0;
        assert_int_equal(bw_history_raw(h, &q, page_add, &p, &more), BW_OK);
        for (size_t i = 0; i < p.n; i++)
            assert_true(p.s[i].ts_us == written[total + i].ts_us);
        total += p.n;
        if (p.n)
            q.cursor_us = p.s[p.n - 1].ts_us;
    } while (more);
    assert_int_equal(total, written_n);
    struct bw_history_query unknown = q;
    snprintf(unknown.tag, sizeof(unknown.tag), "Nope");
    assert_int_equal(bw_history_raw(h, &unknown, page_add, &p, &more), BW_ENOTFOUND);
    bw_history_close(h);
}

/* The same buckets computed from the written samples. */
static void brute(const struct bw_history_bucket *b, struct bw_history_bucket *want)
{
    *want = (struct bw_history_bucket){.start_us = b->start_us, .end_us = b->end_us};
    for (size_t i = 0; i < written_n; i++) {
        const struct bw_sample *s = &written[i];
        if (s->ts_us < b->start_us || s->ts_us >= b->end_us)
            continue;
        want->count_all++;
        if (s->quality == 0)
            continue;
        if (want->count == 0)
            want->min = want->max = want->first = s->value;
        want->min = fmin(want->min, s->value);
        want->max = fmax(want->max, s->value);
        want->avg += s->value;
        want->last = s->value;
        want->count++;
    }
    if (want->count)
        want->avg /= (double)want->count;
}

static void test_trends_match_brute_force(void **state)
{
    (void)state;
    struct bw_history *h = NULL;
    assert_int_equal(bw_history_open(path, &h), BW_OK);
    static struct bw_history_bucket out[BW_HISTORY_MAX_POINTS];
    for (int round = 0; round < 200; round++) {
        int64_t span = t_last - t_first + MINUTE;
        int64_t a = t_first - MINUTE + (int64_t)(next_random() % (uint64_t)span);
        int64_t b = t_first - MINUTE + (int64_t)(next_random() % (uint64_t)span);
        if (a == b)
            continue;
        int64_t from = a < b ? a : b, to = a < b ? b : a;
        uint32_t points = (uint32_t)(1 + next_random() % 300);
        struct bw_history_query q = query(from, to, points);
        size_t n = 0;
        assert_int_equal(bw_history_trend(h, &q, out, &n), BW_OK);
        assert_true(n >= 1 && n <= points);
        uint64_t seen = 0;
        for (size_t i = 0; i < n; i++) {
            struct bw_history_bucket want;
            brute(&out[i], &want);
            if (out[i].count_all != want.count_all || out[i].count != want.count ||
                (want.count && (out[i].min != want.min || out[i].max != want.max ||
                                out[i].first != want.first || out[i].last != want.last ||
                                fabs(out[i].avg - want.avg) > 1e-9 * fabs(want.avg) + 1e-9)))
                fail_msg("round %d bucket %zu [%lld, %lld): count %llu/%llu want %llu/%llu", round,
                         i, (long long)out[i].start_us, (long long)out[i].end_us,
                         (unsigned long long)out[i].count, (unsigned long long)out[i].count_all,
                         (unsigned long long)want.count, (unsigned long long)want.count_all);
            seen += out[i].count_all;
            if (i > 0)
                assert_true(out[i].start_us == out[i - 1].end_us);
        }
        /* The buckets cover the range (minute buckets may start earlier
         * and end later). */
        assert_true(out[0].start_us <= from);
        assert_true(out[n - 1].end_us >= to);
        (void)seen;
    }
    bw_history_close(h);
}

static void test_latest_before(void **state)
{
    (void)state;
    struct bw_history *h = NULL;
    assert_int_equal(bw_history_open(path, &h), BW_OK);
    for (int round = 0; round < 50; round++) {
        size_t i = 1 + (size_t)(next_random() % (written_n - 1));
        struct bw_sample s;
        /* Just after sample i-1 and before sample i: sample i-1. */
        int64_t before = written[i].ts_us;
        assert_int_equal(bw_history_latest_before(h, "T1", before, 3600 * SEC, &s), BW_OK);
        assert_true(s.ts_us == written[i - 1].ts_us);
        assert_true(s.value == written[i - 1].value);
    }
    struct bw_sample s;
    assert_int_equal(bw_history_latest_before(h, "T1", t_first, 3600 * SEC, &s), BW_ENOTFOUND);
    bw_history_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_everything_and_pages),
        cmocka_unit_test(test_trends_match_brute_force),
        cmocka_unit_test(test_latest_before),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
