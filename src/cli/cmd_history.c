/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark history`: reading the process history (placeholder until
 * `history query` lands).
 */
#include "cli/internal.h"

static int history_run(const struct bw_cli_args *args)
{
    (void)args;
    bw_cli_errorf("this build has no history commands");
    return BW_CLI_EXIT_FAIL;
}

const struct bw_cli_command bw_cli_history_command = {
    .name = "history",
    .synopsis = "COMMAND ...",
    .summary = "read the process history",
    .run = history_run,
};
