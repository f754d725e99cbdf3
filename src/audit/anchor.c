/* SPDX-License-Identifier: Apache-2.0
 *
 * The trail's anchor, STATE/keys/audit-anchor: the newest signed
 * checkpoint, kept outside audit.db (format and purpose in
 * anchor_internal.h). Writing it atomically and reading it back as
 * hostile input; the words of the problems it reveals; the writer's
 * update after a checkpoint (writer thread) and the comparison at the
 * daemon's start (main thread, before the writer runs).
 */
#include "audit/anchor_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t anchor_magic[8] = {'B', 'W', 'A', 'N', '1', 0, 0, 0};

#define TMP_SUFFIX ".tmp"

int audit_anchor_sign(struct bw_crypto_signer *signer, uint64_t seq, int64_t ts_us,
                      const uint8_t hash[BW_SHA256_LEN], struct audit_anchor *out)
{
    memset(out, 0, sizeof(*out));
    out->seq = seq;
    out->ts_us = ts_us;
    memcpy(out->hash, hash, BW_SHA256_LEN);
    uint8_t msg[AUDIT_CHECKPOINT_MSG_LEN];
    audit_checkpoint_message(seq, ts_us, hash, msg);
    return bw_crypto_sign(signer, msg, sizeof(msg), out->sig);
}

int audit_anchor_verify(const struct audit_anchor *anchor,
                        const uint8_t public_key[BW_ED25519_KEY_LEN])
{
    uint8_t msg[AUDIT_CHECKPOINT_MSG_LEN];
    audit_checkpoint_message(anchor->seq, anchor->ts_us, anchor->hash, msg);
    return bw_crypto_verify(public_key, msg, sizeof(msg), anchor->sig);
}

static int anchor_paths(const char *state_dir, char *dir, char *path, char *tmp)
{
    int rc = audit_path(dir, state_dir, BW_AUDIT_KEYS_DIR);
    if (rc == BW_OK)
        rc = audit_path(path, dir, BW_AUDIT_ANCHOR_NAME);
    if (rc == BW_OK)
        rc = audit_path(tmp, dir, BW_AUDIT_ANCHOR_NAME TMP_SUFFIX);
    return rc;
}

int audit_anchor_write(const char *state_dir, const struct audit_anchor *anchor)
{
    char dir[BW_AUDIT_PATH_MAX], path[BW_AUDIT_PATH_MAX], tmp[BW_AUDIT_PATH_MAX];
    int rc = anchor_paths(state_dir, dir, path, tmp);
    if (rc)
        return rc;
    uint8_t file[AUDIT_ANCHOR_FILE_LEN];
    memcpy(file, anchor_magic, sizeof(anchor_magic));
    audit_checkpoint_message(anchor->seq, anchor->ts_us, anchor->hash, file + 8);
    memcpy(file + 8 + AUDIT_CHECKPOINT_MSG_LEN, anchor->sig, BW_ED25519_SIG_LEN);
    /* A temporary file left by a crash is ours to replace. */
    (void)unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return BW_EIO;
    /* 0600 whatever the umask took away. */
    rc = fchmod(fd, 0600) == 0 ? audit_write_all(fd, file, sizeof(file)) : BW_EIO;
    if (rc == BW_OK && fsync(fd) != 0)
        rc = BW_EIO;
    if (close(fd) != 0 && rc == BW_OK)
        rc = BW_EIO;
    if (rc == BW_OK && rename(tmp, path) != 0)
        rc = BW_EIO;
    if (rc) {
        (void)unlink(tmp);
        return rc;
    }
    return audit_fsync_dir(dir);
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The file's bytes as an anchor: every field where it belongs, and the
 * message exactly the one a checkpoint of those fields signs. */
static int anchor_decode(const uint8_t file[AUDIT_ANCHOR_FILE_LEN], struct audit_anchor *out)
{
    const uint8_t *msg = file + 8;
    if (memcmp(file, anchor_magic, sizeof(anchor_magic)) != 0)
        return BW_EMALFORMED;
    out->seq = get_u64(msg + 8);
    out->ts_us = (int64_t)get_u64(msg + 16);
    memcpy(out->hash, msg + 24, BW_SHA256_LEN);
    memcpy(out->sig, msg + AUDIT_CHECKPOINT_MSG_LEN, BW_ED25519_SIG_LEN);
    uint8_t want[AUDIT_CHECKPOINT_MSG_LEN];
    audit_checkpoint_message(out->seq, out->ts_us, out->hash, want);
    if (memcmp(want, msg, sizeof(want)) != 0 || out->seq == 0 || out->seq > INT64_MAX)
        return BW_EMALFORMED;
    return BW_OK;
}

int audit_anchor_read(const char *state_dir, struct audit_anchor *out)
{
    memset(out, 0, sizeof(*out));
    char dir[BW_AUDIT_PATH_MAX], path[BW_AUDIT_PATH_MAX], tmp[BW_AUDIT_PATH_MAX];
    int rc = anchor_paths(state_dir, dir, path, tmp);
    if (rc)
        return rc;
    /* O_NONBLOCK: a FIFO in its place must not hang the reader. */
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? BW_ENOTFOUND : errno == ELOOP ? BW_EDENIED : BW_EIO;
    struct stat st;
    uint8_t file[AUDIT_ANCHOR_FILE_LEN];
    if (fstat(fd, &st) != 0)
        rc = BW_EIO;
    else if (!S_ISREG(st.st_mode) || st.st_size != (off_t)sizeof(file))
        rc = BW_EMALFORMED;
    else if (st.st_mode & 022)
        rc = BW_EDENIED;
    else if (read(fd, file, sizeof(file)) != (ssize_t)sizeof(file))
        rc = BW_EIO;
    close(fd);
    if (rc == BW_OK)
        rc = anchor_decode(file, out);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

/* ---- what is wrong, in the words verify and the daemon both use ----- */

void audit_report_ends_before(struct bw_audit_verify_report *r, uint64_t last_seq, uint64_t need,
                              const char *what)
{
    char missing[64];
    int rc = need == last_seq + 1
                 ? bw_snprintf(missing, sizeof(missing), "record %" PRIu64 " missing", need)
                 : bw_snprintf(missing, sizeof(missing), "records %" PRIu64 "..%" PRIu64 " missing",
                               last_seq + 1, need);
    (void)rc; /* two numbers always fit */
    if (last_seq == 0)
        audit_report_problem(r, 1, "the trail is empty, but %s is at record %" PRIu64 ": %s", what,
                             need, missing);
    else
        audit_report_problem(r, last_seq + 1,
                             "the trail ends at record %" PRIu64 ", before %s at record %" PRIu64
                             ": %s",
                             last_seq, what, need, missing);
}

void audit_anchor_report_short(const struct audit_anchor *anchor, uint64_t last_seq,
                               struct bw_audit_verify_report *r)
{
    audit_report_ends_before(r, last_seq, anchor->seq, "its anchored checkpoint");
}

void audit_anchor_report_other(const struct audit_anchor *anchor, struct bw_audit_verify_report *r)
{
    audit_report_problem(r, anchor->seq,
                         "record %" PRIu64 " is not the one the anchored checkpoint signed"
                         " (the trail was replaced up to there)",
                         anchor->seq);
}

void audit_anchor_report_missing(uint64_t signed_seq, struct bw_audit_verify_report *r)
{
    audit_report_problem(r, 0,
                         "no anchor (" BW_AUDIT_KEYS_DIR "/" BW_AUDIT_ANCHOR_NAME
                         "), but the trail is signed up to record %" PRIu64
                         " (anchor removed, or the trail's tail cut with it)",
                         signed_seq);
}

/* ---- the writer's side --------------------------------------------- */

void audit_anchor_prepare(struct bw_audit *audit, uint64_t seq, int64_t ts_us,
                          const uint8_t hash[BW_SHA256_LEN])
{
    struct audit_anchor anchor;
    int rc = audit_anchor_sign(audit->keys.signer, seq, ts_us, hash, &anchor);
    if (rc) {
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "cannot sign the audit anchor for checkpoint %" PRIu64
               " (%s): until a later checkpoint can, cutting the newest records off the trail "
               "would go unnoticed",
               seq, bw_strerror(rc));
        return;
    }
    pthread_mutex_lock(&audit->mu);
    audit->anchor_next = anchor; /* a newer checkpoint replaces an older one not yet written */
    audit->anchor_waiting = true;
    pthread_cond_signal(&audit->sync_work);
    pthread_mutex_unlock(&audit->mu);
}

void audit_anchor_store(struct bw_audit *audit, const struct audit_anchor *anchor)
{
    int rc = audit_anchor_write(audit->state_dir, anchor);
    if (rc)
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "cannot write the audit anchor for checkpoint %" PRIu64
               " (%s): until a later checkpoint can, cutting the newest records off the trail "
               "would go unnoticed",
               anchor->seq, bw_strerror(rc));
}

/* ---- the check at start ----------------------------------------------- */

struct hash_probe {
    uint8_t hash[BW_SHA256_LEN];
    bool found;
};

static int probe_row(const struct bw_audit_entry *e, const uint8_t prev[BW_SHA256_LEN],
                     const uint8_t mac[BW_SHA256_LEN], void *ctx)
{
    (void)mac;
    struct hash_probe *p = ctx;
    int rc = audit_row_hash(e, prev, p->hash);
    p->found = rc == BW_OK;
    return rc == BW_ETOOLARGE ? BW_OK : rc;
}

/* The hash of record seq as the trail holds it: recomputed from its row,
 * or, once archived, the segment's last hash when seq ends one. Inside a
 * segment it is left to the verifier (found stays false). */
static int hash_at(sqlite3 *db, uint64_t seq, struct hash_probe *p)
{
    p->found = false;
    int rc = audit_store_scan(db, seq, seq, probe_row, p);
    if (rc || p->found)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT last_hash FROM segments WHERE last_seq = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return BW_EIO;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == BW_SHA256_LEN) {
        memcpy(p->hash, sqlite3_column_blob(st, 0), BW_SHA256_LEN);
        p->found = true;
    }
    sqlite3_finalize(st);
    return BW_OK;
}

/* What is wrong between the trail (its newest record tail_seq) and its
 * anchor, into r; nothing when they agree. */
static int compare_open(struct bw_audit *audit, uint64_t tail_seq, struct bw_audit_verify_report *r,
                        uint64_t *anchor_seq)
{
    struct audit_anchor anchor;
    int rc = audit_anchor_read(audit->state_dir, &anchor);
    if (rc == BW_ENOTFOUND) {
        uint64_t ck = 0, seg = 0;
        rc = audit_store_query_u64(audit->db, "SELECT max(seq) FROM checkpoints", &ck, NULL);
        if (rc == BW_OK)
            rc = audit_store_query_u64(audit->db, "SELECT max(last_seq) FROM segments", &seg, NULL);
        if (rc == BW_OK && (ck || seg))
            audit_anchor_report_missing(ck > seg ? ck : seg, r);
        return rc;
    }
    if (rc == BW_OK)
        rc = audit_anchor_verify(&anchor, audit->keys.sign_public);
    if (rc == BW_EIO)
        return rc;
    if (rc) {
        audit_report_problem(r, 0,
                             "the anchor (" BW_AUDIT_KEYS_DIR "/" BW_AUDIT_ANCHOR_NAME
                             ") is not one this trail signed");
        return BW_OK;
    }
    *anchor_seq = anchor.seq;
    if (anchor.seq > tail_seq) {
        audit_anchor_report_short(&anchor, tail_seq, r);
        return BW_OK;
    }
    struct hash_probe p;
    rc = hash_at(audit->db, anchor.seq, &p);
    if (rc == BW_OK && p.found && !bw_crypto_equal(p.hash, anchor.hash, BW_SHA256_LEN))
        audit_anchor_report_other(&anchor, r);
    return rc;
}

void audit_anchor_check_open(struct bw_audit *audit)
{
    struct audit_tail tail;
    struct bw_audit_verify_report r;
    memset(&r, 0, sizeof(r));
    uint64_t anchor_seq = 0;
    int rc = audit_store_tail(audit->db, audit->mac, &tail);
    if (rc == BW_OK)
        rc = compare_open(audit, tail.seq, &r, &anchor_seq);
    if (rc) {
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT,
               "cannot compare the audit trail with its anchor (%s); run 'bulwark audit verify'",
               bw_strerror(rc));
        return;
    }
    if (!r.problem[0])
        return;
    bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT, "audit trail integrity: %s; run 'bulwark audit verify'",
           r.problem);
    audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_INTEGRITY, BW_AUDIT_FAILURE,
                           json_pack("{s:I, s:I, s:s}", "seq", (json_int_t)tail.seq, "anchor_seq",
                                     (json_int_t)anchor_seq, "problem", r.problem),
                           false);
}
