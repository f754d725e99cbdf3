/* SPDX-License-Identifier: Apache-2.0
 *
 * The trail's capacity (SR 2.9): after each commit the writer measures
 * the live size of audit.db, reports each usage threshold crossed (an
 * audit.threshold record and a warning in the log), and at the limit
 * applies the project's policy: roll the oldest records into a signed
 * segment in STATE/audit-archive/ (the chain goes on across it), or
 * refuse non-essential operations (bw_audit_gate) until the trail is
 * below the limit again. Records older than the age limit are rolled
 * into the archive once a minute. Nothing is ever dropped. Writer thread.
 */
#include "audit/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#define AGE_CHECK_INTERVAL_US (60 * 1000000LL)
#define FS_CHECK_INTERVAL_US (10 * 1000000LL)
/* The trail's size is measured again after this long, or once this
 * fraction of its limit (1/N) may have been added since. */
#define MEASURE_INTERVAL_US (250 * 1000LL)
#define MEASURE_FRACTION 400
#define ARCHIVE_RETRY_MIN_US (5 * 1000000LL)
#define ARCHIVE_RETRY_MAX_US (300 * 1000000LL)
/* Below this much free space the file system is reported even when the
 * trail has no size limit. */
#define FS_FLOOR_BYTES (64ULL << 20)
#define DAY_US (86400LL * 1000000LL)

static int query_range(sqlite3 *db, const char *sql, int64_t arg, uint64_t *min_seq,
                       uint64_t *max_seq, uint64_t *count)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    sqlite3_bind_int64(st, 1, arg);
    int rc = BW_EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *min_seq = (uint64_t)sqlite3_column_int64(st, 0);
        *max_seq = (uint64_t)sqlite3_column_int64(st, 1);
        *count = (uint64_t)sqlite3_column_int64(st, 2);
        rc = BW_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Records the segment and removes its records in one transaction. */
static int archive_commit(struct bw_audit *audit, const struct audit_segment_info *info,
                          const char *file)
{
    int rc = audit_store_exec(audit->db, "BEGIN IMMEDIATE;");
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = BW_EIO;
    if (sqlite3_prepare_v2(audit->db,
                           "INSERT INTO segments(first_seq, last_seq, file, file_sha256,"
                           " last_hash, ts_us) VALUES(?, ?, ?, ?, ?, ?)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)info->first_seq);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)info->last_seq);
        sqlite3_bind_text(st, 3, file, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, info->file_sha256, BW_SHA256_LEN, SQLITE_STATIC);
        sqlite3_bind_blob(st, 5, info->last_hash, BW_SHA256_LEN, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, bw_clock_realtime_us());
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = BW_OK;
    }
    sqlite3_finalize(st);
    char sql[160];
    snprintf(sql, sizeof(sql),
             "DELETE FROM records WHERE seq <= %" PRIu64 ";"
             "DELETE FROM checkpoints WHERE seq <= %" PRIu64 ";",
             info->last_seq, info->last_seq);
    atomic_store(&audit->archiving, true);
    if (rc == BW_OK)
        rc = audit_store_exec(audit->db, sql);
    if (rc == BW_OK)
        rc = audit_store_exec(audit->db, "COMMIT;");
    atomic_store(&audit->archiving, false);
    /* The segment is on disk; its records leave the database only once
     * that is durable too (the writer's commits do not sync). */
    if (rc == BW_OK && audit_sync_wal(audit) != BW_OK)
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "the archive's removal from audit.db could not be "
               "synced; the segment file is kept either way");
    if (rc)
        audit_store_rollback(audit->db);
    return rc;
}

/* Rolls records [first, last] into a new segment file. */
static int archive_range(struct bw_audit *audit, uint64_t first, uint64_t last, const char *why)
{
    /* The newest record must stay signed in the database, so that
     * truncating the tail later is still noticed. */
    int rc = audit_writer_checkpoint(audit);
    if (rc)
        return rc;
    char file[96], rel[160], path[BW_AUDIT_PATH_MAX];
    snprintf(file, sizeof(file), "segment-%020" PRIu64 "-%020" PRIu64 ".jsonl", first, last);
    snprintf(rel, sizeof(rel), "%s/%s", BW_AUDIT_ARCHIVE_DIR, file);
    rc = audit_path(path, audit->state_dir, rel);
    if (rc)
        return rc;
    struct audit_segment_info info;
    rc = audit_segment_write(audit->db, &audit->keys, first, last, path, &info);
    if (rc == BW_EEXIST) {
        /* Left by an archive whose database transaction did not commit. */
        remove(path);
        rc = audit_segment_write(audit->db, &audit->keys, first, last, path, &info);
    }
    if (rc)
        return rc;
    rc = archive_commit(audit, &info, file);
    if (rc) {
        remove(path);
        return rc;
    }
    bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit records %" PRIu64 "..%" PRIu64 " archived (%s)",
           first, last, why);
    audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_ARCHIVED, BW_AUDIT_SUCCESS,
                           json_pack("{s:I, s:I, s:I, s:s, s:s}", "first_seq", (json_int_t)first,
                                     "last_seq", (json_int_t)last, "records",
                                     (json_int_t)info.records, "file", file, "reason", why),
                           false);
    return BW_OK;
}

/* At the size limit: moves the oldest records out until the trail is
 * back below its lowest threshold (or half its limit without one). */
static int archive_for_size(struct bw_audit *audit, uint64_t used, const char *why, uint64_t *first,
                            uint64_t *last)
{
    *first = *last = 0;
    uint64_t lo, hi, count;
    int rc =
        query_range(audit->db, "SELECT min(seq), max(seq), count(*) FROM records WHERE seq > ?", 0,
                    &lo, &hi, &count);
    if (rc || count < 2)
        return rc;
    unsigned target_pct = audit->threshold_count ? audit->thresholds[0] : 60;
    target_pct = target_pct > 20 ? target_pct - 10 : 10;
    uint64_t target = audit->max_bytes / 100 * target_pct;
    uint64_t move = used > target ? (count * (used - target) + used - 1) / used : 0;
    if (move >= count)
        move = count - 1; /* keep the newest record: the chain continues from it */
    if (move == 0)
        return BW_OK;
    rc = archive_range(audit, lo, lo + move - 1, why);
    if (rc == BW_OK) {
        *first = lo;
        *last = lo + move - 1;
    }
    return rc;
}

int audit_capacity_archive_now(struct bw_audit *audit, uint64_t *first, uint64_t *last)
{
    *first = *last = 0;
    if (!audit->db)
        return BW_EIO;
    uint64_t used;
    int rc = audit_store_used_bytes(audit->db, &used);
    if (rc == BW_OK)
        rc = archive_for_size(audit, used > 0 ? used : 1, "administrator's request", first, last);
    if (rc == BW_OK) {
        audit->measure_at_us = 0;
        audit_capacity_check(audit); /* the trail may be below its limit now */
    }
    return rc;
}

static int archive_for_age(struct bw_audit *audit)
{
    int64_t cutoff = bw_clock_realtime_us() - (int64_t)audit->max_age_days * DAY_US;
    uint64_t lo, hi, count;
    int rc =
        query_range(audit->db, "SELECT min(seq), max(seq), count(*) FROM records WHERE ts_us < ?",
                    cutoff, &lo, &hi, &count);
    if (rc || count == 0)
        return rc;
    uint64_t newest;
    bool found = false;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(audit->db, "SELECT max(seq) FROM records", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        newest = (uint64_t)sqlite3_column_int64(st, 0);
        found = true;
    }
    sqlite3_finalize(st);
    if (!found)
        return BW_EIO;
    if (hi >= newest)
        hi = newest - 1; /* keep the newest record */
    if (hi < lo)
        return BW_OK;
    return archive_range(audit, lo, hi, "age limit");
}

static void report_thresholds(struct bw_audit *audit, unsigned pct, uint64_t used)
{
    while (audit->threshold_level < audit->threshold_count &&
           pct >= audit->thresholds[audit->threshold_level]) {
        unsigned t = audit->thresholds[audit->threshold_level++];
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "audit trail at %u %% of its limit (threshold %u %%, %" PRIu64 " of %" PRIu64
               " bytes)",
               pct, t, used, audit->max_bytes);
        audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_THRESHOLD, BW_AUDIT_SUCCESS,
                               json_pack("{s:i, s:i, s:I, s:I}", "percent", (int)pct, "threshold",
                                         (int)t, "used_bytes", (json_int_t)used, "max_bytes",
                                         (json_int_t)audit->max_bytes),
                               false);
    }
    /* Re-arm a threshold once usage is back under it. */
    while (audit->threshold_level > 0 && pct < audit->thresholds[audit->threshold_level - 1])
        audit->threshold_level--;
}

static int measure(struct bw_audit *audit, uint64_t *used, unsigned *pct)
{
    int rc = audit_store_used_bytes(audit->db, used);
    if (rc)
        return rc;
    *pct = 0;
    if (audit->max_bytes) {
        uint64_t p = *used / (audit->max_bytes / 100 ? audit->max_bytes / 100 : 1);
        *pct = p > 1000 ? 1000 : (unsigned)p;
    }
    atomic_store(&audit->used_bytes, *used);
    atomic_store(&audit->usage_percent, *pct);
    return BW_OK;
}

/* The trail's size limit is no promise when the file system holding it
 * has less room left than the trail may still take: say so once (and
 * again after it recovered). */
static void check_filesystem(struct bw_audit *audit, uint64_t used)
{
    int64_t now = bw_clock_monotonic_us();
    if (now < audit->fs_check_at_us)
        return;
    audit->fs_check_at_us = now + FS_CHECK_INTERVAL_US;
    struct statvfs sv;
    if (statvfs(audit->state_dir, &sv) != 0)
        return;
    uint64_t free_bytes = (uint64_t)sv.f_bavail * sv.f_frsize;
    uint64_t needed = audit->max_bytes > used ? audit->max_bytes - used : 0;
    if (needed < FS_FLOOR_BYTES)
        needed = FS_FLOOR_BYTES;
    bool low = free_bytes < needed;
    if (low && !audit->fs_low_reported) {
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "the file system holding the audit trail has %" PRIu64
               " bytes free, less than the trail may still need (%" PRIu64 ")",
               free_bytes, needed);
        audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_THRESHOLD, BW_AUDIT_FAILURE,
                               json_pack("{s:s, s:I, s:I}", "measure", "file system free space",
                                         "free_bytes", (json_int_t)free_bytes, "needed_bytes",
                                         (json_int_t)needed),
                               false);
    } else if (!low && audit->fs_low_reported) {
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT,
               "the file system holding the audit trail has room again (%" PRIu64 " bytes free)",
               free_bytes);
    }
    audit->fs_low_reported = low;
}

/* An archive that failed is reported once, with its reason, and retried
 * after a pause that grows to five minutes; the trail keeps taking
 * records meanwhile (it grows past its limit rather than lose any). */
static void archive_result(struct bw_audit *audit, int rc, const char *why)
{
    int64_t now = bw_clock_monotonic_us();
    if (rc == BW_OK) {
        if (audit->archive_failing) {
            bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit archive works again");
            audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_RECOVERED, BW_AUDIT_SUCCESS,
                                   json_pack("{s:s}", "operation", "archive"), false);
        }
        audit->archive_failing = false;
        audit->archive_backoff_us = 0;
        return;
    }
    audit->archive_backoff_us =
        audit->archive_backoff_us ? audit->archive_backoff_us * 2 : ARCHIVE_RETRY_MIN_US;
    if (audit->archive_backoff_us > ARCHIVE_RETRY_MAX_US)
        audit->archive_backoff_us = ARCHIVE_RETRY_MAX_US;
    audit->archive_retry_at_us = now + audit->archive_backoff_us;
    if (audit->archive_failing)
        return;
    audit->archive_failing = true;
    bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
           "audit archive failed (%s, %s): the trail keeps every record and grows past its "
           "limit until the archive works; retrying",
           bw_strerror(rc), why);
    audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_FAILURE, BW_AUDIT_ERROR,
                           json_pack("{s:s, s:s, s:s}", "operation", "archive", "reason",
                                     bw_strerror(rc), "trigger", why),
                           false);
}

/* Whether the size may have moved enough to be worth measuring. */
static bool measure_due(struct bw_audit *audit, int64_t now)
{
    if (now >= audit->measure_at_us)
        return true;
    return audit->max_bytes && audit->unmeasured_bytes >= audit->max_bytes / MEASURE_FRACTION;
}

void audit_capacity_note(struct bw_audit *audit, const struct audit_row *row)
{
    /* The row's text, its hashes and some overhead per row and index entry. */
    audit->unmeasured_bytes += strlen(row->details) + strlen(row->source_name) +
                               (row->source_address ? strlen(row->source_address) : 0) +
                               strlen(row->type) + 2 * BW_SHA256_LEN + 96;
}

void audit_capacity_check(struct bw_audit *audit)
{
    if (!audit->db)
        return;
    int64_t now = bw_clock_monotonic_us();
    bool age_due = audit->max_age_days && now >= audit->age_check_at_us;
    if (!measure_due(audit, now) && !age_due && now < audit->fs_check_at_us)
        return;
    uint64_t used;
    unsigned pct;
    if (measure(audit, &used, &pct) != BW_OK)
        return;
    audit->unmeasured_bytes = 0;
    audit->measure_at_us = now + MEASURE_INTERVAL_US;
    report_thresholds(audit, pct, used);
    check_filesystem(audit, used);
    bool may_archive = !audit->archive_failing || now >= audit->archive_retry_at_us;
    bool at_limit = audit->max_bytes && used >= audit->max_bytes;
    if (at_limit && audit->when_full == BW_AUDIT_FULL_ARCHIVE) {
        if (!may_archive)
            return;
        uint64_t first, last;
        int rc = archive_for_size(audit, used, "size limit", &first, &last);
        if (rc == BW_OK && measure(audit, &used, &pct) == BW_OK)
            report_thresholds(audit, pct, used);
        archive_result(audit, rc, "size limit");
        if (rc)
            return;
    } else if (at_limit && !audit->full_reported) {
        audit->full_reported = true;
        atomic_store(&audit->state, BW_AUDIT_STATE_FULL);
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "audit trail full (%" PRIu64 " of %" PRIu64
               " bytes): non-essential operations are refused until space is freed",
               used, audit->max_bytes);
        audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_FULL, BW_AUDIT_FAILURE,
                               json_pack("{s:I, s:I}", "used_bytes", (json_int_t)used, "max_bytes",
                                         (json_int_t)audit->max_bytes),
                               false);
    } else if (!at_limit && audit->full_reported) {
        audit->full_reported = false;
        atomic_store(&audit->state, BW_AUDIT_STATE_OK);
        bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit trail below its limit: operations resume");
        audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_SPACE_FREED, BW_AUDIT_SUCCESS,
                               json_pack("{s:I, s:I}", "used_bytes", (json_int_t)used, "max_bytes",
                                         (json_int_t)audit->max_bytes),
                               false);
    }
    if (age_due && may_archive) {
        audit->age_check_at_us = now + AGE_CHECK_INTERVAL_US;
        archive_result(audit, archive_for_age(audit), "age limit");
    }
}
