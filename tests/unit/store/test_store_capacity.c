/* SPDX-License-Identifier: Apache-2.0
 *
 * Capacity of the history on a synthetic clock: retention drops whole
 * days of a group (and nothing of another), a size cap drops the oldest
 * days until the group fits, thresholds of the cap are reported once as
 * they are passed, and the history still verifies after every drop
 * (the drops are recorded as retention, not taken for tampering).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC 1000000LL
#define DAY (86400 * SEC)
/* 2026-11-01T00:00:00Z */
#define D0 1793491200000000LL

static const uint8_t key[32] = {9, 9, 9};
static const char *const names[] = {"Short", "Capped"};
static const uint32_t groups[] = {0, 1};
static int64_t fake_now;

static int64_t clock_now(void)
{
    return fake_now;
}

struct events {
    int dropped[2], capacity[2];
    unsigned last_percent;
};

static void on_event(void *ctx, const struct bw_store_event *ev)
{
    struct events *e = ctx;
    if (ev->group > 1)
        return;
    if (ev->kind == BW_STORE_EV_PARTITION_DROPPED)
        e->dropped[ev->group]++;
    else if (ev->kind == BW_STORE_EV_CAPACITY) {
        e->capacity[ev->group]++;
        e->last_percent = ev->percent;
    }
}

static void problem(void *ctx, const struct bw_history_problem *p)
{
    int *n = ctx;
    fprintf(stderr, "problem: %s %s\n", p->tag, p->what);
    (*n)++;
}

static int verify(const char *path)
{
    int problems = 0;
    struct bw_history_verify_stats stats;
    assert_int_equal(bw_history_verify(path, key, sizeof(key), problem, &problems, &stats), BW_OK);
    return problems;
}

static size_t count_samples(const char *path, const char *tag)
{
    struct bw_history *h = NULL;
    assert_int_equal(bw_history_open(path, &h), BW_OK);
    struct bw_history_query q;
    bw_history_query_init(&q);
    snprintf(q.tag, sizeof(q.tag), "%s", tag);
    q.from_us = D0 - DAY;
    q.to_us = D0 + 30 * DAY;
    q.points = 1;
    struct bw_history_bucket b;
    size_t n = 0;
    assert_int_equal(bw_history_trend(h, &q, &b, &n), BW_OK);
    bw_history_close(h);
    return n ? (size_t)b.count_all : 0;
}

static void test_retention_cap_thresholds(void **state)
{
    (void)state;
    char dir[] = "/tmp/bw-cap-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[96];
    snprintf(path, sizeof(path), "%s/history.db", dir);
    struct bw_store_group_policy policy[] = {
        {.retention_days = 3},                          /* Short: three days */
        {.retention_days = 0, .max_bytes = 600 * 1024}, /* Capped: 600 KiB */
    };
    static const uint8_t warn[] = {50, 90};
    struct events ev = {0};
    struct bw_store_config cfg = {.path = path,
                                  .key = key,
                                  .key_len = sizeof(key),
                                  .tag_names = names,
                                  .tag_groups = groups,
                                  .tag_count = 2,
                                  .groups = policy,
                                  .group_count = 2,
                                  .warn_percent = warn,
                                  .warn_count = 2,
                                  .capacity_period_ms = 3600000,
                                  .on_event = on_event,
                                  .event_ctx = &ev,
                                  .clock_us = clock_now};
    struct bw_store *st = NULL;
    fake_now = D0;
    assert_int_equal(bw_store_open(&cfg, &st), BW_OK);
    /* Ten days, two hours a day of 1 s samples of both tags. */
    for (int d = 0; d < 10; d++)
        for (int64_t i = 0; i < 7200; i++) {
            struct bw_sample s = {.ts_us = D0 + d * DAY + i * SEC,
                                  .value = (double)(i * 7919 % 1000) / 7.0,
                                  .quality = 2};
            assert_int_equal(bw_store_append(st, 0, &s), BW_OK);
            assert_int_equal(bw_store_append(st, 1, &s), BW_OK);
        }
    assert_int_equal(bw_store_flush(st), BW_OK);
    /* The clock is still on day 0: nothing is too old. */
    assert_int_equal(bw_store_maintain(st), BW_OK);
    assert_int_equal(ev.dropped[0], 0);
    /* The cap: the oldest days of Capped go until it fits. */
    assert_true(ev.dropped[1] > 0);
    int capped_drops = ev.dropped[1];
    assert_true(ev.capacity[1] >= 1);
    assert_true(ev.last_percent >= 50 && ev.last_percent <= 100);
    /* Day 9: Short keeps days 7, 8 and 9. */
    fake_now = D0 + 9 * DAY + 3600 * SEC;
    assert_int_equal(bw_store_maintain(st), BW_OK);
    assert_int_equal(ev.dropped[0], 7);
    assert_int_equal(ev.dropped[1], capped_drops); /* retention 0: Capped keeps its days */
    /* Again: nothing more to drop, no threshold passed again. */
    int capacity_events = ev.capacity[1];
    assert_int_equal(bw_store_maintain(st), BW_OK);
    assert_int_equal(ev.dropped[0], 7);
    assert_int_equal(ev.capacity[1], capacity_events);
    bw_store_close(st);

    assert_int_equal(count_samples(path, "Short"), 3 * 7200);
    size_t capped = count_samples(path, "Capped");
    assert_true(capped < 10 * 7200 && capped >= 7200);
    assert_int_equal(capped % 7200, 0); /* whole days */
    assert_int_equal(verify(path), 0);

    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retention_cap_thresholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
