/* SPDX-License-Identifier: Apache-2.0
 *
 * The write path: writable check, type coercion, engineering range,
 * text rules, routing to a driver's writer or to a memory tag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "unit/core/core_test_util.h"

#include <math.h>
#include <string.h>

enum { SETPOINT, PUMP, COUNT, LABEL, LEVEL };

static const struct bw_core_tag_def defs[] = {
    [SETPOINT] = {.name = "T1.HighSP",
                  .type = BW_TYPE_FLOAT,
                  .writable = true,
                  .has_min = true,
                  .min = 0,
                  .has_max = true,
                  .max = 5},
    [PUMP] = {.name = "P1.Run", .type = BW_TYPE_BOOL, .writable = true},
    [COUNT] = {.name = "Batch.Count",
               .type = BW_TYPE_INT,
               .writable = true,
               .has_min = true,
               .min = -10,
               .has_max = true,
               .max = 10},
    [LABEL] = {.name = "Batch.Label", .type = BW_TYPE_STRING, .writable = true},
    [LEVEL] = {.name = "T1.Level", .type = BW_TYPE_FLOAT},
};

struct writer_log {
    int calls;
    uint32_t tag;
    struct bw_value value;
    int answer;
};

static int writer(void *ctx, uint32_t tag, const struct bw_value *value, struct bw_write_error *err)
{
    (void)err;
    struct writer_log *log = ctx;
    log->calls++;
    log->tag = tag;
    log->value = *value;
    return log->answer;
}

static struct bw_value fval(double f)
{
    return (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = f};
}
static struct bw_value ival(int64_t i)
{
    return (struct bw_value){.type = BW_TYPE_INT, .v.i = i};
}
static struct bw_value sval(const char *s)
{
    return (struct bw_value){.type = BW_TYPE_STRING, .v.s = s, .len = strlen(s)};
}

static void test_refusals_explain_themselves(void **state)
{
    (void)state;
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    struct bw_write_error err;
    struct bw_value v = fval(1);
    assert_int_equal(bw_core_write(core, LEVEL, &v, &err), BW_EDENIED);
    assert_string_equal(err.message, "tag T1.Level is read-only");
    assert_int_equal(bw_core_write(core, 77, &v, &err), BW_EINVAL);
    assert_string_equal(err.message, "no such tag");
    v = fval(5.5);
    assert_int_equal(bw_core_write(core, SETPOINT, &v, &err), BW_ERANGE);
    assert_string_equal(err.message, "tag T1.HighSP: 5.5 is above the engineering maximum 5");
    v = fval(-0.1);
    assert_int_equal(bw_core_write(core, SETPOINT, &v, &err), BW_ERANGE);
    assert_string_equal(err.message, "tag T1.HighSP: -0.1 is below the engineering minimum 0");
    v = fval(NAN);
    assert_int_equal(bw_core_write(core, SETPOINT, &v, &err), BW_ERANGE);
    assert_string_equal(err.message, "tag T1.HighSP: value is not a finite number");
    v = sval("on");
    assert_int_equal(bw_core_write(core, PUMP, &v, &err), BW_ETYPE);
    assert_string_equal(err.message, "tag P1.Run is of type bool; a string value does not fit");
    v = ival(2);
    assert_int_equal(bw_core_write(core, PUMP, &v, &err), BW_ETYPE);
    v = fval(2.5);
    assert_int_equal(bw_core_write(core, COUNT, &v, &err), BW_ETYPE);
    assert_string_equal(err.message, "tag Batch.Count is of type int; a float value does not fit");
    v = ival(11);
    assert_int_equal(bw_core_write(core, COUNT, &v, &err), BW_ERANGE);
    v = fval(3);
    assert_int_equal(bw_core_write(core, LABEL, &v, &err), BW_ETYPE);
    v = (struct bw_value){.type = BW_TYPE_STRING, .v.s = "\xc3\x28", .len = 2};
    assert_int_equal(bw_core_write(core, LABEL, &v, &err), BW_ETYPE);
    assert_string_equal(err.message, "tag Batch.Label: text is not valid UTF-8");
    /* A NUL would cut the stored text short of what was accepted. */
    v = (struct bw_value){.type = BW_TYPE_STRING, .v.s = "lot\0-7", .len = 6};
    assert_int_equal(bw_core_write(core, LABEL, &v, &err), BW_ETYPE);
    assert_string_equal(err.message, "tag Batch.Label: text contains a NUL character");
    char long_text[BW_TAG_STRING_MAX + 2];
    memset(long_text, 'a', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    v = sval(long_text);
    assert_int_equal(bw_core_write(core, LABEL, &v, &err), BW_ERANGE);
    bw_core_free(core);
}

static void test_writer_gets_coerced_value(void **state)
{
    (void)state;
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    struct writer_log log = {0};
    assert_int_equal(bw_core_tag_set_writer(core, PUMP, writer, &log), BW_OK);
    assert_int_equal(bw_core_tag_set_writer(core, COUNT, writer, &log), BW_OK);
    assert_int_equal(bw_core_tag_set_writer(core, 99, writer, &log), BW_EINVAL);
    struct bw_write_error err;
    struct bw_value v = ival(1);
    assert_int_equal(bw_core_write(core, PUMP, &v, &err), BW_OK);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.tag, PUMP);
    assert_int_equal(log.value.type, BW_TYPE_BOOL);
    assert_true(log.value.v.b);
    v = fval(-7.0);
    assert_int_equal(bw_core_write(core, COUNT, &v, &err), BW_OK);
    assert_int_equal(log.value.type, BW_TYPE_INT);
    assert_int_equal(log.value.v.i, -7);
    log.answer = BW_EIO;
    assert_int_equal(bw_core_write(core, COUNT, &v, &err), BW_EIO);
    assert_string_equal(
        err.message, "tag Batch.Count: the device did not accept the write (input/output error)");
    /* Writers are wired before the engine runs, never after. */
    assert_int_equal(bw_core_start(core), BW_OK);
    assert_int_equal(bw_core_tag_set_writer(core, SETPOINT, writer, &log), BW_ESTATE);
    bw_core_free(core);
}

static void test_memory_tag_write_becomes_good_value(void **state)
{
    (void)state;
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    assert_int_equal(bw_core_start(core), BW_OK);
    struct bw_write_error err;
    struct bw_value v = ival(4); /* an int into a float tag */
    assert_int_equal(bw_core_write(core, SETPOINT, &v, &err), BW_OK);
    v = sval("lot-7");
    assert_int_equal(bw_core_write(core, LABEL, &v, &err), BW_OK);
    assert_true(wait_applied(core, 2));
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, SETPOINT, &st), BW_OK);
    assert_int_equal(st.quality, BW_QUALITY_GOOD);
    assert_true(st.v.f == 4.0);
    assert_true(st.source_ts_us > 0);
    assert_int_equal(bw_core_tag_read(core, LABEL, &st), BW_OK);
    assert_string_equal(st.str, "lot-7");
    bw_core_free(core);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_explain_themselves),
        cmocka_unit_test(test_writer_gets_coerced_value),
        cmocka_unit_test(test_memory_tag_write_becomes_good_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
