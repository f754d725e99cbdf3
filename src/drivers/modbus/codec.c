/* SPDX-License-Identifier: Apache-2.0
 *
 * drivers/modbus codec: turns the registers or bits a device returned for
 * one tag into the tag's value, and a value to be written back into
 * registers or a bit. Pure functions of their arguments, no I/O and no
 * state, so any thread may call them (the modbus driver thread does).
 *
 * Conventions, as the project file states them:
 *
 * - A register is the 16-bit number libmodbus hands over: (first byte on
 *   the wire << 8) | second byte. "byte_order": "little" (byte_swap)
 *   swaps the two bytes of every register before anything else looks at
 *   it.
 * - Multi-register numbers (int32, uint32, float32: 2 registers;
 *   float64: 4) take their most significant register first by default;
 *   "word_order": "little" (word_swap) reverses the registers, least
 *   significant first. Strings ignore word_order.
 * - A register bit counts from the least significant bit of the register
 *   value after byte_order is applied: bit 0 is value & 1, bit 15 is
 *   value & 0x8000. With byte_swap, bit B of the value is bit (B ^ 8) of
 *   the register on the wire, which is what a mask write must address.
 * - A string is 2 bytes per register in address order, high byte first
 *   (byte_swap: low byte first), ending at the first NUL or after
 *   2 * count bytes; it must be UTF-8.
 * - Scaling applies to float tags only: eu = eu_min + (raw - raw_min) *
 *   (eu_max - eu_min) / (raw_max - raw_min), raw being the decoded
 *   number; writes invert it and round to the nearest integer (ties away
 *   from zero) for integer registers.
 */
#include "drivers/modbus/mb_codec.h"

#include <float.h>
#include <math.h>
#include <string.h>

/* The register as the value's bytes read: byte_order applied. Its own
 * inverse, so encoding uses it too. */
static uint16_t reg_order(const struct bw_project_modbus_map *map, uint16_t reg)
{
    if (!map->byte_swap)
        return reg;
    return (uint16_t)((unsigned)(reg >> 8) | ((unsigned)reg << 8));
}

/* How many registers a numeric or bool map spans; 0 for strings (their
 * count is the string's length) and for unknown types. */
static unsigned type_registers(enum bw_modbus_type type)
{
    switch (type) {
    case BW_MODBUS_BOOL:
    case BW_MODBUS_INT16:
    case BW_MODBUS_UINT16:
        return 1;
    case BW_MODBUS_INT32:
    case BW_MODBUS_UINT32:
    case BW_MODBUS_FLOAT32:
        return 2;
    case BW_MODBUS_FLOAT64:
        return 4;
    case BW_MODBUS_STRING:
    default:
        return 0;
    }
}

static bool is_bit_area(enum bw_modbus_area area)
{
    return area == BW_MODBUS_COIL || area == BW_MODBUS_DISCRETE_INPUT;
}

/* True when the map is one the loader can produce: a bool for bit areas;
 * for registers, a bit 0..15 exactly for bools, and a count that fits
 * the type. map->bit is ignored for bit areas. */
static bool map_valid(const struct bw_project_modbus_map *map)
{
    if (is_bit_area(map->area))
        return map->type == BW_MODBUS_BOOL && map->count == 1;
    if (map->area != BW_MODBUS_HOLDING_REGISTER && map->area != BW_MODBUS_INPUT_REGISTER)
        return false;
    if (map->type == BW_MODBUS_BOOL)
        return map->count == 1 && map->bit >= 0 && map->bit <= 15;
    if (map->bit >= 0)
        return false;
    if (map->type == BW_MODBUS_STRING)
        return map->count >= 1 && map->count <= MB_MAX_TAG_REGISTERS;
    unsigned n = type_registers(map->type);
    return n != 0 && map->count == n;
}

/* True when a tag (or value) of this type may use the map: numbers in
 * integer registers may be int or float tags, but only float tags are
 * scaled; everything else has exactly one tag type. */
static bool tag_type_fits(const struct bw_project_modbus_map *map, enum bw_type type)
{
    if (map->scaled && type != BW_TYPE_FLOAT)
        return false;
    switch (map->type) {
    case BW_MODBUS_BOOL:
        return type == BW_TYPE_BOOL;
    case BW_MODBUS_INT16:
    case BW_MODBUS_UINT16:
    case BW_MODBUS_INT32:
    case BW_MODBUS_UINT32:
        return type == BW_TYPE_INT || type == BW_TYPE_FLOAT;
    case BW_MODBUS_FLOAT32:
    case BW_MODBUS_FLOAT64:
        return type == BW_TYPE_FLOAT;
    case BW_MODBUS_STRING:
        return type == BW_TYPE_STRING;
    default:
        return false;
    }
}

/* The n registers (1, 2 or 4) as one number, most significant first
 * unless word_swap. */
static uint64_t regs_join(const struct bw_project_modbus_map *map, const uint16_t *regs, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned k = map->word_swap ? n - 1 - i : i;
        v = (v << 16) | reg_order(map, regs[k]);
    }
    return v;
}

/* The inverse of regs_join: the low 16 * n bits of v into regs. */
static void regs_split(const struct bw_project_modbus_map *map, uint64_t v, uint16_t *regs,
                       unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned k = map->word_swap ? n - 1 - i : i;
        regs[k] = reg_order(map, (uint16_t)(v >> (16 * (n - 1 - i))));
    }
}

/* Raw engineering value to engineering units. May give a non-finite
 * result (degenerate or extreme parameters); the callers check. */
static double scale_to_eu(const struct bw_project_modbus_map *map, double raw)
{
    return map->eu_min +
           (raw - map->raw_min) * (map->eu_max - map->eu_min) / (map->raw_max - map->raw_min);
}

static double scale_to_raw(const struct bw_project_modbus_map *map, double eu)
{
    return map->raw_min +
           (eu - map->eu_min) * (map->raw_max - map->raw_min) / (map->eu_max - map->eu_min);
}

/* Integer register types as signed 64-bit numbers, sign-extended without
 * relying on implementation-defined conversions. */
static int64_t int_from_bits(enum bw_modbus_type type, uint64_t v)
{
    switch (type) {
    case BW_MODBUS_INT16:
        return v >= 0x8000u ? (int64_t)v - 0x10000 : (int64_t)v;
    case BW_MODBUS_INT32:
        return v >= UINT64_C(0x80000000) ? (int64_t)v - INT64_C(0x100000000) : (int64_t)v;
    default:
        return (int64_t)v;
    }
}

static void int_bounds(enum bw_modbus_type type, int64_t *min, int64_t *max)
{
    switch (type) {
    case BW_MODBUS_INT16:
        *min = INT16_MIN;
        *max = INT16_MAX;
        break;
    case BW_MODBUS_UINT16:
        *min = 0;
        *max = UINT16_MAX;
        break;
    case BW_MODBUS_INT32:
        *min = INT32_MIN;
        *max = INT32_MAX;
        break;
    default: /* BW_MODBUS_UINT32 */
        *min = 0;
        *max = UINT32_MAX;
        break;
    }
}

static enum mb_codec_result decode_string(const struct bw_project_modbus_map *map,
                                          const uint16_t *regs, struct bw_value *out, char *text,
                                          size_t text_size)
{
    if (!text || text_size < 2u * map->count + 1u)
        return MB_CODEC_TYPE;
    size_t len = 0;
    for (size_t i = 0; i < map->count; i++) {
        uint16_t r = reg_order(map, regs[i]);
        char hi = (char)(r >> 8), lo = (char)(r & 0xFFu);
        if (hi == '\0')
            break;
        text[len++] = hi;
        if (lo == '\0')
            break;
        text[len++] = lo;
    }
    text[len] = '\0';
    if (!bw_utf8_valid(text, len))
        return MB_CODEC_BAD_TEXT;
    *out = (struct bw_value){.type = BW_TYPE_STRING, .v.s = text, .len = len};
    return MB_CODEC_OK;
}

/* A number register map (int or float types) into an int or float tag. */
static enum mb_codec_result decode_number(const struct bw_project_modbus_map *map,
                                          enum bw_type tag_type, const uint16_t *regs,
                                          struct bw_value *out)
{
    uint64_t v = regs_join(map, regs, map->count);
    double x;
    if (map->type == BW_MODBUS_FLOAT32) {
        uint32_t bits32 = (uint32_t)v;
        float f;
        memcpy(&f, &bits32, sizeof(f));
        x = (double)f;
    } else if (map->type == BW_MODBUS_FLOAT64) {
        memcpy(&x, &v, sizeof(x));
    } else {
        int64_t i = int_from_bits(map->type, v);
        if (tag_type == BW_TYPE_INT) {
            *out = (struct bw_value){.type = BW_TYPE_INT, .v.i = i};
            return MB_CODEC_OK;
        }
        x = (double)i; /* exact: at most 32 bits */
    }
    if (!isfinite(x))
        return MB_CODEC_NOT_FINITE;
    if (map->scaled) {
        x = scale_to_eu(map, x);
        if (!isfinite(x))
            return MB_CODEC_NOT_FINITE;
    }
    *out = (struct bw_value){.type = BW_TYPE_FLOAT, .v.f = x};
    return MB_CODEC_OK;
}

/* Decodes one tag; see mb_codec.h. Errors: MB_CODEC_TYPE for a map the
 * loader cannot produce, a tag type that does not fit it, a missing
 * buffer or a text buffer below 2 * count + 1 bytes; MB_CODEC_NOT_FINITE
 * for NaN or an infinity in float registers or after scaling;
 * MB_CODEC_BAD_TEXT for string bytes that are not UTF-8. out is set only
 * on success; text may be written either way. Borrows everything. */
enum mb_codec_result mb_decode(const struct bw_project_modbus_map *map, enum bw_type tag_type,
                               const uint16_t *regs, const uint8_t *bits, struct bw_value *out,
                               char *text, size_t text_size)
{
    if (!map || !out || !map_valid(map) || !tag_type_fits(map, tag_type))
        return MB_CODEC_TYPE;
    if (is_bit_area(map->area)) {
        if (!bits)
            return MB_CODEC_TYPE;
        *out = (struct bw_value){.type = BW_TYPE_BOOL, .v.b = bits[0] != 0};
        return MB_CODEC_OK;
    }
    if (!regs)
        return MB_CODEC_TYPE;
    if (map->type == BW_MODBUS_BOOL) {
        unsigned r = reg_order(map, regs[0]);
        *out = (struct bw_value){.type = BW_TYPE_BOOL, .v.b = ((r >> map->bit) & 1u) != 0};
        return MB_CODEC_OK;
    }
    if (map->type == BW_MODBUS_STRING)
        return decode_string(map, regs, out, text, text_size);
    return decode_number(map, tag_type, regs, out);
}

static enum mb_codec_result encode_string(const struct bw_project_modbus_map *map,
                                          const struct bw_value *value, uint16_t *regs)
{
    if (value->len > 2u * map->count)
        return MB_CODEC_RANGE;
    if (!value->v.s && value->len > 0)
        return MB_CODEC_TYPE;
    const unsigned char *s = (const unsigned char *)value->v.s;
    /* A NUL would end the string early on the next read. */
    if (value->len > 0 && (memchr(s, '\0', value->len) || !bw_utf8_valid(value->v.s, value->len)))
        return MB_CODEC_BAD_TEXT;
    for (size_t i = 0; i < map->count; i++) {
        unsigned hi = 2 * i < value->len ? s[2 * i] : 0u;
        unsigned lo = 2 * i + 1 < value->len ? s[2 * i + 1] : 0u;
        regs[i] = reg_order(map, (uint16_t)(hi << 8 | lo));
    }
    return MB_CODEC_OK;
}

/* The register bits of a number for the map's type, from an int or a
 * float value. */
static enum mb_codec_result encode_number(const struct bw_project_modbus_map *map,
                                          const struct bw_value *value, uint64_t *bits_out)
{
    int64_t min, max;
    if (value->type == BW_TYPE_INT) { /* integer registers, unscaled */
        int_bounds(map->type, &min, &max);
        if (value->v.i < min || value->v.i > max)
            return MB_CODEC_RANGE;
        *bits_out = (uint64_t)value->v.i; /* two's complement; low bits kept */
        return MB_CODEC_OK;
    }
    double x = value->v.f;
    if (!isfinite(x))
        return MB_CODEC_NOT_FINITE;
    if (map->scaled) {
        x = scale_to_raw(map, x);
        if (!isfinite(x))
            return MB_CODEC_RANGE;
    }
    if (map->type == BW_MODBUS_FLOAT32) {
        if (fabs(x) > FLT_MAX)
            return MB_CODEC_RANGE;
        float f = (float)x;
        uint32_t bits32;
        memcpy(&bits32, &f, sizeof(bits32));
        *bits_out = bits32;
        return MB_CODEC_OK;
    }
    if (map->type == BW_MODBUS_FLOAT64) {
        memcpy(bits_out, &x, sizeof(x));
        return MB_CODEC_OK;
    }
    /* round(): nearest, ties away from zero, as llround; compared while
     * still a double so that no out-of-range conversion happens. */
    double r = round(x);
    int_bounds(map->type, &min, &max);
    if (r < (double)min || r > (double)max)
        return MB_CODEC_RANGE;
    *bits_out = (uint64_t)(int64_t)r;
    return MB_CODEC_OK;
}

/* Encodes one value; see mb_codec.h. Errors: MB_CODEC_TYPE for a map the
 * loader cannot produce, a value type that does not fit it (an int value
 * for a scaled or a float map, a bool for a number, ...) or a missing
 * output; MB_CODEC_RANGE for a number outside the register type (after
 * inverse scaling and rounding) or a string longer than 2 * count bytes;
 * MB_CODEC_NOT_FINITE for a NaN or infinite float value; MB_CODEC_BAD_TEXT
 * for a string that is not UTF-8 or holds a NUL (it would not read back
 * the same). Outputs are written only on success. Borrows everything. */
enum mb_codec_result mb_encode(const struct bw_project_modbus_map *map,
                               const struct bw_value *value, uint16_t *regs, uint8_t *bit)
{
    if (!map || !value || !map_valid(map) || !tag_type_fits(map, value->type))
        return MB_CODEC_TYPE;
    if (map->type == BW_MODBUS_BOOL) {
        if (!bit)
            return MB_CODEC_TYPE;
        *bit = value->v.b ? 1 : 0;
        return MB_CODEC_OK;
    }
    if (!regs)
        return MB_CODEC_TYPE;
    if (map->type == BW_MODBUS_STRING)
        return encode_string(map, value, regs);
    uint64_t v = 0;
    enum mb_codec_result rc = encode_number(map, value, &v);
    if (rc != MB_CODEC_OK)
        return rc;
    regs_split(map, v, regs, map->count);
    return MB_CODEC_OK;
}

const char *mb_codec_result_text(enum mb_codec_result result)
{
    switch (result) {
    case MB_CODEC_OK:
        return "ok";
    case MB_CODEC_NOT_FINITE:
        return "the value is not a finite number";
    case MB_CODEC_BAD_TEXT:
        return "the text is not valid UTF-8 or holds a NUL";
    case MB_CODEC_RANGE:
        return "the value does not fit the register type";
    case MB_CODEC_TYPE:
        return "the value's type does not fit the tag's Modbus map";
    default:
        return "unknown codec result";
    }
}
