/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark user mfa enrol|confirm|remove NAME`: the second factor
 * (TOTP). Enrolment makes a new key and prints it as an otpauth:// URI
 * and as a QR code for the user's authenticator app, then asks for a
 * code from the app (on the terminal, or the first line of standard
 * input with --code-stdin) to confirm it; without a code the enrolment
 * waits for `user mfa confirm`, and does not count until then. The key
 * is printed once and wiped from memory after. Main thread.
 */
#include "cli/internal.h"
#include "cli/qr.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

enum { OPT_STATE, OPT_PROJECT, OPT_CODE_STDIN };

static const struct bw_cli_option mfa_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory (required)"},
    [OPT_PROJECT] = {"project", "DIR",
                     "apply this project's security policy when no daemon runs (default: the "
                     "built-in defaults)"},
    [OPT_CODE_STDIN] = {"code-stdin", NULL,
                        "read the code from the app from the first line of standard input"},
};

/* The code from the app: from standard input, or asked on the terminal
 * (shown as typed: it is good for one use only). An empty code, or no
 * terminal, leaves code->len 0. */
static int code_read(bool from_stdin, bool optional, struct bw_cli_secret *code)
{
    int rc = from_stdin ? bw_cli_secret_read_stdin(code)
                        : bw_cli_secret_read_tty(optional ? "Code from the app (Enter to confirm "
                                                            "later): "
                                                          : "Code from the app: ",
                                                 true, code);
    if (rc == BW_ENOTFOUND) {
        code->len = 0; /* no terminal */
        rc = BW_OK;
    }
    if (rc)
        bw_cli_errorf("cannot read the code");
    /* Codes are digits; spaces some apps show in the middle are dropped. */
    size_t n = 0;
    for (size_t i = 0; i < code->len; i++)
        if (code->data[i] != ' ')
            code->data[n++] = code->data[i];
    code->len = n;
    code->data[n] = '\0';
    for (size_t i = 0; rc == BW_OK && i < n; i++)
        if (code->data[i] < '0' || code->data[i] > '9') {
            bw_cli_errorf("the code from the app is digits only");
            rc = BW_EINVAL;
        }
    return rc;
}

static int confirm(const char *state, const char *project, const char *name,
                   const struct bw_cli_secret *code)
{
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user mfa confirm %s", name))
        bw_strlcpy(what, "user mfa confirm", sizeof(what));
    json_t *reply = bw_cli_user_do(
        state, project, BW_CLI_USER_MFA_CONFIRM,
        json_pack("{s:s, s:s#}", "name", name, "code", code->data, (int)code->len), what);
    if (!reply) {
        fprintf(stderr,
                "bulwark: try again with a new code: bulwark user mfa confirm --state %s "
                "%s\n",
                state, name);
        return BW_CLI_EXIT_FAIL;
    }
    json_decref(reply);
    printf("second factor of %s confirmed: it is asked for at login from now on\n", name);
    return BW_CLI_EXIT_OK;
}

/* Prints the key for the app, then wipes it from the reply. */
static int show_key(const char *name, json_t *reply)
{
    json_t *uri = json_object_get(reply, "uri");
    const char *text = json_string_value(uri);
    if (!text || strncmp(text, "otpauth://", 10) != 0) {
        bw_cli_errorf("the reply holds no key for the app");
        return BW_EMALFORMED;
    }
    printf("Second factor for %s: scan this QR code with an authenticator app\n"
           "(or enter the key of this URI by hand):\n\n",
           name);
    bw_cli_print_safe(stdout, text, strlen(text));
    printf("\n\n");
    int rc = bw_cli_qr_print(stdout, text);
    if (rc)
        bw_cli_errorf("the QR code cannot be drawn (%s); use the URI above", bw_strerror(rc));
    putchar('\n');
    fflush(stdout);
    bw_crypto_wipe((char *)text, json_string_length(uri));
    return BW_OK;
}

static int enrol_run(const struct bw_cli_args *a)
{
    const char *name = a->args[0];
    const char *state = a->values[OPT_STATE];
    if (!state)
        return bw_cli_usage_error(&bw_cli_user_mfa_enrol_command, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(&bw_cli_user_mfa_enrol_command, "NAME", name);
    if (bad_name)
        return bad_name;
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user mfa enrol %s", name))
        bw_strlcpy(what, "user mfa enrol", sizeof(what));
    json_t *reply = bw_cli_user_do(state, a->values[OPT_PROJECT], BW_CLI_USER_MFA_ENROL,
                                   json_pack("{s:s}", "name", name), what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    int rc = show_key(name, reply);
    json_decref(reply);
    if (rc)
        return BW_CLI_EXIT_FAIL;
    /* The lock is not held while the user reaches for the phone. */
    struct bw_cli_secret code = {.len = 0};
    if (code_read(a->values[OPT_CODE_STDIN] != NULL, true, &code) != BW_OK)
        return BW_CLI_EXIT_FAIL;
    int status;
    if (code.len == 0) {
        printf("not confirmed yet: the second factor counts once confirmed with a code from the "
               "app:\n  bulwark user mfa confirm --state %s %s\n",
               state, name);
        status = BW_CLI_EXIT_OK;
    } else {
        status = confirm(state, a->values[OPT_PROJECT], name, &code);
    }
    bw_cli_secret_clear(&code);
    return status;
}

static int confirm_run(const struct bw_cli_args *a)
{
    const char *state = a->values[OPT_STATE];
    if (!state)
        return bw_cli_usage_error(&bw_cli_user_mfa_confirm_command, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(&bw_cli_user_mfa_confirm_command, "NAME", a->args[0]);
    if (bad_name)
        return bad_name;
    struct bw_cli_secret code = {.len = 0};
    if (code_read(a->values[OPT_CODE_STDIN] != NULL, false, &code) != BW_OK)
        return BW_CLI_EXIT_FAIL;
    int status;
    if (code.len == 0) {
        bw_cli_errorf("no code given (type it on the terminal, or give it with --code-stdin)");
        status = BW_CLI_EXIT_FAIL;
    } else {
        status = confirm(state, a->values[OPT_PROJECT], a->args[0], &code);
    }
    bw_cli_secret_clear(&code);
    return status;
}

static int remove_run(const struct bw_cli_args *a)
{
    const char *name = a->args[0];
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(&bw_cli_user_mfa_remove_command, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(&bw_cli_user_mfa_remove_command, "NAME", name);
    if (bad_name)
        return bad_name;
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user mfa remove %s", name))
        bw_strlcpy(what, "user mfa remove", sizeof(what));
    json_t *reply = bw_cli_user_do(a->values[OPT_STATE], a->values[OPT_PROJECT],
                                   BW_CLI_USER_MFA_REMOVE, json_pack("{s:s}", "name", name), what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    json_decref(reply);
    printf("second factor of %s removed\n", name);
    return BW_CLI_EXIT_OK;
}

const struct bw_cli_command bw_cli_user_mfa_enrol_command = {
    .name = "user mfa enrol",
    .synopsis = "--state DIR [--project DIR] NAME [--code-stdin]",
    .summary = "make a new second-factor key for an account and confirm it",
    .details = "Prints the new key as an otpauth:// URI and as a QR code for an authenticator\n"
               "app (it replaces any key the account had), then asks for a code from the app\n"
               "to confirm it (or reads it from standard input with --code-stdin). Without a\n"
               "code the key waits, not yet counting, for `bulwark user mfa confirm`.",
    .options = mfa_options,
    .option_count = BW_ARRAY_LEN(mfa_options),
    .min_args = 1,
    .max_args = 1,
    .run = enrol_run,
};

const struct bw_cli_command bw_cli_user_mfa_confirm_command = {
    .name = "user mfa confirm",
    .synopsis = "--state DIR [--project DIR] NAME [--code-stdin]",
    .summary = "confirm an enrolment with a code from the app",
    .options = mfa_options,
    .option_count = BW_ARRAY_LEN(mfa_options),
    .min_args = 1,
    .max_args = 1,
    .run = confirm_run,
};

const struct bw_cli_command bw_cli_user_mfa_remove_command = {
    .name = "user mfa remove",
    .synopsis = "--state DIR [--project DIR] NAME",
    .summary = "remove an account's second factor",
    .options = mfa_options,
    .option_count = OPT_CODE_STDIN,
    .min_args = 1,
    .max_args = 1,
    .run = remove_run,
};

static const struct bw_cli_command *const mfa_subs[] = {
    &bw_cli_user_mfa_enrol_command,
    &bw_cli_user_mfa_confirm_command,
    &bw_cli_user_mfa_remove_command,
};

const struct bw_cli_command bw_cli_user_mfa_command = {
    .name = "user mfa",
    .synopsis = "COMMAND ...",
    .summary = "second factor (TOTP): enrol, confirm, remove",
    .subs = mfa_subs,
    .sub_count = BW_ARRAY_LEN(mfa_subs),
};
