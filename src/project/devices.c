/* SPDX-License-Identifier: Apache-2.0
 *
 * The tables of scan classes and devices, and the drivers a device can
 * name with the parameters each takes. A new driver adds a row to
 * drivers[] with its parameter table. Caller's thread.
 */
#include "project/internal.h"

#include <stddef.h>

/* ---- scan classes --------------------------------------------------- */

static const struct pj_field scan_class_fields[] = {
    {.key = "name",
     .kind = PJ_NAME,
     .flags = PJ_REQUIRED,
     .store = PJ_ST_STR,
     .offset = offsetof(struct bw_project_scan_class, name),
     .ns = PJ_NS_SCAN_CLASS},
    {.key = "period_ms",
     .kind = PJ_INT,
     .flags = PJ_REQUIRED | PJ_HAS_MIN | PJ_HAS_MAX,
     .store = PJ_ST_U32,
     .offset = offsetof(struct bw_project_scan_class, period_ms),
     .imin = 1,
     .imax = 3600000},
};

static const struct pj_object_spec scan_class_spec = {
    .fields = scan_class_fields,
    .count = BW_ARRAY_LEN(scan_class_fields),
};

const struct pj_array_spec pj_scan_classes_spec = {
    .noun = "scan classes",
    .elem_size = sizeof(struct bw_project_scan_class),
    .limit = BW_PROJECT_MAX_SCAN_CLASSES,
    .items_offset = offsetof(struct bw_project, scan_classes),
    .count_offset = offsetof(struct bw_project, scan_class_count),
    .elem = &scan_class_spec,
};

/* ---- drivers and their parameters ----------------------------------- */

static const struct pj_field sim_param_fields[] = {
    {.key = "seed",
     .kind = PJ_INT,
     .flags = PJ_HAS_MIN | PJ_HAS_DEFAULT,
     .store = PJ_ST_U64,
     .offset = offsetof(struct bw_project_device, sim_seed),
     .imin = 0,
     .def = 1},
};

static const struct pj_object_spec sim_param_spec = {
    .fields = sim_param_fields,
    .count = BW_ARRAY_LEN(sim_param_fields),
};

/* By enum bw_driver_kind. */
static const char *const driver_names[] = {[BW_DRIVER_SIM] = "sim", [BW_DRIVER_MODBUS] = "modbus"};
static const struct pj_object_spec *const driver_params[] = {
    [BW_DRIVER_SIM] = &sim_param_spec,
    [BW_DRIVER_MODBUS] = &pj_modbus_params_spec,
};

void pj_driver_bind(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *options)
{
    const struct bw_project_device *dev = &ctx->project->devices[tag->device];
    if (dev->driver == BW_DRIVER_MODBUS) {
        pj_modbus_bind(ctx, tag, options);
        return;
    }
    if (options)
        pj_error_key(ctx, "modbus", "is only for tags of a modbus device");
    pj_sim_bind(ctx, tag);
}

/* ---- devices -------------------------------------------------------- */

enum { DEV_NAME, DEV_DESCRIPTION, DEV_DRIVER, DEV_SCAN_CLASS, DEV_PARAMETERS };

static const struct pj_field device_fields[] = {
    [DEV_NAME] = {.key = "name",
                  .kind = PJ_NAME,
                  .flags = PJ_REQUIRED,
                  .store = PJ_ST_STR,
                  .offset = offsetof(struct bw_project_device, name),
                  .ns = PJ_NS_DEVICE},
    [DEV_DESCRIPTION] = {.key = "description",
                         .kind = PJ_TEXT,
                         .store = PJ_ST_STR,
                         .offset = offsetof(struct bw_project_device, description),
                         .imax = BW_PROJECT_TEXT_MAX},
    [DEV_DRIVER] = {.key = "driver",
                    .kind = PJ_CHOICE,
                    .flags = PJ_REQUIRED,
                    .store = PJ_ST_ENUM,
                    .offset = offsetof(struct bw_project_device, driver),
                    .choices = driver_names,
                    .choice_count = BW_ARRAY_LEN(driver_names)},
    [DEV_SCAN_CLASS] = {.key = "scan_class",
                        .kind = PJ_REF,
                        .flags = PJ_REQUIRED,
                        .store = PJ_ST_SIZE,
                        .offset = offsetof(struct bw_project_device, scan_class),
                        .ns = PJ_NS_SCAN_CLASS},
    /* Checked by device_check, once the driver is known. */
    [DEV_PARAMETERS] = {.key = "parameters", .kind = PJ_OBJECT},
};
_Static_assert(BW_ARRAY_LEN(device_fields) <= PJ_FIELDS_MAX, "fields fit struct pj_seen");

static void device_init(void *elem)
{
    struct bw_project_device *dev = elem;
    dev->scan_class = SIZE_MAX;
}

static void device_check(struct pj_ctx *ctx, void *dst, size_t index, const struct pj_seen *seen)
{
    struct bw_project_device *dev = dst;
    (void)index;
    if (!pj_seen_ok(seen, DEV_DRIVER))
        return;
    const struct pj_object_spec *params = driver_params[dev->driver];
    json_t *given = seen->value[DEV_PARAMETERS];
    if (!given) {
        if (dev->driver == BW_DRIVER_MODBUS)
            pj_error_key(ctx, "parameters", "is required for a modbus device (at least \"host\")");
        pj_object_defaults(params, dev);
        return;
    }
    if (!pj_seen_ok(seen, DEV_PARAMETERS))
        return;
    size_t saved = pj_path_push_key(ctx, "parameters");
    struct pj_seen param_seen;
    pj_object_walk(ctx, given, params, dev, 0, &param_seen);
    pj_path_pop(ctx, saved);
}

static const struct pj_object_spec device_spec = {
    .fields = device_fields,
    .count = BW_ARRAY_LEN(device_fields),
    .check = device_check,
};

const struct pj_array_spec pj_devices_spec = {
    .noun = "devices",
    .elem_size = sizeof(struct bw_project_device),
    .limit = BW_PROJECT_MAX_DEVICES,
    .items_offset = offsetof(struct bw_project, devices),
    .count_offset = offsetof(struct bw_project, device_count),
    .init = device_init,
    .elem = &device_spec,
};
