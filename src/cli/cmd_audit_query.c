/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark audit query`: reads records of the audit trail in a state
 * directory, filtered and a page at a time (or every page with --all),
 * as JSON or CSV. It opens STATE/audit.db read-only, so it works whether
 * the daemon runs or not and can never change the trail. Each option
 * goes through bw_audit_filter_set(), the same check the HTTP API's
 * query string gets. Main thread.
 */
#include "audit/audit.h"
#include "cli/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_STATE,
    OPT_FROM,
    OPT_TO,
    OPT_CATEGORY,
    OPT_USER,
    OPT_RESULT,
    OPT_EVENT,
    OPT_LIMIT,
    OPT_CURSOR,
    OPT_ALL,
    OPT_FORMAT,
};

static const struct bw_cli_option query_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory holding audit.db (required)"},
    [OPT_FROM] = {"from", "TIME",
                  "records at or after TIME (RFC 3339 UTC, e.g. 2026-12-03T10:00:00Z)"},
    [OPT_TO] = {"to", "TIME", "records before TIME"},
    [OPT_CATEGORY] = {"category", "LIST", "categories, comma-separated (e.g. access-control)"},
    [OPT_USER] = {"user", "NAME", "records whose source is NAME"},
    [OPT_RESULT] = {"result", "LIST", "results, comma-separated: success,failure,denied,error"},
    [OPT_EVENT] = {"event", "IDS", "event IDs, comma-separated (at most 16)"},
    [OPT_LIMIT] = {"limit", "N", "records per page, 1..10000 (default 100; 1000 with --all)"},
    [OPT_CURSOR] = {"cursor", "N", "start after record N (next_cursor of the previous page)"},
    [OPT_ALL] = {"all", NULL, "read every page, not only the first"},
    [OPT_FORMAT] = {"format", "json|csv", "output format (default json)"},
};

/* The filter keys, by option. */
static const char *const filter_keys[] = {
    [OPT_FROM] = "from",   [OPT_TO] = "to",         [OPT_CATEGORY] = "category",
    [OPT_USER] = "user",   [OPT_RESULT] = "result", [OPT_EVENT] = "event",
    [OPT_LIMIT] = "limit", [OPT_CURSOR] = "cursor",
};

#define ALL_PAGE_LIMIT 1000

struct output {
    bool csv;
    uint64_t count;
};

/* ---- JSON ---------------------------------------------------------------- */

/* A JSON string of s; a stored text that is not UTF-8 (only a changed
 * database holds one) is shown with its non-ASCII bytes as '?'. */
static json_t *json_text(const char *s)
{
    json_t *j = json_string(s);
    if (j)
        return j;
    char *copy = bw_strdup(s);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    bw_free(copy);
    return j;
}

static const char *or_unknown(const char *name)
{
    return name ? name : "unknown";
}

static json_t *entry_json(const struct bw_audit_entry *e)
{
    char time[BW_TIME_TEXT_MAX];
    json_t *details = json_loads(e->details, 0, NULL);
    if (!details)
        details = json_text(e->details); /* as stored, when it is not JSON */
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:I, s:o, s:s, s:s, s:o, s:o, s:o}", "seq", (json_int_t)e->seq, "time",
        bw_time_format_utc(e->ts_us, time), "category",
        or_unknown(bw_audit_category_name(e->category)), "event", (json_int_t)e->event_id, "type",
        json_text(e->type), "result", or_unknown(bw_audit_result_name(e->result)), "source_kind",
        or_unknown(bw_audit_source_kind_name(e->source_kind)), "source", json_text(e->source_name),
        "address", e->source_address ? json_text(e->source_address) : json_null(), "details",
        details);
    return o;
}

static int print_json(const struct bw_audit_entry *e, struct output *out)
{
    json_t *o = entry_json(e);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text)
        return BW_ENOMEM;
    int n = printf("%s%s", out->count ? ",\n" : "\n", text);
    free(text); /* jansson's allocation */
    return n < 0 ? BW_EIO : BW_OK;
}

/* ---- CSV (RFC 4180) ------------------------------------------------------ */

/* A cell that a spreadsheet would read as a formula (= + - @, or a tab
 * or CR that some strip first) gets a leading single quote, so opening
 * an exported trail never runs what an attacker put into a name. */
static bool formula_like(const char *s)
{
    return s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
}

static void print_cell(const char *s, bool quote)
{
    bool guard = formula_like(s);
    quote = quote || guard || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        putchar('"');
    if (guard)
        putchar('\'');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            putchar('"');
        putchar(*p);
    }
    if (quote)
        putchar('"');
}

static const char csv_header[] =
    "seq,time,category,event,type,result,source_kind,source,address,details\r\n";

static int print_csv(const struct bw_audit_entry *e)
{
    char time[BW_TIME_TEXT_MAX];
    printf("%llu,%s,", (unsigned long long)e->seq, bw_time_format_utc(e->ts_us, time));
    print_cell(or_unknown(bw_audit_category_name(e->category)), false);
    printf(",%lu,", (unsigned long)e->event_id);
    print_cell(e->type, false);
    putchar(',');
    print_cell(or_unknown(bw_audit_result_name(e->result)), false);
    putchar(',');
    print_cell(or_unknown(bw_audit_source_kind_name(e->source_kind)), false);
    putchar(',');
    print_cell(e->source_name, false);
    putchar(',');
    if (e->source_address)
        print_cell(e->source_address, false);
    putchar(',');
    print_cell(e->details, true);
    return fputs("\r\n", stdout) < 0 ? BW_EIO : BW_OK;
}

static int emit(const struct bw_audit_entry *e, void *ctx)
{
    struct output *out = ctx;
    int rc = out->csv ? print_csv(e) : print_json(e, out);
    if (rc == BW_OK)
        out->count++;
    return rc;
}

/* ---- the command ----------------------------------------------------------- */

/* Fills filter from the options; prints a usage error and returns false
 * on a bad one. */
static bool filter_from_args(const struct bw_cli_args *args, struct bw_audit_filter *filter)
{
    const struct bw_cli_command *cmd = &bw_cli_audit_query_command;
    bw_audit_filter_init(filter);
    if (args->values[OPT_ALL] && !args->values[OPT_LIMIT])
        filter->limit = ALL_PAGE_LIMIT;
    for (size_t i = 0; i < BW_ARRAY_LEN(filter_keys); i++) {
        const char *v = args->values[i];
        if (!filter_keys[i] || !v)
            continue;
        char err[160];
        if (bw_audit_filter_set(filter, filter_keys[i], v, strlen(v), err, sizeof(err)) != BW_OK) {
            bw_cli_usage_error(cmd, "--%s", err);
            return false;
        }
    }
    return true;
}

static int open_reader(const char *state, struct bw_audit_reader **reader)
{
    int rc = bw_audit_reader_open(state, reader);
    if (rc == BW_ENOTFOUND)
        bw_cli_errorf("no audit trail in %s (no audit.db there)", state);
    else if (rc)
        bw_cli_errorf("cannot read the audit trail in %s: %s", state, bw_strerror(rc));
    return rc;
}

/* Runs the query, a page or every page, printing as it goes. */
static int run_pages(struct bw_audit_reader *reader, struct bw_audit_filter *filter, bool all,
                     struct output *out, uint64_t *next)
{
    for (;;) {
        int rc = bw_audit_query(reader, filter, emit, out, next);
        if (rc || !all || *next == 0)
            return rc;
        filter->cursor = *next;
    }
}

static int query_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = &bw_cli_audit_query_command;
    const char *state = args->values[OPT_STATE];
    const char *format = args->values[OPT_FORMAT] ? args->values[OPT_FORMAT] : "json";
    if (!state)
        return bw_cli_usage_error(cmd, "--state DIR is required");
    if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return bw_cli_usage_error(cmd, "--format must be json or csv");
    struct bw_audit_filter filter;
    if (!filter_from_args(args, &filter))
        return BW_CLI_EXIT_USAGE;
    struct bw_audit_reader *reader = NULL;
    if (open_reader(state, &reader))
        return BW_CLI_EXIT_FAIL;
    struct output out = {.csv = format[0] == 'c'};
    fputs(out.csv ? csv_header : "{\"records\":[", stdout);
    uint64_t next = 0;
    int rc = run_pages(reader, &filter, args->values[OPT_ALL] != NULL, &out, &next);
    bw_audit_reader_free(reader);
    if (!out.csv)
        printf("%s],\"next_cursor\":%llu}\n", out.count ? "\n" : "", (unsigned long long)next);
    if (rc == BW_OK && (fflush(stdout) != 0 || ferror(stdout)))
        rc = BW_EIO;
    if (rc) {
        bw_cli_errorf("reading the audit trail in %s failed: %s", state, bw_strerror(rc));
        return BW_CLI_EXIT_FAIL;
    }
    if (out.csv && next)
        bw_cli_errorf("more records follow; continue with --cursor %llu", (unsigned long long)next);
    return BW_CLI_EXIT_OK;
}

const struct bw_cli_command bw_cli_audit_query_command = {
    .name = "audit query",
    .synopsis = "--state DIR [--from T] [--to T] [--category LIST] [--user NAME] [--result LIST]\n"
                "       [--event IDS] [--limit N] [--cursor N] [--all] [--format json|csv]",
    .summary = "read records of the audit trail, filtered, a page at a time",
    .details =
        "Opens STATE/audit.db read-only: works with or without the daemon running.\n"
        "Records come in sequence order. --from is inclusive, --to exclusive.\n"
        "json (the default) prints one object {\"records\":[...],\"next_cursor\":N}, one record\n"
        "per line; next_cursor is 0 when this page ended the results, else give it to\n"
        "--cursor for the next page. csv prints RFC 4180 with a header row (cells that\n"
        "a spreadsheet would read as a formula start with a single quote); when more\n"
        "records follow, the cursor to continue is said on stderr. --all reads every page.",
    .options = query_options,
    .option_count = BW_ARRAY_LEN(query_options),
    .min_args = 0,
    .max_args = 0,
    .run = query_run,
};
