/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the Modbus codec and request planner: what a
 * device returns is outside input, and so, through the project file, are
 * the tag maps and spans. The first byte picks the mode.
 *
 * Codec (first byte even): the next bytes make a tag map and a tag type.
 * Normally they are ones the loader can produce (any area, type, bit,
 * word and byte order, string length, scaling with finite parameters);
 * with the "raw" flag the fields are taken as they come, out-of-range
 * enums and counts included, and the codec must refuse what it cannot
 * handle. The registers (or the coil bit) follow. mb_decode() runs; on
 * success mb_encode() of the result must give registers that decode to
 * the same value, exactly for unscaled maps (and the same registers for
 * numbers), within rounding of the scaling for scaled ones. Then a value
 * built from the remaining bytes is encoded, and when accepted, decoded
 * and encoded again: the registers must not change (unscaled maps).
 *
 * Planner (first byte odd): limits, then spans of 4 or 5 bytes each;
 * mb_plan_build() must refuse exactly the invalid inputs, and a plan must
 * keep its promises: order is a sorted, stable permutation, blocks cover
 * it in sequence, every span lies inside its block, blocks are tight,
 * within their limit unless they hold one oversize span, and packed
 * greedily.
 *
 * Seeds in tests/fuzz/corpus/modbus_codec/, dictionary in
 * tests/fuzz/modbus_codec.dict. Any abort() is a finding.
 */
#include "drivers/modbus/mb_codec.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_REGS 256u
#define FUZZ_MAX_SPANS 4096u

/* A cursor over the input that yields zeros once it runs dry, so that
 * every input, however short, is a complete case. */
struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct cursor *c)
{
    if (c->n == 0)
        return 0;
    c->n--;
    return *c->p++;
}

static uint16_t take16(struct cursor *c)
{
    uint16_t hi = take8(c);
    return (uint16_t)(hi << 8 | take8(c));
}

static uint64_t take64(struct cursor *c)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | take8(c);
    return v;
}

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

static unsigned type_registers(enum bw_modbus_type type)
{
    switch (type) {
    case BW_MODBUS_INT32:
    case BW_MODBUS_UINT32:
    case BW_MODBUS_FLOAT32:
        return 2;
    case BW_MODBUS_FLOAT64:
        return 4;
    default:
        return 1;
    }
}

static bool is_bit_area(enum bw_modbus_area area)
{
    return area == BW_MODBUS_COIL || area == BW_MODBUS_DISCRETE_INPUT;
}

static bool is_number(enum bw_modbus_type type)
{
    return type != BW_MODBUS_BOOL && type != BW_MODBUS_STRING;
}

static bool is_int_type(enum bw_modbus_type type)
{
    return type == BW_MODBUS_INT16 || type == BW_MODBUS_UINT16 || type == BW_MODBUS_INT32 ||
           type == BW_MODBUS_UINT32;
}

static bool result_known(enum mb_codec_result r)
{
    return r == MB_CODEC_OK || r == MB_CODEC_NOT_FINITE || r == MB_CODEC_BAD_TEXT ||
           r == MB_CODEC_RANGE || r == MB_CODEC_TYPE;
}

static bool values_equal(const struct bw_value *a, const struct bw_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case BW_TYPE_BOOL:
        return a->v.b == b->v.b;
    case BW_TYPE_INT:
        return a->v.i == b->v.i;
    case BW_TYPE_FLOAT:
        return same_double(a->v.f, b->v.f);
    default:
        return a->len == b->len && (a->len == 0 || memcmp(a->v.s, b->v.s, a->len) == 0);
    }
}

/* Decodes regs with a scratch text buffer of the right size. */
static enum mb_codec_result decode_again(const struct bw_project_modbus_map *map, enum bw_type type,
                                         const uint16_t *regs, uint8_t bit, struct bw_value *out,
                                         char *text)
{
    return mb_decode(map, type, regs, &bit, out, text, 2u * FUZZ_MAX_REGS + 1);
}

/* Scaled maps: the raw number behind in and behind out may differ by the
 * rounding of the scaling there and back (and one step for integer
 * registers), never more. */
static void check_scaled_roundtrip(const struct bw_project_modbus_map *map, const uint16_t *in,
                                   const uint16_t *out)
{
    struct bw_project_modbus_map plain = *map;
    plain.scaled = false;
    struct bw_value a, b;
    char text[2 * FUZZ_MAX_REGS + 1];
    if (decode_again(&plain, BW_TYPE_FLOAT, in, 0, &a, text) != MB_CODEC_OK ||
        decode_again(&plain, BW_TYPE_FLOAT, out, 0, &b, text) != MB_CODEC_OK)
        abort();
    double cond = (fabs(map->eu_min) + fabs(map->eu_max)) * fabs(map->raw_max - map->raw_min) /
                  fabs(map->eu_max - map->eu_min);
    double tol = 1e-6 * (fabs(a.v.f) + fabs(map->raw_min) + fabs(map->raw_max) + cond) + 1e-30;
    if (is_int_type(map->type))
        tol += 1.0;
    if (!(fabs(a.v.f - b.v.f) <= tol))
        abort();
}

/* A decoded value has the shape the header promises. */
static void check_decoded(const struct bw_project_modbus_map *map, enum bw_type tag_type,
                          const struct bw_value *v, const char *text)
{
    if (v->type != tag_type)
        abort();
    if (v->type == BW_TYPE_FLOAT && !isfinite(v->v.f))
        abort();
    if (v->type == BW_TYPE_STRING) {
        if (map->type != BW_MODBUS_STRING || v->v.s != text || v->len > 2u * map->count ||
            text[v->len] != '\0' || memchr(text, '\0', v->len) || !bw_utf8_valid(text, v->len))
            abort();
    }
}

/* decode(regs) gave v: encoding v must give it back. */
static void check_roundtrip(const struct bw_project_modbus_map *map, enum bw_type tag_type,
                            const uint16_t *regs, const struct bw_value *v)
{
    uint16_t out[FUZZ_MAX_REGS];
    memset(out, 0xA5, sizeof(out));
    uint8_t bit = 0xA5;
    enum mb_codec_result e = mb_encode(map, v, out, &bit);
    if (map->scaled) {
        if (e == MB_CODEC_OK)
            check_scaled_roundtrip(map, regs, out);
        else if (e != MB_CODEC_RANGE)
            abort();
        return;
    }
    if (e != MB_CODEC_OK)
        abort();
    if (map->type == BW_MODBUS_BOOL) {
        if (bit != (v->v.b ? 1 : 0))
            abort();
        return;
    }
    struct bw_value again;
    char text[2 * FUZZ_MAX_REGS + 1];
    if (decode_again(map, tag_type, out, 0, &again, text) != MB_CODEC_OK ||
        !values_equal(v, &again))
        abort();
    if (is_number(map->type) && memcmp(out, regs, map->count * sizeof(*out)) != 0)
        abort();
}

/* Encodes a value made of the remaining input; what the codec accepts
 * must read back, and encode to the same registers again. */
static void check_value(const struct bw_project_modbus_map *map, enum bw_type tag_type, bool raw,
                        struct cursor *c)
{
    uint8_t sel = take8(c);
    struct bw_value val = {.type = (sel & 0x80) ? tag_type : (enum bw_type)(sel % (raw ? 5 : 4))};
    unsigned shift = take8(c) % 64;
    uint64_t x = take64(c);
    switch (val.type) {
    case BW_TYPE_BOOL:
        val.v.b = x & 1;
        break;
    case BW_TYPE_INT:
        val.v.i = (int64_t)x >> shift;
        break;
    case BW_TYPE_FLOAT:
        memcpy(&val.v.f, &x, sizeof(val.v.f));
        if (shift & 1) /* a plain number now and then */
            val.v.f = (double)((int64_t)x >> shift) / (double)(1u + (shift >> 1));
        break;
    default:
        val.v.s = (const char *)c->p;
        val.len = c->n;
        break;
    }
    uint16_t out[FUZZ_MAX_REGS], out2[FUZZ_MAX_REGS];
    uint8_t bit = 0xA5, bit2 = 0xA5;
    enum mb_codec_result e = mb_encode(map, &val, out, &bit);
    if (!result_known(e))
        abort();
    if (e != MB_CODEC_OK)
        return;
    if (map->type == BW_MODBUS_BOOL) {
        if (bit != (val.v.b ? 1 : 0))
            abort();
        return;
    }
    struct bw_value got;
    char text[2 * FUZZ_MAX_REGS + 1];
    enum mb_codec_result d = decode_again(map, val.type, out, 0, &got, text);
    if (map->scaled) { /* a huge raw value can overflow on the way back */
        if (d != MB_CODEC_OK && d != MB_CODEC_NOT_FINITE)
            abort();
        return;
    }
    if (d != MB_CODEC_OK)
        abort();
    check_decoded(map, val.type, &got, text);
    if (val.type == BW_TYPE_STRING && !values_equal(&val, &got))
        abort();
    if (val.type == BW_TYPE_INT && got.v.i != val.v.i)
        abort();
    if (mb_encode(map, &got, out2, &bit2) != MB_CODEC_OK ||
        memcmp(out, out2, map->count * sizeof(*out)) != 0)
        abort();
}

static void fuzz_codec(struct cursor *c)
{
    static const double factors[4] = {1.0, 10.0, 1000.0, 0.01};
    uint8_t b1 = take8(c), b2 = take8(c), b3 = take8(c);
    bool raw = b2 & 0x20;
    struct bw_project_modbus_map map = {
        .word_swap = b1 & 0x20,
        .byte_swap = b1 & 0x40,
        .bit = -1,
    };
    enum bw_type tag_type;
    size_t text_size;
    if (!raw) {
        map.area = (enum bw_modbus_area)(b1 & 3);
        map.type = is_bit_area(map.area) ? BW_MODBUS_BOOL : (enum bw_modbus_type)((b1 >> 2) & 7);
        map.count = (uint16_t)(map.type == BW_MODBUS_STRING ? 1 + b3 % MB_MAX_TAG_REGISTERS
                                                            : type_registers(map.type));
        if (map.type == BW_MODBUS_BOOL && !is_bit_area(map.area))
            map.bit = (int8_t)(b2 & 15);
        map.scaled = (b1 & 0x80) && is_number(map.type);
        if (map.type == BW_MODBUS_BOOL)
            tag_type = BW_TYPE_BOOL;
        else if (map.type == BW_MODBUS_STRING)
            tag_type = BW_TYPE_STRING;
        else if (map.scaled || !is_int_type(map.type) || (b2 & 0x10))
            tag_type = BW_TYPE_FLOAT;
        else
            tag_type = BW_TYPE_INT;
        text_size = 2u * map.count + 1;
    } else {
        map.area = (enum bw_modbus_area)(b1 & 7);
        map.type = (enum bw_modbus_type)(b3 & 15);
        map.count = take8(c);
        map.bit = (int8_t)(take8(c) % 20 - 2);
        map.scaled = b1 & 0x80;
        tag_type = (enum bw_type)(take8(c) % 5);
        text_size = take8(c) * 2u + (b2 & 1);
    }
    double f = factors[b2 >> 6];
    map.raw_min = ((double)take16(c) - 32768.0) / f;
    map.raw_max = ((double)take16(c) - 32768.0) / f;
    map.eu_min = ((double)take16(c) - 32768.0) / f;
    map.eu_max = ((double)take16(c) - 32768.0) / f;
    uint16_t address = take16(c);
    map.address = (uint16_t)(address > 65536u - map.count ? 65536u - map.count : address);

    uint8_t bits[1] = {take8(c)};
    uint16_t regs[FUZZ_MAX_REGS] = {0};
    size_t nregs = map.count < FUZZ_MAX_REGS ? map.count : FUZZ_MAX_REGS;
    for (size_t i = 0; i < nregs; i++)
        regs[i] = take16(c);

    /* exactly text_size bytes, so that ASan sees any write past it */
    char *text = malloc(text_size ? text_size : 1);
    if (!text)
        return;
    struct bw_value v;
    enum mb_codec_result r = mb_decode(&map, tag_type, regs, bits, &v, text, text_size);
    if (!result_known(r))
        abort();
    if (!raw) { /* a map the loader can produce is never refused as a type */
        bool ok = r == MB_CODEC_OK || (map.type == BW_MODBUS_STRING && r == MB_CODEC_BAD_TEXT) ||
                  (tag_type == BW_TYPE_FLOAT && r == MB_CODEC_NOT_FINITE);
        if (!ok)
            abort();
    }
    if (r == MB_CODEC_OK) {
        if (map.area > BW_MODBUS_INPUT_REGISTER || map.count > MB_MAX_TAG_REGISTERS ||
            (map.type == BW_MODBUS_STRING && text_size < 2u * map.count + 1))
            abort();
        check_decoded(&map, tag_type, &v, text);
        check_roundtrip(&map, tag_type, regs, &v);
    }
    free(text);
    check_value(&map, tag_type, raw, c);
}

/* ---- planner --------------------------------------------------------- */

static bool span_valid(const struct mb_span *s)
{
    return s->area <= BW_MODBUS_INPUT_REGISTER && s->count >= 1 &&
           (uint32_t)s->address + s->count <= 65536u;
}

static void check_plan(const struct mb_span *spans, size_t n, const struct mb_plan_limits *lim,
                       const struct mb_plan *plan, uint8_t *seen)
{
    if (plan->span_count != n || (n == 0 && plan->block_count != 0) || plan->block_count > n)
        abort();
    memset(seen, 0, n);
    for (size_t i = 0; i < n; i++) {
        size_t k = plan->order[i];
        if (k >= n || seen[k])
            abort();
        seen[k] = 1;
        if (i > 0) {
            const struct mb_span *a = &spans[plan->order[i - 1]], *b = &spans[k];
            bool sorted =
                a->area < b->area || (a->area == b->area && a->address < b->address) ||
                (a->area == b->area && a->address == b->address && plan->order[i - 1] < k);
            if (!sorted)
                abort();
        }
    }
    size_t next = 0;
    for (size_t bi = 0; bi < plan->block_count; bi++) {
        const struct mb_block *blk = &plan->blocks[bi];
        bool bits = is_bit_area(blk->area);
        uint32_t limit = bits ? lim->max_bits : lim->max_registers;
        uint32_t gap = bits ? 16u * lim->max_gap : lim->max_gap;
        if (blk->first != next || blk->spans == 0 || blk->spans > n - next)
            abort();
        uint32_t lo = UINT32_MAX, hi = 0;
        for (size_t k = blk->first; k < blk->first + blk->spans; k++) {
            const struct mb_span *s = &spans[plan->order[k]];
            uint32_t end = (uint32_t)s->address + s->count;
            if (s->area != blk->area || s->address < blk->address ||
                end > (uint32_t)blk->address + blk->count)
                abort();
            if (k > blk->first && s->address > hi + gap)
                abort(); /* bridged more unused addresses than allowed */
            lo = s->address < lo ? s->address : lo;
            hi = end > hi ? end : hi;
        }
        if (lo != blk->address || hi != (uint32_t)blk->address + blk->count)
            abort();
        if (blk->count > limit &&
            (blk->spans != 1 || spans[plan->order[blk->first]].count != blk->count))
            abort();
        if (bi > 0 && plan->blocks[bi - 1].area == blk->area) {
            const struct mb_block *prev = &plan->blocks[bi - 1];
            const struct mb_span *s = &spans[plan->order[blk->first]];
            uint32_t pend = (uint32_t)prev->address + prev->count;
            uint32_t send = (uint32_t)s->address + s->count;
            uint32_t nend = send > pend ? send : pend;
            if (nend - prev->address <= limit && s->address <= pend + gap)
                abort(); /* it would have fitted: not greedy */
        }
        next += blk->spans;
    }
    if (next != n)
        abort();
}

static void fuzz_planner(struct cursor *c)
{
    struct mb_plan_limits lim = {
        .max_registers = take8(c) % 128u,
        .max_bits = take16(c) % 2048u,
        .max_gap = take8(c) % 128u,
    };
    bool valid = lim.max_registers >= 1 && lim.max_registers <= 125 && lim.max_bits >= 1 &&
                 lim.max_bits <= 2000 && lim.max_gap <= 124;
    struct mb_span *spans = malloc(FUZZ_MAX_SPANS * sizeof(*spans));
    uint8_t *seen = malloc(FUZZ_MAX_SPANS);
    if (!spans || !seen) {
        free(spans);
        free(seen);
        return;
    }
    size_t n = 0;
    uint16_t prev = 0;
    while (c->n >= 3 && n < FUZZ_MAX_SPANS) {
        uint8_t flag = take8(c);
        struct mb_span *s = &spans[n++];
        s->area = (flag & 0x70) == 0x70 ? (enum bw_modbus_area)(4 + (flag >> 7))
                                        : (enum bw_modbus_area)(flag & 3);
        /* near the previous span, so that overlaps and gaps are common */
        s->address = (flag & 8) ? (uint16_t)(prev + take8(c) - 64) : take16(c);
        s->count = (flag & 4) ? take16(c) : take8(c);
        prev = s->address;
        valid = valid && span_valid(s);
    }
    struct mb_plan plan;
    int rc = mb_plan_build(spans, n, &lim, &plan);
    if (!valid) {
        if (rc != BW_EINVAL || plan.blocks || plan.order || plan.block_count)
            abort();
    } else if (rc == BW_OK) {
        check_plan(spans, n, &lim, &plan, seen);
    } else if (rc != BW_ENOMEM) {
        abort();
    }
    mb_plan_clear(&plan);
    mb_plan_clear(&plan);
    free(spans);
    free(seen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 65536)
        return 0;
    struct cursor c = {data + 1, size - 1};
    if (data[0] & 1)
        fuzz_planner(&c);
    else
        fuzz_codec(&c);
    return 0;
}
