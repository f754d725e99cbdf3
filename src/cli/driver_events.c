/* SPDX-License-Identifier: Apache-2.0
 *
 * What the drivers report, into the audit trail as control-system
 * events (communication lost and restored, fail-safe values driven and
 * confirmed), and what the audit trail reports back to the drivers (an
 * integrity violation drives the outputs that ask for it to their
 * fail-safe values). Runs on the drivers' and the audit's threads.
 */
#include "cli/internal.h"
#include "drivers/drivers.h"

static json_t *value_json(const struct bw_value *v)
{
    if (!v)
        return json_null();
    switch (v->type) {
    case BW_TYPE_BOOL:
        return json_boolean(v->v.b);
    case BW_TYPE_INT:
        return json_integer((json_int_t)v->v.i);
    case BW_TYPE_FLOAT:
        return json_real(v->v.f);
    case BW_TYPE_STRING:
        return json_stringn(v->v.s, v->len);
    }
    return json_null();
}

void bw_cli_driver_event(void *ctx, const struct bw_driver_event *ev)
{
    struct bw_cli_plant *plant = ctx;
    if (!plant->audit)
        return;
    uint32_t id = BW_AUDIT_EV_DEVICE_COMM_LOST;
    enum bw_audit_result result = BW_AUDIT_FAILURE;
    switch (ev->kind) {
    case BW_DRIVER_EV_COMM_LOST:
        break;
    case BW_DRIVER_EV_COMM_RESTORED:
        id = BW_AUDIT_EV_DEVICE_COMM_RESTORED;
        result = BW_AUDIT_SUCCESS;
        break;
    case BW_DRIVER_EV_FAILSAFE_TRIGGERED:
        id = BW_AUDIT_EV_FAILSAFE_TRIGGERED;
        result = BW_AUDIT_SUCCESS;
        break;
    case BW_DRIVER_EV_FAILSAFE_WRITTEN:
        id = BW_AUDIT_EV_FAILSAFE_CONFIRMED;
        result = BW_AUDIT_SUCCESS;
        break;
    }
    json_t *d = json_pack("{s:s, s:s}", "device", ev->device, "detail", ev->detail);
    if (d && ev->tag)
        json_object_set_new(d, "tag", json_string(ev->tag));
    if (d && ev->value)
        json_object_set_new(d, "value", value_json(ev->value));
    struct bw_audit_event rec = {
        .id = id,
        .result = result,
        .source = {.kind = BW_AUDIT_SOURCE_DEVICE, .name = ev->device},
        .details = d,
    };
    int rc = bw_audit_record(plant->audit, &rec, NULL);
    if (rc)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "device %s: an event could not be recorded: %s",
               ev->device, bw_strerror(rc));
    json_decref(d);
}

void bw_cli_plant_failsafe(struct bw_cli_plant *plant, enum bw_failsafe_event event)
{
    for (size_t i = 0; i < plant->drivers_started; i++)
        bw_driver_failsafe(plant->drivers[i], event);
}

void bw_cli_plant_integrity_violated(void *ctx)
{
    struct bw_cli_plant *plant = ctx;
    bw_log(BW_LOG_ERROR, BW_LOGC_DRIVER,
           "integrity violation: outputs with such a fail-safe value are driven to it");
    bw_cli_plant_failsafe(plant, BW_FAILSAFE_INTEGRITY_VIOLATION);
}
