/* SPDX-License-Identifier: Apache-2.0
 *
 * drivers/modbus planner: merges the spans of the tags of one device and
 * scan class into as few read requests as the protocol's limits and the
 * configured gap allow. Built once per device when the driver starts, on
 * the thread that starts it; the plan is then read-only. No shared state.
 *
 * The spans are sorted by area, then address (ties keep their input
 * order), and packed greedily: a span joins the current block when it is
 * in the same area, the block from its first address to the furthest end
 * stays within the area's limit, and the addresses between the block's
 * end and the span (none for overlapping spans) are at most max_gap
 * (registers) or 16 * max_gap (bits). O(n log n) for the sort, then one
 * pass to count the blocks and one to fill them.
 */
#include "drivers/modbus/mb_codec.h"

#include <stdlib.h>

/* Sort key: (area, address) in the upper bits, the input index to break
 * ties, so that qsort (not stable) gives a stable order. */
struct plan_key {
    uint32_t key;
    size_t index;
};

static int plan_key_cmp(const void *pa, const void *pb)
{
    const struct plan_key *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index);
}

static bool is_bit_area(enum bw_modbus_area area)
{
    return area == BW_MODBUS_COIL || area == BW_MODBUS_DISCRETE_INPUT;
}

static bool limits_valid(const struct mb_plan_limits *limits)
{
    return limits->max_registers >= 1 && limits->max_registers <= MB_MAX_READ_REGISTERS &&
           limits->max_bits >= 1 && limits->max_bits <= MB_MAX_READ_BITS &&
           limits->max_gap <= MB_MAX_READ_REGISTERS - 1;
}

static bool span_valid(const struct mb_span *span)
{
    switch (span->area) {
    case BW_MODBUS_COIL:
    case BW_MODBUS_DISCRETE_INPUT:
    case BW_MODBUS_HOLDING_REGISTER:
    case BW_MODBUS_INPUT_REGISTER:
        break;
    default:
        return false;
    }
    return span->count >= 1 && (uint32_t)span->address + span->count <= 65536u;
}

/* Walks the sorted spans and packs them. Writes the blocks when blocks
 * is not NULL; returns how many there are either way. */
static size_t plan_pack(const struct mb_span *spans, const size_t *order, size_t n,
                        const struct mb_plan_limits *limits, struct mb_block *blocks)
{
    size_t count = 0;
    struct mb_block cur = {0};
    uint32_t end = 0; /* one past the current block's last address */
    for (size_t i = 0; i < n; i++) {
        const struct mb_span *s = &spans[order[i]];
        uint32_t s_end = (uint32_t)s->address + s->count;
        if (i > 0 && s->area == cur.area) {
            bool bits = is_bit_area(s->area);
            uint32_t limit = bits ? limits->max_bits : limits->max_registers;
            uint32_t max_gap = bits ? 16u * limits->max_gap : limits->max_gap;
            uint32_t new_end = s_end > end ? s_end : end;
            uint32_t gap = s->address > end ? s->address - end : 0;
            if (new_end - cur.address <= limit && gap <= max_gap) {
                end = new_end;
                cur.spans++;
                continue;
            }
        }
        if (i > 0) {
            if (blocks) {
                cur.count = (uint16_t)(end - cur.address);
                blocks[count] = cur;
            }
            count++;
        }
        cur = (struct mb_block){.area = s->area, .address = s->address, .first = i, .spans = 1};
        end = s_end;
    }
    if (n > 0) {
        if (blocks) {
            cur.count = (uint16_t)(end - cur.address);
            blocks[count] = cur;
        }
        count++;
    }
    return count;
}

/* Plans the reads; see mb_codec.h. out is overwritten (clear a previous
 * plan first) and is an empty plan after any error. Errors: BW_EINVAL
 * for a NULL argument, limits outside 1..125 registers, 1..2000 bits or
 * a gap above 124, a span of an unknown area, count 0 or past address
 * 65535; BW_ENOMEM. Borrows spans and limits; the plan owns its arrays. */
int mb_plan_build(const struct mb_span *spans, size_t n, const struct mb_plan_limits *limits,
                  struct mb_plan *out)
{
    if (!out)
        return BW_EINVAL;
    *out = (struct mb_plan){0};
    if (!limits || !limits_valid(limits) || (n > 0 && !spans))
        return BW_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!span_valid(&spans[i]))
            return BW_EINVAL;
    }
    if (n == 0)
        return BW_OK;

    struct plan_key *keys = bw_calloc(n, sizeof(*keys));
    size_t *order = bw_calloc(n, sizeof(*order));
    if (!keys || !order) {
        bw_free(keys);
        bw_free(order);
        return BW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        keys[i] = (struct plan_key){(uint32_t)spans[i].area << 16 | spans[i].address, i};
    qsort(keys, n, sizeof(*keys), plan_key_cmp);
    for (size_t i = 0; i < n; i++)
        order[i] = keys[i].index;
    bw_free(keys);

    size_t block_count = plan_pack(spans, order, n, limits, NULL);
    struct mb_block *blocks = bw_calloc(block_count, sizeof(*blocks));
    if (!blocks) {
        bw_free(order);
        return BW_ENOMEM;
    }
    plan_pack(spans, order, n, limits, blocks);
    *out = (struct mb_plan){
        .blocks = blocks, .block_count = block_count, .order = order, .span_count = n};
    return BW_OK;
}

/* Frees the plan's arrays and leaves it empty; accepts NULL and an empty
 * or already cleared plan. */
void mb_plan_clear(struct mb_plan *plan)
{
    if (!plan)
        return;
    bw_free(plan->blocks);
    bw_free(plan->order);
    *plan = (struct mb_plan){0};
}
