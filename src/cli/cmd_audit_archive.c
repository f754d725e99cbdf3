/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark audit archive --state DIR`: asks the running daemon to roll
 * the oldest audit records into a signed segment in STATE/audit-archive/
 * now. This is how an administrator frees a full trail under the refuse
 * policy (non-essential operations resume once the trail is below its
 * limit); the daemon records who asked. Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>

enum { OPT_STATE, OPT_JSON };

static const struct bw_cli_option archive_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory of the running daemon (required)"},
    [OPT_JSON] = {"json", NULL, "print the daemon's JSON reply"},
};

static int print_archived(const json_t *reply)
{
    long long first = (long long)json_integer_value(json_object_get(reply, "first_seq"));
    long long last = (long long)json_integer_value(json_object_get(reply, "last_seq"));
    const char *st = json_string_value(json_object_get(reply, "state"));
    if (first == 0)
        printf("nothing to archive");
    else
        printf("archived records %lld..%lld into audit-archive/", first, last);
    printf("; the trail is at %lld %% of its limit, state %s\n",
           (long long)json_integer_value(json_object_get(reply, "usage_percent")), st ? st : "?");
    return BW_CLI_EXIT_OK;
}

static int archive_run(const struct bw_cli_args *args)
{
    const char *state = args->values[OPT_STATE];
    if (!state)
        return bw_cli_usage_error(&bw_cli_audit_archive_command, "--state DIR is required");
    json_t *reply = NULL;
    if (bw_cli_control_ask(state, json_pack("{s:s}", "op", "audit_archive"), "archive refused",
                           &reply))
        return BW_CLI_EXIT_FAIL;
    int status = args->values[OPT_JSON] ? bw_cli_print_json(reply) : print_archived(reply);
    json_decref(reply);
    return status;
}

const struct bw_cli_command bw_cli_audit_archive_command = {
    .name = "audit archive",
    .synopsis = "--state DIR [--json]",
    .summary = "roll the oldest audit records into a signed archive segment now",
    .details = "Asks the daemon running on the state directory DIR to move the oldest audit\n"
               "records into a signed segment file in DIR/audit-archive/, down below the\n"
               "lowest usage threshold (the newest record stays). Under the refuse policy this\n"
               "frees a full trail, and non-essential operations resume. The chain continues\n"
               "across the segment; `bulwark audit verify` checks both. The daemon records who\n"
               "asked (audit.archive_requested).",
    .options = archive_options,
    .option_count = BW_ARRAY_LEN(archive_options),
    .min_args = 0,
    .max_args = 0,
    .run = archive_run,
};
