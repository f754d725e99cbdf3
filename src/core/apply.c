/* SPDX-License-Identifier: Apache-2.0
 *
 * One engine pass, on the engine thread: take a batch of updates, judge
 * each one's quality, store it in the table (stamping the server time),
 * and hand what changed (value or quality) to the subscribers of the tag.
 * This is the hot path of the whole system; it reads one 32-byte hot
 * record and one 32-byte slot per update and writes one ring slot per
 * interested subscriber.
 */
#include "core/internal.h"

#include <math.h>
#include <string.h>

#define ENGINE_BATCH 1024

/* Decides what quality the table records for an update. */
static uint32_t judge_quality(const struct tag_hot *h, const struct update_cell *cell)
{
    if (cell->quality == BW_QUALITY_BAD)
        return bw_core_pack_quality(BW_QUALITY_BAD, (enum bw_quality_reason)cell->reason);
    if (cell->type != h->type)
        return bw_core_pack_quality(BW_QUALITY_BAD, BW_REASON_CONFIG_ERROR);
    if (h->numeric) {
        double x;
        if (h->type == BW_TYPE_FLOAT) {
            memcpy(&x, &cell->u.bits, sizeof(x));
            if (!isfinite(x))
                return bw_core_pack_quality(BW_QUALITY_BAD, BW_REASON_SENSOR_FAILURE);
        } else {
            x = (double)(int64_t)cell->u.bits;
        }
        if (x < h->min || x > h->max)
            return bw_core_pack_quality(BW_QUALITY_UNCERTAIN, BW_REASON_EU_EXCEEDED);
    }
    return bw_core_pack_quality((enum bw_quality)cell->quality,
                                (enum bw_quality_reason)cell->reason);
}

/* Applies one update; returns true when value or quality changed. */
static bool apply_update(struct bw_core *core, const struct tag_hot *h,
                         const struct update_cell *cell, int64_t now, uint32_t *quality_out,
                         uint64_t *bits_out)
{
    uint32_t id = cell->tag;
    struct tag_slot *slot = &core->slots[id];
    uint32_t qr = judge_quality(h, cell);
    bool bad = (qr & 0xff) == BW_QUALITY_BAD;
    bool is_string = h->string_index != NO_STRING;
    /* A bad update keeps the last value: clients see what was last known
     * together with why it is no longer good. */
    uint64_t old_bits = atomic_load_explicit(&slot->bits, memory_order_relaxed);
    uint64_t bits = bad || is_string ? old_bits : cell->u.bits;
    const char *str = !bad && is_string ? cell->u.str : NULL;
    bool changed = qr != atomic_load_explicit(&slot->quality_reason, memory_order_relaxed);
    if (is_string)
        changed = changed || (str && !bw_core_slot_string_equal(core, id, str, cell->str_len));
    else
        changed = changed || bits != old_bits;
    bw_core_slot_store(core, id, qr, bits, cell->source_ts_us, now, str, cell->str_len);
    *quality_out = qr;
    *bits_out = bits;
    return changed;
}

/* Hands a change to every subscriber in subs_mask; returns how many. */
static unsigned publish_change(struct bw_core *core, uint64_t subs_mask, const struct tag_hot *h,
                               uint32_t id, uint32_t qr, uint64_t bits, int64_t source_ts,
                               int64_t now)
{
    uint32_t packed = id | (qr & 0x3u) << 20 | (uint32_t)h->type << 22 | (qr >> 8 & 0xffu) << 24;
    unsigned delivered = 0;
    while (subs_mask) {
        unsigned bit = (unsigned)__builtin_ctzll(subs_mask);
        subs_mask &= subs_mask - 1;
        struct bw_sub *sub = atomic_load_explicit(&core->subs[bit], memory_order_acquire);
        if (sub) {
            bw_core_sub_push(sub, packed, bits, source_ts, now);
            delivered++;
        }
    }
    return delivered;
}

static void flush_subscribers(struct bw_core *core, uint64_t touched)
{
    while (touched) {
        unsigned bit = (unsigned)__builtin_ctzll(touched);
        touched &= touched - 1;
        struct bw_sub *sub = atomic_load_explicit(&core->subs[bit], memory_order_acquire);
        if (sub)
            bw_core_sub_flush(sub);
    }
}

size_t bw_core_engine_pass(struct bw_core *core)
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
            const struct tag_hot *h = &core->hot[cell->tag];
            uint32_t qr;
            uint64_t bits;
            if (apply_update(core, h, cell, now, &qr, &bits)) {
                uint64_t subs = atomic_load_explicit(&h->sub_mask, memory_order_relaxed);
                if (subs) {
                    published +=
                        publish_change(core, subs, h, cell->tag, qr, bits, cell->source_ts_us, now);
                    touched |= subs;
                }
            }
            applied++;
        }
        bw_core_queue_release(&core->queue, cell);
    }
    flush_subscribers(core, touched);
    if (applied)
        atomic_fetch_add_explicit(&core->updates_applied, applied, memory_order_relaxed);
    if (rejected)
        atomic_fetch_add_explicit(&core->updates_rejected, rejected, memory_order_relaxed);
    if (published)
        atomic_fetch_add_explicit(&core->changes_published, published, memory_order_relaxed);
    return taken;
}
