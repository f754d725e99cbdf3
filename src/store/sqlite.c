/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's SQLite back-end: schema, tag ids, partitions, batches,
 * chunks and minute aggregates, and the MACs and seal that let
 * `historian verify` (verify.c) find what was changed outside the
 * historian (sqlite_internal.h has the layout). Partition table names
 * are built from two integers only, never from outside text. The
 * connection's thread only.
 */
#include "store/sqlite_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define BUSY_TIMEOUT_MS 5000
#define MAC_LEN SDB_MAC_LEN
/* meta 'seal': oldest, newest, broken_us, recent_mac, tails_xor, MAC. */
#define SEAL_BLOB_LEN (3 * 8 + 3 * MAC_LEN)
/* meta 'retained_<grp>': day, MAC. */
#define MARK_BLOB_LEN (8 + MAC_LEN)

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
                                 "INSERT OR IGNORE INTO meta(key, value) VALUES('format', 2);"
                                 "CREATE TABLE IF NOT EXISTS tags("
                                 " id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                                 " mac BLOB NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS recent("
                                 " seq INTEGER PRIMARY KEY, t_min INTEGER NOT NULL,"
                                 " t_max INTEGER NOT NULL, data BLOB NOT NULL,"
                                 " prev_mac BLOB NOT NULL, mac BLOB NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS tails("
                                 " tag INTEGER PRIMARY KEY, t1 INTEGER NOT NULL,"
                                 " grp INTEGER NOT NULL, mac BLOB NOT NULL);"
                                 "CREATE TABLE IF NOT EXISTS days("
                                 " grp INTEGER NOT NULL, day INTEGER NOT NULL, mac BLOB NOT NULL,"
                                 " PRIMARY KEY(grp, day)) WITHOUT ROWID;";
_Static_assert(SDB_FORMAT == 2, "schema_sql writes format 2");

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

static void part_forget(struct sdb *s)
{
    sqlite3_finalize(s->part.chunk);
    sqlite3_finalize(s->part.minute);
    sqlite3_finalize(s->part.hour);
    memset(&s->part, 0, sizeof(s->part));
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

/* ---- MACs ------------------------------------------------------------- */

static void put64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (56 - 8 * i));
}

static int64_t get64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    return (int64_t)u;
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

int sdb_chunk_mac(struct sdb *s, uint32_t grp, int64_t day, int64_t tag, int64_t t0, int64_t t1,
                  int64_t n, int64_t prev_t1, int64_t prev_grp, const uint8_t *data, size_t len,
                  uint8_t out[MAC_LEN])
{
    int64_t f[] = {(int64_t)grp, day, tag, t0, t1, n, prev_t1, prev_grp};
    return mac_of(s, "chunk", f, BW_ARRAY_LEN(f), NULL, data, len, out);
}

int sdb_batch_mac(struct sdb *s, int64_t seq, int64_t t_min, int64_t t_max,
                  const uint8_t prev_mac[MAC_LEN], const uint8_t *data, size_t len,
                  uint8_t out[MAC_LEN])
{
    int64_t f[] = {seq, t_min, t_max};
    return mac_of(s, "batch", f, BW_ARRAY_LEN(f), prev_mac, data, len, out);
}

int sdb_tag_mac(struct sdb *s, int64_t id, const char *name, size_t len, uint8_t out[MAC_LEN])
{
    return mac_of(s, "tag", &id, 1, NULL, (const uint8_t *)name, len, out);
}

int sdb_day_mac(struct sdb *s, int64_t grp, int64_t day, uint8_t out[MAC_LEN])
{
    int64_t f[] = {grp, day};
    return mac_of(s, "day", f, BW_ARRAY_LEN(f), NULL, NULL, 0, out);
}

int sdb_tail_mac(struct sdb *s, int64_t tag, int64_t t1, int64_t grp, uint8_t out[MAC_LEN])
{
    int64_t f[] = {tag, t1, grp};
    return mac_of(s, "tail", f, BW_ARRAY_LEN(f), NULL, NULL, 0, out);
}

static int seal_mac(struct sdb *s, const struct sdb_seal *x, uint8_t out[MAC_LEN])
{
    int64_t f[] = {x->recent_oldest, x->recent_newest, x->broken_us};
    return mac_of(s, "seal", f, BW_ARRAY_LEN(f), x->recent_mac, x->tails_xor, MAC_LEN, out);
}

/* ---- meta ------------------------------------------------------------- */

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

/* ---- the seal --------------------------------------------------------- */

int sdb_seal_get(struct sdb *s, struct sdb_seal *out, enum sdb_seal_state *state)
{
    memset(out, 0, sizeof(*out));
    *state = SDB_SEAL_MISSING;
    uint8_t blob[SEAL_BLOB_LEN], mac[MAC_LEN];
    bool found = false;
    int rc = sdb_meta_get_blob(s, "seal", blob, sizeof(blob), &found);
    if (rc || !found)
        return rc;
    out->recent_oldest = get64(blob);
    out->recent_newest = get64(blob + 8);
    out->broken_us = get64(blob + 16);
    memcpy(out->recent_mac, blob + 24, MAC_LEN);
    memcpy(out->tails_xor, blob + 24 + MAC_LEN, MAC_LEN);
    rc = seal_mac(s, out, mac);
    if (!rc)
        *state =
            bw_crypto_equal(mac, blob + 24 + 2 * MAC_LEN, MAC_LEN) ? SDB_SEAL_OK : SDB_SEAL_CHANGED;
    return rc;
}

static int seal_put(struct sdb *s, const struct sdb_seal *x)
{
    uint8_t blob[SEAL_BLOB_LEN];
    put64(blob, x->recent_oldest);
    put64(blob + 8, x->recent_newest);
    put64(blob + 16, x->broken_us);
    memcpy(blob + 24, x->recent_mac, MAC_LEN);
    memcpy(blob + 24 + MAC_LEN, x->tails_xor, MAC_LEN);
    int rc = seal_mac(s, x, blob + 24 + 2 * MAC_LEN);
    return rc ? rc : sdb_meta_set_blob(s, "seal", blob, sizeof(blob));
}

/* Something the seal vouches for is not what the historian wrote: the
 * seal says so from now on, and is never rebuilt to hide it. */
static void seal_break(struct sdb *s, const char *what)
{
    if (s->seal.broken_us)
        return;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE,
           "history: %s was changed outside the historian; `bulwark historian verify` says what",
           what);
    s->seal.broken_us = bw_clock_realtime_us();
    s->seal_dirty = true;
}

/* The seal for the writer to change (read once per transaction). */
static int seal_load(struct sdb *s)
{
    if (s->seal_loaded)
        return BW_OK;
    enum sdb_seal_state state;
    int rc = sdb_seal_get(s, &s->seal, &state);
    if (rc)
        return rc;
    s->seal_loaded = true;
    s->seal_dirty = false;
    if (state != SDB_SEAL_OK)
        seal_break(s, "the seal of history.db");
    return BW_OK;
}

/* The seal was changed: written at commit (at once outside a transaction). */
static int seal_changed(struct sdb *s)
{
    s->seal_dirty = true;
    if (s->in_tx)
        return BW_OK;
    s->seal_loaded = false;
    s->seal_dirty = false;
    return seal_put(s, &s->seal);
}

/* ---- opening ---------------------------------------------------------- */

void sdb_close(struct sdb *s)
{
    sqlite3_finalize(s->tag_insert);
    sqlite3_finalize(s->tag_find);
    sqlite3_finalize(s->recent_insert);
    sqlite3_finalize(s->recent_delete);
    sqlite3_finalize(s->day_insert);
    sqlite3_finalize(s->tail_find);
    sqlite3_finalize(s->tail_put);
    part_forget(s);
    bw_crypto_mac_free(s->mac);
    if (s->db)
        sqlite3_close(s->db);
    memset(s, 0, sizeof(*s));
}

static int check_format(struct sdb *s, const char *path)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(s, "SELECT value FROM meta WHERE key = 'format'", &st);
    if (rc)
        return rc;
    int r = sqlite3_step(st);
    int64_t format = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (format == SDB_FORMAT)
        return BW_OK;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE,
           "%s: history format %" PRId64 "; this build reads format %d only (move the file aside)",
           path, format, SDB_FORMAT);
    return BW_EIO;
}

/* The tables, and for a new file its (empty) seal, in one transaction. */
static int create_schema(struct sdb *s)
{
    sqlite3_stmt *st = NULL;
    int rc = sdb_begin(s);
    if (!rc)
        rc = prepare(s, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", &st);
    bool fresh = !rc && sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    if (!rc)
        rc = exec(s, schema_sql);
    if (!rc && fresh) {
        memset(&s->seal, 0, sizeof(s->seal));
        s->seal_loaded = s->seal_dirty = true;
    }
    if (!rc)
        rc = sdb_commit(s);
    if (rc)
        sdb_rollback(s);
    return rc;
}

int sdb_open(struct sdb *s, const char *path, bool read_only, const uint8_t *key, size_t key_len)
{
    memset(s, 0, sizeof(*s));
    s->read_only = read_only;
    if (!read_only && !key)
        return BW_EINVAL;
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "cannot open %s: %s", path,
               s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sdb_close(s);
        return BW_EIO;
    }
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    int rc = exec(s, "PRAGMA trusted_schema=OFF;");
    if (!rc && key)
        rc = bw_crypto_mac_new(key, key_len, &s->mac);
    /* Batches are the unit of durability: a crash of the process loses
     * no committed batch (the WAL is in the kernel's hands), a power
     * failure at most the last ones; the writer syncs on close. */
    if (!rc && !read_only)
        rc = exec(s, "PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;"
                     "PRAGMA synchronous=NORMAL;");
    if (!rc && !read_only)
        rc = create_schema(s);
    if (!rc)
        rc = check_format(s, path);
    if (!rc && read_only)
        rc = exec(s, "PRAGMA query_only=ON;");
    if (!rc)
        rc = prepare(s, "SELECT id FROM tags WHERE name = ?1", &s->tag_find);
    if (!rc)
        rc = prepare(s, "SELECT t1, grp, mac FROM tails WHERE tag = ?1", &s->tail_find);
    if (!rc && !read_only)
        rc = prepare(s, "INSERT INTO tags(name, mac) VALUES(?1, zeroblob(32))", &s->tag_insert);
    if (!rc && !read_only)
        rc = prepare(s,
                     "INSERT INTO recent(seq, t_min, t_max, data, prev_mac, mac)"
                     " VALUES(?1,?2,?3,?4,?5,?6)",
                     &s->recent_insert);
    if (!rc && !read_only)
        rc = prepare(s, "DELETE FROM recent WHERE seq < ?1", &s->recent_delete);
    if (!rc && !read_only)
        rc = prepare(s, "INSERT OR IGNORE INTO days(grp, day, mac) VALUES(?1, ?2, ?3)",
                     &s->day_insert);
    if (!rc && !read_only)
        rc = prepare(s,
                     "INSERT INTO tails(tag, t1, grp, mac) VALUES(?1, ?2, ?3, ?4)"
                     " ON CONFLICT(tag) DO UPDATE SET t1 = excluded.t1, grp = excluded.grp,"
                     " mac = excluded.mac",
                     &s->tail_put);
    if (rc)
        sdb_close(s);
    return rc;
}

int sdb_begin(struct sdb *s)
{
    int rc = exec(s, "BEGIN IMMEDIATE");
    s->in_tx = rc == BW_OK;
    s->seal_loaded = s->seal_dirty = false;
    return rc;
}

int sdb_commit(struct sdb *s)
{
    int rc = s->seal_dirty ? seal_put(s, &s->seal) : BW_OK;
    if (!rc)
        rc = exec(s, "COMMIT");
    if (!rc)
        s->in_tx = s->seal_loaded = s->seal_dirty = false;
    return rc;
}

void sdb_rollback(struct sdb *s)
{
    part_forget(s);
    s->in_tx = s->seal_loaded = s->seal_dirty = false;
    if (!sqlite3_get_autocommit(s->db) && exec(s, "ROLLBACK") != BW_OK)
        bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: rollback failed");
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
    if (rc)
        return rc;
    /* The id is known once the row is in: its MAC follows. */
    *id = sqlite3_last_insert_rowid(s->db);
    uint8_t mac[MAC_LEN];
    rc = sdb_tag_mac(s, *id, name, strlen(name), mac);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = prepare(s, "UPDATE tags SET mac = ?2 WHERE id = ?1", &st);
    if (!rc) {
        sqlite3_bind_int64(st, 1, *id);
        sqlite3_bind_blob(st, 2, mac, MAC_LEN, SQLITE_STATIC);
        rc = step_done(s, st);
    }
    sqlite3_finalize(st);
    return rc;
}

/* c_<grp>_<day> and m_<grp>_<day>; day may be negative (before 1970). */
void sdb_table_name(char *out, size_t size, char kind, uint32_t grp, int64_t day)
{
    int n = snprintf(out, size, "%c_%u_%s%" PRIu64, kind, grp, day < 0 ? "n" : "",
                     day < 0 ? (uint64_t)0 - (uint64_t)day : (uint64_t)day);
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0';
}

bool sdb_table_parse(const char *name, char *kind, uint32_t *grp, int64_t *day)
{
    if ((name[0] != 'c' && name[0] != 'm') || name[1] != '_')
        return false;
    const char *g = name + 2, *us = strchr(g, '_');
    if (!us)
        return false;
    const char *d = us + 1;
    bool neg = *d == 'n';
    d += neg;
    uint64_t gv = 0, dv = 0;
    if (bw_parse_u64(g, (size_t)(us - g), UINT32_MAX, &gv) != BW_OK ||
        bw_parse_u64(d, strlen(d), INT64_MAX, &dv) != BW_OK)
        return false;
    *kind = name[0];
    *grp = (uint32_t)gv;
    *day = neg ? -(int64_t)dv : (int64_t)dv;
    /* Only the one spelling table_name writes (no leading zeros, no "n0"). */
    char again[48];
    sdb_table_name(again, sizeof(again), *kind, *grp, *day);
    return strcmp(again, name) == 0;
}

int sdb_day_ensure(struct sdb *s, uint32_t grp, int64_t day)
{
    char c[48], m[48], h[48], sql[768];
    sdb_table_name(c, sizeof(c), 'c', grp, day);
    sdb_table_name(m, sizeof(m), 'm', grp, day);
    sdb_table_name(h, sizeof(h), 'h', grp, day);
    int n = snprintf(sql, sizeof(sql),
                     "CREATE TABLE IF NOT EXISTS %s(tag INTEGER NOT NULL, t0 INTEGER NOT NULL,"
                     " t1 INTEGER NOT NULL, n INTEGER NOT NULL, prev_t1 INTEGER NOT NULL,"
                     " prev_grp INTEGER NOT NULL, data BLOB NOT NULL, mac BLOB NOT NULL,"
                     " PRIMARY KEY(tag, t0)) WITHOUT ROWID;"
                     "CREATE TABLE IF NOT EXISTS %s(tag INTEGER NOT NULL, t INTEGER NOT NULL,"
                     " mn REAL, mx REAL, sm REAL, fi REAL, la REAL, ft INTEGER, lt INTEGER,"
                     " n INTEGER NOT NULL, n_all INTEGER NOT NULL,"
                     " PRIMARY KEY(tag, t)) WITHOUT ROWID;"
                     "CREATE TABLE IF NOT EXISTS %s(tag INTEGER NOT NULL, t INTEGER NOT NULL,"
                     " mn REAL, mx REAL, sm REAL, fi REAL, la REAL, ft INTEGER, lt INTEGER,"
                     " n INTEGER NOT NULL, n_all INTEGER NOT NULL,"
                     " PRIMARY KEY(tag, t)) WITHOUT ROWID;",
                     c, m, h);
    if (n < 0 || (size_t)n >= sizeof(sql) || !c[0] || !m[0] || !h[0])
        return BW_EINVAL;
    uint8_t mac[MAC_LEN];
    int rc = exec(s, sql);
    if (!rc)
        rc = sdb_day_mac(s, grp, day, mac);
    if (rc)
        return rc;
    sqlite3_bind_int64(s->day_insert, 1, grp);
    sqlite3_bind_int64(s->day_insert, 2, day);
    sqlite3_bind_blob(s->day_insert, 3, mac, MAC_LEN, SQLITE_STATIC);
    return step_done(s, s->day_insert);
}

int sdb_recent_insert(struct sdb *s, int64_t seq, int64_t t_min, int64_t t_max, const uint8_t *data,
                      size_t len, const uint8_t prev_mac[32], uint8_t mac_out[32])
{
    int rc = sdb_batch_mac(s, seq, t_min, t_max, prev_mac, data, len, mac_out);
    if (rc)
        return rc;
    sqlite3_bind_int64(s->recent_insert, 1, seq);
    sqlite3_bind_int64(s->recent_insert, 2, t_min);
    sqlite3_bind_int64(s->recent_insert, 3, t_max);
    sqlite3_bind_blob(s->recent_insert, 4, data, (int)len, SQLITE_STATIC);
    sqlite3_bind_blob(s->recent_insert, 5, prev_mac, MAC_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(s->recent_insert, 6, mac_out, MAC_LEN, SQLITE_STATIC);
    rc = step_done(s, s->recent_insert);
    if (!rc)
        rc = seal_load(s);
    if (rc)
        return rc;
    /* The writer numbers on from the newest batch kept; a number that
     * does not follow the seal means batches went missing meanwhile. */
    if (s->seal.recent_newest != 0 && seq != s->seal.recent_newest + 1)
        seal_break(s, "the recent batches");
    if (s->seal.recent_newest == 0)
        s->seal.recent_oldest = seq;
    s->seal.recent_newest = seq;
    memcpy(s->seal.recent_mac, mac_out, MAC_LEN);
    return seal_changed(s);
}

/* The tails row of tag; *found false when none. */
static int tail_read(struct sdb *s, int64_t tag, int64_t *t1, int64_t *grp, uint8_t mac[MAC_LEN],
                     bool *found)
{
    *found = false;
    sqlite3_bind_int64(s->tail_find, 1, tag);
    int r = sqlite3_step(s->tail_find);
    if (r == SQLITE_ROW) {
        *t1 = sqlite3_column_int64(s->tail_find, 0);
        *grp = sqlite3_column_int64(s->tail_find, 1);
        memset(mac, 0, MAC_LEN);
        if (sqlite3_column_bytes(s->tail_find, 2) == MAC_LEN)
            memcpy(mac, sqlite3_column_blob(s->tail_find, 2), MAC_LEN);
        *found = true;
    }
    sqlite3_reset(s->tail_find);
    sqlite3_clear_bindings(s->tail_find);
    return r == SQLITE_ROW || r == SQLITE_DONE ? BW_OK : BW_EIO;
}

int sdb_tail_get(struct sdb *s, int64_t tag, int64_t *t1, bool *found)
{
    int64_t grp;
    uint8_t mac[MAC_LEN];
    return tail_read(s, tag, t1, &grp, mac, found);
}

/* The tag's newest closed chunk is now (t1, grp); old_mac: the MAC of
 * the row it replaces (NULL: none). The seal's XOR follows. */
static int tail_write(struct sdb *s, int64_t tag, int64_t t1, int64_t grp, const uint8_t *old_mac)
{
    uint8_t mac[MAC_LEN];
    int rc = sdb_tail_mac(s, tag, t1, grp, mac);
    if (!rc)
        rc = seal_load(s);
    if (rc)
        return rc;
    sqlite3_bind_int64(s->tail_put, 1, tag);
    sqlite3_bind_int64(s->tail_put, 2, t1);
    sqlite3_bind_int64(s->tail_put, 3, grp);
    sqlite3_bind_blob(s->tail_put, 4, mac, MAC_LEN, SQLITE_STATIC);
    rc = step_done(s, s->tail_put);
    if (rc)
        return rc;
    for (size_t i = 0; i < MAC_LEN; i++)
        s->seal.tails_xor[i] ^= mac[i] ^ (old_mac ? old_mac[i] : 0);
    return seal_changed(s);
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
    int rc = step_done(s, s->recent_delete);
    if (!rc)
        rc = seal_load(s);
    if (rc || s->seal.recent_newest == 0 || seq <= s->seal.recent_oldest)
        return rc;
    /* From the seal, not from what the table holds: a batch deleted by
     * someone else stays missing. */
    if (seq > s->seal.recent_newest) {
        s->seal.recent_oldest = s->seal.recent_newest = 0;
        memset(s->seal.recent_mac, 0, MAC_LEN);
    } else {
        s->seal.recent_oldest = seq;
    }
    return seal_changed(s);
}

/* ---- retention marks --------------------------------------------------- */

int sdb_retention_get(struct sdb *s, uint32_t grp, int64_t *first_day, bool *found, bool *valid)
{
    char key[32];
    uint8_t blob[MARK_BLOB_LEN], mac[MAC_LEN];
    *valid = false;
    int rc = bw_snprintf(key, sizeof(key), "retained_%u", grp);
    if (!rc)
        rc = sdb_meta_get_blob(s, key, blob, sizeof(blob), found);
    if (rc || !*found)
        return rc;
    *first_day = get64(blob);
    int64_t f[] = {(int64_t)grp, *first_day};
    rc = mac_of(s, "retain", f, BW_ARRAY_LEN(f), NULL, NULL, 0, mac);
    if (!rc)
        *valid = bw_crypto_equal(mac, blob + 8, MAC_LEN);
    return rc;
}

int sdb_retention_mark(struct sdb *s, uint32_t grp, int64_t first_day)
{
    int64_t day = 0;
    bool found = false, valid = false;
    int rc = sdb_retention_get(s, grp, &day, &found, &valid);
    if (rc || (found && valid && day >= first_day))
        return rc;
    char key[32];
    uint8_t blob[MARK_BLOB_LEN];
    int64_t f[] = {(int64_t)grp, first_day};
    put64(blob, first_day);
    rc = bw_snprintf(key, sizeof(key), "retained_%u", grp);
    if (!rc)
        rc = mac_of(s, "retain", f, BW_ARRAY_LEN(f), NULL, NULL, 0, blob + 8);
    return rc ? rc : sdb_meta_set_blob(s, key, blob, sizeof(blob));
}

/* ---- chunks ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int agg_prepare(struct sdb *s, const char *table, sqlite3_stmt **st)
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
    return prepare(s, sql, st);
}

static int agg_merge(struct sdb *s, sqlite3_stmt *st, int64_t tag, int64_t minute,
                     const struct sdb_agg *a, int64_t ft, int64_t lt)
{
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
    return step_done(s, st);
}

/* The cached statements of partition (grp, day), making it if needed. */
static int part_use(struct sdb *s, uint32_t grp, int64_t day)
{
    if (s->part.valid && s->part.grp == grp && s->part.day == day)
        return BW_OK;
    part_forget(s);
    int rc = sdb_day_ensure(s, grp, day);
    char table[48], sql[200];
    sdb_table_name(table, sizeof(table), 'c', grp, day);
    int w = snprintf(sql, sizeof(sql),
                     "INSERT INTO %s(tag, t0, t1, n, prev_t1, prev_grp, data, mac)"
                     " VALUES(?1,?2,?3,?4,?5,?6,?7,?8)",
                     table);
    if (!rc)
        rc = w > 0 && (size_t)w < sizeof(sql) ? prepare(s, sql, &s->part.chunk) : BW_EINVAL;
    sdb_table_name(table, sizeof(table), 'm', grp, day);
    if (!rc)
        rc = agg_prepare(s, table, &s->part.minute);
    sdb_table_name(table, sizeof(table), 'h', grp, day);
    if (!rc)
        rc = agg_prepare(s, table, &s->part.hour);
    if (rc) {
        part_forget(s);
        return rc;
    }
    s->part.valid = true;
    s->part.grp = grp;
    s->part.day = day;
    return BW_OK;
}

/* The chunk row itself, linked to (prev_t1, prev_grp). */
static int chunk_row_insert(struct sdb *s, uint32_t grp, int64_t day, int64_t tag,
                            const struct bw_sample *samples, size_t n, int64_t prev_t1,
                            int64_t prev_grp)
{
    int64_t t0 = samples[0].ts_us, t1 = samples[n - 1].ts_us;
    size_t cap = n * BW_CHUNK_SAMPLE_MAX + 16, len = 0;
    uint8_t *data = bw_malloc(cap);
    if (!data)
        return BW_ENOMEM;
    uint8_t mac[MAC_LEN];
    int rc = bw_chunk_encode(samples, n, data, cap, &len);
    if (!rc)
        rc = sdb_chunk_mac(s, grp, day, tag, t0, t1, (int64_t)n, prev_t1, prev_grp, data, len, mac);
    sqlite3_stmt *st = s->part.chunk;
    if (!rc) {
        sqlite3_bind_int64(st, 1, tag);
        sqlite3_bind_int64(st, 2, t0);
        sqlite3_bind_int64(st, 3, t1);
        sqlite3_bind_int64(st, 4, (int64_t)n);
        sqlite3_bind_int64(st, 5, prev_t1);
        sqlite3_bind_int64(st, 6, prev_grp);
        sqlite3_bind_blob(st, 7, data, (int)len, SQLITE_STATIC);
        sqlite3_bind_blob(st, 8, mac, MAC_LEN, SQLITE_STATIC);
        rc = step_done(s, st);
    }
    bw_free(data);
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
    /* The chunk before it: the tag's tails row. */
    int64_t prev_t1 = SDB_NO_PREV_T1, prev_grp = SDB_NO_PREV_GRP;
    uint8_t old_mac[MAC_LEN], check[MAC_LEN];
    bool had = false;
    int rc = tail_read(s, tag, &prev_t1, &prev_grp, old_mac, &had);
    if (!rc && had && t0 <= prev_t1)
        rc = BW_EINVAL; /* the chain goes forward in time only */
    if (!rc && had)
        rc = sdb_tail_mac(s, tag, prev_t1, prev_grp, check);
    if (!rc && had && !bw_crypto_equal(check, old_mac, MAC_LEN)) {
        rc = seal_load(s);
        if (!rc) {
            seal_break(s, "a tag's tails row");
            rc = seal_changed(s);
        }
    }
    if (!rc)
        rc = part_use(s, grp, day);
    if (!rc)
        rc = chunk_row_insert(s, grp, day, tag, samples, n, prev_t1, prev_grp);
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
    rc = agg_merge(s, s->part.minute, tag, minute, &a, ft, lt);
    /* A chunk is within one minute, so within one hour too. */
    if (!rc)
        rc = agg_merge(s, s->part.hour, tag, floor_div(t0, SDB_HOUR_US) * SDB_HOUR_US, &a, ft, lt);
    return rc ? rc : tail_write(s, tag, t1, grp, had ? old_mac : NULL);
}

/* The first column of every row of st (bound, not yet stepped) into a
 * new array; st is finalized. */
static int column_ints(sqlite3_stmt *st, int64_t **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t cap = 0;
    int rc = BW_OK, r = SQLITE_DONE;
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
    return column_ints(st, out, count);
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
        sdb_table_name(table, sizeof(table), 'c', grp, days[d]);
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

static int aggs_read(struct sdb *s, char kind, uint32_t grp, int64_t tag, int64_t from, int64_t to,
                     sdb_agg_fn fn, void *ctx)
{
    int64_t *days = NULL;
    size_t nd = 0;
    int rc = days_between(s, grp, floor_div(from, SDB_DAY_US), floor_div(to - 1, SDB_DAY_US), &days,
                          &nd);
    bool go = true;
    for (size_t d = 0; !rc && go && d < nd; d++) {
        char table[48], sql[200];
        sdb_table_name(table, sizeof(table), kind, grp, days[d]);
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

int sdb_minutes_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from, int64_t to,
                     sdb_agg_fn fn, void *ctx)
{
    return aggs_read(s, 'm', grp, tag, from, to, fn, ctx);
}

int sdb_hours_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from, int64_t to,
                   sdb_agg_fn fn, void *ctx)
{
    return aggs_read(s, 'h', grp, tag, from, to, fn, ctx);
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
    int64_t *all = NULL;
    size_t n = 0;
    rc = column_ints(st, &all, &n);
    if (!rc && n) {
        *out = bw_calloc(n, sizeof(**out));
        rc = *out ? BW_OK : BW_ENOMEM;
        for (size_t i = 0; !rc && i < n; i++)
            (*out)[i] = (uint32_t)all[i];
        *count = rc ? 0 : n;
    }
    bw_free(all);
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
        sdb_table_name(table, sizeof(table), 'c', grp, days[d]);
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

int sdb_vacuum(struct sdb *s)
{
    return exec(s, "PRAGMA incremental_vacuum;");
}

int sdb_partition_drop(struct sdb *s, uint32_t grp, int64_t day)
{
    char c[48], m[48], h[48], sql[256];
    sdb_table_name(c, sizeof(c), 'c', grp, day);
    sdb_table_name(m, sizeof(m), 'm', grp, day);
    sdb_table_name(h, sizeof(h), 'h', grp, day);
    int n = snprintf(sql, sizeof(sql),
                     "DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS %s; DROP TABLE IF EXISTS %s;"
                     "DELETE FROM days WHERE grp = %u AND day = %lld;",
                     c, m, h, grp, (long long)day);
    if (n < 0 || (size_t)n >= sizeof(sql) || !c[0] || !m[0] || !h[0])
        return BW_EINVAL;
    /* The cached statements may name the tables. */
    part_forget(s);
    int rc = exec(s, sql);
    return rc ? rc : sdb_retention_mark(s, grp, day + 1);
}

int sdb_partitions_of(struct sdb *s, uint32_t grp, int64_t **days, size_t *count)
{
    return days_between(s, grp, INT64_MIN, INT64_MAX, days, count);
}

int sdb_partition_bytes(struct sdb *s, uint32_t grp, int64_t day, uint64_t *bytes)
{
    *bytes = 0;
    sqlite3_stmt *st = NULL;
    int rc =
        prepare(s, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN (?1, ?2, ?3)", &st);
    if (rc)
        return rc;
    char c[48], m[48], h[48];
    sdb_table_name(c, sizeof(c), 'c', grp, day);
    sdb_table_name(m, sizeof(m), 'm', grp, day);
    sdb_table_name(h, sizeof(h), 'h', grp, day);
    sqlite3_bind_text(st, 1, c, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, m, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, h, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        *bytes = (uint64_t)sqlite3_column_int64(st, 0);
    else
        rc = BW_EIO;
    sqlite3_finalize(st);
    return rc;
}
