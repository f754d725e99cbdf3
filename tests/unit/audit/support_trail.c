/* SPDX-License-Identifier: Apache-2.0
 *
 * The trail builder of support_trail.h: records made as the writer makes
 * them (audit_row_hash, audit_row_mac, audit_store_insert), checkpoints
 * signed with the trail's key (and the anchor moved with each), archiving through
 * audit_segment_write in the writer's transaction. Test support only; single thread.
 */
#include "unit/audit/support_trail.h"

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bw_test_trail_path(char *out, const char *dir, const char *name)
{
    return audit_path(out, dir, name);
}

int bw_test_trail_open(struct bw_test_trail *t)
{
    memset(t, 0, sizeof(*t));
    atomic_init(&t->archiving, false);
    t->ts_us = 1764790196000000LL;
    if (bw_snprintf(t->dir, sizeof(t->dir), "/tmp/bw-audit-test-XXXXXX") != BW_OK ||
        !mkdtemp(t->dir))
        return BW_EIO;
    int rc = audit_keys_load(t->dir, true, true, &t->keys);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(t->keys.mac_key, sizeof(t->keys.mac_key), &t->mac);
    if (rc == BW_OK)
        rc = audit_store_open_rw(t->dir, &t->archiving, &t->db);
    if (rc == BW_OK)
        rc = audit_store_prepare_insert(t->db, &t->insert);
    return rc;
}

/* Texts that exercise every escape of the segment format. */
static const char *const names[] = {"alice", "bob \"the builder\"", "j\xc3\xbcrgen", "back\\slash",
                                    "tab\there"};
static const char *const details[] = {
    "{}",
    "{\"tag\":\"Setpoint\",\"value\":50}",
    "{\"note\":\"quote \\\" and \\\\ and \\u00e9\"}",
    "{\"ctl\":\"\x01\x1f\x7f\"}",
};

static int append_one(struct bw_test_trail *t)
{
    uint64_t seq = t->last_seq + 1;
    char name[64], addr[64], det[128];
    int rc = bw_snprintf(name, sizeof(name), "%s", names[seq % BW_ARRAY_LEN(names)]);
    if (rc == BW_OK)
        rc = bw_snprintf(addr, sizeof(addr), "192.0.2.%u", (unsigned)(seq % 250));
    if (rc == BW_OK)
        rc = bw_snprintf(det, sizeof(det), "%s", details[seq % BW_ARRAY_LEN(details)]);
    if (rc)
        return rc;
    struct audit_row row = {
        .seq = seq,
        .ts_us = t->ts_us + (int64_t)seq * 1000,
        .category = (uint8_t)(1 + seq % 8),
        .event_id = 4001,
        .type = "tag.write",
        .result = (uint8_t)(1 + seq % 4),
        .source_kind = (uint8_t)(1 + seq % 3),
        .source_name = name,
        .source_address = seq % 3 == 0 ? NULL : addr,
        .details = det,
    };
    memcpy(row.prev_hash, t->last_hash, BW_SHA256_LEN);
    struct bw_audit_entry e;
    audit_row_entry(&row, &e);
    rc = audit_row_hash(&e, row.prev_hash, row.hash);
    if (rc == BW_OK)
        rc = audit_row_mac(t->mac, row.hash, row.mac);
    if (rc == BW_OK)
        rc = audit_store_insert(t->insert, &row);
    if (rc)
        return rc;
    t->last_seq = seq;
    memcpy(t->last_hash, row.hash, BW_SHA256_LEN);
    return BW_OK;
}

int bw_test_trail_checkpoint(struct bw_test_trail *t)
{
    struct audit_anchor anchor;
    int64_t ts = t->ts_us + (int64_t)t->last_seq * 1000 + 1;
    int rc = audit_anchor_sign(t->keys.signer, t->last_seq, ts, t->last_hash, &anchor);
    if (rc == BW_OK)
        rc = audit_store_checkpoint(t->db, t->last_seq, ts, t->last_hash, anchor.sig);
    /* The writer moves the anchor after its commit; inside the caller's
     * transaction here, which for a test's trail comes to the same. */
    return rc ? rc : audit_anchor_write(t->dir, &anchor);
}

int bw_test_trail_append(struct bw_test_trail *t, size_t n, size_t checkpoint_every)
{
    int rc = audit_store_exec(t->db, "BEGIN IMMEDIATE;");
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        rc = append_one(t);
        if (rc == BW_OK && checkpoint_every && t->last_seq % checkpoint_every == 0)
            rc = bw_test_trail_checkpoint(t);
    }
    int end = audit_store_exec(t->db, rc == BW_OK ? "COMMIT;" : "ROLLBACK;");
    return rc ? rc : end;
}

static int oldest_seq(sqlite3 *db, uint64_t *out)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT min(seq) FROM records", -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    int rc = sqlite3_step(st) == SQLITE_ROW ? BW_OK : BW_EIO;
    *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int insert_segment(sqlite3 *db, const struct audit_segment_info *info, const char *name)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO segments(first_seq, last_seq, file, file_sha256,"
                           " last_hash, ts_us) VALUES(?, ?, ?, ?, ?, 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)info->first_seq);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)info->last_seq);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, info->file_sha256, BW_SHA256_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(st, 5, info->last_hash, BW_SHA256_LEN, SQLITE_STATIC);
    int rc = sqlite3_step(st) == SQLITE_DONE ? BW_OK : BW_EIO;
    sqlite3_finalize(st);
    return rc;
}

int bw_test_trail_archive(struct bw_test_trail *t, uint64_t last, char *name_out)
{
    char archive[BW_AUDIT_PATH_MAX], path[BW_AUDIT_PATH_MAX], name[64], sql[160];
    uint64_t first;
    int rc = audit_path(archive, t->dir, BW_AUDIT_ARCHIVE_DIR);
    if (rc == BW_OK)
        rc = oldest_seq(t->db, &first);
    if (rc == BW_OK)
        rc = bw_snprintf(name, sizeof(name), "audit-%06u.seg", ++t->segments);
    if (rc == BW_OK)
        rc = audit_path(path, archive, name);
    if (rc == BW_OK)
        rc = bw_snprintf(sql, sizeof(sql),
                         "DELETE FROM records WHERE seq <= %" PRIu64 ";"
                         "DELETE FROM checkpoints WHERE seq <= %" PRIu64 ";",
                         last, last);
    if (rc)
        return rc;
    (void)mkdir(archive, 0700);
    rc = audit_store_exec(t->db, "BEGIN IMMEDIATE;");
    if (rc)
        return rc;
    struct audit_segment_info info;
    atomic_store(&t->archiving, true);
    rc = audit_segment_write(t->db, &t->keys, first, last, path, &info);
    if (rc == BW_OK)
        rc = insert_segment(t->db, &info, name);
    if (rc == BW_OK)
        rc = audit_store_exec(t->db, sql);
    int end = audit_store_exec(t->db, rc == BW_OK ? "COMMIT;" : "ROLLBACK;");
    atomic_store(&t->archiving, false);
    if (rc == BW_OK && name_out)
        bw_strlcpy(name_out, name, 64);
    return rc ? rc : end;
}

void bw_test_trail_close(struct bw_test_trail *t)
{
    sqlite3_finalize(t->insert);
    t->insert = NULL;
    sqlite3_close(t->db);
    t->db = NULL;
    bw_crypto_mac_free(t->mac);
    t->mac = NULL;
    audit_keys_clear(&t->keys);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void bw_test_trail_remove(struct bw_test_trail *t)
{
    bw_test_trail_close(t);
    if (t->dir[0])
        (void)nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    t->dir[0] = '\0';
}

int bw_test_trail_tamper(const char *dir, const char *sql)
{
    char path[BW_AUDIT_PATH_MAX];
    int rc = audit_path(path, dir, BW_AUDIT_DB_NAME);
    if (rc)
        return rc;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return BW_EIO;
    }
    rc = audit_store_exec(db, "DROP TRIGGER IF EXISTS records_no_update;"
                              "DROP TRIGGER IF EXISTS records_no_delete;"
                              "DROP TRIGGER IF EXISTS checkpoints_no_update;"
                              "DROP TRIGGER IF EXISTS checkpoints_no_delete;"
                              "DROP TRIGGER IF EXISTS segments_no_change;"
                              "DROP TRIGGER IF EXISTS segments_no_delete;");
    if (rc == BW_OK)
        rc = audit_store_exec(db, sql);
    sqlite3_close(db);
    return rc;
}

int bw_test_file_write(const char *path, const void *data, size_t len, int mode)
{
    (void)unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return BW_EIO;
    int rc = write(fd, data, len) == (ssize_t)len ? BW_OK : BW_EIO;
    close(fd);
    return rc;
}

char *bw_test_file_read(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(max + 1);
    ssize_t n = buf ? read(fd, buf, max) : -1;
    close(fd);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

int bw_test_trail_setup(void **state)
{
    struct bw_test_trail *t = calloc(1, sizeof(*t));
    if (!t || bw_test_trail_open(t) != BW_OK) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

int bw_test_trail_teardown(void **state)
{
    struct bw_test_trail *t = *state;
    bw_test_trail_remove(t);
    free(t);
    return 0;
}
