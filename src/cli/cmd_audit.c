/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark audit`: the group of commands that read the audit trail of a
 * state directory. Main thread.
 */
#include "cli/internal.h"

static const struct bw_cli_command *const audit_subs[] = {&bw_cli_audit_query_command};

const struct bw_cli_command bw_cli_audit_command = {
    .name = "audit",
    .synopsis = "COMMAND ...",
    .summary = "read the audit trail (query)",
    .subs = audit_subs,
    .sub_count = BW_ARRAY_LEN(audit_subs),
};
