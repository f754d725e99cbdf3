/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark user setup NAME`: creates the first security administrator
 * with the one-time setup secret that `bulwark serve` printed, or wrote
 * to STATE/setup-secret, at its start (no account could manage accounts
 * then). The secret lives only
 * in the running daemon, so this command always goes through it. The
 * secret and the new password are typed on the terminal without echo,
 * or are the first two lines of standard input with --password-stdin.
 * Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>

enum { OPT_STATE, OPT_PASSWORD_STDIN };

static const struct bw_cli_option setup_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory of the running daemon (required)"},
    [OPT_PASSWORD_STDIN] = {"password-stdin", NULL,
                            "read the setup secret and then the password from the first two "
                            "lines of standard input"},
};

/* The secret as printed is upper-case base32; what a person types may
 * be lower-case or spaced: both are made right here. */
static void secret_normalise(struct bw_cli_secret *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++) {
        char c = s->data[i];
        if (c == ' ' || c == '-')
            continue;
        s->data[n++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    for (size_t i = n; i < s->len; i++)
        s->data[i] = '\0';
    s->len = n;
}

static int secret_read(bool from_stdin, struct bw_cli_secret *s)
{
    int rc = from_stdin ? bw_cli_secret_read_stdin(s)
                        : bw_cli_secret_read_tty("One-time setup secret: ", false, s);
    if (rc == BW_OK) {
        secret_normalise(s);
        if (s->len == 0)
            rc = BW_ESTATE;
    }
    if (rc == BW_ENOTFOUND)
        bw_cli_errorf("no terminal to ask for the setup secret on; give it and the password with "
                      "--password-stdin");
    else if (rc == BW_ESTATE)
        bw_cli_errorf("no setup secret given");
    else if (rc)
        bw_cli_errorf("cannot read the setup secret");
    return rc;
}

static int setup_run(const struct bw_cli_args *a)
{
    const char *name = a->args[0];
    const char *state = a->values[OPT_STATE];
    if (!state)
        return bw_cli_usage_error(&bw_cli_user_setup_command, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(&bw_cli_user_setup_command, "NAME", name);
    if (bad_name)
        return bad_name;
    bool from_stdin = a->values[OPT_PASSWORD_STDIN] != NULL;
    struct bw_cli_user_session *s = NULL;
    if (bw_cli_user_session_open(state, NULL, true, &s))
        return BW_CLI_EXIT_FAIL;
    struct bw_cli_secret secret = {.len = 0}, password = {.len = 0};
    json_t *args = json_pack("{s:s}", "name", name);
    int rc = args ? secret_read(from_stdin, &secret) : BW_ENOMEM;
    if (!rc)
        rc = bw_cli_password_read(from_stdin, name, &password);
    if (!rc)
        rc = bw_cli_user_args_set_password(args, "secret", &secret);
    if (!rc)
        rc = bw_cli_user_args_set_password(args, "password", &password);
    bw_cli_secret_clear(&secret);
    bw_cli_secret_clear(&password);
    json_t *reply = rc ? NULL : bw_cli_user_session_call(s, BW_CLI_USER_SETUP, args);
    bw_cli_user_session_close(s);
    bw_cli_user_args_wipe(args);
    json_decref(args);
    if (rc == BW_ENOMEM)
        bw_cli_errorf("out of memory");
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    int status = BW_CLI_EXIT_OK;
    if (json_is_true(json_object_get(reply, "ok"))) {
        printf("security administrator %s created (role security-admin); the setup secret is "
               "now void\n",
               name);
    } else {
        char what[160];
        if (bw_snprintf(what, sizeof(what), "user setup %s", name))
            bw_strlcpy(what, "user setup", sizeof(what));
        bw_cli_user_print_refusal(reply, what);
        status = BW_CLI_EXIT_FAIL;
    }
    json_decref(reply);
    return status;
}

const struct bw_cli_command bw_cli_user_setup_command = {
    .name = "user setup",
    .synopsis = "--state DIR NAME [--password-stdin]",
    .summary = "create the first security administrator with the one-time setup secret",
    .details = "While no account may manage accounts, `bulwark serve` prints a one-time setup\n"
               "secret, valid for one hour, at its start (when its standard output is not a\n"
               "terminal, it writes the secret to STATE/setup-secret, mode 0600, instead).\n"
               "This command asks for it and for the new administrator's password (twice),\n"
               "on the terminal without echo, or reads them from the first two lines of\n"
               "standard input with --password-stdin, and has the running daemon create NAME\n"
               "with the role security-admin. The secret is void once used; a wrong one is\n"
               "recorded, and a few wrong ones void it; a try that fails for another reason\n"
               "(a taken name, the password policy) leaves it good.",
    .options = setup_options,
    .option_count = BW_ARRAY_LEN(setup_options),
    .min_args = 1,
    .max_args = 1,
    .run = setup_run,
};
