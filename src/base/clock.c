/* SPDX-License-Identifier: Apache-2.0
 *
 * The clock every module reads. Tests freeze and advance it; the daemon
 * reads CLOCK_REALTIME (UTC) and CLOCK_MONOTONIC.
 */
#include "base/base.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic bool fake_enabled;
static _Atomic int64_t fake_realtime_us;
static _Atomic int64_t fake_monotonic_us;

static int64_t clock_read_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bw_clock_realtime_us(void)
{
    if (atomic_load_explicit(&fake_enabled, memory_order_relaxed))
        return atomic_load(&fake_realtime_us);
    return clock_read_us(CLOCK_REALTIME);
}

int64_t bw_clock_monotonic_us(void)
{
    if (atomic_load_explicit(&fake_enabled, memory_order_relaxed))
        return atomic_load(&fake_monotonic_us);
    return clock_read_us(CLOCK_MONOTONIC);
}

void bw_clock_fake_set(int64_t realtime_us, int64_t monotonic_us)
{
    atomic_store(&fake_realtime_us, realtime_us);
    atomic_store(&fake_monotonic_us, monotonic_us);
    atomic_store(&fake_enabled, true);
}

void bw_clock_fake_advance(int64_t delta_us)
{
    atomic_fetch_add(&fake_realtime_us, delta_us);
    atomic_fetch_add(&fake_monotonic_us, delta_us);
}

void bw_clock_fake_disable(void)
{
    atomic_store(&fake_enabled, false);
}

char *bw_time_format_utc(int64_t realtime_us, char *out)
{
    int64_t secs = realtime_us / 1000000;
    int64_t micros = realtime_us % 1000000;
    if (micros < 0) {
        micros += 1000000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        bw_strlcpy(out, "invalid-time", BW_TIME_TEXT_MAX);
        return out;
    }
    char date[24];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    if (bw_snprintf(out, BW_TIME_TEXT_MAX, "%s.%06lldZ", date, (long long)micros) != BW_OK)
        bw_strlcpy(out, "invalid-time", BW_TIME_TEXT_MAX);
    return out;
}
