/* SPDX-License-Identifier: Apache-2.0
 *
 * Command-line parsing for every subcommand, driven by each command's
 * option table (struct bw_cli_command): --name VALUE, --name=VALUE, flags,
 * positional arguments, "--" to end options, and --help. Anything the
 * table does not name is a usage error (exit 2) with a message that says
 * what and a hint to --help. Main thread only.
 */
#include "cli/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bw_cli_usage_error(const struct bw_cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bulwark %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'bulwark %s --help'.\n", cmd->name);
    return BW_CLI_EXIT_USAGE;
}

void bw_cli_command_help(const struct bw_cli_command *cmd, FILE *out)
{
    fprintf(out, "Usage: bulwark %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->summary);
    if (cmd->details)
        fprintf(out, "\n%s\n", cmd->details);
    if (cmd->sub_count > 0) {
        fprintf(out, "\nCommands:\n");
        for (size_t i = 0; i < cmd->sub_count; i++) {
            const struct bw_cli_command *sub = cmd->subs[i];
            fprintf(out, "  %-22s %s\n", sub->name, sub->summary);
        }
    }
    fprintf(out, "\nOptions:\n");
    for (size_t i = 0; i < cmd->option_count; i++) {
        const struct bw_cli_option *o = &cmd->options[i];
        char left[48];
        if (bw_snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
                        o->arg ? o->arg : "") != BW_OK)
            bw_strlcpy(left, o->name, sizeof(left));
        fprintf(out, "  %-24s %s\n", left, o->help);
    }
    fprintf(out, "  %-24s %s\n", "--help", "show this help and exit");
}

static const struct bw_cli_option *find_option(const struct bw_cli_command *cmd, const char *name,
                                               size_t len, size_t *index)
{
    for (size_t i = 0; i < cmd->option_count; i++) {
        const char *o = cmd->options[i].name;
        if (strlen(o) == len && memcmp(o, name, len) == 0) {
            *index = i;
            return &cmd->options[i];
        }
    }
    return NULL;
}

/* Takes argv[*i], which starts with "--"; may consume argv[*i + 1]. */
static enum bw_cli_parse_result parse_long(const struct bw_cli_command *cmd, int argc, char **argv,
                                           int *i, struct bw_cli_args *out)
{
    const char *word = argv[*i] + 2;
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    size_t idx;
    if (len == 4 && memcmp(word, "help", 4) == 0 && !eq) {
        bw_cli_command_help(cmd, stdout);
        return BW_CLI_PARSE_HELP;
    }
    const struct bw_cli_option *opt = find_option(cmd, word, len, &idx);
    if (!opt) {
        bw_cli_usage_error(cmd, "unknown option '--%.*s'", (int)(len > 64 ? 64 : len), word);
        return BW_CLI_PARSE_USAGE;
    }
    if (out->values[idx]) {
        bw_cli_usage_error(cmd, "option '--%s' given twice", opt->name);
        return BW_CLI_PARSE_USAGE;
    }
    if (!opt->arg) {
        if (eq) {
            bw_cli_usage_error(cmd, "option '--%s' takes no value", opt->name);
            return BW_CLI_PARSE_USAGE;
        }
        out->values[idx] = "";
        return BW_CLI_PARSE_OK;
    }
    if (eq) {
        out->values[idx] = eq + 1;
    } else if (*i + 1 < argc) {
        out->values[idx] = argv[++*i];
    } else {
        bw_cli_usage_error(cmd, "option '--%s' needs a value (%s)", opt->name, opt->arg);
        return BW_CLI_PARSE_USAGE;
    }
    if (out->values[idx][0] == '\0') {
        bw_cli_usage_error(cmd, "option '--%s' needs a non-empty value (%s)", opt->name, opt->arg);
        return BW_CLI_PARSE_USAGE;
    }
    return BW_CLI_PARSE_OK;
}

enum bw_cli_parse_result bw_cli_args_parse(const struct bw_cli_command *cmd, int argc, char **argv,
                                           struct bw_cli_args *out)
{
    memset(out, 0, sizeof(*out));
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && strncmp(a, "--", 2) == 0) {
            enum bw_cli_parse_result r = parse_long(cmd, argc, argv, &i, out);
            if (r != BW_CLI_PARSE_OK)
                return r;
            continue;
        }
        /* "-5" is a value (tag write Counter -5), not an option. */
        bool number = a[0] == '-' && ((a[1] >= '0' && a[1] <= '9') || a[1] == '.');
        if (!options_done && a[0] == '-' && a[1] != '\0' && !number) {
            if (strcmp(a, "-h") == 0) {
                bw_cli_command_help(cmd, stdout);
                return BW_CLI_PARSE_HELP;
            }
            bw_cli_usage_error(cmd, "unknown option '%.64s' (options are --long)", a);
            return BW_CLI_PARSE_USAGE;
        }
        if (out->arg_count >= cmd->max_args || out->arg_count >= BW_CLI_MAX_ARGS) {
            bw_cli_usage_error(cmd, "unexpected argument '%.64s'", a);
            return BW_CLI_PARSE_USAGE;
        }
        out->args[out->arg_count++] = a;
    }
    if (out->arg_count < cmd->min_args) {
        bw_cli_usage_error(cmd, "missing argument (usage: bulwark %s %s)", cmd->name,
                           cmd->synopsis);
        return BW_CLI_PARSE_USAGE;
    }
    return BW_CLI_PARSE_OK;
}
