/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the chunk codec (store/chunk.c): a literal vector that
 * fixes the on-disk format, roundtrips of many series from a fixed-seed
 * PRNG compared bit for bit (irregular and extreme timestamps, integral,
 * float32-exact and arbitrary values, repeats, -0.0, quality changes),
 * the encoder's choice of encoding, the sizes of typical series, every
 * kind of malformed chunk (each prefix of a valid chunk, a byte added,
 * each rule of the format broken in hand-built bytes), the bounds of
 * both directions (BW_ETOOLARGE, no write past them) and the encoder's
 * refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "store/store.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define MAXS BW_CHUNK_MAX_SAMPLES
#define BUF_SIZE (MAXS * BW_CHUNK_SAMPLE_MAX + 16u)
#define EPOCH_2026 1767225600000000ll /* 2026-01-01T00:00:00Z in us */
#define TWO53 9007199254740992.0

/* Big buffers shared by the tests (one process, one test at a time). */
static struct bw_sample in_buf[MAXS + 1];
static struct bw_sample out_buf[MAXS + 1];
static uint8_t enc_buf[BUF_SIZE + 64];

/* ---- helpers --------------------------------------------------------- */

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n)
{
    return next_u64(s) % n;
}

static uint64_t bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

static struct bw_sample smp(int64_t ts, double v)
{
    return (struct bw_sample){.ts_us = ts, .value = v, .quality = BW_QUALITY_GOOD};
}

static void assert_same_samples(const struct bw_sample *a, const struct bw_sample *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].ts_us, b[i].ts_us);
        assert_int_equal(bits(a[i].value), bits(b[i].value));
        assert_int_equal(a[i].quality, b[i].quality);
        assert_int_equal(a[i].reason, b[i].reason);
    }
}

/* Encodes and decodes s[0..n-1], checks the result bit for bit, that the
 * exact size suffices and one byte less does not; returns the size. */
static size_t roundtrip(const struct bw_sample *s, size_t n)
{
    size_t len = 0, got = 0;
    assert_int_equal(bw_chunk_encode(s, n, enc_buf, n * BW_CHUNK_SAMPLE_MAX + 16u, &len), BW_OK);
    assert_true(len <= n * BW_CHUNK_SAMPLE_MAX + 16u);
    assert_int_equal(bw_chunk_decode(enc_buf, len, out_buf, MAXS, &got), BW_OK);
    assert_int_equal(got, n);
    assert_same_samples(s, out_buf, n);
    size_t len2 = 0;
    assert_int_equal(bw_chunk_encode(s, n, enc_buf, len, &len2), BW_OK);
    assert_int_equal(len2, len);
    assert_int_equal(bw_chunk_encode(s, n, enc_buf, len - 1, &len2), BW_ETOOLARGE);
    assert_int_equal(bw_chunk_encode(s, n, enc_buf, len, &len2), BW_OK);
    return len;
}

/* A finite double of random bits. */
static double random_double(uint64_t *rng)
{
    for (;;) {
        double v = from_bits(next_u64(rng));
        if (isfinite(v))
            return v;
    }
}

static double random_value(uint64_t *rng, double prev, size_t i)
{
    static const double special[] = {DBL_MAX,
                                     -DBL_MAX,
                                     FLT_MAX,
                                     -FLT_MAX,
                                     5e-324,
                                     -5e-324,
                                     DBL_MIN,
                                     FLT_MIN,
                                     TWO53,
                                     -TWO53,
                                     TWO53 + 2.0,
                                     1e10,
                                     (double)FLT_TRUE_MIN,
                                     0.1,
                                     -0.0,
                                     (double)FLT_MAX * 2.0};
    uint64_t k = below(rng, 100);
    if (k < 30)
        return prev;
    if (k < 45) /* a small integral change; from a non-integral prev it is arbitrary */
        return floor(prev) + (double)((int64_t)below(rng, 201) - 100);
    if (k < 50)
        return (double)((int64_t)below(rng, (1ull << 54) + 1) - (1ll << 53));
    if (k < 60) {
        float f;
        uint32_t fb;
        do {
            fb = (uint32_t)next_u64(rng);
            memcpy(&f, &fb, sizeof(f));
        } while (!isfinite(f));
        return (double)f;
    }
    if (k < 70)
        return random_double(rng);
    if (k < 85)
        return 50.0 + 20.0 * sin((double)i / 300.0) + (double)below(rng, 1000) / 7919.0;
    if (k < 90)
        return -0.0;
    if (k < 95)
        return 0.0;
    return special[below(rng, BW_ARRAY_LEN(special))];
}

/* Fills s with a random series of n samples; the timestamp style, from
 * a steady cadence to huge gaps, depends on the series. */
static void random_series(uint64_t *rng, struct bw_sample *s, size_t n)
{
    int64_t t = (int64_t)(next_u64(rng) >> 2) - (1ll << 61);
    uint64_t style = below(rng, 4);
    double v = 0.0;
    uint8_t q = BW_QUALITY_GOOD, r = BW_REASON_NONE;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            int64_t gap;
            if (style == 0)
                gap = 1000000;
            else if (style == 1)
                gap = 1000000 + (int64_t)below(rng, 4001) - 2000;
            else if (style == 2)
                gap = 1 + (int64_t)below(rng, 3);
            else
                gap = 1 + (int64_t)(next_u64(rng) >> (16 + below(rng, 48)));
            t += gap; /* at most 4096 * 2^48 from a start within +-2^61 */
        }
        if (below(rng, 20) == 0) {
            q = (uint8_t)below(rng, 3);
            r = (uint8_t)below(rng, BW_REASON_COUNT_);
        }
        v = random_value(rng, v, i);
        s[i] = (struct bw_sample){.ts_us = t, .value = v, .quality = q, .reason = r};
    }
}

/* Hand-built chunks, for the malformed cases. */
struct bytes {
    uint8_t b[512];
    size_t len;
};

static void b_u8(struct bytes *x, unsigned v)
{
    assert_true(x->len < sizeof(x->b));
    x->b[x->len++] = (uint8_t)v;
}

static void b_varint(struct bytes *x, uint64_t v)
{
    do {
        b_u8(x, (unsigned)(v & 0x7Fu) | (v >= 0x80u ? 0x80u : 0u));
        v >>= 7;
    } while (v);
}

static void b_zz(struct bytes *x, int64_t v)
{
    b_varint(x, v >= 0 ? (uint64_t)v * 2u : (uint64_t)(-(v + 1)) * 2u + 1u);
}

static void b_le(struct bytes *x, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b_u8(x, (unsigned)(v >> (8 * i)) & 0xFFu);
}

static void b_header(struct bytes *x, uint64_t n, int64_t t0)
{
    b_u8(x, 1);
    b_varint(x, n);
    b_zz(x, t0);
}

/* Sample 0: tag E|Q, quality good, then the caller's payload. */
static void b_first(struct bytes *x, unsigned enc)
{
    b_u8(x, enc | 4u);
    b_u8(x, BW_QUALITY_GOOD);
    b_u8(x, BW_REASON_NONE);
}

static int decode(const struct bytes *x, size_t *n)
{
    return bw_chunk_decode(x->b, x->len, out_buf, MAXS, n);
}

static void assert_malformed(const struct bytes *x)
{
    size_t n = 12345;
    assert_int_equal(decode(x, &n), BW_EMALFORMED);
    assert_int_equal(n, 12345); /* untouched on failure */
}

static void assert_decodes(const struct bytes *x, size_t want)
{
    size_t n = 0;
    assert_int_equal(decode(x, &n), BW_OK);
    assert_int_equal(n, want);
}

/* ---- the format ------------------------------------------------------- */

/* Worked out by hand from the format at the top of chunk.c; a change
 * here is a change of the on-disk format. */
static void test_literal_vector(void **state)
{
    (void)state;
    struct bw_sample s[5] = {smp(1000000, 1.0), smp(2000000, 1.0), smp(3000000, 2.0),
                             smp(3500000, 0.5), smp(4500000, 0.1)};
    s[3].quality = s[4].quality = BW_QUALITY_UNCERTAIN;
    s[3].reason = s[4].reason = BW_REASON_LAST_KNOWN;
    static const uint8_t want[] = {
        0x01, 0x05, 0x80, 0x89, 0x7A,       /* version, n 5, zz(t0) 2000000 */
        0x05, 0x02, 0x00, 0x02,             /* E1|Q, good, none, zz(1 - 0) */
        0x00, 0x80, 0x89, 0x7A,             /* same, dod 1000000 */
        0x01, 0x00, 0x02,                   /* E1, dod 0, zz(+1) */
        0x06, 0xBF, 0x84, 0x3D, 0x01, 0x08, /* E2|Q, dod -500000, uncertain, last known */
        0x00, 0x00, 0x00, 0x3F,             /* 0.5f */
        0x03, 0xC0, 0x84, 0x3D,             /* E3, dod +500000 */
        0x9A, 0x99, 0x99, 0x99, 0x99, 0x99, 0xB9, 0x3F /* 0.1 */
    };
    size_t len = 0;
    assert_int_equal(bw_chunk_encode(s, 5, enc_buf, sizeof(enc_buf), &len), BW_OK);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(enc_buf, want, sizeof(want));
    size_t n = 0;
    assert_int_equal(bw_chunk_decode(want, sizeof(want), out_buf, 5, &n), BW_OK);
    assert_int_equal(n, 5);
    assert_same_samples(s, out_buf, 5);
}

/* The encoder's choice for one value as sample 0 (prev +0.0): the tag
 * byte and the chunk's size (header 3 bytes at t0 0, tag and quality 3). */
static void assert_choice(double v, unsigned tag, size_t payload)
{
    struct bw_sample s = smp(0, v);
    size_t len = roundtrip(&s, 1);
    assert_int_equal(enc_buf[3], tag);
    assert_int_equal(len, 6 + payload);
}

static void test_encoding_choice(void **state)
{
    (void)state;
    assert_choice(0.0, 0x05, 1); /* delta 0 from the implied +0.0 */
    assert_choice(1.0, 0x05, 1);
    assert_choice(-64.0, 0x05, 1);
    assert_choice(-65.0, 0x05, 2);
    assert_choice(-0.0, 0x06, 4); /* float32 keeps the sign */
    assert_choice(0.5, 0x06, 4);
    assert_choice(1e10, 0x06, 4);        /* integral, but float32 is shorter */
    assert_choice(16777216.0, 0x05, 4);  /* tie with float32: the lower E */
    assert_choice(TWO53 - 1.0, 0x05, 8); /* tie with float64 */
    assert_choice(1.0 - TWO53, 0x05, 8);
    assert_choice(TWO53, 0x06, 4);       /* a power of two */
    assert_choice(TWO53 + 2.0, 0x07, 8); /* integral but out of range */
    assert_choice(0.1, 0x07, 8);
    assert_choice(DBL_MAX, 0x07, 8);
    assert_choice(5e-324, 0x07, 8);
    assert_choice((double)FLT_MAX, 0x06, 4);
    assert_choice((double)FLT_TRUE_MIN, 0x06, 4);
    assert_choice((double)FLT_MAX * 2.0, 0x07, 8);
}

static void test_signed_zero(void **state)
{
    (void)state;
    struct bw_sample s[6] = {smp(1, -0.0), smp(2, -0.0), smp(3, 0.0),
                             smp(4, -0.0), smp(5, 7.0),  smp(6, -0.0)};
    roundtrip(s, 6);
    /* -0.0 after -0.0 repeats; +0.0 after -0.0 and -0.0 after +0.0 do not. */
    struct bw_sample z[3] = {smp(1, 0.0), smp(2, -0.0), smp(3, 0.0)};
    size_t len = roundtrip(z, 3);
    /* 3 header, 3 + 1 (E1), 2 + 4 (E2 -0.0), 2 + 1 (E1 from -0.0 as 0) */
    assert_int_equal(len, 3 + 4 + 6 + 3);
}

static void test_extreme_timestamps(void **state)
{
    (void)state;
    struct bw_sample s[4] = {smp(INT64_MIN, 1.0), smp(-1, 2.0), smp(INT64_MAX - 1, 3.0),
                             smp(INT64_MAX, 4.0)};
    roundtrip(s, 4);
    struct bw_sample one = smp(INT64_MAX, 1.0);
    roundtrip(&one, 1);
    one.ts_us = INT64_MIN;
    roundtrip(&one, 1);
    struct bw_sample neg[3] = {smp(-3000000, 1.0), smp(-2000000, 1.0), smp(-1, 1.0)};
    roundtrip(neg, 3);
}

static void test_roundtrip_random(void **state)
{
    (void)state;
    uint64_t rng = 20261204;
    for (int series = 0; series < 300; series++) {
        size_t n = series < 20 ? (size_t)series + 1 : 1 + (size_t)below(&rng, MAXS);
        if (series == 20)
            n = MAXS;
        random_series(&rng, in_buf, n);
        roundtrip(in_buf, n);
    }
}

/* Quality and reason alone changing, values steady. */
static void test_quality_changes(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3 * BW_REASON_COUNT_; i++) {
        in_buf[i] = smp(EPOCH_2026 + (int64_t)i * 1000000, 5.0);
        in_buf[i].quality = (uint8_t)(i % 3);
        in_buf[i].reason = (uint8_t)(i / 3);
    }
    roundtrip(in_buf, 3 * BW_REASON_COUNT_);
}

/* ---- sizes ------------------------------------------------------------ */

/* A chunk's fixed cost at a 2026 timestamp and a 1 s cadence, beyond
 * the steady per-sample cost: version 1, n 2 (for 3600), t0 8, sample 0's
 * tag and quality 3 less its 2 bytes in the rate, sample 1's dod of 3
 * (1,000,000 us from the previous delta 0) less 1: 14 bytes, plus sample
 * 0's value. */
#define FIXED_COST 14u

static void test_size_steady(void **state)
{
    (void)state;
    /* An integral value (a state, a setpoint) of 1 byte: within 16 bytes. */
    for (size_t i = 0; i < 3600; i++)
        in_buf[i] = smp(EPOCH_2026 + (int64_t)i * 1000000, 3.0);
    size_t len = roundtrip(in_buf, 3600);
    assert_true(len <= 2 * 3600 + 16);
    assert_int_equal(len, 2 * 3600 + FIXED_COST + 1);
    /* A float64 value: its 8 bytes once. */
    for (size_t i = 0; i < 3600; i++)
        in_buf[i].value = 42.7;
    len = roundtrip(in_buf, 3600);
    assert_int_equal(len, 2 * 3600 + FIXED_COST + 8);
}

static void test_size_slow_double(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3600; i++)
        in_buf[i] = smp(EPOCH_2026 + (int64_t)i * 1000000,
                        20.0 + 5.0 * sin((double)i / 600.0) + (double)i * 1e-7);
    size_t len = roundtrip(in_buf, 3600);
    assert_true(len * 2 <= 21 * 3600);
}

static void test_size_counter(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3600; i++)
        in_buf[i] = smp(EPOCH_2026 + (int64_t)i * 1000000, 1000000.0 + (double)i);
    size_t len = roundtrip(in_buf, 3600);
    /* 3 bytes a sample (tag, dod, delta), 10,800, and the chunk's fixed
     * cost, less 1 since the rate here counts 3 bytes for sample 0's tag
     * and quality, plus sample 0's value, a varint of 3 bytes: 10,816. */
    assert_int_equal(len, 3 * 3600 + FIXED_COST + 3 - 1);
}

/* ---- malformed chunks ------------------------------------------------- */

/* A valid chunk of every encoding, quality changes and irregular time. */
static size_t rich_chunk(void)
{
    uint64_t rng = 7;
    random_series(&rng, in_buf, 200);
    size_t len = 0;
    assert_int_equal(bw_chunk_encode(in_buf, 200, enc_buf, BUF_SIZE, &len), BW_OK);
    return len;
}

static void test_every_prefix_rejected(void **state)
{
    (void)state;
    size_t len = rich_chunk();
    size_t n = 0;
    assert_int_equal(bw_chunk_decode(enc_buf, len, out_buf, MAXS, &n), BW_OK);
    for (size_t cut = 0; cut < len; cut++) {
        /* In a buffer of exactly its size, so that ASan sees a read past it. */
        uint8_t *prefix = test_malloc(cut ? cut : 1);
        memcpy(prefix, enc_buf, cut);
        assert_int_equal(bw_chunk_decode(prefix, cut, out_buf, MAXS, &n), BW_EMALFORMED);
        test_free(prefix);
    }
    assert_int_equal(bw_chunk_decode(NULL, 0, out_buf, MAXS, &n), BW_EMALFORMED);
}

static void test_trailing_byte_rejected(void **state)
{
    (void)state;
    size_t len = rich_chunk();
    size_t n = 0;
    for (unsigned b = 0; b < 256; b++) {
        enc_buf[len] = (uint8_t)b;
        assert_int_equal(bw_chunk_decode(enc_buf, len + 1, out_buf, MAXS, &n), BW_EMALFORMED);
    }
}

static void test_version_rejected(void **state)
{
    (void)state;
    size_t len = rich_chunk();
    size_t n = 0;
    static const uint8_t versions[] = {0x00, 0x02, 0x03, 0x81, 0xFF};
    for (size_t i = 0; i < sizeof(versions); i++) {
        enc_buf[0] = versions[i];
        assert_int_equal(bw_chunk_decode(enc_buf, len, out_buf, MAXS, &n), BW_EMALFORMED);
    }
    enc_buf[0] = 1;
    assert_int_equal(bw_chunk_decode(enc_buf, len, out_buf, MAXS, &n), BW_OK);
}

static void test_count_rejected(void **state)
{
    (void)state;
    struct bytes x = {0};
    b_header(&x, 0, 0); /* n 0 */
    assert_malformed(&x);
    x = (struct bytes){0};
    b_header(&x, MAXS + 1, 0); /* too many for any chunk: malformed, not too large */
    b_first(&x, 1);
    b_u8(&x, 0);
    assert_malformed(&x);
    x = (struct bytes){0};
    b_header(&x, 1, 0); /* n 1, two samples */
    b_first(&x, 1);
    b_u8(&x, 0);
    b_u8(&x, 0);
    b_u8(&x, 2);
    assert_malformed(&x);
    x = (struct bytes){0};
    b_header(&x, 2, 0); /* the same bytes with n 2 */
    b_first(&x, 1);
    b_u8(&x, 0);
    b_u8(&x, 0);
    b_u8(&x, 2);
    assert_decodes(&x, 2);
}

static void test_first_sample_rules(void **state)
{
    (void)state;
    struct bytes x = {0};
    b_header(&x, 1, 0); /* E0 on sample 0 */
    b_first(&x, 0);
    assert_malformed(&x);
    x = (struct bytes){0};
    b_header(&x, 1, 0); /* sample 0 without quality */
    b_u8(&x, 1);
    b_u8(&x, 0);
    assert_malformed(&x);
    x = (struct bytes){0};
    b_header(&x, 1, 0); /* control */
    b_first(&x, 1);
    b_u8(&x, 0);
    assert_decodes(&x, 1);
}

static void test_reserved_bits(void **state)
{
    (void)state;
    for (unsigned bit = 3; bit < 8; bit++) {
        struct bytes x = {0};
        b_header(&x, 2, 0);
        b_first(&x, 1);
        b_u8(&x, 0);
        b_u8(&x, 1u << bit); /* sample 1: E0 and a reserved bit */
        b_u8(&x, 2);
        assert_malformed(&x);
        x = (struct bytes){0};
        b_header(&x, 1, 0);
        b_u8(&x, (1u << bit) | 5u);
        b_u8(&x, 2);
        b_u8(&x, 0);
        b_u8(&x, 0);
        assert_malformed(&x);
    }
}

static void quality_case(unsigned q, unsigned r, bool valid)
{
    struct bytes x = {0};
    b_header(&x, 2, 0);
    b_first(&x, 1);
    b_u8(&x, 0);
    b_u8(&x, 4); /* sample 1: E0 with quality */
    b_u8(&x, 2);
    b_u8(&x, q);
    b_u8(&x, r);
    if (valid)
        assert_decodes(&x, 2);
    else
        assert_malformed(&x);
}

static void test_quality_range(void **state)
{
    (void)state;
    quality_case(BW_QUALITY_GOOD, BW_REASON_COUNT_ - 1, true);
    quality_case(BW_QUALITY_BAD, BW_REASON_NONE, true);
    quality_case(BW_QUALITY_GOOD + 1, BW_REASON_NONE, false);
    quality_case(0xFF, BW_REASON_NONE, false);
    quality_case(BW_QUALITY_GOOD, BW_REASON_COUNT_, false);
    quality_case(BW_QUALITY_GOOD, 0xFF, false);
}

static void float_case(unsigned enc, uint64_t payload, bool valid)
{
    struct bytes x = {0};
    b_header(&x, 1, 0);
    b_first(&x, enc);
    b_le(&x, payload, enc == 2 ? 4 : 8);
    if (valid)
        assert_decodes(&x, 1);
    else
        assert_malformed(&x);
}

static void test_non_finite_rejected(void **state)
{
    (void)state;
    float_case(3, bits(NAN), false);
    float_case(3, bits(INFINITY), false);
    float_case(3, bits(-INFINITY), false);
    float_case(3, 0x7FF0000000000001ull, false); /* signalling NaN */
    float_case(3, 0xFFF8000000000000ull, false);
    float_case(2, 0x7FC00000u, false);
    float_case(2, 0x7F800000u, false);
    float_case(2, 0xFF800000u, false);
    float_case(2, 0x7F800001u, false);
    float_case(3, bits(DBL_MAX), true);
    float_case(2, 0x7F7FFFFFu, true); /* FLT_MAX */
    float_case(2, 0x80000000u, true); /* -0.0f */
}

/* Sample 0 by float64 (or E1 when v is small and integral), sample 1 by
 * E1 with delta d. */
static void int_case(double v0, int64_t d, bool valid)
{
    struct bytes x = {0};
    b_header(&x, 2, 0);
    b_first(&x, 3);
    b_le(&x, bits(v0), 8);
    b_u8(&x, 1);
    b_u8(&x, 2); /* dod +1 */
    b_zz(&x, d);
    if (valid) {
        assert_decodes(&x, 2);
        assert_int_equal(bits(out_buf[1].value), bits(v0 + (double)d));
    } else {
        assert_malformed(&x);
    }
}

static void test_integral_delta_rules(void **state)
{
    (void)state;
    int_case(2.0, 3, true);
    int_case(-0.0, 5, true); /* -0.0 counts as 0 */
    int_case(TWO53, -1, true);
    int_case(-TWO53, 1, true);
    int_case(TWO53 - 1.0, 1, true);
    int_case(0.5, 0, false);          /* prev not integral */
    int_case(TWO53 + 2.0, -2, false); /* prev out of range */
    int_case(1e300, 0, false);
    int_case(TWO53, 1, false); /* result out of range */
    int_case(-TWO53, -1, false);
    int_case(0.0, INT64_MAX, false);
    int_case(TWO53, INT64_MAX, false); /* int64 overflow */
    int_case(-TWO53, INT64_MIN, false);
    /* Sample 0 by E1 from the implied +0.0. */
    struct bytes x = {0};
    b_header(&x, 1, 0);
    b_first(&x, 1);
    b_zz(&x, (int64_t)1 << 53);
    assert_decodes(&x, 1);
    x = (struct bytes){0};
    b_header(&x, 1, 0);
    b_first(&x, 1);
    b_zz(&x, ((int64_t)1 << 53) + 1);
    assert_malformed(&x);
}

/* Two or three samples with the given dods after t0. */
static void time_case(int64_t t0, const int64_t *dods, size_t ndods, bool valid)
{
    struct bytes x = {0};
    b_header(&x, 1 + ndods, t0);
    b_first(&x, 1);
    b_u8(&x, 0);
    for (size_t i = 0; i < ndods; i++) {
        b_u8(&x, 0);
        b_zz(&x, dods[i]);
    }
    if (valid)
        assert_decodes(&x, 1 + ndods);
    else
        assert_malformed(&x);
}

static void test_timestamp_rules(void **state)
{
    (void)state;
    time_case(0, (int64_t[]){1}, 1, true);
    time_case(0, (int64_t[]){0}, 1, false);  /* delta 0 */
    time_case(0, (int64_t[]){-1}, 1, false); /* delta < 0 */
    time_case(0, (int64_t[]){5, -5}, 2, false);
    time_case(0, (int64_t[]){5, -6}, 2, false);
    time_case(0, (int64_t[]){5, -4}, 2, true);
    time_case(INT64_MIN + 1, (int64_t[]){INT64_MAX, 0}, 2, true);  /* ends at INT64_MAX */
    time_case(INT64_MIN + 2, (int64_t[]){INT64_MAX, 0}, 2, false); /* ts overflow */
    time_case(INT64_MIN, (int64_t[]){INT64_MAX, 1 - INT64_MAX}, 2, true);
    time_case(-10, (int64_t[]){INT64_MAX, 1}, 2, false); /* delta overflow */
    time_case(INT64_MAX - 1, (int64_t[]){1}, 1, true);
    time_case(INT64_MAX - 1, (int64_t[]){2}, 1, false);
    time_case(INT64_MAX, (int64_t[]){1}, 1, false);
    time_case(0, (int64_t[]){INT64_MIN}, 1, false);
}

static void test_varint_rules(void **state)
{
    (void)state;
    /* n as 0x81 0x00: a redundant zero group */
    struct bytes x = {0};
    b_u8(&x, 1);
    b_u8(&x, 0x81);
    b_u8(&x, 0x00);
    b_u8(&x, 0);
    b_first(&x, 1);
    b_u8(&x, 0);
    assert_malformed(&x);
    /* t0 of ten bytes: the largest value (zz: INT64_MIN) is valid; a
     * tenth group above 1, or an eleventh byte, is not. */
    for (unsigned last = 0; last < 4; last++) {
        x = (struct bytes){0};
        b_u8(&x, 1);
        b_u8(&x, 1);
        for (int i = 0; i < 9; i++)
            b_u8(&x, 0xFF);
        b_u8(&x, last);
        b_first(&x, 1);
        b_u8(&x, 0);
        if (last == 1) {
            assert_decodes(&x, 1);
            assert_int_equal(out_buf[0].ts_us, INT64_MIN);
        } else {
            assert_malformed(&x); /* 0: redundant; 2, 3: beyond 64 bits */
        }
    }
    x = (struct bytes){0};
    b_u8(&x, 1);
    b_u8(&x, 1);
    for (int i = 0; i < 10; i++)
        b_u8(&x, 0x80);
    b_u8(&x, 0x00);
    b_first(&x, 1);
    b_u8(&x, 0);
    assert_malformed(&x);
    /* dod +1 written as 0x82 0x00 */
    x = (struct bytes){0};
    b_header(&x, 2, 0);
    b_first(&x, 1);
    b_u8(&x, 0);
    b_u8(&x, 0);
    b_u8(&x, 0x82);
    b_u8(&x, 0x00);
    assert_malformed(&x);
}

/* What the encoder never writes but the format allows is accepted. */
static void test_other_valid_encodings(void **state)
{
    (void)state;
    struct bytes x = {0};
    b_header(&x, 4, 100);
    b_first(&x, 3); /* 1.0 as float64 */
    b_le(&x, bits(1.0), 8);
    b_u8(&x, 2); /* 1.0 again as float32, not E0 */
    b_u8(&x, 2);
    b_le(&x, 0x3F800000u, 4);
    b_u8(&x, 5); /* E1 delta 0, quality restated */
    b_u8(&x, 0);
    b_u8(&x, BW_QUALITY_GOOD);
    b_u8(&x, BW_REASON_NONE);
    b_u8(&x, 0);
    b_u8(&x, 0); /* E0 */
    b_u8(&x, 0);
    assert_decodes(&x, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(bits(out_buf[i].value), bits(1.0));
        assert_int_equal(out_buf[i].ts_us, 100 + (int64_t)i);
    }
}

/* ---- bounds ----------------------------------------------------------- */

static void test_decode_too_large(void **state)
{
    (void)state;
    for (size_t i = 0; i < 10; i++)
        in_buf[i] = smp((int64_t)i, (double)i);
    size_t len = 0, n = 777;
    assert_int_equal(bw_chunk_encode(in_buf, 10, enc_buf, BUF_SIZE, &len), BW_OK);
    struct bw_sample canary = smp(-42, 4242.0);
    for (size_t max = 0; max < 10; max++) {
        for (size_t i = 0; i <= 10; i++)
            out_buf[i] = canary;
        assert_int_equal(bw_chunk_decode(enc_buf, len, out_buf, max, &n), BW_ETOOLARGE);
        assert_int_equal(n, 777);
        assert_same_samples(in_buf, out_buf, max);
        for (size_t i = max; i <= 10; i++)
            assert_same_samples(&canary, &out_buf[i], 1);
    }
    assert_int_equal(bw_chunk_decode(enc_buf, len, NULL, 0, &n), BW_ETOOLARGE);
    /* Malformed wins over too large: the whole chunk is checked. */
    assert_int_equal(bw_chunk_decode(enc_buf, len - 1, out_buf, 1, &n), BW_EMALFORMED);
    assert_int_equal(bw_chunk_decode(enc_buf, len, out_buf, 10, &n), BW_OK);
    assert_int_equal(n, 10);
}

static void test_encode_too_large(void **state)
{
    (void)state;
    size_t len = rich_chunk();
    for (size_t size = 0; size < len; size++) {
        memset(enc_buf, 0xA5, sizeof(enc_buf));
        size_t got = 0;
        assert_int_equal(bw_chunk_encode(in_buf, 200, enc_buf, size, &got), BW_ETOOLARGE);
        for (size_t i = size; i < sizeof(enc_buf); i++)
            assert_int_equal(enc_buf[i], 0xA5);
    }
    size_t got = 0;
    assert_int_equal(bw_chunk_encode(in_buf, 200, NULL, 0, &got), BW_ETOOLARGE);
    /* The bound of store.h for the largest samples: n * 21 + 16. */
    int64_t t = INT64_MIN;
    for (size_t i = 0; i < MAXS; i++) {
        in_buf[i] = smp(t, i % 2 ? 0.1 : 0.2);
        in_buf[i].quality = (uint8_t)(i % 3);
        t += (i % 2) ? ((int64_t)1 << 50) : 1;
    }
    assert_int_equal(bw_chunk_encode(in_buf, MAXS, enc_buf, BUF_SIZE, &got), BW_OK);
    assert_true(got <= BUF_SIZE);
    roundtrip(in_buf, MAXS);
}

static void test_encode_refusals(void **state)
{
    (void)state;
    size_t len = 0;
    struct bw_sample s[3] = {smp(1, 1.0), smp(2, 2.0), smp(3, 3.0)};
    assert_int_equal(bw_chunk_encode(s, 0, enc_buf, BUF_SIZE, &len), BW_EINVAL);
    assert_int_equal(bw_chunk_encode(NULL, 1, enc_buf, BUF_SIZE, &len), BW_EINVAL);
    for (size_t i = 0; i <= MAXS; i++)
        in_buf[i] = smp((int64_t)i, 1.0);
    assert_int_equal(bw_chunk_encode(in_buf, MAXS + 1, enc_buf, BUF_SIZE + 64, &len), BW_EINVAL);
    assert_int_equal(bw_chunk_encode(in_buf, MAXS, enc_buf, BUF_SIZE, &len), BW_OK);

    struct {
        size_t at;
        struct bw_sample bad;
    } cases[] = {
        {1, smp(1, 2.0)}, /* equal timestamps */
        {2, smp(1, 3.0)}, /* going back */
        {1, smp(2, NAN)},
        {0, smp(1, INFINITY)},
        {2, smp(3, -INFINITY)},
        {1, {.ts_us = 2, .value = 2.0, .quality = BW_QUALITY_GOOD + 1}},
        {1, {.ts_us = 2, .value = 2.0, .reason = BW_REASON_COUNT_}},
        {1, smp(INT64_MIN + 2, 2.0)}, /* far back */
    };
    for (size_t c = 0; c < BW_ARRAY_LEN(cases); c++) {
        struct bw_sample t[3] = {s[0], s[1], s[2]};
        t[cases[c].at] = cases[c].bad;
        assert_int_equal(bw_chunk_encode(t, 3, enc_buf, BUF_SIZE, &len), BW_EINVAL);
        /* A refusal does not depend on the room given. */
        assert_int_equal(bw_chunk_encode(t, 3, NULL, 0, &len), BW_EINVAL);
    }
    /* Two samples more than INT64_MAX us apart: no delta for them. */
    struct bw_sample far[2] = {smp(INT64_MIN, 1.0), smp(0, 1.0)};
    assert_int_equal(bw_chunk_encode(far, 2, enc_buf, BUF_SIZE, &len), BW_EINVAL);
    far[1].ts_us = -1; /* INT64_MAX apart */
    roundtrip(far, 2);
    far[0].ts_us = 0;
    far[1].ts_us = INT64_MAX;
    roundtrip(far, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_vector),
        cmocka_unit_test(test_encoding_choice),
        cmocka_unit_test(test_signed_zero),
        cmocka_unit_test(test_extreme_timestamps),
        cmocka_unit_test(test_roundtrip_random),
        cmocka_unit_test(test_quality_changes),
        cmocka_unit_test(test_size_steady),
        cmocka_unit_test(test_size_slow_double),
        cmocka_unit_test(test_size_counter),
        cmocka_unit_test(test_every_prefix_rejected),
        cmocka_unit_test(test_trailing_byte_rejected),
        cmocka_unit_test(test_version_rejected),
        cmocka_unit_test(test_count_rejected),
        cmocka_unit_test(test_first_sample_rules),
        cmocka_unit_test(test_reserved_bits),
        cmocka_unit_test(test_quality_range),
        cmocka_unit_test(test_non_finite_rejected),
        cmocka_unit_test(test_integral_delta_rules),
        cmocka_unit_test(test_timestamp_rules),
        cmocka_unit_test(test_varint_rules),
        cmocka_unit_test(test_other_valid_encodings),
        cmocka_unit_test(test_decode_too_large),
        cmocka_unit_test(test_encode_too_large),
        cmocka_unit_test(test_encode_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
