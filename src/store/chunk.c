/* SPDX-License-Identifier: Apache-2.0
 *
 * The chunk codec: packs the samples of one tag (timestamps strictly
 * increasing, at most BW_CHUNK_MAX_SAMPLES) into the bytes of a chunk
 * row and back (docs/internals/historian.md). Chunks stay on disk for
 * years and are read by later versions, so the format below is fixed
 * for version 1: any change of meaning takes a new version byte, and a
 * decoder keeps reading every version it ever wrote. Pure; any thread.
 *
 * Format version 1. varint: unsigned LEB128 (7 bits a byte, least
 * significant group first, high bit set when more follow), at most 10
 * bytes, value < 2^64, no redundant final zero group. zz(x): the
 * zig-zag map of an int64 (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...).
 * Multi-byte numbers are little-endian.
 *
 *   header      version        1 byte, = 1
 *               n              varint, 1 .. BW_CHUNK_MAX_SAMPLES
 *               t0             varint zz(ts_us of sample 0)
 *   n samples   tag            1 byte: bits 0-1 value encoding E,
 *                              bit 2 Q (quality follows), bits 3-7 zero
 *               dod            varint zz(dod_i), samples 1 .. n-1 only
 *               quality        1 byte, when Q
 *               reason         1 byte, when Q
 *               value          by E (below)
 *
 * Timestamps: delta_i = t_i - t_(i-1), with delta_0 = 0, and dod_i =
 * delta_i - delta_(i-1). Every delta_i (i >= 1) is > 0. All of it is
 * int64 arithmetic; a chunk whose sums overflow is malformed, and the
 * encoder refuses two samples more than INT64_MAX us apart.
 *
 * Quality: sample 0 always has Q. Without Q, a sample has the quality
 * and reason of the one before. quality <= BW_QUALITY_GOOD, reason <
 * BW_REASON_COUNT_ (the engine's enums).
 *
 * Values, prev being the previous sample's value (+0.0 before sample
 * 0), all finite:
 *
 *   E = 0  the same as prev, bit for bit; no payload; not for sample 0
 *   E = 1  varint zz(v - prev), v and prev integral with |x| <= 2^53
 *          (prev may be -0.0, counted as 0; v never is -0.0, since it
 *          decodes as +0.0)
 *   E = 2  float32, 4 bytes, v = (double)f exactly
 *   E = 3  float64, 8 bytes
 *
 * The encoder takes the shortest valid encoding (ties: the lowest E) and
 * sets Q only when quality or reason changed. The decoder accepts every
 * valid encoding, not only the encoder's choice, and rejects anything
 * else: a wrong version, a bad n, trailing or missing bytes, reserved
 * bits, a varint outside the rules, an encoding not allowed where it
 * stands, a non-finite value, an integral sum out of range, a delta not
 * > 0, an overflow, a quality or reason out of range.
 *
 * Costs: a steady cadence with unchanged value and quality takes 2
 * bytes a sample (tag 0x00, dod 0x00); an integral counter 3; a
 * changing float64 10. Header at most 13 bytes, a sample at most
 * BW_CHUNK_SAMPLE_MAX (tag 1 + dod 10 + quality 2 + value 8).
 */
#include "store/store.h"

#include "core/core.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define CHUNK_VERSION 1u

#define TAG_ENC_MASK 0x03u
#define TAG_QUALITY 0x04u
#define TAG_RESERVED 0xF8u

enum chunk_enc { ENC_SAME = 0, ENC_INT = 1, ENC_F32 = 2, ENC_F64 = 3 };

#define VARINT_MAX 10u
#define HEADER_MAX (1u + 2u + VARINT_MAX)
#define INT_LIMIT ((int64_t)1 << 53)
#define NEG_ZERO_BITS ((uint64_t)1 << 63)

_Static_assert(BW_CHUNK_SAMPLE_MAX == 1u + VARINT_MAX + 2u + 8u, "a sample's largest encoding");
_Static_assert(HEADER_MAX <= 16u, "store.h promises n * BW_CHUNK_SAMPLE_MAX + 16 suffices");
_Static_assert(BW_CHUNK_MAX_SAMPLES < (1u << 14), "n fits a varint of two bytes");
_Static_assert(BW_REASON_COUNT_ <= 256, "reasons fit a byte");

/* ---- numbers ---------------------------------------------------------- */

static inline uint64_t zz_encode(int64_t v)
{
    return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0u);
}

static inline int64_t zz_decode(uint64_t u)
{
    uint64_t m = (u >> 1) ^ (0u - (u & 1u));
    /* m holds two's complement bits; convert without relying on the
     * implementation-defined conversion of out-of-range unsigned. */
    return m <= (uint64_t)INT64_MAX ? (int64_t)m : -(int64_t)~m - 1;
}

static inline uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static inline double double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

/* True when v is an integral double within +-2^53 (-0.0 counts, as 0);
 * *out is its value. */
static inline bool integral(double v, int64_t *out)
{
    if (!(fabs(v) <= (double)INT_LIMIT))
        return false; /* also NaN */
    int64_t i = (int64_t)v;
    if ((double)i != v)
        return false;
    *out = i;
    return true;
}

/* True when v survives a float32 bit for bit; *out is the float's bits. */
static inline bool float32_exact(double v, uint32_t *out)
{
    /* Converting a double outside the float range is undefined. */
    if (!(fabs(v) <= (double)FLT_MAX))
        return false;
    float f = (float)v;
    if (bits_of((double)f) != bits_of(v))
        return false;
    memcpy(out, &f, sizeof(*out));
    return true;
}

static inline unsigned varint_len(uint64_t v)
{
    unsigned n = 1;
    while (v >= 0x80u) {
        v >>= 7;
        n++;
    }
    return n;
}

/* ---- encoder ---------------------------------------------------------- */

/* Output with its bound; pos <= size always. */
struct writer {
    uint8_t *out;
    size_t pos;
    size_t size;
};

static inline int put_u8(struct writer *w, uint8_t b)
{
    if (w->pos >= w->size)
        return BW_ETOOLARGE;
    w->out[w->pos++] = b;
    return BW_OK;
}

static inline int put_varint(struct writer *w, uint64_t v)
{
    if (w->size - w->pos < varint_len(v))
        return BW_ETOOLARGE;
    while (v >= 0x80u) {
        w->out[w->pos++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    w->out[w->pos++] = (uint8_t)v;
    return BW_OK;
}

static inline int put_le(struct writer *w, uint64_t v, unsigned nbytes)
{
    if (w->size - w->pos < nbytes)
        return BW_ETOOLARGE;
    for (unsigned i = 0; i < nbytes; i++)
        w->out[w->pos++] = (uint8_t)(v >> (8 * i));
    return BW_OK;
}

/* A value's chosen encoding and what follows the tag for it. */
struct value_code {
    enum chunk_enc enc;
    uint64_t payload; /* zz(delta), float32 bits or float64 bits */
};

/* The shortest valid encoding of v after prev (ties: the lowest E). */
static struct value_code choose_value(double prev, double v, bool first)
{
    uint64_t vb = bits_of(v);
    if (!first && vb == bits_of(prev))
        return (struct value_code){ENC_SAME, 0};
    struct value_code best = {ENC_F64, vb};
    unsigned best_len = 8;
    uint32_t fb;
    if (float32_exact(v, &fb)) {
        best = (struct value_code){ENC_F32, fb};
        best_len = 4;
    }
    int64_t a, b;
    if (vb != NEG_ZERO_BITS && integral(prev, &a) && integral(v, &b)) {
        uint64_t z = zz_encode(b - a); /* |b - a| <= 2^54: no overflow */
        if (varint_len(z) <= best_len)
            best = (struct value_code){ENC_INT, z};
    }
    return best;
}

/* BW_EINVAL unless the samples can be encoded: checked before anything
 * is written, so that a refusal does not depend on out_size. */
static int check_samples(const struct bw_sample *s, size_t n)
{
    if (n == 0 || n > BW_CHUNK_MAX_SAMPLES)
        return BW_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i].value) || s[i].quality > BW_QUALITY_GOOD ||
            s[i].reason >= BW_REASON_COUNT_)
            return BW_EINVAL;
        int64_t delta;
        if (i > 0 && (__builtin_sub_overflow(s[i].ts_us, s[i - 1].ts_us, &delta) || delta <= 0))
            return BW_EINVAL;
    }
    return BW_OK;
}

/* Writes sample i of s (checked by check_samples); *prev_delta is the
 * previous timestamp delta, updated. */
static int encode_sample(struct writer *w, const struct bw_sample *s, size_t i, int64_t *prev_delta)
{
    const struct bw_sample *cur = &s[i];
    bool first = i == 0;
    bool quality = first || cur->quality != s[i - 1].quality || cur->reason != s[i - 1].reason;
    struct value_code vc = choose_value(first ? 0.0 : s[i - 1].value, cur->value, first);

    int rc = put_u8(w, (uint8_t)((unsigned)vc.enc | (quality ? TAG_QUALITY : 0u)));
    if (rc == BW_OK && !first) {
        /* Deltas are in (0, INT64_MAX]: their difference cannot overflow. */
        int64_t delta = cur->ts_us - s[i - 1].ts_us;
        rc = put_varint(w, zz_encode(delta - *prev_delta));
        *prev_delta = delta;
    }
    if (rc == BW_OK && quality) {
        rc = put_u8(w, cur->quality);
        if (rc == BW_OK)
            rc = put_u8(w, cur->reason);
    }
    if (rc != BW_OK)
        return rc;
    switch (vc.enc) {
    case ENC_SAME:
        return BW_OK;
    case ENC_INT:
        return put_varint(w, vc.payload);
    case ENC_F32:
        return put_le(w, vc.payload, 4);
    case ENC_F64:
        return put_le(w, vc.payload, 8);
    }
    return BW_EINVAL; /* not reached */
}

int bw_chunk_encode(const struct bw_sample *samples, size_t n, uint8_t *out, size_t out_size,
                    size_t *len)
{
    if (!samples || !len)
        return BW_EINVAL;
    int rc = check_samples(samples, n);
    if (rc != BW_OK)
        return rc;
    struct writer w = {.out = out, .pos = 0, .size = out ? out_size : 0};
    rc = put_u8(&w, CHUNK_VERSION);
    if (rc == BW_OK)
        rc = put_varint(&w, n);
    if (rc == BW_OK)
        rc = put_varint(&w, zz_encode(samples[0].ts_us));
    int64_t prev_delta = 0;
    for (size_t i = 0; rc == BW_OK && i < n; i++)
        rc = encode_sample(&w, samples, i, &prev_delta);
    if (rc != BW_OK)
        return rc;
    *len = w.pos;
    return BW_OK;
}

/* ---- decoder ---------------------------------------------------------- */

/* Input with its bound; pos <= len always. Each getter returns false
 * when the input ends early or breaks the format's rules. */
struct reader {
    const uint8_t *data;
    size_t pos;
    size_t len;
};

static inline bool get_u8(struct reader *r, uint8_t *b)
{
    if (r->pos >= r->len)
        return false;
    *b = r->data[r->pos++];
    return true;
}

static inline bool get_varint(struct reader *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < VARINT_MAX; i++) {
        if (r->pos >= r->len)
            return false;
        uint8_t b = r->data[r->pos++];
        /* The tenth group holds bit 63 alone and ends the varint. */
        if (i == VARINT_MAX - 1 && b > 1u)
            return false;
        v |= (uint64_t)(b & 0x7Fu) << (7 * i);
        if (!(b & 0x80u)) {
            if (b == 0 && i > 0)
                return false; /* redundant zero group */
            *out = v;
            return true;
        }
    }
    return false;
}

static inline bool get_le(struct reader *r, unsigned nbytes, uint64_t *out)
{
    if (r->len - r->pos < nbytes)
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < nbytes; i++)
        v |= (uint64_t)r->data[r->pos++] << (8 * i);
    *out = v;
    return true;
}

/* Reads the value of encoding enc after *value (the previous value) into
 * *value. */
static bool decode_value(struct reader *r, unsigned enc, double *value)
{
    uint64_t u;
    int64_t base, sum;
    switch (enc) {
    case ENC_SAME:
        return true;
    case ENC_INT:
        if (!integral(*value, &base) || !get_varint(r, &u) ||
            __builtin_add_overflow(base, zz_decode(u), &sum) || sum > INT_LIMIT || sum < -INT_LIMIT)
            return false;
        *value = (double)sum; /* exact within +-2^53 */
        return true;
    case ENC_F32: {
        if (!get_le(r, 4, &u))
            return false;
        uint32_t fb = (uint32_t)u;
        float f;
        memcpy(&f, &fb, sizeof(f));
        if (!isfinite(f))
            return false;
        *value = (double)f;
        return true;
    }
    default:
        if (!get_le(r, 8, &u) || !isfinite(double_of(u)))
            return false;
        *value = double_of(u);
        return true;
    }
}

/* Reads sample i's fields after its tag into *cur, which holds sample
 * i - 1; *delta is the previous timestamp delta, updated. */
static bool decode_sample(struct reader *r, size_t i, struct bw_sample *cur, int64_t *delta)
{
    uint8_t tag;
    if (!get_u8(r, &tag) || (tag & TAG_RESERVED))
        return false;
    unsigned enc = tag & TAG_ENC_MASK;
    if (i == 0 && (enc == ENC_SAME || !(tag & TAG_QUALITY)))
        return false;
    if (i > 0) {
        uint64_t u;
        if (!get_varint(r, &u) || __builtin_add_overflow(*delta, zz_decode(u), delta) ||
            *delta <= 0 || __builtin_add_overflow(cur->ts_us, *delta, &cur->ts_us))
            return false;
    }
    if (tag & TAG_QUALITY) {
        if (!get_u8(r, &cur->quality) || !get_u8(r, &cur->reason) ||
            cur->quality > BW_QUALITY_GOOD || cur->reason >= BW_REASON_COUNT_)
            return false;
    }
    return decode_value(r, enc, &cur->value);
}

/* On an error, *n is untouched and out may hold some samples. */
int bw_chunk_decode(const uint8_t *data, size_t len, struct bw_sample *out, size_t max, size_t *n)
{
    struct reader r = {.data = data, .pos = 0, .len = data ? len : 0};
    uint8_t version;
    uint64_t count, t0;
    if (!get_u8(&r, &version) || version != CHUNK_VERSION || !get_varint(&r, &count) ||
        count == 0 || count > BW_CHUNK_MAX_SAMPLES || !get_varint(&r, &t0))
        return BW_EMALFORMED;
    /* The whole chunk is checked even when it does not fit out, so that
     * BW_ETOOLARGE always means a valid chunk. */
    struct bw_sample cur = {.ts_us = zz_decode(t0), .value = 0.0};
    int64_t delta = 0;
    for (size_t i = 0; i < count; i++) {
        if (!decode_sample(&r, i, &cur, &delta))
            return BW_EMALFORMED;
        if (i < max)
            out[i] = cur;
    }
    if (r.pos != r.len)
        return BW_EMALFORMED;
    if (count > max)
        return BW_ETOOLARGE;
    *n = (size_t)count;
    return BW_OK;
}
