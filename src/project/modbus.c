/* SPDX-License-Identifier: Apache-2.0
 *
 * The modbus driver in the project: a device's connection parameters and
 * each tag's place in the device ("address" plus the "modbus" object:
 * data type, word and byte order, string length, linear scaling). The
 * rules that tie a tag's type, access and map together live here so
 * that a project the loader accepts can always be polled and written.
 * Caller's thread.
 */
#include "project/internal.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- device parameters ---------------------------------------------- */

#define MB_PARAM_U32(key_, member, lo, hi, dflt)                                                   \
    {                                                                                              \
        .key = (key_), .kind = PJ_INT, .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,          \
        .store = PJ_ST_U32, .offset = offsetof(struct bw_project_device, modbus.member),           \
        .imin = (lo), .imax = (hi), .def = (dflt)                                                  \
    }

enum {
    MBP_HOST,
    MBP_PORT,
    MBP_UNIT,
    MBP_TIMEOUT,
    MBP_RETRIES,
    MBP_BACKOFF_MIN,
    MBP_BACKOFF_MAX,
    MBP_IN_FLIGHT,
    MBP_MAX_REGISTERS,
    MBP_MAX_BITS,
    MBP_MAX_GAP,
    MBP_READ_BACK,
};

static const struct pj_field modbus_param_fields[] = {
    [MBP_HOST] = {.key = "host",
                  .kind = PJ_TEXT,
                  .flags = PJ_REQUIRED,
                  .store = PJ_ST_STR,
                  .offset = offsetof(struct bw_project_device, modbus.host),
                  .imax = 253},
    [MBP_PORT] = {.key = "port",
                  .kind = PJ_INT,
                  .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,
                  .store = PJ_ST_U16,
                  .offset = offsetof(struct bw_project_device, modbus.port),
                  .imin = 1,
                  .imax = 65535,
                  .def = 502},
    [MBP_UNIT] = {.key = "unit_id",
                  .kind = PJ_INT,
                  .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,
                  .store = PJ_ST_U16,
                  .offset = offsetof(struct bw_project_device, modbus.unit_id),
                  .imin = 0,
                  .imax = 255,
                  .def = 1},
    [MBP_TIMEOUT] = MB_PARAM_U32("timeout_ms", timeout_ms, 10, 60000, 1000),
    [MBP_RETRIES] = MB_PARAM_U32("retries", retries, 0, 10, 1),
    [MBP_BACKOFF_MIN] = MB_PARAM_U32("backoff_min_ms", backoff_min_ms, 10, 600000, 1000),
    [MBP_BACKOFF_MAX] = MB_PARAM_U32("backoff_max_ms", backoff_max_ms, 10, 3600000, 30000),
    [MBP_IN_FLIGHT] = MB_PARAM_U32("max_in_flight", max_in_flight, 1, 16, 1),
    [MBP_MAX_REGISTERS] = MB_PARAM_U32("max_registers", max_registers, 1, 125, 125),
    [MBP_MAX_BITS] = MB_PARAM_U32("max_bits", max_bits, 1, 2000, 2000),
    [MBP_MAX_GAP] = MB_PARAM_U32("max_gap", max_gap, 0, 124, 8),
    [MBP_READ_BACK] = {.key = "read_back",
                       .kind = PJ_BOOL,
                       .flags = PJ_HAS_DEFAULT,
                       .store = PJ_ST_BOOL,
                       .offset = offsetof(struct bw_project_device, modbus.read_back),
                       .def = 1},
};
_Static_assert(BW_ARRAY_LEN(modbus_param_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static void modbus_params_check(struct pj_ctx *ctx, void *dst, size_t index,
                                const struct pj_seen *seen)
{
    struct bw_project_device *dev = dst;
    (void)index;
    if (pj_seen_ok(seen, MBP_HOST)) {
        const char *h = dev->modbus.host;
        char quoted[PJ_QUOTE_BUF];
        bool clean = h[0] != '\0';
        /* Host names are ASCII (international ones in their punycode
         * form); operators see this text in messages. */
        for (const char *p = h; *p && clean; p++)
            clean = *p > ' ' && *p < 0x7f;
        if (!clean)
            pj_error_key(ctx, "host", "%s is not a host name or address",
                         pj_quote(quoted, h, strlen(h)));
    }
    if (pj_seen_ok(seen, MBP_BACKOFF_MIN) && pj_seen_ok(seen, MBP_BACKOFF_MAX) &&
        dev->modbus.backoff_max_ms < dev->modbus.backoff_min_ms)
        pj_error_key(ctx, "backoff_max_ms", "must be at least backoff_min_ms (%u)",
                     dev->modbus.backoff_min_ms);
}

const struct pj_object_spec pj_modbus_params_spec = {
    .fields = modbus_param_fields,
    .count = BW_ARRAY_LEN(modbus_param_fields),
    .check = modbus_params_check,
};

/* ---- addresses ------------------------------------------------------ */

static const struct {
    const char *prefix;
    enum bw_modbus_area area;
} area_prefixes[] = {
    {"coil:", BW_MODBUS_COIL},
    {"discrete:", BW_MODBUS_DISCRETE_INPUT},
    {"holding:", BW_MODBUS_HOLDING_REGISTER},
    {"input:", BW_MODBUS_INPUT_REGISTER},
};

static bool is_register_area(enum bw_modbus_area area)
{
    return area == BW_MODBUS_HOLDING_REGISTER || area == BW_MODBUS_INPUT_REGISTER;
}

/* Decimal digits only, no sign, at most max. */
static bool parse_decimal(const char *s, size_t len, unsigned long max, unsigned long *out)
{
    if (len == 0 || len > 5)
        return false;
    unsigned long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* "holding:100", "holding:100.3", "coil:7" ... into map; false with the
 * error reported. */
static bool parse_address(struct pj_ctx *ctx, const char *addr, struct bw_project_modbus_map *map)
{
    char quoted[PJ_QUOTE_BUF];
    size_t len = strlen(addr);
    size_t i = 0;
    while (i < BW_ARRAY_LEN(area_prefixes) &&
           strncmp(addr, area_prefixes[i].prefix, strlen(area_prefixes[i].prefix)) != 0)
        i++;
    if (i == BW_ARRAY_LEN(area_prefixes)) {
        pj_error_key(ctx, "address",
                     "%s is not a modbus address (coil:N, discrete:N, holding:N[.BIT] or "
                     "input:N[.BIT], N 0..65535)",
                     pj_quote(quoted, addr, len));
        return false;
    }
    map->area = area_prefixes[i].area;
    const char *num = addr + strlen(area_prefixes[i].prefix);
    const char *dot = strchr(num, '.');
    size_t num_len = dot ? (size_t)(dot - num) : strlen(num);
    unsigned long n = 0, bit = 0;
    if (!parse_decimal(num, num_len, 65535, &n)) {
        pj_error_key(ctx, "address", "%s: the register or bit number must be 0..65535",
                     pj_quote(quoted, addr, len));
        return false;
    }
    map->address = (uint16_t)n;
    map->bit = -1;
    if (dot) {
        if (!is_register_area(map->area)) {
            pj_error_key(ctx, "address", "%s: only registers (holding, input) have bits",
                         pj_quote(quoted, addr, len));
            return false;
        }
        if (!parse_decimal(dot + 1, strlen(dot + 1), 15, &bit)) {
            pj_error_key(ctx, "address", "%s: the bit must be 0..15", pj_quote(quoted, addr, len));
            return false;
        }
        map->bit = (int8_t)bit;
    }
    return true;
}

/* ---- the "modbus" object of a tag ----------------------------------- */

static const char *const modbus_type_names[] = {
    [BW_MODBUS_BOOL] = "bool",       [BW_MODBUS_INT16] = "int16",   [BW_MODBUS_UINT16] = "uint16",
    [BW_MODBUS_INT32] = "int32",     [BW_MODBUS_UINT32] = "uint32", [BW_MODBUS_FLOAT32] = "float32",
    [BW_MODBUS_FLOAT64] = "float64", [BW_MODBUS_STRING] = "string",
};
static const char *const order_names[] = {"big", "little"};

struct mb_scale {
    double raw_min, raw_max, eu_min, eu_max;
};

struct mb_options {
    enum bw_modbus_type type;
    int word_order; /* index into order_names */
    int byte_order;
    uint16_t length;
    struct mb_scale scale;
};

#define MB_SCALE_FIELD(key_, member)                                                               \
    {                                                                                              \
        .key = (key_), .kind = PJ_NUMBER, .flags = PJ_REQUIRED, .store = PJ_ST_DOUBLE,             \
        .offset = offsetof(struct mb_scale, member), .dmin = -1e300, .dmax = 1e300                 \
    }

static const struct pj_field scale_fields[] = {
    MB_SCALE_FIELD("raw_min", raw_min),
    MB_SCALE_FIELD("raw_max", raw_max),
    MB_SCALE_FIELD("eu_min", eu_min),
    MB_SCALE_FIELD("eu_max", eu_max),
};

static void scale_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct mb_scale *s = dst;
    (void)index;
    if (pj_seen_ok(seen, 0) && pj_seen_ok(seen, 1) && s->raw_min == s->raw_max)
        pj_error_key(ctx, "raw_max", "must differ from raw_min");
    if (pj_seen_ok(seen, 2) && pj_seen_ok(seen, 3) && s->eu_min == s->eu_max)
        pj_error_key(ctx, "eu_max", "must differ from eu_min");
}

static const struct pj_object_spec scale_spec = {scale_fields, BW_ARRAY_LEN(scale_fields),
                                                 scale_check};

enum { OPT_TYPE, OPT_WORD, OPT_BYTE, OPT_LENGTH, OPT_SCALE };

static const struct pj_field option_fields[] = {
    [OPT_TYPE] = {.key = "type",
                  .kind = PJ_CHOICE,
                  .store = PJ_ST_ENUM,
                  .offset = offsetof(struct mb_options, type),
                  .choices = modbus_type_names,
                  .choice_count = BW_ARRAY_LEN(modbus_type_names)},
    [OPT_WORD] = {.key = "word_order",
                  .kind = PJ_CHOICE,
                  .store = PJ_ST_ENUM,
                  .offset = offsetof(struct mb_options, word_order),
                  .choices = order_names,
                  .choice_count = BW_ARRAY_LEN(order_names)},
    [OPT_BYTE] = {.key = "byte_order",
                  .kind = PJ_CHOICE,
                  .store = PJ_ST_ENUM,
                  .offset = offsetof(struct mb_options, byte_order),
                  .choices = order_names,
                  .choice_count = BW_ARRAY_LEN(order_names)},
    [OPT_LENGTH] = {.key = "length",
                    .kind = PJ_INT,
                    .flags = PJ_HAS_MIN | PJ_HAS_MAX,
                    .store = PJ_ST_U16,
                    .offset = offsetof(struct mb_options, length),
                    .imin = 1,
                    .imax = 125},
    [OPT_SCALE] = {.key = "scale",
                   .kind = PJ_OBJECT,
                   .offset = offsetof(struct mb_options, scale),
                   .object = &scale_spec},
};

static enum bw_modbus_type default_type(enum bw_type tag_type)
{
    switch (tag_type) {
    case BW_TYPE_BOOL:
        return BW_MODBUS_BOOL;
    case BW_TYPE_INT:
        return BW_MODBUS_INT16;
    case BW_TYPE_FLOAT:
        return BW_MODBUS_FLOAT32;
    case BW_TYPE_STRING:
        return BW_MODBUS_STRING;
    }
    return BW_MODBUS_INT16;
}

static bool type_fits_tag(enum bw_modbus_type mt, enum bw_type tag_type)
{
    switch (tag_type) {
    case BW_TYPE_BOOL:
        return mt == BW_MODBUS_BOOL;
    case BW_TYPE_INT:
        return mt >= BW_MODBUS_INT16 && mt <= BW_MODBUS_UINT32;
    case BW_TYPE_FLOAT:
        return mt >= BW_MODBUS_INT16 && mt <= BW_MODBUS_FLOAT64;
    case BW_TYPE_STRING:
        return mt == BW_MODBUS_STRING;
    }
    return false;
}

static uint16_t registers_of(enum bw_modbus_type mt, uint16_t length)
{
    switch (mt) {
    case BW_MODBUS_INT32:
    case BW_MODBUS_UINT32:
    case BW_MODBUS_FLOAT32:
        return 2;
    case BW_MODBUS_FLOAT64:
        return 4;
    case BW_MODBUS_STRING:
        return length;
    case BW_MODBUS_BOOL:
    case BW_MODBUS_INT16:
    case BW_MODBUS_UINT16:
        break;
    }
    return 1;
}

/* The cross-field rules of one tag's map; false when one failed. */
static bool map_check(struct pj_ctx *ctx, const struct bw_project_tag *tag,
                      const struct bw_project_modbus_map *map, const struct pj_seen *seen,
                      bool given)
{
    const char *tname = modbus_type_names[map->type];
    bool regs = is_register_area(map->area);
    size_t saved = pj_path_push_key(ctx, "modbus");
    bool ok = false;
    if (!type_fits_tag(map->type, tag->type))
        pj_error_key(ctx, "type", "%s does not fit a tag of type %s", tname,
                     bw_type_name(tag->type));
    else if (map->type == BW_MODBUS_BOOL && regs && map->bit < 0)
        pj_error(ctx, "a bool tag on a register needs a bit in its address (e.g. holding:%u.0)",
                 map->address);
    else if (map->type != BW_MODBUS_BOOL && !regs)
        pj_error(ctx, "coils and discrete inputs hold single bits: only bool tags may use them");
    else if (map->type != BW_MODBUS_BOOL && map->bit >= 0)
        pj_error(ctx, "only bool tags may address a bit of a register");
    else if (map->type == BW_MODBUS_STRING && !(given && pj_seen_ok(seen, OPT_LENGTH)))
        pj_error_key(ctx, "length", "is required for a string (registers, two bytes each)");
    else if (given && seen->value[OPT_LENGTH] && map->type != BW_MODBUS_STRING)
        pj_error_key(ctx, "length", "is only for strings");
    else if (given && seen->value[OPT_WORD] && map->count < 2)
        pj_error_key(ctx, "word_order", "is only for types of two or more registers");
    else if (given && seen->value[OPT_BYTE] && !regs)
        pj_error_key(ctx, "byte_order", "is only for registers");
    else if (given && seen->value[OPT_SCALE] && tag->type != BW_TYPE_FLOAT)
        pj_error_key(ctx, "scale", "is only for float tags");
    else if ((uint32_t)map->address + map->count > 65536u)
        pj_error(ctx, "the value's %u registers run past address 65535", map->count);
    else
        ok = true;
    pj_path_pop(ctx, saved);
    if (ok && tag->access.writable &&
        (map->area == BW_MODBUS_DISCRETE_INPUT || map->area == BW_MODBUS_INPUT_REGISTER)) {
        size_t saved2 = pj_path_push_key(ctx, "access");
        pj_error_key(ctx, "write", "%s are read-only, so the tag cannot be writable",
                     map->area == BW_MODBUS_DISCRETE_INPUT ? "discrete inputs" : "input registers");
        pj_path_pop(ctx, saved2);
        ok = false;
    }
    return ok;
}

void pj_modbus_bind(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *options)
{
    struct bw_project_modbus_map map = {0};
    if (!parse_address(ctx, tag->address, &map))
        return;
    struct mb_options opt = {.type = default_type(tag->type)};
    struct pj_seen seen = {0};
    if (options) {
        size_t saved = pj_path_push_key(ctx, "modbus");
        static const struct pj_object_spec option_spec = {option_fields,
                                                          BW_ARRAY_LEN(option_fields), NULL};
        pj_object_walk(ctx, options, &option_spec, &opt, 0, &seen);
        pj_path_pop(ctx, saved);
        for (size_t i = 0; i < BW_ARRAY_LEN(option_fields); i++)
            if (seen.value[i] && !pj_seen_ok(&seen, i))
                return; /* reported by the walk */
    }
    map.type = opt.type;
    map.word_swap = opt.word_order == 1;
    map.byte_swap = opt.byte_order == 1;
    map.count = map.area == BW_MODBUS_COIL || map.area == BW_MODBUS_DISCRETE_INPUT
                    ? 1
                    : registers_of(map.type, opt.length);
    if (options && seen.value[OPT_SCALE]) {
        map.scaled = true;
        map.raw_min = opt.scale.raw_min;
        map.raw_max = opt.scale.raw_max;
        map.eu_min = opt.scale.eu_min;
        map.eu_max = opt.scale.eu_max;
    }
    if (!map_check(ctx, tag, &map, &seen, options != NULL))
        return;
    const struct bw_project_modbus_device *dev = &ctx->project->devices[tag->device].modbus;
    uint32_t limit = map.area == BW_MODBUS_COIL || map.area == BW_MODBUS_DISCRETE_INPUT
                         ? dev->max_bits
                         : dev->max_registers;
    if (tag->access.writable && map.count > 123) {
        pj_error_key(ctx, "address",
                     "the value spans %u registers; one write carries at most 123, so the tag "
                     "cannot be writable",
                     map.count);
        return;
    }
    if (limit && map.count > limit) {
        pj_error_key(ctx, "address",
                     "the value spans %u registers; its device reads at most %u at once "
                     "(parameters.max_registers)",
                     map.count, limit);
        return;
    }
    tag->modbus = map;
}
