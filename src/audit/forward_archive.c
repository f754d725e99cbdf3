/* SPDX-License-Identifier: Apache-2.0
 *
 * The forwarder's way into the archive. When capacity management has
 * rolled records out of audit.db into STATE/audit-archive/ before the
 * collector had them (a long outage on a full trail), the forwarder reads
 * them from their segment files instead. A segment is used only when it
 * is the file audit.db lists for that range (same SHA-256, same last
 * hash), its signature holds under the trail's public key and every
 * record's chain and MAC hold (audit_segment_reader_open checks the whole
 * file first); each record is checked again as it is read. A range that
 * no segment holds, whose segment is missing or does not check, is handed
 * back as a gap that the forwarder skips and records. The segment being
 * read stays open between batches. Forwarder thread only.
 */
#include "audit/forward_internal.h"
#include "audit/internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An unreadable segment (BW_EIO: not a regular file, a read error) is
 * tried this many times, a batch turn apart, before its range is given
 * up as a gap. */
#define ARCHIVE_IO_TRIES 5
#define FILE_NAME_MAX 255

struct bw_audit_fwd_archive {
    char state_dir[BW_AUDIT_PATH_MAX];
    sqlite3 *db; /* read-only; NULL until first needed */
    sqlite3_stmt *find, *prev;
    struct audit_keys keys;
    struct bw_crypto_mac *mac;
    /* The segment being read: records next_seq..seg_last are left. */
    struct audit_segment_reader *reader;
    uint64_t next_seq, seg_last;
    /* Failed attempts at the segment holding io_first. */
    uint64_t io_first;
    unsigned io_failures;
};

/* A row of `segments`, checked for the shape the writer gives it. */
struct segment_row {
    uint64_t first, last;
    char file[FILE_NAME_MAX + 1];
    uint8_t file_sha256[BW_SHA256_LEN];
    uint8_t last_hash[BW_SHA256_LEN];
};

int bw_audit_fwd_archive_new(const char *state_dir, struct bw_audit_fwd_archive **out)
{
    *out = NULL;
    struct bw_audit_fwd_archive *a = bw_calloc(1, sizeof(*a));
    if (!a)
        return BW_ENOMEM;
    if (bw_strlcpy(a->state_dir, state_dir, sizeof(a->state_dir)) >= sizeof(a->state_dir)) {
        bw_free(a);
        return BW_EINVAL;
    }
    *out = a;
    return BW_OK;
}

static void close_reader(struct bw_audit_fwd_archive *a)
{
    audit_segment_reader_free(a->reader);
    a->reader = NULL;
    a->next_seq = a->seg_last = 0;
}

/* Drops the connection and the keys; the next call starts afresh. */
static void disconnect(struct bw_audit_fwd_archive *a)
{
    close_reader(a);
    sqlite3_finalize(a->find);
    sqlite3_finalize(a->prev);
    sqlite3_close(a->db);
    a->find = a->prev = NULL;
    a->db = NULL;
    bw_crypto_mac_free(a->mac);
    a->mac = NULL;
    audit_keys_clear(&a->keys);
}

void bw_audit_fwd_archive_free(struct bw_audit_fwd_archive *a)
{
    if (!a)
        return;
    disconnect(a);
    bw_free(a);
}

/* The read-only connection, its statements, the MAC key and the public
 * key. A failure here is never a reason to skip records: BW_EIO, tried
 * again at the next turn. */
static int connect_archive(struct bw_audit_fwd_archive *a)
{
    if (a->db)
        return BW_OK;
    int rc = audit_keys_load(a->state_dir, false, false, &a->keys);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(a->keys.mac_key, sizeof(a->keys.mac_key), &a->mac);
    if (rc == BW_OK)
        rc = audit_store_open_ro(a->state_dir, &a->db);
    if (rc == BW_OK &&
        (sqlite3_prepare_v2(a->db,
                            "SELECT first_seq, last_seq, file, file_sha256, last_hash FROM segments"
                            " WHERE last_seq >= ? ORDER BY first_seq LIMIT 1",
                            -1, &a->find, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(a->db, "SELECT last_hash FROM segments WHERE last_seq = ?", -1,
                            &a->prev, NULL) != SQLITE_OK))
        rc = BW_EIO;
    if (rc) {
        disconnect(a);
        return rc == BW_ENOMEM ? rc : BW_EIO;
    }
    return BW_OK;
}

static bool blob_is(sqlite3_stmt *st, int col, size_t len)
{
    return sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == (int)len;
}

/* audit.db is read as untrusted: a row must look as the writer makes it,
 * its file a plain base name. */
static bool read_row(sqlite3_stmt *st, struct segment_row *row)
{
    const char *file = (const char *)sqlite3_column_text(st, 2);
    int bytes = sqlite3_column_bytes(st, 2);
    int64_t first = sqlite3_column_int64(st, 0), last = sqlite3_column_int64(st, 1);
    row->first = first > 0 ? (uint64_t)first : 0;
    row->last = last > 0 ? (uint64_t)last : 0;
    if (!file || bytes <= 0 || bytes > FILE_NAME_MAX || strlen(file) != (size_t)bytes ||
        strchr(file, '/') || strcmp(file, ".") == 0 || strcmp(file, "..") == 0 ||
        !blob_is(st, 3, BW_SHA256_LEN) || !blob_is(st, 4, BW_SHA256_LEN) || first <= 0 ||
        last < first)
        return false;
    memcpy(row->file, file, (size_t)bytes + 1);
    memcpy(row->file_sha256, sqlite3_column_blob(st, 3), BW_SHA256_LEN);
    memcpy(row->last_hash, sqlite3_column_blob(st, 4), BW_SHA256_LEN);
    return true;
}

static void set_gap(struct bw_audit_fwd_gap *gap, uint64_t first, uint64_t last, uint64_t before,
                    const char *fmt, ...) BW_PRINTF(5, 6);
static void set_gap(struct bw_audit_fwd_gap *gap, uint64_t first, uint64_t last, uint64_t before,
                    const char *fmt, ...)
{
    gap->first = first;
    /* Never past what audit.db still holds. */
    gap->last = before && last >= before ? before - 1 : last;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(gap->reason, sizeof(gap->reason), fmt, ap);
    va_end(ap);
    if (n < 0)
        gap->reason[0] = '\0';
}

/* The segment row holding from, or the first one after it. BW_OK with
 * *found; BW_EMALFORMED for a row of the wrong shape; BW_EIO. */
static int find_row(struct bw_audit_fwd_archive *a, uint64_t from, struct segment_row *row,
                    bool *found)
{
    *found = false;
    sqlite3_stmt *st = a->find;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
    int src = sqlite3_step(st);
    int rc = src == SQLITE_DONE ? BW_OK : src == SQLITE_ROW ? BW_OK : BW_EIO;
    if (src == SQLITE_ROW) {
        *found = true;
        if (!read_row(st, row))
            rc = BW_EMALFORMED;
    }
    /* Reset at once: a statement left on a row holds a read transaction
     * that would keep the writer's WAL from being checkpointed. */
    sqlite3_reset(st);
    return rc;
}

/* The hash the segment's first record must follow: zero for record 1,
 * else the last hash audit.db lists for the segment before; NULL when it
 * lists none (the segment's own signature and MACs still hold). */
static const uint8_t *expected_prev(struct bw_audit_fwd_archive *a, uint64_t first,
                                    uint8_t buf[BW_SHA256_LEN])
{
    memset(buf, 0, BW_SHA256_LEN);
    if (first == 1)
        return buf;
    bool have = false;
    sqlite3_bind_int64(a->prev, 1, (sqlite3_int64)(first - 1));
    if (sqlite3_step(a->prev) == SQLITE_ROW && blob_is(a->prev, 0, BW_SHA256_LEN)) {
        memcpy(buf, sqlite3_column_blob(a->prev, 0), BW_SHA256_LEN);
        have = true;
    }
    sqlite3_reset(a->prev);
    return have ? buf : NULL;
}

/* Opens the segment of row and moves to record from. BW_ENOTFOUND with
 * gap when its records cannot be had; BW_EIO, BW_ENOMEM to try again. */
static int open_segment_at(struct bw_audit_fwd_archive *a, const struct segment_row *row,
                           uint64_t from, uint64_t before, struct bw_audit_fwd_gap *gap)
{
    char rel[sizeof(BW_AUDIT_ARCHIVE_DIR) + 1 + FILE_NAME_MAX + 1], path[BW_AUDIT_PATH_MAX];
    int rc = bw_snprintf(rel, sizeof(rel), "%s/%s", BW_AUDIT_ARCHIVE_DIR, row->file);
    if (rc == BW_OK)
        rc = audit_path(path, a->state_dir, rel);
    if (rc)
        return rc;
    uint8_t prev_buf[BW_SHA256_LEN];
    const uint8_t *prev = expected_prev(a, row->first, prev_buf);
    struct audit_segment_info info;
    struct bw_audit_verify_report report = {0};
    rc = audit_segment_reader_open(path, a->keys.sign_public, a->mac, prev, &info, &report,
                                   &a->reader);
    if (rc == BW_EIO && (a->io_first != row->first || ++a->io_failures < ARCHIVE_IO_TRIES)) {
        if (a->io_first != row->first)
            a->io_failures = 1;
        a->io_first = row->first;
        return BW_EIO;
    }
    a->io_first = 0;
    a->io_failures = 0;
    if (rc == BW_ENOMEM)
        return rc;
    if (rc == BW_OK && (info.first_seq != row->first || info.last_seq != row->last ||
                        !bw_crypto_equal(info.file_sha256, row->file_sha256, BW_SHA256_LEN) ||
                        !bw_crypto_equal(info.last_hash, row->last_hash, BW_SHA256_LEN))) {
        close_reader(a);
        rc = BW_EMALFORMED;
        bw_strlcpy(report.problem, "it is not the file audit.db lists", sizeof(report.problem));
    }
    if (rc) {
        const char *why = rc == BW_ENOTFOUND ? "is missing from the archive"
                          : rc == BW_EDENIED ? "cannot be read (permission denied)"
                          : rc == BW_EIO     ? "cannot be read"
                                             : "does not verify: ";
        set_gap(gap, from, row->last, before, "segment %s %s%s", row->file, why,
                rc == BW_EMALFORMED ? report.problem : "");
        return BW_ENOTFOUND;
    }
    a->next_seq = row->first;
    a->seg_last = row->last;
    /* Records the collector has already had. */
    while (a->next_seq < from) {
        const struct bw_audit_entry *e;
        rc = audit_segment_reader_next(a->reader, &e, &report);
        if (rc == BW_OK) {
            a->next_seq = e->seq + 1;
            continue;
        }
        close_reader(a);
        if (rc == BW_EIO || rc == BW_ENOMEM)
            return rc;
        set_gap(gap, from, row->last, before, "segment %s changed while read: %s", row->file,
                report.problem);
        return BW_ENOTFOUND;
    }
    return BW_OK;
}

/* Makes the reader stand on record from, or says why it cannot. */
static int seek(struct bw_audit_fwd_archive *a, uint64_t from, uint64_t before,
                struct bw_audit_fwd_gap *gap)
{
    if (a->reader && a->next_seq == from && from <= a->seg_last)
        return BW_OK;
    close_reader(a);
    struct segment_row row;
    bool found;
    int rc = find_row(a, from, &row, &found);
    if (rc == BW_EMALFORMED) {
        set_gap(gap, from, row.last >= from ? row.last : from, before,
                "the archive entry for records %" PRIu64 "..%" PRIu64 " is malformed", row.first,
                row.last);
        return BW_ENOTFOUND;
    }
    if (rc)
        return rc;
    if (!found || row.first > from) {
        uint64_t last = found ? row.first - 1 : (before ? before - 1 : from);
        set_gap(gap, from, last, before, "%s",
                "neither audit.db nor any archive segment holds them");
        return BW_ENOTFOUND;
    }
    return open_segment_at(a, &row, from, before, gap);
}

int bw_audit_fwd_archive_read(struct bw_audit_fwd_archive *a, uint64_t from, uint64_t before,
                              bw_audit_entry_fn fn, void *ctx, struct bw_audit_fwd_gap *gap)
{
    memset(gap, 0, sizeof(*gap));
    if (from == 0 || (before && before <= from))
        return BW_EINVAL;
    int rc = connect_archive(a);
    if (rc == BW_OK)
        rc = seek(a, from, before, gap);
    if (rc)
        return rc;
    bool yielded = false;
    while (a->next_seq <= a->seg_last && (!before || a->next_seq < before)) {
        const struct bw_audit_entry *e;
        struct bw_audit_verify_report report = {0};
        rc = audit_segment_reader_next(a->reader, &e, &report);
        if (rc) {
            uint64_t at = a->next_seq, last = a->seg_last;
            close_reader(a);
            /* What was handed out goes first; the next call opens the
             * segment again, and a changed file fails its check then. */
            if (yielded)
                return BW_OK;
            if (rc == BW_EIO || rc == BW_ENOMEM)
                return rc;
            set_gap(gap, at, last, before, "an archive segment changed while read: %s",
                    report.problem);
            return BW_ENOTFOUND;
        }
        yielded = true;
        a->next_seq = e->seq + 1;
        rc = fn(e, ctx);
        if (rc)
            return rc;
    }
    if (a->next_seq > a->seg_last)
        close_reader(a); /* the next call moves to the next segment */
    return BW_OK;
}
