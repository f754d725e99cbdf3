/* SPDX-License-Identifier: Apache-2.0
 *
 * `bulwark history query`: reads the process history of one tag from
 * STATE/history.db, read-only, so it works whether the daemon runs or
 * not: the raw samples of a range, a page at a time, or a trend of at
 * most N buckets over it, as CSV or JSON. Each option goes through
 * bw_history_query_set() and the whole through bw_history_query_check(),
 * the checks the HTTP API's query string gets. Nothing is printed to
 * standard output until the query has been answered, so a failure
 * leaves it empty. Main thread.
 */
#include "cli/internal.h"
#include "store/store.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { OPT_STATE, OPT_TAG, OPT_FROM, OPT_TO, OPT_POINTS, OPT_LIMIT, OPT_CURSOR, OPT_FORMAT };

static const struct bw_cli_option query_options[] = {
    [OPT_STATE] = {"state", "DIR", "the state directory holding history.db (required)"},
    [OPT_TAG] = {"tag", "NAME", "the tag (required)"},
    [OPT_FROM] = {"from", "TIME", "samples at or after TIME (required)"},
    [OPT_TO] = {"to", "TIME", "samples before TIME (required)"},
    [OPT_POINTS] = {"points", "N", "a trend of at most N buckets (1..10000), not raw samples"},
    [OPT_LIMIT] = {"limit", "N", "raw samples per page, 1..100000 (default 10000)"},
    [OPT_CURSOR] = {"cursor", "C", "raw samples after C (next_cursor of the previous page)"},
    [OPT_FORMAT] = {"format", "csv|json", "output format (default csv)"},
};

/* The query keys, by option. */
static const char *const query_keys[] = {
    [OPT_TAG] = "tag",       [OPT_FROM] = "from",   [OPT_TO] = "to",
    [OPT_POINTS] = "points", [OPT_LIMIT] = "limit", [OPT_CURSOR] = "cursor",
};

/* At most a year back for the value in force when a trend begins. */
#define BEFORE_HORIZON_MAX_US (366LL * 86400 * 1000000)

/* Room for a number as number_format writes it. */
#define NUMBER_TEXT_MAX 32

/* v as the shortest of %.15g, %.16g and %.17g that reads back as v, so
 * 0.1 prints as 0.1 and nothing is lost; "null" when not finite (only a
 * changed database could hold one). */
static const char *number_format(double v, char out[NUMBER_TEXT_MAX])
{
    if (!isfinite(v))
        return "null";
    for (int precision = 15; precision <= 17; precision++) {
        double back = 0;
        if (bw_snprintf(out, NUMBER_TEXT_MAX, "%.*g", precision, v) != BW_OK)
            break;
        if (precision == 17 ||
            (bw_parse_double(out, strlen(out), &back) == BW_OK && !(back < v || back > v)))
            return out;
    }
    return out;
}

/* The stable names of a sample's quality and reason ("?" for a number
 * outside the engine's enums, which only a changed database holds). */
static const char *quality_text(uint8_t quality)
{
    return bw_quality_name((enum bw_quality)quality);
}

static const char *reason_text(uint8_t reason)
{
    return bw_quality_reason_name((enum bw_quality_reason)reason);
}

/* ---- raw samples ---------------------------------------------------- */

struct raw_out {
    bool csv;
    const char *tag;
    uint64_t count;
    int64_t last_us; /* the time of the last sample printed */
    bool failed;     /* writing to standard output failed */
};

static void raw_begin(const struct raw_out *out)
{
    if (out->csv)
        fputs("time,value,quality,reason\r\n", stdout);
    else
        printf("{\"tag\":\"%s\",\"samples\":[", out->tag); /* a checked tag name */
}

static bool raw_sample(void *ctx, const struct bw_sample *s)
{
    struct raw_out *out = ctx;
    char time[BW_TIME_TEXT_MAX], num[NUMBER_TEXT_MAX];
    if (out->count == 0)
        raw_begin(out);
    const char *t = bw_time_format_utc(s->ts_us, time), *v = number_format(s->value, num);
    int n = out->csv
                ? printf("%s,%s,%s,%s\r\n", t, isfinite(s->value) ? v : "",
                         quality_text(s->quality), reason_text(s->reason))
                : printf("%s{\"time\":\"%s\",\"value\":%s,\"quality\":\"%s\",\"reason\":\"%s\"}",
                         out->count ? ",\n" : "\n", t, v, quality_text(s->quality),
                         reason_text(s->reason));
    if (n < 0) {
        out->failed = true;
        return false;
    }
    out->count++;
    out->last_us = s->ts_us;
    return true;
}

/* Runs a raw query and prints its page; the exit status. */
static int raw_run(struct bw_history *h, const struct bw_history_query *q, bool csv)
{
    struct raw_out out = {.csv = csv, .tag = q->tag};
    bool more = false;
    int rc = bw_history_raw(h, q, raw_sample, &out, &more);
    if (rc)
        return rc;
    if (out.failed)
        return BW_EIO;
    if (out.count == 0)
        raw_begin(&out);
    if (!csv && more)
        printf("%s],\"next_cursor\":%lld}\n", out.count ? "\n" : "", (long long)out.last_us);
    else if (!csv)
        printf("%s],\"next_cursor\":null}\n", out.count ? "\n" : "");
    if (fflush(stdout) != 0 || ferror(stdout))
        return BW_EIO;
    if (csv && more)
        fprintf(stderr, "# more: --cursor %lld\n", (long long)out.last_us);
    return BW_OK;
}

/* ---- trends --------------------------------------------------------- */

/* One bucket as CSV; the statistics are empty when no sample counted. */
static void bucket_csv(const struct bw_history_bucket *b)
{
    char start[BW_TIME_TEXT_MAX], end[BW_TIME_TEXT_MAX];
    printf("%s,%s,", bw_time_format_utc(b->start_us, start), bw_time_format_utc(b->end_us, end));
    const double stats[] = {b->min, b->max, b->avg, b->first, b->last};
    for (size_t i = 0; i < BW_ARRAY_LEN(stats); i++) {
        char num[NUMBER_TEXT_MAX];
        const char *v = number_format(stats[i], num);
        printf("%s,", b->count && isfinite(stats[i]) ? v : "");
    }
    printf("%llu,%llu\r\n", (unsigned long long)b->count, (unsigned long long)b->count_all);
}

/* One bucket as a JSON object; the statistics are null when no sample
 * counted. */
static void bucket_json(const struct bw_history_bucket *b, bool first)
{
    char start[BW_TIME_TEXT_MAX], end[BW_TIME_TEXT_MAX];
    printf("%s{\"start\":\"%s\",\"end\":\"%s\"", first ? "\n" : ",\n",
           bw_time_format_utc(b->start_us, start), bw_time_format_utc(b->end_us, end));
    static const char *const names[] = {"min", "max", "avg", "first", "last"};
    const double stats[] = {b->min, b->max, b->avg, b->first, b->last};
    for (size_t i = 0; i < BW_ARRAY_LEN(stats); i++) {
        char num[NUMBER_TEXT_MAX];
        printf(",\"%s\":%s", names[i], b->count ? number_format(stats[i], num) : "null");
    }
    printf(",\"count\":%llu,\"count_all\":%llu}", (unsigned long long)b->count,
           (unsigned long long)b->count_all);
}

/* The value in force when the range begins, as a JSON member. */
static void before_json(const struct bw_sample *s, bool found)
{
    if (!found) {
        fputs(",\"before\":null", stdout);
        return;
    }
    char time[BW_TIME_TEXT_MAX], num[NUMBER_TEXT_MAX];
    printf(",\"before\":{\"time\":\"%s\",\"value\":%s,\"quality\":\"%s\",\"reason\":\"%s\"}",
           bw_time_format_utc(s->ts_us, time), number_format(s->value, num),
           quality_text(s->quality), reason_text(s->reason));
}

/* Runs a trend and prints its buckets; the exit status. */
static int trend_run(struct bw_history *h, const struct bw_history_query *q, bool csv)
{
    struct bw_history_bucket *b = bw_calloc(q->points, sizeof(*b));
    if (!b)
        return BW_ENOMEM;
    size_t n = 0;
    int rc = bw_history_trend(h, q, b, &n);
    struct bw_sample before = {0};
    bool found = false;
    if (!rc && !csv) {
        int64_t span = q->to_us - q->from_us;
        int64_t horizon = span < BEFORE_HORIZON_MAX_US ? span : BEFORE_HORIZON_MAX_US;
        rc = bw_history_latest_before(h, q->tag, q->from_us, horizon, &before);
        found = rc == BW_OK;
        if (rc == BW_ENOTFOUND)
            rc = BW_OK;
    }
    if (rc) {
        bw_free(b);
        return rc;
    }
    if (csv) {
        fputs("start,end,min,max,avg,first,last,count,count_all\r\n", stdout);
    } else {
        printf("{\"tag\":\"%s\"", q->tag);
        before_json(&before, found);
        fputs(",\"buckets\":[", stdout);
    }
    for (size_t i = 0; i < n; i++) {
        if (csv)
            bucket_csv(&b[i]);
        else
            bucket_json(&b[i], i == 0);
    }
    if (!csv)
        printf("%s]}\n", n ? "\n" : "");
    bw_free(b);
    return fflush(stdout) != 0 || ferror(stdout) ? BW_EIO : BW_OK;
}

/* ---- the command ---------------------------------------------------- */

/* Fills q from the options and checks it; prints a usage error and
 * returns false on a bad one. */
static bool query_from_args(const struct bw_cli_command *cmd, const struct bw_cli_args *args,
                            struct bw_history_query *q)
{
    char err[192];
    int64_t now = bw_clock_realtime_us();
    bw_history_query_init(q);
    for (size_t i = 0; i < BW_ARRAY_LEN(query_keys); i++) {
        const char *v = args->values[i];
        if (!query_keys[i] || !v)
            continue;
        if (bw_history_query_set(q, query_keys[i], strlen(query_keys[i]), v, strlen(v), now, err,
                                 sizeof(err)) != BW_OK) {
            bw_cli_usage_error(cmd, "--%s", err);
            return false;
        }
    }
    if (bw_history_query_check(q, err, sizeof(err)) != BW_OK) {
        bw_cli_usage_error(cmd, "--%s", err);
        return false;
    }
    return true;
}

/* Opens STATE/history.db read-only; says what went wrong. */
static int open_history(const char *state, struct bw_history **h)
{
    char path[4096];
    struct stat st;
    if (bw_snprintf(path, sizeof(path), "%s/history.db", state) != BW_OK) {
        bw_cli_errorf("the state directory's name is too long");
        return BW_ETOOLARGE;
    }
    if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
        bw_cli_errorf("no history in %s (no tag is logged, or the daemon has not run)", state);
        return BW_ENOTFOUND;
    }
    int rc = bw_history_open(path, h);
    if (rc)
        bw_cli_errorf("cannot read the history in %s: %s", state, bw_strerror(rc));
    return rc;
}

static int query_run(const struct bw_cli_args *args)
{
    const struct bw_cli_command *cmd = bw_cli_history_command.subs[0];
    const char *state = args->values[OPT_STATE];
    const char *format = args->values[OPT_FORMAT] ? args->values[OPT_FORMAT] : "csv";
    if (!state)
        return bw_cli_usage_error(cmd, "--state DIR is required");
    if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return bw_cli_usage_error(cmd, "--format must be csv or json");
    struct bw_history_query q;
    if (!query_from_args(cmd, args, &q))
        return BW_CLI_EXIT_USAGE;
    struct bw_history *h = NULL;
    if (open_history(state, &h))
        return BW_CLI_EXIT_FAIL;
    bool csv = format[0] == 'c';
    int rc = q.points ? trend_run(h, &q, csv) : raw_run(h, &q, csv);
    bw_history_close(h);
    if (rc == BW_ENOTFOUND) {
        bw_cli_errorf("no history for tag %s", q.tag);
        return BW_CLI_EXIT_FAIL;
    }
    if (rc) {
        bw_cli_errorf("reading the history in %s failed: %s", state, bw_strerror(rc));
        return BW_CLI_EXIT_FAIL;
    }
    return BW_CLI_EXIT_OK;
}

static const struct bw_cli_command query_command = {
    .name = "history query",
    .synopsis = "--state DIR --tag NAME --from T --to T [--points N] [--limit N] [--cursor C]\n"
                "       [--format csv|json]",
    .summary = "read the history of a tag: raw samples, or a trend in buckets",
    .details =
        "Opens STATE/history.db read-only: works with or without the daemon running.\n"
        "Times are RFC 3339 UTC (2026-12-03T10:00:00Z), now, or now-N with s, m, h or d\n"
        "(now-15m); --from is inclusive, --to exclusive. Times printed are RFC 3339 UTC\n"
        "with microseconds.\n"
        "Raw samples (without --points) come in time order, at most --limit of them:\n"
        "csv (the default) prints the header time,value,quality,reason and one row a\n"
        "sample; when more follow, '# more: --cursor C' goes to stderr. json prints\n"
        "{\"tag\",\"samples\":[...],\"next_cursor\"}, next_cursor null on the last page.\n"
        "With --points N, at most N buckets: csv prints start,end,min,max,avg,first,last,\n"
        "count,count_all (the statistics over good and uncertain samples, empty when\n"
        "there are none); json prints {\"tag\",\"before\",\"buckets\":[...]}, where before is\n"
        "the last sample before --from (looking back the range's length, at most 366\n"
        "days) or null.",
    .options = query_options,
    .option_count = BW_ARRAY_LEN(query_options),
    .min_args = 0,
    .max_args = 0,
    .run = query_run,
};

static const struct bw_cli_command *const history_subs[] = {&query_command};

const struct bw_cli_command bw_cli_history_command = {
    .name = "history",
    .synopsis = "COMMAND ...",
    .summary = "read the process history (query)",
    .subs = history_subs,
    .sub_count = BW_ARRAY_LEN(history_subs),
};
