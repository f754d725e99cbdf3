/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's SQLite back-end: schema, tag ids, partitions, batches,
 * chunks and minute aggregates (sqlite_internal.h has the layout).
 * Partition table names are built from two integers only, never from
 * outside text. The connection's thread only.
 */
#include "store/sqlite_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000
#define MAC_LEN 32

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
                                 "INSERT OR IGNORE INTO meta(key, value) VALUES('format', 1);"
                                 "CREATE TABLE IF NOT EXISTS tags("
                                 " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
                                 "CREATE TABLE IF NOT EXISTS recent("
                                 " seq INTEGER PRIMARY KEY, t_min INTEGER NOT NULL,"
                                 " t_max INTEGER NOT NULL, data BLOB NOT NULL, mac BLOB NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS tails("
                                 " tag INTEGER PRIMARY KEY, t1 INTEGER NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS days("
                                 " grp INTEGER NOT NULL, day INTEGER NOT NULL,"
                                 " PRIMARY KEY(grp, day)) WITHOUT ROWID;";

void sdb_agg_init(struct sdb_agg *a)
{
    memset(a, 0, sizeof(*a));
}

void sdb_agg_add(struct sdb_agg *a, const struct bw_sample *s)
{
    a->n_all++;
    if (s->quality == 0)
        return; /* a bad value means nothing */
    if (a->n == 0) {
        a->mn = a->mx = a->first = s->value;
    } else {
        a->mn = fmin(a->mn, s->value);
        a->mx = fmax(a->mx, s->value);
    }
    a->sum += s->value;
    a->last = s->value;
    a->n++;
}

static int exec(struct sdb *s, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return BW_OK;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: %s", msg ? msg : "error");
    sqlite3_free(msg);
    return BW_EIO;
}

static int prepare(struct sdb *s, const char *sql, sqlite3_stmt **out)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) == SQLITE_OK)
        return BW_OK;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: %s", sqlite3_errmsg(s->db));
    return BW_EIO;
}

void sdb_close(struct sdb *s)
{
    sqlite3_finalize(s->tag_insert);
    sqlite3_finalize(s->tag_find);
    sqlite3_finalize(s->recent_insert);
    sqlite3_finalize(s->recent_delete);
    sqlite3_finalize(s->day_insert);
    bw_crypto_mac_free(s->mac);
    if (s->db)
        sqlite3_close(s->db);
    memset(s, 0, sizeof(*s));
}

int sdb_open(struct sdb *s, const char *path, bool read_only, const uint8_t *key, size_t key_len)
{
    memset(s, 0, sizeof(*s));
    s->read_only = read_only;
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "cannot open %s: %s", path,
               s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sdb_close(s);
        return BW_EIO;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    int rc = exec(s, "PRAGMA trusted_schema=OFF;");
    /* Batches are the unit of durability: a crash of the process loses
     * no committed batch (the WAL is in the kernel's hands), a power
     * failure at most the last ones; the writer syncs on close. */
    if (!rc && !read_only)
        rc = exec(s, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=NORMAL;");
    if (!rc && !read_only)
        rc = exec(s, schema_sql);
    if (!rc && read_only)
        rc = exec(s, "PRAGMA query_only=ON;");
    if (!rc && key)
        rc = bw_crypto_mac_new(key, key_len, &s->mac);
    if (!rc)
        rc = prepare(s, "SELECT id FROM tags WHERE name = ?1", &s->tag_find);
    if (!rc && !read_only)
        rc = prepare(s, "INSERT INTO tags(name) VALUES(?1)", &s->tag_insert);
    if (!rc && !read_only)
        rc = prepare(s, "INSERT INTO recent(seq, t_min, t_max, data, mac) VALUES(?1,?2,?3,?4,?5)",
                     &s->recent_insert);
    if (!rc && !read_only)
        rc = prepare(s, "DELETE FROM recent WHERE seq < ?1", &s->recent_delete);
    if (!rc && !read_only)
        rc = prepare(s, "INSERT OR IGNORE INTO days(grp, day) VALUES(?1, ?2)", &s->day_insert);
    if (rc)
        sdb_close(s);
    return rc;
}

int sdb_begin(struct sdb *s)
{
    return exec(s, "BEGIN IMMEDIATE");
}

int sdb_commit(struct sdb *s)
{
    return exec(s, "COMMIT");
}

void sdb_rollback(struct sdb *s)
{
    if (!sqlite3_get_autocommit(s->db) && exec(s, "ROLLBACK") != BW_OK)
        bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: rollback failed");
}

static int step_done(struct sdb *s, sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (r == SQLITE_DONE || r == SQLITE_ROW)
        return BW_OK;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: %s", sqlite3_errmsg(s->db));
    return BW_EIO;
}

int sdb_tag_id(struct sdb *s, const char *name, int64_t *id)
{
    sqlite3_bind_text(s->tag_find, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s->tag_find);
    if (r == SQLITE_ROW)
        *id = sqlite3_column_int64(s->tag_find, 0);
    sqlite3_reset(s->tag_find);
    sqlite3_clear_bindings(s->tag_find);
    if (r == SQLITE_ROW)
        return BW_OK;
    if (r != SQLITE_DONE)
        return BW_EIO;
    if (s->read_only)
        return BW_ENOTFOUND;
    sqlite3_bind_text(s->tag_insert, 1, name, -1, SQLITE_STATIC);
    int rc = step_done(s, s->tag_insert);
    if (!rc)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

/* c_<grp>_<day> and m_<grp>_<day>; day may be negative (before 1970). */
static void table_name(char *out, size_t size, char kind, uint32_t grp, int64_t day)
{
    int n = snprintf(out, size, "%c_%u_%s%lld", kind, grp, day < 0 ? "n" : "",
                     (long long)(day < 0 ? -day : day));
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0';
}

int sdb_day_ensure(struct sdb *s, uint32_t grp, int64_t day)
{
    char c[48], m[48], sql[512];
    table_name(c, sizeof(c), 'c', grp, day);
    table_name(m, sizeof(m), 'm', grp, day);
    int n = snprintf(sql, sizeof(sql),
                     "CREATE TABLE IF NOT EXISTS %s(tag INTEGER NOT NULL, t0 INTEGER NOT NULL,"
                     " t1 INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL,"
                     " mac BLOB NOT NULL, PRIMARY KEY(tag, t0)) WITHOUT ROWID;"
                     "CREATE TABLE IF NOT EXISTS %s(tag INTEGER NOT NULL, t INTEGER NOT NULL,"
                     " mn REAL, mx REAL, sm REAL, fi REAL, la REAL, ft INTEGER, lt INTEGER,"
                     " n INTEGER NOT NULL, n_all INTEGER NOT NULL,"
                     " PRIMARY KEY(tag, t)) WITHOUT ROWID;",
                     c, m);
    if (n < 0 || (size_t)n >= sizeof(sql) || !c[0] || !m[0])
        return BW_EINVAL;
    int rc = exec(s, sql);
    if (rc)
        return rc;
    sqlite3_bind_int64(s->day_insert, 1, grp);
    sqlite3_bind_int64(s->day_insert, 2, day);
    return step_done(s, s->day_insert);
}

static void put64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
}

/* HMAC over a domain label, a few 64-bit fields, an optional 32-byte
 * chain value and the data. */
static int mac_of(struct sdb *s, const char *label, const int64_t *fields, size_t nfields,
                  const uint8_t *chain, const uint8_t *data, size_t len, uint8_t out[MAC_LEN])
{
    if (!s->mac)
        return BW_ESTATE;
    size_t head = 8 + nfields * 8 + (chain ? MAC_LEN : 0);
    uint8_t *buf = bw_malloc(head + len);
    if (!buf)
        return BW_ENOMEM;
    memset(buf, 0, 8);
    memcpy(buf, label, strnlen(label, 8));
    for (size_t i = 0; i < nfields; i++)
        put64(buf + 8 + 8 * i, fields[i]);
    if (chain)
        memcpy(buf + 8 + 8 * nfields, chain, MAC_LEN);
    if (len)
        memcpy(buf + head, data, len);
    int rc = bw_crypto_mac_compute(s->mac, buf, head + len, out);
    bw_free(buf);
    return rc;
}

int sdb_recent_insert(struct sdb *s, int64_t seq, int64_t t_min, int64_t t_max, const uint8_t *data,
                      size_t len, const uint8_t prev_mac[32], uint8_t mac_out[32])
{
    int64_t f[] = {seq, t_min, t_max};
    int rc = mac_of(s, "batch", f, 3, prev_mac, data, len, mac_out);
    if (rc)
        return rc;
    sqlite3_bind_int64(s->recent_insert, 1, seq);
    sqlite3_bind_int64(s->recent_insert, 2, t_min);
    sqlite3_bind_int64(s->recent_insert, 3, t_max);
    sqlite3_bind_blob(s->recent_insert, 4, data, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(s->recent_insert, 5, mac_out, MAC_LEN, SQLITE_STATIC);
    return step_done(s, s->recent_insert);
}

int sdb_meta_set_blob(struct sdb *s, const char *key, const void *data, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, data, (int)len, SQLITE_STATIC);
    rc = step_done(s, st);
    sqlite3_finalize(st);
    return rc;
}

int sdb_meta_get_blob(struct sdb *s, const char *key, void *out, size_t len, bool *found)
{
    *found = false;
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT value FROM meta WHERE key = ?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)len) {
        memcpy(out, sqlite3_column_blob(st, 0), len);
        *found = true;
    } else if (r != SQLITE_ROW && r != SQLITE_DONE) {
        rc = BW_EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int sdb_tail_set(struct sdb *s, int64_t tag, int64_t t1)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s,
                     "INSERT INTO tails(tag, t1) VALUES(?1, ?2) ON CONFLICT(tag) DO UPDATE"
                     " SET t1 = max(t1, excluded.t1)",
                     &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, tag);
    sqlite3_bind_int64(st, 2, t1);
    rc = step_done(s, st);
    sqlite3_finalize(st);
    return rc;
}

int sdb_tail_get(struct sdb *s, int64_t tag, int64_t *t1, bool *found)
{
    *found = false;
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT t1 FROM tails WHERE tag = ?1", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, tag);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
        *t1 = sqlite3_column_int64(st, 0);
        *found = true;
    } else if (r != SQLITE_DONE) {
        rc = BW_EIO;
    }
    sqlite3_finalize(st);
    return rc;
}

int sdb_recent_each(struct sdb *s, sdb_batch_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT seq, data FROM recent ORDER BY seq", &st);
    if (rc)
        return rc;
    int r = SQLITE_DONE;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        rc = fn(ctx, sqlite3_column_int64(st, 0), blob, (size_t)(len > 0 ? len : 0));
        if (rc)
            break;
    }
    if (!rc && r != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    return rc;
}

int sdb_recent_delete_before(struct sdb *s, int64_t seq)
{
    sqlite3_bind_int64(s->recent_delete, 1, seq);
    return step_done(s, s->recent_delete);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int sdb_chunk_mac(struct sdb *s, uint32_t grp, int64_t day, int64_t tag, int64_t t0, int64_t t1,
                  int64_t n, const uint8_t *data, size_t len, uint8_t out[32])
{
    int64_t f[] = {(int64_t)grp, day, tag, t0, t1, n};
    return mac_of(s, "chunk", f, 6, NULL, data, len, out);
}

static int agg_merge(struct sdb *s, const char *table, int64_t tag, int64_t minute,
                     const struct sdb_agg *a, int64_t ft, int64_t lt)
{
    char sql[1024];
    /* A second chunk of the same minute (a late sample) merges in. */
    int n = snprintf(sql, sizeof(sql),
                     "INSERT INTO %s(tag, t, mn, mx, sm, fi, la, ft, lt, n, n_all)"
                     " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
                     " ON CONFLICT(tag, t) DO UPDATE SET"
                     " mn = CASE WHEN excluded.n = 0 THEN mn WHEN n = 0 THEN excluded.mn"
                     "  ELSE min(mn, excluded.mn) END,"
                     " mx = CASE WHEN excluded.n = 0 THEN mx WHEN n = 0 THEN excluded.mx"
                     "  ELSE max(mx, excluded.mx) END,"
                     " sm = coalesce(sm, 0) + coalesce(excluded.sm, 0),"
                     " fi = CASE WHEN excluded.n > 0 AND (n = 0 OR excluded.ft < ft)"
                     "  THEN excluded.fi ELSE fi END,"
                     " ft = CASE WHEN excluded.n > 0 AND (n = 0 OR excluded.ft < ft)"
                     "  THEN excluded.ft ELSE ft END,"
                     " la = CASE WHEN excluded.n > 0 AND (n = 0 OR excluded.lt > lt)"
                     "  THEN excluded.la ELSE la END,"
                     " lt = CASE WHEN excluded.n > 0 AND (n = 0 OR excluded.lt > lt)"
                     "  THEN excluded.lt ELSE lt END,"
                     " n = n + excluded.n, n_all = n_all + excluded.n_all",
                     table);
    if (n < 0 || (size_t)n >= sizeof(sql))
        return BW_EINVAL;
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, tag);
    sqlite3_bind_int64(st, 2, minute);
    if (a->n) {
        sqlite3_bind_double(st, 3, a->mn);
        sqlite3_bind_double(st, 4, a->mx);
        sqlite3_bind_double(st, 5, a->sum);
        sqlite3_bind_double(st, 6, a->first);
        sqlite3_bind_double(st, 7, a->last);
        sqlite3_bind_int64(st, 8, ft);
        sqlite3_bind_int64(st, 9, lt);
    }
    sqlite3_bind_int64(st, 10, a->n);
    sqlite3_bind_int64(st, 11, a->n_all);
    rc = step_done(s, st);
    sqlite3_finalize(st);
    return rc;
}

int sdb_chunk_insert(struct sdb *s, uint32_t grp, int64_t tag, const struct bw_sample *samples,
                     size_t n)
{
    if (n == 0 || n > BW_CHUNK_MAX_SAMPLES)
        return BW_EINVAL;
    int64_t t0 = samples[0].ts_us, t1 = samples[n - 1].ts_us;
    int64_t minute = floor_div(t0, SDB_MINUTE_US) * SDB_MINUTE_US;
    if (t1 >= minute + SDB_MINUTE_US)
        return BW_EINVAL; /* a chunk is one minute at most */
    int64_t day = floor_div(t0, SDB_DAY_US);
    int rc = sdb_day_ensure(s, grp, day);
    if (rc)
        return rc;
    size_t cap = n * BW_CHUNK_SAMPLE_MAX + 16, len = 0;
    uint8_t *data = bw_malloc(cap);
    if (!data)
        return BW_ENOMEM;
    uint8_t mac[MAC_LEN];
    rc = bw_chunk_encode(samples, n, data, cap, &len);
    if (!rc)
        rc = sdb_chunk_mac(s, grp, day, tag, t0, t1, (int64_t)n, data, len, mac);
    char table[48], sql[160];
    table_name(table, sizeof(table), 'c', grp, day);
    int w = snprintf(sql, sizeof(sql),
                     "INSERT INTO %s(tag, t0, t1, n, data, mac) VALUES(?1,?2,?3,?4,?5,?6)", table);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = w > 0 && (size_t)w < sizeof(sql) ? prepare(s, sql, &st) : BW_EINVAL;
    if (!rc) {
        sqlite3_bind_int64(st, 1, tag);
        sqlite3_bind_int64(st, 2, t0);
        sqlite3_bind_int64(st, 3, t1);
        sqlite3_bind_int64(st, 4, (int64_t)n);
        sqlite3_bind_blob(st, 5, data, (int)len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 6, mac, MAC_LEN, SQLITE_STATIC);
        rc = step_done(s, st);
    }
    sqlite3_finalize(st);
    bw_free(data);
    if (rc)
        return rc;
    struct sdb_agg a;
    sdb_agg_init(&a);
    int64_t ft = 0, lt = 0;
    for (size_t i = 0; i < n; i++) {
        if (samples[i].quality != 0) {
            if (a.n == 0)
                ft = samples[i].ts_us;
            lt = samples[i].ts_us;
        }
        sdb_agg_add(&a, &samples[i]);
    }
    table_name(table, sizeof(table), 'm', grp, day);
    rc = agg_merge(s, table, tag, minute, &a, ft, lt);
    return rc ? rc : sdb_tail_set(s, tag, t1);
}

/* The days of group grp that exist, from first to last, in order. */
static int days_between(struct sdb *s, uint32_t grp, int64_t first, int64_t last, int64_t **out,
                        size_t *count)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = NULL;
    int rc = prepare(
        s, "SELECT day FROM days WHERE grp = ?1 AND day BETWEEN ?2 AND ?3 ORDER BY day", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, grp);
    sqlite3_bind_int64(st, 2, first);
    sqlite3_bind_int64(st, 3, last);
    size_t cap = 0;
    int r = SQLITE_DONE;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            int64_t *grown = bw_realloc(*out, ncap * sizeof(**out));
            if (!grown) {
                rc = BW_ENOMEM;
                break;
            }
            *out = grown;
            cap = ncap;
        }
        (*out)[(*count)++] = sqlite3_column_int64(st, 0);
    }
    if (!rc && r != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    if (rc) {
        bw_free(*out);
        *out = NULL;
        *count = 0;
    }
    return rc;
}

int sdb_chunks_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from, int64_t to,
                    sdb_sample_fn fn, void *ctx)
{
    int64_t *days = NULL;
    size_t nd = 0;
    int rc = days_between(s, grp, floor_div(from, SDB_DAY_US), floor_div(to - 1, SDB_DAY_US), &days,
                          &nd);
    struct bw_sample *buf = NULL;
    if (!rc) {
        buf = bw_calloc(BW_CHUNK_MAX_SAMPLES, sizeof(*buf));
        rc = buf ? BW_OK : BW_ENOMEM;
    }
    bool go = true;
    for (size_t d = 0; !rc && go && d < nd; d++) {
        char table[48], sql[200];
        table_name(table, sizeof(table), 'c', grp, days[d]);
        /* Chunks are one minute at most: one that starts a minute before
         * from may still hold samples of the range. */
        int w = snprintf(sql, sizeof(sql),
                         "SELECT data FROM %s WHERE tag = ?1 AND t0 >= ?2 AND t0 < ?3"
                         " AND t1 >= ?4 ORDER BY t0",
                         table);
        sqlite3_stmt *st = NULL;
        rc = w > 0 && (size_t)w < sizeof(sql) ? prepare(s, sql, &st) : BW_EINVAL;
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, tag);
        sqlite3_bind_int64(st, 2, from - SDB_MINUTE_US);
        sqlite3_bind_int64(st, 3, to);
        sqlite3_bind_int64(st, 4, from);
        int r = SQLITE_DONE;
        while (go && (r = sqlite3_step(st)) == SQLITE_ROW) {
            size_t n = 0;
            const void *blob = sqlite3_column_blob(st, 0);
            int len = sqlite3_column_bytes(st, 0);
            rc = blob ? bw_chunk_decode(blob, (size_t)len, buf, BW_CHUNK_MAX_SAMPLES, &n)
                      : BW_EMALFORMED;
            if (rc)
                break;
            for (size_t i = 0; go && i < n; i++)
                if (buf[i].ts_us >= from && buf[i].ts_us < to)
                    go = fn(ctx, &buf[i]);
        }
        if (!rc && go && r != SQLITE_DONE)
            rc = BW_EIO;
        sqlite3_finalize(st);
    }
    bw_free(buf);
    bw_free(days);
    return rc;
}

int sdb_minutes_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from, int64_t to,
                     sdb_agg_fn fn, void *ctx)
{
    int64_t *days = NULL;
    size_t nd = 0;
    int rc = days_between(s, grp, floor_div(from, SDB_DAY_US), floor_div(to - 1, SDB_DAY_US), &days,
                          &nd);
    bool go = true;
    for (size_t d = 0; !rc && go && d < nd; d++) {
        char table[48], sql[200];
        table_name(table, sizeof(table), 'm', grp, days[d]);
        int w = snprintf(sql, sizeof(sql),
                         "SELECT t, mn, mx, sm, fi, la, n, n_all FROM %s"
                         " WHERE tag = ?1 AND t >= ?2 AND t < ?3 ORDER BY t",
                         table);
        sqlite3_stmt *st = NULL;
        rc = w > 0 && (size_t)w < sizeof(sql) ? prepare(s, sql, &st) : BW_EINVAL;
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, tag);
        sqlite3_bind_int64(st, 2, from);
        sqlite3_bind_int64(st, 3, to);
        int r = SQLITE_DONE;
        while (go && (r = sqlite3_step(st)) == SQLITE_ROW) {
            struct sdb_agg a = {
                .mn = sqlite3_column_double(st, 1),
                .mx = sqlite3_column_double(st, 2),
                .sum = sqlite3_column_double(st, 3),
                .first = sqlite3_column_double(st, 4),
                .last = sqlite3_column_double(st, 5),
                .n = (uint32_t)sqlite3_column_int64(st, 6),
                .n_all = (uint32_t)sqlite3_column_int64(st, 7),
            };
            go = fn(ctx, sqlite3_column_int64(st, 0), &a);
        }
        if (go && r != SQLITE_DONE)
            rc = BW_EIO;
        sqlite3_finalize(st);
    }
    bw_free(days);
    return rc;
}

int sdb_groups_between(struct sdb *s, int64_t first_day, int64_t last_day, uint32_t **out,
                       size_t *count)
{
    *out = NULL;
    *count = 0;
    sqlite3_stmt *st = NULL;
    int rc =
        prepare(s, "SELECT DISTINCT grp FROM days WHERE day BETWEEN ?1 AND ?2 ORDER BY grp", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, first_day);
    sqlite3_bind_int64(st, 2, last_day);
    size_t cap = 0;
    int r = SQLITE_DONE;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            uint32_t *grown = bw_realloc(*out, ncap * sizeof(**out));
            if (!grown) {
                rc = BW_ENOMEM;
                break;
            }
            *out = grown;
            cap = ncap;
        }
        (*out)[(*count)++] = (uint32_t)sqlite3_column_int64(st, 0);
    }
    if (!rc && r != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    if (rc) {
        bw_free(*out);
        *out = NULL;
        *count = 0;
    }
    return rc;
}

int sdb_chunk_last_before(struct sdb *s, uint32_t grp, int64_t tag, int64_t since, int64_t before,
                          struct bw_sample *out, bool *found)
{
    *found = false;
    int64_t *days = NULL;
    size_t nd = 0;
    int rc = days_between(s, grp, floor_div(since, SDB_DAY_US), floor_div(before - 1, SDB_DAY_US),
                          &days, &nd);
    struct bw_sample *buf = NULL;
    if (!rc) {
        buf = bw_calloc(BW_CHUNK_MAX_SAMPLES, sizeof(*buf));
        rc = buf ? BW_OK : BW_ENOMEM;
    }
    for (size_t d = nd; !rc && !*found && d-- > 0;) {
        char table[48], sql[160];
        table_name(table, sizeof(table), 'c', grp, days[d]);
        int w = snprintf(sql, sizeof(sql),
                         "SELECT data FROM %s WHERE tag = ?1 AND t0 < ?2 ORDER BY t0 DESC", table);
        sqlite3_stmt *st = NULL;
        rc = w > 0 && (size_t)w < sizeof(sql) ? prepare(s, sql, &st) : BW_EINVAL;
        if (rc)
            break;
        sqlite3_bind_int64(st, 1, tag);
        sqlite3_bind_int64(st, 2, before);
        int r = SQLITE_DONE;
        while (!*found && (r = sqlite3_step(st)) == SQLITE_ROW) {
            size_t n = 0;
            const void *blob = sqlite3_column_blob(st, 0);
            rc = blob ? bw_chunk_decode(blob, (size_t)sqlite3_column_bytes(st, 0), buf,
                                        BW_CHUNK_MAX_SAMPLES, &n)
                      : BW_EMALFORMED;
            if (rc)
                break;
            for (size_t i = n; i-- > 0;)
                if (buf[i].ts_us < before && buf[i].ts_us >= since) {
                    *out = buf[i];
                    *found = true;
                    break;
                }
        }
        if (!rc && !*found && r != SQLITE_DONE)
            rc = BW_EIO;
        sqlite3_finalize(st);
    }
    bw_free(buf);
    bw_free(days);
    return rc;
}

int sdb_recent_range(struct sdb *s, int64_t from, int64_t to, sdb_batch_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(
        s, "SELECT seq, data FROM recent WHERE t_max >= ?1 AND t_min < ?2 ORDER BY seq", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    int r = SQLITE_DONE;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 1);
        int len = sqlite3_column_bytes(st, 1);
        rc = fn(ctx, sqlite3_column_int64(st, 0), blob, (size_t)(len > 0 ? len : 0));
        if (rc)
            break;
    }
    if (!rc && r != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    return rc;
}
