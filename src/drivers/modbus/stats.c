/* SPDX-License-Identifier: Apache-2.0
 *
 * Round-trip statistics of one device: a histogram with four buckets per
 * power of two of microseconds (within 19 % of the true value), from
 * which the percentiles are read. Callers hold the driver's stats lock.
 */
#include "drivers/modbus/mb_driver.h"

static size_t bucket_of(uint64_t us)
{
    if (us < 4)
        return (size_t)us;
    unsigned log2 = 63u - (unsigned)__builtin_clzll(us);
    size_t sub = (size_t)((us >> (log2 - 2)) & 3u);
    size_t b = (size_t)log2 * 4 + sub - 4;
    return b < MB_LATENCY_BUCKETS ? b : MB_LATENCY_BUCKETS - 1;
}

/* The upper bound of bucket b, in microseconds. */
static uint64_t bucket_top(size_t b)
{
    if (b < 4)
        return b;
    size_t log2 = (b + 4) / 4, sub = (b + 4) % 4;
    return ((4u + sub + 1) << (log2 - 2)) - 1;
}

void mb_stats_latency(struct mb_stats *stats, int64_t us)
{
    if (us < 0)
        us = 0;
    stats->latency[bucket_of((uint64_t)us)]++;
    if ((uint64_t)us > stats->latency_max_us)
        stats->latency_max_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static uint32_t percentile(const struct mb_stats *stats, uint64_t total, unsigned pct)
{
    if (!total)
        return 0;
    uint64_t want = (total * pct + 99) / 100, seen = 0;
    for (size_t b = 0; b < MB_LATENCY_BUCKETS; b++) {
        seen += stats->latency[b];
        if (seen >= want) {
            uint64_t top = bucket_top(b);
            return top > stats->latency_max_us ? stats->latency_max_us : (uint32_t)top;
        }
    }
    return stats->latency_max_us;
}

void mb_stats_fill(const struct mb_stats *stats, struct bw_driver_status *out)
{
    out->state = stats->state;
    out->cycles = stats->cycles;
    out->updates = stats->updates;
    out->writes = stats->writes;
    out->queue_full = stats->queue_full;
    out->requests = stats->requests;
    out->registers = stats->registers;
    out->write_failures = stats->write_failures;
    out->connects = stats->connects;
    for (size_t k = 0; k < BW_DRIVER_ERR_COUNT_; k++)
        out->errors[k] = stats->errors[k];
    uint64_t total = 0;
    for (size_t b = 0; b < MB_LATENCY_BUCKETS; b++)
        total += stats->latency[b];
    out->latency_p50_us = percentile(stats, total, 50);
    out->latency_p90_us = percentile(stats, total, 90);
    out->latency_p99_us = percentile(stats, total, 99);
    out->latency_max_us = stats->latency_max_us;
    bw_strlcpy(out->last_error, stats->last_error, sizeof(out->last_error));
}
