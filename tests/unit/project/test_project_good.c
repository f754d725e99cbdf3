/* SPDX-License-Identifier: Apache-2.0
 *
 * Good projects load into the right structures: every section of the
 * fixture project, the defaults the format promises, the simulator
 * bindings, the fixed vocabularies, and the example plant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "crypto/crypto.h"
#include "unit/project/project_test.h"

#include <math.h>
#include <unistd.h>

#define FIXTURE_DIR "tests/integration/fixtures/project/valid"
#define WATERWORKS_DIR "examples/waterworks"

static struct bw_project *load_dir(const char *dir)
{
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_load(dir, &p, &errors);
    if (rc != BW_OK)
        pt_dump(&errors);
    assert_int_equal(rc, BW_OK);
    assert_int_equal(errors.count, 0);
    bw_project_errors_clear(&errors);
    return p;
}

static const struct bw_project_tag *tag_named(const struct bw_project *p, const char *name)
{
    for (size_t i = 0; i < p->tag_count; i++)
        if (strcmp(p->tags[i].name, name) == 0)
            return &p->tags[i];
    fail_msg("no tag %s", name);
    return NULL;
}

static void test_fixture_top_and_devices(void **state)
{
    (void)state;
    struct bw_project *p = load_dir(FIXTURE_DIR);
    assert_int_equal(p->format, 1);
    assert_string_equal(p->name, "fixture.plant");
    assert_string_equal(p->description, "A small plant that uses every key of the format.");
    assert_int_equal(p->scan_class_count, 2);
    assert_string_equal(p->scan_classes[1].name, "slow");
    assert_int_equal(p->scan_classes[1].period_ms, 5000);
    assert_int_equal(p->device_count, 2);
    assert_string_equal(p->devices[0].name, "sim1");
    assert_string_equal(p->devices[0].description, "Simulated process");
    assert_int_equal(p->devices[0].driver, BW_DRIVER_SIM);
    assert_int_equal(p->devices[0].scan_class, 0);
    assert_int_equal(p->devices[0].sim_seed, 42);
    assert_null(p->devices[1].description);
    assert_int_equal(p->devices[1].scan_class, 1);
    assert_int_equal(p->devices[1].sim_seed, 1); /* default */
    bw_project_free(p);
}

static void test_fixture_simulator(void **state)
{
    (void)state;
    struct bw_project *p = load_dir(FIXTURE_DIR);
    assert_int_equal(p->signal_count, 5);
    assert_int_equal(p->signals[0].shape, BW_SHAPE_SINE);
    assert_true(p->signals[0].min == 5 && p->signals[0].max == 25);
    assert_int_equal(p->signals[0].period_ms, 600000);
    assert_int_equal(p->signals[1].shape, BW_SHAPE_RANDOM_WALK);
    assert_true(p->signals[1].max_step == 0.5);
    assert_int_equal(p->signals[2].shape, BW_SHAPE_STEP);
    assert_int_equal(p->signals[2].step_count, 4);
    assert_true(p->signals[2].steps[2] == 3);
    assert_int_equal(p->tank_count, 2);
    assert_string_equal(p->tanks[1].name, "clear.well");
    assert_true(p->tanks[1].level_m == 2.5);
    assert_int_equal(p->pump_count, 2);
    assert_int_equal(p->pumps[0].from, BW_SIM_NO_TANK);
    assert_int_equal(p->pumps[0].to, 0);
    assert_true(p->pumps[0].running);
    assert_int_equal(p->pumps[1].from, 0);
    assert_int_equal(p->pumps[1].to, 1);
    assert_false(p->pumps[1].running); /* default */
    assert_int_equal(p->valve_count, 1);
    assert_int_equal(p->valves[0].from, 1);
    assert_int_equal(p->valves[0].to, BW_SIM_NO_TANK);
    assert_true(p->valves[0].position_pct == 40);
    assert_int_equal(p->doser_count, 1);
    assert_int_equal(p->dosers[0].tank, 1);
    assert_true(p->dosers[0].rate_pct == 30 && p->dosers[0].decay_per_h == 0.1);
    bw_project_free(p);
}

static void test_fixture_tags(void **state)
{
    (void)state;
    struct bw_project *p = load_dir(FIXTURE_DIR);
    assert_int_equal(p->tag_count, 9);

    const struct bw_project_tag *t = tag_named(p, "Raw.Level");
    assert_int_equal(t->type, BW_TYPE_FLOAT);
    assert_string_equal(t->unit, "m");
    assert_true(t->has_min && t->has_max && t->min == 0 && t->max == 6);
    assert_int_equal(t->device, 0);
    assert_string_equal(t->address, "raw.tank.level");
    assert_int_equal(t->scan_class, 1); /* its own, not the device's */
    assert_int_equal(t->sim_kind, BW_SIM_TANK);
    assert_int_equal(t->sim_index, 0);
    assert_string_equal(bw_project_sim_vars[t->sim_var].name, "level");
    assert_int_equal(t->access.read_level, 10);
    assert_int_equal(t->access.read_areas, (1u << 1) | (1u << 2));
    assert_false(t->access.writable);

    t = tag_named(p, "Intake.Run");
    assert_int_equal(t->type, BW_TYPE_BOOL);
    assert_int_equal(t->scan_class, 0); /* the device's */
    assert_int_equal(t->sim_kind, BW_SIM_PUMP);
    assert_true(t->access.writable);
    assert_int_equal(t->access.write_level, 200);
    assert_int_equal(t->access.write_permission, BW_PERM_OVERRIDE);

    t = tag_named(p, "Outlet.Position");
    assert_int_equal(t->device, 1);
    assert_int_equal(t->scan_class, 1);
    assert_int_equal(t->sim_kind, BW_SIM_VALVE);
    assert_int_equal(t->access.read_level, 1);           /* default */
    assert_int_equal(t->access.read_areas, 0xFFFFFFFEu); /* every area */
    assert_int_equal(t->access.write_areas, (1u << 2) | (1u << 31));
    assert_int_equal(t->access.write_permission, BW_PERM_TAG_WRITE); /* default */

    t = tag_named(p, "Setpoint");
    assert_int_equal(t->device, SIZE_MAX);
    assert_int_equal(t->scan_class, SIZE_MAX);
    assert_null(t->address);
    assert_true(t->has_initial);
    assert_int_equal(t->initial.type, BW_TYPE_INT);
    assert_int_equal(t->initial.v.i, 40);

    t = tag_named(p, "Operator.Note");
    assert_true(t->has_initial && t->initial.type == BW_TYPE_STRING);
    assert_int_equal(t->initial.len, strlen("Filter 2 backwash at 14:00"));
    assert_memory_equal(t->initial.v.s, "Filter 2 backwash at 14:00", t->initial.len);
    t = tag_named(p, "Maintenance");
    assert_true(t->has_initial && !t->initial.v.b);
    t = tag_named(p, "Gain");
    assert_true(t->has_initial && t->initial.v.f == 1.5);
    assert_false(t->has_min || t->has_max);
    bw_project_free(p);
}

/* Only what is required: every optional section and key left out. */
static void test_minimal_and_defaults(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok("{'format':1,'name':'p'}");
    assert_string_equal(p->name, "p");
    /* The hash of the very bytes parsed (the audit trail names it):
     * SHA-256 of {"format":1,"name":"p"}. */
    char hex[65];
    bw_crypto_hex(p->sha256, sizeof(p->sha256), hex);
    assert_string_equal(hex, "154378dd0a916469c9eebb60102d9d048080028993681c272fb91aad01cb75bf");
    assert_null(p->description);
    assert_int_equal(p->tag_count + p->device_count + p->scan_class_count + p->tank_count, 0);
    bw_project_free(p);

    p = pt_parse_ok("{'format':1,'name':'p','simulator':{'signals':["
                    "{'name':'w','shape':'random_walk','min':0,'max':100,'period_ms':1000},"
                    "{'name':'s','shape':'step','min':2,'max':4,'period_ms':1000}],"
                    "'tanks':[{'name':'T','area_m2':1,'height_m':2,'level_m':0}],"
                    "'valves':[{'name':'V','from':'T','flow_m3h':1}],"
                    "'dosers':[{'name':'D','tank':'T','max_dose_mg_l':1}]}}");
    assert_true(p->signals[0].max_step == 2.0); /* (max - min) / 50 */
    assert_int_equal(p->signals[1].step_count, 2);
    assert_true(p->signals[1].steps[0] == 2 && p->signals[1].steps[1] == 4);
    assert_true(p->valves[0].position_pct == 0);
    assert_true(p->dosers[0].rate_pct == 0 && p->dosers[0].decay_per_h == 0);
    bw_project_free(p);
}

static void expect_audit_defaults(const struct bw_project_audit *a)
{
    assert_int_equal(a->max_size_mb, 1024);
    assert_int_equal(a->max_age_days, 0);
    assert_int_equal(a->warn_count, 2);
    assert_int_equal(a->warn_percent[0], 80);
    assert_int_equal(a->warn_percent[1], 95);
    assert_int_equal(a->when_full, BW_PROJECT_AUDIT_FULL_ARCHIVE);
    assert_int_equal(a->on_failure, BW_PROJECT_AUDIT_FAIL_CONTINUE);
    assert_int_equal(a->checkpoint_records, 1000);
    assert_int_equal(a->checkpoint_seconds, 60);
    assert_null(a->forward);
}

/* No audit section, or an empty one: every default, no forwarding. */
static void test_audit_defaults(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok("{'format':1,'name':'p'}");
    expect_audit_defaults(&p->audit);
    bw_project_free(p);
    p = pt_parse_ok("{'format':1,'name':'p','audit':{}}");
    expect_audit_defaults(&p->audit);
    bw_project_free(p);
    p = load_dir(FIXTURE_DIR);
    expect_audit_defaults(&p->audit);
    bw_project_free(p);

    /* Forwarding with only what it requires. */
    p = pt_parse_ok("{'format':1,'name':'p','audit':{'warn_percent':[50],"
                    "'forward':{'host':'10.0.0.7','ca_file':'/etc/bulwark/ca.pem'}}}");
    assert_int_equal(p->audit.warn_count, 1);
    assert_int_equal(p->audit.warn_percent[0], 50);
    assert_int_equal(p->audit.max_size_mb, 1024);
    const struct bw_project_audit_forward *f = p->audit.forward;
    assert_non_null(f);
    assert_string_equal(f->host, "10.0.0.7");
    assert_int_equal(f->port, 6514);
    assert_string_equal(f->ca_file, "/etc/bulwark/ca.pem");
    assert_null(f->server_name);
    assert_null(f->client_cert);
    assert_null(f->client_key);
    assert_int_equal(f->facility, 13);
    bw_project_free(p);
}

/* Every key of the section, at values other than the defaults. */
static void test_audit_full(void **state)
{
    (void)state;
    struct bw_project *p =
        pt_parse_ok("{'format':1,'name':'p','audit':{'max_size_mb':1048576,'max_age_days':36500,"
                    "'warn_percent':[1,50,98,99],'when_full':'archive','on_failure':'refuse',"
                    "'checkpoint_records':1000000,'checkpoint_seconds':86400,"
                    "'forward':{'host':'collector.example','port':65535,'ca_file':'certs/ca.pem',"
                    "'server_name':'siem.example.org','client_cert':'certs/bulwark.pem',"
                    "'client_key':'certs/bulwark.key','facility':0}}}");
    const struct bw_project_audit *a = &p->audit;
    assert_int_equal(a->max_size_mb, 1048576);
    assert_int_equal(a->max_age_days, 36500);
    assert_int_equal(a->warn_count, 4);
    assert_int_equal(a->warn_percent[0], 1);
    assert_int_equal(a->warn_percent[1], 50);
    assert_int_equal(a->warn_percent[2], 98);
    assert_int_equal(a->warn_percent[3], 99);
    assert_int_equal(a->when_full, BW_PROJECT_AUDIT_FULL_ARCHIVE);
    assert_int_equal(a->on_failure, BW_PROJECT_AUDIT_FAIL_REFUSE);
    assert_int_equal(a->checkpoint_records, 1000000);
    assert_int_equal(a->checkpoint_seconds, 86400);
    const struct bw_project_audit_forward *f = a->forward;
    assert_non_null(f);
    assert_string_equal(f->host, "collector.example");
    assert_int_equal(f->port, 65535);
    assert_string_equal(f->ca_file, "certs/ca.pem"); /* as written, not resolved */
    assert_string_equal(f->server_name, "siem.example.org");
    assert_string_equal(f->client_cert, "certs/bulwark.pem");
    assert_string_equal(f->client_key, "certs/bulwark.key");
    assert_int_equal(f->facility, 0);
    bw_project_free(p);

    /* The lower bounds; "refuse" with no age limit; a non-ASCII host
     * name without whitespace, 253 bytes long. */
    char host[254];
    memset(host, 'h', 253);
    memcpy(host, "b\xc3\xbcrger.example.", 16);
    host[253] = '\0';
    char text[512];
    snprintf(text, sizeof(text),
             "{'format':1,'name':'p','audit':{'max_size_mb':1,'max_age_days':0,"
             "'when_full':'refuse','checkpoint_records':1,'checkpoint_seconds':1,"
             "'forward':{'host':'%s','port':1,'ca_file':'c','facility':23}}}",
             host);
    p = pt_parse_ok(text);
    assert_int_equal(p->audit.max_size_mb, 1);
    assert_int_equal(p->audit.when_full, BW_PROJECT_AUDIT_FULL_REFUSE);
    assert_int_equal(p->audit.checkpoint_records, 1);
    assert_int_equal(p->audit.checkpoint_seconds, 1);
    assert_string_equal(p->audit.forward->host, host);
    assert_int_equal(p->audit.forward->port, 1);
    assert_int_equal(p->audit.forward->facility, 23);
    bw_project_free(p);
}

/* A name may contain dots, so the variable is what follows the last. */
static void test_dotted_element_names(void **state)
{
    (void)state;
    struct bw_project *p =
        pt_parse_ok("{'format':1,'name':'p','scan_classes':[{'name':'f','period_ms':10}],"
                    "'devices':[{'name':'d','driver':'sim','scan_class':'f'}],"
                    "'simulator':{'tanks':[{'name':'a.b.c','area_m2':1,'height_m':2,'level_m':1}]},"
                    "'tags':[{'name':'x','type':'float','device':'d','address':'a.b.c.volume'}]}");
    assert_int_equal(p->tags[0].sim_kind, BW_SIM_TANK);
    assert_string_equal(bw_project_sim_vars[p->tags[0].sim_var].name, "volume");
    bw_project_free(p);
}

static void test_vocabularies(void **state)
{
    (void)state;
    assert_string_equal(bw_permission_name(BW_PERM_TAG_READ), "tag.read");
    assert_string_equal(bw_permission_name(BW_PERM_SESSION_MANAGE), "session.manage");
    assert_string_equal(bw_permission_name(BW_PERM_OVERRIDE), "override");
    assert_null(bw_permission_name(BW_PERM_COUNT_));
    assert_null(bw_permission_name((enum bw_permission) - 1));

    assert_int_equal(bw_project_sim_var_count, 12);
    size_t writable = 0;
    for (size_t i = 0; i < bw_project_sim_var_count; i++) {
        const struct bw_sim_var *v = &bw_project_sim_vars[i];
        assert_true(v->kind < BW_SIM_KIND_COUNT_);
        writable += v->writable;
        if (v->writable)
            assert_true(strcmp(v->name, "running") == 0 || strcmp(v->name, "position") == 0 ||
                        strcmp(v->name, "rate") == 0);
    }
    assert_int_equal(writable, 3);
}

static void test_load_missing_file(void **state)
{
    (void)state;
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(bw_project_load("/nonexistent/dir", &p, &errors), BW_EIO);
    assert_null(p);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "");
    assert_string_equal(errors.items[0].reason,
                        "cannot open /nonexistent/dir/project.json: No such file or directory");
    bw_project_errors_clear(&errors);
    assert_int_equal(bw_project_parse(NULL, 1, &p, &errors), BW_EINVAL);
}

/* Every write rule and fail-safe key (the fuzz seed that uses them all). */
static struct bw_project *parse_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char data[16384];
    size_t len = fread(data, 1, sizeof(data), f);
    assert_true(len > 0 && len < sizeof(data));
    fclose(f);
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_parse(data, len, &p, &errors);
    if (rc != BW_OK)
        pt_dump(&errors);
    assert_int_equal(rc, BW_OK);
    bw_project_errors_clear(&errors);
    /* The project keeps copies: nothing may point into the text. */
    memset(data, 0, sizeof(data));
    return p;
}

static size_t tag_index(const struct bw_project *p, const char *name)
{
    return (size_t)(tag_named(p, name) - p->tags);
}

static void expect_condition(const struct bw_project *p, const struct bw_project_condition *c,
                             const char *tag, enum bw_rule_op op, enum bw_type type)
{
    assert_int_equal(c->tag, tag_index(p, tag));
    assert_int_equal(c->op, op);
    assert_int_equal(c->value.type, type);
}

static void test_write_rules(void **state)
{
    (void)state;
    struct bw_project *p = parse_file("tests/fuzz/corpus/project/write-rules.json");

    const struct bw_project_tag *t = tag_named(p, "Intake.Run");
    assert_false(t->rules.has_max_change);
    assert_null(t->rules.allowed);
    assert_int_equal(t->rules.when_count, 2);
    expect_condition(p, &t->rules.when[0], "Clear.Level", BW_RULE_LT, BW_TYPE_FLOAT);
    assert_true(t->rules.when[0].value.v.f == 4.5);
    expect_condition(p, &t->rules.when[1], "Mode", BW_RULE_EQ, BW_TYPE_STRING);
    assert_int_equal(t->rules.when[1].value.len, 4);
    assert_memory_equal(t->rules.when[1].value.v.s, "auto", 4);
    assert_int_equal(t->failsafe.events, BW_FAILSAFE_COMM_LOSS | BW_FAILSAFE_SHUTDOWN);
    assert_int_equal(t->failsafe.value.type, BW_TYPE_BOOL);
    assert_false(t->failsafe.value.v.b);
    assert_int_equal(t->failsafe.comm_loss_ms, 5000);

    t = tag_named(p, "Outlet.Position");
    assert_true(t->rules.has_max_change);
    assert_true(t->rules.max_change == 10);
    assert_int_equal(t->rules.change_seconds, 60);
    assert_int_equal(t->rules.when_count, 1);
    expect_condition(p, &t->rules.when[0], "Intake.Run", BW_RULE_NE, BW_TYPE_BOOL);
    assert_false(t->rules.when[0].value.v.b);
    assert_int_equal(t->failsafe.events, BW_FAILSAFE_INTEGRITY_VIOLATION | BW_FAILSAFE_ISLAND_MODE);
    assert_true(t->failsafe.value.type == BW_TYPE_FLOAT && t->failsafe.value.v.f == 0);
    assert_int_equal(t->failsafe.comm_loss_ms, 0); /* not on comm_loss */

    t = tag_named(p, "Doser.Rate");
    assert_int_equal(t->rules.allowed_count, 4);
    assert_int_equal(t->rules.allowed[2].type, BW_TYPE_FLOAT);
    assert_true(t->rules.allowed[1].v.f == 25 && t->rules.allowed[2].v.f == 50.5);
    assert_int_equal(t->failsafe.events, BW_FAILSAFE_COMM_LOSS);
    assert_int_equal(t->failsafe.comm_loss_ms, 10000); /* the default */
    /* Aligned for any type (pj_pool_alloc). */
    assert_int_equal((uintptr_t)t->rules.allowed % _Alignof(max_align_t), 0);

    t = tag_named(p, "Mode");
    assert_int_equal(t->rules.allowed_count, 3);
    assert_int_equal(t->rules.allowed[1].type, BW_TYPE_STRING);
    assert_int_equal(t->rules.allowed[1].len, 6);
    assert_memory_equal(t->rules.allowed[1].v.s, "manual", 6);
    assert_int_equal(t->failsafe.events, 0);

    t = tag_named(p, "Setpoint");
    assert_true(t->rules.has_max_change && t->rules.max_change == 20);
    assert_int_equal(t->rules.change_seconds, 30);
    assert_int_equal(t->rules.allowed_count, 6);
    assert_int_equal(t->rules.allowed[5].type, BW_TYPE_INT);
    assert_int_equal(t->rules.allowed[5].v.i, 100);
    assert_int_equal(t->rules.when_count, 3);
    expect_condition(p, &t->rules.when[0], "Batch", BW_RULE_GE, BW_TYPE_INT);
    assert_int_equal(t->rules.when[0].value.v.i, 2);
    expect_condition(p, &t->rules.when[1], "Mode", BW_RULE_NE, BW_TYPE_STRING);
    assert_memory_equal(t->rules.when[1].value.v.s, "off", 3);
    /* A float tag's condition takes an integer as a number. */
    expect_condition(p, &t->rules.when[2], "Clear.Level", BW_RULE_GT, BW_TYPE_FLOAT);
    assert_true(t->rules.when[2].value.v.f == 1);

    /* Tags without rules have none. */
    t = tag_named(p, "Clear.Level");
    assert_false(t->rules.has_max_change);
    assert_null(t->rules.allowed);
    assert_null(t->rules.when);
    assert_int_equal(t->failsafe.events, 0);
    bw_project_free(p);
}

/* The example plant another part of the tree ships; absent: skipped. */
static void test_waterworks_example(void **state)
{
    (void)state;
    if (access(WATERWORKS_DIR "/project.json", R_OK) != 0)
        skip();
    struct bw_project *p = load_dir(WATERWORKS_DIR);
    assert_true(p->tag_count > 0);
    bw_project_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_top_and_devices),
        cmocka_unit_test(test_fixture_simulator),
        cmocka_unit_test(test_fixture_tags),
        cmocka_unit_test(test_minimal_and_defaults),
        cmocka_unit_test(test_audit_defaults),
        cmocka_unit_test(test_audit_full),
        cmocka_unit_test(test_dotted_element_names),
        cmocka_unit_test(test_vocabularies),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_write_rules),
        cmocka_unit_test(test_waterworks_example),
    };
    return cmocka_run_group_tests_name("project_good", tests, NULL, NULL);
}
