/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the simulator's process model: pumps fill at their rated
 * flow, valves drain as the square root of the level, tanks clamp at 0
 * and at their height, a pump draws nothing from an empty tank, chlorine
 * follows dosing, mixing and decay, volume balances over a long run, and
 * the model is deterministic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/sim/sim_internal.h"

#include <math.h>
#include <string.h>

#define NO BW_SIM_NO_TANK

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

static void run(struct bw_sim_model *m, double seconds, double dt)
{
    for (double t = 0.0; t < seconds - 1e-9; t += dt)
        bw_sim_model_step(m, dt);
}

static void tank_set(struct bw_sim_model *m, size_t i, double area, double height, double level)
{
    m->tanks[i].area_m2 = area;
    m->tanks[i].height_m = height;
    m->tanks[i].level_m = level;
}

static void pump_set(struct bw_sim_model *m, size_t i, size_t from, size_t to, double flow,
                     bool running)
{
    m->pumps[i] = (struct bw_sim_pump){.from = from,
                                       .to = to,
                                       .rated_flow_m3h = flow,
                                       .rated_pressure_bar = 4.0,
                                       .running = running,
                                       .speed = running ? 1.0 : 0.0};
}

static void test_pump_fills_at_rated_flow(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 1, 1, 0, 0, 1), BW_OK);
    tank_set(&m, 0, 10.0, 10.0, 0.0);
    pump_set(&m, 0, NO, 0, 36.0, true);
    run(&m, 600.0, 1.0);
    /* 36 m3/h for 10 minutes is 6 m3, 0.6 m over 10 m2. */
    assert_near(bw_sim_tank_volume(&m.tanks[0]), 6.0, 1e-9);
    assert_near(m.tanks[0].level_m, 0.6, 1e-9);
    assert_near(m.in_m3, 6.0, 1e-9);
    assert_near(m.pumps[0].flow_m3h, 36.0, 1e-9);
    assert_near(m.tanks[0].inflow_m3h, 36.0, 1e-9);
    /* The transmitter reads the flow within its noise band. */
    assert_true(fabs(m.pumps[0].flow_meas_m3h - 36.0) <= 36.0 * BW_SIM_NOISE + 1e-9);
    bw_sim_model_clear(&m);
}

static void test_pump_spins_up_and_down(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 1, 1, 0, 0, 1), BW_OK);
    tank_set(&m, 0, 10.0, 10.0, 0.0);
    pump_set(&m, 0, NO, 0, 36.0, false);
    run(&m, 60.0, 1.0);
    assert_near(m.tanks[0].level_m, 0.0, 0.0);
    assert_near(m.pumps[0].flow_meas_m3h, 0.0, 0.0);
    assert_near(m.pumps[0].pressure_meas_bar, 0.0, 0.0);

    m.pumps[0].running = true;
    run(&m, 1.0, 1.0);
    /* One second into a three-second ramp: a third of the flow. */
    assert_near(m.pumps[0].flow_m3h, 12.0, 1e-9);
    assert_true(m.pumps[0].pressure_bar > 0.0 && m.pumps[0].pressure_bar < 4.0);
    run(&m, 599.0, 1.0);
    /* The ramp loses half its length of rated flow (Euler sub-steps of
     * 0.5 s take the speed at the end of each, hence the tolerance). */
    double expect = 36.0 / 3600.0 * (600.0 - BW_SIM_PUMP_RAMP_S / 2.0);
    assert_near(bw_sim_tank_volume(&m.tanks[0]), expect, 0.003);

    m.pumps[0].running = false;
    run(&m, 1.5, 0.5);
    assert_near(m.pumps[0].speed, 0.5, 1e-9);
    assert_true(m.pumps[0].flow_m3h > 0.0);
    run(&m, 1.5, 0.5);
    assert_near(m.pumps[0].speed, 0.0, 0.0);
    assert_near(m.pumps[0].flow_meas_m3h, 0.0, 0.0);
    assert_near(m.pumps[0].pressure_meas_bar, 0.0, 0.0);
    bw_sim_model_clear(&m);
}

static void test_pump_pressure_responds_to_head(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 2, 1, 0, 0, 1), BW_OK);
    tank_set(&m, 0, 1000.0, 5.0, 5.0);
    tank_set(&m, 1, 100.0, 10.0, 0.0);
    pump_set(&m, 0, 0, 1, 100.0, true);
    bw_sim_model_step(&m, 1.0);
    double d = m.tanks[1].level_m / 10.0 - m.tanks[0].level_m / 5.0;
    assert_near(m.pumps[0].pressure_bar, 4.0 * (1.0 - BW_SIM_HEAD_FACTOR * d), 1e-9);
    double p_low = m.pumps[0].pressure_bar;
    run(&m, 3600.0 * 5, 5.0);
    /* T2 rose by several metres: the discharge pressure fell slightly. */
    assert_true(m.tanks[1].level_m > 4.0);
    assert_true(m.pumps[0].pressure_bar < p_low);
    assert_true(m.pumps[0].pressure_bar > 0.9 * p_low);
    bw_sim_model_clear(&m);
}

static void test_valve_drains_sqrt_level(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 1, 0, 1, 0, 1), BW_OK);
    tank_set(&m, 0, 1.0, 4.0, 4.0);
    m.valves[0] = (struct bw_sim_valve){.from = 0, .to = NO, .rated_flow_m3h = 3.6};
    run(&m, 60.0, 1.0);
    assert_near(m.tanks[0].level_m, 4.0, 0.0); /* closed */

    m.valves[0].position_pct = 50.0;
    bw_sim_model_step(&m, 0.5);
    assert_near(m.valves[0].flow_m3h, 1.8, 1e-6);
    m.tanks[0].level_m = 4.0;
    m.out_m3 = 0.0;
    m.valves[0].position_pct = 100.0;
    /* dL/dt = -(q/A) sqrt(L/H): sqrt(L) = 2 - t/4000 with q = 1 l/s, so
     * the level is 1 m after 4000 s. */
    run(&m, 4000.0, 0.5);
    assert_near(m.tanks[0].level_m, 1.0, 2e-3);
    assert_near(m.out_m3, 3.0, 2e-3);
    bw_sim_model_clear(&m);
}

static void test_level_clamps(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 1, 1, 1, 0, 1), BW_OK);
    tank_set(&m, 0, 2.0, 3.0, 2.9);
    pump_set(&m, 0, NO, 0, 72.0, true);
    m.valves[0] = (struct bw_sim_valve){.from = 0, .to = NO, .rated_flow_m3h = 500.0};
    run(&m, 600.0, 1.0);
    /* 12 m3 pumped into 6 m3 of room: the rest overflowed. */
    assert_near(m.tanks[0].level_m, 3.0, 0.0);
    assert_near(m.overflow_m3, 12.0 - 0.2, 1e-9);

    m.pumps[0].running = false;
    m.valves[0].position_pct = 100.0;
    run(&m, 3600.0, 1.0);
    assert_true(m.tanks[0].level_m >= 0.0);
    assert_true(m.tanks[0].level_m < 1e-3);
    for (int i = 0; i < 100; i++) {
        bw_sim_model_step(&m, 1.0);
        assert_true(m.tanks[0].level_m >= 0.0);
    }
    bw_sim_model_clear(&m);
}

static void test_pump_from_empty_tank(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 2, 1, 0, 0, 1), BW_OK);
    tank_set(&m, 0, 1.0, 5.0, 0.0);
    tank_set(&m, 1, 1.0, 5.0, 1.0);
    pump_set(&m, 0, 0, 1, 36.0, true);
    run(&m, 60.0, 1.0);
    assert_near(m.tanks[1].level_m, 1.0, 0.0);
    assert_near(m.pumps[0].flow_meas_m3h, 0.0, 0.0);
    assert_near(m.pumps[0].pressure_meas_bar, 0.0, 0.0);

    /* 0.05 m3 in the from-tank: the pump moves exactly that, then stops
     * delivering although it still runs. */
    m.tanks[0].level_m = 0.05;
    run(&m, 60.0, 1.0);
    assert_near(m.tanks[0].level_m, 0.0, 1e-12);
    assert_near(m.tanks[1].level_m, 1.05, 1e-12);
    assert_true(m.pumps[0].running);
    assert_near(m.pumps[0].flow_m3h, 0.0, 0.0);
    bw_sim_model_clear(&m);
}

static void test_chlorine_dosing_mixing_decay(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 1, 1, 0, 1, 1), BW_OK);
    tank_set(&m, 0, 10.0, 10.0, 1.0); /* 10 m3 of undosed water */
    pump_set(&m, 0, NO, 0, 36.0, true);
    m.dosers[0] = (struct bw_sim_doser){.tank = 0, .max_dose_mg_l = 4.0, .rate_pct = 50.0};
    run(&m, 1000.0, 1.0); /* 10 m3 more at 2 mg/l */
    assert_near(m.dosers[0].dose_mg_l, 2.0, 1e-12);
    assert_near(m.tanks[0].chlorine_mg_l, 1.0, 1e-9);

    /* No inflow: the concentration holds without decay, and the doser
     * adds nothing. */
    m.pumps[0].running = false;
    m.pumps[0].speed = 0.0;
    run(&m, 600.0, 1.0);
    assert_near(m.tanks[0].chlorine_mg_l, 1.0, 1e-9);
    assert_near(m.dosers[0].dose_mg_l, 0.0, 0.0);

    m.dosers[0].decay_per_h = 0.5;
    run(&m, 3600.0, 0.5);
    assert_near(m.tanks[0].chlorine_mg_l, exp(-0.5), 1e-9);

    /* Dosing at 0 % dilutes towards 0. */
    m.dosers[0].decay_per_h = 0.0;
    m.dosers[0].rate_pct = 0.0;
    m.pumps[0].running = true;
    m.pumps[0].speed = 1.0;
    double c0 = m.tanks[0].chlorine_mg_l;
    run(&m, 2000.0, 1.0); /* 20 m3 at 0 mg/l into 20 m3 */
    assert_near(m.tanks[0].chlorine_mg_l, c0 / 2.0, 1e-9);
    bw_sim_model_clear(&m);
}

static void test_chlorine_carried_downstream(void **state)
{
    (void)state;
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_alloc(&m, 2, 0, 1, 0, 1), BW_OK);
    tank_set(&m, 0, 10.0, 5.0, 5.0);
    tank_set(&m, 1, 10.0, 5.0, 0.0);
    m.tanks[0].chlorine_mg_l = 0.8;
    m.valves[0] =
        (struct bw_sim_valve){.from = 0, .to = 1, .rated_flow_m3h = 20.0, .position_pct = 100};
    run(&m, 1800.0, 1.0);
    assert_true(m.tanks[1].level_m > 0.5);
    assert_near(m.tanks[1].chlorine_mg_l, 0.8, 1e-9);
    assert_near(bw_sim_model_volume(&m), 50.0, 1e-9);
    bw_sim_model_clear(&m);
}

/* The demo plant's topology with operator actions from a seeded PRNG. */
static void plant_build(struct bw_sim_model *m)
{
    assert_int_equal(bw_sim_model_alloc(m, 2, 3, 2, 1, 5), BW_OK);
    tank_set(m, 0, 200.0, 5.0, 2.5);
    tank_set(m, 1, 80.0, 8.0, 4.0);
    pump_set(m, 0, NO, 0, 120.0, true);
    pump_set(m, 1, NO, 0, 120.0, false);
    pump_set(m, 2, 0, 1, 150.0, true);
    m->valves[0] =
        (struct bw_sim_valve){.from = 1, .to = NO, .rated_flow_m3h = 200.0, .position_pct = 60};
    m->valves[1] = (struct bw_sim_valve){.from = 0, .to = NO, .rated_flow_m3h = 300.0};
    m->dosers[0] =
        (struct bw_sim_doser){.tank = 1, .max_dose_mg_l = 2.0, .rate_pct = 40, .decay_per_h = 0.05};
}

static void test_mass_balance_long_run(void **state)
{
    (void)state;
    struct bw_sim_model m;
    struct bw_sim_prng ops;
    plant_build(&m);
    bw_sim_prng_seed(&ops, 11);
    double v0 = bw_sim_model_volume(&m);
    for (int minute = 0; minute < 48 * 60; minute++) {
        if (minute % 17 == 0) {
            size_t p = (size_t)(bw_sim_prng_next(&ops) % 3);
            m.pumps[p].running = !m.pumps[p].running;
            m.valves[minute % 2].position_pct = 100.0 * bw_sim_prng_unit(&ops);
        }
        run(&m, 60.0, 0.75);
        for (size_t t = 0; t < 2; t++)
            assert_true(m.tanks[t].level_m >= 0.0 && m.tanks[t].level_m <= m.tanks[t].height_m);
        assert_true(m.tanks[1].chlorine_mg_l >= 0.0 && m.tanks[1].chlorine_mg_l <= 2.0);
    }
    double v1 = bw_sim_model_volume(&m);
    assert_true(m.in_m3 > 1000.0 && m.out_m3 > 1000.0);
    assert_near(v1, v0 + m.in_m3 - m.out_m3 - m.overflow_m3, 1e-6 * m.in_m3);
    assert_near(m.time_s, 48 * 3600.0, 1e-3);
    bw_sim_model_clear(&m);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct bw_sim_model a, b;
    plant_build(&a);
    plant_build(&b);
    for (int i = 0; i < 5000; i++) {
        bw_sim_model_step(&a, 0.37);
        bw_sim_model_step(&b, 0.37);
    }
    assert_memory_equal(a.tanks, b.tanks, 2 * sizeof(*a.tanks));
    assert_memory_equal(a.pumps, b.pumps, 3 * sizeof(*a.pumps));
    assert_memory_equal(a.valves, b.valves, 2 * sizeof(*a.valves));
    bw_sim_model_clear(&a);
    bw_sim_model_clear(&b);
}

static void test_step_ignores_bad_dt(void **state)
{
    (void)state;
    struct bw_sim_model m;
    plant_build(&m);
    double v0 = bw_sim_model_volume(&m);
    bw_sim_model_step(&m, 0.0);
    bw_sim_model_step(&m, -5.0);
    bw_sim_model_step(&m, NAN);
    bw_sim_model_step(&m, INFINITY);
    assert_near(bw_sim_model_volume(&m), v0, 0.0);
    assert_near(m.time_s, 0.0, 0.0);
    bw_sim_model_clear(&m);
}

static void test_init_from_project(void **state)
{
    (void)state;
    struct bw_project_tank tanks[] = {{.area_m2 = 4, .height_m = 2, .level_m = 9}};
    struct bw_project_pump pumps[] = {
        {.from = NO, .to = 0, .flow_m3h = 10, .pressure_bar = 3, .running = true}};
    struct bw_project_valve valves[] = {{.from = 0, .to = NO, .flow_m3h = 5, .position_pct = 150}};
    struct bw_project_doser dosers[] = {{.tank = 0, .max_dose_mg_l = 1, .rate_pct = 20}};
    struct bw_project p = {.tanks = tanks,
                           .tank_count = 1,
                           .pumps = pumps,
                           .pump_count = 1,
                           .valves = valves,
                           .valve_count = 1,
                           .dosers = dosers,
                           .doser_count = 1};
    struct bw_sim_model m;
    assert_int_equal(bw_sim_model_init(&m, &p, 3), BW_OK);
    assert_near(m.tanks[0].level_m, 2.0, 0.0); /* clamped */
    assert_near(m.valves[0].position_pct, 100.0, 0.0);
    assert_near(m.pumps[0].speed, 1.0, 0.0);
    assert_near(m.dosers[0].rate_pct, 20.0, 0.0);
    bw_sim_model_clear(&m);

    pumps[0].to = 3;
    assert_int_equal(bw_sim_model_init(&m, &p, 3), BW_EINVAL);
    assert_null(m.tanks);
    pumps[0].to = 0;
    dosers[0].tank = NO;
    assert_int_equal(bw_sim_model_init(&m, &p, 3), BW_EINVAL);
    dosers[0].tank = 0;

    bw_alloc_fail_after(2);
    assert_int_equal(bw_sim_model_init(&m, &p, 3), BW_ENOMEM);
    bw_alloc_fail_after(-1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pump_fills_at_rated_flow),
        cmocka_unit_test(test_pump_spins_up_and_down),
        cmocka_unit_test(test_pump_pressure_responds_to_head),
        cmocka_unit_test(test_valve_drains_sqrt_level),
        cmocka_unit_test(test_level_clamps),
        cmocka_unit_test(test_pump_from_empty_tank),
        cmocka_unit_test(test_chlorine_dosing_mixing_decay),
        cmocka_unit_test(test_chlorine_carried_downstream),
        cmocka_unit_test(test_mass_balance_long_run),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_step_ignores_bad_dt),
        cmocka_unit_test(test_init_from_project),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
