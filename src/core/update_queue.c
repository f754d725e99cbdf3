/* SPDX-License-Identifier: Apache-2.0
 *
 * The bounded multi-producer, single-consumer queue between drivers and
 * the engine. Each cell carries a sequence number: cell i is free for
 * the producer at position p when seq == p and holds a published update
 * for the consumer when seq == p + 1; the consumer frees it for the next
 * lap by setting seq = p + capacity. Producers claim positions with one
 * compare-and-swap per batch; the consumer never blocks a producer.
 */
#include "core/internal.h"

int bw_core_queue_init(struct update_queue *q, size_t capacity)
{
    size_t cap = 16;
    while (cap < capacity) {
        if (cap >= ((size_t)1 << 26))
            return BW_EINVAL;
        cap <<= 1;
    }
    q->cells = bw_calloc(cap, sizeof(*q->cells));
    if (!q->cells)
        return BW_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        atomic_init(&q->cells[i].seq, (uint32_t)i);
    q->mask = cap - 1;
    atomic_init(&q->enqueue_pos, 0);
    q->dequeue_pos = 0;
    return BW_OK;
}

void bw_core_queue_clear(struct update_queue *q)
{
    if (!q->cells)
        return;
    /* Strings of updates that were never applied. */
    for (;;) {
        struct update_cell *cell = bw_core_queue_peek(q);
        if (!cell)
            break;
        bw_core_queue_release(q, cell);
    }
    bw_free(q->cells);
    q->cells = NULL;
}

size_t bw_core_queue_reserve(struct update_queue *q, size_t want, size_t *pos)
{
    if (want == 0)
        return 0;
    if (want > q->mask + 1)
        want = q->mask + 1;
    size_t p = atomic_load_explicit(&q->enqueue_pos, memory_order_relaxed);
    for (;;) {
        /* The consumer frees cells in order, so when the last cell of the
         * batch is free for this lap, all before it are too. */
        size_t n = want;
        struct update_cell *last = &q->cells[(p + n - 1) & q->mask];
        uint32_t seq = atomic_load_explicit(&last->seq, memory_order_acquire);
        if (seq != (uint32_t)(p + n - 1)) {
            struct update_cell *first = &q->cells[p & q->mask];
            seq = atomic_load_explicit(&first->seq, memory_order_acquire);
            int32_t diff = (int32_t)(seq - (uint32_t)p);
            if (diff < 0)
                return 0; /* full */
            if (diff > 0) {
                p = atomic_load_explicit(&q->enqueue_pos, memory_order_relaxed);
                continue; /* another producer took p */
            }
            n = 1;
        }
        if (atomic_compare_exchange_weak_explicit(&q->enqueue_pos, &p, p + n, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *pos = p;
            return n;
        }
    }
}

void bw_core_queue_publish(struct update_queue *q, size_t pos)
{
    atomic_store_explicit(&q->cells[pos & q->mask].seq, (uint32_t)(pos + 1), memory_order_release);
}

struct update_cell *bw_core_queue_peek(struct update_queue *q)
{
    struct update_cell *cell = &q->cells[q->dequeue_pos & q->mask];
    uint32_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
    return seq == (uint32_t)(q->dequeue_pos + 1) ? cell : NULL;
}

void bw_core_queue_release(struct update_queue *q, struct update_cell *cell)
{
    if (cell->type == BW_TYPE_STRING) {
        bw_free(cell->u.str);
        cell->u.str = NULL;
    }
    atomic_store_explicit(&cell->seq, (uint32_t)(q->dequeue_pos + q->mask + 1),
                          memory_order_release);
    q->dequeue_pos++;
}
