/* SPDX-License-Identifier: Apache-2.0
 *
 * The `bulwark audit` group: commands that read or check the audit trail
 * of a state directory without the daemon (it may be running). Each
 * subcommand lives in its own file; add new ones to audit_subs below.
 * Main thread.
 */
#include "cli/internal.h"

static const struct bw_cli_command *const audit_subs[] = {
    &bw_cli_audit_verify_command,
    &bw_cli_audit_verify_segment_command,
    &bw_cli_audit_export_command,
};

const struct bw_cli_command bw_cli_audit_command = {
    .name = "audit",
    .synopsis = "COMMAND ...",
    .summary = "check and export the audit trail (verify, verify-segment, export)",
    .subs = audit_subs,
    .sub_count = BW_ARRAY_LEN(audit_subs),
};
