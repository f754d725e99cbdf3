/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian end to end (docs/internals/historian.md): what the
 * writer makes durable per second, what a sample costs on disk, and how
 * fast the reader answers trends. Prints figures, asserts nothing.
 *
 * - Ingest: 10,000 tags (70% analog, 15% counters, 15% booleans, as in
 *   bench_chunk) appended by this thread with bw_store_append and made
 *   durable with bw_store_flush; samples per second from the first append
 *   to the flush's return. Sustained: 300 rounds of one sample per tag a
 *   simulated second apart (3 million samples) from 2026-11-01T00:00:00Z;
 *   burst: 100 rounds 10 ms apart (1 million). Against each, the same run's
 *   raw SQLite baseline: the same samples in the same order into
 *   (tag, ts, value, quality, PRIMARY KEY(tag, ts)) WITHOUT ROWID, WAL,
 *   synchronous=NORMAL, a prepared statement, one transaction per 10,000
 *   rows. Targets: >= 500,000 samples/s and >= 0.7 of the baseline. The
 *   writer thread's CPU (read from /proc/self/task/<tid>/stat, the thread
 *   that bw_store_open started) gives the share of a core that 10,000
 *   samples/s in real time needs.
 * - Size: after the sustained run, one more round two minutes later (so
 *   every minute of the run closes), the store closed and the WAL
 *   checkpointed: (history.db + WAL) / samples, with a breakdown per table
 *   kind from the dbstat virtual table. Target: <= 16 bytes a sample.
 * - Trends: one tag with 30 days and one with a year of 1 s samples
 *   written through the writer into a history.db of their own (the time
 *   it took is printed); then bw_history_trend with 1,000 points over
 *   each (first call on a fresh connection, then the median of 5),
 *   targets 50 ms and 100 ms; a raw read of the last hour and
 *   bw_history_latest_before.
 *
 * Everything lives in a temporary directory under /tmp, removed at the
 * end.
 */
#include "core/core.h"
#include "store/store.h"

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAGS 10000u
#define SUSTAINED_ROUNDS 300u
#define BURST_ROUNDS 100u
#define BURST_STEP_US 10000LL
#define BASELINE_TXN 10000u
#define SEC 1000000LL
#define DAY (86400LL * SEC)
#define TREND_POINTS 1000u
#define RUNS 5
#define MAX_TASKS 64
/* 2026-11-01T00:00:00Z: the sustained run; the burst starts a day later. */
#define T_SUSTAINED 1793491200000000LL
#define T_BURST (T_SUSTAINED + DAY)
/* The trend tags end where the sustained run starts. */
#define T_TREND_END T_SUSTAINED
#define MONTH_SAMPLES (30LL * 86400)
#define YEAR_SAMPLES (365LL * 86400)

static char work[] = "/tmp/bw-bench-history-XXXXXX";
static bool work_made;
static const uint8_t key[32] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static char tag_name_buf[TAGS][16];
static const char *tag_names[TAGS];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000L};
    nanosleep(&ts, NULL);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    if (work_made && nftw(work, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "bench_history: cannot remove %s\n", work);
    work_made = false;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_history: %s\n", what);
    cleanup();
    exit(1);
}

static void path_in(char *out, size_t size, const char *name)
{
    if (bw_snprintf(out, size, "%s/%s", work, name) != BW_OK)
        die("path too long");
}

static void progress(const char *fmt, ...) BW_PRINTF(1, 2);
static void progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  .. ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), by_double);
    return v[n / 2];
}

/* ---- the data ---------------------------------------------------------- */

enum kind { ANALOG, INTEGRAL, BOOLEAN };

/* One tag's source of samples (the model of bench_chunk): a slow sine
 * with noise, a counter, or a state that flips now and then; a few bad
 * samples about every 2,000. */
struct source {
    uint64_t rng;
    enum kind kind;
    double base, amp, period, value;
    unsigned bad_left;
    int64_t k;
};

static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void source_init(struct source *src, unsigned tag)
{
    unsigned k = tag % 20;
    *src = (struct source){.rng = tag * 2654435761ull + 7,
                           .kind = k < 14   ? ANALOG
                                   : k < 17 ? INTEGRAL
                                            : BOOLEAN,
                           .base = 10.0 + (double)(tag % 97) * 3.7,
                           .amp = 0.5 + (double)(tag % 13),
                           .period = 600.0 + (double)(tag % 50) * 60.0,
                           .value = (double)(tag % 1000) * 17.0};
}

/* The tag's next sample, stamped ts. */
static struct bw_sample source_next(struct source *src, int64_t ts)
{
    uint64_t r = next_u64(&src->rng);
    if (src->bad_left == 0 && r % 2000 == 0)
        src->bad_left = 5;
    if (src->bad_left == 0) {
        switch (src->kind) {
        case ANALOG:
            src->value = src->base + src->amp * sin(2.0 * M_PI * (double)src->k / src->period) +
                         src->amp * 1e-3 * (double)((int64_t)(r >> 32 & 0x7FF) - 1024) / 1024.0;
            break;
        case INTEGRAL:
            src->value += (double)((r >> 32) % 3u);
            break;
        default:
            if ((r >> 32) % 200 == 0)
                src->value = src->value != 0.0 ? 0.0 : 1.0;
            break;
        }
    }
    src->k++;
    struct bw_sample s = {.ts_us = ts,
                          .value = src->value,
                          .quality = (uint8_t)(src->bad_left ? BW_QUALITY_BAD : BW_QUALITY_GOOD),
                          .reason = (uint8_t)(src->bad_left ? BW_REASON_COMM_FAILURE : 0)};
    if (src->bad_left)
        src->bad_left--;
    return s;
}

/* rounds x TAGS samples, round by round; tag i of round r at
 * t0 + r * step + a fixed offset of the tag within the first 10 ms. */
static struct bw_sample *make_rounds(unsigned rounds, int64_t t0, int64_t step)
{
    struct bw_sample *s = bw_calloc((size_t)rounds * TAGS, sizeof(*s));
    struct source *src = bw_calloc(TAGS, sizeof(*src));
    if (!s || !src)
        die("out of memory");
    for (unsigned i = 0; i < TAGS; i++)
        source_init(&src[i], i);
    for (unsigned r = 0; r < rounds; r++)
        for (unsigned i = 0; i < TAGS; i++)
            s[(size_t)r * TAGS + i] =
                source_next(&src[i], t0 + (int64_t)r * step + (int64_t)(i % 1000) * 10);
    bw_free(src);
    return s;
}

/* ---- the writer thread's CPU ------------------------------------------ */

/* The ids of this process's threads; returns how many. */
static size_t list_tasks(long *out, size_t max)
{
    DIR *d = opendir("/proc/self/task");
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL && n < max) {
        char *end = NULL;
        long tid = strtol(e->d_name, &end, 10);
        if (end != e->d_name && *end == '\0')
            out[n++] = tid;
    }
    if (d)
        closedir(d);
    return n;
}

/* The one thread in `after` not in `before`: the writer; 0 when not
 * exactly one. */
static long new_task(const long *before, size_t nb, const long *after, size_t na)
{
    long found = 0;
    for (size_t i = 0; i < na; i++) {
        bool old = false;
        for (size_t j = 0; j < nb; j++)
            old = old || after[i] == before[j];
        if (!old) {
            if (found)
                return 0;
            found = after[i];
        }
    }
    return found;
}

/* User + system CPU seconds of thread tid; < 0 when unreadable. */
static double task_cpu_s(long tid)
{
    char path[64], buf[1024];
    if (tid <= 0 || bw_snprintf(path, sizeof(path), "/proc/self/task/%ld/stat", tid) != BW_OK)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    /* Fields after the name: state is the 3rd, utime the 14th, stime the 15th. */
    p += 2;
    for (int field = 3; field < 14 && p; field++) {
        p = strchr(p, ' ');
        p = p ? p + 1 : NULL;
    }
    if (!p)
        return -1;
    char *end = NULL;
    unsigned long long ut = strtoull(p, &end, 10);
    unsigned long long stime = strtoull(end, NULL, 10);
    return (double)(ut + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* ---- the raw SQLite baseline ------------------------------------------ */

static void sql_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "bench_history: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        die("SQLite failed");
    }
}

/* Seconds to make n samples (round by round over TAGS) durable. */
static double baseline_run(const char *path, const struct bw_sample *s, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("cannot open the baseline database");
    sql_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                 "CREATE TABLE samples(tag INTEGER, ts INTEGER, value REAL, quality INTEGER,"
                 " PRIMARY KEY(tag, ts)) WITHOUT ROWID;");
    if (sqlite3_prepare_v2(db, "INSERT INTO samples(tag, ts, value, quality) VALUES(?1,?2,?3,?4)",
                           -1, &ins, NULL) != SQLITE_OK)
        die("cannot prepare the baseline insert");
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        if (i % BASELINE_TXN == 0)
            sql_exec(db, "BEGIN");
        sqlite3_bind_int64(ins, 1, (int64_t)(i % TAGS));
        sqlite3_bind_int64(ins, 2, s[i].ts_us);
        sqlite3_bind_double(ins, 3, s[i].value);
        sqlite3_bind_int(ins, 4, s[i].quality);
        if (sqlite3_step(ins) != SQLITE_DONE)
            die("baseline insert failed");
        sqlite3_reset(ins);
        if ((i + 1) % BASELINE_TXN == 0 || i + 1 == n)
            sql_exec(db, "COMMIT");
    }
    double t = now_s() - t0;
    sqlite3_finalize(ins);
    sqlite3_close(db);
    return t;
}

/* ---- the product ------------------------------------------------------- */

struct ingest {
    double seconds;      /* first append to the flush's return */
    double writer_cpu_s; /* < 0: not measured */
    double producer_cpu_s;
    uint64_t full_waits; /* appends refused by a full queue (then retried) */
    struct bw_store_stats stats;
};

static struct bw_store *store_open(const char *path, const char *const *names, size_t count,
                                   long *writer_tid)
{
    struct bw_store_config cfg = {
        .path = path, .key = key, .key_len = sizeof(key), .tag_names = names, .tag_count = count};
    long before[MAX_TASKS], after[MAX_TASKS];
    size_t nb = list_tasks(before, MAX_TASKS);
    struct bw_store *st = NULL;
    if (bw_store_open(&cfg, &st) != BW_OK)
        die("bw_store_open failed");
    size_t na = list_tasks(after, MAX_TASKS);
    *writer_tid = new_task(before, nb, after, na);
    return st;
}

static void append_one(struct bw_store *st, uint32_t tag, const struct bw_sample *s,
                       uint64_t *waits)
{
    int rc;
    while ((rc = bw_store_append(st, tag, s)) == BW_EFULL) {
        (*waits)++;
        sleep_us(200);
    }
    if (rc != BW_OK)
        die("bw_store_append failed");
}

/* Appends n samples (round by round over TAGS) and flushes. */
static void product_run(struct bw_store *st, long writer, const struct bw_sample *s, size_t n,
                        struct ingest *out)
{
    *out = (struct ingest){0};
    double w0 = task_cpu_s(writer), p0 = self_cpu_s(), t0 = now_s();
    for (size_t i = 0; i < n; i++)
        append_one(st, (uint32_t)(i % TAGS), &s[i], &out->full_waits);
    if (bw_store_flush(st) != BW_OK)
        die("bw_store_flush failed");
    out->seconds = now_s() - t0;
    out->producer_cpu_s = self_cpu_s() - p0;
    double w1 = task_cpu_s(writer);
    out->writer_cpu_s = w0 >= 0 && w1 >= 0 ? w1 - w0 : -1;
    bw_store_stats_get(st, &out->stats);
}

static void print_ingest(const char *mode, size_t n, double base_s, const struct ingest *in)
{
    double rate = (double)n / in->seconds, base = (double)n / base_s;
    printf("%s: %zu samples\n", mode, n);
    printf("  raw SQLite baseline   %10.0f samples/s (%.2f s)\n", base, base_s);
    printf("  bw_store (durable)    %10.0f samples/s (%.2f s)   ratio %.2f"
           "   [targets >= 500000/s, >= 0.70]\n",
           rate, in->seconds, rate / base);
    printf("  batches %llu, chunks closed %llu, queue-full waits %llu, dropped %llu,"
           " failures %llu\n",
           (unsigned long long)in->stats.batches, (unsigned long long)in->stats.chunks,
           (unsigned long long)in->full_waits, (unsigned long long)in->stats.dropped,
           (unsigned long long)in->stats.failures);
    printf("  producer thread CPU %.2f s (%.2f us a sample)", in->producer_cpu_s,
           in->producer_cpu_s * 1e6 / (double)n);
    if (in->writer_cpu_s >= 0)
        printf(", writer thread CPU %.2f s (%.2f us a sample, %.0f%% of the wall time)\n",
               in->writer_cpu_s, in->writer_cpu_s * 1e6 / (double)n,
               100.0 * in->writer_cpu_s / in->seconds);
    else
        printf(", writer thread CPU: not found in /proc/self/task\n");
    fflush(stdout);
}

/* ---- size on disk ----------------------------------------------------- */

static long long file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static long long pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Bytes of path + WAL after a checkpoint; with a breakdown per kind of
 * table when `breakdown` and the dbstat table exists. */
static long long size_on_disk(const char *path, uint64_t samples, bool breakdown)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die("cannot open a database to checkpoint");
    sql_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    char wal[4200];
    if (bw_snprintf(wal, sizeof(wal), "%s-wal", path) != BW_OK)
        die("path too long");
    long long bytes = file_size(path) + file_size(wal);
    sqlite3_stmt *st = NULL;
    const char *sql =
        "SELECT CASE WHEN name GLOB 'c_*' THEN 'chunks (c_*)'"
        " WHEN name GLOB 'm_*' THEN 'minute aggregates (m_*)'"
        " WHEN name = 'recent' THEN 'recent batches'"
        " ELSE 'other tables' END AS kind,"
        " count(*), sum(pgsize), sum(payload) FROM dbstat GROUP BY kind ORDER BY 3 DESC";
    if (breakdown && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            double pages = (double)sqlite3_column_int64(st, 2);
            printf("    %-26s %7lld pages %11.0f bytes %6.2f B/sample (payload %5.2f)\n",
                   (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1), pages,
                   pages / (double)samples, (double)sqlite3_column_int64(st, 3) / (double)samples);
        }
        long long freel = pragma_int(db, "PRAGMA freelist_count");
        long long page = pragma_int(db, "PRAGMA page_size");
        printf("    %-26s %7lld pages %11lld bytes %6.2f B/sample\n", "free pages", freel,
               freel * page, (double)(freel * page) / (double)samples);
    } else if (breakdown) {
        printf("    (no dbstat virtual table in this SQLite: no breakdown)\n");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return bytes;
}

/* ---- ingest ----------------------------------------------------------- */

static void run_sustained(void)
{
    char db[4200], base[4200];
    path_in(db, sizeof(db), "sustained.db");
    path_in(base, sizeof(base), "sustained-baseline.db");
    size_t n = (size_t)SUSTAINED_ROUNDS * TAGS;
    progress("sustained: making %zu samples", n);
    struct bw_sample *s = make_rounds(SUSTAINED_ROUNDS, T_SUSTAINED, SEC);
    progress("sustained: raw SQLite baseline");
    double base_s = baseline_run(base, s, n);
    progress("sustained: bw_store");
    long writer = 0;
    struct bw_store *st = store_open(db, tag_names, TAGS, &writer);
    struct ingest in;
    product_run(st, writer, s, n, &in);
    print_ingest("sustained (10,000 tags x 300 rounds 1 s apart)", n, base_s, &in);
    if (in.writer_cpu_s >= 0)
        printf("  real-time pace (10,000 samples/s): the writer needs %.1f%% of one core\n",
               in.writer_cpu_s / (double)n * 10000.0 * 100.0);
    /* One more round two minutes on closes every minute of the run. */
    struct bw_sample *extra = make_rounds(1, T_SUSTAINED + (SUSTAINED_ROUNDS + 119) * SEC, SEC);
    uint64_t waits = 0;
    for (uint32_t i = 0; i < TAGS; i++)
        append_one(st, i, &extra[i], &waits);
    if (bw_store_flush(st) != BW_OK)
        die("bw_store_flush failed");
    struct bw_store_stats stats;
    bw_store_stats_get(st, &stats);
    double c0 = now_s();
    bw_store_close(st);
    progress("closed the store in %.2f s", now_s() - c0);
    uint64_t total = n + TAGS;
    printf("size on disk after the sustained run (+1 round 2 min later, store closed,"
           " WAL checkpointed):\n");
    printf("    %llu samples, %llu chunks closed (%.1f samples a chunk; a full minute is 60)\n",
           (unsigned long long)stats.written, (unsigned long long)stats.chunks,
           stats.chunks ? (double)stats.written / (double)stats.chunks : 0.0);
    long long bytes = size_on_disk(db, total, true);
    long long base_bytes = size_on_disk(base, n, false);
    printf("  history.db + WAL   %lld bytes / %llu samples = %.2f B/sample   [target <= 16]\n",
           bytes, (unsigned long long)total, (double)bytes / (double)total);
    printf("  raw SQLite table   %lld bytes / %zu samples = %.2f B/sample\n", base_bytes, n,
           (double)base_bytes / (double)n);
    fflush(stdout);
    bw_free(extra);
    bw_free(s);
}

static void run_burst(void)
{
    char db[4200], base[4200];
    path_in(db, sizeof(db), "burst.db");
    path_in(base, sizeof(base), "burst-baseline.db");
    size_t n = (size_t)BURST_ROUNDS * TAGS;
    progress("burst: making %zu samples", n);
    struct bw_sample *s = make_rounds(BURST_ROUNDS, T_BURST, BURST_STEP_US);
    progress("burst: raw SQLite baseline");
    double base_s = baseline_run(base, s, n);
    progress("burst: bw_store");
    long writer = 0;
    struct bw_store *st = store_open(db, tag_names, TAGS, &writer);
    struct ingest in;
    product_run(st, writer, s, n, &in);
    bw_store_close(st);
    print_ingest("burst (10,000 tags x 100 samples 10 ms apart)", n, base_s, &in);
    bw_free(s);
}

/* ---- trends ----------------------------------------------------------- */

static const char *const trend_names[] = {"Trend.Year", "Trend.Month"};

/* Appends count 1 s samples of tag index tag ending at T_TREND_END and
 * flushes; returns the seconds it took. */
static double write_series(struct bw_store *st, uint32_t tag, int64_t count)
{
    struct source src;
    source_init(&src, 3); /* an analog tag */
    uint64_t waits = 0;
    int64_t t0 = T_TREND_END - count * SEC;
    double start = now_s();
    for (int64_t k = 0; k < count; k++) {
        struct bw_sample s = source_next(&src, t0 + k * SEC);
        append_one(st, tag, &s, &waits);
        if (k > 0 && k % (30 * 86400) == 0)
            progress("%s: %lld days appended, %.0f s", trend_names[tag], (long long)(k / 86400),
                     now_s() - start);
    }
    if (bw_store_flush(st) != BW_OK)
        die("bw_store_flush failed");
    return now_s() - start;
}

struct counted {
    uint64_t n;
};

static bool count_sample(void *ctx, const struct bw_sample *s)
{
    (void)s;
    ((struct counted *)ctx)->n++;
    return true;
}

static void query_for(struct bw_history_query *q, const char *tag, int64_t from, int64_t to,
                      uint32_t points)
{
    bw_history_query_init(q);
    if (bw_snprintf(q->tag, sizeof(q->tag), "%s", tag) != BW_OK)
        die("tag name too long");
    q->from_us = from;
    q->to_us = to;
    q->points = points;
}

/* The queries timed. */
enum qkind { Q_TREND, Q_RAW, Q_LATEST };

/* Runs one query; returns its milliseconds. *what: the samples counted
 * in the buckets (trend), the samples given (raw), 1 when found (latest). */
static double run_query(struct bw_history *h, enum qkind kind, const struct bw_history_query *q,
                        struct bw_history_bucket *b, uint64_t *what)
{
    double t0 = now_s();
    int rc = BW_OK;
    *what = 0;
    if (kind == Q_TREND) {
        size_t n = 0;
        rc = bw_history_trend(h, q, b, &n);
        for (size_t i = 0; i < n; i++)
            *what += b[i].count_all;
    } else if (kind == Q_RAW) {
        struct counted c = {0};
        bool more = false;
        rc = bw_history_raw(h, q, count_sample, &c, &more);
        *what = c.n;
    } else {
        struct bw_sample s;
        rc = bw_history_latest_before(h, q->tag, q->to_us, q->to_us - q->from_us, &s);
        *what = rc == BW_OK ? 1 : 0;
    }
    double ms = (now_s() - t0) * 1e3;
    if (rc != BW_OK)
        die("a history query failed");
    return ms;
}

/* First call on a fresh connection, then the median of RUNS. */
static void time_query(const char *path, const char *label, enum qkind kind,
                       const struct bw_history_query *q, const char *target)
{
    struct bw_history *h = NULL;
    if (bw_history_open(path, &h) != BW_OK)
        die("bw_history_open failed");
    struct bw_history_bucket *b = bw_calloc(TREND_POINTS, sizeof(*b));
    if (!b)
        die("out of memory");
    uint64_t what = 0;
    double first = run_query(h, kind, q, b, &what), runs[RUNS];
    for (int i = 0; i < RUNS; i++)
        runs[i] = run_query(h, kind, q, b, &what);
    printf("  %-40s first %8.2f ms   median of %d %8.2f ms   (%llu %s)%s\n", label, first, RUNS,
           median(runs, RUNS), (unsigned long long)what,
           kind == Q_TREND ? "samples in the buckets"
           : kind == Q_RAW ? "samples"
                           : "found",
           target);
    fflush(stdout);
    bw_free(b);
    bw_history_close(h);
}

static void run_trends(void)
{
    char db[4200];
    path_in(db, sizeof(db), "trend.db");
    long writer = 0;
    struct bw_store *st = store_open(db, trend_names, 2, &writer);
    progress("trend: writing 30 days of one tag (%lld samples)", (long long)MONTH_SAMPLES);
    double month_s = write_series(st, 1, MONTH_SAMPLES);
    progress("trend: writing a year of one tag (%lld samples)", (long long)YEAR_SAMPLES);
    double year_s = write_series(st, 0, YEAR_SAMPLES);
    double c0 = now_s();
    bw_store_close(st);
    double close_s = now_s() - c0;
    printf("trend data (1 s samples, one analog tag each):\n");
    printf("  30 days: %lld samples written in %.1f s (%.0f samples/s)\n", (long long)MONTH_SAMPLES,
           month_s, (double)MONTH_SAMPLES / month_s);
    printf("  a year:  %lld samples written in %.1f s (%.0f samples/s); close %.2f s\n",
           (long long)YEAR_SAMPLES, year_s, (double)YEAR_SAMPLES / year_s, close_s);
    long long bytes = size_on_disk(db, (uint64_t)(MONTH_SAMPLES + YEAR_SAMPLES), false);
    printf("  trend.db: %lld bytes, %.2f B/sample\n", bytes,
           (double)bytes / (double)(MONTH_SAMPLES + YEAR_SAMPLES));
    printf("queries:\n");
    struct bw_history_query q;
    query_for(&q, "Trend.Month", T_TREND_END - 30 * DAY, T_TREND_END, TREND_POINTS);
    time_query(db, "trend 1,000 points over 30 days", Q_TREND, &q, "   [target <= 50 ms]");
    query_for(&q, "Trend.Year", T_TREND_END - 365 * DAY, T_TREND_END, TREND_POINTS);
    time_query(db, "trend 1,000 points over a year", Q_TREND, &q, "   [target <= 100 ms]");
    query_for(&q, "Trend.Year", T_TREND_END - 3600 * SEC, T_TREND_END, 0);
    time_query(db, "raw, the last hour", Q_RAW, &q, "");
    query_for(&q, "Trend.Year", T_TREND_END - DAY, T_TREND_END, 0);
    time_query(db, "latest_before the end (1 day back)", Q_LATEST, &q, "");
    query_for(&q, "Trend.Year", T_TREND_END - 180 * DAY - DAY, T_TREND_END - 180 * DAY + SEC / 2,
              0);
    time_query(db, "latest_before 180 days back", Q_LATEST, &q, "");
}

int main(void)
{
    for (unsigned i = 0; i < TAGS; i++) {
        if (bw_snprintf(tag_name_buf[i], sizeof(tag_name_buf[i]), "Bench.T%05u", i) != BW_OK)
            die("tag name");
        tag_names[i] = tag_name_buf[i];
    }
    if (!mkdtemp(work))
        die("cannot make a temporary directory");
    work_made = true;
    double t0 = now_s();
    printf("bench_history: SQLite %s, in %s\n", sqlite3_libversion(), work);
    fflush(stdout);
    run_sustained();
    run_burst();
    run_trends();
    cleanup();
    printf("total %.0f s\n", now_s() - t0);
    return 0;
}
