/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark tag write --state DIR NAME VALUE`: asks the running daemon to
 * write one tag through the engine's one write path (bw_core_write). The
 * value goes as typed; the daemon reads it as the tag's type. A refused
 * write prints the engine's reason and exits 1. Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>
#include <string.h>

enum { OPT_STATE };

static const struct bw_cli_option write_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory of the running daemon (required)"},
};

static int write_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = bw_cli_tag_command.subs[0];
    const char *state = args->values[OPT_STATE];
    const char *name = args->args[0], *text = args->args[1];
    if (!state)
        return bw_cli_usage_error(cmd, "--state DIR is required");
    if (!bw_cli_name_valid(name, strlen(name)))
        return bw_cli_usage_error(cmd, "'%.64s' is not a tag name", name);
    if (strlen(text) > BW_TAG_STRING_MAX)
        return bw_cli_usage_error(cmd, "the value is longer than %d bytes", BW_TAG_STRING_MAX);
    json_t *request = json_pack("{s:s, s:s, s:s}", "op", "write", "tag", name, "value", text);
    if (!request) {
        bw_cli_errorf("the value is not valid UTF-8 text");
        return BW_CLI_EXIT_FAIL;
    }
    char what[BW_TAG_NAME_MAX + 32];
    if (bw_snprintf(what, sizeof(what), "write to %s refused", name) != BW_OK)
        bw_strlcpy(what, "write refused", sizeof(what));
    json_t *reply = NULL;
    if (bw_cli_control_ask(state, request, what, &reply))
        return BW_CLI_EXIT_FAIL;
    printf("%s: write accepted\n", name);
    json_decref(reply);
    return BW_CLI_EXIT_OK;
}

static const struct bw_cli_command write_command = {
    .name = "tag write",
    .synopsis = "--state DIR NAME VALUE",
    .summary = "write a value to a tag through the running daemon",
    .details = "VALUE is read as the tag's type: true/false (or 1/0) for bool, a whole number\n"
               "for int, a number for float, any text for string. The engine checks that the\n"
               "tag is writable and the value in range; a refusal prints its reason and exits 1.",
    .options = write_options,
    .option_count = BW_ARRAY_LEN(write_options),
    .min_args = 2,
    .max_args = 2,
    .run = write_run,
};

static const struct bw_cli_command *const tag_subs[] = {&write_command};

const struct bw_cli_command bw_cli_tag_command = {
    .name = "tag",
    .synopsis = "COMMAND ...",
    .summary = "act on one tag of the running daemon (write)",
    .subs = tag_subs,
    .sub_count = BW_ARRAY_LEN(tag_subs),
};
