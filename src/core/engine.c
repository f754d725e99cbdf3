/* SPDX-License-Identifier: Apache-2.0
 *
 * The engine thread's life cycle and the producers' side of the update
 * queue. The thread runs passes (apply.c) until the queue is empty, then
 * sleeps on a condition variable that producers signal.
 */
#include "core/internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

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
    cell->str_len = 0;
    switch (u->value.type) {
    case BW_TYPE_BOOL:
        cell->u.bits = u->value.v.b ? 1 : 0;
        break;
    case BW_TYPE_INT:
        cell->u.bits = (uint64_t)u->value.v.i;
        break;
    case BW_TYPE_FLOAT:
        memcpy(&cell->u.bits, &u->value.v.f, sizeof(cell->u.bits));
        break;
    case BW_TYPE_STRING: {
        size_t len = u->value.len > BW_TAG_STRING_MAX ? BW_TAG_STRING_MAX : u->value.len;
        cell->u.str = bw_strndup(u->value.v.s ? u->value.v.s : "", len);
        if (!cell->u.str) {
            /* The position is ours and must be published: it goes
             * through as a bad value rather than as a hole. */
            cell->type = 0xff;
            cell->u.bits = 0;
            cell->quality = BW_QUALITY_BAD;
            cell->reason = BW_REASON_DEVICE_FAILURE;
            return BW_ENOMEM;
        }
        cell->str_len = (uint32_t)strlen(cell->u.str);
        break;
    }
    default:
        cell->type = 0xff; /* the engine judges it a type mismatch */
        cell->u.bits = 0;
        break;
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

static void engine_sleep(struct bw_core *core)
{
    pthread_mutex_lock(&core->wake_lock);
    atomic_store(&core->engine_sleeping, true);
    atomic_thread_fence(memory_order_seq_cst);
    if (!bw_core_queue_peek(&core->queue) && !atomic_load(&core->stop_requested)) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
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
        size_t taken = bw_core_engine_pass(core);
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
