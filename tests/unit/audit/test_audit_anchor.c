/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the trail's anchor (src/audit/anchor.c) and of what an
 * auditor pins (bw_audit_verify_with), on trails built by
 * support_trail.c, which moves the anchor with each checkpoint as the
 * writer does. A tail cut off together with its checkpoints, a trail
 * emptied, a removed, changed, malformed or rolled-back anchor, another
 * trail laid down under the same keys (in audit.db and in the archive),
 * and a checkpoint row deleted under its anchor are each caught and
 * named; what only an outside record can catch (everything removed) is
 * caught with min_seq. Keys replaced together with a re-signed trail
 * pass unpinned and fail pinned. The daemon, at start, records
 * audit.integrity for a cut tail and a removed anchor, and nothing for a
 * clean trail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/audit/support_trail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ANCHOR_FILE "keys/" BW_AUDIT_ANCHOR_NAME

/* Verifies dir with options (may be NULL): a problem at bad_seq whose
 * text contains words. */
static void expect_bad_with(const char *dir, const struct bw_audit_verify_options *options,
                            uint64_t bad_seq, const char *words)
{
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify_with(dir, options, &r), BW_EMALFORMED);
    if (!strstr(r.problem, words) || r.bad_seq != bad_seq)
        fail_msg("bad_seq %llu, problem \"%s\"; expected %llu, \"%s\"",
                 (unsigned long long)r.bad_seq, r.problem, (unsigned long long)bad_seq, words);
}

static void expect_bad(struct bw_test_trail *t, uint64_t bad_seq, const char *words)
{
    bw_test_trail_close(t);
    expect_bad_with(t->dir, NULL, bad_seq, words);
}

/* Verifies dir expecting all to hold, records..last_seq, anchored at
 * anchor_seq. */
static void expect_ok(const char *dir, uint64_t last_seq, uint64_t anchor_seq)
{
    struct bw_audit_verify_report r;
    int rc = bw_audit_verify(dir, &r);
    if (rc != BW_OK)
        fail_msg("verify: %s: %s", bw_strerror(rc), r.problem);
    assert_int_equal(r.last_seq, last_seq);
    assert_int_equal(r.anchor_seq, anchor_seq);
}

static void tamper(struct bw_test_trail *t, const char *sql)
{
    bw_test_trail_close(t);
    assert_int_equal(bw_test_trail_tamper(t->dir, sql), BW_OK);
}

static char *anchor_read_bytes(struct bw_test_trail *t, size_t *len)
{
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, t->dir, ANCHOR_FILE), BW_OK);
    char *bytes = bw_test_file_read(path, 4096, len);
    assert_non_null(bytes);
    return bytes;
}

static void anchor_put_bytes(struct bw_test_trail *t, const char *bytes, size_t len)
{
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, t->dir, ANCHOR_FILE), BW_OK);
    assert_int_equal(bw_test_file_write(path, bytes, len, 0600), BW_OK);
}

static void anchor_remove(struct bw_test_trail *t)
{
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, t->dir, ANCHOR_FILE), BW_OK);
    assert_int_equal(unlink(path), 0);
}

/* Throws away audit.db and starts an empty one, with t's keys or, with
 * new_keys, with keys made afresh: another trail laid down by someone
 * who holds (or has replaced) the keys. */
static void start_over(struct bw_test_trail *t, bool new_keys)
{
    static const char *const db_files[] = {BW_AUDIT_DB_NAME, BW_AUDIT_DB_NAME "-wal",
                                           BW_AUDIT_DB_NAME "-shm"};
    static const char *const key_files[] = {"keys/" BW_AUDIT_MAC_KEY_NAME,
                                            "keys/" BW_AUDIT_SIGN_KEY_NAME,
                                            "keys/" BW_AUDIT_SIGN_PUB_NAME, ANCHOR_FILE};
    char path[BW_AUDIT_PATH_MAX];
    sqlite3_finalize(t->insert);
    t->insert = NULL;
    sqlite3_close(t->db);
    t->db = NULL;
    for (size_t i = 0; i < BW_ARRAY_LEN(db_files); i++) {
        assert_int_equal(bw_test_trail_path(path, t->dir, db_files[i]), BW_OK);
        (void)unlink(path);
    }
    if (new_keys) {
        bw_crypto_mac_free(t->mac);
        t->mac = NULL;
        audit_keys_clear(&t->keys);
        for (size_t i = 0; i < BW_ARRAY_LEN(key_files); i++) {
            assert_int_equal(bw_test_trail_path(path, t->dir, key_files[i]), BW_OK);
            (void)unlink(path);
        }
        assert_int_equal(audit_keys_load(t->dir, true, true, &t->keys), BW_OK);
        assert_int_equal(bw_crypto_mac_new(t->keys.mac_key, sizeof(t->keys.mac_key), &t->mac),
                         BW_OK);
    }
    assert_int_equal(audit_store_open_rw(t->dir, &t->archiving, &t->db), BW_OK);
    assert_int_equal(audit_store_prepare_insert(t->db, &t->insert), BW_OK);
    t->last_seq = 0;
    memset(t->last_hash, 0, sizeof(t->last_hash));
    t->ts_us += 7000003; /* other times: other records, other hashes */
}

/* ---- the anchor follows the checkpoints --------------------------------- */

static void test_anchor_written_with_checkpoints(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    struct audit_anchor a;
    assert_int_equal(audit_anchor_read(t->dir, &a), BW_OK);
    assert_int_equal(a.seq, 50);
    assert_int_equal(audit_anchor_verify(&a, t->keys.sign_public), BW_OK);
    char path[BW_AUDIT_PATH_MAX];
    struct stat st;
    assert_int_equal(bw_test_trail_path(path, t->dir, ANCHOR_FILE), BW_OK);
    assert_int_equal(lstat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, AUDIT_ANCHOR_FILE_LEN);
    assert_int_equal(bw_test_trail_path(path, t->dir, ANCHOR_FILE ".tmp"), BW_OK);
    assert_int_equal(access(path, F_OK), -1); /* renamed into place */
    bw_test_trail_close(t);
    expect_ok(t->dir, 55, 50);
}

/* ---- what the anchor catches --------------------------------------------- */

static void test_cut_tail_with_checkpoints_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    /* The checkpoints past the cut go too: audit.db alone is consistent. */
    tamper(t, "DELETE FROM records WHERE seq > 20; DELETE FROM checkpoints WHERE seq > 20;");
    expect_bad(t, 21,
               "the trail ends at record 20, before its anchored checkpoint at record 50:"
               " records 21..50 missing");
}

static void test_everything_deleted_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    tamper(t, "DELETE FROM records; DELETE FROM checkpoints;");
    expect_bad(t, 1,
               "the trail is empty, but its anchored checkpoint is at record 30:"
               " records 1..30 missing");
    /* audit.db itself gone. */
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, t->dir, BW_AUDIT_DB_NAME), BW_OK);
    assert_int_equal(unlink(path), 0);
    expect_bad(t, 1, "its anchored checkpoint is at record 30: records 1..30 missing");
}

static void test_anchor_removed_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    anchor_remove(t);
    expect_bad(t, 0, "no anchor (keys/audit-anchor), but the trail is signed up to record 50");
    /* Cut as well: still the missing anchor that tells. */
    tamper(t, "DELETE FROM records WHERE seq > 20; DELETE FROM checkpoints WHERE seq > 20;");
    expect_bad(t, 0, "no anchor (keys/audit-anchor), but the trail is signed up to record 20");
}

/* Removing the anchor and every signature leaves a trail that holds:
 * only a record kept outside (min_seq) tells. */
static void test_only_an_outside_record_catches_all_removed(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 50, 10), BW_OK);
    anchor_remove(t);
    tamper(t, "DELETE FROM records WHERE seq > 20; DELETE FROM checkpoints;");
    expect_ok(t->dir, 20, 0);
    struct bw_audit_verify_options o = {.min_seq = 50};
    expect_bad_with(t->dir, &o, 21,
                    "the trail ends at record 20, before its required end at record 50:"
                    " records 21..50 missing");
    tamper(t, "DELETE FROM records;");
    expect_ok(t->dir, 0, 0);
    expect_bad_with(t->dir, &o, 1,
                    "the trail is empty, but its required end is at record 50:"
                    " records 1..50 missing");
    o.min_seq = 1;
    expect_bad_with(t->dir, &o, 1, "its required end is at record 1: record 1 missing");
}

static void test_min_seq_reached(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    bw_test_trail_close(t);
    struct bw_audit_verify_options o = {.min_seq = 55};
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify_with(t->dir, &o, &r), BW_OK);
    o.min_seq = 56;
    expect_bad_with(t->dir, &o, 56,
                    "the trail ends at record 55, before its required end at record 56:"
                    " record 56 missing");
}

static void test_anchor_changed_or_malformed(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    bw_test_trail_close(t);
    size_t len;
    char *good = anchor_read_bytes(t, &len);
    assert_int_equal(len, AUDIT_ANCHOR_FILE_LEN);
    char bytes[AUDIT_ANCHOR_FILE_LEN];
    /* A later sequence number, without a signature for it. */
    memcpy(bytes, good, len);
    bytes[8 + 15] = 60;
    anchor_put_bytes(t, bytes, len);
    expect_bad(t, 0, "the anchor (keys/audit-anchor) is not signed by this trail's key");
    /* The signature's last byte. */
    memcpy(bytes, good, len);
    bytes[len - 1] = (char)(bytes[len - 1] ^ 1);
    anchor_put_bytes(t, bytes, len);
    expect_bad(t, 0, "is not signed by this trail's key");
    /* Short, or another file's magic. */
    anchor_put_bytes(t, good, len - 1);
    expect_bad(t, 0, "the anchor (keys/audit-anchor) is malformed");
    memcpy(bytes, good, len);
    bytes[3] = 'X';
    anchor_put_bytes(t, bytes, len);
    expect_bad(t, 0, "the anchor (keys/audit-anchor) is malformed");
    /* Writable by others, or a link: not trusted at all. */
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, t->dir, ANCHOR_FILE), BW_OK);
    anchor_put_bytes(t, good, len);
    assert_int_equal(chmod(path, 0666), 0);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_EDENIED);
    assert_non_null(strstr(r.problem, "the anchor keys/audit-anchor: refused"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("/dev/null", path), 0);
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_EDENIED);
    assert_int_equal(unlink(path), 0);
    anchor_put_bytes(t, good, len);
    expect_ok(t->dir, 30, 30);
    free(good);
}

static void test_anchored_checkpoint_row_deleted(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    tamper(t, "DELETE FROM checkpoints WHERE seq = 50;");
    expect_bad(t, 50, "checkpoint at record 50 missing: the anchor names it, audit.db does not");
}

/* An older anchor, put back, holds while the trail agrees with it: the
 * limit of a copy kept inside the state directory (docs/internals). */
static void test_rolled_back_anchor_accepted_when_consistent(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    size_t len;
    char *old = anchor_read_bytes(t, &len);
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    bw_test_trail_close(t);
    anchor_put_bytes(t, old, len);
    expect_ok(t->dir, 50, 20);
    /* The tail cut back to the old anchor: not seen (the limit)... */
    tamper(t, "DELETE FROM records WHERE seq > 25; DELETE FROM checkpoints WHERE seq > 25;");
    expect_ok(t->dir, 25, 20);
    /* ...but not a record before it. */
    tamper(t, "DELETE FROM records WHERE seq > 15; DELETE FROM checkpoints WHERE seq > 15;");
    expect_bad(t, 16, "the trail ends at record 15, before its anchored checkpoint at record 20");
    free(old);
}

static void test_rolled_back_anchor_inside_archive(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    size_t len;
    char *old = anchor_read_bytes(t, &len);
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 30, NULL), BW_OK); /* 20 inside 1..30 */
    bw_test_trail_close(t);
    anchor_put_bytes(t, old, len);
    expect_ok(t->dir, 40, 20);
    free(old);
}

/* Another trail under the same keys (audit.db replaced, then filled
 * again): its record 20 is not the anchored one. */
static void test_other_trail_under_anchor_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    size_t len;
    char *old = anchor_read_bytes(t, &len);
    start_over(t, false);
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    anchor_put_bytes(t, old, len);
    expect_bad(t, 20,
               "record 20 is not the one the anchored checkpoint signed (the trail was replaced"
               " up to there)");
    free(old);
}

/* The same when that record is in the archive: read from the segment. */
static void test_other_trail_in_archive_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    size_t len;
    char *old = anchor_read_bytes(t, &len);
    start_over(t, false);
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 30, NULL), BW_OK);
    anchor_put_bytes(t, old, len);
    expect_bad(t, 20, "record 20 is not the one the anchored checkpoint signed");
    free(old);
}

/* ---- pinning the key --------------------------------------------------- */

static void test_key_reported_and_pinned(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    uint8_t pub[BW_ED25519_KEY_LEN], pin[BW_SHA256_LEN];
    memcpy(pub, t->keys.sign_public, sizeof(pub));
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_true(r.have_public_key);
    assert_false(r.key_pinned);
    assert_memory_equal(r.public_key, pub, sizeof(pub));
    char fp[BW_AUDIT_FINGERPRINT_LEN], want[BW_AUDIT_FINGERPRINT_LEN];
    bw_audit_key_fingerprint(pub, fp);
    assert_int_equal(bw_crypto_sha256(pub, sizeof(pub), pin), BW_OK);
    memcpy(want, "sha256:", 7);
    bw_crypto_hex(pin, sizeof(pin), want + 7);
    assert_string_equal(fp, want);
    assert_int_equal(strlen(fp), BW_AUDIT_FINGERPRINT_LEN - 1);
    struct bw_audit_verify_options o = {.key_sha256 = pin};
    assert_int_equal(bw_audit_verify_with(t->dir, &o, &r), BW_OK);
    assert_true(r.key_pinned);
}

/* Whoever can write the state directory can make new keys and sign a
 * new trail with them, anchor included: only a pinned key tells. */
static void test_replaced_keys_resigned_caught_only_pinned(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    uint8_t pin[BW_SHA256_LEN], old_pub[BW_ED25519_KEY_LEN];
    memcpy(old_pub, t->keys.sign_public, sizeof(old_pub));
    assert_int_equal(bw_crypto_sha256(old_pub, sizeof(old_pub), pin), BW_OK);
    start_over(t, true);
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_int_equal(r.records, 55);
    assert_memory_not_equal(r.public_key, old_pub, sizeof(old_pub)); /* printed: differs */
    struct bw_audit_verify_options o = {.key_sha256 = pin};
    expect_bad_with(t->dir, &o, 0,
                    "the trail's signing key (keys/audit-sign.pub) is not the pinned one: the"
                    " keys were replaced, or the pin is another trail's");
    assert_int_equal(bw_audit_verify_with(t->dir, &o, &r), BW_EMALFORMED);
    assert_false(r.key_pinned);
    assert_int_equal(r.records, 0); /* nothing is vouched for under a key not pinned */
}

/* ---- the daemon's check at start ---------------------------------------- */

static int64_t integrity_records(const char *dir, const char *like)
{
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, dir, BW_AUDIT_DB_NAME), BW_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM records WHERE event_id = 8008"
                                        " AND result = 2 AND details LIKE ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, like, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void open_and_close(const char *dir)
{
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, dir);
    struct bw_audit *audit = NULL;
    assert_int_equal(bw_audit_open(&cfg, &audit), BW_OK);
    bw_audit_close(audit);
}

static void test_open_records_cut_tail(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    tamper(t, "DELETE FROM records WHERE seq > 20; DELETE FROM checkpoints WHERE seq > 20;");
    open_and_close(t->dir);
    assert_int_equal(integrity_records(t->dir, "%\"anchor_seq\":50,%the trail ends at record 20,"
                                               " before its anchored checkpoint at record 50%"),
                     1);
    /* The trail goes on from there, the finding in it; the anchor with
     * it (record 21 is the audit.integrity record, signed at close). */
    expect_ok(t->dir, 21, 21);
}

static void test_open_records_missing_anchor(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    anchor_remove(t);
    bw_test_trail_close(t);
    open_and_close(t->dir);
    assert_int_equal(integrity_records(t->dir, "%no anchor (keys/audit-anchor), but the trail is"
                                               " signed up to record 30%"),
                     1);
}

static void test_open_records_other_trail(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    size_t len;
    char *old = anchor_read_bytes(t, &len);
    start_over(t, false);
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    anchor_put_bytes(t, old, len);
    bw_test_trail_close(t);
    open_and_close(t->dir);
    assert_int_equal(integrity_records(t->dir, "%record 20 is not the one the anchored%"), 1);
    free(old);
}

static void test_open_clean_trail_records_nothing(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    bw_test_trail_close(t);
    open_and_close(t->dir);
    assert_int_equal(integrity_records(t->dir, "%"), 0);
    expect_ok(t->dir, 55, 55); /* the unsigned tail signed at close, the anchor moved */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_anchor_written_with_checkpoints, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_cut_tail_with_checkpoints_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_everything_deleted_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_anchor_removed_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_only_an_outside_record_catches_all_removed,
                                        bw_test_trail_setup, bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_min_seq_reached, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_anchor_changed_or_malformed, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_anchored_checkpoint_row_deleted, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_anchor_accepted_when_consistent,
                                        bw_test_trail_setup, bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_rolled_back_anchor_inside_archive, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_other_trail_under_anchor_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_other_trail_in_archive_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_key_reported_and_pinned, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_replaced_keys_resigned_caught_only_pinned,
                                        bw_test_trail_setup, bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_open_records_cut_tail, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_open_records_missing_anchor, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_open_records_other_trail, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_open_clean_trail_records_nothing, bw_test_trail_setup,
                                        bw_test_trail_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
