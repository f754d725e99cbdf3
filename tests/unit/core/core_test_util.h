/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the core unit tests.
 */
#ifndef BW_TEST_CORE_UTIL_H
#define BW_TEST_CORE_UTIL_H

#include "core/core.h"

#include <time.h>

/* Waits up to 5 s for the engine to have applied at least n updates. */
static inline bool wait_applied(struct bw_core *core, uint64_t n)
{
    int64_t deadline = bw_clock_monotonic_us() + 5000000;
    struct bw_core_stats st;
    for (;;) {
        bw_core_stats_get(core, &st);
        if (st.updates_applied >= n)
            return true;
        if (bw_clock_monotonic_us() > deadline)
            return false;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static inline struct bw_tag_update float_update(uint32_t tag, double x, int64_t source_ts)
{
    struct bw_tag_update u = {.tag = tag,
                              .quality = BW_QUALITY_GOOD,
                              .reason = BW_REASON_NONE,
                              .source_ts_us = source_ts,
                              .value = {.type = BW_TYPE_FLOAT, .v.f = x}};
    return u;
}

#endif
