/* SPDX-License-Identifier: Apache-2.0
 *
 * libFuzzer target for the historian's chunk codec (store/chunk.c): a
 * chunk row is outside input once someone can edit history.db. The
 * first byte selects the mode; the rest is the input.
 *
 * - even: the input is a chunk. bw_chunk_decode() returns BW_OK or
 *   BW_EMALFORMED. What decodes re-encodes (BW_OK, no longer than the
 *   input, since the encoder picks the shortest encodings) and decodes
 *   again to the same samples bit for bit; decoding into one slot fewer
 *   gives BW_ETOOLARGE with the same samples in the slots given.
 * - odd: the input describes samples (timestamp steps from one second
 *   to huge, values integral, float32, arbitrary bits, -0.0, repeated,
 *   quality changes). They encode within n * BW_CHUNK_SAMPLE_MAX + 16
 *   bytes, not within one byte less than the result, and decode to the
 *   same samples bit for bit.
 *
 * abort() on any broken property. Seeds in tests/fuzz/corpus/chunk/,
 * dictionary in tests/fuzz/chunk.dict.
 */
#include "store/store.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXS BW_CHUNK_MAX_SAMPLES
#define ENC_SIZE (MAXS * BW_CHUNK_SAMPLE_MAX + 16u)

static struct bw_sample samples[MAXS];
static struct bw_sample decoded[MAXS];
static uint8_t encoded[ENC_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static void check_same(const struct bw_sample *a, const struct bw_sample *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].ts_us != b[i].ts_us || bits(a[i].value) != bits(b[i].value) ||
            a[i].quality != b[i].quality || a[i].reason != b[i].reason)
            abort();
    }
}

/* Encodes s[0..n-1] (valid samples) and checks the way back. */
static void check_roundtrip(const struct bw_sample *s, size_t n, size_t at_most)
{
    size_t len = 0, got = 0;
    if (bw_chunk_encode(s, n, encoded, ENC_SIZE, &len) != BW_OK || len > at_most)
        abort();
    if (bw_chunk_encode(s, n, encoded, len - 1, &got) != BW_ETOOLARGE)
        abort();
    if (bw_chunk_encode(s, n, encoded, len, &got) != BW_OK || got != len)
        abort();
    if (bw_chunk_decode(encoded, len, decoded, MAXS, &got) != BW_OK || got != n)
        abort();
    check_same(s, decoded, n);
}

static void fuzz_decode(const uint8_t *data, size_t size)
{
    size_t n = 0;
    int rc = bw_chunk_decode(data, size, samples, MAXS, &n);
    if (rc == BW_EMALFORMED)
        return;
    if (rc != BW_OK || n == 0 || n > MAXS)
        abort();
    check_roundtrip(samples, n, size);
    size_t got = 0;
    if (bw_chunk_decode(data, size, decoded, n - 1, &got) != BW_ETOOLARGE)
        abort();
    check_same(samples, decoded, n - 1);
}

/* The input as a stream of little-endian numbers, zeros once it ends. */
struct cursor {
    const uint8_t *p;
    size_t left;
};

static uint64_t take(struct cursor *c, unsigned nbytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < nbytes && c->left > 0; i++, c->left--)
        v |= (uint64_t)*c->p++ << (8 * i);
    return v;
}

static int64_t next_gap(struct cursor *c, unsigned op)
{
    switch (op & 3u) {
    case 0:
        return 1000000;
    case 1:
        return 1 + (int64_t)take(c, 1);
    case 2:
        return 1 + (int64_t)take(c, 2) * 1000;
    default:
        return 1 + (int64_t)(take(c, 8) >> (2 + take(c, 1) % 62));
    }
}

static double next_value(struct cursor *c, unsigned op, double prev)
{
    double v;
    float f;
    uint32_t fb;
    uint64_t b;
    switch ((op >> 2) & 7u) {
    case 0:
        return prev;
    case 1:
        v = floor(prev) + (double)(int8_t)take(c, 1);
        break;
    case 2:
        fb = (uint32_t)take(c, 4);
        memcpy(&f, &fb, sizeof(f));
        v = (double)f;
        break;
    case 3:
        b = take(c, 8);
        memcpy(&v, &b, sizeof(v));
        break;
    case 4:
        return -0.0;
    case 5:
        return (double)((int64_t)(take(c, 8) % ((1ull << 54) + 1)) - (1ll << 53));
    case 6:
        return 0.0;
    default:
        v = prev + (double)take(c, 2) / 1000.0;
        break;
    }
    return isfinite(v) ? v : 0.0;
}

static void fuzz_samples(const uint8_t *data, size_t size)
{
    struct cursor c = {data, size};
    int64_t t = (int64_t)take(&c, 8);
    double v = 0.0;
    uint8_t q = 2, r = 0;
    size_t n = 0;
    while (c.left > 0 && n < MAXS) {
        unsigned op = (unsigned)take(&c, 1);
        if (n > 0 && __builtin_add_overflow(t, next_gap(&c, op), &t))
            break;
        v = next_value(&c, op, v);
        if (op & 0x20u) {
            unsigned qb = (unsigned)take(&c, 1);
            q = (uint8_t)(qb % 3u);
            r = (uint8_t)(qb / 3u % 11u);
        }
        samples[n++] = (struct bw_sample){.ts_us = t, .value = v, .quality = q, .reason = r};
    }
    if (n > 0)
        check_roundtrip(samples, n, n * BW_CHUNK_SAMPLE_MAX + 16u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 2 * ENC_SIZE)
        return 0;
    if (data[0] & 1u)
        fuzz_samples(data + 1, size - 1);
    else
        fuzz_decode(data + 1, size - 1);
    return 0;
}
