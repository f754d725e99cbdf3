/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark user disable|enable|remove|unlock NAME` and `user passwd
 * NAME`: the commands that change an account's state or reset its
 * password (the user must then change it at the next login). When the
 * daemon runs, the sessions of a disabled or removed account, or of one
 * whose password was reset, end at once. Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>
#include <string.h>

enum { OPT_STATE, OPT_PROJECT, OPT_PASSWORD_STDIN };

static const struct bw_cli_option state_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory (required)"},
    [OPT_PROJECT] = {"project", "DIR",
                     "apply this project's security policy when no daemon runs (default: the "
                     "built-in defaults)"},
    [OPT_PASSWORD_STDIN] = {"password-stdin", NULL,
                            "read the new password from the first line of standard input"},
};

/* Runs action on the account named by the one argument and prints
 * "<done> account NAME". */
static int run_simple(const struct bw_cli_command *cmd, const struct bw_cli_args *a,
                      enum bw_cli_user_action action, const char *done)
{
    const char *name = a->args[0];
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(cmd, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(cmd, "NAME", name);
    if (bad_name)
        return bad_name;
    char what[160];
    if (bw_snprintf(what, sizeof(what), "%s %s", cmd->name, name))
        bw_strlcpy(what, cmd->name, sizeof(what));
    json_t *reply = bw_cli_user_do(a->values[OPT_STATE], a->values[OPT_PROJECT], action,
                                   json_pack("{s:s}", "name", name), what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    printf("%s account %s\n", done, name);
    json_decref(reply);
    return BW_CLI_EXIT_OK;
}

static int disable_run(const struct bw_cli_args *a)
{
    return run_simple(&bw_cli_user_disable_command, a, BW_CLI_USER_DISABLE, "disabled");
}

static int enable_run(const struct bw_cli_args *a)
{
    return run_simple(&bw_cli_user_enable_command, a, BW_CLI_USER_ENABLE, "enabled");
}

static int remove_run(const struct bw_cli_args *a)
{
    return run_simple(&bw_cli_user_remove_command, a, BW_CLI_USER_REMOVE, "removed");
}

static int unlock_run(const struct bw_cli_args *a)
{
    return run_simple(&bw_cli_user_unlock_command, a, BW_CLI_USER_UNLOCK, "unlocked");
}

static int passwd_run(const struct bw_cli_args *a)
{
    const struct bw_cli_command *cmd = &bw_cli_user_passwd_command;
    const char *name = a->args[0];
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(cmd, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(cmd, "NAME", name);
    if (bad_name)
        return bad_name;
    struct bw_cli_secret password = {.len = 0};
    json_t *args = json_pack("{s:s}", "name", name);
    int rc = args ? bw_cli_password_read(a->values[OPT_PASSWORD_STDIN] != NULL, name, &password)
                  : BW_ENOMEM;
    if (rc == BW_OK)
        rc = bw_cli_user_args_set_password(args, "password", &password);
    bw_cli_secret_clear(&password);
    if (rc) {
        if (rc == BW_ENOMEM)
            bw_cli_errorf("out of memory");
        bw_cli_user_args_wipe(args);
        json_decref(args);
        return BW_CLI_EXIT_FAIL;
    }
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user passwd %s", name))
        bw_strlcpy(what, "user passwd", sizeof(what));
    json_t *reply = bw_cli_user_do(a->values[OPT_STATE], a->values[OPT_PROJECT], BW_CLI_USER_PASSWD,
                                   args, what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    printf("new password set for %s; it must be changed at the next login\n", name);
    json_decref(reply);
    return BW_CLI_EXIT_OK;
}

#define STATE_COMMAND(var, word, summary_text, details_text, fn)                                   \
    const struct bw_cli_command var = {                                                            \
        .name = "user " word,                                                                      \
        .synopsis = "--state DIR [--project DIR] NAME",                                            \
        .summary = summary_text,                                                                   \
        .details = details_text,                                                                   \
        .options = state_options,                                                                  \
        .option_count = OPT_PASSWORD_STDIN,                                                        \
        .min_args = 1,                                                                             \
        .max_args = 1,                                                                             \
        .run = fn,                                                                                 \
    }

STATE_COMMAND(bw_cli_user_disable_command, "disable", "disable an account (its sessions end)",
              "The account can no longer log in; when the daemon runs, its sessions end at\n"
              "once. Nothing else about it changes: `user enable` brings it back.",
              disable_run);
STATE_COMMAND(bw_cli_user_enable_command, "enable", "enable a disabled or locked account",
              "Also clears a lockout by failed logins.", enable_run);
STATE_COMMAND(bw_cli_user_remove_command, "remove", "remove an account (its sessions end)",
              "The account is deleted; its audit records stay.", remove_run);
STATE_COMMAND(bw_cli_user_unlock_command, "unlock", "clear a lockout by failed logins",
              "Clears the count of failed logins and a lockout, whether it would end by\n"
              "itself or waits for an administrator.",
              unlock_run);

const struct bw_cli_command bw_cli_user_passwd_command = {
    .name = "user passwd",
    .synopsis = "--state DIR [--project DIR] NAME [--password-stdin]",
    .summary = "set a new password for an account (to be changed at the next login)",
    .details = "An administrator's reset: the new password is asked twice on the terminal\n"
               "without echo, or read from the first line of standard input with\n"
               "--password-stdin. It must satisfy the password policy (and differ from the\n"
               "last ones kept); the user must change it at the next login, and the\n"
               "account's sessions end.",
    .options = state_options,
    .option_count = BW_ARRAY_LEN(state_options),
    .min_args = 1,
    .max_args = 1,
    .run = passwd_run,
};
