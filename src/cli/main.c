/* SPDX-License-Identifier: Apache-2.0
 *
 * main() of the bulwark binary: finds the subcommand (and, for a group
 * such as `project`, its subcommand) in the table below, parses its
 * options with its own option table, and runs it. Handles `--version`
 * and `--help` itself. Main thread; the subcommands start any others.
 */
#include "cli/internal.h"

#include <stdio.h>
#include <string.h>

static const struct bw_cli_command *const commands[] = {
    &bw_cli_serve_command,   &bw_cli_project_command,   &bw_cli_tags_command,
    &bw_cli_tag_command,     &bw_cli_status_command,    &bw_cli_devices_command,
    &bw_cli_history_command, &bw_cli_historian_command, &bw_cli_audit_command,
    &bw_cli_user_command,
};

static void print_help(FILE *out)
{
    fprintf(out, "Usage: bulwark COMMAND [OPTIONS]\n\n"
                 "Bulwark is a SCADA/HMI server for Linux, secure by construction.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < BW_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-18s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nOptions:\n"
                 "  --version          print the version and exit\n"
                 "  --help             show this help and exit\n\n"
                 "Run 'bulwark COMMAND --help' for a command's options.\n");
}

/* The last word of a command's name ("validate" in "project validate")
 * is what the user types to select it. */
static bool name_matches(const struct bw_cli_command *cmd, const char *word)
{
    const char *space = strrchr(cmd->name, ' ');
    return strcmp(space ? space + 1 : cmd->name, word) == 0;
}

static const struct bw_cli_command *find(const struct bw_cli_command *const *list, size_t n,
                                         const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (name_matches(list[i], word))
            return list[i];
    return NULL;
}

/* Runs cmd with argv[0..argc) being the words after its name. */
static int dispatch(const struct bw_cli_command *cmd, int argc, char **argv)
{
    if (cmd->sub_count > 0) {
        if (argc == 0)
            return bw_cli_usage_error(cmd, "missing command");
        if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
            bw_cli_command_help(cmd, stdout);
            return BW_CLI_EXIT_OK;
        }
        const struct bw_cli_command *sub = find(cmd->subs, cmd->sub_count, argv[0]);
        if (!sub)
            return bw_cli_usage_error(cmd, "unknown command '%.64s'", argv[0]);
        return dispatch(sub, argc - 1, argv + 1);
    }
    struct bw_cli_args args;
    switch (bw_cli_args_parse(cmd, argc, argv, &args)) {
    case BW_CLI_PARSE_HELP:
        return BW_CLI_EXIT_OK;
    case BW_CLI_PARSE_USAGE:
        return BW_CLI_EXIT_USAGE;
    case BW_CLI_PARSE_OK:
        break;
    }
    return cmd->run(&args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return BW_CLI_EXIT_USAGE;
    }
    const char *word = argv[1];
    if (strcmp(word, "--version") == 0 || strcmp(word, "version") == 0) {
        printf("bulwark %s\n", BW_VERSION);
        return BW_CLI_EXIT_OK;
    }
    if (strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 || strcmp(word, "help") == 0) {
        print_help(stdout);
        return BW_CLI_EXIT_OK;
    }
    const struct bw_cli_command *cmd = find(commands, BW_ARRAY_LEN(commands), word);
    if (!cmd) {
        fprintf(stderr, "bulwark: unknown command '%.64s'\nTry 'bulwark --help'.\n", word);
        return BW_CLI_EXIT_USAGE;
    }
    return dispatch(cmd, argc - 2, argv + 2);
}
