/* SPDX-License-Identifier: Apache-2.0
 *
 * Input validation of writes (SR 3.5) in the one write path: allowed
 * values, conditions on other tags, the largest change within a window
 * (driven by the fake clock), the order of the checks, the set-up rules of
 * bw_core_tag_set_rules, and writes racing on many threads (TSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SP, MODE, RUN, LEVEL, BATCH, VALVE, COUNT, TAG_COUNT };

static const struct bw_core_tag_def defs[] = {
    [SP] = {.name = "T1.SP", .type = BW_TYPE_FLOAT, .writable = true},
    [MODE] = {.name = "Mode", .type = BW_TYPE_STRING, .writable = true},
    [RUN] = {.name = "P1.running", .type = BW_TYPE_BOOL},
    [LEVEL] = {.name = "T1.Level", .type = BW_TYPE_FLOAT},
    [BATCH] = {.name = "Batch", .type = BW_TYPE_INT},
    [VALVE] = {.name = "V1.Position",
               .type = BW_TYPE_FLOAT,
               .writable = true,
               .has_min = true,
               .min = 0,
               .has_max = true,
               .max = 100},
    [COUNT] = {.name = "Batch.Count", .type = BW_TYPE_INT, .writable = true},
};

struct writer_log {
    atomic_int calls;
    _Atomic int answer;
    struct bw_value last; /* single-threaded tests only */
};

static int writer(void *ctx, uint32_t tag, const struct bw_value *value, struct bw_write_error *err)
{
    struct writer_log *log = ctx;
    (void)tag;
    (void)err;
    atomic_fetch_add(&log->calls, 1);
    log->last = *value;
    return atomic_load(&log->answer);
}

static int counting_writer(void *ctx, uint32_t tag, const struct bw_value *value,
                           struct bw_write_error *err)
{
    struct writer_log *log = ctx;
    (void)tag;
    (void)err;
    (void)value;
    atomic_fetch_add(&log->calls, 1);
    return BW_OK;
}

static struct bw_value fval(double f)
{
    return (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = f};
}
static struct bw_value ival(int64_t i)
{
    return (struct bw_value){.type = BW_TYPE_INT, .v.i = i};
}
static struct bw_value bval(bool b)
{
    return (struct bw_value){.type = BW_TYPE_BOOL, .v.b = b};
}
static struct bw_value sval(const char *s)
{
    return (struct bw_value){.type = BW_TYPE_STRING, .v.s = s, .len = strlen(s)};
}

static struct bw_core *new_core(void)
{
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, TAG_COUNT, NULL, &core), BW_OK);
    return core;
}

/* Waits (without the clock, which tests may freeze) until the engine has
 * applied at least n updates. */
static void wait_applied_n(struct bw_core *core, uint64_t n)
{
    for (int i = 0; i < 10000; i++) {
        struct bw_core_stats st;
        bw_core_stats_get(core, &st);
        if (st.updates_applied >= n)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    fail_msg("the engine did not apply %llu updates", (unsigned long long)n);
}

/* Pushes one update and waits until it is applied (applied counts all). */
static void set_tag(struct bw_core *core, uint32_t tag, enum bw_quality q, struct bw_value v)
{
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    struct bw_tag_update u = {
        .tag = tag,
        .quality = q,
        .reason = q == BW_QUALITY_GOOD  ? BW_REASON_NONE
                  : q == BW_QUALITY_BAD ? BW_REASON_COMM_FAILURE
                                        : BW_REASON_LAST_KNOWN,
        .value = v,
    };
    size_t queued;
    assert_int_equal(bw_core_update_push(core, &u, 1, &queued), BW_OK);
    wait_applied_n(core, st.updates_applied + 1);
}

static void expect_refused(struct bw_core *core, uint32_t tag, struct bw_value v, const char *msg)
{
    struct bw_write_error err;
    int rc = bw_core_write(core, tag, &v, &err);
    if (rc != BW_EDENIED || strcmp(err.message, msg) != 0)
        fail_msg("rc %d, message: %s\n  expected: %s", rc, err.message, msg);
}

static void expect_accepted(struct bw_core *core, uint32_t tag, struct bw_value v)
{
    struct bw_write_error err;
    int rc = bw_core_write(core, tag, &v, &err);
    if (rc != BW_OK)
        fail_msg("rc %d: %s", rc, err.message);
}

/* ---- validate.allowed --------------------------------------------------- */

static void test_allowed(void **state)
{
    (void)state;
    struct bw_core *core = new_core();
    struct writer_log log = {0};
    assert_int_equal(bw_core_tag_set_writer(core, COUNT, writer, &log), BW_OK);
    const struct bw_value counts[] = {ival(1), ival(2), ival(3)};
    struct bw_core_write_rules rules = {.allowed = counts, .allowed_count = 3};
    assert_int_equal(bw_core_tag_set_rules(core, COUNT, &rules), BW_OK);
    const struct bw_value modes[] = {sval("auto"), sval("manual"), sval("say \"hi\"")};
    rules = (struct bw_core_write_rules){.allowed = modes, .allowed_count = 3};
    assert_int_equal(bw_core_tag_set_rules(core, MODE, &rules), BW_OK);

    expect_accepted(core, COUNT, ival(2));
    assert_int_equal(log.last.v.i, 2);
    /* Checked after coercion: 3.0 is the integer 3. */
    expect_accepted(core, COUNT, fval(3.0));
    assert_int_equal(log.calls, 2);
    expect_refused(core, COUNT, ival(7),
                   "tag Batch.Count: refused by validate.allowed: 7 is not one of the allowed "
                   "values (1, 2, 3)");
    assert_int_equal(log.calls, 2);

    expect_accepted(core, MODE, sval("manual"));
    expect_refused(core, MODE, sval("manual "),
                   "tag Mode: refused by validate.allowed: \"manual \" is not one of the allowed "
                   "values (\"auto\", \"manual\", \"say \\\"hi\\\"\")");
    bw_core_free(core);
}

/* A list too long for the message is cut, and the message stays whole. */
static void test_allowed_long_list(void **state)
{
    (void)state;
    char name[BW_TAG_NAME_MAX + 1];
    memset(name, 'n', BW_TAG_NAME_MAX);
    name[BW_TAG_NAME_MAX] = '\0';
    const struct bw_core_tag_def def = {.name = name, .type = BW_TYPE_FLOAT, .writable = true};
    struct bw_core *core;
    assert_int_equal(bw_core_new(&def, 1, NULL, &core), BW_OK);
    struct bw_value values[BW_CORE_MAX_ALLOWED];
    for (size_t i = 0; i < BW_CORE_MAX_ALLOWED; i++)
        values[i] = fval(1000000.5 + (double)i);
    struct bw_core_write_rules rules = {.allowed = values, .allowed_count = BW_CORE_MAX_ALLOWED};
    assert_int_equal(bw_core_tag_set_rules(core, 0, &rules), BW_OK);
    struct bw_write_error err;
    struct bw_value v = fval(7);
    assert_int_equal(bw_core_write(core, 0, &v, &err), BW_EDENIED);
    char head[300];
    snprintf(head, sizeof(head),
             "tag %s: refused by validate.allowed: 7 is not one of the allowed values (1000000.5, ",
             name);
    assert_true(strlen(err.message) < sizeof(err.message));
    assert_memory_equal(err.message, head, strlen(head));
    assert_string_equal(err.message + strlen(err.message) - 4, "...)");

    /* A text value is cut in the message too. */
    char long_text[200];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    assert_int_equal(bw_core_tag_set_rules(core, 0, NULL), BW_OK);
    assert_int_equal(bw_core_write(core, 0, &v, &err), BW_OK);
    bw_core_free(core);

    const struct bw_core_tag_def sdef = {.name = "S", .type = BW_TYPE_STRING, .writable = true};
    assert_int_equal(bw_core_new(&sdef, 1, NULL, &core), BW_OK);
    const struct bw_value one = sval("a");
    rules = (struct bw_core_write_rules){.allowed = &one, .allowed_count = 1};
    assert_int_equal(bw_core_tag_set_rules(core, 0, &rules), BW_OK);
    expect_refused(core, 0, sval(long_text),
                   "tag S: refused by validate.allowed: "
                   "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\" is not one of the allowed values "
                   "(\"a\")");
    /* Control characters are escaped, UTF-8 kept. */
    expect_refused(core, 0, sval("\xc3\xa9\x1b[2J"),
                   "tag S: refused by validate.allowed: \"\xc3\xa9\\x1b[2J\" is not one of the "
                   "allowed values (\"a\")");
    bw_core_free(core);
}

/* ---- validate.when ------------------------------------------------------ */

static void test_when(void **state)
{
    (void)state;
    struct bw_core *core = new_core();
    const struct bw_core_condition when[] = {
        {.tag = RUN, .op = BW_CORE_OP_EQ, .value = bval(false)},
        {.tag = LEVEL, .op = BW_CORE_OP_LT, .value = fval(4.5)},
        {.tag = MODE, .op = BW_CORE_OP_EQ, .value = sval("auto")},
        {.tag = BATCH, .op = BW_CORE_OP_GE, .value = ival(2)},
    };
    struct bw_core_write_rules rules = {.when = when, .when_count = 4};
    assert_int_equal(bw_core_tag_set_rules(core, SP, &rules), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);

    expect_refused(core, SP, fval(10),
                   "tag T1.SP: refused by validate.when[0]: P1.running has no good value "
                   "(quality bad)");
    set_tag(core, RUN, BW_QUALITY_GOOD, bval(true));
    set_tag(core, LEVEL, BW_QUALITY_GOOD, fval(3));
    set_tag(core, MODE, BW_QUALITY_GOOD, sval("auto"));
    set_tag(core, BATCH, BW_QUALITY_GOOD, ival(2));
    expect_refused(core, SP, fval(10),
                   "tag T1.SP: refused by validate.when[0]: P1.running must be == false but is "
                   "true");
    set_tag(core, RUN, BW_QUALITY_GOOD, bval(false));
    expect_accepted(core, SP, fval(10));

    set_tag(core, LEVEL, BW_QUALITY_GOOD, fval(4.5));
    expect_refused(core, SP, fval(10),
                   "tag T1.SP: refused by validate.when[1]: T1.Level must be < 4.5 but is 4.5");
    set_tag(core, LEVEL, BW_QUALITY_UNCERTAIN, fval(3));
    expect_refused(core, SP, fval(10),
                   "tag T1.SP: refused by validate.when[1]: T1.Level has no good value "
                   "(quality uncertain)");
    set_tag(core, LEVEL, BW_QUALITY_GOOD, fval(4.4999));

    set_tag(core, MODE, BW_QUALITY_GOOD, sval("autox"));
    expect_refused(core, SP, fval(10),
                   "tag T1.SP: refused by validate.when[2]: Mode must be == \"auto\" but is "
                   "\"autox\"");
    set_tag(core, MODE, BW_QUALITY_GOOD, sval("auto"));

    set_tag(core, BATCH, BW_QUALITY_GOOD, ival(1));
    expect_refused(core, SP, fval(10),
                   "tag T1.SP: refused by validate.when[3]: Batch must be >= 2 but is 1");
    set_tag(core, BATCH, BW_QUALITY_GOOD, ival(INT64_MAX));
    expect_accepted(core, SP, fval(10));
    bw_core_free(core);
}

/* Every operator on int and float tags, != on bool and string. */
static void test_when_operators(void **state)
{
    (void)state;
    static const struct {
        enum bw_core_op op;
        bool lt, eq, gt; /* holds when the tag is below, equal, above */
    } ops[] = {
        {BW_CORE_OP_EQ, false, true, false}, {BW_CORE_OP_NE, true, false, true},
        {BW_CORE_OP_LT, true, false, false}, {BW_CORE_OP_LE, true, true, false},
        {BW_CORE_OP_GT, false, false, true}, {BW_CORE_OP_GE, false, true, true},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(ops); i++) {
        for (int kind = 0; kind < 2; kind++) {
            struct bw_core *core = new_core();
            uint32_t other = kind ? BATCH : LEVEL;
            struct bw_core_condition c = {.tag = other, .op = ops[i].op};
            c.value = kind ? ival(5) : fval(5);
            struct bw_core_write_rules rules = {.when = &c, .when_count = 1};
            assert_int_equal(bw_core_tag_set_rules(core, SP, &rules), BW_OK);
            assert_int_equal(bw_core_start(core), BW_OK);
            const bool want[] = {ops[i].lt, ops[i].eq, ops[i].gt};
            for (int at = 0; at < 3; at++) {
                set_tag(core, other, BW_QUALITY_GOOD, kind ? ival(4 + at) : fval(4.5 + at * 0.5));
                struct bw_value v = fval(1);
                struct bw_write_error err;
                assert_int_equal(bw_core_write(core, SP, &v, &err), want[at] ? BW_OK : BW_EDENIED);
            }
            bw_core_free(core);
        }
    }
    struct bw_core *core = new_core();
    const struct bw_core_condition when[] = {
        {.tag = RUN, .op = BW_CORE_OP_NE, .value = bval(true)},
        {.tag = MODE, .op = BW_CORE_OP_NE, .value = sval("off")},
    };
    struct bw_core_write_rules rules = {.when = when, .when_count = 2};
    assert_int_equal(bw_core_tag_set_rules(core, SP, &rules), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    set_tag(core, RUN, BW_QUALITY_GOOD, bval(false));
    set_tag(core, MODE, BW_QUALITY_GOOD, sval("of"));
    expect_accepted(core, SP, fval(1));
    set_tag(core, MODE, BW_QUALITY_GOOD, sval("off"));
    expect_refused(core, SP, fval(1),
                   "tag T1.SP: refused by validate.when[1]: Mode must be != \"off\" but is "
                   "\"off\"");
    bw_core_free(core);
}

/* ---- validate.max_change ------------------------------------------------ */

#define SECOND 1000000

static void test_max_change_window(void **state)
{
    (void)state;
    bw_clock_fake_set(1700000000LL * SECOND, 1000LL * SECOND);
    struct bw_core *core = new_core();
    struct writer_log log = {0};
    assert_int_equal(bw_core_tag_set_writer(core, VALVE, writer, &log), BW_OK);
    struct bw_core_write_rules rules = {
        .has_max_change = true, .max_change = 5, .change_seconds = 60};
    assert_int_equal(bw_core_tag_set_rules(core, VALVE, &rules), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);

    /* No value yet: nothing to measure a change from. */
    expect_refused(core, VALVE, fval(20),
                   "tag V1.Position: refused by validate.max_change: the tag has no value to "
                   "measure the change from (quality bad)");
    set_tag(core, VALVE, BW_QUALITY_GOOD, fval(20));
    expect_accepted(core, VALVE, fval(24)); /* opens the window at 20 */
    expect_refused(core, VALVE, fval(26),
                   "tag V1.Position: refused by validate.max_change: 26 is more than 5 away from "
                   "20, the value at the start of the current 60 s window");
    expect_accepted(core, VALVE, fval(15)); /* 9 from 24, but 5 from 20 */
    /* The device follows; the window keeps its reference. */
    set_tag(core, VALVE, BW_QUALITY_GOOD, fval(24));
    expect_refused(core, VALVE, fval(26),
                   "tag V1.Position: refused by validate.max_change: 26 is more than 5 away from "
                   "20, the value at the start of the current 60 s window");
    bw_clock_fake_advance(60 * SECOND - 1);
    expect_refused(core, VALVE, fval(26),
                   "tag V1.Position: refused by validate.max_change: 26 is more than 5 away from "
                   "20, the value at the start of the current 60 s window");

    /* The window has ended: the next write is measured from the value
     * now, and a refused one opens no window. */
    bw_clock_fake_advance(1);
    expect_refused(core, VALVE, fval(30),
                   "tag V1.Position: refused by validate.max_change: 30 is more than 5 away from "
                   "24, the value at the start of the current 60 s window");
    set_tag(core, VALVE, BW_QUALITY_GOOD, fval(28));
    expect_accepted(core, VALVE, fval(33));
    expect_refused(core, VALVE, fval(34),
                   "tag V1.Position: refused by validate.max_change: 34 is more than 5 away from "
                   "28, the value at the start of the current 60 s window");

    /* A write the device refuses opens no window either. */
    bw_clock_fake_advance(60 * SECOND);
    atomic_store(&log.answer, BW_EIO);
    struct bw_write_error err;
    struct bw_value v = fval(29);
    assert_int_equal(bw_core_write(core, VALVE, &v, &err), BW_EIO);
    assert_string_equal(
        err.message, "tag V1.Position: the device did not accept the write (input/output error)");
    atomic_store(&log.answer, BW_OK);
    set_tag(core, VALVE, BW_QUALITY_GOOD, fval(10));
    expect_accepted(core, VALVE, fval(14));
    expect_refused(core, VALVE, fval(15.5),
                   "tag V1.Position: refused by validate.max_change: 15.5 is more than 5 away from "
                   "10, the value at the start of the current 60 s window");

    /* A bad value is no reference; an uncertain one is. */
    bw_clock_fake_advance(60 * SECOND);
    set_tag(core, VALVE, BW_QUALITY_BAD, fval(0));
    expect_refused(core, VALVE, fval(12),
                   "tag V1.Position: refused by validate.max_change: the tag has no value to "
                   "measure the change from (quality bad)");
    set_tag(core, VALVE, BW_QUALITY_UNCERTAIN, fval(10));
    expect_accepted(core, VALVE, fval(12));
    bw_core_free(core);
    bw_clock_fake_disable();
}

/* Integers are measured exactly, even far apart; a memory tag's window
 * starts from its current (written) value. */
static void test_max_change_int(void **state)
{
    (void)state;
    bw_clock_fake_set(1700000000LL * SECOND, 1000LL * SECOND);
    struct bw_core *core = new_core();
    struct writer_log log = {0};
    assert_int_equal(bw_core_tag_set_writer(core, COUNT, writer, &log), BW_OK);
    struct bw_core_write_rules rules = {
        .has_max_change = true, .max_change = 3, .change_seconds = 10};
    assert_int_equal(bw_core_tag_set_rules(core, COUNT, &rules), BW_OK);
    rules.max_change = 0.5;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &rules), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);

    set_tag(core, COUNT, BW_QUALITY_GOOD, ival(-5));
    expect_refused(core, COUNT, ival(INT64_MAX),
                   "tag Batch.Count: refused by validate.max_change: 9223372036854775807 is more "
                   "than 3 away from -5, the value at the start of the current 10 s window");
    expect_accepted(core, COUNT, ival(-2));
    expect_accepted(core, COUNT, ival(-8));
    expect_refused(core, COUNT, ival(-9),
                   "tag Batch.Count: refused by validate.max_change: -9 is more than 3 away from "
                   "-5, the value at the start of the current 10 s window");
    set_tag(core, COUNT, BW_QUALITY_GOOD, ival(INT64_MIN));
    bw_clock_fake_advance(10 * SECOND);
    expect_refused(core, COUNT, ival(INT64_MAX),
                   "tag Batch.Count: refused by validate.max_change: 9223372036854775807 is more "
                   "than 3 away from -9223372036854775808, the value at the start of the current "
                   "10 s window");

    /* Memory tag: written values reach the table through the engine. */
    set_tag(core, SP, BW_QUALITY_GOOD, fval(1));
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    expect_accepted(core, SP, fval(1.5));
    wait_applied_n(core, st.updates_applied + 1);
    expect_refused(core, SP, fval(1.75),
                   "tag T1.SP: refused by validate.max_change: 1.75 is more than 0.5 away from 1, "
                   "the value at the start of the current 10 s window");
    bw_clock_fake_advance(10 * SECOND);
    expect_accepted(core, SP, fval(1.75)); /* from 1.5 */
    bw_core_free(core);
    bw_clock_fake_disable();
}

/* allowed, then when, then max_change. */
static void test_rule_order(void **state)
{
    (void)state;
    struct bw_core *core = new_core();
    struct writer_log log = {0};
    assert_int_equal(bw_core_tag_set_writer(core, COUNT, writer, &log), BW_OK);
    const struct bw_value counts[] = {ival(1), ival(2), ival(3)};
    const struct bw_core_condition when = {.tag = RUN, .op = BW_CORE_OP_EQ, .value = bval(true)};
    struct bw_core_write_rules rules = {.has_max_change = true,
                                        .max_change = 1,
                                        .change_seconds = 60,
                                        .allowed = counts,
                                        .allowed_count = 3,
                                        .when = &when,
                                        .when_count = 1};
    assert_int_equal(bw_core_tag_set_rules(core, COUNT, &rules), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    set_tag(core, COUNT, BW_QUALITY_GOOD, ival(1));
    expect_refused(core, COUNT, ival(7),
                   "tag Batch.Count: refused by validate.allowed: 7 is not one of the allowed "
                   "values (1, 2, 3)");
    expect_refused(core, COUNT, ival(3),
                   "tag Batch.Count: refused by validate.when[0]: P1.running has no good value "
                   "(quality bad)");
    set_tag(core, RUN, BW_QUALITY_GOOD, bval(true));
    expect_refused(core, COUNT, ival(3),
                   "tag Batch.Count: refused by validate.max_change: 3 is more than 1 away from "
                   "1, the value at the start of the current 60 s window");
    /* The engineering range and the type come before any rule. */
    struct bw_write_error err;
    struct bw_value v = sval("3");
    assert_int_equal(bw_core_write(core, COUNT, &v, &err), BW_ETYPE);
    expect_accepted(core, COUNT, ival(2));
    assert_int_equal(log.calls, 1);
    bw_core_free(core);
}

/* ---- set-up ------------------------------------------------------------- */

static void test_set_rules_refusals(void **state)
{
    (void)state;
    struct bw_core *core = new_core();
    struct bw_core_write_rules none = {0};
    assert_int_equal(bw_core_tag_set_rules(core, TAG_COUNT, &none), BW_EINVAL);

    struct bw_core_condition c = {.tag = TAG_COUNT, .op = BW_CORE_OP_EQ, .value = bval(true)};
    struct bw_core_write_rules r = {.when = &c, .when_count = 1};
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL); /* unknown tag */
    c.tag = SP;
    c.value = fval(1);
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL); /* itself */
    c.tag = RUN;
    c.value = ival(1);
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL); /* not that tag's type */
    c.value = bval(true);
    c.op = BW_CORE_OP_LT;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL); /* ordering a bool */
    c.op = (enum bw_core_op)6;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    c.op = BW_CORE_OP_NE;
    r.when_count = BW_CORE_MAX_CONDITIONS + 1;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    r.when_count = 1;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_OK);

    struct bw_value a = ival(1);
    r = (struct bw_core_write_rules){.allowed = &a, .allowed_count = 1};
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL); /* int on a float tag */
    a = fval(INFINITY);
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    r.allowed = NULL;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    char big[BW_TAG_STRING_MAX + 2];
    memset(big, 'x', sizeof(big));
    a = (struct bw_value){.type = BW_TYPE_STRING, .v.s = big, .len = sizeof(big)};
    r.allowed = &a;
    assert_int_equal(bw_core_tag_set_rules(core, MODE, &r), BW_EINVAL);

    r = (struct bw_core_write_rules){.has_max_change = true, .max_change = 1, .change_seconds = 1};
    assert_int_equal(bw_core_tag_set_rules(core, MODE, &r), BW_EINVAL); /* a string tag */
    r.max_change = 0;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    r.max_change = INFINITY;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    r.max_change = 1;
    r.change_seconds = 0;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_EINVAL);
    r.change_seconds = 1;
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_OK);

    /* NULL takes the rules away. */
    assert_int_equal(bw_core_tag_set_rules(core, SP, NULL), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    expect_accepted(core, SP, fval(1));
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_ESTATE);
    assert_int_equal(bw_core_tag_set_rules(core, SP, NULL), BW_ESTATE);
    bw_core_free(core);
}

/* The caller's strings may go as soon as the call returns. */
static void test_strings_copied(void **state)
{
    (void)state;
    struct bw_core *core = new_core();
    char *auto_text = strdup("auto"), *manual = strdup("manual"), *want = strdup("auto");
    assert_non_null(auto_text);
    assert_non_null(manual);
    assert_non_null(want);
    struct bw_value *allowed = calloc(2, sizeof(*allowed));
    struct bw_core_condition *when = calloc(1, sizeof(*when));
    assert_non_null(allowed);
    assert_non_null(when);
    allowed[0] = sval(auto_text);
    allowed[1] = sval(manual);
    *when = (struct bw_core_condition){.tag = MODE, .op = BW_CORE_OP_EQ, .value = sval(want)};
    struct bw_core_write_rules r = {.allowed = allowed, .allowed_count = 2};
    assert_int_equal(bw_core_tag_set_rules(core, MODE, &r), BW_OK);
    r = (struct bw_core_write_rules){.when = when, .when_count = 1};
    assert_int_equal(bw_core_tag_set_rules(core, SP, &r), BW_OK);
    memset(auto_text, 'z', 4);
    memset(manual, 'z', 6);
    memset(want, 'z', 4);
    free(auto_text);
    free(manual);
    free(want);
    free(allowed);
    free(when);

    assert_int_equal(bw_core_start(core), BW_OK);
    set_tag(core, MODE, BW_QUALITY_GOOD, sval("manual"));
    expect_refused(core, SP, fval(1),
                   "tag T1.SP: refused by validate.when[0]: Mode must be == \"auto\" but is "
                   "\"manual\"");
    struct bw_core_stats st;
    bw_core_stats_get(core, &st);
    expect_accepted(core, MODE, sval("auto"));
    wait_applied_n(core, st.updates_applied + 1);
    expect_accepted(core, SP, fval(1));
    expect_refused(core, MODE, sval("zzzz"),
                   "tag Mode: refused by validate.allowed: \"zzzz\" is not one of the allowed "
                   "values (\"auto\", \"manual\")");
    bw_core_free(core);
}

/* ---- concurrency (the core label runs under TSan) ------------------------ */

#define WRITERS 4
#define WRITES 2000

struct race {
    struct bw_core *core;
    atomic_int accepted, refused;
    atomic_bool stop;
};

static void *write_thread(void *arg)
{
    struct race *race = arg;
    for (int i = 0; i < WRITES; i++) {
        /* 52 and 47 lie within 5 of 50, 58 and 42 do not. */
        static const double values[] = {52, 58, 47, 42};
        struct bw_value v = fval(values[i % 4]);
        struct bw_write_error err;
        int rc = bw_core_write(race->core, VALVE, &v, &err);
        if (rc == BW_OK)
            atomic_fetch_add(&race->accepted, 1);
        else if (rc == BW_EDENIED)
            atomic_fetch_add(&race->refused, 1);
    }
    return NULL;
}

static void *update_thread(void *arg)
{
    struct race *race = arg;
    for (int64_t i = 1; !atomic_load(&race->stop); i++) {
        struct bw_tag_update u = {
            .tag = LEVEL, .quality = BW_QUALITY_GOOD, .value = fval((double)(i % 100))};
        size_t queued;
        int rc = bw_core_update_push(race->core, &u, 1, &queued);
        (void)rc; /* a full queue only skips one update */
        sched_yield();
    }
    return NULL;
}

static void test_concurrent_writes(void **state)
{
    (void)state;
    struct race race = {.core = new_core()};
    struct writer_log log = {0};
    assert_int_equal(bw_core_tag_set_writer(race.core, VALVE, counting_writer, &log), BW_OK);
    const struct bw_core_condition when = {.tag = LEVEL, .op = BW_CORE_OP_GE, .value = fval(0)};
    struct bw_core_write_rules r = {.has_max_change = true,
                                    .max_change = 5,
                                    .change_seconds = 86400,
                                    .when = &when,
                                    .when_count = 1};
    assert_int_equal(bw_core_tag_set_rules(race.core, VALVE, &r), BW_OK);
    assert_int_equal(bw_core_start(race.core), BW_OK);
    set_tag(race.core, VALVE, BW_QUALITY_GOOD, fval(50));
    set_tag(race.core, LEVEL, BW_QUALITY_GOOD, fval(0));

    pthread_t updater, writers[WRITERS];
    assert_int_equal(pthread_create(&updater, NULL, update_thread, &race), 0);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&writers[i], NULL, write_thread, &race), 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(writers[i], NULL);
    atomic_store(&race.stop, true);
    pthread_join(updater, NULL);
    /* One window, opened at 50 by whichever write came first: every
     * verdict is the same whatever the interleaving. */
    assert_int_equal(atomic_load(&race.accepted), WRITERS * WRITES / 2);
    assert_int_equal(atomic_load(&race.refused), WRITERS * WRITES / 2);
    assert_int_equal(atomic_load(&log.calls), WRITERS * WRITES / 2);
    bw_core_free(race.core);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_allowed_long_list),
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_when_operators),
        cmocka_unit_test(test_max_change_window),
        cmocka_unit_test(test_max_change_int),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_set_rules_refusals),
        cmocka_unit_test(test_strings_copied),
        cmocka_unit_test(test_concurrent_writes),
    };
    return cmocka_run_group_tests_name("core_rules", tests, NULL, NULL);
}
