/* SPDX-License-Identifier: Apache-2.0
 *
 * audit/internal.h: what the files of the audit module share.
 *   catalogue.c  event IDs, category and result names
 *   record.c     secret redaction, the canonical bytes, hash and MAC
 *   keys.c       the MAC key and the signing key in STATE/keys/
 *   store.c      the SQLite schema and statements of audit.db
 *   segment.c    signed segment files (archive and export);
 *                segment_verify.c reads and checks them
 *   anchor.c     the anchor outside audit.db (anchor_internal.h)
 *   writer.c     the writer thread: group commit, checkpoints, failure
 *   sync.c       the syncer thread: fdatasync, then wake the producers
 *   capacity.c   size and age limits, thresholds, rolling to the archive
 *   audit.c      open/close/record/gate/status
 *   clock.c      time-source health (adjtimex)
 *   filter.c     query filters from text; query.c the reader
 *   verify.c     offline verification; export.c export of a range
 *   util.c       paths inside the state directory
 *   forward*.c   syslog forwarding (forward_internal.h)
 */
#ifndef BW_AUDIT_INTERNAL_H
#define BW_AUDIT_INTERNAL_H

#include "audit/audit.h"
#include "crypto/crypto.h"

#include <pthread.h>
#include <semaphore.h>
#include <sqlite3.h>
#include <stdatomic.h>

#define BW_AUDIT_DB_NAME "audit.db"
#define BW_AUDIT_KEYS_DIR "keys"
#define BW_AUDIT_MAC_KEY_NAME "audit-mac.key"
#define BW_AUDIT_SIGN_KEY_NAME "audit-sign.key"
#define BW_AUDIT_SIGN_PUB_NAME "audit-sign.pub"
#define BW_AUDIT_ARCHIVE_DIR "audit-archive"
#define BW_AUDIT_MAC_KEY_LEN 32
#define BW_AUDIT_PATH_MAX 4096

/* Bounds of one record's text fields, enforced at bw_audit_record(). */
#define BW_AUDIT_NAME_MAX 128
#define BW_AUDIT_ADDRESS_MAX 128
#define BW_AUDIT_DETAILS_MAX 8192

/* Records waiting for the disk beyond this are counted as lost. */
#define BW_AUDIT_PENDING_MAX 100000

/* ---- records (record.c) ---------------------------------------------- */

/* A record as the writer stores it. Text fields are owned. */
struct audit_row {
    uint64_t seq;
    int64_t ts_us;
    uint8_t category;
    uint32_t event_id;
    const char *type; /* static, from the catalogue */
    uint8_t result;
    uint8_t source_kind;
    char *source_name;
    char *source_address; /* NULL when none */
    char *details;        /* compact JSON text, "{}" when none */
    uint8_t prev_hash[BW_SHA256_LEN];
    uint8_t hash[BW_SHA256_LEN]; /* of the canonical bytes; not stored */
    uint8_t mac[BW_SHA256_LEN];
};

/* Serialises details (redacting secrets) into compact JSON with sorted
 * keys. *out is NULL-terminated and owned by the caller. BW_ETOOLARGE
 * over BW_AUDIT_DETAILS_MAX, BW_EINVAL when details is not an object. */
BW_MUST_CHECK int audit_details_encode(const json_t *details, char **out);
/* True when a details key names a secret. */
bool audit_key_is_secret(const char *key);
/* A copy of text fit for the trail: every byte that does not start a
 * well-formed UTF-8 character, and every control character, becomes '?';
 * text longer than max bytes is cut at a character boundary and ends with
 * "..." (within max). Source names come from the network (a user name
 * typed at a login), and a record must neither be refused for them nor
 * carry bytes that a segment file or a collector cannot hold. *out is
 * the caller's. BW_ENOMEM. max must be at least 3. */
BW_MUST_CHECK int audit_text_copy(const char *text, size_t max, char **out);

/* The canonical bytes of a record (every stored field but the MAC, with
 * the predecessor's hash last), then its hash and MAC. Used by the writer
 * and the verifier alike, so both always agree. */
BW_MUST_CHECK int audit_row_hash(const struct bw_audit_entry *e,
                                 const uint8_t prev_hash[BW_SHA256_LEN],
                                 uint8_t out[BW_SHA256_LEN]);
/* MAC = HMAC-SHA256(key, hash). */
BW_MUST_CHECK int audit_row_mac(struct bw_crypto_mac *mac, const uint8_t hash[BW_SHA256_LEN],
                                uint8_t out[BW_SHA256_LEN]);
/* The bytes a checkpoint signature covers. */
#define AUDIT_CHECKPOINT_MSG_LEN (8 + 8 + 8 + BW_SHA256_LEN)
void audit_checkpoint_message(uint64_t seq, int64_t ts_us, const uint8_t hash[BW_SHA256_LEN],
                              uint8_t out[AUDIT_CHECKPOINT_MSG_LEN]);

void audit_row_clear(struct audit_row *row);
/* A borrowed entry view of a row. */
void audit_row_entry(const struct audit_row *row, struct bw_audit_entry *out);

/* ---- keys (keys.c) ----------------------------------------------------- */

struct audit_keys {
    uint8_t mac_key[BW_AUDIT_MAC_KEY_LEN];
    uint8_t sign_public[BW_ED25519_KEY_LEN];
    struct bw_crypto_signer *signer; /* NULL when only verifying */
};
/* Loads the keys of state_dir; with create, makes missing ones first.
 * Without want_signer, only the MAC key and the public key are read. */
BW_MUST_CHECK int audit_keys_load(const char *state_dir, bool create, bool want_signer,
                                  struct audit_keys *keys);
void audit_keys_clear(struct audit_keys *keys);

/* ---- the database (store.c) ------------------------------------------- */

/* Opens STATE/audit.db for writing, creating the schema; registers the
 * function the delete trigger asks (archiving is only possible through
 * this connection while *archiving is set). */
BW_MUST_CHECK int audit_store_open_rw(const char *state_dir, const _Atomic bool *archiving,
                                      sqlite3 **out);
/* Opens read-only; BW_ENOTFOUND when there is no database. */
BW_MUST_CHECK int audit_store_open_ro(const char *state_dir, sqlite3 **out);

/* The newest record (to continue the chain), or seq 0 for an empty
 * trail; also the newest archived record when the table is empty after
 * archiving. */
struct audit_tail {
    uint64_t seq;
    uint8_t hash[BW_SHA256_LEN];
    int64_t ts_us;
    uint64_t checkpoint_seq; /* newest signed checkpoint */
    bool mac_ok;             /* the newest record's MAC holds */
};
BW_MUST_CHECK int audit_store_tail(sqlite3 *db, struct bw_crypto_mac *mac, struct audit_tail *out);

/* The statement audit_store_insert runs; the caller finalizes it. */
BW_MUST_CHECK int audit_store_prepare_insert(sqlite3 *db, sqlite3_stmt **out);
BW_MUST_CHECK int audit_store_insert(sqlite3_stmt *insert, const struct audit_row *row);
BW_MUST_CHECK int audit_store_checkpoint(sqlite3 *db, uint64_t seq, int64_t ts_us,
                                         const uint8_t hash[BW_SHA256_LEN],
                                         const uint8_t sig[BW_ED25519_SIG_LEN]);
/* Bytes used by live pages of the database. */
BW_MUST_CHECK int audit_store_used_bytes(sqlite3 *db, uint64_t *out);
/* One integer of a one-row query: *out is 0 and *found (may be NULL)
 * false when there is no row or it is NULL. BW_EIO. */
BW_MUST_CHECK int audit_store_query_u64(sqlite3 *db, const char *sql, uint64_t *out, bool *found);
BW_MUST_CHECK int audit_store_exec(sqlite3 *db, const char *sql);
/* Rolls back the open transaction, if any; nothing to report. */
void audit_store_rollback(sqlite3 *db);

/* Reads records by sequence in [from, to] in order, calling fn. The row
 * given to fn has hash and prev_hash and mac filled from the table (hash
 * left zero). */
typedef int (*audit_row_fn)(const struct bw_audit_entry *entry,
                            const uint8_t prev_hash[BW_SHA256_LEN],
                            const uint8_t mac[BW_SHA256_LEN], void *ctx);
BW_MUST_CHECK int audit_store_scan(sqlite3 *db, uint64_t from, uint64_t to, audit_row_fn fn,
                                   void *ctx);

/* ---- segment files (segment.c) ----------------------------------------- */

/* Writes records [first, last] of db as a signed segment at path
 * (created exclusively, synced). prev_hash is the hash that the first
 * record's predecessor field must hold. */
struct audit_segment_info {
    uint64_t first_seq, last_seq, records;
    uint8_t first_prev_hash[BW_SHA256_LEN];
    uint8_t last_hash[BW_SHA256_LEN];
    uint8_t file_sha256[BW_SHA256_LEN];
};
BW_MUST_CHECK int audit_segment_write(sqlite3 *db, const struct audit_keys *keys, uint64_t first,
                                      uint64_t last, const char *path,
                                      struct audit_segment_info *info);

/* Verifies a segment file: signature under public_key (NULL: the key the
 * file carries), chain inside, MACs when mac is given. The first record's
 * predecessor must be expect_prev (NULL: anything). Fills info. */
BW_MUST_CHECK int audit_segment_verify(const char *path, const uint8_t *public_key,
                                       struct bw_crypto_mac *mac, const uint8_t *expect_prev,
                                       struct audit_segment_info *info,
                                       struct bw_audit_verify_report *report);
/* As audit_segment_verify; also, when probe->seq is a record of the
 * segment that checks, probe->hash receives its hash (probe->found). */
struct audit_segment_probe {
    uint64_t seq;
    bool found;
    uint8_t hash[BW_SHA256_LEN];
};
BW_MUST_CHECK int audit_segment_verify_probe(const char *path, const uint8_t *public_key,
                                             struct bw_crypto_mac *mac, const uint8_t *expect_prev,
                                             struct audit_segment_probe *probe,
                                             struct audit_segment_info *info,
                                             struct bw_audit_verify_report *report);

/* A segment read record by record (the forwarder's way into the archive).
 * Open verifies the whole file first, as audit_segment_verify (errors and
 * report alike, info filled), then stands before its first record; next
 * hands out each record in turn, checked again (sequence, predecessor
 * hash, MAC) so that a file changed after the check never yields a record
 * the key does not vouch for. next: BW_OK with *entry (borrowed until the
 * next call), BW_ENOTFOUND after the last record, BW_EMALFORMED when the
 * file changed (said in report), BW_EIO. One thread per reader. */
struct audit_segment_reader;
BW_MUST_CHECK int audit_segment_reader_open(const char *path, const uint8_t *public_key,
                                            struct bw_crypto_mac *mac, const uint8_t *expect_prev,
                                            struct audit_segment_info *info,
                                            struct bw_audit_verify_report *report,
                                            struct audit_segment_reader **out);
BW_MUST_CHECK int audit_segment_reader_next(struct audit_segment_reader *r,
                                            const struct bw_audit_entry **entry,
                                            struct bw_audit_verify_report *report);
void audit_segment_reader_free(struct audit_segment_reader *r);

/* ---- the anchor (anchor.c; the rest in anchor_internal.h) --------------- */

/* A signed checkpoint: record seq had hash; signed at ts_us. */
struct audit_anchor {
    uint64_t seq;
    int64_t ts_us;
    uint8_t hash[BW_SHA256_LEN];
    uint8_t sig[BW_ED25519_SIG_LEN];
};

/* After a commit that signed a checkpoint at seq (hash, ts_us): signs the
 * anchor and hands it to the syncer, which writes it once that commit is
 * synced (audit_anchor_store). A failure is logged, not returned: the
 * records are durable regardless, only the anchor lags until the next
 * checkpoint. Writer thread, mu not held. */
void audit_anchor_prepare(struct bw_audit *audit, uint64_t seq, int64_t ts_us,
                          const uint8_t hash[BW_SHA256_LEN]);
/* Writes STATE/keys/audit-anchor; a failure is logged. Syncer thread
 * (or the writer once the syncer is idle, at close). */
void audit_anchor_store(struct bw_audit *audit, const struct audit_anchor *anchor);
/* At start, with audit->db connected and the writer not yet running:
 * compares the trail with its anchor. A trail that ends before the
 * anchored checkpoint, holds another record there, or is signed but has
 * no anchor (or one that does not hold) is logged as an error and
 * recorded (audit.integrity, failure). The trail then goes on from where
 * it is; the next checkpoint writes a new anchor, and the record keeps
 * what was found. Main thread. */
void audit_anchor_check_open(struct bw_audit *audit);

/* ---- the trail object (audit.c, writer.c, capacity.c) ------------------ */

struct bw_audit_forwarder;

/* A producer waiting for its record: on its own stack, posted once,
 * so that a sync wakes each producer directly instead of all of them
 * fighting over the queue's lock. */
struct audit_waiter {
    sem_t sem;
    int rc;       /* BW_OK once durable; BW_EIO when an attempt failed */
    uint64_t seq; /* the record's number, set with rc = BW_OK */
    /* Records of the same sync whose producers this one wakes in turn
     * (audit_tell), so that no single thread wakes a whole batch. */
    struct audit_pending *handoff;
    size_t handoff_count;
};

/* A record waiting for the writer. */
struct audit_pending {
    struct audit_pending *next;
    struct audit_waiter *waiter; /* NULL: nobody waits (or already told) */
    struct audit_row row;
};

struct bw_audit {
    /* Settings, copied at open. */
    char state_dir[BW_AUDIT_PATH_MAX];
    uint64_t max_bytes;
    uint32_t max_age_days;
    uint8_t thresholds[BW_AUDIT_MAX_THRESHOLDS];
    size_t threshold_count;
    enum bw_audit_when_full when_full;
    enum bw_audit_on_failure on_failure;
    uint32_t checkpoint_records, checkpoint_seconds;
    /* Told when the trail finds itself changed (set before records flow;
     * called on the thread that found it). */
    bw_audit_integrity_fn on_integrity;
    void *integrity_ctx;
    bool integrity_violated; /* found before the hook was set: told at once */

    /* Producers and the writer meet here. Records are appended at tail
     * under mu; only the writer removes them, from head, once durable. */
    pthread_mutex_t mu;
    pthread_cond_t work; /* the writer waits on it */
    pthread_cond_t done; /* producers wait on it */
    struct audit_pending *head, *tail;
    uint64_t pending;
    uint64_t next_seq;      /* the last sequence number handed out */
    uint64_t committed_seq; /* the newest record committed (maybe not yet synced) */
    uint64_t synced_seq;    /* the newest record the syncer has dealt with */
    uint64_t durable_seq;   /* the newest record confirmed on disk */
    /* The queue from head to committed_last is committed and waits for
     * the syncer; the rest waits for the writer. */
    struct audit_pending *committed_last;
    pthread_cond_t sync_work; /* the syncer waits on it */
    /* The anchor of the newest checkpoint committed, for the syncer to
     * write once that commit is synced. */
    struct audit_anchor anchor_next;
    bool anchor_waiting;
    pthread_t syncer;
    bool syncer_started, syncer_stop;
    uint64_t lost; /* records refused because the queue was full */
    uint64_t lost_reported;
    bool stopping;
    /* The writer sleeps until this many records are queued (producers
     * signal it only then, not once per record). */
    uint64_t wake_at_pending;
    uint64_t fresh; /* records queued since the writer last took some */
    /* An administrator's archive request (bw_audit_archive_now). */
    uint64_t archive_requests, archive_served;
    int archive_rc;
    uint64_t archive_first, archive_last;
    pthread_t writer;
    bool writer_started;

    /* Read by any thread through bw_audit_status_get / bw_audit_gate. */
    _Atomic int state; /* enum bw_audit_state */
    /* The last sync failed (syncer thread); counts as failed until one
     * succeeds. */
    _Atomic bool sync_failed;
    _Atomic uint64_t used_bytes;
    _Atomic unsigned usage_percent;
    _Atomic uint64_t commits;

    /* Writer-thread only. */
    struct audit_keys keys;
    struct bw_crypto_mac *mac;
    sqlite3 *db;
    sqlite3_stmt *insert;
    _Atomic bool archiving;
    uint8_t tail_hash[BW_SHA256_LEN]; /* of the newest committed record */
    int64_t tail_ts_us;
    /* The open transaction: records inserted, not yet committed. */
    bool tx_open;
    struct audit_pending *tx_last;
    size_t tx_count;
    uint8_t tx_hash[BW_SHA256_LEN];
    int64_t tx_ts_us;
    uint64_t tx_seq;
    uint64_t checkpoint_seq;   /* newest signed record */
    int64_t unsigned_since_us; /* monotonic time of the first unsigned record; 0: none */
    bool failed;               /* the last attempt failed */
    int64_t retry_at_us;       /* monotonic time of the next attempt while failed */
    int64_t retry_delay_us;
    size_t threshold_level; /* thresholds[0..level) have been reported */
    bool full_reported;
    int64_t age_check_at_us;
    /* A failing archive is retried with a growing pause, not after every
     * commit, and reported once per outage. */
    bool archive_failing;
    int64_t archive_retry_at_us, archive_backoff_us;
    /* Bytes inserted since the size was last measured (estimated), and
     * when it is measured again regardless: measuring costs three
     * queries, too much for every commit of a busy trail. */
    uint64_t unmeasured_bytes;
    int64_t measure_at_us;
    /* The file system's free space, checked now and then. */
    int64_t fs_check_at_us;
    bool fs_low_reported;

    /* Time-source health (clock.c), main thread. */
    int clock_state; /* -1 before the first check, -2 unreadable, else 0/1 synchronised */

    struct bw_audit_forwarder *forwarder;
};

/* Queues a record the trail makes about itself (threshold, failure,
 * archive) without waiting for it: the writer cannot wait for itself.
 * Never fails silently: a record that cannot be queued is counted as
 * lost. Any thread; takes mu unless locked is true. */
/* Tells every producer still waiting for a queued record that it is not
 * durable now (BW_EIO), and forgets them. mu held. */
void audit_waiters_fail_locked(struct bw_audit *audit);

void audit_enqueue_internal(struct bw_audit *audit, uint32_t id, enum bw_audit_result result,
                            json_t *details_take, bool locked);

/* Frees the count records of list and tells their producers rc, waking
 * a few directly and handing the rest to those. Any thread, mu not held. */
void audit_tell(struct audit_pending *list, size_t count, int rc);
/* The syncer thread's body (sync.c); the writer starts and stops it. */
void *audit_syncer_main(void *arg);
/* fdatasync of the WAL (or, without one, the database). Any thread. */
BW_MUST_CHECK int audit_sync_wal(struct bw_audit *audit);

/* The writer thread's body (writer.c). */
void *audit_writer_main(void *arg);
/* Opens the database and reads its tail; writer thread. */
BW_MUST_CHECK int audit_writer_connect(struct bw_audit *audit);
void audit_writer_disconnect(struct bw_audit *audit);
/* Signs a checkpoint at the newest durable record if it is unsigned. */
BW_MUST_CHECK int audit_writer_checkpoint(struct bw_audit *audit);

/* Counts a row the writer inserted towards the next measurement of the
 * trail's size. Writer thread. */
void audit_capacity_note(struct bw_audit *audit, const struct audit_row *row);
/* After a commit: measure (when 250 ms have passed or 1/400 of the limit
 * may have been added since the last time), report thresholds, apply the
 * full policy and the age limit, watch the file system (capacity.c).
 * Writer thread. */
void audit_capacity_check(struct bw_audit *audit);
/* Archives the oldest records now, as at the size limit; the range in
 * *first..*last (0, 0: nothing to archive). Writer thread. */
BW_MUST_CHECK int audit_capacity_archive_now(struct bw_audit *audit, uint64_t *first,
                                             uint64_t *last);

/* The time-source probe (clock.c): 1 synchronised, 0 not, -1 unknown.
 * Tests replace it to simulate a lost and a restored synchronisation. */
extern int (*audit_clock_probe)(long *maxerror_us, long *esterror_us);

/* ---- helpers ------------------------------------------------------------ */

BW_MUST_CHECK int audit_path(char *out, const char *state_dir, const char *name);
BW_MUST_CHECK int audit_fsync_dir(const char *dir);
/* Writes all len bytes to fd (retrying after EINTR and short writes).
 * BW_EFULL when the file system is full, else BW_EIO. */
BW_MUST_CHECK int audit_write_all(int fd, const void *data, size_t len);
void audit_report_problem(struct bw_audit_verify_report *report, uint64_t seq, const char *fmt, ...)
    BW_PRINTF(3, 4);

#endif
