/* SPDX-License-Identifier: Apache-2.0
 *
 * The simulator section (signals, tanks, pumps, valves, dosers), the
 * variables of each element kind that tags bind (bw_project_sim_vars),
 * and the resolution of "ELEMENT.VARIABLE" addresses. All elements share
 * one name space. Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>
#include <string.h>

const char *const pj_sim_kind_keys[BW_SIM_KIND_COUNT_] = {
    [BW_SIM_SIGNAL] = "signals", [BW_SIM_TANK] = "tanks",   [BW_SIM_PUMP] = "pumps",
    [BW_SIM_VALVE] = "valves",   [BW_SIM_DOSER] = "dosers",
};

const char *const pj_sim_kind_nouns[BW_SIM_KIND_COUNT_] = {
    [BW_SIM_SIGNAL] = "signal", [BW_SIM_TANK] = "tank",   [BW_SIM_PUMP] = "pump",
    [BW_SIM_VALVE] = "valve",   [BW_SIM_DOSER] = "doser",
};

const struct bw_sim_var bw_project_sim_vars[] = {
    {BW_SIM_SIGNAL, "value", BW_TYPE_FLOAT, false},
    {BW_SIM_TANK, "level", BW_TYPE_FLOAT, false},
    {BW_SIM_TANK, "volume", BW_TYPE_FLOAT, false},
    {BW_SIM_TANK, "level_pct", BW_TYPE_FLOAT, false},
    {BW_SIM_TANK, "chlorine", BW_TYPE_FLOAT, false},
    {BW_SIM_PUMP, "running", BW_TYPE_BOOL, true},
    {BW_SIM_PUMP, "flow", BW_TYPE_FLOAT, false},
    {BW_SIM_PUMP, "pressure", BW_TYPE_FLOAT, false},
    {BW_SIM_VALVE, "position", BW_TYPE_FLOAT, true},
    {BW_SIM_VALVE, "flow", BW_TYPE_FLOAT, false},
    {BW_SIM_DOSER, "rate", BW_TYPE_FLOAT, true},
    {BW_SIM_DOSER, "dose", BW_TYPE_FLOAT, false},
};
const size_t bw_project_sim_var_count = BW_ARRAY_LEN(bw_project_sim_vars);

/* Common rows. */
#define SIM_NAME(type, kind_)                                                                      \
    {                                                                                              \
        .key = "name", .kind = PJ_NAME, .flags = PJ_REQUIRED, .store = PJ_ST_STR,                  \
        .offset = offsetof(type, name), .ns = PJ_NS_SIM, .ns_kind = (kind_)                        \
    }
#define SIM_TANK_REF(key_, type, member, flags_)                                                   \
    {                                                                                              \
        .key = (key_), .kind = PJ_REF, .flags = (flags_), .store = PJ_ST_SIZE,                     \
        .offset = offsetof(type, member), .ns = PJ_NS_SIM, .ns_kind = BW_SIM_TANK                  \
    }
/* A positive quantity up to max_. */
#define SIM_POSITIVE(key_, type, member, max_)                                                     \
    {                                                                                              \
        .key = (key_), .kind = PJ_NUMBER,                                                          \
        .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_MIN_EXCLUSIVE | PJ_HAS_MAX, .store = PJ_ST_DOUBLE,  \
        .offset = offsetof(type, member), .dmin = 0, .dmax = (max_)                                \
    }
/* An optional quantity in [0, max_], default def_. */
#define SIM_RANGE(key_, type, member, max_, def_)                                                  \
    {                                                                                              \
        .key = (key_), .kind = PJ_NUMBER, .flags = PJ_HAS_MIN | PJ_HAS_MAX | PJ_HAS_DEFAULT,       \
        .store = PJ_ST_DOUBLE, .offset = offsetof(type, member), .dmin = 0, .dmax = (max_),        \
        .def = (def_)                                                                              \
    }

/* ---- signals -------------------------------------------------------- */

static const char *const shape_names[] = {
    [BW_SHAPE_SINE] = "sine",     [BW_SHAPE_RAMP] = "ramp",
    [BW_SHAPE_SQUARE] = "square", [BW_SHAPE_RANDOM_WALK] = "random_walk",
    [BW_SHAPE_STEP] = "step",
};

static bool steps_parse(struct pj_ctx *ctx, json_t *value, void *field_dst)
{
    struct bw_project_signal *sig = field_dst;
    size_t count = json_array_size(value);
    if (count == 0 || count > PJ_MAX_STEPS) {
        pj_error(ctx, "must have 1 to %u values", PJ_MAX_STEPS);
        return false;
    }
    sig->steps = bw_calloc(count, sizeof(*sig->steps));
    if (!sig->steps) {
        ctx->nomem = true;
        return false;
    }
    sig->step_count = count;
    bool ok = true;
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(value, i);
        if (json_is_number(v)) {
            sig->steps[i] = json_number_value(v);
            continue;
        }
        size_t saved = pj_path_push_index(ctx, i);
        pj_error(ctx, "must be a number");
        pj_path_pop(ctx, saved);
        ok = false;
    }
    return ok;
}

enum { SIG_NAME, SIG_SHAPE, SIG_MIN, SIG_MAX, SIG_PERIOD, SIG_STEPS, SIG_MAX_STEP };

static const struct pj_field signal_fields[] = {
    [SIG_NAME] = SIM_NAME(struct bw_project_signal, BW_SIM_SIGNAL),
    [SIG_SHAPE] = {.key = "shape",
                   .kind = PJ_CHOICE,
                   .flags = PJ_REQUIRED,
                   .store = PJ_ST_ENUM,
                   .offset = offsetof(struct bw_project_signal, shape),
                   .choices = shape_names,
                   .choice_count = BW_ARRAY_LEN(shape_names)},
    [SIG_MIN] = {.key = "min",
                 .kind = PJ_NUMBER,
                 .flags = PJ_REQUIRED,
                 .store = PJ_ST_DOUBLE,
                 .offset = offsetof(struct bw_project_signal, min)},
    [SIG_MAX] = {.key = "max",
                 .kind = PJ_NUMBER,
                 .flags = PJ_REQUIRED,
                 .store = PJ_ST_DOUBLE,
                 .offset = offsetof(struct bw_project_signal, max)},
    [SIG_PERIOD] = {.key = "period_ms",
                    .kind = PJ_INT,
                    .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_HAS_MAX,
                    .store = PJ_ST_U32,
                    .offset = offsetof(struct bw_project_signal, period_ms),
                    .imin = 10,
                    .imax = 86400000},
    [SIG_STEPS] = {.key = "steps", .kind = PJ_LIST, .list = steps_parse},
    [SIG_MAX_STEP] = {.key = "max_step",
                      .kind = PJ_NUMBER,
                      .flags = PJ_HAS_MIN | PJ_MIN_EXCLUSIVE,
                      .store = PJ_ST_DOUBLE,
                      .offset = offsetof(struct bw_project_signal, max_step),
                      .dmin = 0},
};

/* Rules across fields: the range, the shape-specific keys, defaults. */
static void signal_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_signal *sig = dst;
    (void)index;
    bool range = pj_seen_ok(seen, SIG_MIN) && pj_seen_ok(seen, SIG_MAX);
    if (range && sig->min > sig->max) {
        pj_error_key(ctx, "min", "must not be greater than max (%.15g)", sig->max);
        range = false;
    }
    if (!pj_seen_ok(seen, SIG_SHAPE))
        return;
    if (seen->value[SIG_STEPS] && sig->shape != BW_SHAPE_STEP)
        pj_error_key(ctx, "steps", "is only for shape \"step\"");
    if (seen->value[SIG_MAX_STEP] && sig->shape != BW_SHAPE_RANDOM_WALK)
        pj_error_key(ctx, "max_step", "is only for shape \"random_walk\"");
    if (!range)
        return;
    if (sig->shape == BW_SHAPE_RANDOM_WALK && !seen->value[SIG_MAX_STEP])
        sig->max_step = (sig->max - sig->min) / 50.0;
    if (sig->shape == BW_SHAPE_STEP && !seen->value[SIG_STEPS]) {
        /* Without steps, a step signal alternates between min and max. */
        sig->steps = bw_calloc(2, sizeof(*sig->steps));
        if (!sig->steps) {
            ctx->nomem = true;
            return;
        }
        sig->steps[0] = sig->min;
        sig->steps[1] = sig->max;
        sig->step_count = 2;
    }
    for (size_t i = 0; i < sig->step_count && pj_seen_ok(seen, SIG_STEPS); i++) {
        if (sig->steps[i] >= sig->min && sig->steps[i] <= sig->max)
            continue;
        size_t saved = pj_path_push_key(ctx, "steps");
        pj_path_push_index(ctx, i);
        pj_error(ctx, "must be between min (%.15g) and max (%.15g)", sig->min, sig->max);
        pj_path_pop(ctx, saved);
    }
}

/* ---- tanks, pumps, valves, dosers ----------------------------------- */

enum { TANK_NAME, TANK_AREA, TANK_HEIGHT, TANK_LEVEL };

static const struct pj_field tank_fields[] = {
    [TANK_NAME] = SIM_NAME(struct bw_project_tank, BW_SIM_TANK),
    [TANK_AREA] = SIM_POSITIVE("area_m2", struct bw_project_tank, area_m2, 1e6),
    [TANK_HEIGHT] = SIM_POSITIVE("height_m", struct bw_project_tank, height_m, 1000),
    [TANK_LEVEL] = {.key = "level_m",
                    .kind = PJ_NUMBER,
                    .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_HAS_MAX,
                    .store = PJ_ST_DOUBLE,
                    .offset = offsetof(struct bw_project_tank, level_m),
                    .dmin = 0,
                    .dmax = 1000},
};

static void tank_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct bw_project_tank *tank = dst;
    (void)index;
    if (pj_seen_ok(seen, TANK_HEIGHT) && pj_seen_ok(seen, TANK_LEVEL) &&
        tank->level_m > tank->height_m)
        pj_error_key(ctx, "level_m", "must not be greater than height_m (%.15g)", tank->height_m);
}

/* from and to name different tanks (either may be the outside world). */
static void check_ends(struct pj_ctx *ctx, size_t from, size_t to)
{
    if (from != BW_SIM_NO_TANK && from == to)
        pj_error_key(ctx, "to", "must not be the same tank as \"from\"");
}

enum { PUMP_NAME, PUMP_FROM, PUMP_TO, PUMP_FLOW, PUMP_PRESSURE, PUMP_RUNNING };

static const struct pj_field pump_fields[] = {
    [PUMP_NAME] = SIM_NAME(struct bw_project_pump, BW_SIM_PUMP),
    [PUMP_FROM] = SIM_TANK_REF("from", struct bw_project_pump, from, 0),
    [PUMP_TO] = SIM_TANK_REF("to", struct bw_project_pump, to, 0),
    [PUMP_FLOW] = SIM_POSITIVE("flow_m3h", struct bw_project_pump, flow_m3h, 1e6),
    [PUMP_PRESSURE] = SIM_POSITIVE("pressure_bar", struct bw_project_pump, pressure_bar, 1000),
    [PUMP_RUNNING] = {.key = "running",
                      .kind = PJ_BOOL,
                      .flags = PJ_HAS_DEFAULT,
                      .store = PJ_ST_BOOL,
                      .offset = offsetof(struct bw_project_pump, running),
                      .def = 0},
};

static void pump_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct bw_project_pump *pump = dst;
    (void)index;
    (void)seen;
    check_ends(ctx, pump->from, pump->to);
}

enum { VALVE_NAME, VALVE_FROM, VALVE_TO, VALVE_FLOW, VALVE_POSITION };

static const struct pj_field valve_fields[] = {
    [VALVE_NAME] = SIM_NAME(struct bw_project_valve, BW_SIM_VALVE),
    [VALVE_FROM] = SIM_TANK_REF("from", struct bw_project_valve, from, PJ_REQUIRED),
    [VALVE_TO] = SIM_TANK_REF("to", struct bw_project_valve, to, 0),
    [VALVE_FLOW] = SIM_POSITIVE("flow_m3h", struct bw_project_valve, flow_m3h, 1e6),
    [VALVE_POSITION] = SIM_RANGE("position_pct", struct bw_project_valve, position_pct, 100, 0),
};

static void valve_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct bw_project_valve *valve = dst;
    (void)index;
    (void)seen;
    check_ends(ctx, valve->from, valve->to);
}

static const struct pj_field doser_fields[] = {
    SIM_NAME(struct bw_project_doser, BW_SIM_DOSER),
    SIM_TANK_REF("tank", struct bw_project_doser, tank, PJ_REQUIRED),
    SIM_POSITIVE("max_dose_mg_l", struct bw_project_doser, max_dose_mg_l, 1000),
    SIM_RANGE("rate_pct", struct bw_project_doser, rate_pct, 100, 0),
    SIM_RANGE("decay_per_h", struct bw_project_doser, decay_per_h, 1000, 0),
};

/* ---- the section ---------------------------------------------------- */

#define SIM_ARRAY(kind_, type, member, count, fields, check_)                                      \
    [kind_] = {.noun = "simulator elements",                                                       \
               .elem_size = sizeof(type),                                                          \
               .limit = BW_PROJECT_MAX_SIM_ELEMENTS,                                               \
               .items_offset = offsetof(struct bw_project, member),                                \
               .count_offset = offsetof(struct bw_project, count),                                 \
               .elem = &(const struct pj_object_spec){fields, BW_ARRAY_LEN(fields), check_}}

static const struct pj_array_spec sim_arrays[BW_SIM_KIND_COUNT_] = {
    SIM_ARRAY(BW_SIM_SIGNAL, struct bw_project_signal, signals, signal_count, signal_fields,
              signal_check),
    SIM_ARRAY(BW_SIM_TANK, struct bw_project_tank, tanks, tank_count, tank_fields, tank_check),
    SIM_ARRAY(BW_SIM_PUMP, struct bw_project_pump, pumps, pump_count, pump_fields, pump_check),
    SIM_ARRAY(BW_SIM_VALVE, struct bw_project_valve, valves, valve_count, valve_fields,
              valve_check),
    SIM_ARRAY(BW_SIM_DOSER, struct bw_project_doser, dosers, doser_count, doser_fields, NULL),
};

/* Tanks come before the kinds that name them, so references resolve in
 * one pass. */
static const struct pj_field simulator_fields[] = {
    {.key = "signals", .kind = PJ_ARRAY, .array = &sim_arrays[BW_SIM_SIGNAL]},
    {.key = "tanks", .kind = PJ_ARRAY, .array = &sim_arrays[BW_SIM_TANK]},
    {.key = "pumps", .kind = PJ_ARRAY, .array = &sim_arrays[BW_SIM_PUMP]},
    {.key = "valves", .kind = PJ_ARRAY, .array = &sim_arrays[BW_SIM_VALVE]},
    {.key = "dosers", .kind = PJ_ARRAY, .array = &sim_arrays[BW_SIM_DOSER]},
};

static void simulator_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    const struct bw_project *p = dst;
    (void)index;
    (void)seen;
    size_t total =
        p->signal_count + p->tank_count + p->pump_count + p->valve_count + p->doser_count;
    if (total > BW_PROJECT_MAX_SIM_ELEMENTS) {
        pj_error(ctx, "has %zu elements; at most %u are allowed", total,
                 BW_PROJECT_MAX_SIM_ELEMENTS);
        ctx->too_large = true;
    }
}

const struct pj_object_spec pj_simulator_spec = {
    .fields = simulator_fields,
    .count = BW_ARRAY_LEN(simulator_fields),
    .check = simulator_check,
};

/* ---- binding tags --------------------------------------------------- */

static size_t var_find(uint32_t kind, const char *name, size_t len)
{
    for (size_t i = 0; i < bw_project_sim_var_count; i++) {
        const struct bw_sim_var *v = &bw_project_sim_vars[i];
        if ((uint32_t)v->kind == kind && strlen(v->name) == len && memcmp(v->name, name, len) == 0)
            return i;
    }
    return SIZE_MAX;
}

static const char *var_list(uint32_t kind, char *out, size_t size)
{
    const char *names[8];
    size_t n = 0;
    for (size_t i = 0; i < bw_project_sim_var_count && n < BW_ARRAY_LEN(names); i++)
        if ((uint32_t)bw_project_sim_vars[i].kind == kind)
            names[n++] = bw_project_sim_vars[i].name;
    return pj_join(out, size, names, n);
}

void pj_sim_bind(struct pj_ctx *ctx, struct bw_project_tag *tag)
{
    char quoted[PJ_QUOTE_BUF], quoted2[PJ_QUOTE_BUF], list[128];
    const char *addr = tag->address;
    size_t len = strlen(addr);
    /* Element names may contain dots; variable names never do. */
    const char *dot = memrchr(addr, '.', len);
    if (!dot || dot == addr || dot + 1 == addr + len) {
        pj_error_key(ctx, "address", "%s is not a simulator address (ELEMENT.VARIABLE)",
                     pj_quote(quoted, addr, len));
        return;
    }
    size_t elen = (size_t)(dot - addr);
    const struct pj_name_entry *e = pj_names_find(ctx, PJ_NS_SIM, addr, elen);
    if (!e) {
        pj_error_key(ctx, "address", "no simulator element named %s", pj_quote(quoted, addr, elen));
        return;
    }
    const char *vname = dot + 1;
    size_t vlen = len - elen - 1;
    size_t var = var_find(e->kind, vname, vlen);
    if (var == SIZE_MAX) {
        pj_error_key(ctx, "address", "%s is a %s, which has no variable %s (%s)",
                     pj_quote(quoted, addr, elen), pj_sim_kind_nouns[e->kind],
                     pj_quote(quoted2, vname, vlen), var_list(e->kind, list, sizeof(list)));
        return;
    }
    const struct bw_sim_var *v = &bw_project_sim_vars[var];
    if (v->type != tag->type) {
        pj_error_key(ctx, "address", "%s is a %s variable but the tag is %s",
                     pj_quote(quoted, addr, len), bw_type_name(v->type), bw_type_name(tag->type));
        return;
    }
    if (tag->access.writable && !v->writable) {
        size_t saved = pj_path_push_key(ctx, "access");
        pj_error_key(ctx, "write", "%s is read-only, so the tag cannot be writable",
                     pj_quote(quoted, addr, len));
        pj_path_pop(ctx, saved);
        return;
    }
    tag->sim_kind = (enum bw_sim_kind)e->kind;
    tag->sim_index = e->index;
    tag->sim_var = var;
}
