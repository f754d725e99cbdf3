/* SPDX-License-Identifier: Apache-2.0
 *
 * The syncer thread: makes committed records durable and tells their
 * producers. The writer commits with synchronous=NORMAL (its pages reach
 * the WAL file, not yet the disk) and goes straight on to the next
 * batch; the syncer then calls fdatasync on the WAL file, which puts on
 * disk every frame written before the call, and only then wakes the
 * producers of every record committed so far. So the sync of one batch
 * overlaps the hashing and inserting of the next, and one sync serves
 * all that was committed while the previous one ran. SQLite itself
 * syncs the WAL before every checkpoint and its header whenever it is
 * reused, so a frame is never lost between our syncs and its copy into
 * the database. A failed sync is reported loudly and the producers
 * concerned hear BW_EIO: their records may or may not be on disk.
 */
#include "audit/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static int sync_path(const char *state_dir, const char *name, bool *missing)
{
    char path[BW_AUDIT_PATH_MAX];
    int rc = audit_path(path, state_dir, name);
    if (rc)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        *missing = errno == ENOENT;
        return BW_EIO;
    }
    rc = fdatasync(fd) == 0 ? BW_OK : BW_EIO;
    close(fd);
    return rc;
}

int audit_sync_wal(struct bw_audit *audit)
{
    bool missing = false;
    int rc = sync_path(audit->state_dir, BW_AUDIT_DB_NAME "-wal", &missing);
    if (rc && missing) {
        /* No WAL: everything was checkpointed into the database. */
        rc = sync_path(audit->state_dir, BW_AUDIT_DB_NAME, &missing);
    }
    return rc;
}

/* Takes the records up to seq off the queue's head (*count of them). mu held. */
static struct audit_pending *detach_locked(struct bw_audit *audit, uint64_t seq, size_t *count)
{
    struct audit_pending *done = NULL, **link = &done;
    *count = 0;
    while (audit->head && audit->head->row.seq <= seq) {
        struct audit_pending *p = audit->head;
        audit->head = p->next;
        if (!audit->head)
            audit->tail = NULL;
        if (audit->committed_last == p)
            audit->committed_last = NULL;
        audit->pending--;
        (*count)++;
        *link = p;
        link = &p->next;
    }
    *link = NULL;
    return done;
}

/* Cuts list (count records) after its first keep records; returns the rest. */
static struct audit_pending *cut_after(struct audit_pending *list, size_t keep)
{
    struct audit_pending *p = list;
    for (size_t i = 1; i < keep; i++)
        p = p->next;
    struct audit_pending *rest = p->next;
    p->next = NULL;
    return rest;
}

void audit_tell(struct audit_pending *list, size_t count, int rc)
{
    while (list) {
        struct audit_pending *p = list;
        list = p->next;
        count--;
        struct audit_waiter *w = p->waiter;
        uint64_t seq = p->row.seq;
        audit_row_clear(&p->row);
        free(p);
        if (!w)
            continue;
        /* Waking a thread costs the waker more than the sleeper (and on a
         * busy machine the wakee often preempts it), so each woken
         * producer takes over half of what is left: a batch is woken in
         * log2 steps spread over the woken threads. */
        size_t give = count / 2;
        w->handoff = give ? cut_after(list, count - give) : NULL;
        w->handoff_count = give;
        count -= give;
        w->rc = rc;
        w->seq = seq;
        sem_post(&w->sem); /* w may be gone after this */
    }
}

void *audit_syncer_main(void *arg)
{
    struct bw_audit *audit = arg;
    pthread_setname_np(pthread_self(), "bw-audit-sync");
    pthread_mutex_lock(&audit->mu);
    for (;;) {
        while (audit->committed_seq == audit->synced_seq && !audit->anchor_waiting &&
               !audit->syncer_stop)
            pthread_cond_wait(&audit->sync_work, &audit->mu);
        if (audit->committed_seq == audit->synced_seq && !audit->anchor_waiting)
            break; /* stopping, and everything committed is synced */
        uint64_t target = audit->committed_seq;
        /* An anchor waiting now belongs to a commit this sync covers. */
        bool anchor = audit->anchor_waiting;
        struct audit_anchor anchor_copy = audit->anchor_next;
        audit->anchor_waiting = false;
        pthread_mutex_unlock(&audit->mu);
        int rc = audit_sync_wal(audit);
        if (rc)
            bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
                   "audit records up to %llu were committed but the disk did not confirm them "
                   "(fdatasync failed): they may be lost",
                   (unsigned long long)target);
        else if (atomic_load(&audit->sync_failed))
            bw_log(BW_LOG_INFO, BW_LOGC_AUDIT, "the disk confirms audit records again");
        atomic_store(&audit->sync_failed, rc != BW_OK);
        if (anchor && rc == BW_OK)
            audit_anchor_store(audit, &anchor_copy);
        pthread_mutex_lock(&audit->mu);
        if (anchor && rc != BW_OK && !audit->anchor_waiting) {
            audit->anchor_next = anchor_copy; /* again with the next sync */
            audit->anchor_waiting = true;
        }
        size_t count;
        struct audit_pending *done = detach_locked(audit, target, &count);
        audit->synced_seq = target;
        pthread_cond_signal(&audit->work); /* the writer commits what gathered */
        if (rc == BW_OK)
            audit->durable_seq = target;
        else
            audit_enqueue_internal(
                audit, BW_AUDIT_EV_AUDIT_FAILURE, BW_AUDIT_ERROR,
                json_pack("{s:s, s:I}", "operation", "sync", "up_to_seq", (json_int_t)target),
                true);
        pthread_mutex_unlock(&audit->mu);
        audit_tell(done, count, rc);
        pthread_mutex_lock(&audit->mu);
        if (rc && audit->syncer_stop && audit->committed_seq == audit->synced_seq)
            break; /* a failing disk at close: the anchor stays behind */
    }
    pthread_mutex_unlock(&audit->mu);
    return NULL;
}
