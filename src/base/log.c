/* SPDX-License-Identifier: Apache-2.0
 *
 * Operational log to standard error: one line per message with UTC time,
 * level and category. Lines are written with a single write() so that
 * lines from different threads never interleave. The audit trail is a
 * different channel with its own guarantees.
 */
#include "base/base.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static _Atomic int log_level = BW_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const category_names[BW_LOGC_COUNT_] = {
    "main", "engine", "driver", "project", "control", "security", "network", "audit", "store",
};

void bw_log_set_level(enum bw_log_level level)
{
    atomic_store(&log_level, (int)level);
}

enum bw_log_level bw_log_get_level(void)
{
    return (enum bw_log_level)atomic_load_explicit(&log_level, memory_order_relaxed);
}

void bw_log_write(enum bw_log_level level, enum bw_log_category cat, const char *fmt, ...)
{
    char line[1024];
    char when[BW_TIME_TEXT_MAX];
    unsigned lvl = (unsigned)level < BW_ARRAY_LEN(level_names) ? (unsigned)level : 0;
    unsigned c = (unsigned)cat < BW_LOGC_COUNT_ ? (unsigned)cat : 0;

    int head = snprintf(line, sizeof(line), "%s %-5s %-8s ",
                        bw_time_format_utc(bw_clock_realtime_us(), when), level_names[lvl],
                        category_names[c]);
    if (head < 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int body = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
    va_end(ap);
    if (body < 0)
        return;
    size_t len = (size_t)head + (size_t)body;
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2; /* truncated: keep the line */
    line[len++] = '\n';
    ssize_t unused = write(STDERR_FILENO, line, len);
    (void)unused; /* nowhere left to report a failing stderr */
}
