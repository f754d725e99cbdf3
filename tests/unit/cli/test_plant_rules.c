/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's write rules reach the tag engine (src/cli/plant_rules.c):
 * the fuzz seed that uses every rule is loaded, a core is built from its
 * tags as the plant builds it, and writes are refused by the rules the
 * project states, with the tags conditions name found by name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/internal.h"
#include "project/project.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define SEED "tests/fuzz/corpus/project/write-rules.json"

static struct bw_project *load_seed(void)
{
    static char data[16384];
    FILE *f = fopen(SEED, "rb");
    assert_non_null(f);
    size_t len = fread(data, 1, sizeof(data), f);
    fclose(f);
    assert_true(len > 0 && len < sizeof(data));
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_parse(data, len, &p, &errors), BW_OK);
    bw_project_errors_clear(&errors);
    return p;
}

/* The core as the plant builds it, without the tag called skip (NULL:
 * every tag). */
static struct bw_core *build_core(const struct bw_project *p, const char *skip)
{
    struct bw_core_tag_def defs[16];
    size_t n = 0;
    assert_true(p->tag_count <= BW_ARRAY_LEN(defs));
    for (size_t i = 0; i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (skip && strcmp(t->name, skip) == 0)
            continue;
        defs[n++] = (struct bw_core_tag_def){
            .name = t->name,
            .type = t->type,
            .has_min = t->has_min,
            .has_max = t->has_max,
            .min = t->min,
            .max = t->max,
            .writable = t->access.writable,
        };
    }
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, n, NULL, &core), BW_OK);
    return core;
}

static uint32_t id_of(struct bw_core *core, const char *name)
{
    uint32_t id;
    assert_int_equal(bw_core_tag_find(core, name, &id), BW_OK);
    return id;
}

static void set_value(struct bw_core *core, const char *name, struct bw_value v)
{
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    struct bw_tag_update u = {.tag = id_of(core, name), .quality = BW_QUALITY_GOOD, .value = v};
    size_t queued;
    assert_int_equal(bw_core_update_push(core, &u, 1, &queued), BW_OK);
    for (int i = 0; i < 5000; i++) {
        struct bw_core_stats now;
        bw_core_stats_get(core, &now);
        if (now.updates_applied > st.updates_applied)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("update of %s not applied", name);
}

static void expect_write(struct bw_core *core, const char *name, struct bw_value v, int want,
                         const char *message)
{
    struct bw_write_error err;
    int rc = bw_core_write(core, id_of(core, name), &v, &err);
    if (rc != want || (message && strcmp(err.message, message) != 0))
        fail_msg("%s: rc %d (want %d): %s", name, rc, want, err.message);
}

static struct bw_value ival(int64_t i)
{
    return (struct bw_value){.type = BW_TYPE_INT, .v.i = i};
}
static struct bw_value fval(double f)
{
    return (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = f};
}
static struct bw_value sval(const char *s)
{
    return (struct bw_value){.type = BW_TYPE_STRING, .v.s = s, .len = strlen(s)};
}

static void test_rules_reach_the_core(void **state)
{
    (void)state;
    struct bw_project *p = load_seed();
    struct bw_core *core = build_core(p, NULL);
    assert_int_equal(bw_cli_plant_set_rules(core, p), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    set_value(core, "Setpoint", ival(40));
    set_value(core, "Batch", ival(3));
    set_value(core, "Mode", sval("auto"));
    set_value(core, "Clear.Level", fval(2));

    expect_write(core, "Mode", sval("remote"), BW_EDENIED,
                 "tag Mode: refused by validate.allowed: \"remote\" is not one of the allowed "
                 "values (\"auto\", \"manual\", \"off\")");
    expect_write(core, "Setpoint", ival(50), BW_EDENIED,
                 "tag Setpoint: refused by validate.allowed: 50 is not one of the allowed values "
                 "(0, 20, 40, 60, 80, 100)");
    expect_write(core, "Setpoint", ival(60), BW_OK, NULL);
    expect_write(core, "Setpoint", ival(80), BW_EDENIED,
                 "tag Setpoint: refused by validate.max_change: 80 is more than 20 away from 40, "
                 "the value at the start of the current 30 s window");
    set_value(core, "Batch", ival(1));
    expect_write(core, "Setpoint", ival(20), BW_EDENIED,
                 "tag Setpoint: refused by validate.when[0]: Batch must be >= 2 but is 1");

    set_value(core, "Clear.Level", fval(4.5));
    expect_write(core, "Intake.Run", (struct bw_value){.type = BW_TYPE_BOOL, .v.b = true},
                 BW_EDENIED,
                 "tag Intake.Run: refused by validate.when[0]: Clear.Level must be < 4.5 but is "
                 "4.5");
    expect_write(core, "Doser.Rate", fval(50.5), BW_OK, NULL);
    expect_write(core, "Doser.Rate", fval(50), BW_EDENIED,
                 "tag Doser.Rate: refused by validate.allowed: 50 is not one of the allowed values "
                 "(0, 25, 50.5, 100)");

    /* Only before the engine starts. */
    assert_int_equal(bw_cli_plant_set_rules(core, p), BW_ESTATE);
    bw_core_free(core);
    bw_project_free(p);
}

/* A tag that a condition names is missing from the table. */
static void test_missing_tag(void **state)
{
    (void)state;
    struct bw_project *p = load_seed();
    struct bw_core *core = build_core(p, "Batch");
    assert_int_equal(bw_cli_plant_set_rules(core, p), BW_ENOTFOUND);
    bw_core_free(core);
    bw_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_reach_the_core),
        cmocka_unit_test(test_missing_tag),
    };
    return cmocka_run_group_tests_name("plant_rules", tests, NULL, NULL);
}
