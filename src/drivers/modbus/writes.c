/* SPDX-License-Identifier: Apache-2.0
 *
 * Writing: operator writes arrive on interface threads (the core's one
 * write path, after validation), wait in a bounded queue and are carried
 * out by the device's worker between reads on an idle connection; the
 * caller waits for the device's answer (and its read-back) within a
 * bound, so the result it audits is the device's. Fail-safe values
 * (SR 3.6) go the same way, first, and are retried every cycle until the
 * device confirms them.
 */
#include "drivers/modbus/mb_driver.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static const char *area_name(enum bw_modbus_area area)
{
    switch (area) {
    case BW_MODBUS_COIL:
        return "coil";
    case BW_MODBUS_DISCRETE_INPUT:
        return "discrete";
    case BW_MODBUS_HOLDING_REGISTER:
        return "holding";
    case BW_MODBUS_INPUT_REGISTER:
        return "input";
    }
    return "?";
}

/* One request on an idle link, retried on a new connection after
 * anything but an answer. */
static enum mb_outcome transact(struct mb_driver *d, struct mb_request *req, uint8_t *adu,
                                const uint8_t **data, size_t *data_len, uint8_t *exception)
{
    enum mb_outcome o = MB_BROKEN;
    for (uint32_t attempt = 0; attempt <= d->cfg->retries; attempt++) {
        if (!mb_poll_connect(d))
            return MB_BROKEN;
        req->sent_us = bw_clock_monotonic_us();
        req->deadline_us = req->sent_us + (int64_t)d->cfg->timeout_ms * 1000;
        pthread_mutex_lock(&d->stats_lock);
        d->stats.requests++;
        pthread_mutex_unlock(&d->stats_lock);
        size_t len = 0;
        if (mb_link_send(&d->link, req) != BW_OK)
            o = MB_BROKEN;
        else
            o = mb_link_receive(&d->link, req->deadline_us, adu, &len);
        if (o == MB_OK && mb_answer_tid(adu) != req->tid)
            o = MB_TRANSACTION;
        if (o == MB_OK)
            o = mb_answer_check(req, d->link.unit, adu, len, data, data_len, exception);
        if (o == MB_OK || o == MB_EXCEPTION) {
            pthread_mutex_lock(&d->stats_lock);
            mb_stats_latency(&d->stats, bw_clock_monotonic_us() - req->sent_us);
            pthread_mutex_unlock(&d->stats_lock);
            return o;
        }
        enum bw_driver_error_kind kind = o == MB_TIMEOUT       ? BW_DRIVER_ERR_TIMEOUT
                                         : o == MB_TRANSACTION ? BW_DRIVER_ERR_TRANSACTION
                                         : o == MB_UNIT        ? BW_DRIVER_ERR_UNIT
                                         : o == MB_MALFORMED   ? BW_DRIVER_ERR_MALFORMED
                                                               : BW_DRIVER_ERR_CONNECTION;
        mb_note_error(d, kind, "%s on a write", bw_driver_error_name(kind));
        mb_link_close(&d->link);
        d->reconnect_at_us = 0; /* a retry needs a connection now */
    }
    /* Every try failed: the next connection waits for the backoff, so a
     * device that breaks on writes cannot keep the worker reconnecting. */
    d->reconnect_at_us = bw_clock_monotonic_us() + (int64_t)d->backoff_ms * 1000;
    return o;
}

static void fail(char *msg, size_t size, const char *fmt, ...) BW_PRINTF(3, 4);

static void fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';
}

/* Builds the write request for a value; BW_ERANGE with msg when the
 * value does not fit the registers. */
static int build_write(const struct bw_project_modbus_map *map, const struct bw_value *value,
                       struct mb_request *req, char *msg, size_t size)
{
    uint16_t regs[MB_MAX_TAG_REGISTERS];
    uint8_t bit = 0;
    enum mb_codec_result r = mb_encode(map, value, regs, &bit);
    if (r != MB_CODEC_OK) {
        fail(msg, size, "%s", mb_codec_result_text(r));
        return BW_ERANGE;
    }
    uint8_t *p = req->pdu;
    if (map->area == BW_MODBUS_COIL) {
        p[0] = 0x05;
        put16(p + 1, map->address);
        put16(p + 3, bit ? 0xFF00 : 0x0000);
        req->pdu_len = 5;
    } else if (map->bit >= 0) {
        /* Mask write: the device changes one bit atomically, where a
         * read-modify-write could undo a change made in between. The bit
         * number counts in the register after byte order. */
        unsigned wire_bit = map->byte_swap ? (unsigned)map->bit ^ 8u : (unsigned)map->bit;
        uint16_t mask = (uint16_t)(1u << wire_bit);
        p[0] = 0x16;
        put16(p + 1, map->address);
        put16(p + 3, (uint16_t)~mask);
        put16(p + 5, bit ? mask : 0);
        req->pdu_len = 7;
    } else if (map->count == 1) {
        p[0] = 0x06;
        put16(p + 1, map->address);
        put16(p + 3, regs[0]);
        req->pdu_len = 5;
    } else {
        /* Function 16 carries at most 123 registers (the loader keeps
         * writable maps within it). */
        if (map->count > 123) {
            fail(msg, size, "the value spans %u registers; one write carries at most 123",
                 map->count);
            return BW_ERANGE;
        }
        p[0] = 0x10;
        put16(p + 1, map->address);
        put16(p + 3, map->count);
        p[5] = (uint8_t)(map->count * 2);
        for (size_t i = 0; i < map->count; i++)
            put16(p + 6 + 2 * i, regs[i]);
        req->pdu_len = 6 + 2 * (size_t)map->count;
    }
    return BW_OK;
}

static bool same_value(const struct bw_value *a, const struct bw_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case BW_TYPE_BOOL:
        return a->v.b == b->v.b;
    case BW_TYPE_INT:
        return a->v.i == b->v.i;
    case BW_TYPE_FLOAT:
        return a->v.f == b->v.f;
    case BW_TYPE_STRING:
        return a->len == b->len && memcmp(a->v.s, b->v.s, a->len) == 0;
    }
    return false;
}

/* Writes value to tag t and, when the device allows, reads it back.
 * BW_OK or an error with msg for the operator. */
static int write_tag(struct mb_driver *d, struct mb_tag *t, const struct bw_value *value, char *msg,
                     size_t size)
{
    const struct bw_project_modbus_map *map = &t->def->modbus;
    struct mb_request req;
    int rc = build_write(map, value, &req, msg, size);
    if (rc)
        return rc;
    uint8_t adu[MB_ADU_MAX];
    const uint8_t *data;
    size_t data_len;
    uint8_t exception = 0;
    enum mb_outcome o = transact(d, &req, adu, &data, &data_len, &exception);
    if (o == MB_EXCEPTION) {
        fail(msg, size, "device %s refused the write to %s:%u: exception %u (%s)", d->device->name,
             area_name(map->area), map->address, exception, mb_exception_text(exception));
        mb_note_error(d, BW_DRIVER_ERR_EXCEPTION, "%s", msg);
        return BW_EIO;
    }
    if (o != MB_OK) {
        fail(msg, size, "device %s did not confirm the write to %s:%u (%s)", d->device->name,
             area_name(map->area), map->address,
             mb_link_is_open(&d->link) ? "communication error" : "not connected");
        return BW_EIO;
    }
    struct bw_value confirmed = *value;
    char text[2 * MB_MAX_TAG_REGISTERS + 1];
    if (d->cfg->read_back) {
        mb_pdu_read(&req, map->area, map->address, map->count);
        o = transact(d, &req, adu, &data, &data_len, &exception);
        if (o != MB_OK) {
            fail(msg, size, "device %s took the write to %s:%u but did not answer its read-back",
                 d->device->name, area_name(map->area), map->address);
            mb_note_error(d, BW_DRIVER_ERR_READ_BACK, "%s", msg);
            return BW_EIO;
        }
        uint16_t regs[MB_MAX_TAG_REGISTERS];
        uint8_t bit = (uint8_t)(data[0] & 1u);
        for (size_t i = 0; map->area != BW_MODBUS_COIL && i < map->count; i++)
            regs[i] = (uint16_t)(data[2 * i] << 8 | data[2 * i + 1]);
        enum mb_codec_result r =
            mb_decode(map, t->def->type, regs, &bit, &confirmed, text, sizeof(text));
        /* A device may round (a float32 register holds fewer digits than
         * the tag): compare what the device holds with what the same
         * value encodes to, not with the value itself. */
        uint16_t want[MB_MAX_TAG_REGISTERS];
        uint8_t want_bit = 0;
        bool match = r == MB_CODEC_OK && mb_encode(map, value, want, &want_bit) == MB_CODEC_OK;
        if (match && (map->area == BW_MODBUS_COIL || map->bit >= 0))
            match = want_bit == (map->area == BW_MODBUS_COIL ? bit : (uint8_t)confirmed.v.b);
        else if (match)
            match = memcmp(want, regs, map->count * sizeof(uint16_t)) == 0 ||
                    same_value(&confirmed, value);
        if (!match) {
            fail(msg, size, "device %s did not keep the value written to %s:%u (read-back differs)",
                 d->device->name, area_name(map->area), map->address);
            mb_note_error(d, BW_DRIVER_ERR_READ_BACK, "%s", msg);
            return BW_EIO;
        }
    }
    struct bw_tag_update u = {.tag = t->id,
                              .quality = BW_QUALITY_GOOD,
                              .reason = BW_REASON_NONE,
                              .source_ts_us = bw_clock_realtime_us(),
                              .value = confirmed};
    /* The next poll hands the tag to the engine again whatever its
     * registers say: the device may have gone back to its old words
     * (a self-clearing command bit, its own logic). */
    if (!mb_push(d, t, &u))
        bw_log(BW_LOG_DEBUG, BW_LOGC_DRIVER, "tag %s: the engine is behind; the next poll sends it",
               t->def->name);
    t->pushed = false;
    return BW_OK;
}

static void count_write(struct mb_driver *d, int rc)
{
    pthread_mutex_lock(&d->stats_lock);
    if (rc)
        d->stats.write_failures++;
    else
        d->stats.writes++;
    pthread_mutex_unlock(&d->stats_lock);
}

static const char *event_name(enum bw_failsafe_event event)
{
    switch (event) {
    case BW_FAILSAFE_COMM_LOSS:
        return "communication loss";
    case BW_FAILSAFE_SHUTDOWN:
        return "shutdown";
    case BW_FAILSAFE_INTEGRITY_VIOLATION:
        return "integrity violation";
    case BW_FAILSAFE_ISLAND_MODE:
        return "island mode";
    }
    return "?";
}

void mb_failsafe_raise(struct mb_driver *d, enum bw_failsafe_event event, const char *why)
{
    for (size_t k = 0; k < d->failsafe_count; k++) {
        struct mb_tag *t = &d->tags[d->failsafe_tags[k]];
        if (!(t->def->failsafe.events & (uint32_t)event))
            continue;
        t->failsafe_pending |= (uint32_t)event;
        char detail[160];
        fail(detail, sizeof(detail), "%s%s%s", event_name(event), why[0] ? ": " : "", why);
        bw_log(BW_LOG_WARN, BW_LOGC_DRIVER, "device %s: tag %s goes to its fail-safe value (%s)",
               d->device->name, t->def->name, detail);
        mb_event(d, BW_DRIVER_EV_FAILSAFE_TRIGGERED, t, detail, &t->def->failsafe.value);
    }
}

void mb_failsafe_comm_check(struct mb_driver *d, int64_t now_us)
{
    if (!d->failed_since_us)
        return;
    for (size_t k = 0; k < d->failsafe_count; k++) {
        struct mb_tag *t = &d->tags[d->failsafe_tags[k]];
        const struct bw_project_failsafe *fs = &t->def->failsafe;
        if (!(fs->events & BW_FAILSAFE_COMM_LOSS) || t->comm_loss_fired ||
            now_us - d->failed_since_us < (int64_t)fs->comm_loss_ms * 1000)
            continue;
        t->comm_loss_fired = true;
        t->failsafe_pending |= BW_FAILSAFE_COMM_LOSS;
        char detail[96];
        fail(detail, sizeof(detail), "communication loss for more than %u ms", fs->comm_loss_ms);
        bw_log(BW_LOG_WARN, BW_LOGC_DRIVER, "device %s: tag %s goes to its fail-safe value (%s)",
               d->device->name, t->def->name, detail);
        mb_event(d, BW_DRIVER_EV_FAILSAFE_TRIGGERED, t, detail, &fs->value);
    }
}

bool mb_writes_waiting(struct mb_driver *d)
{
    pthread_mutex_lock(&d->lock);
    bool waiting = d->queue_len > 0;
    pthread_mutex_unlock(&d->lock);
    if (d->failsafe_hold)
        return waiting;
    for (size_t k = 0; !waiting && k < d->failsafe_count; k++)
        waiting = d->tags[d->failsafe_tags[k]].failsafe_pending != 0;
    return waiting;
}

static void finish(struct mb_driver *d, struct mb_write *w, int rc, const char *msg)
{
    pthread_mutex_lock(&d->lock);
    w->rc = rc;
    bw_strlcpy(w->message, msg, sizeof(w->message));
    w->done = true;
    bool abandoned = w->abandoned;
    pthread_cond_broadcast(&d->done);
    pthread_mutex_unlock(&d->lock);
    if (abandoned)
        bw_free(w);
}

void mb_failsafe_take_raised(struct mb_driver *d)
{
    pthread_mutex_lock(&d->lock);
    uint32_t raised = d->failsafe_events;
    d->failsafe_events = 0;
    pthread_mutex_unlock(&d->lock);
    for (uint32_t bit = 1; bit <= BW_FAILSAFE_ISLAND_MODE; bit <<= 1)
        if (raised & bit)
            mb_failsafe_raise(d, (enum bw_failsafe_event)bit, "");
}

void mb_writes_run(struct mb_driver *d)
{
    /* Fail-safe values first: they are what the plant must reach. One
     * that fails is tried again after the next read cycle, so reads go
     * on meanwhile. */
    bool failsafe_due = !d->failsafe_hold;
    for (size_t k = 0; failsafe_due && k < d->failsafe_count && mb_link_is_open(&d->link); k++) {
        struct mb_tag *t = &d->tags[d->failsafe_tags[k]];
        if (!t->failsafe_pending)
            continue;
        char msg[200] = "";
        int rc = write_tag(d, t, &t->def->failsafe.value, msg, sizeof(msg));
        count_write(d, rc);
        if (rc) {
            bw_log(BW_LOG_WARN, BW_LOGC_DRIVER, "tag %s: fail-safe write not confirmed yet: %s",
                   t->def->name, msg);
            d->failsafe_hold = true;
            continue;
        }
        t->failsafe_pending = 0;
        mb_event(d, BW_DRIVER_EV_FAILSAFE_WRITTEN, t, "confirmed by the device",
                 &t->def->failsafe.value);
    }

    for (;;) {
        pthread_mutex_lock(&d->lock);
        struct mb_write *w = d->queue_len ? d->queue[0] : NULL;
        if (w) {
            d->queue_len--;
            memmove(&d->queue[0], &d->queue[1], d->queue_len * sizeof(d->queue[0]));
        }
        pthread_mutex_unlock(&d->lock);
        if (!w)
            break;
        char msg[200] = "";
        int rc = mb_link_is_open(&d->link) || mb_poll_connect(d)
                     ? write_tag(d, &d->tags[w->tag], &w->value, msg, sizeof(msg))
                     : BW_EIO;
        if (rc == BW_EIO && !msg[0])
            fail(msg, sizeof(msg), "device %s is not connected", d->device->name);
        count_write(d, rc);
        finish(d, w, rc, msg);
    }
}

/* Fails every queued write (the device cannot be reached or the driver
 * stops). */
void mb_writes_fail_all(struct mb_driver *d, const char *why)
{
    for (;;) {
        pthread_mutex_lock(&d->lock);
        struct mb_write *w = d->queue_len ? d->queue[--d->queue_len] : NULL;
        pthread_mutex_unlock(&d->lock);
        if (!w)
            return;
        count_write(d, BW_EIO);
        finish(d, w, BW_EIO, why);
    }
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int mb_write_entry(void *ctx, uint32_t tag, const struct bw_value *value,
                   struct bw_write_error *err)
{
    struct mb_tag *t = ctx;
    struct mb_driver *d = t->driver;
    (void)tag;
    struct mb_write *w = bw_calloc(1, sizeof(*w));
    if (!w)
        return BW_ENOMEM;
    w->tag = (size_t)(t - d->tags);
    w->value = *value;
    if (value->type == BW_TYPE_STRING) {
        size_t n = value->len < BW_TAG_STRING_MAX ? value->len : BW_TAG_STRING_MAX;
        memcpy(w->text, value->v.s, n);
        w->value.v.s = w->text;
        w->value.len = n;
    }
    /* The longest a device can take: the write and its read-back, each
     * with its retries, behind a read cycle that is giving up. */
    int64_t budget_ms = (int64_t)d->cfg->timeout_ms * (d->cfg->retries + 1) * 3 + 1000;
    struct timespec until;
    deadline_after(&until, budget_ms);

    pthread_mutex_lock(&d->lock);
    if (!d->running || d->stopping) {
        pthread_mutex_unlock(&d->lock);
        bw_free(w);
        fail(err->message, sizeof(err->message), "device %s is not in service", d->device->name);
        return BW_ESTATE;
    }
    if (d->queue_len == MB_WRITE_QUEUE) {
        pthread_mutex_unlock(&d->lock);
        bw_free(w);
        fail(err->message, sizeof(err->message), "device %s has too many writes waiting",
             d->device->name);
        return BW_EFULL;
    }
    d->queue[d->queue_len++] = w;
    pthread_cond_signal(&d->wake);
    while (!w->done) {
        if (pthread_cond_timedwait(&d->done, &d->lock, &until) == ETIMEDOUT && !w->done)
            break;
    }
    if (!w->done) {
        /* Still queued: take it back, so nothing happens after the
         * caller was told it did not. Otherwise the worker has it and
         * frees it when done. */
        size_t i = 0;
        while (i < d->queue_len && d->queue[i] != w)
            i++;
        bool queued = i < d->queue_len;
        if (queued) {
            d->queue_len--;
            memmove(&d->queue[i], &d->queue[i + 1], (d->queue_len - i) * sizeof(d->queue[0]));
        } else {
            w->abandoned = true;
        }
        pthread_mutex_unlock(&d->lock);
        if (queued)
            bw_free(w);
        fail(err->message, sizeof(err->message),
             queued ? "device %s did not take the write in time"
                    : "device %s did not confirm the write in time; it may still take effect",
             d->device->name);
        return BW_ETIMEOUT;
    }
    int rc = w->rc;
    bw_strlcpy(err->message, w->message, sizeof(err->message));
    pthread_mutex_unlock(&d->lock);
    bw_free(w);
    return rc;
}
