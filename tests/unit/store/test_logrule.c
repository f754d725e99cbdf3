/* SPDX-License-Identifier: Apache-2.0
 *
 * store: the historian's logging rules (logrule.c) driven by a synthetic
 * clock (plain integers): deadbands (absolute, percent of span or of the
 * last value, both), quality and reason changes, bad values, cyclic
 * alignment and catch-up with its cap, the maximum interval in both modes,
 * out-of-order and non-finite changes, next_due_us.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "store/store.h"

#include <math.h>
#include <string.h>

/* One second, in microseconds. */
#define SEC INT64_C(1000000)
/* 2026-01-01T00:00:00Z: a multiple of every period used here. */
#define T0 (INT64_C(1767225600) * SEC)

static struct bw_sample sample(int64_t ts, double value, uint8_t quality, uint8_t reason)
{
    return (struct bw_sample){.ts_us = ts, .value = value, .quality = quality, .reason = reason};
}

static struct bw_sample good(int64_t ts, double value)
{
    return sample(ts, value, BW_QUALITY_GOOD, BW_REASON_NONE);
}

static struct bw_sample bad(int64_t ts, double value, uint8_t reason)
{
    return sample(ts, value, BW_QUALITY_BAD, reason);
}

/* Passes a change; when kept, checks that out is the change itself and
 * has become the last logged sample. */
static bool change(const struct bw_log_rule *rule, struct bw_log_state *st, struct bw_sample c)
{
    struct bw_sample out = {.ts_us = -1};
    bool kept = bw_log_on_change(rule, st, &c, &out);
    if (kept) {
        assert_true(out.ts_us == c.ts_us);
        assert_true(out.value == c.value);
        assert_int_equal(out.quality, c.quality);
        assert_int_equal(out.reason, c.reason);
        assert_true(st->have_logged);
        assert_true(st->logged.ts_us == c.ts_us);
    } else {
        assert_true(out.ts_us == -1); /* untouched */
    }
    return kept;
}

static bool good_kept(const struct bw_log_rule *rule, struct bw_log_state *st, int64_t ts,
                      double value)
{
    return change(rule, st, good(ts, value));
}

/* Ticks once at now; when a sample is due, returns true with *out set and
 * checks that it became the last logged sample. */
static bool tick(const struct bw_log_rule *rule, struct bw_log_state *st, int64_t now,
                 struct bw_sample *out)
{
    bool due = bw_log_on_tick(rule, st, now, out);
    if (due) {
        assert_true(out->ts_us <= now);
        assert_true(st->have_logged);
        assert_true(st->logged.ts_us == out->ts_us);
        assert_true(st->logged.value == out->value);
    }
    return due;
}

/* Ticks at now once and expects exactly one sample of value at ts. */
static void expect_tick(const struct bw_log_rule *rule, struct bw_log_state *st, int64_t now,
                        int64_t ts, double value)
{
    struct bw_sample out;
    assert_true(tick(rule, st, now, &out));
    assert_true(out.ts_us == ts);
    assert_true(out.value == value);
}

static void expect_no_tick(const struct bw_log_rule *rule, struct bw_log_state *st, int64_t now)
{
    struct bw_sample out = {.ts_us = -1};
    assert_false(bw_log_on_tick(rule, st, now, &out));
    assert_true(out.ts_us == -1);
}

/* ---- state ------------------------------------------------------------ */

static void test_init(void **unused)
{
    (void)unused;
    struct bw_log_state st;
    memset(&st, 0xa5, sizeof st);
    bw_log_state_init(&st);
    assert_false(st.have_logged);
    assert_false(st.have_current);
    assert_true(st.next_due_us == 0);
    struct bw_log_rule cyclic = {.mode = BW_LOG_CYCLIC, .period_us = SEC, .max_interval_us = SEC};
    expect_no_tick(&cyclic, &st, T0 + 1000 * SEC);
}

static void test_first_change_kept(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.deadband = 1000};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 42));
    assert_true(st.have_current);
    assert_true(st.current.value == 42);
    assert_true(st.next_due_us == 0); /* on change, no maximum interval */
    assert_false(good_kept(&rule, &st, T0 + 1, 43));
    /* A first change of bad quality is kept too. */
    bw_log_state_init(&st);
    assert_true(change(&rule, &st, bad(T0, 0, BW_REASON_WAITING)));
}

/* ---- deadbands --------------------------------------------------------- */

static void test_absolute_deadband(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.deadband = 0.5};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_false(good_kept(&rule, &st, T0 + 1, 10.25)); /* below */
    assert_true(st.current.value == 10.25);
    assert_true(st.logged.value == 10);
    assert_false(good_kept(&rule, &st, T0 + 2, 10.5)); /* at: not more than */
    assert_false(good_kept(&rule, &st, T0 + 3, 9.5));  /* at, downwards */
    assert_true(good_kept(&rule, &st, T0 + 4, 10.75)); /* above */
    /* Measured from the last kept value, not from the current one: small
     * steps add up. */
    assert_false(good_kept(&rule, &st, T0 + 5, 11));
    assert_false(good_kept(&rule, &st, T0 + 6, 11.25));
    assert_true(good_kept(&rule, &st, T0 + 7, 11.5));
    assert_false(good_kept(&rule, &st, T0 + 8, 11.0));   /* at, downwards */
    assert_true(good_kept(&rule, &st, T0 + 9, 10.75));   /* above, downwards */
    assert_false(good_kept(&rule, &st, T0 + 10, 10.75)); /* equal */
}

static void test_no_deadband(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {0};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 1));
    assert_false(good_kept(&rule, &st, T0 + 1, 1)); /* equal: never */
    assert_true(good_kept(&rule, &st, T0 + 2, nextafter(1, 2)));
    assert_true(good_kept(&rule, &st, T0 + 3, 0.0));
    assert_false(good_kept(&rule, &st, T0 + 4, -0.0)); /* equal to 0 */
    /* A negative deadband (the loader refuses it) counts as not set. */
    struct bw_log_rule negative = {.deadband = -1, .deadband_percent = -1};
    bw_log_state_init(&st);
    assert_true(good_kept(&negative, &st, T0, 1));
    assert_true(good_kept(&negative, &st, T0 + 1, 1.5));
    assert_false(good_kept(&negative, &st, T0 + 2, 1.5));
}

static void test_percent_deadband_of_span(void **unused)
{
    (void)unused;
    /* 5 % of a span of 40: 2. */
    struct bw_log_rule rule = {.deadband_percent = 5, .span = 40};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_false(good_kept(&rule, &st, T0 + 1, 11.5)); /* below */
    assert_false(good_kept(&rule, &st, T0 + 2, 12));   /* at */
    assert_false(good_kept(&rule, &st, T0 + 3, 8));    /* at, downwards */
    assert_true(good_kept(&rule, &st, T0 + 4, 12.5));  /* above */
    /* The span, not the value's magnitude: still 2 around 12.5. */
    assert_false(good_kept(&rule, &st, T0 + 5, 10.5));
    assert_true(good_kept(&rule, &st, T0 + 6, 10.25));
}

static void test_percent_deadband_of_last_value(void **unused)
{
    (void)unused;
    /* No span: 4 % of the last kept value's magnitude. */
    struct bw_log_rule rule = {.deadband_percent = 4};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, -50)); /* threshold 2 */
    assert_false(good_kept(&rule, &st, T0 + 1, -51.5));
    assert_false(good_kept(&rule, &st, T0 + 2, -52)); /* at */
    assert_false(good_kept(&rule, &st, T0 + 3, -48)); /* at, upwards */
    assert_true(good_kept(&rule, &st, T0 + 4, -47.5));
    /* The threshold follows the last kept value: 4 % of 100 is 4. */
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 100));
    assert_false(good_kept(&rule, &st, T0 + 1, 103));
    assert_false(good_kept(&rule, &st, T0 + 2, 104));
    assert_true(good_kept(&rule, &st, T0 + 3, 104.5));
    /* Around 0 the threshold is 0: any different value is kept. */
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 0));
    assert_false(good_kept(&rule, &st, T0 + 1, 0));
    assert_true(good_kept(&rule, &st, T0 + 2, 1e-9));
}

static void test_both_deadbands(void **unused)
{
    (void)unused;
    /* Absolute 1, percent 2 (5 % of 40): a change must exceed both. */
    struct bw_log_rule rule = {.deadband = 1, .deadband_percent = 5, .span = 40};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_false(good_kept(&rule, &st, T0 + 1, 11.5)); /* exceeds the absolute only */
    assert_false(good_kept(&rule, &st, T0 + 2, 12));   /* at the percent one */
    assert_true(good_kept(&rule, &st, T0 + 3, 12.5));  /* exceeds both */
    /* Absolute 3, percent 2: now the absolute one is the wider. */
    rule.deadband = 3;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_false(good_kept(&rule, &st, T0 + 1, 12.5)); /* exceeds the percent only */
    assert_false(good_kept(&rule, &st, T0 + 2, 13));   /* at the absolute one */
    assert_true(good_kept(&rule, &st, T0 + 3, 13.5));  /* exceeds both */
    assert_true(good_kept(&rule, &st, T0 + 4, 10));    /* both, downwards */
}

/* ---- quality ----------------------------------------------------------- */

static void test_quality_changes(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.deadband = 1000}; /* values alone never pass */
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    /* good -> bad -> good, same value */
    assert_true(change(&rule, &st, bad(T0 + 1, 10, BW_REASON_COMM_FAILURE)));
    assert_false(change(&rule, &st, bad(T0 + 2, 10, BW_REASON_COMM_FAILURE)));
    assert_true(good_kept(&rule, &st, T0 + 3, 10));
    /* a reason change of the same quality */
    assert_true(change(&rule, &st, bad(T0 + 4, 10, BW_REASON_COMM_FAILURE)));
    assert_true(change(&rule, &st, bad(T0 + 5, 10, BW_REASON_NOT_CONNECTED)));
    /* uncertain is a quality of its own; its reasons count too */
    assert_true(change(&rule, &st, sample(T0 + 6, 10, BW_QUALITY_UNCERTAIN, BW_REASON_LAST_KNOWN)));
    assert_true(
        change(&rule, &st, sample(T0 + 7, 10, BW_QUALITY_UNCERTAIN, BW_REASON_SUBSTITUTED)));
    assert_false(
        change(&rule, &st, sample(T0 + 8, 11, BW_QUALITY_UNCERTAIN, BW_REASON_SUBSTITUTED)));
    assert_true(good_kept(&rule, &st, T0 + 9, 11));
}

static void test_bad_values_ignored(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {0}; /* any value change would count */
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 1));
    assert_true(change(&rule, &st, bad(T0 + 1, 1, BW_REASON_SENSOR_FAILURE)));
    assert_false(change(&rule, &st, bad(T0 + 2, 5, BW_REASON_SENSOR_FAILURE)));
    assert_false(change(&rule, &st, bad(T0 + 3, -7, BW_REASON_SENSOR_FAILURE)));
    /* still the current value, though not kept */
    assert_true(st.current.value == -7);
    assert_true(st.current.ts_us == T0 + 3);
    assert_true(st.logged.value == 1);
    /* back to good with the bad value: kept (quality changed) */
    assert_true(good_kept(&rule, &st, T0 + 4, -7));
    /* uncertain values are values: the deadband applies */
    assert_true(change(&rule, &st, sample(T0 + 5, -7, BW_QUALITY_UNCERTAIN, BW_REASON_LAST_KNOWN)));
    assert_true(change(&rule, &st, sample(T0 + 6, -6, BW_QUALITY_UNCERTAIN, BW_REASON_LAST_KNOWN)));
}

/* ---- cyclic ------------------------------------------------------------ */

static void test_cyclic_changes_not_kept(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.mode = BW_LOG_CYCLIC, .period_us = SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0 + 300000, 1));
    assert_true(st.have_current);
    assert_false(st.have_logged);
    assert_true(st.next_due_us == T0 + SEC);
    assert_false(good_kept(&rule, &st, T0 + 700000, 2));
    assert_true(st.current.value == 2);
    assert_true(st.next_due_us == T0 + SEC); /* the first due time does not move */
    expect_no_tick(&rule, &st, T0 + SEC - 1);
    expect_tick(&rule, &st, T0 + SEC, T0 + SEC, 2);
    assert_true(st.next_due_us == T0 + 2 * SEC);
    expect_no_tick(&rule, &st, T0 + SEC); /* each due time once */
    expect_no_tick(&rule, &st, T0 + 2 * SEC - 1);
    /* a tick a little late is stamped at the due time, not at now */
    assert_false(good_kept(&rule, &st, T0 + 2 * SEC - 5, 3));
    expect_tick(&rule, &st, T0 + 2 * SEC + 123, T0 + 2 * SEC, 3);
    assert_true(st.next_due_us == T0 + 3 * SEC);
    /* the quality is carried too */
    assert_false(change(&rule, &st, bad(T0 + 2 * SEC + 500, 3, BW_REASON_COMM_FAILURE)));
    struct bw_sample out;
    assert_true(tick(&rule, &st, T0 + 3 * SEC, &out));
    assert_int_equal(out.quality, BW_QUALITY_BAD);
    assert_int_equal(out.reason, BW_REASON_COMM_FAILURE);
}

static void test_cyclic_alignment(void **unused)
{
    (void)unused;
    /* Two tags of one period, first values at different moments: logged
     * at the same instants, the multiples of 5 s since the epoch. */
    struct bw_log_rule rule = {.mode = BW_LOG_CYCLIC, .period_us = 5 * SEC};
    struct bw_log_state a, b;
    bw_log_state_init(&a);
    bw_log_state_init(&b);
    assert_false(good_kept(&rule, &a, T0 + 100000, 1));
    assert_false(good_kept(&rule, &b, T0 + 2300000, 2));
    assert_true(a.next_due_us == T0 + 5 * SEC);
    assert_true(b.next_due_us == T0 + 5 * SEC);
    for (int64_t k = 1; k <= 3; k++) {
        expect_tick(&rule, &a, T0 + k * 5 * SEC, T0 + k * 5 * SEC, 1);
        expect_tick(&rule, &b, T0 + k * 5 * SEC + 7, T0 + k * 5 * SEC, 2);
    }
    /* A first value on a multiple is logged at that instant. */
    struct bw_log_state c;
    bw_log_state_init(&c);
    assert_false(good_kept(&rule, &c, T0 + 20 * SEC, 3));
    assert_true(c.next_due_us == T0 + 20 * SEC);
    expect_tick(&rule, &c, T0 + 20 * SEC, T0 + 20 * SEC, 3);
    assert_true(c.next_due_us == T0 + 25 * SEC);
    /* An odd period, 7 s: multiples since the epoch too. */
    struct bw_log_rule odd = {.mode = BW_LOG_CYCLIC, .period_us = 7 * SEC};
    bw_log_state_init(&c);
    assert_false(good_kept(&odd, &c, T0 + 1, 4));
    int64_t first = (T0 / (7 * SEC) + 1) * 7 * SEC;
    assert_true(c.next_due_us == first);
    assert_true(c.next_due_us % (7 * SEC) == 0);
    expect_tick(&odd, &c, first, first, 4);
}

static void test_cyclic_without_value(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.mode = BW_LOG_CYCLIC, .period_us = SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    expect_no_tick(&rule, &st, T0);
    expect_no_tick(&rule, &st, T0 + 3600 * SEC);
    assert_true(st.next_due_us == 0);
    /* No sample before the first value: the first is at the next due
     * time after it, whatever ticks came before. */
    assert_false(good_kept(&rule, &st, T0 + 3600 * SEC + 1, 9));
    expect_no_tick(&rule, &st, T0 + 3600 * SEC + 2);
    expect_tick(&rule, &st, T0 + 3601 * SEC, T0 + 3601 * SEC, 9);
    /* A period of 0 (the loader refuses it) logs nothing. */
    struct bw_log_rule none = {.mode = BW_LOG_CYCLIC};
    bw_log_state_init(&st);
    assert_false(good_kept(&none, &st, T0, 1));
    assert_true(st.next_due_us == 0);
    expect_no_tick(&none, &st, T0 + 3600 * SEC);
}

static void test_cyclic_catch_up(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.mode = BW_LOG_CYCLIC, .period_us = SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0 + SEC / 2, 5));
    /* 3.5 periods late: each missed due time once, in turn. */
    int64_t now = T0 + 4 * SEC + SEC / 2;
    for (int64_t k = 1; k <= 4; k++)
        expect_tick(&rule, &st, now, T0 + k * SEC, 5);
    expect_no_tick(&rule, &st, now);
    assert_true(st.next_due_us == T0 + 5 * SEC);
}

/* Ticks at now until nothing is due; returns how many samples came,
 * checking that they are consecutive multiples of step; *first and
 * *last are the first and last stamps. */
static int64_t drain(const struct bw_log_rule *rule, struct bw_log_state *st, int64_t now,
                     int64_t step, int64_t *first, int64_t *last)
{
    struct bw_sample out;
    int64_t n = 0;
    while (tick(rule, st, now, &out)) {
        if (n == 0)
            *first = out.ts_us;
        else
            assert_true(out.ts_us == *last + step);
        *last = out.ts_us;
        n++;
        assert_true(n <= 100000);
    }
    return n;
}

static void test_cyclic_catch_up_cap(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.mode = BW_LOG_CYCLIC, .period_us = SEC};
    struct bw_log_state st;
    int64_t first = 0, last = 0;

    /* 3600 missed due times: all returned. */
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0, 1));
    expect_tick(&rule, &st, T0, T0, 1);
    assert_true(drain(&rule, &st, T0 + 3600 * SEC, SEC, &first, &last) == 3600);
    assert_true(first == T0 + SEC);
    assert_true(last == T0 + 3600 * SEC);
    assert_true(st.next_due_us == T0 + 3601 * SEC);

    /* 3601: the oldest is skipped. */
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0, 1));
    expect_tick(&rule, &st, T0, T0, 1);
    assert_true(drain(&rule, &st, T0 + 3601 * SEC + SEC / 2, SEC, &first, &last) == 3600);
    assert_true(first == T0 + 2 * SEC);
    assert_true(last == T0 + 3601 * SEC);

    /* 10000: the latest 3600, up to the last due time before now. */
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0, 1));
    expect_tick(&rule, &st, T0, T0, 1);
    assert_true(drain(&rule, &st, T0 + 10000 * SEC + SEC / 2, SEC, &first, &last) == 3600);
    assert_true(first == T0 + 6401 * SEC);
    assert_true(last == T0 + 10000 * SEC);
    assert_true(st.next_due_us == T0 + 10001 * SEC);

    /* The cap holds for the first samples after the first value too. */
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0 + 1, 1));
    assert_true(drain(&rule, &st, T0 + 86400 * SEC, SEC, &first, &last) == 3600);
    assert_true(first == T0 + (86400 - 3599) * SEC);
    assert_true(last == T0 + 86400 * SEC);
}

/* ---- maximum interval ------------------------------------------------- */

static void test_max_interval_on_change(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.deadband = 10, .max_interval_us = 60 * SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    expect_no_tick(&rule, &st, T0 + 3600 * SEC);
    assert_true(st.next_due_us == 0);
    assert_true(good_kept(&rule, &st, T0 + 7 * SEC, 1));
    assert_true(st.next_due_us == T0 + 67 * SEC);
    expect_no_tick(&rule, &st, T0 + 67 * SEC - 1);
    expect_tick(&rule, &st, T0 + 67 * SEC, T0 + 67 * SEC, 1);
    assert_true(st.next_due_us == T0 + 127 * SEC);
    expect_no_tick(&rule, &st, T0 + 67 * SEC);
    /* late by two intervals and more: stamped at each missed due time */
    expect_tick(&rule, &st, T0 + 250 * SEC, T0 + 127 * SEC, 1);
    expect_tick(&rule, &st, T0 + 250 * SEC, T0 + 187 * SEC, 1);
    expect_tick(&rule, &st, T0 + 250 * SEC, T0 + 247 * SEC, 1);
    expect_no_tick(&rule, &st, T0 + 250 * SEC);
    assert_true(st.next_due_us == T0 + 307 * SEC);
    /* a bad value is still in force: logged again too */
    assert_true(change(&rule, &st, bad(T0 + 300 * SEC, 1, BW_REASON_NOT_CONNECTED)));
    struct bw_sample out;
    assert_true(tick(&rule, &st, T0 + 360 * SEC, &out));
    assert_true(out.ts_us == T0 + 360 * SEC);
    assert_int_equal(out.quality, BW_QUALITY_BAD);
    assert_int_equal(out.reason, BW_REASON_NOT_CONNECTED);
}

static void test_max_interval_reset_by_change(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.deadband = 1, .max_interval_us = 10 * SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_true(st.next_due_us == T0 + 10 * SEC);
    /* a change not kept does not reset the interval */
    assert_false(good_kept(&rule, &st, T0 + 5 * SEC, 10.5));
    assert_true(st.next_due_us == T0 + 10 * SEC);
    /* a kept one does */
    assert_true(good_kept(&rule, &st, T0 + 8 * SEC, 12));
    assert_true(st.next_due_us == T0 + 18 * SEC);
    expect_no_tick(&rule, &st, T0 + 10 * SEC);
    expect_no_tick(&rule, &st, T0 + 18 * SEC - 1);
    expect_tick(&rule, &st, T0 + 18 * SEC, T0 + 18 * SEC, 12);
    /* and so does a quality change */
    assert_true(change(&rule, &st, bad(T0 + 20 * SEC, 12, BW_REASON_COMM_FAILURE)));
    assert_true(st.next_due_us == T0 + 30 * SEC);
}

static void test_max_interval_carries_current(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.deadband = 1, .max_interval_us = 10 * SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_false(good_kept(&rule, &st, T0 + 3 * SEC, 10.75));
    /* the value in force, stamped at the due time */
    expect_tick(&rule, &st, T0 + 10 * SEC, T0 + 10 * SEC, 10.75);
    /* the deadband now counts from it */
    assert_false(good_kept(&rule, &st, T0 + 12 * SEC, 11.5));  /* 0.75 from 10.75 */
    assert_false(good_kept(&rule, &st, T0 + 13 * SEC, 11.75)); /* at */
    assert_true(good_kept(&rule, &st, T0 + 14 * SEC, 12));
    /* a change at a due time just logged is not kept (same instant) */
    expect_tick(&rule, &st, T0 + 24 * SEC, T0 + 24 * SEC, 12);
    assert_false(good_kept(&rule, &st, T0 + 24 * SEC, 50));
    assert_true(good_kept(&rule, &st, T0 + 24 * SEC + 1, 50));
}

static void test_max_interval_catch_up_cap(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.max_interval_us = SEC};
    struct bw_log_state st;
    int64_t first = 0, last = 0;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 1));
    assert_true(drain(&rule, &st, T0 + 5000 * SEC, SEC, &first, &last) == 3600);
    assert_true(first == T0 + 1401 * SEC);
    assert_true(last == T0 + 5000 * SEC);
    assert_true(st.next_due_us == T0 + 5001 * SEC);
    /* exactly 3600 missed: none skipped */
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 1));
    assert_true(drain(&rule, &st, T0 + 3600 * SEC + SEC - 1, SEC, &first, &last) == 3600);
    assert_true(first == T0 + SEC);
    assert_true(last == T0 + 3600 * SEC);
}

static void test_max_interval_cyclic(void **unused)
{
    (void)unused;
    /* A maximum interval shorter than the period: both schedules, the
     * earlier first, the interval counted from the last sample of either. */
    struct bw_log_rule rule = {
        .mode = BW_LOG_CYCLIC, .period_us = 10 * SEC, .max_interval_us = 4 * SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0 + SEC, 7));
    assert_true(st.next_due_us == T0 + 10 * SEC); /* no interval before a sample */
    static const int64_t want[] = {10, 14, 18, 20, 24, 28, 30, 34};
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++) {
        assert_true(st.next_due_us == T0 + want[i] * SEC);
        expect_tick(&rule, &st, T0 + 40 * SEC, T0 + want[i] * SEC, 7);
    }
    /* The same interval as the period: one sample a period, never two. */
    struct bw_log_rule same = {
        .mode = BW_LOG_CYCLIC, .period_us = 10 * SEC, .max_interval_us = 10 * SEC};
    int64_t first = 0, last = 0;
    bw_log_state_init(&st);
    assert_false(good_kept(&same, &st, T0 + SEC, 7));
    assert_true(drain(&same, &st, T0 + 40 * SEC, 10 * SEC, &first, &last) == 4);
    assert_true(first == T0 + 10 * SEC);
    assert_true(last == T0 + 40 * SEC);
}

/* ---- order and values ---------------------------------------------------- */

static void test_out_of_order(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.max_interval_us = 10 * SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0 + 10 * SEC, 1));
    /* older than the last kept sample: ignored, and not current either
     * (older than the current value) */
    assert_false(good_kept(&rule, &st, T0 + 5 * SEC, 2));
    assert_true(st.current.value == 1);
    assert_true(st.current.ts_us == T0 + 10 * SEC);
    /* at the same instant: not kept, but it replaces the current value
     * (the engine applied it later) and the maximum interval logs it */
    assert_false(good_kept(&rule, &st, T0 + 10 * SEC, 3));
    assert_true(st.current.value == 3);
    assert_true(st.logged.value == 1);
    assert_true(st.next_due_us == T0 + 20 * SEC);
    expect_tick(&rule, &st, T0 + 20 * SEC, T0 + 20 * SEC, 3);
    /* a change stamped before a due sample already logged: ignored */
    assert_false(good_kept(&rule, &st, T0 + 19 * SEC, 4));
    assert_true(st.current.value == 4); /* newer than the current value */
    assert_true(st.logged.ts_us == T0 + 20 * SEC);
}

static void test_older_than_current(void **unused)
{
    (void)unused;
    /* Newer than the last kept sample but older than the current value:
     * kept (the series stays increasing), yet not current. */
    struct bw_log_rule rule = {.deadband = 1};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_true(good_kept(&rule, &st, T0, 10));
    assert_false(good_kept(&rule, &st, T0 + 5 * SEC, 10.5));
    assert_true(good_kept(&rule, &st, T0 + 3 * SEC, 20));
    assert_true(st.logged.value == 20);
    assert_true(st.current.value == 10.5);
    assert_true(st.current.ts_us == T0 + 5 * SEC);
    assert_false(good_kept(&rule, &st, T0 + 2 * SEC, 40)); /* before the kept 20 */
}

static void test_non_finite(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.max_interval_us = SEC};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0, NAN));
    assert_false(st.have_current);
    assert_false(st.have_logged);
    assert_true(st.next_due_us == 0);
    assert_true(good_kept(&rule, &st, T0 + 1, 1));
    assert_false(good_kept(&rule, &st, T0 + 2, NAN));
    assert_false(good_kept(&rule, &st, T0 + 3, INFINITY));
    assert_false(good_kept(&rule, &st, T0 + 4, -INFINITY));
    assert_true(st.current.value == 1);
    assert_true(st.current.ts_us == T0 + 1);
    assert_int_equal(st.current.quality, BW_QUALITY_GOOD);
    expect_tick(&rule, &st, T0 + 1 + SEC, T0 + 1 + SEC, 1);
    /* A bad value that is not a number is a change of quality (kept as
     * 0; test_bad_quality_nan_kept). */
    struct bw_sample nan_bad = bad(T0 + 5 + SEC, NAN, BW_REASON_COMM_FAILURE), kept;
    assert_true(bw_log_on_change(&rule, &st, &nan_bad, &kept));
    assert_true(kept.value == 0 && st.current.value == 0);
    /* Cyclic: a NaN does not start the schedule. */
    struct bw_log_rule cyclic = {.mode = BW_LOG_CYCLIC, .period_us = SEC};
    bw_log_state_init(&st);
    assert_false(good_kept(&cyclic, &st, T0, NAN));
    assert_true(st.next_due_us == 0);
    expect_no_tick(&cyclic, &st, T0 + 10 * SEC);
}

static void test_epoch_ignored(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {0};
    struct bw_log_state st;
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, 0, 1));
    assert_false(good_kept(&rule, &st, -SEC, 1));
    assert_false(st.have_current);
    assert_true(good_kept(&rule, &st, 1, 1));
}

/* ---- next_due_us ------------------------------------------------------- */

static void test_next_due(void **unused)
{
    (void)unused;
    struct bw_log_state st;

    /* on change, no maximum interval: never anything due */
    struct bw_log_rule plain = {.deadband = 1};
    bw_log_state_init(&st);
    assert_true(good_kept(&plain, &st, T0, 1));
    assert_true(st.next_due_us == 0);
    assert_false(good_kept(&plain, &st, T0 + 1, 1.5));
    assert_true(st.next_due_us == 0);
    expect_no_tick(&plain, &st, INT64_MAX);

    /* on change with a maximum interval: the last kept sample + interval */
    struct bw_log_rule max = {.max_interval_us = 30 * SEC};
    bw_log_state_init(&st);
    assert_true(st.next_due_us == 0);
    assert_true(good_kept(&max, &st, T0 + 123, 1));
    assert_true(st.next_due_us == T0 + 123 + 30 * SEC);

    /* cyclic: 0 without a value, then the next multiple */
    struct bw_log_rule cyc = {.mode = BW_LOG_CYCLIC, .period_us = 60 * SEC};
    bw_log_state_init(&st);
    expect_no_tick(&cyc, &st, T0);
    assert_true(st.next_due_us == 0);
    assert_false(good_kept(&cyc, &st, T0 + 61 * SEC, 1));
    assert_true(st.next_due_us == T0 + 120 * SEC);
    expect_tick(&cyc, &st, T0 + 130 * SEC, T0 + 120 * SEC, 1);
    assert_true(st.next_due_us == T0 + 180 * SEC); /* already passed or not: the next one */

    /* cyclic with a shorter interval: the earlier of the two */
    struct bw_log_rule both = {
        .mode = BW_LOG_CYCLIC, .period_us = 60 * SEC, .max_interval_us = 45 * SEC};
    bw_log_state_init(&st);
    assert_false(good_kept(&both, &st, T0 + SEC, 1));
    assert_true(st.next_due_us == T0 + 60 * SEC);
    expect_tick(&both, &st, T0 + 60 * SEC, T0 + 60 * SEC, 1);
    assert_true(st.next_due_us == T0 + 105 * SEC);
    expect_tick(&both, &st, T0 + 105 * SEC, T0 + 105 * SEC, 1);
    assert_true(st.next_due_us == T0 + 120 * SEC);

    /* A caller sleeping until the earliest due time of its tags. */
    struct bw_log_state tags[3];
    const struct bw_log_rule *rules[3] = {&plain, &max, &cyc};
    int64_t earliest = INT64_MAX;
    for (int i = 0; i < 3; i++) {
        bw_log_state_init(&tags[i]);
        (void)good_kept(rules[i], &tags[i], T0 + SEC, 1);
        if (tags[i].next_due_us != 0 && tags[i].next_due_us < earliest)
            earliest = tags[i].next_due_us;
    }
    assert_true(earliest == T0 + 31 * SEC);
}

/* A caller that ticks up to just before each change gets every due
 * sample with the value then in force; one that does not gets the value
 * current when it ticks (documented). */
static void test_tick_before_change(void **unused)
{
    (void)unused;
    struct bw_log_rule rule = {.mode = BW_LOG_CYCLIC, .period_us = SEC};
    struct bw_log_state st;
    struct bw_sample out;
    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0 + SEC / 2, 1));
    struct bw_sample b = good(T0 + 2 * SEC + SEC / 2, 2);
    while (tick(&rule, &st, b.ts_us - 1, &out))
        assert_true(out.value == 1);
    assert_true(st.logged.ts_us == T0 + 2 * SEC);
    assert_false(change(&rule, &st, b));
    expect_tick(&rule, &st, T0 + 3 * SEC, T0 + 3 * SEC, 2);

    bw_log_state_init(&st);
    assert_false(good_kept(&rule, &st, T0 + SEC / 2, 1));
    assert_false(change(&rule, &st, b));
    expect_tick(&rule, &st, T0 + 3 * SEC, T0 + SEC, 2);
}

/* ---- the series ------------------------------------------------------------ */

/* A small deterministic generator (no rand in this tree). */
static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return *seed >> 8;
}

static void check_series(const struct bw_log_rule *rule)
{
    struct bw_log_state st;
    struct bw_sample out;
    uint32_t seed = 12345;
    int64_t now = T0, last = INT64_MIN;
    int kept = 0;
    bw_log_state_init(&st);
    for (int i = 0; i < 20000; i++) {
        now += (int64_t)(next_random(&seed) % 3000) * 1000;
        uint32_t r = next_random(&seed);
        double value = (double)(r % 200) / 8.0;
        uint8_t quality = r % 17 == 0 ? BW_QUALITY_BAD : BW_QUALITY_GOOD;
        uint8_t reason = quality == BW_QUALITY_BAD ? BW_REASON_COMM_FAILURE : BW_REASON_NONE;
        /* now and then a change delivered late, up to 5 s */
        int64_t ts = r % 11 == 0 ? now - (int64_t)(r % 5000) * 1000 : now;
        struct bw_sample c = sample(ts, r % 97 == 0 ? NAN : value, quality, reason);
        if (bw_log_on_change(rule, &st, &c, &out)) {
            assert_true(out.ts_us > last);
            last = out.ts_us;
            kept++;
        }
        while (bw_log_on_tick(rule, &st, now, &out)) {
            assert_true(out.ts_us > last);
            assert_true(out.ts_us <= now);
            assert_true(isfinite(out.value));
            last = out.ts_us;
            kept++;
        }
        assert_true(st.next_due_us == 0 || st.next_due_us > now);
    }
    assert_true(kept > 100);
}

static void test_series_increasing(void **unused)
{
    (void)unused;
    struct bw_log_rule on_change = {.deadband = 2, .max_interval_us = 10 * SEC};
    struct bw_log_rule cyclic = {
        .mode = BW_LOG_CYCLIC, .period_us = 2 * SEC, .max_interval_us = 1500000};
    check_series(&on_change);
    check_series(&cyclic);
}

/* A change to bad quality whose value is not a number is still kept
 * (as 0): the change of quality is what matters. */
static void test_bad_quality_nan_kept(void **state)
{
    (void)state;
    struct bw_log_rule rule = {.mode = BW_LOG_ON_CHANGE};
    struct bw_log_state st;
    bw_log_state_init(&st);
    struct bw_sample out;
    struct bw_sample good = {.ts_us = 1000000, .value = 5, .quality = 2};
    assert_true(bw_log_on_change(&rule, &st, &good, &out));
    struct bw_sample bad = {.ts_us = 2000000, .value = NAN, .quality = 0, .reason = 3};
    assert_true(bw_log_on_change(&rule, &st, &bad, &out));
    assert_int_equal(out.quality, 0);
    assert_true(out.value == 0);
    /* A good NaN is still refused. */
    struct bw_sample nan = {.ts_us = 3000000, .value = NAN, .quality = 2};
    assert_false(bw_log_on_change(&rule, &st, &nan, &out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_quality_nan_kept),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_first_change_kept),
        cmocka_unit_test(test_absolute_deadband),
        cmocka_unit_test(test_no_deadband),
        cmocka_unit_test(test_percent_deadband_of_span),
        cmocka_unit_test(test_percent_deadband_of_last_value),
        cmocka_unit_test(test_both_deadbands),
        cmocka_unit_test(test_quality_changes),
        cmocka_unit_test(test_bad_values_ignored),
        cmocka_unit_test(test_cyclic_changes_not_kept),
        cmocka_unit_test(test_cyclic_alignment),
        cmocka_unit_test(test_cyclic_without_value),
        cmocka_unit_test(test_cyclic_catch_up),
        cmocka_unit_test(test_cyclic_catch_up_cap),
        cmocka_unit_test(test_max_interval_on_change),
        cmocka_unit_test(test_max_interval_reset_by_change),
        cmocka_unit_test(test_max_interval_carries_current),
        cmocka_unit_test(test_max_interval_catch_up_cap),
        cmocka_unit_test(test_max_interval_cyclic),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_older_than_current),
        cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_epoch_ignored),
        cmocka_unit_test(test_next_due),
        cmocka_unit_test(test_tick_before_change),
        cmocka_unit_test(test_series_increasing),
    };
    return cmocka_run_group_tests_name("store_logrule", tests, NULL, NULL);
}
