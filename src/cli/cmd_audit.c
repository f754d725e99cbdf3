/* SPDX-License-Identifier: Apache-2.0
 *
 * The `bulwark audit` group: commands that read, check or export the
 * audit trail of a state directory without the daemon (it may be
 * running), and the one that asks the running daemon to archive. Each
 * subcommand lives in its own file; add new ones to audit_subs below.
 * Main thread.
 */
#include "cli/internal.h"

static const struct bw_cli_command *const audit_subs[] = {
    &bw_cli_audit_query_command,          &bw_cli_audit_verify_command,
    &bw_cli_audit_verify_segment_command, &bw_cli_audit_export_command,
    &bw_cli_audit_archive_command,
};

const struct bw_cli_command bw_cli_audit_command = {
    .name = "audit",
    .synopsis = "COMMAND ...",
    .summary = "query, check, export and archive the audit trail",
    .subs = audit_subs,
    .sub_count = BW_ARRAY_LEN(audit_subs),
};
