/* SPDX-License-Identifier: Apache-2.0
 *
 * Engine semantics: quality judgement, timestamps, bad values keeping the
 * last value, strings, the bounded queue, draining on stop, and snapshot
 * consistency while producers and the engine race readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "unit/core/core_test_util.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

enum { LEVEL, RUN, COUNT, TEXT };

static const struct bw_core_tag_def defs[] = {
    [LEVEL] = {.name = "T1.Level",
               .type = BW_TYPE_FLOAT,
               .has_min = true,
               .min = 0,
               .has_max = true,
               .max = 5},
    [RUN] = {.name = "P1.Run", .type = BW_TYPE_BOOL},
    [COUNT] = {.name = "P1.Starts", .type = BW_TYPE_INT, .has_max = true, .max = 1000},
    [TEXT] = {.name = "Batch.Id", .type = BW_TYPE_STRING},
};

static struct bw_core *start_core(size_t queue)
{
    struct bw_core *core;
    struct bw_core_config cfg = {.update_queue_capacity = queue};
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), &cfg, &core), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    return core;
}

static void push(struct bw_core *core, const struct bw_tag_update *u)
{
    size_t queued;
    assert_int_equal(bw_core_update_push(core, u, 1, &queued), BW_OK);
    assert_int_equal(queued, 1);
}

static void test_good_value_and_timestamps(void **state)
{
    (void)state;
    bw_clock_fake_set(1800000000000000, 1);
    struct bw_core *core = start_core(0);
    struct bw_tag_update u = float_update(LEVEL, 2.5, 1799999999000000);
    push(core, &u);
    assert_true(wait_applied(core, 1));
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, LEVEL, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_GOOD);
    assert_int_equal(st.reason, BW_REASON_NONE);
    assert_true(st.v.f == 2.5);
    assert_int_equal(st.source_ts_us, 1799999999000000);
    assert_int_equal(st.server_ts_us, 1800000000000000);
    bw_core_free(core);
    bw_clock_fake_disable();
}

static void test_outside_range_is_uncertain(void **state)
{
    (void)state;
    struct bw_core *core = start_core(0);
    struct bw_tag_update u = float_update(LEVEL, 5.5, 1);
    push(core, &u);
    struct bw_tag_update c = {
        .tag = COUNT, .quality = BW_QUALITY_GOOD, .value = {.type = BW_TYPE_INT, .v.i = 1001}};
    push(core, &c);
    assert_true(wait_applied(core, 2));
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, LEVEL, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_UNCERTAIN);
    assert_int_equal(st.reason, BW_REASON_EU_EXCEEDED);
    assert_true(st.v.f == 5.5);
    assert_int_equal(bw_core_tag_read(core, COUNT, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_UNCERTAIN);
    assert_int_equal(st.v.i, 1001);
    bw_core_free(core);
}

static void test_wrong_type_and_nan_are_bad(void **state)
{
    (void)state;
    struct bw_core *core = start_core(0);
    struct bw_tag_update u = float_update(RUN, 1.0, 1); /* RUN is bool */
    push(core, &u);
    u = float_update(LEVEL, NAN, 1);
    push(core, &u);
    assert_true(wait_applied(core, 2));
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, RUN, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_BAD);
    assert_int_equal(st.reason, BW_REASON_CONFIG_ERROR);
    assert_int_equal(bw_core_tag_read(core, LEVEL, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_BAD);
    assert_int_equal(st.reason, BW_REASON_SENSOR_FAILURE);
    bw_core_free(core);
}

static void test_bad_update_keeps_last_value(void **state)
{
    (void)state;
    struct bw_core *core = start_core(0);
    struct bw_tag_update u = float_update(LEVEL, 3.25, 10);
    push(core, &u);
    struct bw_tag_update bad = {.tag = LEVEL,
                                .quality = BW_QUALITY_BAD,
                                .reason = BW_REASON_COMM_FAILURE,
                                .source_ts_us = 20,
                                .value = {.type = BW_TYPE_FLOAT, .v.f = 0}};
    push(core, &bad);
    assert_true(wait_applied(core, 2));
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, LEVEL, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_BAD);
    assert_int_equal(st.reason, BW_REASON_COMM_FAILURE);
    assert_true(st.v.f == 3.25);
    assert_int_equal(st.source_ts_us, 20);
    bw_core_free(core);
}

static void test_bool_and_string_values(void **state)
{
    (void)state;
    struct bw_core *core = start_core(0);
    struct bw_tag_update b = {
        .tag = RUN, .quality = BW_QUALITY_GOOD, .value = {.type = BW_TYPE_BOOL, .v.b = true}};
    push(core, &b);
    char text[300];
    memset(text, 'x', sizeof(text));
    memcpy(text, "lot-42", 6);
    struct bw_tag_update s = {.tag = TEXT,
                              .quality = BW_QUALITY_GOOD,
                              .value = {.type = BW_TYPE_STRING, .v.s = text, .len = 6}};
    push(core, &s);
    assert_true(wait_applied(core, 2));
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, RUN, &st), BW_OK);
    assert_true(st.v.b);
    assert_int_equal(bw_core_tag_read(core, TEXT, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_GOOD);
    assert_int_equal(st.str_len, 6);
    assert_string_equal(st.str, "lot-42");
    /* Longer than the maximum: truncated, never overflowing. */
    s.value.len = sizeof(text);
    push(core, &s);
    assert_true(wait_applied(core, 3));
    assert_int_equal(bw_core_tag_read(core, TEXT, &st), BW_OK);
    assert_int_equal(st.str_len, BW_TAG_STRING_MAX);
    assert_int_equal(strlen(st.str), BW_TAG_STRING_MAX);
    bw_core_free(core);
}

static void test_queue_is_bounded(void **state)
{
    (void)state;
    struct bw_core *core;
    struct bw_core_config cfg = {.update_queue_capacity = 16};
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), &cfg, &core), BW_OK);
    struct bw_tag_update u[20];
    for (int i = 0; i < 20; i++)
        u[i] = float_update(LEVEL, i * 0.1, i);
    size_t queued = 0;
    assert_int_equal(bw_core_update_push(core, u, 20, &queued), BW_EFULL);
    assert_int_equal(queued, 16);
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    assert_int_equal(st.queue_full, 1);
    assert_int_equal(st.queue_capacity, 16);
    /* Stop applies everything that was queued before it. */
    assert_int_equal(bw_core_start(core), BW_OK);
    assert_int_equal(bw_core_start(core), BW_ESTATE);
    bw_core_stop(core);
    bw_core_stats_get(core, &st);
    assert_int_equal(st.updates_applied, 16);
    struct bw_tag_state ts;
    assert_int_equal(bw_core_tag_read(core, LEVEL, &ts), BW_OK);
    assert_true(fabs(ts.v.f - 1.5) < 1e-9);
    bw_core_free(core);
}

static void test_unknown_tag_is_refused_at_push(void **state)
{
    (void)state;
    struct bw_core *core = start_core(0);
    struct bw_tag_update u[3] = {float_update(LEVEL, 1, 1), float_update(99, 1, 1),
                                 float_update(LEVEL, 2, 1)};
    size_t queued = 9;
    assert_int_equal(bw_core_update_push(core, u, 3, &queued), BW_EINVAL);
    assert_int_equal(queued, 1);
    bw_core_free(core);
}

/* Producers write values whose source timestamp is derived from the
 * value; a reader that ever sees a pair that does not match has seen a
 * torn snapshot. */
struct race {
    struct bw_core *core;
    atomic_bool stop;
    atomic_long torn;
    atomic_long reads;
    atomic_long checked; /* reads of a good value, whose pair was compared */
};

static void *race_producer(void *arg)
{
    struct race *r = arg;
    for (int64_t k = 1; !atomic_load(&r->stop); k++) {
        char text[32];
        int len = snprintf(text, sizeof(text), "n=%lld", (long long)k);
        struct bw_tag_update u[2] = {
            float_update(LEVEL, (double)(k % 4000) / 1000.0, (k % 4000) * 7 + 3),
            {.tag = TEXT,
             .quality = BW_QUALITY_GOOD,
             .source_ts_us = k,
             .value = {.type = BW_TYPE_STRING, .v.s = text, .len = (size_t)len}},
        };
        size_t queued;
        if (bw_core_update_push(r->core, u, 2, &queued) == BW_EFULL)
            sched_yield(); /* let the engine catch up */
    }
    return NULL;
}

static void *race_reader(void *arg)
{
    struct race *r = arg;
    while (!atomic_load(&r->stop)) {
        struct bw_tag_state st;
        if (bw_core_tag_read(r->core, LEVEL, &st) != BW_OK)
            atomic_fetch_add(&r->torn, 1);
        if (st.quality == BW_QUALITY_GOOD) {
            if ((int64_t)llround(st.v.f * 1000.0) * 7 + 3 != st.source_ts_us)
                atomic_fetch_add(&r->torn, 1);
            atomic_fetch_add(&r->checked, 1);
        }
        if (bw_core_tag_read(r->core, TEXT, &st) != BW_OK)
            atomic_fetch_add(&r->torn, 1);
        if (st.quality == BW_QUALITY_GOOD) {
            char expect[32];
            snprintf(expect, sizeof(expect), "n=%lld", (long long)st.source_ts_us);
            if (strcmp(expect, st.str) != 0 || st.str_len != strlen(expect))
                atomic_fetch_add(&r->torn, 1);
            atomic_fetch_add(&r->checked, 1);
        }
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void test_snapshots_are_consistent_under_load(void **state)
{
    (void)state;
    struct race r = {.core = start_core(1024)};
    pthread_t prod[2], readers[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&prod[i], NULL, race_producer, &r), 0);
        assert_int_equal(pthread_create(&readers[i], NULL, race_reader, &r), 0);
    }
    struct timespec ts = {0, 300 * 1000000};
    nanosleep(&ts, NULL);
    atomic_store(&r.stop, true);
    for (int i = 0; i < 2; i++) {
        pthread_join(prod[i], NULL);
        pthread_join(readers[i], NULL);
    }
    struct bw_core_stats st;
    bw_core_stats_get(r.core, &st);
    bw_core_free(r.core);
    assert_true(st.updates_applied > 1000);
    assert_true(atomic_load(&r.reads) > 1000);
    /* Most reads came after the first values: the comparison ran. */
    assert_true(atomic_load(&r.checked) > atomic_load(&r.reads));
    assert_int_equal(atomic_load(&r.torn), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_value_and_timestamps),
        cmocka_unit_test(test_outside_range_is_uncertain),
        cmocka_unit_test(test_wrong_type_and_nan_are_bad),
        cmocka_unit_test(test_bad_update_keeps_last_value),
        cmocka_unit_test(test_bool_and_string_values),
        cmocka_unit_test(test_queue_is_bounded),
        cmocka_unit_test(test_unknown_tag_is_refused_at_push),
        cmocka_unit_test(test_snapshots_are_consistent_under_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
