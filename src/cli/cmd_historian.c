/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark historian`: checking the process history (placeholder until
 * `historian verify` lands).
 */
#include "cli/internal.h"

static int historian_run(const struct bw_cli_args *args)
{
    (void)args;
    bw_cli_errorf("this build has no historian commands");
    return BW_CLI_EXIT_FAIL;
}

const struct bw_cli_command bw_cli_historian_command = {
    .name = "historian",
    .synopsis = "COMMAND ...",
    .summary = "check the process history",
    .run = historian_run,
};
