/* SPDX-License-Identifier: Apache-2.0
 *
 * A tag's input validation rules and fail-safe value (placeholder until
 * the parser lands: both are refused).
 */
#include "project/internal.h"

void pj_tag_rules_check(struct pj_ctx *ctx, struct bw_project_tag *tag, size_t index,
                        json_t *validate, json_t *failsafe)
{
    (void)tag;
    (void)index;
    if (validate)
        pj_error_key(ctx, "validate", "is not supported yet");
    if (failsafe)
        pj_error_key(ctx, "failsafe", "is not supported yet");
}

void pj_tag_rules_resolve(struct pj_ctx *ctx)
{
    (void)ctx;
}
