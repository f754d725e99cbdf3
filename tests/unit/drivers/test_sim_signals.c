/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the simulator's PRNG and signal shapes: exact values at
 * known instants, period wrap, bounds, and reproducibility of the random
 * walk from its seed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/sim/sim_internal.h"

#include <math.h>

#define EPS 1e-9

/* cmocka 1.1's assert_float_equal compares in float; the model needs
 * double precision. */
#define assert_near(a, b, eps) near_check((a), (b), (eps), #a, __FILE__, __LINE__)
static void near_check(double a, double b, double eps, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%s = %.12g, expected %.12g +- %g\n", what, a, b, eps);
        _fail(file, line);
    }
}

static void test_prng_reproducible(void **state)
{
    (void)state;
    struct bw_sim_prng a, b, c;
    bw_sim_prng_seed(&a, 42);
    bw_sim_prng_seed(&b, 42);
    bw_sim_prng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = bw_sim_prng_next(&a);
        assert_int_equal(x, bw_sim_prng_next(&b));
        differ += x != bw_sim_prng_next(&c);
    }
    assert_true(differ > 990);
}

static void test_prng_unit_range(void **state)
{
    (void)state;
    struct bw_sim_prng p;
    bw_sim_prng_seed(&p, 0); /* seed 0 must work too */
    double sum = 0.0, lo = 1.0, hi = -1.0;
    for (int i = 0; i < 100000; i++) {
        double u = bw_sim_prng_unit(&p);
        assert_true(u >= 0.0 && u < 1.0);
        double s = bw_sim_prng_signed(&p);
        assert_true(s >= -1.0 && s < 1.0);
        sum += u;
        lo = fmin(lo, s);
        hi = fmax(hi, s);
    }
    /* A mean far from 0.5 or a narrow spread means a broken generator. */
    assert_true(fabs(sum / 100000.0 - 0.5) < 0.01);
    assert_true(lo < -0.99 && hi > 0.99);
}

static void test_sine(void **state)
{
    (void)state;
    assert_near(bw_sim_signal_sine(10, 30, 1000, 0), 20.0, EPS);
    assert_near(bw_sim_signal_sine(10, 30, 1000, 250), 30.0, EPS);
    assert_near(bw_sim_signal_sine(10, 30, 1000, 500), 20.0, EPS);
    assert_near(bw_sim_signal_sine(10, 30, 1000, 750), 10.0, EPS);
    /* Wraps: one period later, and before zero. */
    assert_near(bw_sim_signal_sine(10, 30, 1000, 1250), 30.0, EPS);
    assert_near(bw_sim_signal_sine(10, 30, 1000, -250), 10.0, EPS);
    assert_near(bw_sim_signal_sine(10, 30, 0, 123), 20.0, EPS);
    for (int64_t t = 0; t < 3000; t += 7) {
        double v = bw_sim_signal_sine(-5, 5, 1000, t);
        assert_true(v >= -5.0 - EPS && v <= 5.0 + EPS);
    }
}

static void test_ramp(void **state)
{
    (void)state;
    assert_near(bw_sim_signal_ramp(0, 100, 1000, 0), 0.0, EPS);
    assert_near(bw_sim_signal_ramp(0, 100, 1000, 250), 25.0, EPS);
    assert_near(bw_sim_signal_ramp(0, 100, 1000, 999), 99.9, EPS);
    assert_near(bw_sim_signal_ramp(0, 100, 1000, 1000), 0.0, EPS);
    assert_near(bw_sim_signal_ramp(0, 100, 1000, 2500), 50.0, EPS);
    assert_near(bw_sim_signal_ramp(0, 100, 1000, -250), 75.0, EPS);
    /* A falling ramp when min > max is just the same line. */
    assert_near(bw_sim_signal_ramp(10, 0, 1000, 500), 5.0, EPS);
}

static void test_square(void **state)
{
    (void)state;
    assert_near(bw_sim_signal_square(1, 9, 1000, 0), 9.0, EPS);
    assert_near(bw_sim_signal_square(1, 9, 1000, 499), 9.0, EPS);
    assert_near(bw_sim_signal_square(1, 9, 1000, 500), 1.0, EPS);
    assert_near(bw_sim_signal_square(1, 9, 1000, 999), 1.0, EPS);
    assert_near(bw_sim_signal_square(1, 9, 1000, 1000), 9.0, EPS);
    assert_near(bw_sim_signal_square(1, 9, 1000, -1), 1.0, EPS);
    /* Odd period: first half is the shorter one, 0..1 of 3. */
    assert_near(bw_sim_signal_square(1, 9, 3, 1), 9.0, EPS);
    assert_near(bw_sim_signal_square(1, 9, 3, 2), 1.0, EPS);
}

static void test_step(void **state)
{
    (void)state;
    const double steps[] = {100, 250, 400};
    assert_near(bw_sim_signal_step(steps, 3, 1000, 0), 100, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 1000, 999), 100, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 1000, 1000), 250, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 1000, 2500), 400, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 1000, 3000), 100, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 1000, 7000), 250, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 1000, -1), 400, EPS);
    assert_near(bw_sim_signal_step(steps, 0, 1000, 5), 0, EPS);
    assert_near(bw_sim_signal_step(NULL, 3, 1000, 5), 0, EPS);
    assert_near(bw_sim_signal_step(steps, 3, 0, 5000), 100, EPS);
}

static void test_walk_bounds_and_steps(void **state)
{
    (void)state;
    struct bw_sim_walk w;
    bw_sim_walk_init(&w, 0.0, 10.0, 7);
    assert_near(bw_sim_walk_eval(&w, 0.0, 10.0, 2.0, 100, 0), 5.0, EPS);
    double prev = 5.0;
    for (int64_t t = 100; t <= 200000; t += 100) {
        double v = bw_sim_walk_eval(&w, 0.0, 10.0, 2.0, 100, t);
        assert_true(v >= 0.0 && v <= 10.0);
        assert_true(fabs(v - prev) <= 2.0 + EPS);
        prev = v;
    }
    assert_int_equal(w.steps_done, 2000);
    /* Within one period, and for an earlier time, the value holds. */
    assert_near(bw_sim_walk_eval(&w, 0.0, 10.0, 2.0, 100, 200099), prev, 0.0);
    assert_near(bw_sim_walk_eval(&w, 0.0, 10.0, 2.0, 100, 1000), prev, 0.0);
}

static void test_walk_reproducible(void **state)
{
    (void)state;
    struct bw_sim_walk a, b, c;
    bw_sim_walk_init(&a, -1.0, 1.0, 99);
    bw_sim_walk_init(&b, -1.0, 1.0, 99);
    bw_sim_walk_init(&c, -1.0, 1.0, 100);
    /* The value at t depends on t only, not on how often it is asked. */
    for (int64_t t = 0; t <= 50000; t += 10)
        (void)bw_sim_walk_eval(&a, -1.0, 1.0, 0.1, 50, t);
    double vb = bw_sim_walk_eval(&b, -1.0, 1.0, 0.1, 50, 50000);
    double vc = bw_sim_walk_eval(&c, -1.0, 1.0, 0.1, 50, 50000);
    assert_near(a.value, vb, 0.0);
    assert_true(vb != vc);
}

static void test_walk_catchup_bounded(void **state)
{
    (void)state;
    struct bw_sim_walk w;
    bw_sim_walk_init(&w, 0.0, 1.0, 1);
    (void)bw_sim_walk_eval(&w, 0.0, 1.0, 0.01, 1, INT64_C(1) << 40);
    assert_int_equal(w.steps_done, INT64_C(1) << 40);
    assert_true(w.value >= 0.0 && w.value <= 1.0);
}

static void test_signal_eval_dispatch(void **state)
{
    (void)state;
    double steps[] = {1, 2};
    struct bw_project_signal s = {.shape = BW_SHAPE_SINE, .min = 0, .max = 2, .period_ms = 400};
    struct bw_sim_walk w;
    bw_sim_walk_init(&w, 0, 2, 3);
    assert_near(bw_sim_signal_eval(&s, &w, 100), 2.0, EPS);
    s.shape = BW_SHAPE_RAMP;
    assert_near(bw_sim_signal_eval(&s, &w, 100), 0.5, EPS);
    s.shape = BW_SHAPE_SQUARE;
    assert_near(bw_sim_signal_eval(&s, &w, 300), 0.0, EPS);
    s.shape = BW_SHAPE_STEP;
    s.steps = steps;
    s.step_count = 2;
    assert_near(bw_sim_signal_eval(&s, &w, 500), 2.0, EPS);
    /* random_walk with max_step 0 uses (max - min) / 50 per step. */
    s.shape = BW_SHAPE_RANDOM_WALK;
    double v = bw_sim_signal_eval(&s, &w, 400);
    assert_true(fabs(v - 1.0) <= 2.0 / 50.0 + EPS);
    assert_true(v != 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prng_reproducible),
        cmocka_unit_test(test_prng_unit_range),
        cmocka_unit_test(test_sine),
        cmocka_unit_test(test_ramp),
        cmocka_unit_test(test_square),
        cmocka_unit_test(test_step),
        cmocka_unit_test(test_walk_bounds_and_steps),
        cmocka_unit_test(test_walk_reproducible),
        cmocka_unit_test(test_walk_catchup_bounded),
        cmocka_unit_test(test_signal_eval_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
