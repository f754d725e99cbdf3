/* SPDX-License-Identifier: Apache-2.0
 *
 * STATE/audit.db: the schema and the statements the writer, the reader
 * and the verifier use. WAL with synchronous=FULL, so a committed
 * transaction is on disk when COMMIT returns, except for the writer,
 * which turns it to NORMAL and syncs the WAL itself (sync.c). Triggers refuse every
 * UPDATE and DELETE of records and checkpoints; the only delete allowed
 * is the writer's own roll into the archive, through a function that
 * only its connection registers (bw_audit_archiving()), so no other
 * program using SQLite can delete a record without first dropping a
 * trigger, which the verifier then notices as a gap or broken chain.
 *
 * Schema (docs/internals/audit.md):
 *   records(seq PK, ts_us, category, event_id, type, result, source_kind,
 *           source_name, source_address NULL, details, prev_hash, mac)
 *   checkpoints(seq PK, ts_us, hash, sig)
 *   segments(first_seq PK, last_seq, file, file_sha256, last_hash, ts_us)
 *   meta(key PK, value)
 * The thread that owns a connection is the only one that uses it.
 */
#include "audit/internal.h"

#include <string.h>
#include <sys/stat.h>

#define BUSY_TIMEOUT_MS 5000

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS records("
    " seq INTEGER PRIMARY KEY, ts_us INTEGER NOT NULL, category INTEGER NOT NULL,"
    " event_id INTEGER NOT NULL, type TEXT NOT NULL, result INTEGER NOT NULL,"
    " source_kind INTEGER NOT NULL, source_name TEXT NOT NULL, source_address TEXT,"
    " details TEXT NOT NULL, prev_hash BLOB NOT NULL, mac BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS records_ts ON records(ts_us);"
    "CREATE INDEX IF NOT EXISTS records_source ON records(source_name);"
    "CREATE TABLE IF NOT EXISTS checkpoints("
    " seq INTEGER PRIMARY KEY, ts_us INTEGER NOT NULL, hash BLOB NOT NULL, sig BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS segments("
    " first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, file TEXT NOT NULL,"
    " file_sha256 BLOB NOT NULL, last_hash BLOB NOT NULL, ts_us INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('format', 1);"
    "CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records"
    " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records"
    " WHEN NOT bw_audit_archiving()"
    " BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints"
    " BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints"
    " WHEN NOT bw_audit_archiving()"
    " BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS segments_no_change BEFORE UPDATE ON segments"
    " BEGIN SELECT RAISE(ABORT, 'audit segments are append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS segments_no_delete BEFORE DELETE ON segments"
    " BEGIN SELECT RAISE(ABORT, 'audit segments are append-only'); END;";

/* bw_audit_archiving(): true only while the writer rolls records into the
 * archive. The flag lives in the writer; the function sees it through its
 * user data. */
static void archiving_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    const _Atomic bool *flag = sqlite3_user_data(ctx);
    sqlite3_result_int(ctx, atomic_load(flag) ? 1 : 0);
}

int audit_store_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int src = sqlite3_exec(db, sql, NULL, NULL, &msg);
    sqlite3_free(msg);
    if (src == SQLITE_OK)
        return BW_OK;
    return src == SQLITE_FULL ? BW_EFULL : BW_EIO;
}

void audit_store_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK;", NULL, NULL, NULL);
}

int audit_store_open_rw(const char *state_dir, const _Atomic bool *archiving, sqlite3 **out)
{
    *out = NULL;
    char path[BW_AUDIT_PATH_MAX];
    int rc = audit_path(path, state_dir, BW_AUDIT_DB_NAME);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return BW_EIO;
    }
    /* Private whatever the caller's umask (the state directory is too). */
    if (chmod(path, 0600) != 0) {
        sqlite3_close(db);
        return BW_EIO;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    /* The function must exist before the triggers that name it run, and
     * be innocuous: with trusted_schema=OFF a trigger may call no other
     * kind (it only reads a flag). */
    if (sqlite3_create_function_v2(db, "bw_audit_archiving", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS,
                                   (void *)archiving, archiving_fn, NULL, NULL,
                                   NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return BW_EIO;
    }
    rc = audit_store_exec(db, "PRAGMA journal_mode=WAL;");
    if (rc == BW_OK)
        rc = audit_store_exec(db, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                                  "PRAGMA secure_delete=ON; PRAGMA trusted_schema=OFF;");
    if (rc == BW_OK)
        rc = audit_store_exec(db, "BEGIN IMMEDIATE;");
    if (rc == BW_OK) {
        rc = audit_store_exec(db, schema_sql);
        int end = audit_store_exec(db, rc == BW_OK ? "COMMIT;" : "ROLLBACK;");
        if (rc == BW_OK)
            rc = end;
    }
    if (rc) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return BW_OK;
}

int audit_store_open_ro(const char *state_dir, sqlite3 **out)
{
    *out = NULL;
    char path[BW_AUDIT_PATH_MAX];
    int rc = audit_path(path, state_dir, BW_AUDIT_DB_NAME);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    int src = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW, NULL);
    if (src != SQLITE_OK) {
        int err = sqlite3_extended_errcode(db);
        sqlite3_close(db);
        return err == SQLITE_CANTOPEN ? BW_ENOTFOUND : BW_EIO;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    /* Never run code that a changed schema might carry. */
    if (audit_store_exec(db, "PRAGMA trusted_schema=OFF; PRAGMA query_only=ON;") != BW_OK) {
        sqlite3_close(db);
        return BW_EIO;
    }
    /* A file that is not an audit trail (or not a database) fails here. */
    sqlite3_stmt *st = NULL;
    src = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key='format'", -1, &st, NULL);
    if (src != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 1) {
        sqlite3_finalize(st);
        sqlite3_close(db);
        return BW_EIO;
    }
    sqlite3_finalize(st);
    *out = db;
    return BW_OK;
}

static bool blob32(sqlite3_stmt *st, int col, uint8_t out[BW_SHA256_LEN])
{
    if (sqlite3_column_bytes(st, col) != BW_SHA256_LEN)
        return false;
    const void *b = sqlite3_column_blob(st, col);
    if (!b)
        return false;
    memcpy(out, b, BW_SHA256_LEN);
    return true;
}

/* The entry view of the row st stands on (columns as in scan_sql). */
static void entry_from_row(sqlite3_stmt *st, struct bw_audit_entry *e)
{
    *e = (struct bw_audit_entry){
        .seq = (uint64_t)sqlite3_column_int64(st, 0),
        .ts_us = sqlite3_column_int64(st, 1),
        .category = (enum bw_audit_category)sqlite3_column_int(st, 2),
        .event_id = (uint32_t)sqlite3_column_int64(st, 3),
        .type = (const char *)sqlite3_column_text(st, 4),
        .result = (enum bw_audit_result)sqlite3_column_int(st, 5),
        .source_kind = (enum bw_audit_source_kind)sqlite3_column_int(st, 6),
        .source_name = (const char *)sqlite3_column_text(st, 7),
        .source_address = (const char *)sqlite3_column_text(st, 8),
        .details = (const char *)sqlite3_column_text(st, 9),
    };
    if (!e->type)
        e->type = "";
    if (!e->source_name)
        e->source_name = "";
    if (!e->details)
        e->details = "";
}

#define ROW_COLUMNS                                                                                \
    "seq, ts_us, category, event_id, type, result, source_kind, source_name, source_address,"      \
    " details, prev_hash, mac"

int audit_store_scan(sqlite3 *db, uint64_t from, uint64_t to, audit_row_fn fn, void *ctx)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT " ROW_COLUMNS " FROM records WHERE seq >= ? AND seq <= ?"
                           " ORDER BY seq",
                           -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(from > INT64_MAX ? INT64_MAX : from));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(to > INT64_MAX ? INT64_MAX : to));
    int rc = BW_OK, src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        struct bw_audit_entry e;
        entry_from_row(st, &e);
        uint8_t prev[BW_SHA256_LEN] = {0}, mac[BW_SHA256_LEN] = {0};
        /* A wrong-sized blob is handed on as zeros: the chain or MAC
         * check then names the record. */
        (void)blob32(st, 10, prev);
        (void)blob32(st, 11, mac);
        rc = fn(&e, prev, mac, ctx);
        if (rc)
            break;
    }
    if (rc == BW_OK && src != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    return rc;
}

struct tail_ctx {
    struct audit_tail *tail;
    struct bw_crypto_mac *mac;
    int rc;
};

static int tail_row(const struct bw_audit_entry *e, const uint8_t prev[BW_SHA256_LEN],
                    const uint8_t mac[BW_SHA256_LEN], void *arg)
{
    struct tail_ctx *t = arg;
    t->tail->seq = e->seq;
    t->tail->ts_us = e->ts_us;
    int rc = audit_row_hash(e, prev, t->tail->hash);
    if (rc)
        return rc;
    uint8_t want[BW_SHA256_LEN];
    if (t->mac) {
        rc = audit_row_mac(t->mac, t->tail->hash, want);
        if (rc)
            return rc;
        t->tail->mac_ok = bw_crypto_equal(want, mac, BW_SHA256_LEN);
    }
    return BW_OK;
}

int audit_store_query_u64(sqlite3 *db, const char *sql, uint64_t *out, bool *found)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    int src = sqlite3_step(st);
    bool got = src == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (found)
        *found = got;
    *out = got ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return src == SQLITE_ROW || src == SQLITE_DONE ? BW_OK : BW_EIO;
}

int audit_store_tail(sqlite3 *db, struct bw_crypto_mac *mac, struct audit_tail *out)
{
    memset(out, 0, sizeof(*out));
    out->mac_ok = true;
    uint64_t last;
    bool found;
    int rc = audit_store_query_u64(db, "SELECT max(seq) FROM records", &last, &found);
    if (rc)
        return rc;
    if (found) {
        struct tail_ctx t = {.tail = out, .mac = mac};
        rc = audit_store_scan(db, last, last, tail_row, &t);
        if (rc)
            return rc;
    } else {
        /* Every record went into the archive: continue from the newest
         * segment's last record. */
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db,
                               "SELECT last_seq, last_hash, ts_us FROM segments"
                               " ORDER BY first_seq DESC LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK)
            return BW_EIO;
        int src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            out->seq = (uint64_t)sqlite3_column_int64(st, 0);
            if (!blob32(st, 1, out->hash))
                rc = BW_EMALFORMED;
            out->ts_us = sqlite3_column_int64(st, 2);
        } else if (src != SQLITE_DONE) {
            rc = BW_EIO;
        }
        sqlite3_finalize(st);
        if (rc)
            return rc;
    }
    uint64_t ck;
    rc = audit_store_query_u64(db, "SELECT max(seq) FROM checkpoints", &ck, &found);
    out->checkpoint_seq = ck;
    return rc;
}

int audit_store_prepare_insert(sqlite3 *db, sqlite3_stmt **out)
{
    *out = NULL;
    int src = sqlite3_prepare_v3(db,
                                 "INSERT INTO records(" ROW_COLUMNS ")"
                                 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    return src == SQLITE_OK ? BW_OK : BW_EIO;
}

int audit_store_insert(sqlite3_stmt *insert, const struct audit_row *row)
{
    sqlite3_reset(insert);
    sqlite3_bind_int64(insert, 1, (sqlite3_int64)row->seq);
    sqlite3_bind_int64(insert, 2, row->ts_us);
    sqlite3_bind_int(insert, 3, row->category);
    sqlite3_bind_int64(insert, 4, row->event_id);
    sqlite3_bind_text(insert, 5, row->type, -1, SQLITE_STATIC);
    sqlite3_bind_int(insert, 6, row->result);
    sqlite3_bind_int(insert, 7, row->source_kind);
    sqlite3_bind_text(insert, 8, row->source_name, -1, SQLITE_STATIC);
    if (row->source_address)
        sqlite3_bind_text(insert, 9, row->source_address, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(insert, 9);
    sqlite3_bind_text(insert, 10, row->details, -1, SQLITE_STATIC);
    sqlite3_bind_blob(insert, 11, row->prev_hash, BW_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(insert, 12, row->mac, BW_SHA256_LEN, SQLITE_STATIC);
    int src = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (src == SQLITE_DONE)
        return BW_OK;
    return (src & 0xff) == SQLITE_FULL ? BW_EFULL : BW_EIO;
}

int audit_store_checkpoint(sqlite3 *db, uint64_t seq, int64_t ts_us,
                           const uint8_t hash[BW_SHA256_LEN], const uint8_t sig[BW_ED25519_SIG_LEN])
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT OR IGNORE INTO checkpoints(seq, ts_us, hash, sig)"
                           " VALUES(?, ?, ?, ?)",
                           -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    sqlite3_bind_int64(st, 2, ts_us);
    sqlite3_bind_blob(st, 3, hash, BW_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, sig, BW_ED25519_SIG_LEN, SQLITE_STATIC);
    int src = sqlite3_step(st);
    sqlite3_finalize(st);
    if (src == SQLITE_DONE)
        return BW_OK;
    return (src & 0xff) == SQLITE_FULL ? BW_EFULL : BW_EIO;
}

int audit_store_used_bytes(sqlite3 *db, uint64_t *out)
{
    uint64_t pages, free_pages, page_size;
    bool found;
    int rc = audit_store_query_u64(db, "PRAGMA page_count", &pages, &found);
    if (rc == BW_OK)
        rc = audit_store_query_u64(db, "PRAGMA freelist_count", &free_pages, &found);
    if (rc == BW_OK)
        rc = audit_store_query_u64(db, "PRAGMA page_size", &page_size, &found);
    if (rc)
        return rc;
    *out = (pages - (free_pages < pages ? free_pages : pages)) * page_size;
    return BW_OK;
}
