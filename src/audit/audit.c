/* SPDX-License-Identifier: Apache-2.0
 *
 * The trail as the daemon keeps it: open and close, bw_audit_record()
 * (validate, redact, queue, wait until durable), the gate that applies
 * the project's refuse policies, and the status snapshot. Records are
 * numbered when queued and written in that order by the one writer
 * thread (writer.c), which commits whatever has gathered in one
 * transaction: many producers share one sync (group commit).
 */
#include "audit/forward_internal.h"
#include "audit/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void bw_audit_config_defaults(struct bw_audit_config *config, const char *state_dir)
{
    *config = (struct bw_audit_config){
        .state_dir = state_dir,
        .max_bytes = 1024ull * 1024 * 1024,
        .thresholds = {80, 95},
        .threshold_count = 2,
        .when_full = BW_AUDIT_FULL_ARCHIVE,
        .on_failure = BW_AUDIT_FAIL_CONTINUE,
        .checkpoint_records = 1000,
        .checkpoint_seconds = 60,
    };
}

static int check_config(const struct bw_audit_config *c)
{
    if (!c->state_dir || !c->state_dir[0] || strlen(c->state_dir) > BW_AUDIT_PATH_MAX - 64)
        return BW_EINVAL;
    if (c->threshold_count > BW_AUDIT_MAX_THRESHOLDS)
        return BW_EINVAL;
    for (size_t i = 0; i < c->threshold_count; i++) {
        if (c->thresholds[i] < 1 || c->thresholds[i] > 99)
            return BW_EINVAL;
        if (i > 0 && c->thresholds[i] <= c->thresholds[i - 1])
            return BW_EINVAL;
    }
    /* An age limit alone can only be kept by archiving. */
    if (c->max_age_days > 0 && c->when_full != BW_AUDIT_FULL_ARCHIVE)
        return BW_EINVAL;
    if (c->checkpoint_records == 0 || c->checkpoint_seconds == 0)
        return BW_EINVAL;
    return BW_OK;
}

static void audit_free(struct bw_audit *audit)
{
    struct audit_pending *p = audit->head;
    while (p) {
        struct audit_pending *next = p->next;
        audit_row_clear(&p->row);
        free(p);
        p = next;
    }
    bw_crypto_mac_free(audit->mac);
    audit_keys_clear(&audit->keys);
    pthread_cond_destroy(&audit->sync_work);
    pthread_cond_destroy(&audit->done);
    pthread_cond_destroy(&audit->work);
    pthread_mutex_destroy(&audit->mu);
    free(audit);
}

int bw_audit_open(const struct bw_audit_config *config, struct bw_audit **out)
{
    *out = NULL;
    int rc = check_config(config);
    if (rc)
        return rc;
    struct bw_audit *audit = calloc(1, sizeof(*audit));
    if (!audit)
        return BW_ENOMEM;
    bw_strlcpy(audit->state_dir, config->state_dir, sizeof(audit->state_dir));
    audit->max_bytes = config->max_bytes;
    audit->max_age_days = config->max_age_days;
    memcpy(audit->thresholds, config->thresholds, sizeof(audit->thresholds));
    audit->threshold_count = config->threshold_count;
    audit->when_full = config->when_full;
    audit->on_failure = config->on_failure;
    audit->checkpoint_records = config->checkpoint_records;
    audit->checkpoint_seconds = config->checkpoint_seconds;
    audit->clock_state = -1;
    audit->wake_at_pending = 1;
    if (pthread_mutex_init(&audit->mu, NULL) != 0) {
        free(audit);
        return BW_ENOMEM;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int c1 = pthread_cond_init(&audit->work, &ca);
    int c2 = pthread_cond_init(&audit->done, &ca);
    int c3 = pthread_cond_init(&audit->sync_work, &ca);
    pthread_condattr_destroy(&ca);
    if (c1 || c2 || c3) {
        if (!c1)
            pthread_cond_destroy(&audit->work);
        if (!c2)
            pthread_cond_destroy(&audit->done);
        if (!c3)
            pthread_cond_destroy(&audit->sync_work);
        pthread_mutex_destroy(&audit->mu);
        free(audit);
        return BW_ENOMEM;
    }

    /* Keys first: a trail whose keys cannot be trusted is not opened. */
    rc = audit_keys_load(audit->state_dir, true, true, &audit->keys);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(audit->keys.mac_key, sizeof(audit->keys.mac_key), &audit->mac);
    if (rc) {
        audit_free(audit);
        return rc;
    }
    char archive[BW_AUDIT_PATH_MAX];
    if (audit_path(archive, audit->state_dir, BW_AUDIT_ARCHIVE_DIR) == BW_OK &&
        mkdir(archive, 0700) != 0 && errno != EEXIST)
        bw_log(BW_LOG_WARN, BW_LOGC_AUDIT, "cannot create the audit archive directory");

    /* The first connection is made here so that the sequence continues
     * from the tail; when it fails the writer keeps retrying and the
     * trail starts in the failed state, with control running. */
    rc = audit_writer_connect(audit);
    if (rc == BW_OK)
        audit_anchor_check_open(audit); /* a tail cut off while we were down */
    if (rc == BW_OK)
        audit_capacity_check(audit); /* a trail left full stays full */
    if (rc) {
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "audit trail cannot be written (%s): records are held in memory until it can",
               bw_strerror(rc));
        audit->failed = true;
        atomic_store(&audit->state, BW_AUDIT_STATE_FAILED);
        audit->retry_delay_us = 100000;
        audit->retry_at_us = bw_clock_monotonic_us() + audit->retry_delay_us;
        audit_enqueue_internal(
            audit, BW_AUDIT_EV_AUDIT_FAILURE, BW_AUDIT_ERROR,
            json_pack("{s:s, s:s}", "operation", "open", "reason", bw_strerror(rc)), false);
    }
    if (pthread_create(&audit->syncer, NULL, audit_syncer_main, audit) != 0) {
        audit_writer_disconnect(audit);
        audit_free(audit);
        return BW_ENOMEM;
    }
    audit->syncer_started = true;
    if (pthread_create(&audit->writer, NULL, audit_writer_main, audit) != 0) {
        bw_audit_close(audit);
        return BW_ENOMEM;
    }
    audit->writer_started = true;
    if (config->forward) {
        rc = bw_audit_forwarder_start(audit, config->forward, audit->state_dir, &audit->forwarder);
        if (rc) {
            bw_audit_close(audit);
            return rc;
        }
    }
    *out = audit;
    return BW_OK;
}

void bw_audit_close(struct bw_audit *audit)
{
    if (!audit)
        return;
    /* The forwarder records events through us: it stops first. */
    bw_audit_forwarder_stop(audit->forwarder);
    audit->forwarder = NULL;
    if (audit->writer_started) {
        pthread_mutex_lock(&audit->mu);
        audit->stopping = true;
        pthread_cond_broadcast(&audit->work);
        pthread_mutex_unlock(&audit->mu);
        pthread_join(audit->writer, NULL);
    }
    if (audit->syncer_started) {
        /* It answers every committed record before it returns. */
        pthread_mutex_lock(&audit->mu);
        audit->syncer_stop = true;
        pthread_cond_signal(&audit->sync_work);
        pthread_mutex_unlock(&audit->mu);
        pthread_join(audit->syncer, NULL);
    }
    if (audit->pending > 0)
        bw_log(BW_LOG_ERROR, BW_LOGC_AUDIT,
               "%llu audit records could not be written before stopping",
               (unsigned long long)audit->pending);
    audit_writer_disconnect(audit);
    audit_free(audit);
}

/* Builds the row of an event; the sequence number is given when queued. */
static int row_make(const struct bw_audit_event *event, struct audit_row *row)
{
    memset(row, 0, sizeof(*row));
    const struct bw_audit_event_info *info = bw_audit_event_lookup(event->id);
    if (!info || !bw_audit_result_name(event->result) ||
        !bw_audit_source_kind_name(event->source.kind) || !event->source.name ||
        !event->source.name[0])
        return BW_EINVAL;
    int rc = audit_details_encode(event->details, &row->details);
    if (rc == BW_OK)
        rc = audit_text_copy(event->source.name, BW_AUDIT_NAME_MAX, &row->source_name);
    if (rc == BW_OK && event->source.address)
        rc = audit_text_copy(event->source.address, BW_AUDIT_ADDRESS_MAX, &row->source_address);
    if (rc) {
        audit_row_clear(row);
        return rc;
    }
    row->ts_us = bw_clock_realtime_us();
    row->category = (uint8_t)info->category;
    row->event_id = info->id;
    row->type = info->type;
    row->result = (uint8_t)event->result;
    row->source_kind = (uint8_t)event->source.kind;
    return BW_OK;
}

/* Appends p to the queue and numbers it. mu held. False when the queue
 * is at its bound: the record is then counted as lost (and reported by
 * the writer once it can write again). */
static bool queue_locked(struct bw_audit *audit, struct audit_pending *p)
{
    if (audit->pending >= BW_AUDIT_PENDING_MAX) {
        audit->lost++;
        return false;
    }
    p->row.seq = ++audit->next_seq;
    p->next = NULL;
    if (audit->tail)
        audit->tail->next = p;
    else
        audit->head = p;
    audit->tail = p;
    audit->pending++;
    if (++audit->fresh >= audit->wake_at_pending)
        pthread_cond_signal(&audit->work);
    return true;
}

int bw_audit_record(struct bw_audit *audit, const struct bw_audit_event *event, uint64_t *seq_out)
{
    if (seq_out)
        *seq_out = 0;
    if (!audit || !event)
        return BW_EINVAL;
    struct audit_pending *p = calloc(1, sizeof(*p));
    if (!p)
        return BW_ENOMEM;
    int rc = row_make(event, &p->row);
    if (rc) {
        free(p);
        return rc;
    }
    pthread_mutex_lock(&audit->mu);
    if (!queue_locked(audit, p)) {
        pthread_mutex_unlock(&audit->mu);
        audit_row_clear(&p->row);
        free(p);
        return BW_EIO;
    }
    /* p belongs to the writer from here. Its number is final only once
     * it is durable: a trail that could not be opened numbers what was
     * queued meanwhile on from the stored tail when it comes back. */
    /* While the trail is failing, the record waits in memory; the
     * caller hears at once that it is not yet durable. */
    if (atomic_load(&audit->state) == BW_AUDIT_STATE_FAILED || audit->stopping) {
        pthread_mutex_unlock(&audit->mu);
        return BW_EIO;
    }
    struct audit_waiter w = {.rc = BW_EIO, .handoff = NULL};
    if (sem_init(&w.sem, 0, 0) != 0) {
        pthread_mutex_unlock(&audit->mu);
        return BW_EIO;
    }
    p->waiter = &w;
    pthread_mutex_unlock(&audit->mu);
    while (sem_wait(&w.sem) != 0)
        ; /* EINTR: it is posted exactly once */
    sem_destroy(&w.sem);
    if (w.handoff)
        audit_tell(w.handoff, w.handoff_count, w.rc);
    if (w.rc == BW_OK && seq_out)
        *seq_out = w.seq;
    return w.rc;
}

void audit_waiters_fail_locked(struct bw_audit *audit)
{
    /* Committed records are the syncer's to answer. */
    struct audit_pending *p = audit->committed_last ? audit->committed_last->next : audit->head;
    for (; p; p = p->next) {
        if (p->waiter) {
            p->waiter->rc = BW_EIO;
            sem_post(&p->waiter->sem);
            p->waiter = NULL;
        }
    }
}

void bw_audit_set_integrity_hook(struct bw_audit *audit, bw_audit_integrity_fn fn, void *ctx)
{
    /* The hook runs under mu (it must not call the trail), so clearing
     * it waits for a call in progress: the caller may then free what the
     * hook uses. */
    pthread_mutex_lock(&audit->mu);
    audit->on_integrity = fn;
    audit->integrity_ctx = ctx;
    if (audit->integrity_violated && fn)
        fn(ctx);
    pthread_mutex_unlock(&audit->mu);
}

void audit_enqueue_internal(struct bw_audit *audit, uint32_t id, enum bw_audit_result result,
                            json_t *details_take, bool locked)
{
    if (id == BW_AUDIT_EV_AUDIT_INTEGRITY) {
        if (!locked)
            pthread_mutex_lock(&audit->mu);
        audit->integrity_violated = true;
        if (audit->on_integrity)
            audit->on_integrity(audit->integrity_ctx);
        if (!locked)
            pthread_mutex_unlock(&audit->mu);
    }
    struct audit_pending *p = calloc(1, sizeof(*p));
    struct bw_audit_event ev = {
        .id = id,
        .result = result,
        .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "bulwark"},
        .details = details_take,
    };
    int rc = p ? row_make(&ev, &p->row) : BW_ENOMEM;
    json_decref(details_take);
    if (!locked)
        pthread_mutex_lock(&audit->mu);
    if (rc || !queue_locked(audit, p)) {
        if (rc)
            audit->lost++;
        if (p && rc == BW_OK)
            audit_row_clear(&p->row);
        free(p);
    }
    if (!locked)
        pthread_mutex_unlock(&audit->mu);
}

int bw_audit_archive_now(struct bw_audit *audit, uint64_t *first, uint64_t *last)
{
    if (first)
        *first = 0;
    if (last)
        *last = 0;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&audit->mu);
    uint64_t ticket = ++audit->archive_requests;
    pthread_cond_signal(&audit->work);
    int rc = BW_OK;
    while (audit->archive_served < ticket && !audit->stopping && rc == BW_OK)
        if (pthread_cond_timedwait(&audit->done, &audit->mu, &deadline) == ETIMEDOUT)
            rc = BW_ETIMEOUT;
    if (audit->archive_served >= ticket) {
        rc = audit->archive_rc;
        if (first)
            *first = audit->archive_first;
        if (last)
            *last = audit->archive_last;
    } else if (rc == BW_OK) {
        rc = BW_EIO; /* stopping */
    }
    pthread_mutex_unlock(&audit->mu);
    return rc;
}

int bw_audit_gate(struct bw_audit *audit)
{
    if (!audit)
        return BW_EDENIED; /* no trail: nothing non-essential may happen */
    int state = atomic_load(&audit->state);
    if (state == BW_AUDIT_STATE_FULL)
        return BW_EDENIED;
    bool failed = state == BW_AUDIT_STATE_FAILED || atomic_load(&audit->sync_failed);
    if (failed && audit->on_failure == BW_AUDIT_FAIL_REFUSE)
        return BW_EDENIED;
    return BW_OK;
}

int bw_audit_record_request(struct bw_audit *audit, const struct bw_audit_event *event)
{
    int rc = bw_audit_gate(audit);
    if (rc)
        return rc;
    rc = bw_audit_record(audit, event, NULL);
    if (rc == BW_EIO)
        return audit->on_failure == BW_AUDIT_FAIL_REFUSE ? BW_EDENIED : BW_OK;
    return rc;
}

void bw_audit_status_get(struct bw_audit *audit, struct bw_audit_status *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&audit->mu);
    out->last_seq = audit->durable_seq;
    out->pending = audit->pending;
    out->lost = audit->lost;
    pthread_mutex_unlock(&audit->mu);
    out->state = atomic_load(&audit->sync_failed) ? BW_AUDIT_STATE_FAILED
                                                  : (enum bw_audit_state)atomic_load(&audit->state);
    out->used_bytes = atomic_load(&audit->used_bytes);
    out->usage_percent = atomic_load(&audit->usage_percent);
    out->commits = atomic_load(&audit->commits);
    out->forwarded_seq = audit->forwarder ? bw_audit_forwarder_position(audit->forwarder) : 0;
}
