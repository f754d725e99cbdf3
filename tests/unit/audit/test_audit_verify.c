/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of offline verification, segment files and export
 * (src/audit/verify.c, segment.c, segment_verify.c, export.c), on trails
 * built by support_trail.c: a clean trail and an archived one verify
 * with the right counts; each kind of tampering (a changed detail, a
 * deleted row, swapped rows, a truncated tail, a record repeated, out of
 * order or with an invalid sequence number, a replaced MAC key or
 * public key, a changed, shortened or re-signed segment, a missing
 * segment file) is caught and the report names the record; export and
 * standalone segment checks round-trip; export refuses an existing file,
 * an empty range and a changed database; malformed segment files (every
 * truncation and every single-bit change of a real one, and garbage) are
 * refused without crashing. The anchor and key pinning are in
 * test_audit_anchor.c.
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

/* Verifies t's trail (its writer connection closed first) expecting a
 * problem at bad_seq whose text contains words. */
static void expect_bad(struct bw_test_trail *t, uint64_t bad_seq, const char *words)
{
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_EMALFORMED);
    if (!strstr(r.problem, words) || r.bad_seq != bad_seq)
        fail_msg("bad_seq %llu, problem \"%s\"; expected %llu, \"%s\"",
                 (unsigned long long)r.bad_seq, r.problem, (unsigned long long)bad_seq, words);
}

static void tamper(struct bw_test_trail *t, const char *sql)
{
    bw_test_trail_close(t);
    assert_int_equal(bw_test_trail_tamper(t->dir, sql), BW_OK);
}

static void test_clean_trail_verifies(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 100, 10), BW_OK);
    assert_int_equal(bw_test_trail_append(t, 5, 0), BW_OK); /* unsigned tail is fine */
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_string_equal(r.problem, "");
    assert_int_equal(r.bad_seq, 0);
    assert_int_equal(r.records, 105);
    assert_int_equal(r.checkpoints, 10);
    assert_int_equal(r.segments, 0);
    assert_int_equal(r.first_seq, 1);
    assert_int_equal(r.last_seq, 105);
}

static void test_empty_and_missing_trail(void **state)
{
    struct bw_test_trail *t = *state;
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_int_equal(r.records, 0);
    assert_int_equal(r.anchor_seq, 0);
    assert_int_equal(bw_audit_verify("/nonexistent/bw-state", &r), BW_ENOTFOUND);
    assert_true(r.no_trail);
    assert_string_equal(r.problem, "no audit trail: neither audit.db nor keys/ exists");
}

static void test_changed_detail_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    /* One byte: "value":50 becomes "value":51. */
    tamper(t, "UPDATE records SET details = replace(details, '50', '51') WHERE seq = 17;");
    expect_bad(t, 17, "record 17: MAC does not match");
}

static void test_deleted_row_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    tamper(t, "DELETE FROM records WHERE seq = 12;");
    expect_bad(t, 12, "record 12 missing: sequence jumps from 11 to 13");
}

static void test_deleted_first_rows_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 10), BW_OK);
    tamper(t, "DELETE FROM records WHERE seq <= 3;");
    expect_bad(t, 1, "records 1..3 missing");
}

static void test_swapped_rows_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 50, 10), BW_OK);
    /* Rows 40 and 41 exchange everything but their sequence numbers. */
    tamper(t, "UPDATE records SET seq = -40 WHERE seq = 40;"
              "UPDATE records SET seq = 40 WHERE seq = 41;"
              "UPDATE records SET seq = 41 WHERE seq = -40;");
    expect_bad(t, 40, "record 40:");
}

static void test_rechained_row_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 50, 0), BW_OK);
    /* A forged predecessor hash with a MAC made for it would need the
     * key; without it, the MAC fails first. With a copied record's MAC
     * and hash fields the chain breaks instead. */
    tamper(t, "UPDATE records SET prev_hash = (SELECT prev_hash FROM records WHERE seq = 30),"
              " mac = (SELECT mac FROM records WHERE seq = 30) WHERE seq = 31;");
    expect_bad(t, 31, "record 31:");
}

static void test_truncated_tail_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 55, 10), BW_OK);
    tamper(t, "DELETE FROM records WHERE seq > 47;");
    expect_bad(t, 48, "checkpoint at record 50: record missing (trail truncated after 47)");
}

static void test_wrong_type_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 0), BW_OK);
    /* 260 encodes like 4 in the canonical bytes: refused as a value. */
    tamper(t, "UPDATE records SET category = category + 256 WHERE seq = 9;");
    expect_bad(t, 9, "record 9: a field has a value never recorded");
}

static void test_replaced_mac_key_names_first(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    bw_test_trail_close(t);
    char path[BW_AUDIT_PATH_MAX];
    uint8_t key[BW_AUDIT_MAC_KEY_LEN];
    assert_int_equal(bw_test_trail_path(path, t->dir, "keys/" BW_AUDIT_MAC_KEY_NAME), BW_OK);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(bw_crypto_random(key, sizeof(key)), BW_OK);
    assert_int_equal(bw_crypto_secret_file_create(path, key, sizeof(key)), BW_OK);
    expect_bad(t, 1, "record 1: MAC does not match (record changed or key replaced)");
}

static void test_replaced_public_key_names_checkpoint(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    bw_test_trail_close(t);
    struct bw_crypto_signer *other = NULL;
    uint8_t pub[BW_ED25519_KEY_LEN];
    assert_int_equal(bw_crypto_signer_generate(&other), BW_OK);
    assert_int_equal(bw_crypto_signer_public(other, pub), BW_OK);
    bw_crypto_signer_free(other);
    char path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(path, t->dir, "keys/" BW_AUDIT_SIGN_PUB_NAME), BW_OK);
    assert_int_equal(bw_test_file_write(path, pub, sizeof(pub), 0644), BW_OK);
    expect_bad(t, 10, "checkpoint at record 10: signature does not hold");
}

static void test_changed_checkpoint_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    tamper(t, "UPDATE checkpoints SET ts_us = ts_us + 1 WHERE seq = 20;");
    expect_bad(t, 20, "checkpoint at record 20: signature does not hold");
}

/* ---- sequence problems are named for what they are ------------------------ */

/* Keeps copies of records 3 and 5 aside, then archives 1..5 of a
 * ten-record trail. */
static void archived_with_copies(struct bw_test_trail *t)
{
    assert_int_equal(bw_test_trail_append(t, 10, 5), BW_OK);
    assert_int_equal(bw_test_trail_tamper(
                         t->dir, "CREATE TABLE kept AS SELECT * FROM records WHERE seq IN (3, 5);"),
                     BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 5, NULL), BW_OK);
}

static void test_duplicate_record_named(void **state)
{
    struct bw_test_trail *t = *state;
    archived_with_copies(t);
    tamper(t, "INSERT INTO records SELECT * FROM kept WHERE seq = 5;");
    expect_bad(t, 5, "record 5 appears twice: the sequence repeats 5 (record 6 expected)");
}

static void test_backward_record_named(void **state)
{
    struct bw_test_trail *t = *state;
    archived_with_copies(t);
    tamper(t, "INSERT INTO records SELECT * FROM kept WHERE seq = 3;");
    expect_bad(t, 3, "record 3 out of order: it follows record 5 (record 6 expected)");
}

static void test_invalid_sequence_named(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 10, 0), BW_OK);
    tamper(t, "UPDATE records SET seq = -7 WHERE seq = 7;");
    expect_bad(t, 1, "a record has the invalid sequence number -7 (record 1 expected)");
}

/* ---- the archive --------------------------------------------------------- */

static void test_archived_trail_verifies(void **state)
{
    struct bw_test_trail *t = *state;
    char name[64];
    assert_int_equal(bw_test_trail_append(t, 80, 10), BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 20, name), BW_OK);
    assert_string_equal(name, "audit-000001.seg");
    assert_int_equal(bw_test_trail_archive(t, 45, NULL), BW_OK);
    assert_int_equal(bw_test_trail_append(t, 10, 10), BW_OK);
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_string_equal(r.problem, "");
    assert_int_equal(r.records, 90);
    assert_int_equal(r.segments, 2);
    assert_int_equal(r.checkpoints, 5); /* 50..90; those archived went with their records */
    assert_int_equal(r.first_seq, 1);
    assert_int_equal(r.last_seq, 90);
}

static void test_fully_archived_trail_verifies(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 30, 10), BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 30, NULL), BW_OK);
    bw_test_trail_close(t);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_int_equal(r.records, 30);
    assert_int_equal(r.segments, 1);
    assert_int_equal(r.last_seq, 30);
}

/* Archives 1..20 of a 40-record trail; path receives the segment's. */
static void archived(struct bw_test_trail *t, char *path)
{
    char name[64], rel[128];
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 20, name), BW_OK);
    bw_test_trail_close(t);
    assert_int_equal(bw_snprintf(rel, sizeof(rel), "%s/%s", BW_AUDIT_ARCHIVE_DIR, name), BW_OK);
    assert_int_equal(bw_test_trail_path(path, t->dir, rel), BW_OK);
}

/* Replaces the first occurrence of from in path's text by to. */
static void edit_file(const char *path, const char *from, const char *to)
{
    size_t len;
    char *text = bw_test_file_read(path, 1 << 20, &len);
    assert_non_null(text);
    char *at = strstr(text, from);
    assert_non_null(at);
    size_t fl = strlen(from), tl = strlen(to);
    char *out = malloc(len - fl + tl + 1);
    assert_non_null(out);
    memcpy(out, text, (size_t)(at - text));
    memcpy(out + (at - text), to, tl);
    memcpy(out + (at - text) + tl, at + fl, len - (size_t)(at - text) - fl);
    assert_int_equal(bw_test_file_write(path, out, len - fl + tl, 0640), BW_OK);
    free(out);
    free(text);
}

static void test_segment_changed_byte_named(void **state)
{
    struct bw_test_trail *t = *state;
    char path[BW_AUDIT_PATH_MAX];
    archived(t, path);
    edit_file(path, "value\\\":50", "value\\\":51"); /* first in record 1 */
    expect_bad(t, 1, "segment audit-000001.seg: record 1: MAC does not match");
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_EMALFORMED);
    assert_non_null(strstr(r.problem, "also the file changed after it was signed"));
}

static void test_segment_removed_line_named(void **state)
{
    struct bw_test_trail *t = *state;
    char path[BW_AUDIT_PATH_MAX];
    archived(t, path);
    size_t len;
    char *text = bw_test_file_read(path, 1 << 20, &len);
    assert_non_null(text);
    char *line = strstr(text, "{\"seq\":7,");
    char *next = line ? strchr(line, '\n') : NULL;
    assert_non_null(next);
    memmove(line, next + 1, len - (size_t)(next + 1 - text) + 1);
    assert_int_equal(bw_test_file_write(path, text, strlen(text), 0640), BW_OK);
    free(text);
    expect_bad(t, 7, "record 7 missing: sequence jumps from 6 to 8");
}

static void test_segment_signature_changed_named(void **state)
{
    struct bw_test_trail *t = *state;
    char path[BW_AUDIT_PATH_MAX];
    archived(t, path);
    edit_file(path, "\"signature\":\"", "\"signature\":\"00");
    /* That makes the hex too long; the trailer is then malformed. */
    expect_bad(t, 1, "segment audit-000001.seg");
    /* Same length, other bytes: the signature itself fails. */
    edit_file(path, "\"signature\":\"00", "\"signature\":\"");
    size_t len;
    char *text = bw_test_file_read(path, 1 << 20, &len);
    assert_non_null(text);
    char *sig = strstr(text, "\"signature\":\"") + 13;
    sig[5] = sig[5] == '0' ? '1' : '0';
    assert_int_equal(bw_test_file_write(path, text, len, 0640), BW_OK);
    free(text);
    expect_bad(t, 1, "signature does not hold");
}

static void test_segment_missing_named(void **state)
{
    struct bw_test_trail *t = *state;
    char path[BW_AUDIT_PATH_MAX];
    archived(t, path);
    assert_int_equal(unlink(path), 0);
    expect_bad(t, 1, "segment audit-000001.seg (records 1..20) is missing from the archive");
}

static void test_segment_chain_continues_into_db(void **state)
{
    struct bw_test_trail *t = *state;
    char path[BW_AUDIT_PATH_MAX];
    archived(t, path);
    /* The first record left in the database must follow the segment. */
    tamper(t, "UPDATE records SET prev_hash = zeroblob(32) WHERE seq = 21;");
    expect_bad(t, 21, "record 21:");
    /* And the segment must follow the one before (here: the start). */
    struct bw_test_trail other;
    assert_int_equal(bw_test_trail_open(&other), BW_OK);
    assert_int_equal(bw_test_trail_append(&other, 30, 0), BW_OK);
    assert_int_equal(bw_test_trail_archive(&other, 10, NULL), BW_OK);
    bw_test_trail_close(&other);
    tamper(&other, "DELETE FROM segments;");
    expect_bad(&other, 1, "records 1..10 missing");
    bw_test_trail_remove(&other);
}

static void test_segment_replaced_by_other_file(void **state)
{
    struct bw_test_trail *t = *state;
    char side[BW_AUDIT_PATH_MAX], path[BW_AUDIT_PATH_MAX], name[64], rel[128];
    assert_int_equal(bw_test_trail_append(t, 40, 10), BW_OK);
    /* A validly signed segment of the same records, made at another
     * time, is still not the file that was archived. */
    assert_int_equal(bw_test_trail_path(side, t->dir, "side.seg"), BW_OK);
    bw_clock_fake_set(1764790196000000LL, 1);
    assert_int_equal(bw_audit_export(t->dir, 1, 20, side, NULL), BW_OK);
    bw_clock_fake_disable();
    assert_int_equal(bw_test_trail_archive(t, 20, name), BW_OK);
    bw_test_trail_close(t);
    assert_int_equal(bw_snprintf(rel, sizeof(rel), "%s/%s", BW_AUDIT_ARCHIVE_DIR, name), BW_OK);
    assert_int_equal(bw_test_trail_path(path, t->dir, rel), BW_OK);
    assert_int_equal(rename(side, path), 0);
    expect_bad(t, 1, "segment audit-000001.seg is not the file archived");
}

/* ---- export and standalone segments ------------------------------------ */

static void test_export_round_trip(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 60, 10), BW_OK);
    assert_int_equal(bw_test_trail_archive(t, 10, NULL), BW_OK);
    bw_test_trail_close(t);
    char out[BW_AUDIT_PATH_MAX], part[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(out, t->dir, "export.seg"), BW_OK);
    assert_int_equal(bw_test_trail_path(part, t->dir, "part.seg"), BW_OK);
    struct bw_audit_export_info n;
    assert_int_equal(bw_audit_export(t->dir, 0, 0, out, &n), BW_OK);
    assert_int_equal(n.records, 50);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify_segment(out, t->dir, &r), BW_OK);
    assert_int_equal(r.records, 50);
    assert_int_equal(r.first_seq, 11);
    assert_int_equal(r.last_seq, 60);
    assert_int_equal(r.segments, 1);
    assert_int_equal(bw_audit_verify_segment(out, NULL, &r), BW_OK); /* the key it carries */
    assert_int_equal(bw_audit_export(t->dir, 15, 30, part, &n), BW_OK);
    assert_int_equal(n.records, 16);
    assert_int_equal(bw_audit_verify_segment(part, t->dir, &r), BW_OK);
    assert_int_equal(r.first_seq, 15);
    assert_int_equal(r.last_seq, 30);
    struct stat sb;
    assert_int_equal(stat(part, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0640);
    /* The trail itself is unchanged by exporting. */
    assert_int_equal(bw_audit_verify(t->dir, &r), BW_OK);
    assert_int_equal(r.records, 60);
}

static void test_export_refusals(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 20, 0), BW_OK);
    bw_test_trail_close(t);
    char out[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(out, t->dir, "export.seg"), BW_OK);
    struct bw_audit_export_info n = {.records = 99};
    assert_int_equal(bw_audit_export(t->dir, 0, 0, out, &n), BW_OK);
    size_t len1, len2;
    char *before = bw_test_file_read(out, 1 << 20, &len1);
    assert_non_null(before);
    assert_int_equal(bw_audit_export(t->dir, 0, 0, out, &n), BW_EEXIST);
    char *after = bw_test_file_read(out, 1 << 20, &len2);
    assert_non_null(after);
    assert_int_equal(len1, len2);
    assert_memory_equal(before, after, len1); /* left alone */
    free(before);
    free(after);
    assert_int_equal(unlink(out), 0);
    assert_int_equal(bw_audit_export(t->dir, 100, 200, out, &n), BW_ENOTFOUND);
    assert_int_equal(n.records, 0);
    assert_int_equal(access(out, F_OK), -1);
    /* A changed database is never signed into a segment. */
    assert_int_equal(bw_test_trail_tamper(t->dir, "UPDATE records SET source_name = 'mallory'"
                                                  " WHERE seq = 5;"),
                     BW_OK);
    assert_int_equal(bw_audit_export(t->dir, 0, 0, out, &n), BW_EMALFORMED);
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(bw_audit_export(t->dir, 6, 20, out, &n), BW_OK);
}

static void test_segment_under_other_trail_key(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 10, 0), BW_OK);
    bw_test_trail_close(t);
    char out[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(out, t->dir, "export.seg"), BW_OK);
    assert_int_equal(bw_audit_export(t->dir, 0, 0, out, NULL), BW_OK);
    struct bw_test_trail other;
    assert_int_equal(bw_test_trail_open(&other), BW_OK);
    bw_test_trail_close(&other);
    struct bw_audit_verify_report r;
    assert_int_equal(bw_audit_verify_segment(out, other.dir, &r), BW_EMALFORMED);
    assert_int_equal(r.bad_seq, 1); /* its MAC key differs first */
    bw_test_trail_remove(&other);
}

/* ---- malformed segment files ------------------------------------------- */

static int verify_bytes(const char *path, const void *data, size_t len, const uint8_t *pub)
{
    assert_int_equal(bw_test_file_write(path, data, len, 0600), BW_OK);
    struct audit_segment_info info;
    struct bw_audit_verify_report r = {0};
    int rc = audit_segment_verify(path, pub, NULL, NULL, &info, &r);
    if (rc == BW_EMALFORMED)
        assert_true(r.problem[0] != '\0');
    return rc;
}

static void test_malformed_segments_refused(void **state)
{
    struct bw_test_trail *t = *state;
    assert_int_equal(bw_test_trail_append(t, 5, 0), BW_OK);
    uint8_t pub[BW_ED25519_KEY_LEN];
    memcpy(pub, t->keys.sign_public, sizeof(pub));
    bw_test_trail_close(t);
    char good[BW_AUDIT_PATH_MAX], bad[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_test_trail_path(good, t->dir, "good.seg"), BW_OK);
    assert_int_equal(bw_test_trail_path(bad, t->dir, "bad.seg"), BW_OK);
    assert_int_equal(bw_audit_export(t->dir, 0, 0, good, NULL), BW_OK);
    size_t len;
    char *text = bw_test_file_read(good, 1 << 20, &len);
    assert_non_null(text);
    assert_int_equal(verify_bytes(bad, text, len, pub), BW_OK);
    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(verify_bytes(bad, text, cut, pub), BW_EMALFORMED);
    /* Every single-bit change. */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            text[i] = (char)(text[i] ^ (1 << bit));
            assert_int_not_equal(verify_bytes(bad, text, len, pub), BW_OK);
            text[i] = (char)(text[i] ^ (1 << bit));
        }
    }
    /* Extra data after the trailer, a line twice. */
    char *twice = malloc(2 * len);
    assert_non_null(twice);
    memcpy(twice, text, len);
    memcpy(twice + len, text, len);
    assert_int_equal(verify_bytes(bad, twice, 2 * len, pub), BW_EMALFORMED);
    free(twice);
    free(text);
    static const char *const garbage[] = {
        "\n",
        "{}\n",
        "{\"format\":\"bulwark-audit-segment\",\"version\":2}\n",
        "{\"format\":\"bulwark-audit-segment\",\"version\":1,\"first_seq\":1,\"last_seq\":0,"
        "\"records\":0}\n",
        "{\"sha256\":\"00\",\"signature\":\"00\"}\n",
        "\x00\x01\x02\xff\xfe",
        "{\"seq\":1}\n{\"seq\":2}\n",
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(garbage); i++)
        assert_int_equal(verify_bytes(bad, garbage[i], strlen(garbage[i]) + (i == 5 ? 5 : 0), pub),
                         BW_EMALFORMED);
    /* A line far beyond the limit, without and with its newline. */
    size_t huge = 200 * 1024;
    char *big = malloc(huge);
    assert_non_null(big);
    memset(big, 'a', huge);
    assert_int_equal(verify_bytes(bad, big, huge, pub), BW_EMALFORMED);
    big[huge - 1] = '\n';
    assert_int_equal(verify_bytes(bad, big, huge, pub), BW_EMALFORMED);
    free(big);
    /* Not a regular file; not there. */
    struct audit_segment_info info;
    struct bw_audit_verify_report r = {0};
    assert_int_equal(audit_segment_verify(t->dir, pub, NULL, NULL, &info, &r), BW_EIO);
    assert_int_equal(audit_segment_verify("/nonexistent.seg", pub, NULL, NULL, &info, &r),
                     BW_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clean_trail_verifies, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_missing_trail, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_changed_detail_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_deleted_row_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_deleted_first_rows_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_swapped_rows_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_rechained_row_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_tail_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_replaced_mac_key_names_first, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_replaced_public_key_names_checkpoint,
                                        bw_test_trail_setup, bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_changed_checkpoint_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_record_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_backward_record_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_sequence_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_archived_trail_verifies, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_fully_archived_trail_verifies, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_changed_byte_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_removed_line_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_signature_changed_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_missing_named, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_chain_continues_into_db, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_replaced_by_other_file, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_export_round_trip, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_export_refusals, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_segment_under_other_trail_key, bw_test_trail_setup,
                                        bw_test_trail_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_segments_refused, bw_test_trail_setup,
                                        bw_test_trail_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
