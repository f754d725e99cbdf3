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
/* How long the writer waits for the last batch's producers to return. */
#define GATHER_US 300

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

    pthread_mutex_lock(&audit->mu);
    if (audit->durable_seq != tail.seq) {
        /* First connection, or the trail was first unreachable: records
         * queued meanwhile are numbered on from the stored tail. */
        uint64_t seq = tail.seq;
        for (struct audit_pending *p = audit->head; p; p = p->next)
            p->row.seq = ++seq;
        audit->next_seq = seq;
        audit->durable_seq = tail.seq;
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

static int rollback(struct bw_audit *audit, int rc)
{
    audit_store_rollback(audit->db);
    return rc;
}

/* Writes the first n queued records (first..) in one transaction. On
 * success the chain's tail advances; on failure nothing changes. */
static int write_batch(struct bw_audit *audit, struct audit_pending *first, size_t n,
                       bool force_checkpoint)
{
    if (!audit->db) {
        int rc = audit_writer_connect(audit);
        if (rc)
            return rc;
    }
    int rc = audit_store_exec(audit->db, "BEGIN IMMEDIATE;");
    if (rc)
        return rc;
    uint8_t hash[BW_SHA256_LEN];
    memcpy(hash, audit->tail_hash, sizeof(hash));
    int64_t ts_us = audit->tail_ts_us;
    uint64_t last_seq = 0;
    struct audit_pending *p = first;
    /* p->next is read only for rows before the batch's last: the last
     * one's next belongs to the producer appending behind it. */
    for (size_t i = 0; i < n; i++, p = i < n ? p->next : NULL) {
        struct audit_row *row = &p->row;
        memcpy(row->prev_hash, hash, sizeof(hash));
        struct bw_audit_entry e;
        audit_row_entry(row, &e);
        rc = audit_row_hash(&e, row->prev_hash, row->hash);
        if (rc == BW_OK)
            rc = audit_row_mac(audit->mac, row->hash, row->mac);
        if (rc == BW_OK)
            rc = audit_store_insert(audit->insert, row);
        if (rc)
            return rollback(audit, rc);
        memcpy(hash, row->hash, sizeof(hash));
        ts_us = row->ts_us;
        last_seq = row->seq;
    }
    int64_t now = bw_clock_monotonic_us();
    bool signed_now = false;
    if (last_seq == 0) {
        /* Nothing queued: only a checkpoint of the stored tail. */
        pthread_mutex_lock(&audit->mu);
        last_seq = audit->durable_seq;
        pthread_mutex_unlock(&audit->mu);
    }
    if (last_seq > audit->checkpoint_seq &&
        (force_checkpoint || checkpoint_due(audit, last_seq, now))) {
        rc = sign_checkpoint(audit, last_seq, ts_us, hash);
        if (rc)
            return rollback(audit, rc);
        signed_now = true;
    }
    rc = audit_store_exec(audit->db, "COMMIT;");
    if (rc)
        return rollback(audit, rc);
    memcpy(audit->tail_hash, hash, sizeof(hash));
    audit->tail_ts_us = ts_us;
    if (signed_now) {
        audit->checkpoint_seq = last_seq;
        audit->unsigned_since_us = 0;
        audit_anchor_update(audit, last_seq, ts_us, hash); /* after COMMIT: never ahead of it */
    } else if (n > 0 && audit->unsigned_since_us == 0) {
        audit->unsigned_since_us = now;
    }
    atomic_fetch_add(&audit->commits, 1);
    return BW_OK;
}

int audit_writer_checkpoint(struct bw_audit *audit)
{
    return write_batch(audit, NULL, 0, true);
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

/* Removes the first n records (now durable) from the queue, frees them,
 * and wakes their producers. */
static void retire(struct bw_audit *audit, size_t n)
{
    struct audit_pending *done = NULL, **link = &done;
    pthread_mutex_lock(&audit->mu);
    for (size_t i = 0; i < n; i++) {
        struct audit_pending *p = audit->head;
        audit->head = p->next;
        if (!audit->head)
            audit->tail = NULL;
        audit->durable_seq = p->row.seq;
        *link = p;
        link = &p->next;
    }
    *link = NULL;
    audit->pending -= n;
    pthread_mutex_unlock(&audit->mu);
    while (done) {
        struct audit_pending *next = done->next;
        if (done->waiter) {
            done->waiter->rc = BW_OK;
            sem_post(&done->waiter->sem); /* the waiter may be gone after this */
        }
        audit_row_clear(&done->row);
        free(done);
        done = next;
    }
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

void *audit_writer_main(void *arg)
{
    struct bw_audit *audit = arg;
    int64_t stop_deadline = 0;
    size_t last_batch = 0;
    for (;;) {
        pthread_mutex_lock(&audit->mu);
        /* Producers woken by the last commit come back with their next
         * record within microseconds; waiting a moment for as many as
         * the last batch held makes the next commit carry them all
         * instead of half (one sync is worth far more than the wait). */
        int64_t gather_until = last_batch > 1 ? bw_clock_monotonic_us() + GATHER_US : 0;
        for (;;) {
            if (audit->stopping && stop_deadline == 0)
                stop_deadline = bw_clock_monotonic_us() + CLOSE_GRACE_US;
            int64_t now = bw_clock_monotonic_us();
            bool work = audit->head && (!audit->failed || now >= audit->retry_at_us);
            if (work && !audit->failed && !audit->stopping && audit->pending < last_batch &&
                now < gather_until) {
                struct timespec ts;
                deadline_from_us(&ts, gather_until);
                audit->wake_at_pending = last_batch;
                pthread_cond_timedwait(&audit->work, &audit->mu, &ts);
                audit->wake_at_pending = 1;
                continue;
            }
            int64_t timer = next_timer(audit);
            bool asked = audit->archive_requests != audit->archive_served;
            if (work || asked || audit->stopping || (timer && now >= timer))
                break;
            if (timer) {
                struct timespec ts;
                deadline_from_us(&ts, timer);
                pthread_cond_timedwait(&audit->work, &audit->mu, &ts);
            } else {
                pthread_cond_wait(&audit->work, &audit->mu);
            }
        }
        struct audit_pending *first = audit->head;
        size_t n = 0;
        for (struct audit_pending *p = first; p && n < BATCH_MAX; p = p->next)
            n++;
        last_batch = n;
        bool stopping = audit->stopping;
        uint64_t asked = audit->archive_requests;
        pthread_mutex_unlock(&audit->mu);
        if (asked != audit->archive_served)
            serve_archive_request(audit, asked);

        int64_t now = bw_clock_monotonic_us();
        if (audit->failed && now < audit->retry_at_us) {
            /* Stopping while the disk fails: retry until the grace ends. */
            if (stopping && now >= stop_deadline)
                break;
            struct timespec pause = {0, 50 * 1000 * 1000};
            nanosleep(&pause, NULL);
            continue;
        }
        /* Only the writer removes from the queue, so first..n stays ours
         * while we write it without the lock. */
        int rc = write_batch(audit, first, n, stopping && n == 0);
        if (rc) {
            enter_failure(audit, rc);
            pthread_mutex_lock(&audit->mu);
            audit_waiters_fail_locked(audit);
            pthread_mutex_unlock(&audit->mu);
            if (stopping && bw_clock_monotonic_us() >= stop_deadline)
                break;
            continue;
        }
        if (n > 0)
            retire(audit, n);
        leave_failure(audit);
        audit_capacity_check(audit);
        if (stopping) {
            pthread_mutex_lock(&audit->mu);
            bool empty = audit->head == NULL;
            pthread_mutex_unlock(&audit->mu);
            if (empty && audit->checkpoint_seq >= audit->durable_seq)
                break;
        }
    }
    /* Whatever could not be written before the grace ran out. */
    pthread_mutex_lock(&audit->mu);
    audit_waiters_fail_locked(audit);
    pthread_mutex_unlock(&audit->mu);
    return NULL;
}
