/* SPDX-License-Identifier: Apache-2.0
 *
 * The engine thread: drains the update queue in batches, applies each
 * update to the table (stamping the server time and judging quality),
 * and publishes what changed to the subscribers of the tag. It sleeps on
 * a condition variable only when the queue is empty; producers wake it.
 */
#include "core/internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#define ENGINE_BATCH 1024
#define ENGINE_IDLE_WAIT_MS 50

void bw_core_engine_wake(struct bw_core *core)
{
    pthread_mutex_lock(&core->wake_lock);
    pthread_cond_signal(&core->wake_cond);
    pthread_mutex_unlock(&core->wake_lock);
}

static int push_one(struct bw_core *core, const struct bw_tag_update *u, size_t pos)
{
    struct update_cell *cell = &core->queue.cells[pos & core->queue.mask];
    cell->tag = u->tag;
    cell->quality = (uint8_t)u->quality;
    cell->reason = (uint8_t)u->reason;
    cell->type = (uint8_t)u->value.type;
    cell->source_ts_us = u->source_ts_us;
    cell->str = NULL;
    cell->str_len = 0;
    cell->bits = 0;
    switch (u->value.type) {
    case BW_TYPE_BOOL:
        cell->bits = u->value.v.b ? 1 : 0;
        break;
    case BW_TYPE_INT:
        cell->bits = (uint64_t)u->value.v.i;
        break;
    case BW_TYPE_FLOAT:
        memcpy(&cell->bits, &u->value.v.f, sizeof(cell->bits));
        break;
    case BW_TYPE_STRING: {
        size_t len = u->value.len > BW_TAG_STRING_MAX ? BW_TAG_STRING_MAX : u->value.len;
        cell->str = bw_strndup(u->value.v.s ? u->value.v.s : "", len);
        cell->str_len = (uint32_t)(cell->str ? strlen(cell->str) : 0);
        if (!cell->str) {
            /* The position is ours and must be published: it goes
             * through as a bad value rather than as a hole. */
            cell->quality = BW_QUALITY_BAD;
            cell->reason = BW_REASON_DEVICE_FAILURE;
            return BW_ENOMEM;
        }
        break;
    }
    }
    return BW_OK;
}

int bw_core_update_push(struct bw_core *core, const struct bw_tag_update *updates, size_t n,
                        size_t *queued)
{
    size_t done = 0;
    int rc = BW_OK;
    while (done < n && rc == BW_OK) {
        size_t want = n - done, pos;
        for (size_t i = 0; i < want; i++) {
            if (updates[done + i].tag >= core->tag_count) {
                want = i;
                rc = BW_EINVAL;
                break;
            }
        }
        if (want == 0)
            break;
        size_t got = bw_core_queue_reserve(&core->queue, want, &pos);
        if (got == 0) {
            atomic_fetch_add_explicit(&core->queue_full, 1, memory_order_relaxed);
            rc = BW_EFULL;
            break;
        }
        for (size_t i = 0; i < got; i++) {
            if (push_one(core, &updates[done + i], pos + i) != BW_OK)
                rc = BW_ENOMEM;
            bw_core_queue_publish(&core->queue, pos + i);
        }
        done += got;
        if (rc == BW_EINVAL && done < n)
            break;
    }
    /* Pairs with the engine's fence between announcing sleep and looking
     * at the queue: one of the two sides sees the other. */
    atomic_thread_fence(memory_order_seq_cst);
    if (done && atomic_load_explicit(&core->engine_sleeping, memory_order_relaxed))
        bw_core_engine_wake(core);
    if (queued)
        *queued = done;
    return rc;
}

/* Decides what quality the table records for an update. */
static uint32_t judge_quality(const struct tag_meta *m, const struct update_cell *cell)
{
    if (cell->quality == BW_QUALITY_BAD)
        return bw_core_pack_quality(BW_QUALITY_BAD, (enum bw_quality_reason)cell->reason);
    if (cell->type != m->def.type)
        return bw_core_pack_quality(BW_QUALITY_BAD, BW_REASON_CONFIG_ERROR);
    double x;
    if (m->def.type == BW_TYPE_FLOAT) {
        memcpy(&x, &cell->bits, sizeof(x));
        if (!isfinite(x))
            return bw_core_pack_quality(BW_QUALITY_BAD, BW_REASON_SENSOR_FAILURE);
    } else if (m->def.type == BW_TYPE_INT) {
        x = (double)(int64_t)cell->bits;
    } else {
        return bw_core_pack_quality((enum bw_quality)cell->quality,
                                    (enum bw_quality_reason)cell->reason);
    }
    if ((m->def.has_min && x < m->def.min) || (m->def.has_max && x > m->def.max))
        return bw_core_pack_quality(BW_QUALITY_UNCERTAIN, BW_REASON_EU_EXCEEDED);
    return bw_core_pack_quality((enum bw_quality)cell->quality,
                                (enum bw_quality_reason)cell->reason);
}

static bool string_equal(const struct bw_core *core, uint32_t id, const char *s, size_t len)
{
    const struct string_slot *slot = &core->strings[core->meta[id].string_index];
    if (atomic_load_explicit(&slot->len, memory_order_relaxed) != len)
        return false;
    uint64_t words[STRING_WORDS] = {0};
    memcpy(words, s, len);
    for (size_t w = 0; w < (len + 7) / 8; w++) {
        if (atomic_load_explicit(&slot->words[w], memory_order_relaxed) != words[w])
            return false;
    }
    return true;
}

/* Applies one update; returns true when value or quality changed. */
static bool apply_update(struct bw_core *core, const struct update_cell *cell, int64_t now,
                         uint32_t *quality_out, uint64_t *bits_out)
{
    uint32_t id = cell->tag;
    const struct tag_meta *m = &core->meta[id];
    struct tag_slot *slot = &core->slots[id];
    uint32_t qr = judge_quality(m, cell);
    bool bad = (qr & 0xff) == BW_QUALITY_BAD;
    /* A bad update keeps the last value: clients see what was last known
     * together with why it is no longer good. */
    uint64_t old_bits = atomic_load_explicit(&slot->bits, memory_order_relaxed);
    uint64_t bits = bad ? old_bits : cell->bits;
    const char *str = bad ? NULL : cell->str;
    bool changed = qr != atomic_load_explicit(&slot->quality_reason, memory_order_relaxed);
    if (m->string_index != NO_STRING)
        changed = changed || (str && !string_equal(core, id, str, cell->str_len));
    else
        changed = changed || bits != old_bits;
    bw_core_slot_store(core, id, qr, bits, cell->source_ts_us, now, str, cell->str_len);
    *quality_out = qr;
    *bits_out = bits;
    return changed;
}

/* Returns how many subscribers received the change. */
static unsigned publish_change(struct bw_core *core, uint64_t subs_mask, uint32_t id, uint32_t qr,
                               uint64_t bits, int64_t source_ts, int64_t now)
{
    unsigned delivered = 0;
    struct bw_tag_change change = {
        .tag = id,
        .quality = (uint8_t)(qr & 0xff),
        .reason = (uint8_t)(qr >> 8),
        .type = (uint8_t)core->meta[id].def.type,
        .source_ts_us = source_ts,
        .server_ts_us = now,
    };
    memcpy(&change.v, &bits, sizeof(bits));
    if (change.type == BW_TYPE_BOOL)
        change.v.b = bits != 0;
    while (subs_mask) {
        unsigned bit = (unsigned)__builtin_ctzll(subs_mask);
        subs_mask &= subs_mask - 1;
        struct bw_sub *sub = atomic_load_explicit(&core->subs[bit], memory_order_acquire);
        if (sub) {
            bw_core_sub_push(sub, &change);
            delivered++;
        }
    }
    return delivered;
}

/* Applies up to one batch; returns the number of updates taken. */
static size_t engine_pass(struct bw_core *core)
{
    int64_t now = bw_clock_realtime_us();
    uint64_t applied = 0, rejected = 0, published = 0;
    uint64_t touched = 0; /* subscribers that received something */
    size_t taken = 0;
    struct update_cell *cell;
    while (taken < ENGINE_BATCH && (cell = bw_core_queue_peek(&core->queue))) {
        taken++;
        if (cell->tag >= core->tag_count) {
            rejected++;
        } else {
            uint32_t qr;
            uint64_t bits;
            if (apply_update(core, cell, now, &qr, &bits)) {
                uint64_t subs =
                    atomic_load_explicit(&core->sub_masks[cell->tag], memory_order_relaxed);
                if (subs) {
                    published +=
                        publish_change(core, subs, cell->tag, qr, bits, cell->source_ts_us, now);
                    touched |= subs;
                }
            }
            applied++;
        }
        bw_core_queue_release(&core->queue, cell);
    }
    while (touched) {
        unsigned bit = (unsigned)__builtin_ctzll(touched);
        touched &= touched - 1;
        struct bw_sub *sub = atomic_load_explicit(&core->subs[bit], memory_order_acquire);
        if (sub)
            bw_core_sub_flush(sub);
    }
    if (applied)
        atomic_fetch_add_explicit(&core->updates_applied, applied, memory_order_relaxed);
    if (rejected)
        atomic_fetch_add_explicit(&core->updates_rejected, rejected, memory_order_relaxed);
    if (published)
        atomic_fetch_add_explicit(&core->changes_published, published, memory_order_relaxed);
    return taken;
}

static void engine_sleep(struct bw_core *core)
{
    pthread_mutex_lock(&core->wake_lock);
    atomic_store(&core->engine_sleeping, true);
    atomic_thread_fence(memory_order_seq_cst);
    if (!bw_core_queue_peek(&core->queue) && !atomic_load(&core->stop_requested)) {
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += ENGINE_IDLE_WAIT_MS * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&core->wake_cond, &core->wake_lock, &deadline);
    }
    atomic_store(&core->engine_sleeping, false);
    pthread_mutex_unlock(&core->wake_lock);
}

static void *engine_main(void *arg)
{
    struct bw_core *core = arg;
    for (;;) {
        size_t taken = engine_pass(core);
        atomic_fetch_add_explicit(&core->epoch, 1, memory_order_release);
        if (taken == 0) {
            if (atomic_load(&core->stop_requested))
                break;
            engine_sleep(core);
        }
    }
    atomic_store(&core->running, false);
    return NULL;
}

int bw_core_start(struct bw_core *core)
{
    if (core->started)
        return BW_ESTATE;
    atomic_store(&core->stop_requested, false);
    atomic_store(&core->running, true);
    if (pthread_create(&core->thread, NULL, engine_main, core) != 0) {
        atomic_store(&core->running, false);
        return BW_EIO;
    }
    core->started = true;
    return BW_OK;
}

void bw_core_stop(struct bw_core *core)
{
    if (!core->started)
        return;
    atomic_store(&core->stop_requested, true);
    bw_core_engine_wake(core);
    pthread_join(core->thread, NULL);
    core->started = false;
}

void bw_core_stats_get(const struct bw_core *core, struct bw_core_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->updates_applied = atomic_load(&core->updates_applied);
    out->updates_rejected = atomic_load(&core->updates_rejected);
    out->queue_full = atomic_load(&core->queue_full);
    out->changes_published = atomic_load(&core->changes_published);
    out->subscriber_lost = atomic_load(&core->subscriber_lost);
    out->queue_capacity = core->queue.mask + 1;
    for (unsigned i = 0; i < BW_CORE_MAX_SUBSCRIBERS; i++)
        out->subscribers += atomic_load(&((struct bw_core *)core)->subs[i]) != NULL;
}
