/* SPDX-License-Identifier: Apache-2.0
 *
 * The Modbus TCP driver's life cycle: binding the device's tags, planning
 * the reads of each scan class, the worker thread's schedule, and the
 * fail-safe values at shutdown. create/start/stop/destroy run on the
 * daemon's main thread, status and failsafe on any thread.
 */
#include "drivers/modbus/mb_driver.h"

#include <errno.h>
#include <string.h>
#include <time.h>

void mb_event(struct mb_driver *d, enum bw_driver_event_kind kind, const struct mb_tag *t,
              const char *detail, const struct bw_value *value)
{
    if (!d->on_event)
        return;
    struct bw_driver_event ev = {
        .kind = kind,
        .device = d->device->name,
        .tag = t ? t->def->name : NULL,
        .detail = detail ? detail : "",
        .value = value,
    };
    d->on_event(d->event_ctx, &ev);
}

static void scan_buffers_free(struct mb_scan *scan)
{
    mb_plan_clear(&scan->plan);
    bw_free(scan->cache);
    bw_free(scan->cache_at);
    bw_free(scan->cache_valid);
    bw_free(scan->pending);
    bw_free(scan->tries);
    scan->cache = NULL;
    scan->cache_at = NULL;
    scan->cache_valid = NULL;
    scan->pending = NULL;
    scan->tries = NULL;
}

int mb_scan_plan(struct mb_driver *d, struct mb_scan *scan, uint32_t max_gap)
{
    struct mb_span *spans = bw_calloc(scan->tag_count ? scan->tag_count : 1, sizeof(*spans));
    if (!spans)
        return BW_ENOMEM;
    for (size_t i = 0; i < scan->tag_count; i++) {
        const struct bw_project_modbus_map *m = &d->tags[scan->tags[i]].def->modbus;
        spans[i] = (struct mb_span){.area = m->area, .address = m->address, .count = m->count};
    }
    struct mb_plan_limits limits = {
        .max_registers = d->cfg->max_registers,
        .max_bits = d->cfg->max_bits,
        .max_gap = max_gap,
    };
    struct mb_plan plan = {0};
    int rc = mb_plan_build(spans, scan->tag_count, &limits, &plan);
    bw_free(spans);
    if (rc)
        return rc;
    scan_buffers_free(scan);
    scan->plan = plan;
    size_t nb = plan.block_count, words = 0;
    scan->cache_at = bw_calloc(nb ? nb : 1, sizeof(*scan->cache_at));
    scan->cache_valid = bw_calloc(nb ? nb : 1, sizeof(*scan->cache_valid));
    scan->pending = bw_calloc(nb + 16, sizeof(*scan->pending));
    scan->tries = bw_calloc(nb ? nb : 1, sizeof(*scan->tries));
    for (size_t b = 0; scan->cache_at && b < nb; b++) {
        scan->cache_at[b] = words;
        words += plan.blocks[b].count;
    }
    scan->cache = bw_calloc(words ? words : 1, sizeof(*scan->cache));
    if (!scan->cache || !scan->cache_at || !scan->cache_valid || !scan->pending || !scan->tries) {
        scan_buffers_free(scan);
        return BW_ENOMEM;
    }
    scan->gaps_bridged = max_gap > 0;
    scan->replan = false;
    return BW_OK;
}

static void driver_free(struct mb_driver *d)
{
    if (!d)
        return;
    for (size_t s = 0; s < d->scan_count; s++) {
        scan_buffers_free(&d->scans[s]);
        bw_free(d->scans[s].tags);
    }
    bw_free(d->scans);
    bw_free(d->tags);
    bw_free(d->failsafe_tags);
    pthread_mutex_destroy(&d->lock);
    pthread_mutex_destroy(&d->stats_lock);
    pthread_cond_destroy(&d->wake);
    pthread_cond_destroy(&d->done);
    bw_free(d);
}

static int sync_init(struct mb_driver *d)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return BW_ENOMEM;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(&d->wake, &attr);
    if (!rc) {
        rc = pthread_cond_init(&d->done, &attr);
        if (rc)
            pthread_cond_destroy(&d->wake);
    }
    pthread_condattr_destroy(&attr);
    if (rc)
        return BW_ENOMEM;
    if (pthread_mutex_init(&d->lock, NULL) != 0 || pthread_mutex_init(&d->stats_lock, NULL) != 0)
        return BW_ENOMEM;
    return BW_OK;
}

/* Groups the device's tags by scan class and plans each group. */
static int bind_tags(struct mb_driver *d, size_t device)
{
    const struct bw_project *p = d->project;
    size_t n = 0;
    for (size_t i = 0; i < p->tag_count; i++)
        n += p->tags[i].device == device;
    d->tags = bw_calloc(n ? n : 1, sizeof(*d->tags));
    d->scans = bw_calloc(p->scan_class_count ? p->scan_class_count : 1, sizeof(*d->scans));
    if (!d->tags || !d->scans)
        return BW_ENOMEM;
    size_t *scan_of_class =
        bw_calloc(p->scan_class_count ? p->scan_class_count : 1, sizeof(*scan_of_class));
    if (!scan_of_class)
        return BW_ENOMEM;
    for (size_t c = 0; c < p->scan_class_count; c++)
        scan_of_class[c] = SIZE_MAX;
    int rc = BW_OK;
    for (size_t i = 0; !rc && i < p->tag_count; i++) {
        const struct bw_project_tag *pt = &p->tags[i];
        if (pt->device != device)
            continue;
        struct mb_tag *t = &d->tags[d->tag_count];
        t->driver = d;
        t->def = pt;
        rc = bw_core_tag_find(d->core, pt->name, &t->id);
        if (rc) {
            rc = BW_EINVAL;
            break;
        }
        if (scan_of_class[pt->scan_class] == SIZE_MAX) {
            scan_of_class[pt->scan_class] = d->scan_count;
            d->scans[d->scan_count++].period_ms = p->scan_classes[pt->scan_class].period_ms;
        }
        t->scan = scan_of_class[pt->scan_class];
        d->scans[t->scan].tag_count++;
        d->tag_count++;
    }
    bw_free(scan_of_class);
    for (size_t s = 0; !rc && s < d->scan_count; s++) {
        d->scans[s].tags = bw_calloc(d->scans[s].tag_count, sizeof(size_t));
        if (!d->scans[s].tags)
            rc = BW_ENOMEM;
        d->scans[s].tag_count = 0;
    }
    for (size_t i = 0; !rc && i < d->tag_count; i++) {
        struct mb_scan *scan = &d->scans[d->tags[i].scan];
        scan->tags[scan->tag_count++] = i;
    }
    for (size_t s = 0; !rc && s < d->scan_count; s++)
        rc = mb_scan_plan(d, &d->scans[s], d->cfg->max_gap);
    d->failsafe_tags = bw_calloc(d->tag_count ? d->tag_count : 1, sizeof(size_t));
    if (!rc && !d->failsafe_tags)
        rc = BW_ENOMEM;
    for (size_t i = 0; !rc && i < d->tag_count; i++)
        if (d->tags[i].def->failsafe.events)
            d->failsafe_tags[d->failsafe_count++] = i;
    /* Writers last: the core cannot forget a writer. */
    for (size_t i = 0; !rc && i < d->tag_count; i++)
        if (d->tags[i].def->access.writable)
            rc = bw_core_tag_set_writer(d->core, d->tags[i].id, mb_write_entry, &d->tags[i]);
    return rc;
}

static int mb_create(const struct bw_project *project, size_t device, struct bw_core *core,
                     void **impl)
{
    *impl = NULL;
    struct mb_driver *d = bw_calloc(1, sizeof(*d));
    if (!d)
        return BW_ENOMEM;
    d->project = project;
    d->device = &project->devices[device];
    d->cfg = &d->device->modbus;
    d->core = core;
    d->link.fd = -1;
    d->backoff_ms = d->cfg->backoff_min_ms;
    d->stats.state = BW_DRIVER_STOPPED;
    int rc = sync_init(d);
    if (!rc)
        rc = bind_tags(d, device);
    if (rc) {
        driver_free(d);
        return rc;
    }
    *impl = d;
    return BW_OK;
}

static bool stopping(struct mb_driver *d)
{
    pthread_mutex_lock(&d->lock);
    bool s = d->stopping;
    pthread_mutex_unlock(&d->lock);
    return s;
}

/* Sleeps until due_us (monotonic) or until a write or stop arrives. */
static void sleep_until(struct mb_driver *d, int64_t due_us)
{
    struct timespec ts = {.tv_sec = (time_t)(due_us / 1000000),
                          .tv_nsec = (long)(due_us % 1000000) * 1000L};
    pthread_mutex_lock(&d->lock);
    while (!d->stopping && d->queue_len == 0 && d->failsafe_events == 0) {
        if (pthread_cond_timedwait(&d->wake, &d->lock, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&d->lock);
}

static void run_writes(struct mb_driver *d)
{
    if (mb_poll_connect(d)) {
        mb_writes_run(d);
        return;
    }
    char why[96];
    if (bw_snprintf(why, sizeof(why), "device %s is not connected", d->device->name) != BW_OK)
        bw_strlcpy(why, "the device is not connected", sizeof(why));
    mb_writes_fail_all(d, why);
}

/* At shutdown, outputs with a "shutdown" fail-safe get their value, with
 * one connection attempt and the device's retries. */
static void shutdown_failsafe(struct mb_driver *d)
{
    bool any = false;
    for (size_t k = 0; k < d->failsafe_count; k++)
        any = any || (d->tags[d->failsafe_tags[k]].def->failsafe.events & BW_FAILSAFE_SHUTDOWN);
    if (!any)
        return;
    mb_failsafe_raise(d, BW_FAILSAFE_SHUTDOWN, "the daemon stops");
    d->reconnect_at_us = 0;
    if (mb_poll_connect(d))
        mb_writes_run(d);
    for (size_t k = 0; k < d->failsafe_count; k++)
        if (d->tags[d->failsafe_tags[k]].failsafe_pending & BW_FAILSAFE_SHUTDOWN)
            bw_log(BW_LOG_ERROR, BW_LOGC_DRIVER,
                   "device %s: tag %s: the shutdown fail-safe value was not confirmed",
                   d->device->name, d->tags[d->failsafe_tags[k]].def->name);
}

static void *worker(void *arg)
{
    struct mb_driver *d = arg;
    int64_t now = bw_clock_monotonic_us();
    for (size_t s = 0; s < d->scan_count; s++)
        d->scans[s].next_due_us = now;
    while (!stopping(d)) {
        now = bw_clock_monotonic_us();
        mb_failsafe_take_raised(d);
        mb_failsafe_comm_check(d, now);
        if (mb_writes_waiting(d))
            run_writes(d);
        struct mb_scan *next = NULL;
        for (size_t s = 0; s < d->scan_count; s++)
            if (!next || d->scans[s].next_due_us < next->next_due_us)
                next = &d->scans[s];
        if (!next) {
            sleep_until(d, now + 1000000);
            continue;
        }
        if (next->next_due_us > now) {
            sleep_until(d, next->next_due_us);
            continue;
        }
        mb_poll_cycle(d, next);
        if (next->replan) {
            bw_log(BW_LOG_WARN, BW_LOGC_DRIVER,
                   "device %s: an address between tags does not exist; reading without "
                   "bridging gaps",
                   d->device->name);
            if (mb_scan_plan(d, next, 0) != BW_OK)
                next->replan = false;
        }
        /* The next cycle is due a period after this one was; a cycle
         * that overran starts the next at once, without a burst. */
        next->next_due_us += (int64_t)next->period_ms * 1000;
        now = bw_clock_monotonic_us();
        if (next->next_due_us < now)
            next->next_due_us = now;
    }
    /* Operator writes still queued must not follow (and undo) the
     * shutdown fail-safe values. */
    char why[96];
    if (bw_snprintf(why, sizeof(why), "device %s is no longer served", d->device->name) != BW_OK)
        bw_strlcpy(why, "the device is no longer served", sizeof(why));
    mb_writes_fail_all(d, why);
    d->failsafe_hold = false;
    shutdown_failsafe(d);
    mb_link_close(&d->link);
    pthread_mutex_lock(&d->stats_lock);
    d->stats.state = BW_DRIVER_STOPPED;
    pthread_mutex_unlock(&d->stats_lock);
    return NULL;
}

static int mb_start(void *impl)
{
    struct mb_driver *d = impl;
    pthread_mutex_lock(&d->lock);
    if (d->running) {
        pthread_mutex_unlock(&d->lock);
        return BW_ESTATE;
    }
    d->stopping = false;
    d->running = true;
    pthread_mutex_unlock(&d->lock);
    if (pthread_create(&d->thread, NULL, worker, d) != 0) {
        pthread_mutex_lock(&d->lock);
        d->running = false;
        pthread_mutex_unlock(&d->lock);
        return BW_EIO;
    }
    return BW_OK;
}

static void mb_request_stop(void *impl)
{
    struct mb_driver *d = impl;
    pthread_mutex_lock(&d->lock);
    d->stopping = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

static void mb_stop(void *impl)
{
    struct mb_driver *d = impl;
    pthread_mutex_lock(&d->lock);
    bool was = d->running;
    d->stopping = true;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
    if (!was)
        return;
    pthread_join(d->thread, NULL);
    pthread_mutex_lock(&d->lock);
    d->running = false;
    pthread_mutex_unlock(&d->lock);
}

static void mb_destroy(void *impl)
{
    struct mb_driver *d = impl;
    mb_stop(d);
    driver_free(d);
}

static void mb_status(const void *impl, struct bw_driver_status *out)
{
    struct mb_driver *d = (struct mb_driver *)impl;
    pthread_mutex_lock(&d->stats_lock);
    mb_stats_fill(&d->stats, out);
    pthread_mutex_unlock(&d->stats_lock);
}

static void mb_set_events(void *impl, bw_driver_event_fn fn, void *ctx)
{
    struct mb_driver *d = impl;
    d->on_event = fn;
    d->event_ctx = ctx;
}

static void mb_failsafe(void *impl, enum bw_failsafe_event event)
{
    struct mb_driver *d = impl;
    pthread_mutex_lock(&d->lock);
    d->failsafe_events |= (uint32_t)event;
    pthread_cond_signal(&d->wake);
    pthread_mutex_unlock(&d->lock);
}

const struct bw_driver_ops bw_driver_modbus_ops = {
    .name = "modbus",
    .create = mb_create,
    .start = mb_start,
    .stop = mb_stop,
    .destroy = mb_destroy,
    .status = mb_status,
    .set_events = mb_set_events,
    .failsafe = mb_failsafe,
    .request_stop = mb_request_stop,
};
