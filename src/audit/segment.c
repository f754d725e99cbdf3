/* SPDX-License-Identifier: Apache-2.0
 *
 * Writing signed segment files: a range of records out of audit.db into
 * a JSON Lines file (a header line, one line per record, a signed
 * trailer) that anyone can check with the public key it carries. The
 * writer's archiving (capacity.c) and `audit export` (export.c) both
 * come here. Before signing, the range is checked as the verifier would
 * (no gap, chain, MACs): a signature must never vouch for records that
 * were changed in the database. The format is in segment_format.h and
 * docs/internals/audit.md; segment_verify.c reads it back. Runs on the
 * thread that owns db.
 */
#include "audit/internal.h"
#include "audit/segment_format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

/* Output is buffered and written in pieces of about this size. */
#define FLUSH_AT (256u * 1024u)

struct seg_writer {
    int fd;
    struct bw_buf buf;
    struct bw_crypto_sha256_ctx *body; /* every byte before the trailer */
    struct bw_crypto_sha256_ctx *file; /* every byte of the file */
    struct bw_crypto_mac *mac;
    const struct audit_keys *keys;
    struct audit_segment_info *info;
    uint64_t first, last, next_seq;
    uint8_t prev[BW_SHA256_LEN];
};

/* Writes out what is buffered; body says whether it lies before the
 * trailer (and so counts for the signed digest). */
static int flush(struct seg_writer *w, bool body)
{
    int rc = bw_crypto_sha256_update(w->file, w->buf.data, w->buf.len);
    if (rc == BW_OK && body)
        rc = bw_crypto_sha256_update(w->body, w->buf.data, w->buf.len);
    if (rc == BW_OK)
        rc = audit_write_all(w->fd, w->buf.data, w->buf.len);
    bw_buf_reset(&w->buf);
    return rc;
}

static int put_hex(struct bw_buf *b, const uint8_t *bytes, size_t len)
{
    char hex[2 * BW_ED25519_SIG_LEN + 1];
    if (len > BW_ED25519_SIG_LEN)
        return BW_EINVAL;
    bw_crypto_hex(bytes, len, hex);
    int rc = bw_buf_append_str(b, "\"");
    if (rc == BW_OK)
        rc = bw_buf_append(b, hex, 2 * len);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, "\"");
    return rc;
}

/* A JSON string of s (at most max bytes of valid UTF-8). Only '"', '\\',
 * control bytes and DEL are escaped, always the same way, so a file has
 * one spelling of each record and the reader can insist on it. */
static int put_text(struct bw_buf *b, const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len > max || !bw_utf8_valid(s, len))
        return BW_EMALFORMED;
    int rc = bw_buf_append_str(b, "\"");
    size_t run = 0; /* bytes copied as they are, waiting to be appended */
    for (size_t i = 0; i < len && rc == BW_OK; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') {
            run++;
            continue;
        }
        rc = bw_buf_append(b, s + i - run, run);
        run = 0;
        if (rc == BW_OK)
            rc = c == '"' || c == '\\' ? bw_buf_printf(b, "\\%c", c)
                                       : bw_buf_printf(b, "\\u%04x", c);
    }
    if (rc == BW_OK)
        rc = bw_buf_append(b, s + len - run, run);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, "\"");
    return rc;
}

static int put_header(struct seg_writer *w, uint64_t count, const uint8_t first_prev[BW_SHA256_LEN])
{
    struct bw_buf *b = &w->buf;
    int rc = bw_buf_printf(b,
                           "{\"format\":\"%s\",\"version\":%d,\"first_seq\":%" PRIu64
                           ",\"last_seq\":%" PRIu64 ",\"records\":%" PRIu64 ",\"first_prev_hash\":",
                           SEG_FORMAT_NAME, SEG_FORMAT_VERSION, w->first, w->last, count);
    if (rc == BW_OK)
        rc = put_hex(b, first_prev, BW_SHA256_LEN);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, ",\"public_key\":");
    if (rc == BW_OK)
        rc = put_hex(b, w->keys->sign_public, BW_ED25519_KEY_LEN);
    if (rc == BW_OK)
        rc = bw_buf_printf(b, ",\"created_us\":%" PRId64 "}\n", bw_clock_realtime_us());
    return rc;
}

static int put_record(struct bw_buf *b, const struct bw_audit_entry *e,
                      const uint8_t prev[BW_SHA256_LEN], const uint8_t mac[BW_SHA256_LEN])
{
    int rc = bw_buf_printf(b,
                           "{\"seq\":%" PRIu64 ",\"ts_us\":%" PRId64 ",\"category\":%u"
                           ",\"event_id\":%" PRIu32 ",\"type\":",
                           e->seq, e->ts_us, (unsigned)(uint8_t)e->category, e->event_id);
    if (rc == BW_OK)
        rc = put_text(b, e->type, SEG_TYPE_MAX);
    if (rc == BW_OK)
        rc = bw_buf_printf(b, ",\"result\":%u,\"source_kind\":%u,\"source_name\":",
                           (unsigned)(uint8_t)e->result, (unsigned)(uint8_t)e->source_kind);
    if (rc == BW_OK)
        rc = put_text(b, e->source_name, SEG_NAME_MAX);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, ",\"source_address\":");
    if (rc == BW_OK)
        rc = e->source_address ? put_text(b, e->source_address, SEG_ADDRESS_MAX)
                               : bw_buf_append_str(b, "null");
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, ",\"details\":");
    if (rc == BW_OK)
        rc = put_text(b, e->details, SEG_DETAILS_MAX);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, ",\"prev_hash\":");
    if (rc == BW_OK)
        rc = put_hex(b, prev, BW_SHA256_LEN);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, ",\"mac\":");
    if (rc == BW_OK)
        rc = put_hex(b, mac, BW_SHA256_LEN);
    if (rc == BW_OK)
        rc = bw_buf_append_str(b, "}\n");
    return rc;
}

/* One record of the range: checked as the verifier would, then written. */
static int write_row(const struct bw_audit_entry *e, const uint8_t prev[BW_SHA256_LEN],
                     const uint8_t mac[BW_SHA256_LEN], void *ctx)
{
    struct seg_writer *w = ctx;
    if (e->seq != w->next_seq)
        return BW_EMALFORMED; /* a gap: the range is not what was counted */
    int rc;
    if (e->seq == w->first) {
        memcpy(w->info->first_prev_hash, prev, BW_SHA256_LEN);
        rc = put_header(w, w->last - w->first + 1, prev);
        if (rc)
            return rc;
    } else if (!bw_crypto_equal(prev, w->prev, BW_SHA256_LEN)) {
        return BW_EMALFORMED;
    }
    uint8_t want[BW_SHA256_LEN];
    rc = audit_row_hash(e, prev, w->prev);
    if (rc == BW_OK)
        rc = audit_row_mac(w->mac, w->prev, want);
    if (rc)
        return rc == BW_ETOOLARGE ? BW_EMALFORMED : rc;
    if (!bw_crypto_equal(want, mac, BW_SHA256_LEN))
        return BW_EMALFORMED;
    rc = put_record(&w->buf, e, prev, mac);
    if (rc == BW_OK && w->buf.len >= FLUSH_AT)
        rc = flush(w, true);
    w->next_seq++;
    return rc;
}

static int put_trailer(struct seg_writer *w)
{
    int rc = flush(w, true);
    uint8_t digest[BW_SHA256_LEN], sig[BW_ED25519_SIG_LEN];
    if (rc == BW_OK)
        rc = bw_crypto_sha256_final(w->body, digest);
    if (rc == BW_OK)
        rc = bw_crypto_sign(w->keys->signer, digest, sizeof(digest), sig);
    if (rc == BW_OK)
        rc = bw_buf_append_str(&w->buf, SEG_TRAILER_START);
    if (rc == BW_OK)
        rc = put_hex(&w->buf, digest, sizeof(digest));
    if (rc == BW_OK)
        rc = bw_buf_append_str(&w->buf, ",\"signature\":");
    if (rc == BW_OK)
        rc = put_hex(&w->buf, sig, sizeof(sig));
    if (rc == BW_OK)
        rc = bw_buf_append_str(&w->buf, "}\n");
    if (rc == BW_OK)
        rc = flush(w, false);
    if (rc == BW_OK)
        rc = bw_crypto_sha256_final(w->file, w->info->file_sha256);
    return rc;
}

/* The records that exist in [first, last]: their bounds, which must
 * leave no gap. BW_ENOTFOUND when there are none. */
static int range_bounds(sqlite3 *db, uint64_t *first, uint64_t *last)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT min(seq), max(seq), count(*) FROM records"
                           " WHERE seq >= ? AND seq <= ?",
                           -1, &st, NULL) != SQLITE_OK)
        return BW_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)(*first > INT64_MAX ? INT64_MAX : *first));
    sqlite3_bind_int64(st, 2, (sqlite3_int64)(*last > INT64_MAX ? INT64_MAX : *last));
    int rc = BW_EIO;
    if (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t lo = (uint64_t)sqlite3_column_int64(st, 0);
        uint64_t hi = (uint64_t)sqlite3_column_int64(st, 1);
        uint64_t n = (uint64_t)sqlite3_column_int64(st, 2);
        if (n == 0)
            rc = BW_ENOTFOUND;
        else if (lo == 0 || hi < lo || hi - lo + 1 != n)
            rc = BW_EMALFORMED;
        else
            rc = BW_OK;
        *first = lo;
        *last = hi;
    }
    sqlite3_finalize(st);
    return rc;
}

/* The directory part of path, for syncing the new entry in it. */
static int parent_dir(const char *path, char *out)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return bw_snprintf(out, BW_AUDIT_PATH_MAX, ".");
    if (slash == path)
        return bw_snprintf(out, BW_AUDIT_PATH_MAX, "/");
    return bw_snprintf(out, BW_AUDIT_PATH_MAX, "%.*s", (int)(slash - path), path);
}

static int write_file(struct seg_writer *w, sqlite3 *db, const char *path)
{
    int rc = bw_crypto_sha256_new(&w->body);
    if (rc == BW_OK)
        rc = bw_crypto_sha256_new(&w->file);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(w->keys->mac_key, sizeof(w->keys->mac_key), &w->mac);
    if (rc)
        return rc;
    w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
    if (w->fd < 0)
        return errno == EEXIST ? BW_EEXIST : BW_EIO;
    rc = audit_store_scan(db, w->first, w->last, write_row, w);
    if (rc == BW_OK && w->next_seq != w->last + 1)
        rc = BW_EMALFORMED; /* fewer rows than counted */
    if (rc == BW_OK)
        rc = put_trailer(w);
    if (rc == BW_OK && fsync(w->fd) != 0)
        rc = BW_EIO;
    if (close(w->fd) != 0 && rc == BW_OK)
        rc = BW_EIO;
    w->fd = -1;
    char dir[BW_AUDIT_PATH_MAX];
    if (rc == BW_OK)
        rc = parent_dir(path, dir);
    if (rc == BW_OK)
        rc = audit_fsync_dir(dir);
    if (rc)
        unlink(path); /* ours: created exclusively above */
    return rc;
}

int audit_segment_write(sqlite3 *db, const struct audit_keys *keys, uint64_t first, uint64_t last,
                        const char *path, struct audit_segment_info *info)
{
    memset(info, 0, sizeof(*info));
    if (!keys->signer || first == 0 || last < first)
        return BW_EINVAL;
    /* One snapshot for counting and reading, inside the caller's
     * transaction when there is one (the archiving roll). */
    int rc = audit_store_exec(db, "SAVEPOINT audit_segment;");
    if (rc)
        return rc;
    rc = range_bounds(db, &first, &last);
    struct seg_writer w = {.fd = -1, .keys = keys, .info = info};
    if (rc == BW_OK) {
        w.first = first;
        w.last = last;
        w.next_seq = first;
        bw_buf_init(&w.buf, FLUSH_AT + 2 * SEG_LINE_MAX);
        rc = write_file(&w, db, path);
    }
    int end = audit_store_exec(db, "RELEASE audit_segment;");
    if (rc == BW_OK && end) {
        unlink(path); /* written, but from a read we cannot vouch for */
        rc = end;
    }
    if (rc == BW_OK) {
        info->first_seq = first;
        info->last_seq = last;
        info->records = last - first + 1;
        memcpy(info->last_hash, w.prev, BW_SHA256_LEN);
    }
    bw_buf_clear(&w.buf);
    bw_crypto_sha256_free(w.body);
    bw_crypto_sha256_free(w.file);
    bw_crypto_mac_free(w.mac);
    return rc;
}
