/* SPDX-License-Identifier: Apache-2.0
 *
 * drivers/modbus: the pure parts of the Modbus driver, without I/O, so
 * that unit tests and fuzzers reach them directly.
 *
 * The codec turns the registers or bits a device returned for one tag
 * into the tag's value (data type, word and byte order, bit, linear
 * scaling) and a value to be written into registers or a bit. Registers
 * are 16-bit numbers as the protocol carries them (libmodbus hands them
 * over in host order, most significant byte as sent first).
 *
 * The planner merges the spans of the tags of one device and scan class
 * into as few read requests as the protocol allows.
 *
 * Any thread; no shared state.
 */
#ifndef BW_DRIVERS_MODBUS_CODEC_H
#define BW_DRIVERS_MODBUS_CODEC_H

#include "base/base.h"
#include "core/core.h"
#include "project/project.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol limits of one read (Modbus Application Protocol v1.1b3). */
#define MB_MAX_READ_REGISTERS 125u
#define MB_MAX_READ_BITS 2000u
/* Most registers one tag spans (a string of 127 registers: 254 bytes). */
#define MB_MAX_TAG_REGISTERS 127u

/* Why decoding or encoding failed, for the tag's quality or the writer. */
enum mb_codec_result {
    MB_CODEC_OK = 0,
    MB_CODEC_NOT_FINITE, /* a float register pair holds NaN or an infinity */
    MB_CODEC_BAD_TEXT,   /* string registers are not valid UTF-8 */
    MB_CODEC_RANGE,      /* the value does not fit the register type after scaling */
    MB_CODEC_TYPE,       /* the value's type does not fit the map (a bug upstream) */
};

/* Decodes one tag. For bit areas (coil, discrete input) bits[0] is the
 * tag's bit (0 or 1) and regs is unused; for registers regs[0..count-1]
 * are the tag's registers in address order. tag_type is the tag's type
 * (bool, int, float or string). For strings, out->v.s points into text
 * (text_size >= 2 * count + 1), NUL-terminated, trailing NULs dropped.
 * Returns MB_CODEC_OK and sets out, or the reason it cannot. */
enum mb_codec_result mb_decode(const struct bw_project_modbus_map *map, enum bw_type tag_type,
                               const uint16_t *regs, const uint8_t *bits, struct bw_value *out,
                               char *text, size_t text_size);

/* Encodes value (of the tag's type, already validated by the engine) for
 * a write. Registers: regs[0..map->count-1] are set in address order.
 * Register bit (map->bit >= 0): *bit is the new bit and regs unused; the
 * caller writes it with a mask write. Bit areas: *bit is set. Scaled
 * maps apply the inverse scaling and round to the nearest integer for
 * integer types; MB_CODEC_RANGE when the result does not fit the type.
 * Strings longer than 2 * count bytes: MB_CODEC_RANGE; shorter ones are
 * padded with NULs. */
enum mb_codec_result mb_encode(const struct bw_project_modbus_map *map,
                               const struct bw_value *value, uint16_t *regs, uint8_t *bit);

/* A plain reason for a result, e.g. "the value does not fit int16". */
const char *mb_codec_result_text(enum mb_codec_result result);

/* ---- the request planner -------------------------------------------- */

/* One tag's place: what the planner merges. */
struct mb_span {
    enum bw_modbus_area area;
    uint16_t address;
    uint16_t count; /* bits or registers, >= 1 */
};

/* One read request: area, first address and quantity, and the spans it
 * covers as a range of the order[] the planner returns. */
struct mb_block {
    enum bw_modbus_area area;
    uint16_t address;
    uint16_t count;
    size_t first; /* into order[] */
    size_t spans; /* how many spans of order[] it covers */
};

struct mb_plan_limits {
    uint32_t max_registers; /* 1..125 */
    uint32_t max_bits;      /* 1..2000 */
    uint32_t max_gap;       /* registers of unused addresses bridged; bits: 16x */
};

struct mb_plan {
    struct mb_block *blocks;
    size_t block_count;
    size_t *order; /* span indexes sorted by area then address; blocks
                      cover them in this order */
    size_t span_count;
};

/* Plans the reads for n spans: sorts them by area and address, and
 * packs neighbours into one block while the block stays within the
 * limit of its area and the gap between them (addresses no span needs)
 * is at most max_gap (bits: 16 * max_gap). Overlapping spans (two tags
 * on the same register, bits of one register) share a block. A span
 * larger than the limit is a configuration error the loader prevents;
 * here it gets a block of its own. Returns BW_OK, BW_EINVAL (bad limits,
 * count 0 or beyond address 65535), BW_ENOMEM. Free with mb_plan_clear. */
BW_MUST_CHECK int mb_plan_build(const struct mb_span *spans, size_t n,
                                const struct mb_plan_limits *limits, struct mb_plan *out);
void mb_plan_clear(struct mb_plan *plan);

#endif
