/* SPDX-License-Identifier: Apache-2.0
 *
 * Tag table: creation, name index, prefixes, initial state, limits,
 * allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct bw_core_tag_def defs[] = {
    {.name = "T1.Level",
     .type = BW_TYPE_FLOAT,
     .has_min = true,
     .min = 0,
     .has_max = true,
     .max = 5},
    {.name = "P1.Run", .type = BW_TYPE_BOOL, .writable = true},
    {.name = "T1.Volume", .type = BW_TYPE_FLOAT},
    {.name = "Batch.Id", .type = BW_TYPE_STRING, .writable = true},
    {.name = "T10.Level", .type = BW_TYPE_INT},
    {.name = "T2.Level", .type = BW_TYPE_FLOAT},
};

static void test_find_and_defs(void **state)
{
    (void)state;
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    assert_int_equal(bw_core_tag_count(core), 6);
    for (uint32_t i = 0; i < BW_ARRAY_LEN(defs); i++) {
        uint32_t id;
        assert_int_equal(bw_core_tag_find(core, defs[i].name, &id), BW_OK);
        assert_int_equal(id, i);
        assert_string_equal(bw_core_tag_def(core, id)->name, defs[i].name);
        assert_int_equal(bw_core_tag_def(core, id)->type, defs[i].type);
    }
    uint32_t id;
    assert_int_equal(bw_core_tag_find(core, "T1", &id), BW_ENOTFOUND);
    assert_int_equal(bw_core_tag_find(core, "T1.Level.x", &id), BW_ENOTFOUND);
    assert_int_equal(bw_core_tag_find(core, "", &id), BW_ENOTFOUND);
    assert_null(bw_core_tag_def(core, 6));
    bw_core_free(core);
}

static void test_prefix_range(void **state)
{
    (void)state;
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    size_t first, count;
    bw_core_tag_prefix_range(core, "T1.", &first, &count);
    assert_int_equal(count, 2);
    assert_string_equal(bw_core_tag_def(core, bw_core_tag_by_rank(core, first))->name, "T1.Level");
    assert_string_equal(bw_core_tag_def(core, bw_core_tag_by_rank(core, first + 1))->name,
                        "T1.Volume");
    bw_core_tag_prefix_range(core, "T1", &first, &count);
    assert_int_equal(count, 3); /* T1.Level, T1.Volume, T10.Level */
    bw_core_tag_prefix_range(core, "", &first, &count);
    assert_int_equal(count, 6);
    bw_core_tag_prefix_range(core, "Z", &first, &count);
    assert_int_equal(count, 0);
    assert_int_equal(bw_core_tag_by_rank(core, 6), UINT32_MAX);
    bw_core_free(core);
}

static void test_initial_state_is_bad_waiting(void **state)
{
    (void)state;
    bw_clock_fake_set(1700000000000000, 5);
    struct bw_core *core;
    assert_int_equal(bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core), BW_OK);
    for (uint32_t i = 0; i < BW_ARRAY_LEN(defs); i++) {
        struct bw_tag_state st;
        assert_int_equal(bw_core_tag_read(core, i, &st), BW_OK);
        assert_int_equal(st.quality, BW_QUALITY_BAD);
        assert_int_equal(st.reason, BW_REASON_WAITING);
        assert_int_equal(st.type, defs[i].type);
        assert_int_equal(st.server_ts_us, 1700000000000000);
        assert_int_equal(st.source_ts_us, 0);
        assert_int_equal(st.str_len, 0);
    }
    struct bw_tag_state st;
    assert_int_equal(bw_core_tag_read(core, 99, &st), BW_EINVAL);
    bw_core_free(core);
    bw_clock_fake_disable();
}

static void test_rejects_bad_definitions(void **state)
{
    (void)state;
    struct bw_core *core = (void *)1;
    struct bw_core_tag_def dup[] = {{.name = "A", .type = BW_TYPE_INT},
                                    {.name = "A", .type = BW_TYPE_FLOAT}};
    assert_int_equal(bw_core_new(dup, 2, NULL, &core), BW_EINVAL);
    assert_null(core);
    struct bw_core_tag_def empty[] = {{.name = "", .type = BW_TYPE_INT}};
    assert_int_equal(bw_core_new(empty, 1, NULL, &core), BW_EINVAL);
    struct bw_core_tag_def range[] = {
        {.name = "A", .type = BW_TYPE_INT, .has_min = true, .min = 5, .has_max = true, .max = 1}};
    assert_int_equal(bw_core_new(range, 1, NULL, &core), BW_EINVAL);
    char long_name[BW_TAG_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct bw_core_tag_def toolong[] = {{.name = long_name, .type = BW_TYPE_INT}};
    assert_int_equal(bw_core_new(toolong, 1, NULL, &core), BW_EINVAL);
    assert_int_equal(bw_core_new(defs, BW_CORE_MAX_TAGS + 1, NULL, &core), BW_EINVAL);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    for (long n = 0;; n++) {
        struct bw_core *core;
        bw_alloc_fail_after(n);
        int rc = bw_core_new(defs, BW_ARRAY_LEN(defs), NULL, &core);
        bw_alloc_fail_after(-1);
        if (rc == BW_OK) {
            assert_true(n > 0);
            bw_core_free(core);
            break;
        }
        assert_int_equal(rc, BW_ENOMEM);
        assert_null(core);
    }
}

static void test_hundred_thousand_tags(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct bw_core_tag_def *many = calloc(N, sizeof(*many));
    char(*names)[32] = calloc(N, 32);
    assert_non_null(many);
    assert_non_null(names);
    for (size_t i = 0; i < N; i++) {
        snprintf(names[i], 32, "Area%zu.Tag%05zu", i % 10, i);
        many[i].name = names[i];
        many[i].type = (enum bw_type)(i % 3);
    }
    struct bw_core *core;
    assert_int_equal(bw_core_new(many, N, NULL, &core), BW_OK);
    uint32_t id;
    assert_int_equal(bw_core_tag_find(core, "Area7.Tag54327", &id), BW_OK);
    assert_int_equal(id, 54327);
    size_t first, count;
    bw_core_tag_prefix_range(core, "Area3.", &first, &count);
    assert_int_equal(count, N / 10);
    bw_core_free(core);
    free(names);
    free(many);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(bw_quality_name(BW_QUALITY_GOOD), "good");
    assert_string_equal(bw_quality_name(BW_QUALITY_UNCERTAIN), "uncertain");
    assert_string_equal(bw_quality_name(BW_QUALITY_BAD), "bad");
    assert_string_equal(bw_quality_name((enum bw_quality)9), "?");
    assert_string_equal(bw_quality_reason_name(BW_REASON_EU_EXCEEDED),
                        "engineering_units_exceeded");
    assert_string_equal(bw_quality_reason_name(BW_REASON_COUNT_), "?");
    assert_string_equal(bw_type_name(BW_TYPE_STRING), "string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_defs),
        cmocka_unit_test(test_prefix_range),
        cmocka_unit_test(test_initial_state_is_bad_waiting),
        cmocka_unit_test(test_rejects_bad_definitions),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_hundred_thousand_tags),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
