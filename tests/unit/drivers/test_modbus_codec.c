/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the Modbus codec: every data type in every word and byte
 * order against register values worked out here independently (as the
 * byte permutations ABCD, CDAB, BADC, DCBA of the value's big-endian
 * bytes) and against literal vectors, register bits, scaling and its
 * inverse with rounding, refusals (range, NaN, types, text), and
 * roundtrips encode -> decode over many values from a fixed-seed PRNG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "drivers/modbus/mb_codec.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* ---- helpers --------------------------------------------------------- */

/* The four combinations of (word_swap, byte_swap), in the order of the
 * byte permutations below. */
static const bool ORDERS[4][2] = {{false, false}, {true, false}, {false, true}, {true, true}};

/* Where each byte of the value's big-endian bytes goes on the wire, per
 * order, for 1, 2 and 4 registers: ABCD, CDAB (word little), BADC (byte
 * little), DCBA (both). */
static const unsigned PERM1[4][2] = {{0, 1}, {0, 1}, {1, 0}, {1, 0}};
static const unsigned PERM2[4][4] = {{0, 1, 2, 3}, {2, 3, 0, 1}, {1, 0, 3, 2}, {3, 2, 1, 0}};
static const unsigned PERM4[4][8] = {{0, 1, 2, 3, 4, 5, 6, 7},
                                     {6, 7, 4, 5, 2, 3, 0, 1},
                                     {1, 0, 3, 2, 5, 4, 7, 6},
                                     {7, 6, 5, 4, 3, 2, 1, 0}};

/* The registers a device holds for the value whose big-endian bytes are
 * be[0 .. 2 * nregs - 1], in the given order. */
static void expected_regs(const uint8_t *be, unsigned nregs, int order, uint16_t *out)
{
    uint8_t wire[8];
    for (unsigned i = 0; i < 2 * nregs; i++) {
        unsigned src = nregs == 1   ? PERM1[order][i]
                       : nregs == 2 ? PERM2[order][i]
                                    : PERM4[order][i];
        wire[i] = be[src];
    }
    for (unsigned i = 0; i < nregs; i++)
        out[i] = (uint16_t)(wire[2 * i] << 8 | wire[2 * i + 1]);
}

static void be_bytes(uint64_t v, unsigned nbytes, uint8_t *out)
{
    for (unsigned i = 0; i < nbytes; i++)
        out[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
}

static uint16_t bswap16(uint16_t v)
{
    return (uint16_t)((v & 0xFFu) << 8 | v >> 8);
}

static unsigned nregs_of(enum bw_modbus_type type)
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

static struct bw_project_modbus_map mk_map(enum bw_modbus_type type, int order)
{
    struct bw_project_modbus_map m = {
        .area = BW_MODBUS_HOLDING_REGISTER,
        .address = 100,
        .count = (uint16_t)nregs_of(type),
        .bit = -1,
        .type = type,
        .word_swap = ORDERS[order][0],
        .byte_swap = ORDERS[order][1],
    };
    return m;
}

static struct bw_project_modbus_map mk_scaled(enum bw_modbus_type type, double raw_min,
                                              double raw_max, double eu_min, double eu_max)
{
    struct bw_project_modbus_map m = mk_map(type, 0);
    m.scaled = true;
    m.raw_min = raw_min;
    m.raw_max = raw_max;
    m.eu_min = eu_min;
    m.eu_max = eu_max;
    return m;
}

static struct bw_value int_value(int64_t i)
{
    return (struct bw_value){.type = BW_TYPE_INT, .v.i = i};
}

static struct bw_value float_value(double f)
{
    return (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = f};
}

static struct bw_value bool_value(bool b)
{
    return (struct bw_value){.type = BW_TYPE_BOOL, .v.b = b};
}

static struct bw_value str_value(const char *s, size_t len)
{
    return (struct bw_value){.type = BW_TYPE_STRING, .v.s = s, .len = len};
}

static bool same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0;
}

#define check_regs(...) regs_check(__VA_ARGS__, __FILE__, __LINE__)
static void regs_check(const uint16_t *got, const uint16_t *want, unsigned n, const char *file,
                       int line)
{
    for (unsigned i = 0; i < n; i++) {
        if (got[i] != want[i]) {
            print_error("register %u = 0x%04X, expected 0x%04X\n", i, got[i], want[i]);
            _fail(file, line);
        }
    }
}

#define assert_near(a, b, eps) near_check((a), (b), (eps), #a, __FILE__, __LINE__)
static void near_check(double a, double b, double eps, const char *what, const char *file, int line)
{
    if (!(fabs(a - b) <= eps)) {
        print_error("%s = %.17g, expected %.17g +- %g\n", what, a, b, eps);
        _fail(file, line);
    }
}

/* Decodes regs as a float tag and returns the value; fails the test when
 * the codec refuses. */
static double decode_f(const struct bw_project_modbus_map *map, const uint16_t *regs)
{
    struct bw_value v;
    assert_int_equal(mb_decode(map, BW_TYPE_FLOAT, regs, NULL, &v, NULL, 0), MB_CODEC_OK);
    assert_int_equal(v.type, BW_TYPE_FLOAT);
    return v.v.f;
}

static int64_t decode_i(const struct bw_project_modbus_map *map, const uint16_t *regs)
{
    struct bw_value v;
    assert_int_equal(mb_decode(map, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_OK);
    assert_int_equal(v.type, BW_TYPE_INT);
    return v.v.i;
}

/* Checks one numeric vector both ways: regs decode to the value, the
 * value encodes to regs. */
static void check_float_vector(const struct bw_project_modbus_map *map, double value,
                               const uint16_t *regs)
{
    double got = decode_f(map, regs);
    if (!same_double(got, value)) {
        print_error("decoded %.17g, expected %.17g\n", got, value);
        fail();
    }
    uint16_t out[4] = {0xDEAD, 0xDEAD, 0xDEAD, 0xDEAD};
    struct bw_value v = float_value(value);
    assert_int_equal(mb_encode(map, &v, out, NULL), MB_CODEC_OK);
    check_regs(out, regs, map->count);
}

static void check_int_vector(const struct bw_project_modbus_map *map, int64_t value,
                             const uint16_t *regs)
{
    assert_int_equal(decode_i(map, regs), value);
    uint16_t out[4] = {0xDEAD, 0xDEAD, 0xDEAD, 0xDEAD};
    struct bw_value v = int_value(value);
    assert_int_equal(mb_encode(map, &v, out, NULL), MB_CODEC_OK);
    check_regs(out, regs, map->count);
    /* The same registers as a float tag give the same number. */
    check_float_vector(map, (double)value, regs);
}

/* splitmix64: a deterministic PRNG for the property tests. */
static uint64_t prng_next(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* ---- numbers: fixed vectors ----------------------------------------- */

static void test_float32_literal(void **state)
{
    (void)state;
    float f = 123.456f;
    uint32_t bits;
    memcpy(&bits, &f, sizeof(bits));
    assert_int_equal(bits, 0x42F6E979u);
    const uint16_t want[4][2] = {
        {0x42F6, 0xE979}, /* big/big */
        {0xE979, 0x42F6}, /* word little */
        {0xF642, 0x79E9}, /* byte little */
        {0x79E9, 0xF642}, /* both little */
    };
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT32, o);
        check_float_vector(&m, (double)f, want[o]);
    }
    struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT32, 0);
    check_float_vector(&m, -1.5, (const uint16_t[]){0xBFC0, 0x0000});
    check_float_vector(&m, 1.0, (const uint16_t[]){0x3F80, 0x0000});
}

static void test_float32_computed(void **state)
{
    (void)state;
    const float values[] = {
        0.0f,    -0.0f,    1.0f,    -1.5f,    3.14159f,   1e-40f /* subnormal */,
        FLT_MAX, -FLT_MIN, 65504.f, 123.456f, -7.25e-12f, 1e30f};
    for (size_t i = 0; i < BW_ARRAY_LEN(values); i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof(bits));
        uint8_t be[4];
        be_bytes(bits, 4, be);
        for (int o = 0; o < 4; o++) {
            uint16_t regs[2];
            expected_regs(be, 2, o, regs);
            struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT32, o);
            check_float_vector(&m, (double)values[i], regs);
        }
    }
}

static void test_float64_literal(void **state)
{
    (void)state;
    const uint16_t one[4][4] = {
        {0x3FF0, 0, 0, 0}, {0, 0, 0, 0x3FF0}, {0xF03F, 0, 0, 0}, {0, 0, 0, 0xF03F}};
    /* pi = 0x400921FB54442D18 */
    const uint16_t pi[4][4] = {{0x4009, 0x21FB, 0x5444, 0x2D18},
                               {0x2D18, 0x5444, 0x21FB, 0x4009},
                               {0x0940, 0xFB21, 0x4454, 0x182D},
                               {0x182D, 0x4454, 0xFB21, 0x0940}};
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT64, o);
        check_float_vector(&m, 1.0, one[o]);
        check_float_vector(&m, 3.141592653589793, pi[o]);
    }
}

static void test_float64_computed(void **state)
{
    (void)state;
    const double values[] = {0.0,     -0.0,    1.0,      -2.5e-300, 3.141592653589793,
                             DBL_MAX, DBL_MIN, 4.9e-324, 123.456,   -1e15 / 3.0};
    for (size_t i = 0; i < BW_ARRAY_LEN(values); i++) {
        uint64_t bits;
        memcpy(&bits, &values[i], sizeof(bits));
        uint8_t be[8];
        be_bytes(bits, 8, be);
        for (int o = 0; o < 4; o++) {
            uint16_t regs[4];
            expected_regs(be, 4, o, regs);
            struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT64, o);
            check_float_vector(&m, values[i], regs);
        }
    }
}

static void test_int16(void **state)
{
    (void)state;
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_INT16, o);
        bool bs = m.byte_swap;
        /* word order means nothing for one register */
        check_int_vector(&m, -1, (const uint16_t[]){0xFFFF});
        check_int_vector(&m, -32768, (const uint16_t[]){bs ? 0x0080 : 0x8000});
        check_int_vector(&m, 32767, (const uint16_t[]){bs ? 0xFF7F : 0x7FFF});
        check_int_vector(&m, -2, (const uint16_t[]){bs ? 0xFEFF : 0xFFFE});
        check_int_vector(&m, 0x1234, (const uint16_t[]){bs ? 0x3412 : 0x1234});
        check_int_vector(&m, -300, (const uint16_t[]){bs ? 0xD4FE : 0xFED4});
        check_int_vector(&m, 0, (const uint16_t[]){0});
    }
}

static void test_uint16(void **state)
{
    (void)state;
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_UINT16, o);
        bool bs = m.byte_swap;
        check_int_vector(&m, 65535, (const uint16_t[]){0xFFFF});
        check_int_vector(&m, 32768, (const uint16_t[]){bs ? 0x0080 : 0x8000});
        check_int_vector(&m, 0x1234, (const uint16_t[]){bs ? 0x3412 : 0x1234});
        check_int_vector(&m, 1, (const uint16_t[]){bs ? 0x0100 : 0x0001});
    }
}

static void test_int32(void **state)
{
    (void)state;
    const uint16_t v12345678[4][2] = {
        {0x1234, 0x5678}, {0x5678, 0x1234}, {0x3412, 0x7856}, {0x7856, 0x3412}};
    const uint16_t minus2[4][2] = {
        {0xFFFF, 0xFFFE}, {0xFFFE, 0xFFFF}, {0xFFFF, 0xFEFF}, {0xFEFF, 0xFFFF}};
    const uint16_t min[4][2] = {{0x8000, 0}, {0, 0x8000}, {0x0080, 0}, {0, 0x0080}};
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_INT32, o);
        check_int_vector(&m, 0x12345678, v12345678[o]);
        check_int_vector(&m, -2, minus2[o]);
        check_int_vector(&m, INT32_MIN, min[o]);
    }
    const int64_t values[] = {INT32_MAX, -1, 0, 1, 65535, 65536, -65536, -123456789};
    for (size_t i = 0; i < BW_ARRAY_LEN(values); i++) {
        uint8_t be[4];
        be_bytes((uint64_t)values[i], 4, be);
        for (int o = 0; o < 4; o++) {
            uint16_t regs[2];
            expected_regs(be, 2, o, regs);
            struct bw_project_modbus_map m = mk_map(BW_MODBUS_INT32, o);
            check_int_vector(&m, values[i], regs);
        }
    }
}

static void test_uint32(void **state)
{
    (void)state;
    const uint16_t v89abcdef[4][2] = {
        {0x89AB, 0xCDEF}, {0xCDEF, 0x89AB}, {0xAB89, 0xEFCD}, {0xEFCD, 0xAB89}};
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_UINT32, o);
        check_int_vector(&m, 4294967295, (const uint16_t[]){0xFFFF, 0xFFFF});
        check_int_vector(&m, 2309737967, v89abcdef[o]); /* 0x89ABCDEF: not negative */
    }
    const int64_t values[] = {0, 1, 65536, 0x80000000, 0xFFFF0000, 3000000000};
    for (size_t i = 0; i < BW_ARRAY_LEN(values); i++) {
        uint8_t be[4];
        be_bytes((uint64_t)values[i], 4, be);
        for (int o = 0; o < 4; o++) {
            uint16_t regs[2];
            expected_regs(be, 2, o, regs);
            struct bw_project_modbus_map m = mk_map(BW_MODBUS_UINT32, o);
            check_int_vector(&m, values[i], regs);
        }
    }
}

/* ---- bools ----------------------------------------------------------- */

static void test_bool_register_bits(void **state)
{
    (void)state;
    for (int swap = 0; swap < 2; swap++) {
        for (int bit = 0; bit < 16; bit++) {
            struct bw_project_modbus_map m = mk_map(BW_MODBUS_BOOL, swap ? 2 : 0);
            m.bit = (int8_t)bit;
            uint16_t value = (uint16_t)(1u << bit);
            /* bit B of the value is bit B ^ 8 on the wire when swapped */
            uint16_t wire = (uint16_t)(swap ? 1u << (bit ^ 8) : value);
            assert_int_equal(wire, swap ? bswap16(value) : value);
            struct bw_value v;
            uint16_t regs[1] = {wire};
            assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_OK);
            assert_int_equal(v.type, BW_TYPE_BOOL);
            assert_true(v.v.b);
            regs[0] = (uint16_t)~wire;
            assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_OK);
            assert_false(v.v.b);
            /* every other single bit reads false */
            for (int other = 0; other < 16; other++) {
                if (other == bit)
                    continue;
                uint16_t one = (uint16_t)(1u << other);
                regs[0] = (uint16_t)(swap ? bswap16(one) : one);
                assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_OK);
                assert_false(v.v.b);
            }
            /* encode: the bit, regs untouched (NULL is fine) */
            uint8_t b = 0xAA;
            struct bw_value t = bool_value(true), f = bool_value(false);
            assert_int_equal(mb_encode(&m, &t, NULL, &b), MB_CODEC_OK);
            assert_int_equal(b, 1);
            assert_int_equal(mb_encode(&m, &f, NULL, &b), MB_CODEC_OK);
            assert_int_equal(b, 0);
        }
    }
    /* word_swap does not matter for one register */
    struct bw_project_modbus_map m = mk_map(BW_MODBUS_BOOL, 1);
    m.bit = 3;
    struct bw_value v;
    assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, (const uint16_t[]){0x0008}, NULL, &v, NULL, 0),
                     MB_CODEC_OK);
    assert_true(v.v.b);
}

static void test_bool_bit_areas(void **state)
{
    (void)state;
    const enum bw_modbus_area areas[] = {BW_MODBUS_COIL, BW_MODBUS_DISCRETE_INPUT};
    for (size_t a = 0; a < 2; a++) {
        struct bw_project_modbus_map m = {
            .area = areas[a], .address = 7, .count = 1, .bit = -1, .type = BW_MODBUS_BOOL};
        struct bw_value v;
        const uint8_t bits[] = {0, 1, 0x80, 0xFF};
        for (size_t i = 0; i < BW_ARRAY_LEN(bits); i++) {
            assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, NULL, &bits[i], &v, NULL, 0), MB_CODEC_OK);
            assert_int_equal(v.type, BW_TYPE_BOOL);
            assert_int_equal(v.v.b, bits[i] != 0);
        }
        uint8_t b = 0xAA;
        struct bw_value t = bool_value(true), f = bool_value(false);
        assert_int_equal(mb_encode(&m, &t, NULL, &b), MB_CODEC_OK);
        assert_int_equal(b, 1);
        assert_int_equal(mb_encode(&m, &f, NULL, &b), MB_CODEC_OK);
        assert_int_equal(b, 0);
        /* missing bits */
        assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, NULL, NULL, &v, NULL, 0), MB_CODEC_TYPE);
        assert_int_equal(mb_encode(&m, &t, NULL, NULL), MB_CODEC_TYPE);
    }
}

/* ---- scaling --------------------------------------------------------- */

static void test_scaling_4_20ma(void **state)
{
    (void)state;
    /* A 4..20 mA input card: raw 0..27648 is 0..100 %. */
    struct bw_project_modbus_map m = mk_scaled(BW_MODBUS_INT16, 0, 27648, 0, 100);
    assert_near(decode_f(&m, (const uint16_t[]){0}), 0.0, 0);
    assert_near(decode_f(&m, (const uint16_t[]){27648}), 100.0, 1e-12);
    assert_near(decode_f(&m, (const uint16_t[]){13824}), 50.0, 1e-12);
    assert_near(decode_f(&m, (const uint16_t[]){6912}), 25.0, 1e-12);
    assert_near(decode_f(&m, (const uint16_t[]){0xFFFF}), -100.0 / 27648.0, 1e-15);
    assert_near(decode_f(&m, (const uint16_t[]){32767}), 32767 * 100.0 / 27648.0, 1e-9);

    uint16_t r[1];
    struct bw_value v = float_value(50.0);
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
    assert_int_equal(r[0], 13824);
    v.v.f = 100.0;
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
    assert_int_equal(r[0], 27648);
    v.v.f = 33.3333; /* 9215.99 */
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
    assert_int_equal(r[0], 9216);
    v.v.f = 33.33; /* 9215.08 */
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
    assert_int_equal(r[0], 9215);
    v.v.f = -1.0; /* -276.48 */
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
    assert_int_equal(r[0], (uint16_t)-276);

    /* Every raw value reads back to itself through the engineering value. */
    for (uint32_t raw = 0; raw <= 27648; raw++) {
        uint16_t in[1] = {(uint16_t)raw};
        struct bw_value eu = float_value(decode_f(&m, in));
        assert_int_equal(mb_encode(&m, &eu, r, NULL), MB_CODEC_OK);
        assert_int_equal(r[0], raw);
    }

    /* 200 % is raw 55296: beyond int16, within uint16. */
    v.v.f = 200.0;
    r[0] = 0x5A5A;
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_RANGE);
    assert_int_equal(r[0], 0x5A5A);
    struct bw_project_modbus_map mu = mk_scaled(BW_MODBUS_UINT16, 0, 27648, 0, 100);
    assert_int_equal(mb_encode(&mu, &v, r, NULL), MB_CODEC_OK);
    assert_int_equal(r[0], 55296);
    v.v.f = -1.0;
    assert_int_equal(mb_encode(&mu, &v, r, NULL), MB_CODEC_RANGE);
}

static void test_scaling_rounding_ties(void **state)
{
    (void)state;
    /* raw = eu / 10: eu 5 is raw 0.5 exactly. Ties go away from zero. */
    struct bw_project_modbus_map m = mk_scaled(BW_MODBUS_INT16, 0, 100, 0, 1000);
    const struct {
        double eu;
        int16_t raw;
    } cases[] = {{5, 1},
                 {15, 2},
                 {25, 3},
                 {-5, -1},
                 {-15, -2},
                 {-25, -3},
                 {4.99, 0},
                 {-4.99, 0},
                 {5.01, 1},
                 {14.9, 1},
                 {0, 0},
                 {-0.0, 0},
                 {327670, 32767},
                 {-327680, -32768},
                 {327674.9, 32767},
                 {-327684.9, -32768}};
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        uint16_t r[1];
        struct bw_value v = float_value(cases[i].eu);
        assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
        assert_int_equal((int16_t)r[0], cases[i].raw);
    }
    /* 327675 is raw 32767.5, rounding to 32768. */
    struct bw_value v = float_value(327675);
    uint16_t r[1];
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_RANGE);
    v.v.f = -327685;
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_RANGE);
}

static void test_scaling_floats(void **state)
{
    (void)state;
    struct bw_project_modbus_map m = mk_scaled(BW_MODBUS_FLOAT32, 0, 1, 0, 100);
    assert_near(decode_f(&m, (const uint16_t[]){0x3E80, 0x0000}), 25.0, 0); /* 0.25f */
    uint16_t r[4];
    struct bw_value v = float_value(75.0);
    assert_int_equal(mb_encode(&m, &v, r, NULL), MB_CODEC_OK);
    check_regs(r, (const uint16_t[]){0x3F40, 0x0000}, 2); /* 0.75f */

    /* an offset: raw -1..1 is 4..20 */
    struct bw_project_modbus_map d = mk_scaled(BW_MODBUS_FLOAT64, -1, 1, 4, 20);
    assert_near(decode_f(&d, (const uint16_t[]){0, 0, 0, 0}), 12.0, 0);
    assert_near(decode_f(&d, (const uint16_t[]){0xBFF0, 0, 0, 0}), 4.0, 0);
    v.v.f = 16.0;
    assert_int_equal(mb_encode(&d, &v, r, NULL), MB_CODEC_OK);
    check_regs(r, (const uint16_t[]){0x3FE0, 0, 0, 0}, 4); /* 0.5 */

    /* scaled float32 beyond FLT_MAX after inverse scaling */
    struct bw_project_modbus_map big = mk_scaled(BW_MODBUS_FLOAT32, 0, 1e38, 0, 1);
    v.v.f = 3.0; /* raw 3e38 < FLT_MAX */
    assert_int_equal(mb_encode(&big, &v, r, NULL), MB_CODEC_OK);
    v.v.f = 4.0; /* raw 4e38 > FLT_MAX */
    assert_int_equal(mb_encode(&big, &v, r, NULL), MB_CODEC_RANGE);

    /* degenerate engineering range: the inverse divides by zero */
    struct bw_project_modbus_map flat = mk_scaled(BW_MODBUS_FLOAT64, 0, 1, 5, 5);
    assert_near(decode_f(&flat, (const uint16_t[]){0x3FE0, 0, 0, 0}), 5.0, 0);
    v.v.f = 5.0;
    assert_int_equal(mb_encode(&flat, &v, r, NULL), MB_CODEC_RANGE);
}

/* ---- refusals -------------------------------------------------------- */

static void expect_encode(const struct bw_project_modbus_map *m, struct bw_value v,
                          enum mb_codec_result want)
{
    uint16_t r[4] = {0x5A5A, 0x5A5A, 0x5A5A, 0x5A5A};
    uint8_t b = 0x5A;
    assert_int_equal(mb_encode(m, &v, r, &b), want);
    if (want != MB_CODEC_OK) { /* nothing written on refusal */
        for (int i = 0; i < 4; i++)
            assert_int_equal(r[i], 0x5A5A);
        assert_int_equal(b, 0x5A);
    }
}

static void test_range_refusals(void **state)
{
    (void)state;
    struct bw_project_modbus_map i16 = mk_map(BW_MODBUS_INT16, 0);
    struct bw_project_modbus_map u16 = mk_map(BW_MODBUS_UINT16, 0);
    struct bw_project_modbus_map i32 = mk_map(BW_MODBUS_INT32, 0);
    struct bw_project_modbus_map u32 = mk_map(BW_MODBUS_UINT32, 0);
    struct bw_project_modbus_map f32 = mk_map(BW_MODBUS_FLOAT32, 0);
    struct bw_project_modbus_map f64 = mk_map(BW_MODBUS_FLOAT64, 0);

    expect_encode(&i16, int_value(32767), MB_CODEC_OK);
    expect_encode(&i16, int_value(-32768), MB_CODEC_OK);
    expect_encode(&i16, int_value(32768), MB_CODEC_RANGE);
    expect_encode(&i16, int_value(-32769), MB_CODEC_RANGE);
    expect_encode(&u16, int_value(65535), MB_CODEC_OK);
    expect_encode(&u16, int_value(65536), MB_CODEC_RANGE);
    expect_encode(&u16, int_value(-1), MB_CODEC_RANGE);
    expect_encode(&i32, int_value(INT32_MAX), MB_CODEC_OK);
    expect_encode(&i32, int_value((int64_t)INT32_MAX + 1), MB_CODEC_RANGE);
    expect_encode(&i32, int_value((int64_t)INT32_MIN - 1), MB_CODEC_RANGE);
    expect_encode(&u32, int_value(UINT32_MAX), MB_CODEC_OK);
    expect_encode(&u32, int_value((int64_t)UINT32_MAX + 1), MB_CODEC_RANGE);
    expect_encode(&u32, int_value(-1), MB_CODEC_RANGE);
    expect_encode(&u32, int_value(INT64_MAX), MB_CODEC_RANGE);
    expect_encode(&i32, int_value(INT64_MIN), MB_CODEC_RANGE);

    /* float values into integer registers: rounded, then checked */
    expect_encode(&i16, float_value(32767.49), MB_CODEC_OK);
    expect_encode(&i16, float_value(32767.5), MB_CODEC_RANGE);
    expect_encode(&i16, float_value(-32768.49), MB_CODEC_OK);
    expect_encode(&i16, float_value(-32768.5), MB_CODEC_RANGE);
    expect_encode(&u16, float_value(-0.49), MB_CODEC_OK);
    expect_encode(&u16, float_value(-0.5), MB_CODEC_RANGE);
    expect_encode(&u32, float_value(4294967295.49), MB_CODEC_OK);
    expect_encode(&u32, float_value(4294967295.5), MB_CODEC_RANGE);
    expect_encode(&i32, float_value(1e300), MB_CODEC_RANGE);
    expect_encode(&i32, float_value(-1e300), MB_CODEC_RANGE);
    expect_encode(&i32, float_value(9.3e18), MB_CODEC_RANGE); /* beyond int64 too */

    expect_encode(&f32, float_value(FLT_MAX), MB_CODEC_OK);
    expect_encode(&f32, float_value(-FLT_MAX), MB_CODEC_OK);
    expect_encode(&f32, float_value(3.5e38), MB_CODEC_RANGE);
    expect_encode(&f32, float_value(-1e300), MB_CODEC_RANGE);
    expect_encode(&f64, float_value(DBL_MAX), MB_CODEC_OK);

    /* 1e-50 underflows to zero in float32: a value, not an error */
    uint16_t r[2];
    struct bw_value tiny = float_value(1e-50);
    assert_int_equal(mb_encode(&f32, &tiny, r, NULL), MB_CODEC_OK);
    check_regs(r, (const uint16_t[]){0, 0}, 2);
}

static void test_not_finite(void **state)
{
    (void)state;
    const uint16_t f32_bad[][2] = {
        {0x7FC0, 0x0000}, /* quiet NaN */
        {0x7F80, 0x0001}, /* signalling NaN */
        {0xFFC0, 0x0000}, /* negative NaN */
        {0x7F80, 0x0000}, /* +inf */
        {0xFF80, 0x0000}, /* -inf */
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(f32_bad); i++) {
        uint8_t be[4] = {(uint8_t)(f32_bad[i][0] >> 8), (uint8_t)f32_bad[i][0],
                         (uint8_t)(f32_bad[i][1] >> 8), (uint8_t)f32_bad[i][1]};
        for (int o = 0; o < 4; o++) {
            struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT32, o);
            uint16_t regs[2];
            expected_regs(be, 2, o, regs);
            struct bw_value v = float_value(12.5);
            assert_int_equal(mb_decode(&m, BW_TYPE_FLOAT, regs, NULL, &v, NULL, 0),
                             MB_CODEC_NOT_FINITE);
            assert_true(v.v.f == 12.5); /* untouched */
        }
    }
    const uint16_t f64_bad[][4] = {
        {0x7FF8, 0, 0, 0}, {0x7FF0, 0, 0, 1}, {0x7FF0, 0, 0, 0}, {0xFFF0, 0, 0, 0}};
    for (size_t i = 0; i < BW_ARRAY_LEN(f64_bad); i++) {
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_FLOAT64, 0);
        struct bw_value v;
        assert_int_equal(mb_decode(&m, BW_TYPE_FLOAT, f64_bad[i], NULL, &v, NULL, 0),
                         MB_CODEC_NOT_FINITE);
    }
    /* finite registers, infinite after scaling */
    struct bw_project_modbus_map m = mk_scaled(BW_MODBUS_FLOAT32, 0, 1, 0, 1e300);
    struct bw_value v;
    assert_int_equal(mb_decode(&m, BW_TYPE_FLOAT, (const uint16_t[]){0x7F7F, 0xFFFF} /* FLT_MAX */,
                               NULL, &v, NULL, 0),
                     MB_CODEC_NOT_FINITE);
    /* raw_min == raw_max: 0/0 or x/0 */
    struct bw_project_modbus_map flat = mk_scaled(BW_MODBUS_INT16, 10, 10, 0, 100);
    assert_int_equal(mb_decode(&flat, BW_TYPE_FLOAT, (const uint16_t[]){10}, NULL, &v, NULL, 0),
                     MB_CODEC_NOT_FINITE);
    assert_int_equal(mb_decode(&flat, BW_TYPE_FLOAT, (const uint16_t[]){11}, NULL, &v, NULL, 0),
                     MB_CODEC_NOT_FINITE);

    /* writing NaN or an infinity */
    const double bad[] = {NAN, INFINITY, -INFINITY};
    const enum bw_modbus_type types[] = {BW_MODBUS_FLOAT32, BW_MODBUS_FLOAT64, BW_MODBUS_INT16,
                                         BW_MODBUS_UINT32};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        for (size_t t = 0; t < BW_ARRAY_LEN(types); t++) {
            struct bw_project_modbus_map mt = mk_map(types[t], 0);
            expect_encode(&mt, float_value(bad[i]), MB_CODEC_NOT_FINITE);
        }
    }
}

static void test_type_mismatch(void **state)
{
    (void)state;
    struct bw_value v;
    char text[16];
    uint16_t regs[4] = {0};
    uint8_t bits[1] = {1};
    struct bw_project_modbus_map f32 = mk_map(BW_MODBUS_FLOAT32, 0);
    struct bw_project_modbus_map i16 = mk_map(BW_MODBUS_INT16, 0);
    struct bw_project_modbus_map str = mk_map(BW_MODBUS_STRING, 0);
    str.count = 4;
    struct bw_project_modbus_map coil = {
        .area = BW_MODBUS_COIL, .count = 1, .bit = -1, .type = BW_MODBUS_BOOL};

    /* decode: tag types that do not fit the map */
    assert_int_equal(mb_decode(&f32, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&f32, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&f32, BW_TYPE_STRING, regs, NULL, &v, text, 16), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&i16, BW_TYPE_STRING, regs, NULL, &v, text, 16), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&i16, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&str, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&coil, BW_TYPE_INT, NULL, bits, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&i16, (enum bw_type)42, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    /* int tags are never scaled */
    struct bw_project_modbus_map si16 = mk_scaled(BW_MODBUS_INT16, 0, 1, 0, 2);
    assert_int_equal(mb_decode(&si16, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    expect_encode(&si16, int_value(1), MB_CODEC_TYPE);
    /* text buffer too small: 2 * count + 1 needed */
    assert_int_equal(mb_decode(&str, BW_TYPE_STRING, regs, NULL, &v, text, 8), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&str, BW_TYPE_STRING, regs, NULL, &v, NULL, 16), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&str, BW_TYPE_STRING, regs, NULL, &v, text, 9), MB_CODEC_OK);
    /* missing buffers */
    assert_int_equal(mb_decode(&i16, BW_TYPE_INT, NULL, bits, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(NULL, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    assert_int_equal(mb_decode(&i16, BW_TYPE_INT, regs, NULL, NULL, NULL, 0), MB_CODEC_TYPE);

    /* encode: value types that do not fit */
    expect_encode(&f32, bool_value(true), MB_CODEC_TYPE);
    expect_encode(&f32, int_value(1), MB_CODEC_TYPE);
    expect_encode(&i16, bool_value(true), MB_CODEC_TYPE);
    expect_encode(&i16, str_value("1", 1), MB_CODEC_TYPE);
    expect_encode(&str, int_value(1), MB_CODEC_TYPE);
    expect_encode(&coil, int_value(1), MB_CODEC_TYPE);
    expect_encode(&coil, float_value(1), MB_CODEC_TYPE);
    struct bw_value fv = float_value(1);
    assert_int_equal(mb_encode(&f32, &fv, NULL, NULL), MB_CODEC_TYPE);
    assert_int_equal(mb_encode(&f32, NULL, regs, NULL), MB_CODEC_TYPE);
    assert_int_equal(mb_encode(NULL, &fv, regs, NULL), MB_CODEC_TYPE);
}

/* Maps the loader cannot produce are refused, never read past. */
static void test_impossible_maps(void **state)
{
    (void)state;
    struct bw_value v;
    uint16_t regs[4] = {0};
    uint8_t bits[1] = {1};
    struct bw_project_modbus_map f32 = mk_map(BW_MODBUS_FLOAT32, 0);
    struct bw_project_modbus_map i16 = mk_map(BW_MODBUS_INT16, 0);
    struct bw_project_modbus_map str = mk_map(BW_MODBUS_STRING, 0);
    str.count = 4;
    struct bw_project_modbus_map coil = {
        .area = BW_MODBUS_COIL, .count = 1, .bit = -1, .type = BW_MODBUS_BOOL};

    struct bw_project_modbus_map bad = i16;
    bad.count = 2;
    assert_int_equal(mb_decode(&bad, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad = f32;
    bad.count = 1;
    assert_int_equal(mb_decode(&bad, BW_TYPE_FLOAT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad = i16;
    bad.bit = 3; /* a bit of a number register */
    assert_int_equal(mb_decode(&bad, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad = mk_map(BW_MODBUS_BOOL, 0); /* a register bool without a bit */
    assert_int_equal(mb_decode(&bad, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad.bit = 16;
    assert_int_equal(mb_decode(&bad, BW_TYPE_BOOL, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad = coil;
    bad.type = BW_MODBUS_INT16; /* a number in a bit area */
    assert_int_equal(mb_decode(&bad, BW_TYPE_INT, regs, bits, &v, NULL, 0), MB_CODEC_TYPE);
    bad = i16;
    bad.area = (enum bw_modbus_area)9;
    assert_int_equal(mb_decode(&bad, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad = i16;
    bad.type = (enum bw_modbus_type)99;
    assert_int_equal(mb_decode(&bad, BW_TYPE_INT, regs, NULL, &v, NULL, 0), MB_CODEC_TYPE);
    bad = str;
    bad.count = MB_MAX_TAG_REGISTERS + 1;
    char big[300];
    assert_int_equal(mb_decode(&bad, BW_TYPE_STRING, regs, NULL, &v, big, sizeof(big)),
                     MB_CODEC_TYPE);
    bad.count = 0;
    assert_int_equal(mb_decode(&bad, BW_TYPE_STRING, regs, NULL, &v, big, sizeof(big)),
                     MB_CODEC_TYPE);
}

/* ---- strings --------------------------------------------------------- */

static struct bw_project_modbus_map mk_string(uint16_t count, int order)
{
    struct bw_project_modbus_map m = mk_map(BW_MODBUS_STRING, order);
    m.count = count;
    return m;
}

/* Decodes regs as a string and checks the text. */
static void check_text(const struct bw_project_modbus_map *m, const uint16_t *regs,
                       const char *want)
{
    char text[2 * MB_MAX_TAG_REGISTERS + 1];
    memset(text, 'x', sizeof(text));
    struct bw_value v;
    assert_int_equal(mb_decode(m, BW_TYPE_STRING, regs, NULL, &v, text, sizeof(text)), MB_CODEC_OK);
    assert_int_equal(v.type, BW_TYPE_STRING);
    assert_ptr_equal(v.v.s, text);
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.v.s, want, v.len);
    assert_int_equal(text[v.len], '\0');
}

static void check_string_vector(const struct bw_project_modbus_map *m, const char *s,
                                const uint16_t *regs)
{
    uint16_t out[MB_MAX_TAG_REGISTERS];
    struct bw_value v = str_value(s, strlen(s));
    assert_int_equal(mb_encode(m, &v, out, NULL), MB_CODEC_OK);
    check_regs(out, regs, m->count);
    check_text(m, regs, s);
}

static void test_string(void **state)
{
    (void)state;
    for (int o = 0; o < 4; o++) {
        struct bw_project_modbus_map m = mk_string(4, o);
        bool bs = m.byte_swap; /* word order does not apply to strings */
        if (!bs) {
            check_string_vector(&m, "AB", (const uint16_t[]){0x4142, 0, 0, 0});
            check_string_vector(&m, "ABC", (const uint16_t[]){0x4142, 0x4300, 0, 0});
            check_string_vector(&m, "ABCDEFGH", (const uint16_t[]){0x4142, 0x4344, 0x4546, 0x4748});
            /* UTF-8 e-acute, euro sign: C3 A9 E2 82 AC */
            check_string_vector(&m, "\xC3\xA9\xE2\x82\xAC",
                                (const uint16_t[]){0xC3A9, 0xE282, 0xAC00, 0});
        } else {
            check_string_vector(&m, "AB", (const uint16_t[]){0x4241, 0, 0, 0});
            check_string_vector(&m, "ABC", (const uint16_t[]){0x4241, 0x0043, 0, 0});
            check_string_vector(&m, "ABCDEFGH", (const uint16_t[]){0x4241, 0x4443, 0x4645, 0x4847});
            check_string_vector(&m, "\xC3\xA9\xE2\x82\xAC",
                                (const uint16_t[]){0xA9C3, 0x82E2, 0x00AC, 0});
        }
        check_string_vector(&m, "", (const uint16_t[]){0, 0, 0, 0});
        /* longer than 8 bytes */
        expect_encode(&m, str_value("ABCDEFGHI", 9), MB_CODEC_RANGE);
    }
    struct bw_project_modbus_map m = mk_string(4, 0);
    /* the text ends at the first NUL, whatever follows */
    check_text(&m, (const uint16_t[]){0x4100, 0x4243, 0x4445, 0x4647}, "A");
    check_text(&m, (const uint16_t[]){0x0041, 0x4243, 0, 0}, "");
    check_text(&m, (const uint16_t[]){0x4142, 0x0043, 0, 0}, "AB");
    /* exactly 2 * count + 1 bytes of text buffer suffice */
    char text[9];
    struct bw_value v;
    assert_int_equal(mb_decode(&m, BW_TYPE_STRING,
                               (const uint16_t[]){0x4142, 0x4344, 0x4546, 0x4748}, NULL, &v, text,
                               sizeof(text)),
                     MB_CODEC_OK);
    assert_int_equal(v.len, 8);
    assert_string_equal(text, "ABCDEFGH");

    /* the longest string */
    struct bw_project_modbus_map lm = mk_string(MB_MAX_TAG_REGISTERS, 0);
    char s[2 * MB_MAX_TAG_REGISTERS + 1];
    memset(s, 'z', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    uint16_t regs[MB_MAX_TAG_REGISTERS];
    for (size_t i = 0; i < MB_MAX_TAG_REGISTERS; i++)
        regs[i] = 0x7A7A;
    check_string_vector(&lm, s, regs);
    /* NULL text with length 0 is the empty string */
    uint16_t out[4] = {1, 1, 1, 1};
    struct bw_value empty = str_value(NULL, 0);
    assert_int_equal(mb_encode(&m, &empty, out, NULL), MB_CODEC_OK);
    check_regs(out, (const uint16_t[]){0, 0, 0, 0}, 4);
    struct bw_value nul_ptr = str_value(NULL, 2);
    assert_int_equal(mb_encode(&m, &nul_ptr, out, NULL), MB_CODEC_TYPE);
}

static void test_string_bad_text(void **state)
{
    (void)state;
    struct bw_project_modbus_map m = mk_string(2, 0);
    const uint16_t bad[][2] = {
        {0xC328, 0},      /* C3 followed by a non-continuation byte */
        {0xFFFE, 0},      /* bytes never valid in UTF-8 */
        {0xEDA0, 0x8000}, /* an encoded surrogate, U+D800 */
        {0xC0AF, 0},      /* overlong '/' */
        {0x41E2, 0x8200}, /* a character cut short by the NUL */
        {0x8041, 0},      /* a lone continuation byte */
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        char text[5];
        struct bw_value v = int_value(7);
        assert_int_equal(mb_decode(&m, BW_TYPE_STRING, bad[i], NULL, &v, text, sizeof(text)),
                         MB_CODEC_BAD_TEXT);
        assert_int_equal(v.type, BW_TYPE_INT); /* untouched */
    }
    expect_encode(&m, str_value("\xC3\x28", 2), MB_CODEC_BAD_TEXT);
    expect_encode(&m, str_value("\xFF", 1), MB_CODEC_BAD_TEXT);
    /* an embedded NUL would not read back */
    expect_encode(&m, str_value("a\0b", 3), MB_CODEC_BAD_TEXT);
    /* the length check comes first */
    expect_encode(&m, str_value("\xFF\xFF\xFF\xFF\xFF", 5), MB_CODEC_RANGE);
}

/* ---- roundtrips ------------------------------------------------------ */

/* A random value the type holds, edges included now and then. */
static int64_t random_int(uint64_t *prng, enum bw_modbus_type type)
{
    uint64_t x = prng_next(prng);
    int64_t min, max;
    switch (type) {
    case BW_MODBUS_INT16:
        min = INT16_MIN, max = INT16_MAX;
        break;
    case BW_MODBUS_UINT16:
        min = 0, max = UINT16_MAX;
        break;
    case BW_MODBUS_INT32:
        min = INT32_MIN, max = INT32_MAX;
        break;
    default:
        min = 0, max = UINT32_MAX;
        break;
    }
    switch (x % 16) {
    case 0:
        return min;
    case 1:
        return max;
    case 2:
        return 0;
    default:
        return min + (int64_t)((x >> 8) % (uint64_t)(max - min + 1));
    }
}

static void test_roundtrip_numbers(void **state)
{
    (void)state;
    uint64_t prng = 20261204;
    const enum bw_modbus_type ints[] = {BW_MODBUS_INT16, BW_MODBUS_UINT16, BW_MODBUS_INT32,
                                        BW_MODBUS_UINT32};
    for (int o = 0; o < 4; o++) {
        for (size_t t = 0; t < BW_ARRAY_LEN(ints); t++) {
            struct bw_project_modbus_map m = mk_map(ints[t], o);
            for (int n = 0; n < 5000; n++) {
                int64_t i = random_int(&prng, ints[t]);
                uint16_t regs[4];
                struct bw_value v = int_value(i), back;
                assert_int_equal(mb_encode(&m, &v, regs, NULL), MB_CODEC_OK);
                assert_int_equal(mb_decode(&m, BW_TYPE_INT, regs, NULL, &back, NULL, 0),
                                 MB_CODEC_OK);
                assert_int_equal(back.v.i, i);
                v = float_value((double)i);
                assert_int_equal(mb_encode(&m, &v, regs, NULL), MB_CODEC_OK);
                assert_int_equal(mb_decode(&m, BW_TYPE_FLOAT, regs, NULL, &back, NULL, 0),
                                 MB_CODEC_OK);
                assert_true(same_double(back.v.f, (double)i));
            }
        }
        struct bw_project_modbus_map m32 = mk_map(BW_MODBUS_FLOAT32, o);
        struct bw_project_modbus_map m64 = mk_map(BW_MODBUS_FLOAT64, o);
        for (int n = 0; n < 20000; n++) {
            uint64_t x = prng_next(&prng);
            uint32_t b32 = (uint32_t)x;
            float f;
            double d;
            memcpy(&f, &b32, sizeof(f));
            memcpy(&d, &x, sizeof(d));
            uint16_t regs[4];
            struct bw_value back;
            if (isfinite(f)) {
                struct bw_value v = float_value((double)f);
                assert_int_equal(mb_encode(&m32, &v, regs, NULL), MB_CODEC_OK);
                assert_int_equal(mb_decode(&m32, BW_TYPE_FLOAT, regs, NULL, &back, NULL, 0),
                                 MB_CODEC_OK);
                assert_true(same_double(back.v.f, (double)f));
            }
            if (isfinite(d)) {
                struct bw_value v = float_value(d);
                assert_int_equal(mb_encode(&m64, &v, regs, NULL), MB_CODEC_OK);
                assert_int_equal(mb_decode(&m64, BW_TYPE_FLOAT, regs, NULL, &back, NULL, 0),
                                 MB_CODEC_OK);
                assert_true(same_double(back.v.f, d));
            }
        }
    }
}

/* Registers -> value -> registers gives the same registers for every
 * number that is not refused. */
static void test_roundtrip_registers(void **state)
{
    (void)state;
    uint64_t prng = 42;
    const enum bw_modbus_type types[] = {BW_MODBUS_INT16,  BW_MODBUS_UINT16,  BW_MODBUS_INT32,
                                         BW_MODBUS_UINT32, BW_MODBUS_FLOAT32, BW_MODBUS_FLOAT64};
    for (int o = 0; o < 4; o++) {
        for (size_t t = 0; t < BW_ARRAY_LEN(types); t++) {
            struct bw_project_modbus_map m = mk_map(types[t], o);
            size_t refused = 0;
            for (int n = 0; n < 5000; n++) {
                uint64_t x = prng_next(&prng);
                uint16_t in[4] = {(uint16_t)x, (uint16_t)(x >> 16), (uint16_t)(x >> 32),
                                  (uint16_t)(x >> 48)};
                for (int tag = 0; tag < 2; tag++) {
                    enum bw_type tt = tag ? BW_TYPE_FLOAT : BW_TYPE_INT;
                    struct bw_value v;
                    enum mb_codec_result rc = mb_decode(&m, tt, in, NULL, &v, NULL, 0);
                    if (rc == MB_CODEC_TYPE) { /* int tag on float registers */
                        assert_true(types[t] == BW_MODBUS_FLOAT32 || types[t] == BW_MODBUS_FLOAT64);
                        continue;
                    }
                    if (rc == MB_CODEC_NOT_FINITE) {
                        refused++;
                        continue;
                    }
                    assert_int_equal(rc, MB_CODEC_OK);
                    uint16_t out[4];
                    assert_int_equal(mb_encode(&m, &v, out, NULL), MB_CODEC_OK);
                    check_regs(out, in, m.count);
                }
            }
            /* NaN and infinities: 1 in 256 float32 patterns, rarer in float64 */
            assert_true(refused < 100);
        }
    }
}

static void test_roundtrip_scaled(void **state)
{
    (void)state;
    const struct {
        enum bw_modbus_type type;
        double raw_min, raw_max, eu_min, eu_max;
    } cases[] = {
        {BW_MODBUS_INT16, 0, 27648, 0, 100}, {BW_MODBUS_INT16, -27648, 27648, -50, 150},
        {BW_MODBUS_UINT16, 0, 4095, 4, 20},  {BW_MODBUS_UINT16, 0, 65535, -1, 1},
        {BW_MODBUS_INT32, 0, 1000000, 0, 1}, {BW_MODBUS_UINT32, 0, 4294967295.0, 0, 1e6},
        {BW_MODBUS_INT32, 0, 10, 0, 1000},   {BW_MODBUS_UINT16, 65535, 0, 0, 100},
    };
    uint64_t prng = 7;
    for (size_t c = 0; c < BW_ARRAY_LEN(cases); c++) {
        struct bw_project_modbus_map m = mk_scaled(
            cases[c].type, cases[c].raw_min, cases[c].raw_max, cases[c].eu_min, cases[c].eu_max);
        for (int o = 0; o < 4; o++) {
            m.word_swap = ORDERS[o][0];
            m.byte_swap = ORDERS[o][1];
            for (int n = 0; n < 5000; n++) {
                uint64_t x = prng_next(&prng);
                uint16_t in[2] = {(uint16_t)x, (uint16_t)(x >> 16)};
                struct bw_value v;
                assert_int_equal(mb_decode(&m, BW_TYPE_FLOAT, in, NULL, &v, NULL, 0), MB_CODEC_OK);
                uint16_t out[2];
                assert_int_equal(mb_encode(&m, &v, out, NULL), MB_CODEC_OK);
                check_regs(out, in, m.count);
            }
        }
    }
}

/* A random well-formed UTF-8 text of at most max bytes, without NUL. */
static size_t random_utf8(uint64_t *prng, char *out, size_t max)
{
    static const char *const chars[] = {"a",
                                        "Z",
                                        "~",
                                        "\x7F",
                                        "\xC3\xA9",
                                        "\xDF\xBF",
                                        "\xE2\x82\xAC",
                                        "\xEF\xBF\xBD",
                                        "\xF0\x9F\x98\x80",
                                        "\xF4\x8F\xBF\xBF"};
    size_t target = prng_next(prng) % (max + 1), len = 0;
    while (len < target) {
        const char *c = chars[prng_next(prng) % BW_ARRAY_LEN(chars)];
        size_t cl = strlen(c);
        if (len + cl > max)
            break;
        memcpy(out + len, c, cl);
        len += cl;
    }
    return len;
}

static void test_roundtrip_strings(void **state)
{
    (void)state;
    uint64_t prng = 99;
    for (int n = 0; n < 4000; n++) {
        uint16_t count = (uint16_t)(1 + prng_next(&prng) % MB_MAX_TAG_REGISTERS);
        struct bw_project_modbus_map m = mk_string(count, (int)(prng_next(&prng) % 4));
        char s[2 * MB_MAX_TAG_REGISTERS];
        size_t len = random_utf8(&prng, s, 2u * count);
        uint16_t regs[MB_MAX_TAG_REGISTERS];
        struct bw_value v = str_value(s, len), back;
        assert_int_equal(mb_encode(&m, &v, regs, NULL), MB_CODEC_OK);
        char text[2 * MB_MAX_TAG_REGISTERS + 1];
        assert_int_equal(mb_decode(&m, BW_TYPE_STRING, regs, NULL, &back, text, 2u * count + 1),
                         MB_CODEC_OK);
        assert_int_equal(back.len, len);
        assert_memory_equal(back.v.s, s, len);
    }
}

static void test_roundtrip_bools(void **state)
{
    (void)state;
    uint64_t prng = 3;
    for (int n = 0; n < 4000; n++) {
        uint64_t x = prng_next(&prng);
        bool want = x & 1;
        struct bw_value v = bool_value(want), back;
        uint8_t bit = 0xFF;
        struct bw_project_modbus_map m = mk_map(BW_MODBUS_BOOL, (int)((x >> 1) % 4));
        m.area = (enum bw_modbus_area)((x >> 3) % 4);
        if (m.area == BW_MODBUS_COIL || m.area == BW_MODBUS_DISCRETE_INPUT) {
            assert_int_equal(mb_encode(&m, &v, NULL, &bit), MB_CODEC_OK);
            assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, NULL, &bit, &back, NULL, 0), MB_CODEC_OK);
        } else {
            m.bit = (int8_t)((x >> 5) % 16);
            assert_int_equal(mb_encode(&m, &v, NULL, &bit), MB_CODEC_OK);
            /* what a mask write does: bit B of the value after byte order */
            uint16_t reg = (uint16_t)(x >> 16);
            uint16_t val = (uint16_t)(m.byte_swap ? bswap16(reg) : reg);
            val = (uint16_t)((val & ~(1u << m.bit)) | (unsigned)bit << m.bit);
            reg = (uint16_t)(m.byte_swap ? bswap16(val) : val);
            assert_int_equal(mb_decode(&m, BW_TYPE_BOOL, &reg, NULL, &back, NULL, 0), MB_CODEC_OK);
        }
        assert_int_equal(back.v.b, want);
    }
}

static void test_result_text(void **state)
{
    (void)state;
    const enum mb_codec_result all[] = {MB_CODEC_OK, MB_CODEC_NOT_FINITE, MB_CODEC_BAD_TEXT,
                                        MB_CODEC_RANGE, MB_CODEC_TYPE};
    for (size_t i = 0; i < BW_ARRAY_LEN(all); i++) {
        const char *t = mb_codec_result_text(all[i]);
        assert_non_null(t);
        assert_true(strlen(t) > 1);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, mb_codec_result_text(all[j]));
    }
    assert_non_null(mb_codec_result_text((enum mb_codec_result)77));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float32_literal),
        cmocka_unit_test(test_float32_computed),
        cmocka_unit_test(test_float64_literal),
        cmocka_unit_test(test_float64_computed),
        cmocka_unit_test(test_int16),
        cmocka_unit_test(test_uint16),
        cmocka_unit_test(test_int32),
        cmocka_unit_test(test_uint32),
        cmocka_unit_test(test_bool_register_bits),
        cmocka_unit_test(test_bool_bit_areas),
        cmocka_unit_test(test_scaling_4_20ma),
        cmocka_unit_test(test_scaling_rounding_ties),
        cmocka_unit_test(test_scaling_floats),
        cmocka_unit_test(test_range_refusals),
        cmocka_unit_test(test_not_finite),
        cmocka_unit_test(test_type_mismatch),
        cmocka_unit_test(test_impossible_maps),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_string_bad_text),
        cmocka_unit_test(test_roundtrip_numbers),
        cmocka_unit_test(test_roundtrip_registers),
        cmocka_unit_test(test_roundtrip_scaled),
        cmocka_unit_test(test_roundtrip_strings),
        cmocka_unit_test(test_roundtrip_bools),
        cmocka_unit_test(test_result_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
