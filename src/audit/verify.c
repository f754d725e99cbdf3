/* SPDX-License-Identifier: Apache-2.0
 *
 * Offline verification of a whole trail (bw_audit_verify) and of one
 * segment file (bw_audit_verify_segment). Read-only: the daemon may be
 * writing the trail meanwhile; one read transaction gives a consistent
 * snapshot of segments, records and checkpoints. The archive segments
 * are checked first, in order, each chaining to the one before; then the
 * records of audit.db in one pass, with the checkpoints merged in by
 * sequence number; last, the trail is held against its anchor (the newest
 * signed checkpoint, kept outside audit.db: anchor.c), which is read
 * before the snapshot so that it never names a checkpoint the snapshot
 * cannot hold yet. Statements are prepared once and rows are read in
 * place, so nothing here is allocated per record: a trail of a million
 * records is checked in about two seconds (bench/bench_audit_verify.c). Stops at the first problem.
 * Any thread of a tool; the daemon does not call it.
 */
#include "audit/anchor_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

struct verifier {
    const char *state_dir;
    sqlite3 *db;
    struct audit_keys keys;
    struct bw_crypto_mac *mac;
    struct bw_audit_verify_report *report;
    uint64_t last_seq;                /* newest record checked so far; 0: none */
    uint8_t last_hash[BW_SHA256_LEN]; /* its hash; zero before record 1 */
    uint64_t archived_last;           /* newest record in the archive */
    sqlite3_stmt *records, *checkpoints;
    bool ck_have; /* checkpoints stands on a row */
    const struct bw_audit_verify_options *options;
    struct audit_anchor anchor;
    bool have_anchor;
    bool anchor_signed_seen;    /* the anchored checkpoint's row was checked */
    const char *anchor_problem; /* why the anchor read is not trusted; NULL: none */
    uint64_t newest_signed;     /* newest record a checkpoint or segment signs */
};

static void set_problem_seq(struct bw_audit_verify_report *r, uint64_t seq)
{
    if (r->problem[0] && r->bad_seq == 0)
        r->bad_seq = seq;
}

/* A record numbered got where expect (one after the last checked) was
 * due: records missing, the same number again, a number from before, or
 * one the writer never hands out. Each is named for what it is; the
 * report's sequence number is the first one that is wrong. */
static void report_sequence(struct verifier *v, uint64_t expect, int64_t got)
{
    struct bw_audit_verify_report *r = v->report;
    uint64_t g = (uint64_t)got;
    if (got <= 0)
        audit_report_problem(r, expect,
                             "a record has the invalid sequence number %" PRId64 " (record %" PRIu64
                             " expected)",
                             got, expect);
    else if (g == expect - 1)
        audit_report_problem(r, g,
                             "record %" PRIu64 " appears twice: the sequence repeats %" PRIu64
                             " (record %" PRIu64 " expected)",
                             g, g, expect);
    else if (g < expect)
        audit_report_problem(r, g,
                             "record %" PRIu64 " out of order: it follows record %" PRIu64
                             " (record %" PRIu64 " expected)",
                             g, expect - 1, expect);
    else if (expect == 1 && g == 2)
        audit_report_problem(r, 1, "record 1 missing: the trail starts at record 2");
    else if (expect == 1)
        audit_report_problem(
            r, 1, "records 1..%" PRIu64 " missing: the trail starts at record %" PRIu64, g - 1, g);
    else if (g == expect + 1)
        audit_report_problem(
            r, expect, "record %" PRIu64 " missing: sequence jumps from %" PRIu64 " to %" PRIu64,
            expect, expect - 1, g);
    else
        audit_report_problem(r, expect,
                             "records %" PRIu64 "..%" PRIu64
                             " missing: sequence jumps from %" PRIu64 " to %" PRIu64,
                             expect, g - 1, expect - 1, g);
}

/* ---- the archive ------------------------------------------------------ */

/* A file name as the writer puts it in `segments`: a plain base name. */
static bool segment_name_ok(sqlite3_stmt *st, int col)
{
    const char *name = (const char *)sqlite3_column_text(st, col);
    int bytes = sqlite3_column_bytes(st, col);
    if (!name || bytes <= 0 || bytes > 255 || strlen(name) != (size_t)bytes)
        return false;
    return !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static bool blob_is(sqlite3_stmt *st, int col, size_t len)
{
    return sqlite3_column_type(st, col) == SQLITE_BLOB && sqlite3_column_bytes(st, col) == (int)len;
}

/* One row of `segments`: its file verifies, is the file archived and
 * continues the chain. Returns BW_EMALFORMED after reporting. */
static int check_segment(struct verifier *v, sqlite3_stmt *st)
{
    struct bw_audit_verify_report *r = v->report;
    uint64_t first = (uint64_t)sqlite3_column_int64(st, 0);
    uint64_t last = (uint64_t)sqlite3_column_int64(st, 1);
    const char *file = (const char *)sqlite3_column_text(st, 2);
    if (!segment_name_ok(st, 2) || !blob_is(st, 3, BW_SHA256_LEN) ||
        !blob_is(st, 4, BW_SHA256_LEN) || first == 0 || last < first) {
        audit_report_problem(r, first ? first : v->last_seq + 1,
                             "archive entry for records %" PRIu64 "..%" PRIu64 " is malformed",
                             first, last);
        return BW_EMALFORMED;
    }
    if (first != v->last_seq + 1) {
        if (first > v->last_seq + 1)
            report_sequence(v, v->last_seq + 1, (int64_t)first);
        else
            audit_report_problem(r, first,
                                 "segment %.64s (records %" PRIu64 "..%" PRIu64
                                 ") overlaps the records before it (up to %" PRIu64 ")",
                                 file, first, last, v->last_seq);
        return BW_EMALFORMED;
    }
    char name[BW_AUDIT_PATH_MAX], path[BW_AUDIT_PATH_MAX];
    int rc = bw_snprintf(name, sizeof(name), "%s/%s", BW_AUDIT_ARCHIVE_DIR, file);
    if (rc == BW_OK)
        rc = audit_path(path, v->state_dir, name);
    if (rc)
        return rc;
    struct audit_segment_info info;
    struct audit_segment_probe probe = {.seq = v->have_anchor ? v->anchor.seq : 0};
    rc = audit_segment_verify_probe(path, v->keys.sign_public, v->mac, v->last_hash, &probe, &info,
                                    r);
    if (rc == BW_ENOTFOUND || rc == BW_EDENIED || rc == BW_EIO) {
        audit_report_problem(r, first, "segment %.64s (records %" PRIu64 "..%" PRIu64 ") %s", file,
                             first, last,
                             rc == BW_ENOTFOUND ? "is missing from the archive" : "cannot be read");
        return rc == BW_ENOTFOUND ? BW_EMALFORMED : rc;
    }
    set_problem_seq(r, first);
    if (rc)
        return rc;
    const char *why = NULL;
    if (info.first_seq != first || info.last_seq != last)
        why = "holds other records than audit.db lists";
    else if (!bw_crypto_equal(info.file_sha256, sqlite3_column_blob(st, 3), BW_SHA256_LEN))
        why = "is not the file archived (SHA-256 differs from audit.db)";
    else if (!bw_crypto_equal(info.last_hash, sqlite3_column_blob(st, 4), BW_SHA256_LEN))
        why = "ends in another record than audit.db lists";
    if (why) {
        audit_report_problem(r, first, "segment %.64s %s", file, why);
        return BW_EMALFORMED;
    }
    if (probe.found && !bw_crypto_equal(probe.hash, v->anchor.hash, BW_SHA256_LEN)) {
        audit_anchor_report_other(&v->anchor, r);
        return BW_EMALFORMED;
    }
    v->newest_signed = last;
    if (r->first_seq == 0)
        r->first_seq = first;
    v->last_seq = last;
    v->archived_last = last;
    memcpy(v->last_hash, info.last_hash, BW_SHA256_LEN);
    r->segments++;
    return BW_OK;
}

static int check_archive(struct verifier *v)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(v->db,
                           "SELECT first_seq, last_seq, file, file_sha256, last_hash"
                           " FROM segments ORDER BY first_seq",
                           -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    int rc = BW_OK, src;
    while (rc == BW_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = check_segment(v, st);
    if (rc == BW_OK && src != SQLITE_DONE)
        rc = BW_EIO;
    sqlite3_finalize(st);
    return rc;
}

/* ---- the records ------------------------------------------------------- */

static bool column_is(sqlite3_stmt *st, int col, int type)
{
    return sqlite3_column_type(st, col) == type;
}

/* A text column as the writer stores it: no NUL inside, since the hash
 * covers the text only up to its first NUL. */
static const char *text_column(sqlite3_stmt *st, int col, bool *ok)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    if (!s || strlen(s) != (size_t)sqlite3_column_bytes(st, col)) {
        *ok = false;
        return "";
    }
    return s;
}

/* An integer column within [0, max]. Its storage class is not checked
 * (a REAL 4.0 reads as 4 everywhere); its range is, since the canonical
 * bytes keep only the low bits. */
static bool int_column(sqlite3_stmt *st, int col, int64_t max, int64_t *out)
{
    *out = sqlite3_column_int64(st, col);
    return *out >= 0 && *out <= max;
}

/* The row records stands on, as the writer stored it. False when a
 * column has a type or value the writer never stores: such a value could
 * hash like another (a category of 260 encodes as 4). */
static bool read_row(sqlite3_stmt *st, struct bw_audit_entry *e)
{
    int64_t category = 0, event = 0, result = 0, kind = 0;
    bool ok = int_column(st, 2, UINT8_MAX, &category) && int_column(st, 3, UINT32_MAX, &event) &&
              int_column(st, 5, UINT8_MAX, &result) && int_column(st, 6, UINT8_MAX, &kind) &&
              blob_is(st, 10, BW_SHA256_LEN) && blob_is(st, 11, BW_SHA256_LEN);
    *e = (struct bw_audit_entry){
        .seq = (uint64_t)sqlite3_column_int64(st, 0),
        .ts_us = sqlite3_column_int64(st, 1),
        .category = (enum bw_audit_category)category,
        .event_id = (uint32_t)event,
        .result = (enum bw_audit_result)result,
        .source_kind = (enum bw_audit_source_kind)kind,
    };
    e->type = text_column(st, 4, &ok);
    e->source_name = text_column(st, 7, &ok);
    e->source_address = column_is(st, 8, SQLITE_NULL) ? NULL : text_column(st, 8, &ok);
    e->details = text_column(st, 9, &ok);
    return ok;
}

static int step_checkpoint(struct verifier *v)
{
    int src = sqlite3_step(v->checkpoints);
    v->ck_have = src == SQLITE_ROW;
    return src == SQLITE_ROW || src == SQLITE_DONE ? BW_OK : BW_EIO;
}

/* The checkpoint checkpoints stands on, which names record seq (whose
 * recomputed hash is hash): it signs that hash. */
static int check_checkpoint(struct verifier *v, uint64_t seq, const uint8_t hash[BW_SHA256_LEN])
{
    sqlite3_stmt *st = v->checkpoints;
    if (!blob_is(st, 2, BW_SHA256_LEN) || !blob_is(st, 3, BW_ED25519_SIG_LEN) ||
        !column_is(st, 1, SQLITE_INTEGER)) {
        audit_report_problem(v->report, seq, "checkpoint at record %" PRIu64 " is malformed", seq);
        return BW_EMALFORMED;
    }
    if (!bw_crypto_equal(sqlite3_column_blob(st, 2), hash, BW_SHA256_LEN)) {
        audit_report_problem(v->report, seq,
                             "checkpoint at record %" PRIu64 ": signed hash does not match the"
                             " record (record changed)",
                             seq);
        return BW_EMALFORMED;
    }
    uint8_t msg[AUDIT_CHECKPOINT_MSG_LEN];
    audit_checkpoint_message(seq, sqlite3_column_int64(st, 1), hash, msg);
    int rc = bw_crypto_verify(v->keys.sign_public, msg, sizeof(msg), sqlite3_column_blob(st, 3));
    if (rc == BW_EIO)
        return rc;
    if (rc) {
        audit_report_problem(v->report, seq,
                             "checkpoint at record %" PRIu64 ": signature does not hold"
                             " (checkpoint changed or signing key replaced)",
                             seq);
        return BW_EMALFORMED;
    }
    v->report->checkpoints++;
    return BW_OK;
}

/* The checkpoints up to record seq (hash its recomputed hash). One that
 * names a record before it that was not seen names a missing record. */
static int merge_checkpoints(struct verifier *v, uint64_t seq, const uint8_t hash[BW_SHA256_LEN])
{
    while (v->ck_have) {
        uint64_t ck = (uint64_t)sqlite3_column_int64(v->checkpoints, 0);
        if (ck > seq)
            return BW_OK;
        if (ck == seq) {
            int rc = check_checkpoint(v, seq, hash);
            if (rc)
                return rc;
            v->newest_signed = seq;
            v->anchor_signed_seen |= v->have_anchor && seq == v->anchor.seq;
        } else if (ck > v->archived_last) {
            audit_report_problem(v->report, ck, "checkpoint at record %" PRIu64 ": record missing",
                                 ck);
            return BW_EMALFORMED;
        }
        /* Checkpoints of archived records are normally removed with
         * them; the segment's signature covers those records. */
        int rc = step_checkpoint(v);
        if (rc)
            return rc;
    }
    return BW_OK;
}

/* After the last record: a checkpoint left names a record past the end,
 * so records were cut off the tail. */
static int finish_checkpoints(struct verifier *v)
{
    while (v->ck_have) {
        uint64_t ck = (uint64_t)sqlite3_column_int64(v->checkpoints, 0);
        if (ck > v->archived_last) {
            audit_report_problem(v->report, v->last_seq + 1,
                                 "checkpoint at record %" PRIu64
                                 ": record missing (trail truncated after %" PRIu64 ")",
                                 ck, v->last_seq);
            return BW_EMALFORMED;
        }
        int rc = step_checkpoint(v);
        if (rc)
            return rc;
    }
    return BW_OK;
}

/* The row records stands on: every check of one record. */
static int check_record(struct verifier *v)
{
    sqlite3_stmt *st = v->records;
    struct bw_audit_verify_report *r = v->report;
    struct bw_audit_entry e;
    bool ok = read_row(st, &e);
    uint64_t expect = v->last_seq + 1;
    int64_t stored_seq = sqlite3_column_int64(st, 0);
    if (stored_seq <= 0 || e.seq != expect) {
        report_sequence(v, expect, stored_seq);
        return BW_EMALFORMED;
    }
    if (!ok) {
        audit_report_problem(r, e.seq, "record %" PRIu64 ": a field has a value never recorded",
                             e.seq);
        return BW_EMALFORMED;
    }
    const uint8_t *prev = sqlite3_column_blob(st, 10);
    uint8_t hash[BW_SHA256_LEN], mac[BW_SHA256_LEN];
    int rc = audit_row_hash(&e, prev, hash);
    if (rc == BW_ETOOLARGE) {
        audit_report_problem(r, e.seq, "record %" PRIu64 ": longer than any record written", e.seq);
        return BW_EMALFORMED;
    }
    if (rc == BW_OK)
        rc = audit_row_mac(v->mac, hash, mac);
    if (rc)
        return rc;
    if (!bw_crypto_equal(mac, sqlite3_column_blob(st, 11), BW_SHA256_LEN)) {
        audit_report_problem(r, e.seq,
                             "record %" PRIu64 ": MAC does not match (record changed or key"
                             " replaced)",
                             e.seq);
        return BW_EMALFORMED;
    }
    if (!bw_crypto_equal(prev, v->last_hash, BW_SHA256_LEN)) {
        if (e.seq == 1)
            audit_report_problem(r, 1, "record 1: predecessor hash is not the trail's start");
        else
            audit_report_problem(
                r, e.seq, "record %" PRIu64 ": predecessor hash does not match record %" PRIu64,
                e.seq, e.seq - 1);
        return BW_EMALFORMED;
    }
    if (v->have_anchor && e.seq == v->anchor.seq &&
        !bw_crypto_equal(hash, v->anchor.hash, BW_SHA256_LEN)) {
        audit_anchor_report_other(&v->anchor, r);
        return BW_EMALFORMED;
    }
    rc = merge_checkpoints(v, e.seq, hash);
    if (rc)
        return rc;
    if (r->first_seq == 0)
        r->first_seq = e.seq;
    v->last_seq = e.seq;
    memcpy(v->last_hash, hash, BW_SHA256_LEN);
    r->records++;
    return BW_OK;
}

static int check_records(struct verifier *v)
{
    if (sqlite3_prepare_v2(v->db,
                           "SELECT seq, ts_us, category, event_id, type, result, source_kind,"
                           " source_name, source_address, details, prev_hash, mac"
                           " FROM records ORDER BY seq",
                           -1, &v->records, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(v->db, "SELECT seq, ts_us, hash, sig FROM checkpoints ORDER BY seq", -1,
                           &v->checkpoints, NULL) != SQLITE_OK)
        return BW_EIO;
    int rc = step_checkpoint(v), src = SQLITE_DONE;
    while (rc == BW_OK && (src = sqlite3_step(v->records)) == SQLITE_ROW)
        rc = check_record(v);
    if (rc == BW_OK && src != SQLITE_DONE)
        rc = BW_EIO;
    if (rc == BW_OK)
        rc = finish_checkpoints(v);
    return rc;
}

/* Why the keys or the database could not be read, for the report. */
static int report_unreadable(struct bw_audit_verify_report *r, int rc, const char *what)
{
    const char *why = rc == BW_ENOTFOUND    ? "not found"
                      : rc == BW_EDENIED    ? "refused: a link, or open to other users"
                      : rc == BW_EMALFORMED ? "malformed"
                                            : "cannot be read";
    audit_report_problem(r, 0, "%s: %s", what, why);
    return rc;
}

/* ---- the anchor and what the auditor knows --------------------------- */

#define ANCHOR_SHOWN BW_AUDIT_KEYS_DIR "/" BW_AUDIT_ANCHOR_NAME

/* Read before the snapshot: the writer moves the anchor only after the
 * commit that holds its checkpoint, so any snapshot taken later holds
 * that checkpoint too, even while the daemon appends. An anchor that
 * does not hold is reported after the trail, whose own problems name a
 * record and so come first. */
static int load_anchor(struct verifier *v)
{
    int rc = audit_anchor_read(v->state_dir, &v->anchor);
    if (rc == BW_ENOTFOUND)
        return BW_OK;
    if (rc == BW_EIO || rc == BW_EDENIED || rc == BW_ETOOLARGE)
        return report_unreadable(v->report, rc, "the anchor " ANCHOR_SHOWN);
    if (rc == BW_OK)
        rc = audit_anchor_verify(&v->anchor, v->keys.sign_public);
    if (rc == BW_EIO)
        return rc;
    if (rc) {
        v->anchor_problem = rc == BW_EMALFORMED ? "is malformed"
                                                : "is not signed by this trail's key (anchor"
                                                  " changed or signing key replaced)";
        return BW_OK;
    }
    v->have_anchor = true;
    v->report->anchor_seq = v->anchor.seq;
    return BW_OK;
}

/* The key the trail is signed with is the one the auditor pinned. */
static int check_pin(struct verifier *v)
{
    const uint8_t *pin = v->options ? v->options->key_sha256 : NULL;
    if (!pin)
        return BW_OK;
    uint8_t digest[BW_SHA256_LEN];
    int rc = bw_crypto_sha256(v->keys.sign_public, BW_ED25519_KEY_LEN, digest);
    if (rc)
        return rc;
    if (bw_crypto_equal(digest, pin, BW_SHA256_LEN)) {
        v->report->key_pinned = true;
        return BW_OK;
    }
    audit_report_problem(v->report, 0,
                         "the trail's signing key (" BW_AUDIT_KEYS_DIR "/" BW_AUDIT_SIGN_PUB_NAME
                         ") is not the pinned one: the keys were replaced, or the pin is"
                         " another trail's");
    return BW_EMALFORMED;
}

/* After every record: the trail reaches what the anchor and the auditor
 * say it must, and is anchored when it is signed. */
static int check_end(struct verifier *v)
{
    struct bw_audit_verify_report *r = v->report;
    uint64_t min_seq = v->options ? v->options->min_seq : 0;
    if (v->anchor_problem)
        audit_report_problem(r, 0, "the anchor (" ANCHOR_SHOWN ") %s", v->anchor_problem);
    else if (v->have_anchor && v->anchor.seq > v->last_seq)
        audit_anchor_report_short(&v->anchor, v->last_seq, r);
    else if (v->have_anchor && v->anchor.seq > v->archived_last && !v->anchor_signed_seen)
        audit_report_problem(r, v->anchor.seq,
                             "checkpoint at record %" PRIu64
                             " missing: the anchor names it, " BW_AUDIT_DB_NAME " does not hold it",
                             v->anchor.seq);
    else if (!v->have_anchor && v->newest_signed)
        audit_anchor_report_missing(v->newest_signed, r);
    else if (min_seq > v->last_seq)
        audit_report_ends_before(r, v->last_seq, min_seq, "its required end");
    return r->problem[0] ? BW_EMALFORMED : BW_OK;
}

/* ---- entry points ------------------------------------------------------ */

/* Nothing of a trail at all: no database, no keys (a new or a wiped
 * state directory, or a wrong path). */
static bool nothing_here(const char *state_dir)
{
    static const char *const names[] = {BW_AUDIT_DB_NAME, BW_AUDIT_KEYS_DIR};
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        char path[BW_AUDIT_PATH_MAX];
        struct stat st;
        if (audit_path(path, state_dir, names[i]) != BW_OK || lstat(path, &st) == 0 ||
            errno != ENOENT)
            return false;
    }
    return true;
}

/* The keys, the pin and the anchor: everything read before audit.db. */
static int load_keys(struct verifier *v)
{
    struct bw_audit_verify_report *r = v->report;
    int rc = audit_keys_load(v->state_dir, false, false, &v->keys);
    if (rc == BW_ENOTFOUND && nothing_here(v->state_dir)) {
        r->no_trail = true;
        audit_report_problem(
            r, 0, "no audit trail: neither " BW_AUDIT_DB_NAME " nor " BW_AUDIT_KEYS_DIR "/ exists");
        return rc;
    }
    if (rc)
        return report_unreadable(r, rc, "the audit keys in " BW_AUDIT_KEYS_DIR "/");
    memcpy(r->public_key, v->keys.sign_public, sizeof(r->public_key));
    r->have_public_key = true;
    rc = check_pin(v);
    if (rc == BW_OK)
        rc = load_anchor(v);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(v->keys.mac_key, sizeof(v->keys.mac_key), &v->mac);
    return rc;
}

static int open_trail(struct verifier *v)
{
    int rc = audit_store_open_ro(v->state_dir, &v->db);
    if (rc == BW_ENOTFOUND && v->have_anchor) {
        audit_anchor_report_short(&v->anchor, 0, v->report);
        return BW_EMALFORMED;
    }
    if (rc)
        return report_unreadable(v->report, rc, "the trail " BW_AUDIT_DB_NAME);
    /* Reading through a mapping saves a copy per page; best effort. */
    int mapped = audit_store_exec(v->db, "PRAGMA mmap_size=1073741824;");
    (void)mapped;
    /* One snapshot of all three tables while the daemon may append. */
    if (audit_store_exec(v->db, "BEGIN;") != BW_OK)
        return report_unreadable(v->report, BW_EIO, "the trail " BW_AUDIT_DB_NAME);
    return BW_OK;
}

/* Everything but opening and closing. */
static int verify_open_trail(struct verifier *v)
{
    int rc = check_archive(v);
    if (rc == BW_OK)
        rc = check_records(v);
    if (rc == BW_OK)
        rc = check_end(v);
    return rc;
}

int bw_audit_verify_with(const char *state_dir, const struct bw_audit_verify_options *options,
                         struct bw_audit_verify_report *report)
{
    memset(report, 0, sizeof(*report));
    struct verifier v = {.state_dir = state_dir, .report = report, .options = options};
    int rc = load_keys(&v);
    if (rc == BW_OK)
        rc = open_trail(&v);
    if (rc == BW_OK) {
        rc = verify_open_trail(&v);
        if (rc == BW_EIO)
            report_unreadable(report, rc, "the trail " BW_AUDIT_DB_NAME);
        int end = audit_store_exec(v.db, "COMMIT;");
        if (rc == BW_OK)
            rc = end;
    }
    sqlite3_finalize(v.records);
    sqlite3_finalize(v.checkpoints);
    sqlite3_close(v.db);
    bw_crypto_mac_free(v.mac);
    audit_keys_clear(&v.keys);
    report->last_seq = v.last_seq;
    return rc;
}

int bw_audit_verify(const char *state_dir, struct bw_audit_verify_report *report)
{
    return bw_audit_verify_with(state_dir, NULL, report);
}

int bw_audit_verify_segment(const char *path, const char *state_dir,
                            struct bw_audit_verify_report *report)
{
    memset(report, 0, sizeof(*report));
    struct audit_keys keys;
    struct bw_crypto_mac *mac = NULL;
    bool have_keys = state_dir && audit_keys_load(state_dir, false, false, &keys) == BW_OK;
    if (have_keys && bw_crypto_mac_new(keys.mac_key, sizeof(keys.mac_key), &mac) != BW_OK) {
        audit_keys_clear(&keys);
        return BW_ENOMEM;
    }
    struct audit_segment_info info;
    /* With the trail's keys the segment must also be signed by its key;
     * alone, the key the file carries is the one to check against (and
     * the caller compares its fingerprint with one known). */
    int rc =
        audit_segment_verify(path, have_keys ? keys.sign_public : NULL, mac, NULL, &info, report);
    if (rc == BW_ENOTFOUND || rc == BW_EDENIED || rc == BW_EIO)
        report_unreadable(report, rc, "the segment file");
    if (rc == BW_OK || rc == BW_EMALFORMED) {
        report->first_seq = info.first_seq;
        report->last_seq = info.records ? info.first_seq + info.records - 1 : 0;
        report->segments = rc == BW_OK ? 1 : 0;
    }
    bw_crypto_mac_free(mac);
    if (have_keys)
        audit_keys_clear(&keys);
    return rc;
}
