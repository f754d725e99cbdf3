/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of the simulator driver against a real core: bound tags become
 * good, an operator write through bw_core_write() reaches the model and
 * makes the plant respond, a full engine queue is counted, and stop
 * returns promptly. The project is built in code, as the loader would
 * build it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/drivers.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define NO BW_SIM_NO_TANK

#define assert_near(a, b, eps) near_check((a), (b), (eps), #a, __FILE__, __LINE__)
static void near_check(double a, double b, double eps, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%s = %.12g, expected %.12g +- %g\n", what, a, b, eps);
        _fail(file, line);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The index of kind.var in the loader's table of sim variables. */
static size_t var_index(enum bw_sim_kind kind, const char *name)
{
    for (size_t i = 0; i < bw_project_sim_var_count; i++) {
        const char *n = bw_project_sim_vars[i].name;
        const char *dot = strrchr(n, '.');
        if (bw_project_sim_vars[i].kind == kind && strcmp(dot ? dot + 1 : n, name) == 0)
            return i;
    }
    fail_msg("no sim variable %s", name);
    return 0;
}

/* ---- a small plant -------------------------------------------------- */

struct fixture {
    struct bw_project_scan_class classes[2];
    struct bw_project_device device;
    struct bw_project_signal signal;
    struct bw_project_tank tank;
    struct bw_project_pump pump;
    struct bw_project_valve valve;
    struct bw_project_doser doser;
    struct bw_project_tag tags[8];
    struct bw_project project;
    struct bw_core_tag_def defs[8];
    struct bw_core *core;
    struct bw_driver *driver;
};

static void tag_add(struct fixture *f, const char *name, enum bw_type type, enum bw_sim_kind kind,
                    const char *var, size_t scan_class, bool writable)
{
    struct bw_project_tag *t = &f->tags[f->project.tag_count++];
    *t = (struct bw_project_tag){.name = (char *)name,
                                 .type = type,
                                 .device = 0,
                                 .address = (char *)"x",
                                 .scan_class = scan_class,
                                 .sim_kind = kind,
                                 .sim_index = 0,
                                 .sim_var = var_index(kind, var)};
    t->access.read_level = 1;
    t->access.writable = writable;
}

static void plant_build(struct fixture *f, uint32_t fast_ms, uint32_t slow_ms)
{
    memset(f, 0, sizeof(*f));
    f->classes[0] = (struct bw_project_scan_class){.name = (char *)"fast", .period_ms = fast_ms};
    f->classes[1] = (struct bw_project_scan_class){.name = (char *)"slow", .period_ms = slow_ms};
    f->device = (struct bw_project_device){
        .name = (char *)"plant", .driver = BW_DRIVER_SIM, .scan_class = 0, .sim_seed = 7};
    f->signal = (struct bw_project_signal){
        .name = (char *)"S1", .shape = BW_SHAPE_SINE, .min = 10, .max = 20, .period_ms = 1000};
    /* A 1 m2 tank and a 360 m3/h pump: 10 cm per second, visible fast. */
    f->tank =
        (struct bw_project_tank){.name = (char *)"T1", .area_m2 = 1, .height_m = 10, .level_m = 1};
    f->pump = (struct bw_project_pump){
        .name = (char *)"P1", .from = NO, .to = 0, .flow_m3h = 360, .pressure_bar = 4};
    f->valve = (struct bw_project_valve){.name = (char *)"V1", .from = 0, .to = NO, .flow_m3h = 36};
    f->doser = (struct bw_project_doser){
        .name = (char *)"D1", .tank = 0, .max_dose_mg_l = 2, .rate_pct = 50};
    f->project = (struct bw_project){.format = 1,
                                     .name = (char *)"test",
                                     .scan_classes = f->classes,
                                     .scan_class_count = 2,
                                     .devices = &f->device,
                                     .device_count = 1,
                                     .signals = &f->signal,
                                     .signal_count = 1,
                                     .tanks = &f->tank,
                                     .tank_count = 1,
                                     .pumps = &f->pump,
                                     .pump_count = 1,
                                     .valves = &f->valve,
                                     .valve_count = 1,
                                     .dosers = &f->doser,
                                     .doser_count = 1,
                                     .tags = f->tags};
    tag_add(f, "T1.Level", BW_TYPE_FLOAT, BW_SIM_TANK, "level", 0, false);
    tag_add(f, "T1.LevelPct", BW_TYPE_FLOAT, BW_SIM_TANK, "level_pct", 1, false);
    tag_add(f, "P1.Run", BW_TYPE_BOOL, BW_SIM_PUMP, "running", 0, true);
    tag_add(f, "P1.Flow", BW_TYPE_FLOAT, BW_SIM_PUMP, "flow", 0, false);
    tag_add(f, "P1.Pressure", BW_TYPE_FLOAT, BW_SIM_PUMP, "pressure", 1, false);
    tag_add(f, "V1.Position", BW_TYPE_FLOAT, BW_SIM_VALVE, "position", 0, true);
    tag_add(f, "S1.Value", BW_TYPE_FLOAT, BW_SIM_SIGNAL, "value", 0, false);
    tag_add(f, "D1.Rate", BW_TYPE_FLOAT, BW_SIM_DOSER, "rate", 1, true);
    for (size_t i = 0; i < f->project.tag_count; i++)
        f->defs[i] = (struct bw_core_tag_def){.name = f->tags[i].name,
                                              .type = f->tags[i].type,
                                              .writable = f->tags[i].access.writable};
}

static void plant_start(struct fixture *f, size_t queue_capacity, bool start_core)
{
    struct bw_core_config config = {.update_queue_capacity = queue_capacity};
    assert_int_equal(bw_core_new(f->defs, f->project.tag_count, &config, &f->core), BW_OK);
    assert_int_equal(bw_driver_new(&f->project, 0, f->core, &f->driver), BW_OK);
    if (start_core)
        assert_int_equal(bw_core_start(f->core), BW_OK);
    assert_int_equal(bw_driver_start(f->driver), BW_OK);
}

static void plant_stop(struct fixture *f)
{
    bw_driver_stop(f->driver);
    bw_core_stop(f->core);
    bw_driver_free(f->driver);
    bw_core_free(f->core);
}

static struct bw_tag_state tag_get(struct fixture *f, const char *name)
{
    uint32_t id;
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_find(f->core, name, &id), BW_OK);
    assert_int_equal(bw_core_tag_read(f->core, id, &st), BW_OK);
    return st;
}

/* Polls until the tag is good (and, for bools, equals want), up to 3 s. */
static struct bw_tag_state tag_wait(struct fixture *f, const char *name, int want_bool)
{
    int64_t deadline = now_ms() + 3000;
    for (;;) {
        struct bw_tag_state st = tag_get(f, name);
        if (st.quality == BW_QUALITY_GOOD && (want_bool < 0 || st.v.b == (want_bool != 0)))
            return st;
        if (now_ms() > deadline)
            fail_msg("tag %s did not become good/expected", name);
        sleep_ms(5);
    }
}

static int write_value(struct fixture *f, const char *name, struct bw_value v)
{
    uint32_t id;
    struct bw_write_error err = {{0}};
    assert_int_equal(bw_core_tag_find(f->core, name, &id), BW_OK);
    return bw_core_write(f->core, id, &v, &err);
}

/* ---- tests ---------------------------------------------------------- */

static void test_tags_become_good(void **state)
{
    (void)state;
    struct fixture f;
    plant_build(&f, 20, 100);
    plant_start(&f, 0, true);
    for (size_t i = 0; i < f.project.tag_count; i++)
        (void)tag_wait(&f, f.tags[i].name, -1);
    struct bw_tag_state lvl = tag_get(&f, "T1.Level");
    assert_true(lvl.v.f > 0.99 && lvl.v.f < 1.01);
    assert_true(lvl.source_ts_us > 0);
    assert_true(fabs(tag_get(&f, "T1.LevelPct").v.f - 10.0) < 0.1);
    struct bw_tag_state s = tag_get(&f, "S1.Value");
    assert_true(s.v.f >= 10.0 && s.v.f <= 20.0);
    assert_false(tag_get(&f, "P1.Run").v.b);
    assert_true(tag_get(&f, "P1.Flow").v.f == 0.0);

    struct bw_driver_status st;
    bw_driver_status_get(f.driver, &st);
    assert_string_equal(st.device, "plant");
    assert_string_equal(st.driver, "sim");
    assert_int_equal(st.state, BW_DRIVER_CONNECTED);
    assert_true(st.cycles > 0 && st.updates >= f.project.tag_count);
    assert_int_equal(st.queue_full, 0);
    plant_stop(&f);
    bw_driver_status_get(NULL, &st);
    assert_int_equal(st.cycles, 0);
}

static void test_write_pump_fills_tank(void **state)
{
    (void)state;
    struct fixture f;
    plant_build(&f, 20, 100);
    plant_start(&f, 0, true);
    double l0 = tag_wait(&f, "T1.Level", -1).v.f;

    struct bw_value on = {.type = BW_TYPE_BOOL, .v.b = true};
    assert_int_equal(write_value(&f, "P1.Run", on), BW_OK);
    (void)tag_wait(&f, "P1.Run", 1);
    double l1 = tag_get(&f, "T1.Level").v.f;
    sleep_ms(1500);
    double l2 = tag_get(&f, "T1.Level").v.f;
    assert_true(l1 >= l0);
    /* 10 cm/s at full speed; the pump takes a few seconds to spin up
     * (about 3.7 cm in the first 1.5 s). */
    assert_true(l2 > l1 + 0.02);
    assert_true(tag_get(&f, "P1.Flow").v.f > 0.0);
    sleep_ms(150); /* the slow class has come round */
    assert_true(tag_get(&f, "P1.Pressure").v.f > 0.0);

    /* Opening the valve is reflected on the next cycles. */
    struct bw_value half = {.type = BW_TYPE_FLOAT, .v.f = 50.0};
    assert_int_equal(write_value(&f, "V1.Position", half), BW_OK);
    int64_t deadline = now_ms() + 2000;
    while (tag_get(&f, "V1.Position").v.f != 50.0 && now_ms() < deadline)
        sleep_ms(5);
    assert_true(tag_get(&f, "V1.Position").v.f == 50.0);
    /* The driver refuses what no valve can do, whatever the tag range. */
    struct bw_value bad = {.type = BW_TYPE_FLOAT, .v.f = 150.0};
    assert_int_not_equal(write_value(&f, "V1.Position", bad), BW_OK);

    struct bw_driver_status st;
    bw_driver_status_get(f.driver, &st);
    assert_int_equal(st.writes, 2);

    /* Stopping the pump stops the rise. */
    struct bw_value off = {.type = BW_TYPE_BOOL, .v.b = false};
    assert_int_equal(write_value(&f, "P1.Run", off), BW_OK);
    (void)tag_wait(&f, "P1.Run", 0);
    /* The soft starter takes the pump down within 3 s. */
    deadline = now_ms() + 5000;
    while (tag_get(&f, "P1.Flow").v.f != 0.0 && now_ms() < deadline)
        sleep_ms(20);
    assert_true(tag_get(&f, "P1.Flow").v.f == 0.0);
    double l3 = tag_get(&f, "T1.Level").v.f;
    sleep_ms(100);
    assert_true(tag_get(&f, "T1.Level").v.f <= l3); /* the valve drains it */
    plant_stop(&f);
}

static int failsafe_events[4];

static void count_event(void *ctx, const struct bw_driver_event *ev)
{
    (void)ctx;
    if ((size_t)ev->kind < 4)
        failsafe_events[ev->kind]++;
}

/* The simulated process takes fail-safe values like writes: an
 * integrity violation stops the pump that names it, and the events are
 * reported; another event leaves it alone. */
static void test_failsafe(void **state)
{
    (void)state;
    struct fixture f;
    plant_build(&f, 20, 100);
    f.tags[2].failsafe.events = BW_FAILSAFE_INTEGRITY_VIOLATION | BW_FAILSAFE_SHUTDOWN;
    f.tags[2].failsafe.value = (struct bw_value){.type = BW_TYPE_BOOL, .v.b = false};
    memset(failsafe_events, 0, sizeof(failsafe_events));
    struct bw_core_config config = {0};
    assert_int_equal(bw_core_new(f.defs, f.project.tag_count, &config, &f.core), BW_OK);
    assert_int_equal(bw_driver_new(&f.project, 0, f.core, &f.driver), BW_OK);
    bw_driver_set_events(f.driver, count_event, NULL);
    assert_int_equal(bw_core_start(f.core), BW_OK);
    assert_int_equal(bw_driver_start(f.driver), BW_OK);
    struct bw_value on = {.type = BW_TYPE_BOOL, .v.b = true};
    assert_int_equal(write_value(&f, "P1.Run", on), BW_OK);
    (void)tag_wait(&f, "P1.Run", 1);
    bw_driver_failsafe(f.driver, BW_FAILSAFE_ISLAND_MODE);
    assert_int_equal(failsafe_events[BW_DRIVER_EV_FAILSAFE_TRIGGERED], 0);
    bw_driver_failsafe(f.driver, BW_FAILSAFE_INTEGRITY_VIOLATION);
    (void)tag_wait(&f, "P1.Run", 0);
    assert_int_equal(failsafe_events[BW_DRIVER_EV_FAILSAFE_TRIGGERED], 1);
    assert_int_equal(failsafe_events[BW_DRIVER_EV_FAILSAFE_WRITTEN], 1);
    bw_driver_stop(f.driver); /* shutdown: reported too */
    assert_int_equal(failsafe_events[BW_DRIVER_EV_FAILSAFE_WRITTEN], 2);
    plant_stop(&f);
}

static void test_stop_is_prompt(void **state)
{
    (void)state;
    struct fixture f;
    plant_build(&f, 5000, 10000);
    plant_start(&f, 0, true);
    (void)tag_wait(&f, "T1.Level", -1);
    sleep_ms(20);
    int64_t t0 = now_ms();
    bw_driver_stop(f.driver);
    assert_true(now_ms() - t0 < 500);
    struct bw_driver_status st;
    bw_driver_status_get(f.driver, &st);
    assert_int_equal(st.state, BW_DRIVER_STOPPED);
    /* A stopped driver can be started again, and stopped twice. */
    assert_int_equal(bw_driver_start(f.driver), BW_OK);
    assert_int_equal(bw_driver_start(f.driver), BW_ESTATE);
    bw_driver_stop(f.driver);
    bw_driver_stop(f.driver);
    plant_stop(&f);
}

static void test_queue_full_counted(void **state)
{
    (void)state;
    struct fixture f;
    plant_build(&f, 10, 10);
    /* The engine is not running, so its small queue (16, the core's
     * smallest) fills and stays full. */
    plant_start(&f, 16, false);
    struct bw_driver_status st;
    int64_t deadline = now_ms() + 3000;
    do {
        sleep_ms(10);
        bw_driver_status_get(f.driver, &st);
    } while (st.queue_full < 2 && now_ms() < deadline);
    assert_true(st.queue_full >= 2);
    assert_int_equal(st.state, BW_DRIVER_DEGRADED);
    assert_true(st.updates <= 16);
    plant_stop(&f);
}

static void test_new_rejects_bad_bindings(void **state)
{
    (void)state;
    struct fixture f;
    struct bw_driver *d = (struct bw_driver *)&f;
    plant_build(&f, 20, 100);
    /* The core lacks the last tag. */
    assert_int_equal(bw_core_new(f.defs, f.project.tag_count - 1, NULL, &f.core), BW_OK);
    assert_int_equal(bw_driver_new(&f.project, 0, f.core, &d), BW_EINVAL);
    assert_null(d);
    assert_int_equal(bw_driver_new(&f.project, 1, f.core, &d), BW_EINVAL);
    bw_core_free(f.core);

    /* A writable tag on a read-only variable. */
    f.tags[0].access.writable = true;
    f.defs[0].writable = true;
    assert_int_equal(bw_core_new(f.defs, f.project.tag_count, NULL, &f.core), BW_OK);
    assert_int_equal(bw_driver_new(&f.project, 0, f.core, &d), BW_EINVAL);
    bw_core_free(f.core);
    f.tags[0].access.writable = false;
    f.defs[0].writable = false;

    /* Out of memory at every allocation in turn: no leak, no crash. */
    assert_int_equal(bw_core_new(f.defs, f.project.tag_count, NULL, &f.core), BW_OK);
    for (long n = 0; n < 12; n++) {
        bw_alloc_fail_after(n);
        int rc = bw_driver_new(&f.project, 0, f.core, &d);
        bw_alloc_fail_after(-1);
        assert_true(rc == BW_ENOMEM || rc == BW_OK);
        bw_driver_free(d);
    }
    bw_core_free(f.core);
    bw_driver_free(NULL);
    assert_string_equal(bw_driver_state_name(BW_DRIVER_DEGRADED), "degraded");
    assert_string_equal(bw_driver_state_name((enum bw_driver_state)42), "?");
}

static void cycles_wait(struct fixture *f, uint64_t more)
{
    struct bw_driver_status st;
    bw_driver_status_get(f->driver, &st);
    uint64_t until = st.cycles + more;
    int64_t deadline = now_ms() + 3000;
    do {
        sleep_ms(2);
        bw_driver_status_get(f->driver, &st);
    } while (st.cycles < until && now_ms() < deadline);
    assert_true(st.cycles >= until);
}

/* With the clock frozen, the plant moves exactly as far as the test
 * advances the clock, and the source timestamps are the fake wall time. */
static void test_fake_clock_drives_model(void **state)
{
    (void)state;
    struct fixture f;
    const int64_t wall0 = INT64_C(1767225600000000); /* 2026-01-01 */
    plant_build(&f, 20, 100);
    f.pump.running = true; /* already up to speed: 0.1 m/s into T1 */
    bw_clock_fake_set(wall0, INT64_C(1000000000));
    plant_start(&f, 0, true);
    (void)tag_wait(&f, "T1.Level", -1);
    cycles_wait(&f, 2);
    assert_near(tag_get(&f, "T1.Level").v.f, 1.0, 1e-12);
    for (int i = 0; i < 6; i++) {
        bw_clock_fake_advance(5000000);
        cycles_wait(&f, 2);
    }
    struct bw_tag_state lvl = tag_get(&f, "T1.Level");
    assert_near(lvl.v.f, 4.0, 1e-9);
    assert_int_equal(lvl.source_ts_us, wall0 + 30000000);
    /* The sine signal is evaluated at 30 s: 30000 mod 1000 = 0, mid-range. */
    assert_near(tag_get(&f, "S1.Value").v.f, 15.0, 1e-9);
    plant_stop(&f);
    bw_clock_fake_disable();
}

/* The demo plant as the daemon loads it: every bound tag becomes good,
 * and starting the standby raw-water pump raises the clearwell inflow. */
static void test_waterworks_project(void **state)
{
    (void)state;
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_load("examples/waterworks", &p, &errors);
    for (size_t i = 0; i < errors.count; i++)
        print_error("%s: %s\n", errors.items[i].path, errors.items[i].reason);
    bw_project_errors_clear(&errors);
    assert_int_equal(rc, BW_OK);

    struct bw_core_tag_def *defs = bw_calloc(p->tag_count, sizeof(*defs));
    assert_non_null(defs);
    for (size_t i = 0; i < p->tag_count; i++)
        defs[i] = (struct bw_core_tag_def){.name = p->tags[i].name,
                                           .type = p->tags[i].type,
                                           .has_min = p->tags[i].has_min,
                                           .has_max = p->tags[i].has_max,
                                           .min = p->tags[i].min,
                                           .max = p->tags[i].max,
                                           .writable = p->tags[i].access.writable};
    struct fixture f = {0};
    assert_int_equal(bw_core_new(defs, p->tag_count, NULL, &f.core), BW_OK);
    assert_int_equal(bw_driver_new(p, 0, f.core, &f.driver), BW_OK);
    assert_int_equal(bw_core_start(f.core), BW_OK);
    assert_int_equal(bw_driver_start(f.driver), BW_OK);
    for (size_t i = 0; i < p->tag_count; i++)
        if (p->tags[i].device == 0)
            (void)tag_wait(&f, p->tags[i].name, -1);
    assert_false(tag_get(&f, "P102.Run").v.b);
    assert_true(tag_get(&f, "P101.Flow").v.f > 170.0);
    double t2 = tag_get(&f, "T2.Level").v.f;
    assert_true(t2 > 4.9 && t2 < 5.1);

    struct bw_value on = {.type = BW_TYPE_BOOL, .v.b = true};
    assert_int_equal(write_value(&f, "P102.Run", on), BW_OK);
    (void)tag_wait(&f, "P102.Run", 1);
    int64_t deadline = now_ms() + 4000;
    while (tag_get(&f, "P102.Flow").v.f < 100.0 && now_ms() < deadline)
        sleep_ms(50);
    assert_true(tag_get(&f, "P102.Flow").v.f >= 100.0);
    assert_true(tag_get(&f, "P102.Pressure").v.f > 1.0);
    /* The engineering range is enforced before the driver sees a write. */
    struct bw_value wide = {.type = BW_TYPE_FLOAT, .v.f = 101.0};
    assert_int_equal(write_value(&f, "V201.Position", wide), BW_ERANGE);

    plant_stop(&f);
    bw_free(defs);
    bw_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags_become_good),
        cmocka_unit_test(test_write_pump_fills_tank),
        cmocka_unit_test(test_failsafe),
        cmocka_unit_test(test_stop_is_prompt),
        cmocka_unit_test(test_queue_full_counted),
        cmocka_unit_test(test_new_rejects_bad_bindings),
        cmocka_unit_test(test_fake_clock_drives_model),
        cmocka_unit_test(test_waterworks_project),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
