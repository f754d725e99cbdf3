/* SPDX-License-Identifier: Apache-2.0
 *
 * The modbus driver's device parameters and tag addresses (placeholder).
 */
#include "project/internal.h"

#include <stddef.h>

static const struct pj_field modbus_param_fields[] = {
    {.key = "host",
     .kind = PJ_TEXT,
     .flags = PJ_REQUIRED,
     .store = PJ_ST_STR,
     .offset = offsetof(struct bw_project_device, modbus.host),
     .imax = 253},
};

const struct pj_object_spec pj_modbus_params_spec = {
    .fields = modbus_param_fields,
    .count = BW_ARRAY_LEN(modbus_param_fields),
};

void pj_modbus_bind(struct pj_ctx *ctx, struct bw_project_tag *tag, json_t *options)
{
    (void)tag;
    (void)options;
    pj_error_key(ctx, "address", "modbus addresses are not supported yet");
}
