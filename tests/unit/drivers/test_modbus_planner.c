/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the Modbus request planner: contiguous spans, gaps below,
 * at and above max_gap, the 125-register and 2000-bit limits, areas never
 * merged, overlapping and unsorted spans, an oversize span, a long
 * contiguous range, invalid input, allocation failures, and the plan's
 * invariants over random inputs, with a timing bound for 100,000 spans.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/modbus/mb_codec.h"

#include <string.h>

static const struct mb_plan_limits DEFAULTS = {
    .max_registers = 125, .max_bits = 2000, .max_gap = 0};

#define H BW_MODBUS_HOLDING_REGISTER
#define I BW_MODBUS_INPUT_REGISTER
#define C BW_MODBUS_COIL
#define D BW_MODBUS_DISCRETE_INPUT

static bool is_bits(enum bw_modbus_area a)
{
    return a == C || a == D;
}

/* Checks everything a plan promises, and that blocks were packed
 * greedily: the first span of a block could not have joined the block
 * before it. */
static void check_plan(const struct mb_span *spans, size_t n, const struct mb_plan_limits *lim,
                       const struct mb_plan *plan)
{
    assert_int_equal(plan->span_count, n);
    if (n == 0) {
        assert_int_equal(plan->block_count, 0);
        return;
    }
    /* order is a permutation, sorted by (area, address), stable */
    bool *seen = test_calloc(n, sizeof(*seen));
    for (size_t i = 0; i < n; i++) {
        assert_true(plan->order[i] < n);
        assert_false(seen[plan->order[i]]);
        seen[plan->order[i]] = true;
        if (i > 0) {
            const struct mb_span *a = &spans[plan->order[i - 1]], *b = &spans[plan->order[i]];
            assert_true(a->area < b->area || (a->area == b->area && a->address < b->address) ||
                        (a->area == b->area && a->address == b->address &&
                         plan->order[i - 1] < plan->order[i]));
        }
    }
    test_free(seen);
    /* blocks cover order[] in sequence, each tight around its spans */
    size_t next = 0;
    for (size_t b = 0; b < plan->block_count; b++) {
        const struct mb_block *blk = &plan->blocks[b];
        uint32_t limit = is_bits(blk->area) ? lim->max_bits : lim->max_registers;
        uint32_t gap = is_bits(blk->area) ? 16u * lim->max_gap : lim->max_gap;
        assert_int_equal(blk->first, next);
        assert_true(blk->spans >= 1);
        uint32_t lo = UINT32_MAX, hi = 0;
        for (size_t k = blk->first; k < blk->first + blk->spans; k++) {
            const struct mb_span *s = &spans[plan->order[k]];
            assert_int_equal(s->area, blk->area);
            assert_true(s->address >= blk->address);
            assert_true((uint32_t)s->address + s->count <= (uint32_t)blk->address + blk->count);
            if (k > blk->first) /* no more unused addresses bridged than allowed */
                assert_true(s->address <= hi + gap);
            lo = s->address < lo ? s->address : lo;
            hi = (uint32_t)s->address + s->count > hi ? (uint32_t)s->address + s->count : hi;
        }
        assert_int_equal(lo, blk->address);
        assert_int_equal(hi, (uint32_t)blk->address + blk->count);
        if (blk->count > limit) { /* only a lone oversize span */
            assert_int_equal(blk->spans, 1);
            assert_int_equal(spans[plan->order[blk->first]].count, blk->count);
        }
        if (b > 0 && plan->blocks[b - 1].area == blk->area) {
            const struct mb_block *prev = &plan->blocks[b - 1];
            const struct mb_span *s = &spans[plan->order[blk->first]];
            uint32_t pend = (uint32_t)prev->address + prev->count;
            uint32_t send = (uint32_t)s->address + s->count;
            uint32_t nend = send > pend ? send : pend;
            assert_true(nend - prev->address > limit || s->address > pend + gap);
        }
        next += blk->spans;
    }
    assert_int_equal(next, n);
}

static struct mb_plan build_ok(const struct mb_span *spans, size_t n,
                               const struct mb_plan_limits *lim)
{
    struct mb_plan plan;
    assert_int_equal(mb_plan_build(spans, n, lim, &plan), BW_OK);
    check_plan(spans, n, lim, &plan);
    return plan;
}

static void check_block(const struct mb_plan *plan, size_t b, enum bw_modbus_area area,
                        uint16_t address, uint16_t count, size_t spans)
{
    assert_true(b < plan->block_count);
    assert_int_equal(plan->blocks[b].area, area);
    assert_int_equal(plan->blocks[b].address, address);
    assert_int_equal(plan->blocks[b].count, count);
    assert_int_equal(plan->blocks[b].spans, spans);
}

static void test_contiguous(void **state)
{
    (void)state;
    const struct mb_span spans[] = {{H, 0, 1}, {H, 1, 2}, {H, 3, 4}, {H, 7, 1}, {H, 8, 2}};
    struct mb_plan plan = build_ok(spans, 5, &DEFAULTS);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, H, 0, 10, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(plan.order[i], i);
    mb_plan_clear(&plan);
    assert_null(plan.blocks);
    assert_null(plan.order);
    assert_int_equal(plan.block_count, 0);
    mb_plan_clear(&plan); /* twice is fine */
    mb_plan_clear(NULL);
}

static void test_gaps(void **state)
{
    (void)state;
    struct mb_plan_limits lim = {.max_registers = 125, .max_bits = 2000, .max_gap = 5};
    struct mb_span spans[2] = {{H, 10, 2}, {H, 16, 1}}; /* gap 4 */
    struct mb_plan plan = build_ok(spans, 2, &lim);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, H, 10, 7, 2);
    mb_plan_clear(&plan);

    spans[1].address = 17; /* gap 5: at the limit */
    plan = build_ok(spans, 2, &lim);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, H, 10, 8, 2);
    mb_plan_clear(&plan);

    spans[1].address = 18; /* gap 6: above */
    plan = build_ok(spans, 2, &lim);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, H, 10, 2, 1);
    check_block(&plan, 1, H, 18, 1, 1);
    mb_plan_clear(&plan);

    /* max_gap 0: adjacent spans merge, one unused register splits */
    const struct mb_span adj[] = {{I, 0, 1}, {I, 1, 1}, {I, 3, 1}};
    plan = build_ok(adj, 3, &DEFAULTS);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, I, 0, 2, 2);
    check_block(&plan, 1, I, 3, 1, 1);
    mb_plan_clear(&plan);

    /* bits: the gap is 16 * max_gap */
    lim.max_gap = 2;
    struct mb_span bits[2] = {{C, 0, 1}, {C, 33, 1}}; /* gap 32 */
    plan = build_ok(bits, 2, &lim);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, C, 0, 34, 2);
    mb_plan_clear(&plan);
    bits[1].address = 34; /* gap 33 */
    plan = build_ok(bits, 2, &lim);
    assert_int_equal(plan.block_count, 2);
    mb_plan_clear(&plan);

    /* the largest gap allowed */
    lim.max_gap = 124;
    const struct mb_span wide[] = {{H, 0, 1}, {H, 125, 1}}; /* gap 124, block 126 */
    plan = build_ok(wide, 2, &lim);
    assert_int_equal(plan.block_count, 2); /* the limit splits it */
    mb_plan_clear(&plan);
    const struct mb_span wide2[] = {{H, 0, 1}, {H, 124, 1}}; /* gap 123, block 125 */
    plan = build_ok(wide2, 2, &lim);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, H, 0, 125, 2);
    mb_plan_clear(&plan);
}

static void test_register_limit(void **state)
{
    (void)state;
    struct mb_span spans[2] = {{H, 1000, 100}, {H, 1100, 25}};
    struct mb_plan plan = build_ok(spans, 2, &DEFAULTS);
    assert_int_equal(plan.block_count, 1); /* 125 fits */
    check_block(&plan, 0, H, 1000, 125, 2);
    mb_plan_clear(&plan);

    spans[1].count = 26; /* 126 splits */
    plan = build_ok(spans, 2, &DEFAULTS);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, H, 1000, 100, 1);
    check_block(&plan, 1, H, 1100, 26, 1);
    mb_plan_clear(&plan);

    /* a smaller configured limit */
    struct mb_plan_limits lim = {.max_registers = 10, .max_bits = 2000, .max_gap = 0};
    const struct mb_span small[] = {{I, 0, 4}, {I, 4, 4}, {I, 8, 2}, {I, 10, 2}};
    plan = build_ok(small, 4, &lim);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, I, 0, 10, 3);
    check_block(&plan, 1, I, 10, 2, 1);
    mb_plan_clear(&plan);

    /* the top of the address space */
    const struct mb_span top[] = {{H, 65535, 1}, {H, 65411, 125}};
    plan = build_ok(top, 2, &DEFAULTS);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, H, 65411, 125, 2);
    mb_plan_clear(&plan);
}

static void test_bit_limit(void **state)
{
    (void)state;
    struct mb_span *spans = test_calloc(2001, sizeof(*spans));
    for (uint16_t i = 0; i < 2001; i++)
        spans[i] = (struct mb_span){D, (uint16_t)(100 + i), 1};
    struct mb_plan plan = build_ok(spans, 2000, &DEFAULTS);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, D, 100, 2000, 2000);
    mb_plan_clear(&plan);
    plan = build_ok(spans, 2001, &DEFAULTS);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, D, 100, 2000, 2000);
    check_block(&plan, 1, D, 2100, 1, 1);
    mb_plan_clear(&plan);
    test_free(spans);

    /* bits are not limited to 125; the gap is 16 * 124 = 1984 */
    const struct mb_span coils[] = {{C, 0, 1}, {C, 1985, 15}};
    struct mb_plan_limits lim = {.max_registers = 125, .max_bits = 2000, .max_gap = 124};
    plan = build_ok(coils, 2, &lim);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, C, 0, 2000, 2);
    mb_plan_clear(&plan);
}

static void test_areas_never_merged(void **state)
{
    (void)state;
    const struct mb_span spans[] = {{I, 0, 1}, {H, 1, 1}, {C, 0, 1}, {D, 0, 1},
                                    {H, 0, 1}, {C, 1, 1}, {D, 1, 1}, {I, 1, 1}};
    struct mb_plan_limits lim = {.max_registers = 125, .max_bits = 2000, .max_gap = 124};
    struct mb_plan plan = build_ok(spans, BW_ARRAY_LEN(spans), &lim);
    assert_int_equal(plan.block_count, 4);
    /* in the order of the areas' enum values */
    check_block(&plan, 0, C, 0, 2, 2);
    check_block(&plan, 1, D, 0, 2, 2);
    check_block(&plan, 2, H, 0, 2, 2);
    check_block(&plan, 3, I, 0, 2, 2);
    const size_t want[] = {2, 5, 3, 6, 4, 1, 0, 7};
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++)
        assert_int_equal(plan.order[i], want[i]);
    mb_plan_clear(&plan);
}

static void test_overlapping(void **state)
{
    (void)state;
    /* a float64 on 0..3, a float32 inside it, bits of register 1, a
     * string over the end, and a duplicate */
    const struct mb_span spans[] = {{H, 0, 4}, {H, 2, 2}, {H, 1, 1}, {H, 1, 1},
                                    {H, 3, 6}, {H, 0, 4}, {H, 5, 1}};
    struct mb_plan plan = build_ok(spans, BW_ARRAY_LEN(spans), &DEFAULTS);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, H, 0, 9, 7);
    /* equal keys keep their input order */
    const size_t want[] = {0, 5, 2, 3, 1, 4, 6};
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++)
        assert_int_equal(plan.order[i], want[i]);
    mb_plan_clear(&plan);

    /* a span inside a full block does not make it grow */
    struct mb_span full[] = {{H, 0, 125}, {H, 60, 2}, {H, 124, 1}, {H, 124, 2}};
    plan = build_ok(full, 4, &DEFAULTS);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, H, 0, 125, 3);
    check_block(&plan, 1, H, 124, 2, 1);
    mb_plan_clear(&plan);
}

static void test_unsorted(void **state)
{
    (void)state;
    const struct mb_span spans[] = {{H, 300, 2}, {H, 10, 1}, {H, 200, 1}, {H, 11, 1},
                                    {H, 10, 2},  {H, 12, 2}, {H, 301, 1}, {H, 9, 1}};
    struct mb_plan plan = build_ok(spans, BW_ARRAY_LEN(spans), &DEFAULTS);
    assert_int_equal(plan.block_count, 3);
    check_block(&plan, 0, H, 9, 5, 5);
    check_block(&plan, 1, H, 200, 1, 1);
    check_block(&plan, 2, H, 300, 2, 2);
    const size_t want[] = {7, 1, 4, 3, 5, 2, 0, 6};
    for (size_t i = 0; i < BW_ARRAY_LEN(want); i++)
        assert_int_equal(plan.order[i], want[i]);
    mb_plan_clear(&plan);
}

static void test_oversize_span(void **state)
{
    (void)state;
    struct mb_plan_limits lim = {.max_registers = 10, .max_bits = 20, .max_gap = 3};
    /* 0 cannot take 5..24 in; 6 and 8 inside it start a block of their
     * own, which 25 would stretch past 10 */
    const struct mb_span spans[] = {{H, 0, 1}, {H, 5, 20}, {H, 6, 1}, {H, 8, 1}, {H, 25, 1}};
    struct mb_plan plan = build_ok(spans, 5, &lim);
    assert_int_equal(plan.block_count, 4);
    check_block(&plan, 0, H, 0, 1, 1);
    check_block(&plan, 1, H, 5, 20, 1); /* alone, its own size */
    check_block(&plan, 2, H, 6, 3, 2);
    check_block(&plan, 3, H, 25, 1, 1);
    mb_plan_clear(&plan);

    /* a single span larger than the protocol allows */
    const struct mb_span one[] = {{I, 100, 127}};
    plan = build_ok(one, 1, &DEFAULTS);
    assert_int_equal(plan.block_count, 1);
    check_block(&plan, 0, I, 100, 127, 1);
    mb_plan_clear(&plan);
    const struct mb_span huge[] = {{C, 0, 65535}, {C, 1, 1}};
    plan = build_ok(huge, 2, &DEFAULTS);
    assert_int_equal(plan.block_count, 2);
    check_block(&plan, 0, C, 0, 65535, 1);
    check_block(&plan, 1, C, 1, 1, 1);
    mb_plan_clear(&plan);
}

static void test_ten_thousand_registers(void **state)
{
    (void)state;
    struct mb_span *spans = test_calloc(10000, sizeof(*spans));
    for (size_t i = 0; i < 10000; i++)
        spans[i] = (struct mb_span){H, (uint16_t)i, 1};
    struct mb_plan plan = build_ok(spans, 10000, &DEFAULTS);
    assert_int_equal(plan.block_count, 80);
    for (size_t b = 0; b < 80; b++)
        check_block(&plan, b, H, (uint16_t)(b * 125), 125, 125);
    mb_plan_clear(&plan);
    test_free(spans);
}

static void test_invalid(void **state)
{
    (void)state;
    struct mb_span spans[] = {{H, 0, 1}};
    struct mb_plan plan;
    const struct mb_plan_limits bad_limits[] = {
        {0, 2000, 0}, {126, 2000, 0}, {125, 0, 0}, {125, 2001, 0}, {125, 2000, 125}};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad_limits); i++) {
        memset(&plan, 0xA5, sizeof(plan));
        assert_int_equal(mb_plan_build(spans, 1, &bad_limits[i], &plan), BW_EINVAL);
        assert_null(plan.blocks); /* an empty plan after an error */
        assert_null(plan.order);
        assert_int_equal(plan.block_count, 0);
    }
    const struct mb_plan_limits edge[] = {{1, 1, 0}, {125, 2000, 124}};
    for (size_t i = 0; i < BW_ARRAY_LEN(edge); i++) {
        assert_int_equal(mb_plan_build(spans, 1, &edge[i], &plan), BW_OK);
        mb_plan_clear(&plan);
    }
    const struct mb_span bad_spans[][2] = {
        {{H, 0, 1}, {H, 5, 0}},                      /* count 0 */
        {{H, 0, 1}, {H, 65535, 2}},                  /* past 65535 */
        {{C, 65000, 537}, {H, 0, 1}},                /* past 65535 */
        {{H, 0, 1}, {(enum bw_modbus_area)4, 0, 1}}, /* unknown area */
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad_spans); i++)
        assert_int_equal(mb_plan_build(bad_spans[i], 2, &DEFAULTS, &plan), BW_EINVAL);
    const struct mb_span last[] = {{H, 65535, 1}, {C, 65000, 536}};
    assert_int_equal(mb_plan_build(last, 2, &DEFAULTS, &plan), BW_OK);
    mb_plan_clear(&plan);

    assert_int_equal(mb_plan_build(spans, 1, NULL, &plan), BW_EINVAL);
    assert_int_equal(mb_plan_build(spans, 1, &DEFAULTS, NULL), BW_EINVAL);
    assert_int_equal(mb_plan_build(NULL, 1, &DEFAULTS, &plan), BW_EINVAL);

    /* nothing to plan */
    assert_int_equal(mb_plan_build(NULL, 0, &DEFAULTS, &plan), BW_OK);
    assert_int_equal(plan.block_count, 0);
    assert_int_equal(plan.span_count, 0);
    mb_plan_clear(&plan);
}

static void test_alloc_failure(void **state)
{
    (void)state;
    const struct mb_span spans[] = {{H, 0, 1}, {H, 9, 1}, {C, 3, 1}};
    for (long k = 0; k < 3; k++) {
        struct mb_plan plan;
        bw_alloc_fail_after(k);
        int rc = mb_plan_build(spans, 3, &DEFAULTS, &plan);
        bw_alloc_fail_after(-1);
        assert_int_equal(rc, BW_ENOMEM);
        assert_null(plan.blocks);
        assert_null(plan.order);
        mb_plan_clear(&plan);
    }
    struct mb_plan plan;
    bw_alloc_fail_after(3);
    int rc = mb_plan_build(spans, 3, &DEFAULTS, &plan);
    bw_alloc_fail_after(-1);
    assert_int_equal(rc, BW_OK);
    mb_plan_clear(&plan);
}

static uint64_t prng_next(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Random spans clustered so that gaps, overlaps and limits all matter. */
static void random_spans(uint64_t *prng, struct mb_span *spans, size_t n, uint32_t range)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = prng_next(prng);
        enum bw_modbus_area area = (enum bw_modbus_area)(x % 4);
        uint32_t count =
            is_bits(area) ? 1 : 1 + (uint32_t)((x >> 2) % 8 == 0 ? (x >> 8) % 127 : (x >> 8) % 4);
        uint32_t address = (uint32_t)((x >> 20) % range);
        if (address + count > 65536)
            address = 65536 - count;
        spans[i] = (struct mb_span){area, (uint16_t)address, (uint16_t)count};
    }
}

static void test_random_invariants(void **state)
{
    (void)state;
    uint64_t prng = 12345;
    struct mb_span spans[400];
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + prng_next(&prng) % BW_ARRAY_LEN(spans);
        uint32_t range = (uint32_t)(1 + prng_next(&prng) % 65536);
        random_spans(&prng, spans, n, range);
        uint64_t x = prng_next(&prng);
        struct mb_plan_limits lim = {.max_registers = (uint32_t)(1 + x % 125),
                                     .max_bits = (uint32_t)(1 + (x >> 8) % 2000),
                                     .max_gap = (uint32_t)((x >> 20) % 125)};
        struct mb_plan plan = build_ok(spans, n, &lim);
        mb_plan_clear(&plan);
    }
}

static void test_performance(void **state)
{
    (void)state;
    const size_t n = 100000;
    struct mb_span *spans = test_calloc(n, sizeof(*spans));
    uint64_t prng = 1;
    random_spans(&prng, spans, n, 65536);
    struct mb_plan_limits lim = {.max_registers = 125, .max_bits = 2000, .max_gap = 8};
    struct mb_plan plan;
    int64_t best = INT64_MAX;
    for (int rep = 0; rep < 3; rep++) {
        int64_t t0 = bw_clock_monotonic_us();
        assert_int_equal(mb_plan_build(spans, n, &lim, &plan), BW_OK);
        int64_t dt = bw_clock_monotonic_us() - t0;
        best = dt < best ? dt : best;
        if (rep == 2)
            check_plan(spans, n, &lim, &plan);
        mb_plan_clear(&plan);
    }
    print_message("planning %zu spans: %lld us\n", n, (long long)best);
    /* the target is well under 100 ms; the bound leaves room for
     * sanitizer builds and a loaded machine */
    assert_true(best < 500000);
    test_free(spans);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous),
        cmocka_unit_test(test_gaps),
        cmocka_unit_test(test_register_limit),
        cmocka_unit_test(test_bit_limit),
        cmocka_unit_test(test_areas_never_merged),
        cmocka_unit_test(test_overlapping),
        cmocka_unit_test(test_unsorted),
        cmocka_unit_test(test_oversize_span),
        cmocka_unit_test(test_ten_thousand_registers),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_alloc_failure),
        cmocka_unit_test(test_random_invariants),
        cmocka_unit_test(test_performance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
