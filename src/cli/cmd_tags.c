/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark tags`: with a project directory, the tag definitions as the
 * project declares them (type, unit, range, device/address, writable);
 * with --state, the live values of the running daemon (value, quality
 * and reason, server time) through the control socket. Both as an
 * aligned table, or JSON with --json. Main thread.
 */
#include "cli/internal.h"
#include "project/project.h"

#include <stdio.h>
#include <string.h>

enum { OPT_STATE, OPT_PREFIX, OPT_JSON };

static const struct bw_cli_option tags_options[] = {
    [OPT_STATE] = {"state", "DIR", "show live values from the daemon running on DIR"},
    [OPT_PREFIX] = {"prefix", "P", "only tags whose name starts with P"},
    [OPT_JSON] = {"json", NULL, "print JSON instead of a table"},
};

static void range_text(const struct bw_project_tag *t, char *out, size_t size)
{
    int rc;
    if (t->has_min && t->has_max)
        rc = bw_snprintf(out, size, "%g .. %g", t->min, t->max);
    else if (t->has_min)
        rc = bw_snprintf(out, size, ">= %g", t->min);
    else if (t->has_max)
        rc = bw_snprintf(out, size, "<= %g", t->max);
    else
        rc = bw_snprintf(out, size, "-");
    if (rc)
        bw_strlcpy(out, "?", size);
}

static void source_text(const struct bw_project *p, const struct bw_project_tag *t, char *out,
                        size_t size)
{
    if (t->device == SIZE_MAX || t->device >= p->device_count || !t->address) {
        bw_strlcpy(out, "memory", size);
        return;
    }
    if (bw_snprintf(out, size, "%s/%s", p->devices[t->device].name, t->address) != BW_OK)
        bw_strlcpy(out, p->devices[t->device].name, size);
}

static bool has_prefix(const char *name, const char *prefix)
{
    return !prefix || strncmp(name, prefix, strlen(prefix)) == 0;
}

static int print_definitions_json(const struct bw_project *p, const char *prefix)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (!has_prefix(t->name, prefix))
            continue;
        char source[512];
        source_text(p, t, source, sizeof(source));
        json_t *one = json_pack("{s:s, s:s, s:s*, s:o*, s:o*, s:s, s:b}", "name", t->name, "type",
                                bw_type_name(t->type), "unit", t->unit, "min",
                                t->has_min ? json_real(t->min) : NULL, "max",
                                t->has_max ? json_real(t->max) : NULL, "source", source, "writable",
                                t->access.writable);
        if (!one || json_array_append_new(list, one) != 0) {
            json_decref(list);
            list = NULL;
        }
    }
    if (!list || json_dumpf(list, stdout, JSON_INDENT(2)) != 0) {
        json_decref(list);
        bw_cli_errorf("out of memory");
        return BW_CLI_EXIT_FAIL;
    }
    putchar('\n');
    json_decref(list);
    return BW_CLI_EXIT_OK;
}

static int print_definitions(const struct bw_project *p, const char *prefix, bool as_json)
{
    if (as_json)
        return print_definitions_json(p, prefix);
    static const char *const head[] = {"NAME", "TYPE", "UNIT", "RANGE", "SOURCE", "WRITABLE"};
    struct bw_cli_table table;
    bw_cli_table_init(&table, BW_ARRAY_LEN(head), head);
    int rc = BW_OK;
    for (size_t i = 0; !rc && i < p->tag_count; i++) {
        const struct bw_project_tag *t = &p->tags[i];
        if (!has_prefix(t->name, prefix))
            continue;
        char range[96], source[512];
        range_text(t, range, sizeof(range));
        source_text(p, t, source, sizeof(source));
        const char *row[] = {t->name,
                             bw_type_name(t->type),
                             t->unit ? t->unit : "-",
                             range,
                             source,
                             t->access.writable ? "yes" : "no"};
        rc = bw_cli_table_add(&table, row);
    }
    if (!rc)
        bw_cli_table_print(&table, stdout);
    bw_cli_table_clear(&table);
    if (rc)
        bw_cli_errorf("out of memory");
    return rc ? BW_CLI_EXIT_FAIL : BW_CLI_EXIT_OK;
}

static int definitions_run(const char *dir, const char *prefix, bool as_json)
{
    struct bw_project *project = NULL;
    struct bw_project_errors errors = {0};
    int rc = bw_project_load(dir, &project, &errors);
    bw_project_errors_clear(&errors);
    if (rc) {
        bw_cli_errorf("project %s is not valid; run 'bulwark project validate %s'", dir, dir);
        return BW_CLI_EXIT_FAIL;
    }
    int status = print_definitions(project, prefix, as_json);
    bw_project_free(project);
    return status;
}

/* One live value as people read it. */
static void value_text(const json_t *v, char *out, size_t size)
{
    int rc = BW_OK;
    if (json_is_null(v) || !v)
        rc = bw_snprintf(out, size, "-");
    else if (json_is_boolean(v))
        rc = bw_snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_integer(v))
        rc = bw_snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        rc = bw_snprintf(out, size, "%.7g", json_real_value(v));
    else if (json_is_string(v))
        rc = bw_snprintf(out, size, "\"%s\"", json_string_value(v));
    if (rc)
        bw_strlcpy(out, "...", size);
}

static int print_live(const json_t *tags)
{
    static const char *const head[] = {"NAME", "VALUE", "QUALITY", "SERVER TIME (UTC)"};
    struct bw_cli_table table;
    bw_cli_table_init(&table, BW_ARRAY_LEN(head), head);
    int rc = BW_OK;
    size_t i;
    const json_t *tag;
    json_array_foreach(tags, i, tag)
    {
        const char *name = "?", *quality = "?", *reason = "?", *ts = "-";
        const json_t *value = NULL;
        if (json_unpack((json_t *)tag, "{s:s, s?o, s:s, s:s, s?s}", "name", &name, "value", &value,
                        "quality", &quality, "reason", &reason, "server_ts", &ts) != 0)
            continue;
        char vtext[300], qtext[96];
        value_text(value, vtext, sizeof(vtext));
        if (strcmp(quality, "good") == 0 ||
            bw_snprintf(qtext, sizeof(qtext), "%s (%s)", quality, reason) != BW_OK)
            bw_strlcpy(qtext, quality, sizeof(qtext));
        const char *row[] = {name, vtext, qtext, ts};
        rc = bw_cli_table_add(&table, row);
        if (rc)
            break;
    }
    if (!rc)
        bw_cli_table_print(&table, stdout);
    bw_cli_table_clear(&table);
    if (rc)
        bw_cli_errorf("out of memory");
    return rc ? BW_CLI_EXIT_FAIL : BW_CLI_EXIT_OK;
}

static int live_run(const char *state, const char *prefix, bool as_json)
{
    json_t *request = json_pack("{s:s, s:s}", "op", "tags", "prefix", prefix ? prefix : "");
    json_t *reply = NULL;
    int rc = request ? bw_cli_control_call(state, request, &reply) : BW_ENOMEM;
    json_decref(request);
    if (rc)
        return BW_CLI_EXIT_FAIL;
    int status = BW_CLI_EXIT_FAIL;
    const json_t *tags = json_object_get(reply, "tags");
    if (!json_is_true(json_object_get(reply, "ok"))) {
        bw_cli_control_print_error(reply, "cannot list tags");
    } else if (!json_is_array(tags)) {
        bw_cli_errorf("the daemon's reply is not understood");
    } else if (as_json) {
        status = json_dumpf(tags, stdout, JSON_INDENT(2)) == 0 ? BW_CLI_EXIT_OK : BW_CLI_EXIT_FAIL;
        putchar('\n');
    } else {
        status = print_live(tags);
    }
    json_decref(reply);
    return status;
}

static int tags_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = &bw_cli_tags_command;
    const char *state = args->values[OPT_STATE];
    const char *prefix = args->values[OPT_PREFIX];
    bool as_json = args->values[OPT_JSON] != NULL;
    if (prefix && !bw_cli_name_valid(prefix, strlen(prefix)))
        return bw_cli_usage_error(cmd, "--prefix must be the beginning of a tag name");
    if (state && args->arg_count > 0)
        return bw_cli_usage_error(cmd, "give a project directory or --state DIR, not both");
    if (state)
        return live_run(state, prefix, as_json);
    if (args->arg_count == 0)
        return bw_cli_usage_error(cmd, "give a project directory, or --state DIR for live values");
    return definitions_run(args->args[0], prefix, as_json);
}

const struct bw_cli_command bw_cli_tags_command = {
    .name = "tags",
    .synopsis = "PROJECT_DIR | --state DIR [--prefix P] [--json]",
    .summary = "list tag definitions of a project, or live values from the daemon",
    .details = "With PROJECT_DIR: every tag the project defines (type, unit, range,\n"
               "device/address, writable). With --state DIR: the live value, quality (and its\n"
               "reason when not good) and server timestamp of each tag, from the daemon\n"
               "running on that state directory.",
    .options = tags_options,
    .option_count = BW_ARRAY_LEN(tags_options),
    .min_args = 0,
    .max_args = 1,
    .run = tags_run,
};
