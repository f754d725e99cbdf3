/* SPDX-License-Identifier: Apache-2.0
 *
 * Capacity of the history (SR 2.9, 7.2): each log group keeps its days
 * for its retention and within its size cap, oldest partitions dropped
 * first (whole days, never rows); crossing a warning threshold of the
 * cap, and the file system running short of free space, are events.
 * Runs on the writer's thread, between batches.
 */
#include "store/capacity.h"

#include <string.h>
#include <sys/statvfs.h>

static void emit(const struct store_capacity *c, const struct bw_store_event *ev)
{
    if (c->on_event)
        c->on_event(c->event_ctx, ev);
}

static int64_t day_of(int64_t us)
{
    int64_t q = us / SDB_DAY_US;
    return us % SDB_DAY_US != 0 && us < 0 ? q - 1 : q;
}

static int drop(struct sdb *db, const struct store_capacity *c, uint32_t grp, int64_t day,
                const char *why)
{
    int rc = sdb_begin(db);
    if (!rc)
        rc = sdb_partition_drop(db, grp, day);
    if (!rc)
        rc = sdb_commit(db);
    if (rc) {
        sdb_rollback(db);
        return rc;
    }
    struct bw_store_event ev = {
        .kind = BW_STORE_EV_PARTITION_DROPPED, .group = grp, .day = day, .reason = why};
    emit(c, &ev);
    return BW_OK;
}

/* Retention, then the cap, then the thresholds, for one group. */
static int check_group(struct sdb *db, struct store_capacity *c, uint32_t grp, int64_t today)
{
    const struct bw_store_group_policy *g = &c->groups[grp];
    int64_t *days = NULL;
    size_t n = 0;
    int rc = sdb_partitions_of(db, grp, &days, &n);
    size_t first = 0;
    /* Keep retention_days days, today included. */
    while (!rc && first < n && g->retention_days &&
           days[first] <= today - (int64_t)g->retention_days)
        rc = drop(db, c, grp, days[first++], "retention");
    uint64_t total = 0, *sizes = NULL;
    if (!rc && g->max_bytes) {
        sizes = bw_calloc(n ? n : 1, sizeof(*sizes));
        rc = sizes ? BW_OK : BW_ENOMEM;
        for (size_t i = first; !rc && i < n; i++) {
            rc = sdb_partition_bytes(db, grp, days[i], &sizes[i]);
            total += sizes[i];
        }
        /* Over the cap: the oldest days go, never the newest one. */
        while (!rc && total > g->max_bytes && first + 1 < n) {
            rc = drop(db, c, grp, days[first], "size cap");
            total -= sizes[first++];
        }
    }
    if (!rc && g->max_bytes) {
        unsigned percent = (unsigned)(total * 100 / g->max_bytes);
        unsigned level = 0; /* thresholds passed */
        while (level < c->warn_count && percent >= c->warn_percent[level])
            level++;
        if (level > c->levels[grp]) {
            struct bw_store_event ev = {.kind = BW_STORE_EV_CAPACITY,
                                        .group = grp,
                                        .percent = percent,
                                        .bytes = total,
                                        .limit = g->max_bytes,
                                        .reason = "size cap"};
            emit(c, &ev);
        }
        c->levels[grp] = level;
    }
    bw_free(sizes);
    bw_free(days);
    return rc;
}

int store_capacity_check(struct sdb *db, struct store_capacity *c, int64_t now_us)
{
    int64_t today = day_of(now_us);
    int rc = BW_OK;
    for (uint32_t g = 0; !rc && g < c->group_count; g++)
        rc = check_group(db, c, g, today);
    struct statvfs vfs;
    if (c->min_free_bytes && c->dir[0] && statvfs(c->dir, &vfs) == 0) {
        uint64_t avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
        bool low = avail < c->min_free_bytes;
        if (low != c->low_space) {
            struct bw_store_event ev = {.kind = low ? BW_STORE_EV_LOW_SPACE
                                                    : BW_STORE_EV_SPACE_RECOVERED,
                                        .bytes = avail,
                                        .limit = c->min_free_bytes,
                                        .reason = "free space of the file system"};
            emit(c, &ev);
        }
        c->low_space = low;
    }
    if (!rc && sdb_vacuum(db) != BW_OK)
        rc = BW_EIO;
    return rc;
}
