/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark devices --state DIR`: the field devices of the running daemon:
 * state (connected, degraded, failed), requests, registers read, errors
 * by kind, round-trip percentiles and the last error in words fit for an
 * operator. Main thread.
 */
#include "cli/internal.h"

#include <stdio.h>
#include <string.h>

enum { OPT_STATE, OPT_JSON };

static const struct bw_cli_option devices_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory of the running daemon (required)"},
    [OPT_JSON] = {"json", NULL, "print the daemon's JSON reply"},
};

static long long num(const json_t *obj, const char *key)
{
    return (long long)json_integer_value(json_object_get(obj, key));
}

static void print_text(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        bw_cli_print_safe(stdout, json_string_value(v), json_string_length(v));
    else
        fputc('?', stdout);
}

static void print_device(const json_t *d)
{
    const json_t *lat = json_object_get(d, "latency_us");
    const json_t *errors = json_object_get(d, "errors");
    print_text(d, "name");
    fputs(" (", stdout);
    print_text(d, "driver");
    fputs("): ", stdout);
    print_text(d, "state");
    printf("\n  cycles %lld, requests %lld, registers read %lld, updates %lld, connects %lld\n",
           num(d, "cycles"), num(d, "requests"), num(d, "registers"), num(d, "updates"),
           num(d, "connects"));
    printf("  writes %lld confirmed, %lld failed; engine queue full %lld times\n", num(d, "writes"),
           num(d, "write_failures"), num(d, "queue_full"));
    printf("  round trip p50 %lld us, p90 %lld us, p99 %lld us, max %lld us\n", num(lat, "p50"),
           num(lat, "p90"), num(lat, "p99"), num(lat, "max"));
    fputs("  errors:", stdout);
    const char *key;
    const json_t *value;
    bool any = false;
    void *iter = json_object_iter((json_t *)errors);
    for (; iter; iter = json_object_iter_next((json_t *)errors, iter)) {
        key = json_object_iter_key(iter);
        value = json_object_iter_value(iter);
        if (json_integer_value(value) == 0)
            continue;
        fputc(' ', stdout);
        bw_cli_print_safe(stdout, key, strlen(key));
        printf(" %lld", (long long)json_integer_value(value));
        any = true;
    }
    fputs(any ? "\n" : " none\n", stdout);
    const char *last = json_string_value(json_object_get(d, "last_error"));
    if (last && last[0]) {
        fputs("  last error: ", stdout);
        print_text(d, "last_error");
        fputc('\n', stdout);
    }
}

static int devices_run(const struct bw_cli_args *args)
{
    const char *state = args->values[OPT_STATE];
    if (!state)
        return bw_cli_usage_error(&bw_cli_devices_command, "--state DIR is required");
    json_t *reply = NULL;
    if (bw_cli_control_ask(state, json_pack("{s:s}", "op", "devices"), "devices refused", &reply))
        return BW_CLI_EXIT_FAIL;
    int status = BW_CLI_EXIT_OK;
    if (args->values[OPT_JSON]) {
        status = bw_cli_print_json(reply);
    } else {
        const json_t *list = json_object_get(reply, "devices");
        if (json_array_size(list) == 0)
            puts("no devices");
        for (size_t i = 0; i < json_array_size(list); i++)
            print_device(json_array_get(list, i));
    }
    json_decref(reply);
    return status;
}

const struct bw_cli_command bw_cli_devices_command = {
    .name = "devices",
    .synopsis = "--state DIR [--json]",
    .summary = "show the field devices of the running daemon",
    .details = "For each device of the daemon running on the state directory DIR: its state\n"
               "(connected, degraded, failed), requests, registers read, errors by kind,\n"
               "round-trip percentiles and the last error.",
    .options = devices_options,
    .option_count = BW_ARRAY_LEN(devices_options),
    .min_args = 0,
    .max_args = 0,
    .run = devices_run,
};
