/* SPDX-License-Identifier: Apache-2.0
 *
 * The writer thread: the only writer of STATE/audit.db. It takes every
 * record queued so far, chains and MACs them, inserts them in one
 * transaction and commits (WAL, synchronous=FULL: one sync for the
 * whole batch), then wakes the producers whose records are now durable.
 * Checkpoints are signed inside the same transaction when due. When a
 * write fails (disk full, I/O error, a read-only or corrupted file) the
 * batch stays queued, the trail enters the failed state (loudly: log and
 * an audit.failure record that is written once it can be), and the
 * writer retries with a growing delay (0.1 s doubling to 5 s), reopening
 * the database each time; on success it records audit.recovered and the
 * count of records it had to refuse meanwhile.
 */
#include "audit/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* At most this many records go into one transaction. */
#define BATCH_MAX 10000
#define RETRY_MIN_US 100000
#define RETRY_MAX_US 5000000
/* How long close waits for a failing disk before giving up. */
#define CLOSE_GRACE_US 2000000
/* With a transaction open, producers wake the writer every this many
 * records rather than for each. */
#define WAKE_CHUNK 32

int audit_writer_connect(struct bw_audit *audit)
{
    int rc = audit_store_open_rw(audit->state_dir, &audit->archiving, &audit->db);
    if (rc == BW_OK)
        rc = audit_store_prepare_insert(audit->db, &audit->insert);
    struct audit_tail tail;
    if (rc == BW_OK)
        rc = audit_store_tail(audit->db, audit->mac, &tail);
    if (rc) {
        audit_writer_disconnect(audit);
        return rc;
    }
    memcpy(audit->tail_hash, tail.hash, sizeof(audit->tail_hash));
    audit->tail_ts_us = tail.ts_us;
    audit->checkpoint_seq = tail.checkpoint_seq;
    audit->unsigned_since_us = tail.seq > tail.checkpoint_seq ? bw_clock_monotonic_us() : 0;

    /* Commits need not sync: the syncer thread does (sync.c). */
    if (audit_store_exec(audit->db, "PRAGMA synchronous=NORMAL;") != BW_OK) {
        audit_writer_disconnect(audit);
        return BW_EIO;
    }
    pthread_mutex_lock(&audit->mu);
    if (audit->committed_seq != tail.seq && !audit->committed_last) {
        /* First connection, or the trail was first unreachable: records
         * queued meanwhile are numbered on from the stored tail. */
        uint64_t seq = tail.seq;
        for (struct audit_pending *p = audit->head; p; p = p->next)
            p->row.seq = ++seq;
        audit->next_seq = seq;
        audit->committed_seq = audit->synced_seq = audit->durable_seq = tail.seq;
    }
    pthread_mutex_unlock(&audit->mu);

    if (!tail.mac_ok) {
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "audit record %llu does not match its MAC: the trail was changed; run 'bulwark "
               "audit verify'",
               (unsigned long long)tail.seq);
        audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_INTEGRITY, BW_AUDIT_FAILURE,
                               json_pack("{s:I, s:s}", "seq", (json_int_t)tail.seq, "problem",
                                         "the newest record does not match its MAC"),
                               false);
    }
    return BW_OK;
}

void audit_writer_disconnect(struct bw_audit *audit)
{
    sqlite3_finalize(audit->insert);
    audit->insert = NULL;
    if (audit->db)
        sqlite3_close_v2(audit->db);
    audit->db = NULL;
}

/* Signs seq (whose hash is hash) into the open transaction. */
static int sign_checkpoint(struct bw_audit *audit, uint64_t seq, int64_t ts_us,
                           const uint8_t hash[BW_SHA256_LEN])
{
    uint8_t msg[AUDIT_CHECKPOINT_MSG_LEN], sig[BW_ED25519_SIG_LEN];
    audit_checkpoint_message(seq, ts_us, hash, msg);
    int rc = bw_crypto_sign(audit->keys.signer, msg, sizeof(msg), sig);
    if (rc == BW_OK)
        rc = audit_store_checkpoint(audit->db, seq, ts_us, hash, sig);
    return rc;
}

static bool checkpoint_due(const struct bw_audit *audit, uint64_t last_seq, int64_t now_us)
{
    if (last_seq <= audit->checkpoint_seq)
        return false;
    if (last_seq - audit->checkpoint_seq >= audit->checkpoint_records)
        return true;
    return audit->unsigned_since_us != 0 &&
           now_us - audit->unsigned_since_us >= (int64_t)audit->checkpoint_seconds * 1000000;
}

/* Opens the transaction that the next records go into. */
static int tx_begin(struct bw_audit *audit)
{
    if (!audit->db) {
        int rc = audit_writer_connect(audit);
        if (rc)
            return rc;
    }
    int rc = audit_store_exec(audit->db, "BEGIN IMMEDIATE;");
    if (rc)
        return rc;
    audit->tx_open = true;
    audit->tx_last = NULL;
    audit->tx_count = 0;
    memcpy(audit->tx_hash, audit->tail_hash, sizeof(audit->tx_hash));
    audit->tx_ts_us = audit->tail_ts_us;
    audit->tx_seq = audit->committed_seq; /* only the writer changes it */
    return BW_OK;
}

static void tx_abort(struct bw_audit *audit)
{
    if (audit->tx_open && audit->db)
        audit_store_rollback(audit->db);
    audit->tx_open = false;
    audit->tx_last = NULL;
    audit->tx_count = 0;
}

/* Chains, MACs and inserts n queued records from first into the open
 * transaction. */
static int tx_insert(struct bw_audit *audit, struct audit_pending *first, size_t n)
{
    struct audit_pending *p = first;
    /* p->next is read only for rows before the last: the last one's next
     * belongs to the producer appending behind it. */
    for (size_t i = 0; i < n; i++, p = i < n ? p->next : NULL) {
        struct audit_row *row = &p->row;
        memcpy(row->prev_hash, audit->tx_hash, sizeof(audit->tx_hash));
        struct bw_audit_entry e;
        audit_row_entry(row, &e);
        int rc = audit_row_hash(&e, row->prev_hash, row->hash);
        if (rc == BW_OK)
            rc = audit_row_mac(audit->mac, row->hash, row->mac);
        if (rc == BW_OK)
            rc = audit_store_insert(audit->insert, row);
        if (rc)
            return rc;
        audit_capacity_note(audit, row);
        memcpy(audit->tx_hash, row->hash, sizeof(audit->tx_hash));
        audit->tx_ts_us = row->ts_us;
        audit->tx_seq = row->seq;
        audit->tx_last = p;
        audit->tx_count++;
    }
    return BW_OK;
}

/* Commits the open transaction (opening one for a checkpoint alone when
 * none is), signing a checkpoint when due or forced, and hands what it
 * committed to the syncer. On failure nothing is committed. */
static int tx_commit(struct bw_audit *audit, bool force_checkpoint)
{
    int rc;
    if (!audit->tx_open && (rc = tx_begin(audit)) != BW_OK)
        return rc;
    int64_t now = bw_clock_monotonic_us();
    uint64_t last_seq = audit->tx_seq;
    bool signed_now = false;
    if (last_seq > audit->checkpoint_seq &&
        (force_checkpoint || checkpoint_due(audit, last_seq, now))) {
        rc = sign_checkpoint(audit, last_seq, audit->tx_ts_us, audit->tx_hash);
        if (rc) {
            tx_abort(audit);
            return rc;
        }
        signed_now = true;
    }
    rc = audit_store_exec(audit->db, "COMMIT;");
    if (rc) {
        tx_abort(audit);
        return rc;
    }
    memcpy(audit->tail_hash, audit->tx_hash, sizeof(audit->tail_hash));
    audit->tail_ts_us = audit->tx_ts_us;
    if (signed_now) {
        audit->checkpoint_seq = last_seq;
        audit->unsigned_since_us = 0;
        audit_anchor_prepare(audit, last_seq, audit->tx_ts_us, audit->tx_hash);
    } else if (audit->tx_count > 0 && audit->unsigned_since_us == 0) {
        audit->unsigned_since_us = now;
    }
    atomic_fetch_add(&audit->commits, 1);
    if (audit->tx_last) {
        pthread_mutex_lock(&audit->mu);
        audit->committed_last = audit->tx_last;
        audit->committed_seq = audit->tx_seq;
        pthread_cond_signal(&audit->sync_work);
        pthread_mutex_unlock(&audit->mu);
    }
    audit->tx_open = false;
    audit->tx_last = NULL;
    audit->tx_count = 0;
    return BW_OK;
}

int audit_writer_checkpoint(struct bw_audit *audit)
{
    return tx_commit(audit, true);
}

/* Marks the trail failed (once per outage, loudly) and schedules a retry. */
static void enter_failure(struct bw_audit *audit, int rc)
{
    audit_writer_disconnect(audit); /* reopen afresh: the file may have been replaced */
    int64_t now = bw_clock_monotonic_us();
    if (!audit->failed) {
        audit->failed = true;
        audit->retry_delay_us = RETRY_MIN_US;
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "audit records cannot be written (%s); control keeps running, records wait in "
               "memory%s",
               bw_strerror(rc),
               audit->on_failure == BW_AUDIT_FAIL_REFUSE ? "; non-essential operations refused"
                                                         : "");
        audit_enqueue_internal(
            audit, BW_AUDIT_EV_AUDIT_FAILURE, BW_AUDIT_ERROR,
            json_pack("{s:s, s:s, s:s}", "operation", "write", "reason", bw_strerror(rc), "action",
                      audit->on_failure == BW_AUDIT_FAIL_REFUSE ? "refuse" : "continue"),
            false);
    } else if (audit->retry_delay_us < RETRY_MAX_US) {
        audit->retry_delay_us *= 2;
        if (audit->retry_delay_us > RETRY_MAX_US)
            audit->retry_delay_us = RETRY_MAX_US;
    }
    audit->retry_at_us = now + audit->retry_delay_us;
    atomic_store(&audit->state, BW_AUDIT_STATE_FAILED);
}

static void leave_failure(struct bw_audit *audit)
{
    if (!audit->failed)
        return;
    audit->failed = false;
    atomic_store(&audit->state, audit->full_reported && audit->when_full == BW_AUDIT_FULL_REFUSE
                                    ? BW_AUDIT_STATE_FULL
                                    : BW_AUDIT_STATE_OK);
    bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "audit records are written again");
    pthread_mutex_lock(&audit->mu);
    uint64_t lost = audit->lost - audit->lost_reported;
    audit->lost_reported = audit->lost;
    audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_RECOVERED, BW_AUDIT_SUCCESS, NULL, true);
    if (lost > 0)
        audit_enqueue_internal(audit, BW_AUDIT_EV_AUDIT_RECORDS_LOST, BW_AUDIT_FAILURE,
                               json_pack("{s:I}", "count", (json_int_t)lost), true);
    pthread_mutex_unlock(&audit->mu);
}

static void deadline_from_us(struct timespec *ts, int64_t mono_us)
{
    ts->tv_sec = (time_t)(mono_us / 1000000);
    ts->tv_nsec = (long)(mono_us % 1000000) * 1000;
}

/* The next moment the writer must act without being woken: a retry, a
 * due checkpoint, the age check. 0: none. */
static int64_t next_timer(const struct bw_audit *audit)
{
    if (audit->failed)
        return audit->retry_at_us;
    int64_t t = 0;
    if (audit->unsigned_since_us)
        t = audit->unsigned_since_us + (int64_t)audit->checkpoint_seconds * 1000000;
    if (audit->max_age_days && (t == 0 || audit->age_check_at_us < t))
        t = audit->age_check_at_us;
    return t;
}

/* An administrator asked to archive: do it between batches, so the
 * queue keeps its order, and tell every waiting caller. */
static void serve_archive_request(struct bw_audit *audit, uint64_t asked)
{
    uint64_t first = 0, last = 0;
    int rc = audit->failed ? BW_EIO : audit_capacity_archive_now(audit, &first, &last);
    pthread_mutex_lock(&audit->mu);
    audit->archive_rc = rc;
    audit->archive_first = first;
    audit->archive_last = last;
    audit->archive_served = asked;
    pthread_cond_broadcast(&audit->done);
    pthread_mutex_unlock(&audit->mu);
}

/* The first record that is neither committed nor in the open
 * transaction. mu held. */
static struct audit_pending *first_fresh_locked(const struct bw_audit *audit)
{
    if (audit->tx_last)
        return audit->tx_last->next;
    return audit->committed_last ? audit->committed_last->next : audit->head;
}

/* Waits until there is something to do. Records are inserted as they
 * come; the transaction holding them is committed once the syncer is
 * idle (so each sync carries everything gathered while the previous one
 * ran) or it is full. mu held. */
static void wait_for_work(struct bw_audit *audit, int64_t *stop_deadline)
{
    for (;;) {
        if (audit->stopping && *stop_deadline == 0)
            *stop_deadline = bw_clock_monotonic_us() + CLOSE_GRACE_US;
        int64_t now = bw_clock_monotonic_us();
        bool fresh = first_fresh_locked(audit) && audit->tx_count < BATCH_MAX &&
                     (!audit->failed || now >= audit->retry_at_us);
        bool sync_idle = audit->synced_seq == audit->committed_seq;
        bool commit_ready = audit->tx_open && (sync_idle || audit->tx_count >= BATCH_MAX);
        int64_t timer = next_timer(audit);
        bool asked = audit->archive_requests != audit->archive_served;
        if (fresh || commit_ready || asked || audit->stopping || (timer && now >= timer))
            return;
        /* With a transaction open, producers need not wake us for each
         * record: the syncer's end does, or a chunk of them. */
        audit->wake_at_pending = audit->tx_open ? WAKE_CHUNK : 1;
        if (timer) {
            struct timespec ts;
            deadline_from_us(&ts, timer);
            pthread_cond_timedwait(&audit->work, &audit->mu, &ts);
        } else {
            pthread_cond_wait(&audit->work, &audit->mu);
        }
        audit->wake_at_pending = 1;
    }
}

/* After a failed write: nothing of the transaction stays, the trail is
 * failed, and the producers of uncommitted records hear so. */
static void write_failed(struct bw_audit *audit, int rc)
{
    tx_abort(audit);
    enter_failure(audit, rc);
    pthread_mutex_lock(&audit->mu);
    audit_waiters_fail_locked(audit);
    pthread_mutex_unlock(&audit->mu);
}

void *audit_writer_main(void *arg)
{
    struct bw_audit *audit = arg;
    pthread_setname_np(pthread_self(), "bw-audit-write");
    int64_t stop_deadline = 0;
    for (;;) {
        pthread_mutex_lock(&audit->mu);
        wait_for_work(audit, &stop_deadline);
        struct audit_pending *first = first_fresh_locked(audit);
        size_t n = 0;
        for (struct audit_pending *p = first; p && audit->tx_count + n < BATCH_MAX; p = p->next)
            n++;
        audit->fresh = 0;
        bool sync_idle = audit->synced_seq == audit->committed_seq;
        bool stopping = audit->stopping;
        uint64_t asked = audit->archive_requests;
        int64_t now = bw_clock_monotonic_us();
        int64_t timer = next_timer(audit);
        pthread_mutex_unlock(&audit->mu);

        if (audit->failed && now < audit->retry_at_us) {
            /* Stopping while the disk fails: retry until the grace ends. */
            if (stopping && now >= stop_deadline)
                break;
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
            continue;
        }
        /* Only the writer and then the syncer remove from the queue, so
         * the rows from first stay ours while we write them unlocked. */
        int rc = BW_OK;
        if (n > 0 && !audit->tx_open)
            rc = tx_begin(audit);
        if (rc == BW_OK && n > 0)
            rc = tx_insert(audit, first, n);
        bool due = timer && now >= timer;
        bool commit = audit->tx_open && (sync_idle || audit->tx_count >= BATCH_MAX || stopping ||
                                         asked != audit->archive_served);
        if (rc == BW_OK && (commit || (!audit->tx_open && due)))
            rc = tx_commit(audit, false);
        if (rc) {
            write_failed(audit, rc);
            if (stopping && bw_clock_monotonic_us() >= stop_deadline)
                break;
            continue;
        }
        if (audit->tx_open)
            continue; /* more to gather while the syncer works */
        leave_failure(audit);
        audit_capacity_check(audit);
        if (asked != audit->archive_served)
            serve_archive_request(audit, asked);
        if (stopping) {
            pthread_mutex_lock(&audit->mu);
            bool empty = first_fresh_locked(audit) == NULL;
            uint64_t committed = audit->committed_seq;
            pthread_mutex_unlock(&audit->mu);
            if (!empty)
                continue;
            if (audit->checkpoint_seq < committed) {
                rc = tx_commit(audit, true);
                if (rc) {
                    write_failed(audit, rc);
                    continue;
                }
            }
            /* The final checkpoint handed its anchor to the syncer, which
             * syncs it (and writes the anchor) before it stops. */
            break;
        }
    }
    tx_abort(audit);
    /* Whatever could not be written before the grace ran out. */
    pthread_mutex_lock(&audit->mu);
    audit_waiters_fail_locked(audit);
    pthread_mutex_unlock(&audit->mu);
    return NULL;
}
