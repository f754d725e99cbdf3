/* SPDX-License-Identifier: Apache-2.0
 *
 * Subscribers: each has a ring that only the engine writes and only the
 * subscriber's thread reads. When the subscriber falls a whole ring
 * behind, the engine simply overwrites the oldest entries; the reader
 * notices from the slot stamps that it was lapped, skips ahead and counts
 * what it lost. So a slow subscriber costs the engine nothing.
 *
 * Wake-ups: a reader that has drained its ring arms it; the engine writes
 * the ring's eventfd once, at the end of a batch, only when it was armed.
 */
#include "core/internal.h"

#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SUB_MIN_CAPACITY 16u
#define SUB_MAX_CAPACITY (1u << 22)

int bw_core_sub_new(struct bw_core *core, size_t capacity, struct bw_sub **out)
{
    *out = NULL;
    size_t cap = SUB_MIN_CAPACITY;
    if (capacity > SUB_MAX_CAPACITY)
        return BW_EINVAL;
    while (cap < capacity)
        cap <<= 1;
    struct bw_sub *sub = bw_calloc(1, sizeof(*sub));
    if (!sub)
        return BW_ENOMEM;
    sub->slots = bw_calloc(cap, sizeof(*sub->slots));
    if (!sub->slots) {
        bw_free(sub);
        return BW_ENOMEM;
    }
    sub->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (sub->event_fd < 0) {
        bw_free(sub->slots);
        bw_free(sub);
        return BW_EIO;
    }
    sub->core = core;
    sub->mask = cap - 1;
    atomic_init(&sub->armed, true);
    int rc = BW_EFULL;
    pthread_mutex_lock(&core->subs_lock);
    for (unsigned i = 0; i < BW_CORE_MAX_SUBSCRIBERS; i++) {
        if (!atomic_load(&core->subs[i])) {
            sub->index = i;
            atomic_store_explicit(&core->subs[i], sub, memory_order_release);
            rc = BW_OK;
            break;
        }
    }
    pthread_mutex_unlock(&core->subs_lock);
    if (rc) {
        close(sub->event_fd);
        bw_free(sub->slots);
        bw_free(sub);
        return rc;
    }
    *out = sub;
    return BW_OK;
}

/* Waits until the engine has finished any pass that may have seen the
 * subscriber in a tag mask. */
static void wait_engine_quiescent(struct bw_core *core)
{
    uint64_t start = atomic_load_explicit(&core->epoch, memory_order_acquire);
    while (atomic_load(&core->running) &&
           atomic_load_explicit(&core->epoch, memory_order_acquire) < start + 2) {
        bw_core_engine_wake(core);
        sched_yield();
    }
}

void bw_core_sub_free(struct bw_sub *sub)
{
    if (!sub)
        return;
    struct bw_core *core = sub->core;
    uint64_t bit = (uint64_t)1 << sub->index;
    for (size_t i = 0; i < core->tag_count; i++) {
        if (atomic_load_explicit(&core->hot[i].sub_mask, memory_order_relaxed) & bit)
            atomic_fetch_and(&core->hot[i].sub_mask, ~bit);
    }
    /* The index stays ours until no engine pass can still hold a mask
     * with our bit: released earlier, a new subscriber taking it would
     * receive changes of tags it never asked for. */
    wait_engine_quiescent(core);
    pthread_mutex_lock(&core->subs_lock);
    atomic_store(&core->subs[sub->index], NULL);
    pthread_mutex_unlock(&core->subs_lock);
    close(sub->event_fd);
    bw_free(sub->slots);
    bw_free(sub);
}

int bw_core_sub_add_tag(struct bw_sub *sub, uint32_t id)
{
    if (id >= sub->core->tag_count)
        return BW_EINVAL;
    atomic_fetch_or(&sub->core->hot[id].sub_mask, (uint64_t)1 << sub->index);
    return BW_OK;
}

int bw_core_sub_remove_tag(struct bw_sub *sub, uint32_t id)
{
    if (id >= sub->core->tag_count)
        return BW_EINVAL;
    atomic_fetch_and(&sub->core->hot[id].sub_mask, ~((uint64_t)1 << sub->index));
    return BW_OK;
}

int bw_core_sub_add_prefix(struct bw_sub *sub, const char *prefix, size_t *matched)
{
    size_t first, count;
    bw_core_tag_prefix_range(sub->core, prefix, &first, &count);
    for (size_t r = first; r < first + count; r++) {
        int rc = bw_core_sub_add_tag(sub, bw_core_tag_by_rank(sub->core, r));
        if (rc)
            return rc;
    }
    if (matched)
        *matched = count;
    return BW_OK;
}

void bw_core_sub_push(struct bw_sub *sub, uint32_t packed, uint64_t value, int64_t source_ts,
                      int64_t server_ts)
{
    uint64_t pos = sub->head++;
    struct sub_slot *slot = &sub->slots[pos & sub->mask];
    atomic_store_explicit(&slot->stamp, (uint32_t)(2 * pos + 1), memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&slot->packed, packed, memory_order_relaxed);
    atomic_store_explicit(&slot->value, value, memory_order_relaxed);
    atomic_store_explicit(&slot->source_ts_us, source_ts, memory_order_relaxed);
    atomic_store_explicit(&slot->server_ts_us, server_ts, memory_order_relaxed);
    atomic_store_explicit(&slot->stamp, (uint32_t)(2 * pos + 2), memory_order_release);
    sub->pending++;
}

void bw_core_sub_flush(struct bw_sub *sub)
{
    if (!sub->pending)
        return;
    sub->pending = 0;
    atomic_store_explicit(&sub->published_head, sub->head, memory_order_release);
    /* Pairs with the fence in sub_poll after arming. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&sub->armed, memory_order_relaxed) &&
        atomic_exchange(&sub->armed, false)) {
        uint64_t one = 1;
        ssize_t unused = write(sub->event_fd, &one, sizeof(one));
        (void)unused; /* EAGAIN: the counter is already non-zero */
    }
}

/* Reads the entry at the reader's tail; 1 when copied, 0 when there is
 * none yet, -1 when the engine has overwritten it (the reader was
 * lapped). */
static int read_slot(struct bw_sub *sub, struct bw_tag_change *out)
{
    const struct sub_slot *slot = &sub->slots[sub->tail & sub->mask];
    uint32_t want = (uint32_t)(2 * sub->tail + 2);
    uint32_t stamp = atomic_load_explicit(&slot->stamp, memory_order_acquire);
    if (stamp != want)
        return (int32_t)(stamp - want) < 0 ? 0 : -1;
    uint32_t packed = atomic_load_explicit(&slot->packed, memory_order_relaxed);
    uint64_t value = atomic_load_explicit(&slot->value, memory_order_relaxed);
    int64_t source_ts = atomic_load_explicit(&slot->source_ts_us, memory_order_relaxed);
    int64_t server_ts = atomic_load_explicit(&slot->server_ts_us, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&slot->stamp, memory_order_relaxed) != want)
        return -1;
    memset(out, 0, sizeof(*out));
    out->tag = packed & 0xfffffu;
    out->quality = (uint8_t)(packed >> 20 & 0x3u);
    out->type = (uint8_t)(packed >> 22 & 0x3u);
    out->reason = (uint8_t)(packed >> 24);
    out->source_ts_us = source_ts;
    out->server_ts_us = server_ts;
    switch (out->type) {
    case BW_TYPE_BOOL:
        out->v.b = value != 0;
        break;
    case BW_TYPE_FLOAT:
        memcpy(&out->v.f, &value, sizeof(value));
        break;
    default:
        out->v.i = (int64_t)value;
        break;
    }
    return 1;
}

/* Moves the tail past what the engine has overwritten and counts it. The
 * 64-bit published head makes the count exact whatever the stamps say.
 * The reader may be ahead of the published head (it reads records of the
 * engine's current batch before the batch is published), so every
 * comparison is written to hold without wrapping. */
static void skip_lapped(struct bw_sub *sub)
{
    uint64_t head = atomic_load_explicit(&sub->published_head, memory_order_acquire);
    uint64_t cap = sub->mask + 1;
    /* At least the record at the tail is gone: the caller saw it
     * overwritten, or the published head is more than a lap ahead. */
    uint64_t oldest = sub->tail + 1;
    if (head > sub->tail + cap)
        oldest = head - cap;
    uint64_t lost = oldest - sub->tail;
    sub->tail = oldest;
    atomic_fetch_add_explicit(&sub->lost, lost, memory_order_relaxed);
    atomic_fetch_add_explicit(&sub->core->subscriber_lost, lost, memory_order_relaxed);
}

size_t bw_core_sub_poll(struct bw_sub *sub, struct bw_tag_change *out, size_t max)
{
    size_t n = 0;
    bool rearmed = false;
    uint64_t head = atomic_load_explicit(&sub->published_head, memory_order_acquire);
    if (head > sub->tail + sub->mask + 1)
        skip_lapped(sub);
    while (n < max) {
        int got = read_slot(sub, &out[n]);
        if (got > 0) {
            n++;
            sub->tail++;
        } else if (got < 0) {
            skip_lapped(sub);
        } else if (!rearmed) {
            /* Drained: ask for a wake-up, then look once more in case the
             * engine published just before seeing the request. */
            atomic_store(&sub->armed, true);
            atomic_thread_fence(memory_order_seq_cst);
            rearmed = true;
        } else {
            break;
        }
    }
    return n;
}

uint64_t bw_core_sub_lost(const struct bw_sub *sub)
{
    return atomic_load_explicit(&((struct bw_sub *)sub)->lost, memory_order_relaxed);
}

int bw_core_sub_fd(const struct bw_sub *sub)
{
    return sub->event_fd;
}

bool bw_core_sub_wait(struct bw_sub *sub, int timeout_ms)
{
    uint64_t value;
    ssize_t unused;
    /* Not armed: the reader has not drained its ring, or the engine has
     * already signalled; either way there is something to poll. The
     * eventfd is non-blocking: consume a pending signal so that it does
     * not wake the next wait for changes already taken. */
    if (!atomic_load(&sub->armed)) {
        unused = read(sub->event_fd, &value, sizeof(value));
        (void)unused; /* EAGAIN: nothing was pending */
        return true;
    }
    struct pollfd pfd = {.fd = sub->event_fd, .events = POLLIN};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc <= 0)
        return false;
    unused = read(sub->event_fd, &value, sizeof(value));
    (void)unused; /* a spurious wake-up costs one empty poll */
    return true;
}
