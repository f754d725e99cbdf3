/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark user list` and `bulwark user show NAME`: accounts as a table
 * or a block for people, or as JSON (--json). They read, and so change
 * nothing and record nothing; text that came from an account (a full
 * name) is escaped so it cannot drive the terminal. Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>
#include <string.h>

enum { OPT_STATE, OPT_PROJECT, OPT_JSON };

static const struct bw_cli_option show_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory (required)"},
    [OPT_PROJECT] = {"project", "DIR",
                     "name roles by this project's policy when no daemon runs (default: the "
                     "built-in defaults)"},
    [OPT_JSON] = {"json", NULL, "print JSON"},
};

static const char *str(const json_t *user, const char *key)
{
    const char *s = json_string_value(json_object_get(user, key));
    return s ? s : "";
}

static uint32_t areas_of(const json_t *user)
{
    return bw_cli_areas_from_json(json_object_get(user, "areas"));
}

/* "operator,viewer", or "-" for none. */
static void roles_text(const json_t *user, char *out, size_t size)
{
    size_t i, used = 0;
    const json_t *v;
    out[0] = '\0';
    json_array_foreach(json_object_get(user, "roles"), i, v)
    {
        const char *r = json_string_value(v);
        size_t n = r ? strlen(r) : 0;
        if (used + n + 2 >= size)
            break;
        if (used)
            out[used++] = ',';
        memcpy(out + used, r, n);
        used += n;
        out[used] = '\0';
    }
    if (used == 0)
        bw_strlcpy(out, "-", size);
}

/* "2026-12-03 19:09" from RFC 3339 text; "never" for null. */
static void when_text(const json_t *user, const char *key, char *out, size_t size)
{
    const char *t = json_string_value(json_object_get(user, key));
    if (!t || strlen(t) < 16) {
        bw_strlcpy(out, "never", size);
        return;
    }
    if (bw_snprintf(out, size, "%.10s %.5s", t, t + 11))
        bw_strlcpy(out, t, size);
}

static int list_table(const json_t *users)
{
    static const char *const head[] = {"NAME",  "TYPE",  "STATE", "LEVEL",
                                       "AREAS", "ROLES", "MFA",   "LAST LOGIN"};
    struct bw_cli_table t;
    bw_cli_table_init(&t, BW_ARRAY_LEN(head), head);
    size_t i;
    const json_t *u;
    int rc = BW_OK;
    json_array_foreach(users, i, u)
    {
        char level[16], areas[128], roles[512], last[32];
        if (bw_snprintf(level, sizeof(level), "%lld",
                        (long long)json_integer_value(json_object_get(u, "level"))))
            level[0] = '\0';
        bw_cli_areas_format(areas_of(u), areas, sizeof(areas));
        roles_text(u, roles, sizeof(roles));
        when_text(u, "last_login", last, sizeof(last));
        const char *row[] = {str(u, "name"),
                             str(u, "type"),
                             str(u, "state"),
                             level,
                             areas,
                             roles,
                             json_is_true(json_object_get(u, "mfa")) ? "yes" : "no",
                             last};
        rc = bw_cli_table_add(&t, row);
        if (rc)
            break;
    }
    if (rc == BW_OK) {
        if (json_array_size(users) == 0)
            printf("no accounts\n");
        else
            bw_cli_table_print(&t, stdout);
    } else {
        bw_cli_errorf("out of memory");
    }
    bw_cli_table_clear(&t);
    return rc ? BW_CLI_EXIT_FAIL : BW_CLI_EXIT_OK;
}

/* Every page of accounts, in name order, into one list. */
static json_t *list_all(struct bw_cli_user_session *s)
{
    json_t *all = json_array();
    char after[BW_SECURITY_USER_MAX + 1] = "";
    while (all) {
        json_t *args = after[0] ? json_pack("{s:s}", "after", after) : json_object();
        json_t *reply = args ? bw_cli_user_session_call(s, BW_CLI_USER_LIST, args) : NULL;
        json_decref(args);
        if (reply && !json_is_true(json_object_get(reply, "ok")))
            bw_cli_user_print_refusal(reply, "user list");
        if (!reply || !json_is_true(json_object_get(reply, "ok")) ||
            json_array_extend(all, json_object_get(reply, "users")) != 0) {
            json_decref(reply);
            json_decref(all);
            return NULL;
        }
        const char *next = json_string_value(json_object_get(reply, "next"));
        bool more = next && bw_strlcpy(after, next, sizeof(after)) < sizeof(after);
        json_decref(reply);
        if (!more)
            return all;
    }
    return NULL;
}

static int list_run(const struct bw_cli_args *a)
{
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(&bw_cli_user_list_command, "--state DIR is required");
    struct bw_cli_user_session *s = NULL;
    if (bw_cli_user_session_open(a->values[OPT_STATE], a->values[OPT_PROJECT], false, &s))
        return BW_CLI_EXIT_FAIL;
    json_t *users = list_all(s);
    bw_cli_user_session_close(s);
    if (!users)
        return BW_CLI_EXIT_FAIL;
    int status;
    if (a->values[OPT_JSON]) {
        json_t *out = json_pack("{s:o}", "users", users);
        status = out ? bw_cli_print_json(out) : BW_CLI_EXIT_FAIL;
        json_decref(out);
    } else {
        status = list_table(users);
        json_decref(users);
    }
    return status;
}

static void line(const char *label, const char *value)
{
    printf("%-18s ", label);
    bw_cli_print_safe(stdout, value, strlen(value));
    putchar('\n');
}

static void print_user(const json_t *u)
{
    char text[512];
    line("name:", str(u, "name"));
    line("full name:", str(u, "full_name"));
    line("type:", str(u, "type"));
    line("state:", str(u, "state"));
    if (bw_snprintf(text, sizeof(text), "%lld",
                    (long long)json_integer_value(json_object_get(u, "level"))) == BW_OK)
        line("level:", text);
    bw_cli_areas_format(areas_of(u), text, sizeof(text));
    line("areas:", text);
    roles_text(u, text, sizeof(text));
    line("roles:", strcmp(text, "-") == 0 ? "none" : text);
    line("second factor:", json_is_true(json_object_get(u, "mfa")) ? "enrolled" : "none");
    when_text(u, "password_changed", text, sizeof(text));
    line("password set:", text);
    if (json_is_true(json_object_get(u, "must_change_password")))
        line("", "(must be changed at the next login)");
    when_text(u, "created", text, sizeof(text));
    line("created:", text);
    when_text(u, "last_login", text, sizeof(text));
    line("last login:", text);
    when_text(u, "expires", text, sizeof(text));
    line("expires:", text);
    if (bw_snprintf(text, sizeof(text), "%lld",
                    (long long)json_integer_value(json_object_get(u, "failed_logins"))) == BW_OK)
        line("failed logins:", text);
    if (strcmp(str(u, "state"), "locked") == 0) {
        bool until_admin = json_is_null(json_object_get(u, "locked_until"));
        when_text(u, "locked_until", text, sizeof(text));
        line("locked until:", until_admin ? "an administrator unlocks it" : text);
    }
}

static int show_run(const struct bw_cli_args *a)
{
    if (!a->values[OPT_STATE])
        return bw_cli_usage_error(&bw_cli_user_show_command, "--state DIR is required");
    int bad_name = bw_cli_user_text_check(&bw_cli_user_show_command, "NAME", a->args[0]);
    if (bad_name)
        return bad_name;
    char what[160];
    if (bw_snprintf(what, sizeof(what), "user show %s", a->args[0]))
        bw_strlcpy(what, "user show", sizeof(what));
    json_t *reply = bw_cli_user_do(a->values[OPT_STATE], a->values[OPT_PROJECT], BW_CLI_USER_SHOW,
                                   json_pack("{s:s}", "name", a->args[0]), what);
    if (!reply)
        return BW_CLI_EXIT_FAIL;
    int status = BW_CLI_EXIT_OK;
    if (a->values[OPT_JSON])
        status = bw_cli_print_json(json_object_get(reply, "user"));
    else
        print_user(json_object_get(reply, "user"));
    json_decref(reply);
    return status;
}

const struct bw_cli_command bw_cli_user_list_command = {
    .name = "user list",
    .synopsis = "--state DIR [--project DIR] [--json]",
    .summary = "list the accounts",
    .details = "One line per account: name, type, state, level, areas, roles, whether a second\n"
               "factor is enrolled, and the last login (UTC). --json prints\n"
               "{\"users\":[...]} with every field `user show --json` has.",
    .options = show_options,
    .option_count = BW_ARRAY_LEN(show_options),
    .min_args = 0,
    .max_args = 0,
    .run = list_run,
};

const struct bw_cli_command bw_cli_user_show_command = {
    .name = "user show",
    .synopsis = "--state DIR [--project DIR] NAME [--json]",
    .summary = "show one account",
    .options = show_options,
    .option_count = BW_ARRAY_LEN(show_options),
    .min_args = 1,
    .max_args = 1,
    .run = show_run,
};
