/* SPDX-License-Identifier: Apache-2.0
 *
 * The history section and a tag's "log": a project that uses every key
 * loads into the right fields, the defaults hold when the section or a
 * key is absent, a listed group "default" replaces the built-in one, the
 * group limits, every refusal with its exact JSON path and reason (a
 * table), several mistakes reported by one parse, and out of memory at
 * every allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "unit/project/project_test.h"

#define SEED "tests/fuzz/corpus/project/history.json"

/* A project with one tag (its fields, written with ' for ") and an
 * optional history section's keys. */
#define TAG(t) "{'format':1,'name':'p','tags':[" t "]}"
#define LOG(type, log) TAG("{'name':'a','type':'" type "','log':{" log "}}")
#define HIST(h) "{'format':1,'name':'p','history':{" h "}}"
#define HIST_TAG(h, log)                                                                           \
    "{'format':1,'name':'p','history':{" h "},"                                                    \
    "'tags':[{'name':'a','type':'float','log':{" log "}}]}"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *data = malloc(1u << 20);
    assert_non_null(data);
    *len = fread(data, 1, 1u << 20, f);
    fclose(f);
    return data;
}

static const struct bw_project_tag *tag_named(const struct bw_project *p, const char *name)
{
    for (size_t i = 0; i < p->tag_count; i++)
        if (strcmp(p->tags[i].name, name) == 0)
            return &p->tags[i];
    fail_msg("no tag %s", name);
    return NULL;
}

static void expect_group(const struct bw_project *p, size_t i, const char *name, uint32_t days,
                         uint32_t size_mb)
{
    assert_true(i < p->history.group_count);
    assert_string_equal(p->history.groups[i].name, name);
    assert_int_equal(p->history.groups[i].retention_days, days);
    assert_int_equal(p->history.groups[i].max_size_mb, size_mb);
}

/* The defaults of the section, as for a project without one. */
static void expect_history_defaults(const struct bw_project *p)
{
    const struct bw_project_history *h = &p->history;
    assert_int_equal(h->group_count, 1);
    expect_group(p, BW_PROJECT_LOG_GROUP_DEFAULT, "default", 365, 0);
    assert_int_equal(h->warn_count, 2);
    assert_int_equal(h->warn_percent[0], 80);
    assert_int_equal(h->warn_percent[1], 95);
    assert_int_equal(h->queue_samples, 1000000);
    assert_int_equal(h->spool_mb, 256);
    assert_int_equal(h->min_free_mb, 1024);
}

/* ---- good projects -------------------------------------------------- */

/* The fuzz seed uses every key of the section and of a tag's log. */
static void test_every_key(void **state)
{
    (void)state;
    size_t len;
    char *data = read_all(SEED, &len);
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_parse(data, len, &p, &errors);
    free(data);
    if (rc != BW_OK)
        pt_dump(&errors);
    assert_int_equal(rc, BW_OK);
    bw_project_errors_clear(&errors);

    /* "default" is listed second but stays at index 0. */
    const struct bw_project_history *h = &p->history;
    assert_int_equal(h->group_count, 3);
    expect_group(p, 0, "default", 730, 0);
    expect_group(p, 1, "fast", 30, 20480);
    expect_group(p, 2, "process", 3650, 102400);
    assert_int_equal(h->warn_count, 3);
    assert_int_equal(h->warn_percent[0], 70);
    assert_int_equal(h->warn_percent[1], 85);
    assert_int_equal(h->warn_percent[2], 95);
    assert_int_equal(h->queue_samples, 2000000);
    assert_int_equal(h->spool_mb, 1024);
    assert_int_equal(h->min_free_mb, 4096);
    assert_int_equal((uintptr_t)h->groups % _Alignof(max_align_t), 0);

    const struct bw_project_log *log = &tag_named(p, "Clear.Level")->log;
    assert_true(log->enabled);
    assert_int_equal(log->mode, BW_PROJECT_LOG_CHANGE);
    assert_true(log->deadband == 0.01);
    assert_true(log->deadband_percent == 0.5);
    assert_int_equal(log->period_ms, 0);
    assert_int_equal(log->max_interval_ms, 60000);
    assert_int_equal(log->group, 2);

    log = &tag_named(p, "Intake.Flow")->log;
    assert_true(log->enabled);
    assert_int_equal(log->mode, BW_PROJECT_LOG_CYCLIC);
    assert_true(log->deadband == 0 && log->deadband_percent == 0);
    assert_int_equal(log->period_ms, 1000);
    assert_int_equal(log->max_interval_ms, 0);
    assert_int_equal(log->group, 1);

    /* An empty log: every default. */
    log = &tag_named(p, "Intake.Run")->log;
    assert_true(log->enabled);
    assert_int_equal(log->mode, BW_PROJECT_LOG_CHANGE);
    assert_true(log->deadband == 0 && log->deadband_percent == 0);
    assert_int_equal(log->period_ms, 0);
    assert_int_equal(log->max_interval_ms, 0);
    assert_int_equal(log->group, BW_PROJECT_LOG_GROUP_DEFAULT);

    log = &tag_named(p, "Batch")->log;
    assert_true(log->enabled);
    assert_true(log->deadband == 2);
    assert_int_equal(log->group, 0); /* "default", named */

    /* No log: not historised. */
    log = &tag_named(p, "Mode")->log;
    assert_false(log->enabled);
    assert_true(log->deadband == 0 && log->period_ms == 0 && log->group == 0);
    bw_project_free(p);
}

static void test_defaults(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "{'format':1,'name':'p'}",
        HIST(""),
        HIST("'groups':[]"),
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(texts); i++) {
        struct bw_project *p = pt_parse_ok(texts[i]);
        expect_history_defaults(p);
        bw_project_free(p);
    }
    /* Keys left out of a section keep their defaults. */
    struct bw_project *p = pt_parse_ok(HIST("'spool_mb':0"));
    assert_int_equal(p->history.spool_mb, 0);
    assert_int_equal(p->history.queue_samples, 1000000);
    assert_int_equal(p->history.min_free_mb, 1024);
    assert_int_equal(p->history.warn_count, 2);
    expect_group(p, 0, "default", 365, 0);
    bw_project_free(p);
    /* A group of only a name. */
    p = pt_parse_ok(HIST("'groups':[{'name':'g'}],'warn_percent':[99]"));
    assert_int_equal(p->history.group_count, 2);
    expect_group(p, 1, "g", 365, 0);
    assert_int_equal(p->history.warn_count, 1);
    assert_int_equal(p->history.warn_percent[0], 99);
    bw_project_free(p);
    /* A log without a history section lands in "default"; the bounds. */
    p = pt_parse_ok(TAG("{'name':'a','type':'int','log':{'deadband':0,'deadband_percent':100,"
                        "'max_interval_ms':86400000}},"
                        "{'name':'b','type':'float','log':{'mode':'cyclic','period_ms':100,"
                        "'max_interval_ms':1000}},"
                        "{'name':'c','type':'bool','log':{'mode':'cyclic','period_ms':86400000,"
                        "'group':'default'}}"));
    expect_history_defaults(p);
    assert_true(p->tags[0].log.enabled && p->tags[0].log.deadband_percent == 100);
    assert_int_equal(p->tags[0].log.max_interval_ms, 86400000);
    assert_int_equal(p->tags[0].log.group, 0);
    assert_int_equal(p->tags[1].log.period_ms, 100);
    assert_int_equal(p->tags[1].log.max_interval_ms, 1000);
    assert_int_equal(p->tags[2].log.mode, BW_PROJECT_LOG_CYCLIC);
    assert_int_equal(p->tags[2].log.period_ms, 86400000);
    assert_int_equal(p->tags[2].log.group, 0);
    bw_project_free(p);
}

static void test_default_group_replaced(void **state)
{
    (void)state;
    struct bw_project *p = pt_parse_ok(
        HIST_TAG("'groups':[{'name':'default','retention_days':7,'max_size_mb':100}]", ""));
    assert_int_equal(p->history.group_count, 1);
    expect_group(p, 0, "default", 7, 100);
    assert_int_equal(p->tags[0].log.group, 0);
    bw_project_free(p);
    /* Listed after others, it still comes first; the others follow in
     * their order, and tags resolve to those indexes. */
    p = pt_parse_ok("{'format':1,'name':'p','history':{'groups':[{'name':'a'},"
                    "{'name':'b','retention_days':2},{'name':'default','retention_days':1}]},"
                    "'tags':[{'name':'x','type':'int','log':{'group':'b'}},"
                    "{'name':'y','type':'int','log':{'group':'a'}},"
                    "{'name':'z','type':'int','log':{}}]}");
    assert_int_equal(p->history.group_count, 3);
    expect_group(p, 0, "default", 1, 0);
    expect_group(p, 1, "a", 365, 0);
    expect_group(p, 2, "b", 2, 0);
    assert_int_equal(p->tags[0].log.group, 2);
    assert_int_equal(p->tags[1].log.group, 1);
    assert_int_equal(p->tags[2].log.group, 0);
    bw_project_free(p);
}

/* "history":{"groups":[ count groups, named g0..., the last "default"
 * when with_default ]} */
static char *groups_json(size_t count, bool with_default)
{
    size_t cap = 64 + count * 32;
    char *json = malloc(cap);
    assert_non_null(json);
    size_t n =
        (size_t)snprintf(json, cap, "{\"format\":1,\"name\":\"p\",\"history\":{\"groups\":[");
    for (size_t i = 0; i < count; i++) {
        bool last = i + 1 == count;
        if (with_default && last)
            n += (size_t)snprintf(json + n, cap - n, "{\"name\":\"default\"}");
        else
            n += (size_t)snprintf(json + n, cap - n, "{\"name\":\"g%zu\"}%s", i, last ? "" : ",");
        assert_true(n < cap);
    }
    n += (size_t)snprintf(json + n, cap - n, "]}}");
    assert_true(n < cap);
    return json;
}

static int parse_text(const char *json, struct bw_project **p, struct bw_project_errors *errors)
{
    return bw_project_parse(json, strlen(json), p, errors);
}

static void test_group_limits(void **state)
{
    (void)state;
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    /* 63 added and "default": 64 in all. */
    char *json = groups_json(64, true);
    assert_int_equal(parse_text(json, &p, &errors), BW_OK);
    assert_int_equal(p->history.group_count, 64);
    expect_group(p, 63, "g62", 365, 0);
    bw_project_free(p);
    free(json);
    /* 64 added to the default: 65 in all. */
    json = groups_json(64, false);
    assert_int_equal(parse_text(json, &p, &errors), BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "history.groups");
    assert_string_equal(errors.items[0].reason,
                        "makes 65 groups with the default one; at most 64 are allowed");
    free(json);
    /* 65 listed: refused before any is walked. */
    json = groups_json(65, true);
    assert_int_equal(parse_text(json, &p, &errors), BW_ETOOLARGE);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, "history.groups");
    assert_string_equal(errors.items[0].reason, "has 65 groups; at most 64 are allowed");
    free(json);
    bw_project_errors_clear(&errors);
}

/* ---- refusals ------------------------------------------------------- */

struct bad_case {
    const char *name;
    const char *json;
    const char *path;
    const char *reason;
};

static const struct bad_case cases[] = {
    /* the section */
    {"history_not_object", "{'format':1,'name':'p','history':[]}", "history", "must be an object"},
    {"history_unknown_key", HIST("'retention_days':30"), "history.retention_days", "unknown key"},
    {"queue_low", HIST("'queue_samples':1023"), "history.queue_samples",
     "must be between 1024 and 10000000"},
    {"queue_high", HIST("'queue_samples':10000001"), "history.queue_samples",
     "must be between 1024 and 10000000"},
    {"queue_real", HIST("'queue_samples':2048.5"), "history.queue_samples", "must be an integer"},
    {"spool_negative", HIST("'spool_mb':-1"), "history.spool_mb", "must be between 0 and 1048576"},
    {"spool_high", HIST("'spool_mb':1048577"), "history.spool_mb", "must be between 0 and 1048576"},
    {"min_free_high", HIST("'min_free_mb':1048577"), "history.min_free_mb",
     "must be between 0 and 1048576"},
    {"min_free_string", HIST("'min_free_mb':'1G'"), "history.min_free_mb", "must be an integer"},
    {"warn_empty", HIST("'warn_percent':[]"), "history.warn_percent", "must have 1 to 4 values"},
    {"warn_too_many", HIST("'warn_percent':[10,20,30,40,50]"), "history.warn_percent",
     "must have 1 to 4 values"},
    {"warn_zero", HIST("'warn_percent':[0,50]"), "history.warn_percent[0]",
     "must be between 1 and 99"},
    {"warn_hundred", HIST("'warn_percent':[100]"), "history.warn_percent[0]",
     "must be between 1 and 99"},
    {"warn_not_integer", HIST("'warn_percent':[50,'90']"), "history.warn_percent[1]",
     "must be an integer"},
    {"warn_decreasing", HIST("'warn_percent':[90,80]"), "history.warn_percent[1]",
     "must be greater than the value before it (90)"},
    {"warn_repeated", HIST("'warn_percent':[50,50]"), "history.warn_percent[1]",
     "must be greater than the value before it (50)"},
    {"warn_not_array", HIST("'warn_percent':80"), "history.warn_percent", "must be an array"},
    /* groups */
    {"groups_not_array", HIST("'groups':{}"), "history.groups", "must be an array"},
    {"group_not_object", HIST("'groups':['fast']"), "history.groups[0]", "must be an object"},
    {"group_unknown_key", HIST("'groups':[{'name':'g','retention':3}]"),
     "history.groups[0].retention", "unknown key"},
    {"group_name_missing", HIST("'groups':[{'retention_days':3}]"), "history.groups[0].name",
     "is required"},
    {"group_name_invalid", HIST("'groups':[{'name':'fast lane'}]"), "history.groups[0].name",
     "\"fast lane\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
    {"group_name_number", HIST("'groups':[{'name':1}]"), "history.groups[0].name",
     "must be a string"},
    {"group_duplicate", HIST("'groups':[{'name':'a'},{'name':'fast'},{'name':'fast'}]"),
     "history.groups[2].name", "duplicate name \"fast\" (first used at history.groups[1].name)"},
    {"group_default_twice", HIST("'groups':[{'name':'default'},{'name':'default'}]"),
     "history.groups[1].name", "duplicate name \"default\" (first used at history.groups[0].name)"},
    {"group_retention_zero", HIST("'groups':[{'name':'g','retention_days':0}]"),
     "history.groups[0].retention_days", "must be between 1 and 36500"},
    {"group_retention_high", HIST("'groups':[{'name':'g','retention_days':36501}]"),
     "history.groups[0].retention_days", "must be between 1 and 36500"},
    {"group_size_negative", HIST("'groups':[{'name':'g','max_size_mb':-1}]"),
     "history.groups[0].max_size_mb", "must be between 0 and 1048576"},
    {"group_size_high", HIST("'groups':[{'name':'g','max_size_mb':1048577}]"),
     "history.groups[0].max_size_mb", "must be between 0 and 1048576"},
    /* a tag's log */
    {"log_not_object", TAG("{'name':'a','type':'int','log':true}"), "tags[0].log",
     "must be an object"},
    {"log_string_tag", LOG("string", ""), "tags[0].log", "string tags are not historised"},
    {"log_unknown_key", LOG("int", "'interval_ms':1000"), "tags[0].log.interval_ms", "unknown key"},
    {"log_mode_choice", LOG("int", "'mode':'periodic'"), "tags[0].log.mode",
     "\"periodic\" is not one of change, cyclic"},
    {"log_deadband_negative", LOG("float", "'deadband':-0.5"), "tags[0].log.deadband",
     "must be at least 0"},
    {"log_deadband_string", LOG("float", "'deadband':'1'"), "tags[0].log.deadband",
     "must be a number"},
    {"log_deadband_bool_tag", LOG("bool", "'deadband':1"), "tags[0].log.deadband",
     "is only for int and float tags"},
    {"log_percent_bool_tag", LOG("bool", "'deadband_percent':0"), "tags[0].log.deadband_percent",
     "is only for int and float tags"},
    {"log_percent_high", LOG("float", "'deadband_percent':100.5"), "tags[0].log.deadband_percent",
     "must be between 0 and 100"},
    {"log_percent_negative", LOG("int", "'deadband_percent':-1"), "tags[0].log.deadband_percent",
     "must be between 0 and 100"},
    {"log_cyclic_no_period", LOG("float", "'mode':'cyclic'"), "tags[0].log.period_ms",
     "is required for mode \"cyclic\""},
    {"log_change_period", LOG("float", "'period_ms':1000"), "tags[0].log.period_ms",
     "is only for mode \"cyclic\""},
    {"log_change_period_explicit", LOG("int", "'mode':'change','period_ms':1000"),
     "tags[0].log.period_ms", "is only for mode \"cyclic\""},
    {"log_cyclic_deadband", LOG("float", "'mode':'cyclic','period_ms':1000,'deadband':1"),
     "tags[0].log.deadband", "is only for mode \"change\""},
    {"log_cyclic_percent", LOG("int", "'mode':'cyclic','period_ms':1000,'deadband_percent':1"),
     "tags[0].log.deadband_percent", "is only for mode \"change\""},
    {"log_period_low", LOG("float", "'mode':'cyclic','period_ms':99"), "tags[0].log.period_ms",
     "must be between 100 and 86400000"},
    {"log_period_high", LOG("float", "'mode':'cyclic','period_ms':86400001"),
     "tags[0].log.period_ms", "must be between 100 and 86400000"},
    {"log_interval_gap", LOG("float", "'max_interval_ms':999"), "tags[0].log.max_interval_ms",
     "must be 0 or between 1000 and 86400000"},
    {"log_interval_negative", LOG("float", "'max_interval_ms':-1"), "tags[0].log.max_interval_ms",
     "must be 0 or between 1000 and 86400000"},
    {"log_interval_high", LOG("bool", "'max_interval_ms':86400001"), "tags[0].log.max_interval_ms",
     "must be 0 or between 1000 and 86400000"},
    {"log_interval_real", LOG("float", "'max_interval_ms':1000.5"), "tags[0].log.max_interval_ms",
     "must be an integer"},
    {"log_group_unknown", HIST_TAG("'groups':[{'name':'slow'}]", "'group':'fast'"),
     "tags[0].log.group", "no log group named \"fast\""},
    {"log_group_without_section", LOG("int", "'group':'fast'"), "tags[0].log.group",
     "no log group named \"fast\""},
    {"log_group_number", LOG("int", "'group':1"), "tags[0].log.group", "must be a string"},
    /* Group names are their own name space: a tag's name is no group. */
    {"log_group_is_tag", LOG("int", "'group':'a'"), "tags[0].log.group",
     "no log group named \"a\""},
};

static void test_bad_case(void **state)
{
    const struct bad_case *c = *state;
    struct bw_project *p = (struct bw_project *)1;
    struct bw_project_errors errors = {0};
    int rc = pt_parse(c->json, &p, &errors);
    if (rc != BW_EMALFORMED || errors.count != 1)
        pt_dump(&errors);
    assert_null(p);
    assert_int_equal(rc, BW_EMALFORMED);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.items[0].path, c->path);
    assert_string_equal(errors.items[0].reason, c->reason);
    bw_project_errors_clear(&errors);
}

/* Several mistakes in one parse, in walk order: the section before the
 * tags (whatever the file's order), each object's keys in table order,
 * then the rules across its keys. A group with a bad field still
 * resolves; one with a bad name does not. */
static void test_errors_at_once(void **state)
{
    (void)state;
    const char *text =
        "{'format':1,'name':'p','tags':["
        "{'name':'a','type':'string','log':{'mode':'x'}},"
        "{'name':'b','type':'bool','log':{'mode':'cyclic','deadband':1,'group':'slow'}},"
        "{'name':'c','type':'int','log':{'mode':'bad','period_ms':5,'group':'x y'}},"
        "{'name':'d','type':'q','log':{'mode':'bad'}}],"
        "'history':{'min_free_mb':-5,'warn_percent':[60,50,70],"
        "'groups':[{'name':'slow','retention_days':0},{'name':'x y'}]}}";
    struct bw_project *p = NULL;
    struct bw_project_errors errors = {0};
    assert_int_equal(pt_parse(text, &p, &errors), BW_EMALFORMED);
    static const char *const want[][2] = {
        {"history.groups[0].retention_days", "must be between 1 and 36500"},
        {"history.groups[1].name",
         "\"x y\" is not a valid name (letters, digits, _ and . only, starting with a letter)"},
        {"history.warn_percent[1]", "must be greater than the value before it (60)"},
        {"history.min_free_mb", "must be between 0 and 1048576"},
        {"tags[0].log", "string tags are not historised"},
        {"tags[1].log.deadband", "is only for int and float tags"},
        {"tags[1].log.period_ms", "is required for mode \"cyclic\""},
        {"tags[2].log.mode", "\"bad\" is not one of change, cyclic"},
        {"tags[2].log.period_ms", "must be between 100 and 86400000"},
        {"tags[2].log.group", "no log group named \"x y\""},
        {"tags[3].type", "\"q\" is not one of bool, int, float, string"},
    };
    if (errors.count != BW_ARRAY_LEN(want))
        pt_dump(&errors);
    assert_int_equal(errors.count, BW_ARRAY_LEN(want));
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++) {
        if (strcmp(errors.items[i].path, want[i][0]) || strcmp(errors.items[i].reason, want[i][1]))
            pt_dump(&errors);
        assert_string_equal(errors.items[i].path, want[i][0]);
        assert_string_equal(errors.items[i].reason, want[i][1]);
    }
    bw_project_errors_clear(&errors);
}

/* ---- out of memory -------------------------------------------------- */

/* Fails the n-th allocation for n = 0, 1, ... until the parse gets
 * through; every failing run says BW_ENOMEM and holds nothing. */
static void alloc_loop(const char *data, size_t len, int final_rc)
{
    struct bw_project_errors errors = {0};
    for (long n = 0;; n++) {
        struct bw_project *p = NULL;
        bw_alloc_fail_after(n);
        int rc = bw_project_parse(data, len, &p, &errors);
        bw_alloc_fail_after(-1);
        if (rc == BW_ENOMEM) {
            assert_null(p);
            assert_int_equal(errors.count, 0);
            continue;
        }
        assert_int_equal(rc, final_rc);
        assert_true(n > 3);
        bw_project_free(p);
        break;
    }
    bw_project_errors_clear(&errors);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    size_t len;
    char *data = read_all(SEED, &len);
    alloc_loop(data, len, BW_OK);
    free(data);
    data = pt_dequote("{'format':1,'name':'p','history':{'groups':[{'name':'a'},{'name':'a'},"
                      "{'name':'default','retention_days':0}],'warn_percent':[3,2,1]},"
                      "'tags':[{'name':'t','type':'string','log':{}},"
                      "{'name':'u','type':'int','log':{'group':'nope','period_ms':1}}]}");
    alloc_loop(data, strlen(data), BW_EMALFORMED);
    free(data);
}

int main(void)
{
    static struct CMUnitTest tests[BW_ARRAY_LEN(cases) + 6];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_key);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_defaults);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_default_group_replaced);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_group_limits);
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++, n++) {
        tests[n] = (struct CMUnitTest){
            .name = cases[i].name, .test_func = test_bad_case, .initial_state = (void *)&cases[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_errors_at_once);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_alloc_failure);
    return _cmocka_run_group_tests("project_history", tests, n, NULL, NULL);
}
