/* SPDX-License-Identifier: Apache-2.0
 *
 * store/capacity: retention, size caps, thresholds and free space of the
 * history (capacity.c), driven by the writer.
 */
#ifndef BW_STORE_CAPACITY_H
#define BW_STORE_CAPACITY_H

#include "store/sqlite_internal.h"

#define STORE_MAX_GROUPS 64u
#define STORE_MAX_WARN 4u

struct store_capacity {
    struct bw_store_group_policy groups[STORE_MAX_GROUPS];
    size_t group_count;
    uint8_t warn_percent[STORE_MAX_WARN];
    size_t warn_count;
    uint64_t min_free_bytes;
    char dir[4096]; /* where history.db lives: its file system is watched */
    bw_store_event_fn on_event;
    void *event_ctx;
    unsigned levels[STORE_MAX_GROUPS]; /* thresholds passed, per group */
    bool low_space;
};

/* One round: drops what retention and the caps ask (each drop its own
 * transaction, reported), reports thresholds passed and free space
 * running short or recovering, gives free pages back. now_us is the
 * wall clock (UTC us). */
BW_MUST_CHECK int store_capacity_check(struct sdb *db, struct store_capacity *c, int64_t now_us);

#endif
