/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark status --state DIR`: what the running daemon reports about
 * itself: version, pid, uptime, tag counts by quality, engine statistics
 * and the state of each device's driver. Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>

enum { OPT_STATE, OPT_JSON };

static const struct bw_cli_option status_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory of the running daemon (required)"},
    [OPT_JSON] = {"json", NULL, "print the daemon's JSON reply"},
};

static long long num(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

static const char *str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "?";
}

static void print_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        bw_cli_print_safe(stdout, json_string_value(v), json_string_length(v));
    else
        fputc('?', stdout);
}

static int print_devices(const json_t *devices)
{
    static const char *const head[] = {"DEVICE",  "DRIVER", "STATE",     "CYCLES",
                                       "UPDATES", "WRITES", "QUEUE FULL"};
    struct bw_cli_table table;
    bw_cli_table_init(&table, BW_ARRAY_LEN(head), head);
    size_t i;
    const json_t *d;
    int rc = BW_OK;
    json_array_foreach(devices, i, d)
    {
        char cycles[24], updates[24], writes[24], full[24];
        if (bw_snprintf(cycles, sizeof(cycles), "%lld", num(d, "cycles")) ||
            bw_snprintf(updates, sizeof(updates), "%lld", num(d, "updates")) ||
            bw_snprintf(writes, sizeof(writes), "%lld", num(d, "writes")) ||
            bw_snprintf(full, sizeof(full), "%lld", num(d, "queue_full")))
            continue; /* 24 bytes hold any 64-bit number */
        const char *row[] = {
            str(d, "name"), str(d, "driver"), str(d, "state"), cycles, updates, writes, full};
        rc = bw_cli_table_add(&table, row);
        if (rc)
            break;
    }
    if (!rc)
        bw_cli_table_print(&table, stdout);
    bw_cli_table_clear(&table);
    return rc;
}

static int print_status(const json_t *r)
{
    const json_t *tags = json_object_get(r, "tags");
    const json_t *eng = json_object_get(r, "engine");
    char up[48];
    bw_cli_duration_format((uint64_t)num(r, "uptime_s"), up, sizeof(up));
    /* The daemon's strings are escaped like any other text from it. */
    fputs("bulwark ", stdout);
    print_str(r, "version");
    printf(", pid %lld, up %s (since ", num(r, "pid"), up);
    print_str(r, "started");
    fputs(")\nproject  ", stdout);
    print_str(r, "project");
    putchar('\n');
    printf("tags     %lld: %lld good, %lld uncertain, %lld bad\n", num(tags, "total"),
           num(tags, "good"), num(tags, "uncertain"), num(tags, "bad"));
    printf("engine   %lld updates applied, %lld rejected, %lld queue full (capacity %lld);\n"
           "         %lld changes published to %lld subscribers, %lld lost by subscribers\n",
           num(eng, "updates_applied"), num(eng, "updates_rejected"), num(eng, "queue_full"),
           num(eng, "queue_capacity"), num(eng, "changes_published"), num(eng, "subscribers"),
           num(eng, "subscriber_lost"));
    printf("\n");
    if (print_devices(json_object_get(r, "devices")) != BW_OK) {
        bw_cli_errorf("out of memory");
        return BW_CLI_EXIT_FAIL;
    }
    return BW_CLI_EXIT_OK;
}

static int status_run(const struct bw_cli_args *args)
{
    const char *state = args->values[OPT_STATE];
    if (!state)
        return bw_cli_usage_error(&bw_cli_status_command, "--state DIR is required");
    json_t *reply = NULL;
    if (bw_cli_control_ask(state, json_pack("{s:s}", "op", "status"), "status refused", &reply))
        return BW_CLI_EXIT_FAIL;
    int status = args->values[OPT_JSON] ? bw_cli_print_json(reply) : print_status(reply);
    json_decref(reply);
    return status;
}

const struct bw_cli_command bw_cli_status_command = {
    .name = "status",
    .synopsis = "--state DIR [--json]",
    .summary = "show the running daemon's status",
    .details = "Version, uptime, tags by quality, engine statistics and device states of the\n"
               "daemon running on the state directory DIR.",
    .options = status_options,
    .option_count = BW_ARRAY_LEN(status_options),
    .min_args = 0,
    .max_args = 0,
    .run = status_run,
};
