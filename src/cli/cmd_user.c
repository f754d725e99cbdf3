/* SPDX-License-Identifier: Apache-2.0
 *
 * The `bulwark user` group, what its commands share (one action through
 * the session, a refusal printed), and `user add` and `user modify`,
 * whose options describe an account's fields. The other commands live
 * in cmd_user_show.c (list, show), cmd_user_state.c (disable, enable,
 * remove, unlock, passwd), cmd_user_mfa.c (mfa) and cmd_user_setup.c
 * (setup). Passwords are never options: they are typed on the terminal
 * or given on standard input. Main thread.
 */
#include "cli/internal.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

int bw_cli_user_text_check(const struct bw_cli_command *cmd, const char *what, const char *text)
{
    size_t len = strlen(text);
    if (!bw_utf8_valid(text, len))
        return bw_cli_usage_error(cmd, "%s is not valid UTF-8 text", what);
    if (strcmp(what, "--full-name") == 0 && !bw_security_full_name_valid(text, len))
        return bw_cli_usage_error(cmd, "--full-name must be at most 128 bytes of text without "
                                       "control characters");
    return 0;
}

void bw_cli_user_print_refusal(const json_t *reply, const char *what)
{
    bw_cli_control_print_error(reply, what);
}

int bw_cli_user_args_set_password(json_t *args, const char *key, const struct bw_cli_secret *s)
{
    if (!bw_utf8_valid(s->data, s->len)) {
        bw_cli_errorf("the %s is not valid UTF-8 text",
                      strcmp(key, "secret") == 0 ? "setup secret" : "password");
        return BW_EMALFORMED;
    }
    json_t *v = json_stringn(s->data, s->len);
    return v && json_object_set_new(args, key, v) == 0 ? BW_OK : BW_ENOMEM;
}

json_t *bw_cli_user_do(const char *state_dir, const char *project_dir,
                       enum bw_cli_user_action action, json_t *args_take, const char *what)
{
    if (!args_take) {
        bw_cli_errorf("out of memory");
        return NULL;
    }
    struct bw_cli_user_session *s = NULL;
    json_t *reply = NULL;
    if (bw_cli_user_session_open(state_dir, project_dir, false, &s) == BW_OK)
        reply = bw_cli_user_session_call(s, action, args_take);
    bw_cli_user_session_close(s);
    bw_cli_user_args_wipe(args_take);
    json_decref(args_take);
    if (reply && !json_is_true(json_object_get(reply, "ok"))) {
        bw_cli_user_print_refusal(reply, what);
        json_decref(reply);
        reply = NULL;
    }
    return reply;
}

/* The options of add and modify, in one order: modify takes the first
 * OPT_FIELDS_END of them. */
enum {
    OPT_STATE,
    OPT_PROJECT,
    OPT_FULL_NAME,
    OPT_TYPE,
    OPT_LEVEL,
    OPT_AREAS,
    OPT_ROLES,
    OPT_EXPIRES,
    OPT_FIELDS_END,
    OPT_PASSWORD_STDIN = OPT_FIELDS_END,
    OPT_NO_PASSWORD,
    OPT_COUNT
};

static const struct bw_cli_option field_options[OPT_COUNT] = {
    [OPT_STATE] = {"state", "DIR", "the state directory (required)"},
    [OPT_PROJECT] = {"project", "DIR",
                     "apply this project's security policy when no daemon runs (default: the "
                     "built-in defaults)"},
    [OPT_FULL_NAME] = {"full-name", "TEXT", "the person's or service's full name"},
    [OPT_TYPE] = {"type", "TYPE", "human (default) or service"},
    [OPT_LEVEL] = {"level", "N", "access level, 1..9999 (default 1)"},
    [OPT_AREAS] = {"areas", "LIST", "areas, e.g. 1,2,5 or 1-4 or all (default all)"},
    [OPT_ROLES] = {"roles", "LIST", "roles, e.g. operator,viewer, or none (default none)"},
    [OPT_EXPIRES] = {"expires", "DATE",
                     "YYYY-MM-DD: the account stops at 00:00 UTC that day; "
                     "never: no end (default never)"},
    [OPT_PASSWORD_STDIN] = {"password-stdin", NULL,
                            "read the password from the first line of standard input"},
    [OPT_NO_PASSWORD] = {"no-password", NULL, "no password (service accounts only)"},
};

static int set_new(json_t *obj, const char *key, json_t *value)
{
    return value && json_object_set_new(obj, key, value) == 0 ? BW_OK : BW_ENOMEM;
}

/* "operator,viewer" as a list of names; "none" as the empty list. */
static json_t *roles_list(const char *text)
{
    json_t *list = json_array();
    if (!list || strcmp(text, "none") == 0)
        return list;
    for (const char *p = text;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || json_array_append_new(list, json_stringn(p, len)) != 0) {
            json_decref(list);
            return NULL;
        }
        if (!comma)
            return list;
        p = comma + 1;
    }
}

static json_t *areas_list(uint32_t areas)
{
    json_t *list = json_array();
    for (unsigned n = 1; list && n <= 31; n++)
        if ((areas & (1u << n)) && json_array_append_new(list, json_integer(n)) != 0) {
            json_decref(list);
            return NULL;
        }
    return list;
}

/* Records a usage error's exit status for the caller. */
static int usage_fail(int *usage, int status)
{
    *usage = status;
    return BW_EINVAL;
}

/* Puts the field options given into args. A value that cannot be
 * right is a usage error (exit 2), said here; BW_ENOMEM otherwise. */
static int fields_from_options(const struct bw_cli_command *cmd, const struct bw_cli_args *a,
                               json_t *args, int *usage)
{
    const char *const *v = a->values;
    *usage = 0;
    int rc = BW_OK;
    if (v[OPT_FULL_NAME]) {
        int status = bw_cli_user_text_check(cmd, "--full-name", v[OPT_FULL_NAME]);
        if (status)
            return usage_fail(usage, status);
        rc = set_new(args, "full_name", json_string(v[OPT_FULL_NAME]));
    }
    if (!rc && v[OPT_TYPE]) {
        if (strcmp(v[OPT_TYPE], "human") != 0 && strcmp(v[OPT_TYPE], "service") != 0)
            return usage_fail(usage, bw_cli_usage_error(cmd, "--type must be human or service"));
        rc = set_new(args, "type", json_string(v[OPT_TYPE]));
    }
    uint64_t level;
    if (!rc && v[OPT_LEVEL]) {
        if (bw_parse_u64(v[OPT_LEVEL], strlen(v[OPT_LEVEL]), 9999, &level) || level < 1)
            return usage_fail(usage,
                              bw_cli_usage_error(cmd, "--level must be a whole number from 1 to "
                                                      "9999"));
        rc = set_new(args, "level", json_integer((json_int_t)level));
    }
    uint32_t areas;
    if (!rc && v[OPT_AREAS]) {
        if (bw_cli_areas_parse(v[OPT_AREAS], &areas) != BW_OK)
            return usage_fail(usage,
                              bw_cli_usage_error(cmd, "--areas must be all, or area numbers 1..31 "
                                                      "and ranges, e.g. 1,2,5 or 1-4"));
        rc = set_new(args, "areas", areas_list(areas));
    }
    if (!rc && v[OPT_ROLES]) {
        json_t *roles = roles_list(v[OPT_ROLES]);
        if (!roles)
            return usage_fail(usage,
                              bw_cli_usage_error(cmd, "--roles must be role names separated by "
                                                      "commas, or none"));
        rc = set_new(args, "roles", roles);
    }
    int64_t expires;
    if (!rc && v[OPT_EXPIRES]) {
        if (strcmp(v[OPT_EXPIRES], "never") == 0)
            rc = set_new(args, "expires", json_null());
        else if (bw_cli_date_parse(v[OPT_EXPIRES], strlen(v[OPT_EXPIRES]), &expires) != BW_OK)
            return usage_fail(usage,
                              bw_cli_usage_error(cmd, "--expires must be a date YYYY-MM-DD or "
                                                      "never"));
        else
            rc = set_new(args, "expires", json_string(v[OPT_EXPIRES]));
    }
    return rc;
}

/* "alice (human, level 1, areas all, roles operator, viewer)" */
static void print_summary(const char *verb, const json_t *user)
{
    char areas_text[128] = "";
    size_t i;
    const json_t *v;
    bw_cli_areas_format(bw_cli_areas_from_json(json_object_get(user, "areas")), areas_text,
                        sizeof(areas_text));
    printf("%s account ", verb);
    const char *name = json_string_value(json_object_get(user, "name"));
    bw_cli_print_safe(stdout, name ? name : "?", name ? strlen(name) : 1);
    const char *type = json_string_value(json_object_get(user, "type"));
    printf(" (%s, level %lld, areas %s, roles ", type ? type : "?",
           (long long)json_integer_value(json_object_get(user, "level")), areas_text);
    const json_t *roles = json_object_get(user, "roles");
    if (json_array_size(roles) == 0)
        printf("none");
    json_array_foreach(roles, i, v)
    {
        const char *r = json_string_value(v);
        printf("%s", i ? ", " : "");
        bw_cli_print_safe(stdout, r ? r : "?", r ? strlen(r) : 1);
    }
    printf(")\n");
    if (json_is_true(json_object_get(user, "must_change_password")))
        printf("the password must be changed at the first login\n");
}

static int add_run(const struct bw_cli_args *a)
{
    const struct bw_cli_command *cmd = &bw_cli_user_add_command;
    const char *name = a->args[0];
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(cmd, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(cmd, "NAME", name);
    if (bad_name)
        return bad_name;
    bool no_password = a->values[OPT_NO_PASSWORD] != NULL;
    if (no_password && a->values[OPT_PASSWORD_STDIN])
        return bw_cli_usage_error(cmd, "--no-password and --password-stdin exclude each other");
    if (no_password && (!a->values[OPT_TYPE] || strcmp(a->values[OPT_TYPE], "service") != 0))
        return bw_cli_usage_error(cmd, "--no-password is for service accounts (--type service)");
    json_t *args = json_pack("{s:s}", "name", name);
    int usage = 0;
    int rc = args ? fields_from_options(cmd, a, args, &usage) : BW_ENOMEM;
    struct bw_cli_secret password = {.len = 0};
    if (!rc && no_password)
        rc = set_new(args, "no_password", json_true());
    else if (!rc)
        rc = bw_cli_password_read(a->values[OPT_PASSWORD_STDIN] != NULL, name, &password);
    if (!rc && !no_password)
        rc = bw_cli_user_args_set_password(args, "password", &password);
    bw_cli_secret_clear(&password);
    if (rc) {
        bw_cli_user_args_wipe(args);
        json_decref(args);
        if (rc == BW_ENOMEM)
            bw_cli_errorf("out of memory");
        return usage ? usage : BW_CLI_EXIT_FAIL;
    }
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user add %s", name))
        bw_strlcpy(what, "user add", sizeof(what));
    json_t *reply =
        bw_cli_user_do(a->values[OPT_STATE], a->values[OPT_PROJECT], BW_CLI_USER_ADD, args, what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    print_summary("added", json_object_get(reply, "user"));
    json_decref(reply);
    return BW_CLI_EXIT_OK;
}

static int modify_run(const struct bw_cli_args *a)
{
    const struct bw_cli_command *cmd = &bw_cli_user_modify_command;
    const char *name = a->args[0];
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(cmd, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(cmd, "NAME", name);
    if (bad_name)
        return bad_name;
    json_t *args = json_pack("{s:s}", "name", name);
    int usage = 0;
    int rc = args ? fields_from_options(cmd, a, args, &usage) : BW_ENOMEM;
    if (!rc && json_object_size(args) == 1) {
        json_decref(args);
        return bw_cli_usage_error(cmd, "nothing to change: give at least one of --full-name, "
                                       "--type, --level, --areas, --roles, --expires");
    }
    if (rc) {
        json_decref(args);
        if (!usage)
            bw_cli_errorf("out of memory");
        return usage ? usage : BW_CLI_EXIT_FAIL;
    }
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user modify %s", name))
        bw_strlcpy(what, "user modify", sizeof(what));
    json_t *reply = bw_cli_user_do(a->values[OPT_STATE], a->values[OPT_PROJECT], BW_CLI_USER_MODIFY,
                                   args, what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    print_summary("modified", json_object_get(reply, "user"));
    json_decref(reply);
    return BW_CLI_EXIT_OK;
}

const struct bw_cli_command bw_cli_user_add_command = {
    .name = "user add",
    .synopsis = "--state DIR [--project DIR] NAME [--full-name TEXT] [--type human|service] "
                "[--level N] [--areas LIST] [--roles LIST] [--expires DATE] "
                "[--password-stdin | --no-password]",
    .summary = "add an account",
    .details = "Adds the account NAME (1..64 letters, digits and . _ - @). Its password is\n"
               "asked twice on the terminal without echo, or read from the first line of\n"
               "standard input with --password-stdin; it must satisfy the project's password\n"
               "policy, and is to be changed at the first login. Only a service account may\n"
               "have none (--no-password). The record names the operating-system user.",
    .options = field_options,
    .option_count = OPT_COUNT,
    .min_args = 1,
    .max_args = 1,
    .run = add_run,
};

const struct bw_cli_command bw_cli_user_modify_command = {
    .name = "user modify",
    .synopsis = "--state DIR [--project DIR] NAME [--full-name TEXT] [--type human|service] "
                "[--level N] [--areas LIST] [--roles LIST] [--expires DATE|never]",
    .summary = "change an account's name, type, level, areas, roles or expiry",
    .details = "Changes only the fields given. A change that lets the account do less (a\n"
               "lower level, fewer areas or permissions, an expiry) ends its sessions at once\n"
               "when the daemon runs.",
    .options = field_options,
    .option_count = OPT_FIELDS_END,
    .min_args = 1,
    .max_args = 1,
    .run = modify_run,
};

static const struct bw_cli_command *const user_subs[] = {
    &bw_cli_user_add_command,    &bw_cli_user_list_command,    &bw_cli_user_show_command,
    &bw_cli_user_modify_command, &bw_cli_user_disable_command, &bw_cli_user_enable_command,
    &bw_cli_user_remove_command, &bw_cli_user_unlock_command,  &bw_cli_user_passwd_command,
    &bw_cli_user_mfa_command,    &bw_cli_user_setup_command,
};

const struct bw_cli_command bw_cli_user_command = {
    .name = "user",
    .synopsis = "COMMAND ...",
    .summary = "manage accounts: add, list, show, modify, disable, enable, remove, unlock, "
               "passwd, mfa, setup",
    .details = "Every command takes --state DIR. When a daemon runs on DIR, the command goes\n"
               "through it (its project's policy applies, and a disabled user's sessions end\n"
               "at once); otherwise it works on DIR itself, with the policy of --project DIR\n"
               "or the defaults. Every change is on the audit trail, naming the\n"
               "operating-system user who made it.",
    .subs = user_subs,
    .sub_count = BW_ARRAY_LEN(user_subs),
};
