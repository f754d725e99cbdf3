/* SPDX-License-Identifier: Apache-2.0
 *
 * Reading: one cycle of a scan class sends its planned reads with up to
 * max_in_flight outstanding, takes each answer as it comes, checks it
 * against its request and hands the tags whose registers changed (or
 * whose quality must change) to the engine. Errors other than a protocol
 * exception leave the connection in an unknown state, so it is closed
 * and the requests still open are sent again on a new one, up to the
 * device's retries; a read that times out on every try ends the cycle
 * (the device is not answering: the rest would only wait as long).
 * Worker thread of the device only.
 */
#include "drivers/modbus/mb_driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mb_note_error(struct mb_driver *d, enum bw_driver_error_kind kind, const char *fmt, ...)
{
    char text[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        text[0] = '\0';
    pthread_mutex_lock(&d->stats_lock);
    d->stats.errors[kind]++;
    bw_strlcpy(d->stats.last_error, text, sizeof(d->stats.last_error));
    pthread_mutex_unlock(&d->stats_lock);
    bw_log(BW_LOG_DEBUG, BW_LOGC_DRIVER, "device %s: %s", d->device->name, text);
}

void mb_state_set(struct mb_driver *d, enum bw_driver_state state, const char *why)
{
    pthread_mutex_lock(&d->stats_lock);
    enum bw_driver_state was = d->stats.state;
    d->stats.state = state;
    pthread_mutex_unlock(&d->stats_lock);
    bool lost = state == BW_DRIVER_FAILED;
    bool was_lost = was == BW_DRIVER_FAILED;
    if (lost && !was_lost) {
        d->failed_since_us = bw_clock_monotonic_us();
        bw_log(BW_LOG_WARN, BW_LOGC_DRIVER, "device %s: communication lost: %s", d->device->name,
               why);
        mb_event(d, BW_DRIVER_EV_COMM_LOST, NULL, why, NULL);
    } else if (!lost && was_lost) {
        d->failed_since_us = 0;
        for (size_t i = 0; i < d->tag_count; i++)
            d->tags[i].comm_loss_fired = false;
        bw_log(BW_LOG_INFO, BW_LOGC_DRIVER, "device %s: communication restored", d->device->name);
        mb_event(d, BW_DRIVER_EV_COMM_RESTORED, NULL, "", NULL);
    }
}

bool mb_push(struct mb_driver *d, struct mb_tag *t, const struct bw_tag_update *u)
{
    size_t queued = 0;
    int rc = bw_core_update_push(d->core, u, 1, &queued);
    if (rc == BW_OK) {
        t->quality = (uint8_t)u->quality;
        t->reason = (uint8_t)u->reason;
        t->pushed = true;
        pthread_mutex_lock(&d->stats_lock);
        d->stats.updates++;
        pthread_mutex_unlock(&d->stats_lock);
        return true;
    }
    /* The engine is behind: this value is dropped and the tag is sent
     * again by the next cycle that reads it (the cache is invalidated by
     * the caller). */
    pthread_mutex_lock(&d->stats_lock);
    d->stats.queue_full++;
    pthread_mutex_unlock(&d->stats_lock);
    return false;
}

static void push_bad(struct mb_driver *d, struct mb_tag *t, enum bw_quality_reason reason)
{
    if (t->pushed && t->quality == BW_QUALITY_BAD && t->reason == reason)
        return;
    struct bw_tag_update u = {.tag = t->id, .quality = BW_QUALITY_BAD, .reason = reason};
    u.value.type = t->def->type;
    if (!mb_push(d, t, &u))
        t->pushed = false;
}

bool mb_poll_connect(struct mb_driver *d)
{
    if (mb_link_is_open(&d->link))
        return true;
    int64_t now = bw_clock_monotonic_us();
    if (now < d->reconnect_at_us)
        return false;
    char why[96] = "";
    int rc = mb_link_open(&d->link, d->cfg->host, d->cfg->port, (uint8_t)d->cfg->unit_id,
                          d->cfg->timeout_ms, why, sizeof(why));
    if (rc) {
        mb_note_error(d, BW_DRIVER_ERR_CONNECTION, "cannot connect to %s:%u: %s", d->cfg->host,
                      d->cfg->port, why);
        d->reconnect_at_us = now + (int64_t)d->backoff_ms * 1000;
        d->backoff_ms =
            d->backoff_ms * 2 > d->cfg->backoff_max_ms ? d->cfg->backoff_max_ms : d->backoff_ms * 2;
        mb_state_set(d, BW_DRIVER_FAILED, d->stats.last_error);
        return false;
    }
    d->backoff_ms = d->cfg->backoff_min_ms;
    pthread_mutex_lock(&d->stats_lock);
    d->stats.connects++;
    pthread_mutex_unlock(&d->stats_lock);
    return true;
}

/* ---- one block's answer ---------------------------------------------- */

static bool is_bits(enum bw_modbus_area area)
{
    return area == BW_MODBUS_COIL || area == BW_MODBUS_DISCRETE_INPUT;
}

static enum bw_quality_reason exception_reason(uint8_t code)
{
    /* The device says the request cannot be served as configured. */
    if (code == 1 || code == 2 || code == 3)
        return BW_REASON_CONFIG_ERROR;
    return BW_REASON_DEVICE_FAILURE;
}

static void block_bad(struct mb_driver *d, struct mb_scan *scan, size_t b,
                      enum bw_quality_reason reason)
{
    const struct mb_block *blk = &scan->plan.blocks[b];
    for (size_t k = 0; k < blk->spans; k++)
        push_bad(d, &d->tags[scan->tags[scan->plan.order[blk->first + k]]], reason);
    scan->cache_valid[b] = false;
}

/* Updates on their way to the engine, pushed together: one wake-up of
 * the engine per batch instead of one per tag. */
#define MB_BATCH 128

struct batch {
    struct bw_tag_update updates[MB_BATCH];
    struct mb_tag *tags[MB_BATCH];
    size_t n;
};

static void batch_flush(struct mb_driver *d, struct batch *b)
{
    if (!b->n)
        return;
    size_t queued = 0;
    int rc = bw_core_update_push(d->core, b->updates, b->n, &queued);
    if (rc != BW_OK && rc != BW_EFULL)
        queued = 0;
    for (size_t i = 0; i < b->n; i++) {
        struct mb_tag *t = b->tags[i];
        if (i < queued) {
            t->quality = (uint8_t)b->updates[i].quality;
            t->reason = (uint8_t)b->updates[i].reason;
            t->pushed = true;
        } else {
            /* Sent again by the next cycle that reads it. */
            t->pushed = false;
        }
    }
    pthread_mutex_lock(&d->stats_lock);
    d->stats.updates += queued;
    if (queued < b->n)
        d->stats.queue_full++;
    pthread_mutex_unlock(&d->stats_lock);
    b->n = 0;
}

/* Decodes the tags of block b whose words changed since the last good
 * read, or whose last pushed value was not good. */
static void block_good(struct mb_driver *d, struct mb_scan *scan, size_t b, const uint8_t *data,
                       int64_t source_ts_us)
{
    const struct mb_block *blk = &scan->plan.blocks[b];
    uint16_t words[MB_MAX_READ_BITS];
    size_t n = blk->count;
    if (is_bits(blk->area)) {
        for (size_t i = 0; i < n; i++)
            words[i] = (uint16_t)((data[i / 8] >> (i % 8)) & 1u);
    } else {
        for (size_t i = 0; i < n; i++)
            words[i] = (uint16_t)(data[2 * i] << 8 | data[2 * i + 1]);
    }
    uint16_t *cache = scan->cache + scan->cache_at[b];
    bool valid = scan->cache_valid[b];
    struct batch batch;
    batch.n = 0;
    for (size_t k = 0; k < blk->spans; k++) {
        struct mb_tag *t = &d->tags[scan->tags[scan->plan.order[blk->first + k]]];
        const struct bw_project_modbus_map *map = &t->def->modbus;
        size_t off = (size_t)(map->address - blk->address);
        size_t cnt = map->count;
        if (valid && t->pushed && t->quality == BW_QUALITY_GOOD &&
            memcmp(cache + off, words + off, cnt * sizeof(uint16_t)) == 0)
            continue;
        struct bw_tag_update u = {.tag = t->id, .source_ts_us = source_ts_us};
        char text[2 * MB_MAX_TAG_REGISTERS + 1];
        uint8_t bit = (uint8_t)words[off];
        enum mb_codec_result r =
            mb_decode(map, t->def->type, words + off, &bit, &u.value, text, sizeof(text));
        if (r == MB_CODEC_OK) {
            u.quality = BW_QUALITY_GOOD;
            u.reason = BW_REASON_NONE;
        } else {
            u.quality = BW_QUALITY_BAD;
            u.reason =
                r == MB_CODEC_NOT_FINITE ? BW_REASON_SENSOR_FAILURE : BW_REASON_DEVICE_FAILURE;
            u.value.type = t->def->type;
            if (t->pushed && t->quality == u.quality && t->reason == u.reason)
                continue;
        }
        if (t->def->type == BW_TYPE_STRING) {
            /* Its text lives in this iteration's buffer: alone, now. */
            batch_flush(d, &batch);
            if (!mb_push(d, t, &u))
                t->pushed = false;
            continue;
        }
        batch.updates[batch.n] = u;
        batch.tags[batch.n++] = t;
        if (batch.n == MB_BATCH)
            batch_flush(d, &batch);
    }
    batch_flush(d, &batch);
    memcpy(cache, words, n * sizeof(uint16_t));
    /* A tag the engine could not take is compared against nothing next
     * time (t->pushed is false), so its value is sent again. */
    scan->cache_valid[b] = true;
}

/* ---- the cycle ------------------------------------------------------- */

struct cycle {
    size_t *pending; /* blocks to send, in order */
    size_t pending_len, pending_at;
    uint8_t *tries; /* per block */
    struct mb_request open[16];
    size_t open_len;
    size_t ok, failed;
    bool gave_up;
};

static void fail_open_requests(struct mb_driver *d, struct mb_scan *scan, struct cycle *c,
                               enum bw_quality_reason reason)
{
    /* Everything sent on a broken connection goes again, if it may. */
    for (size_t i = 0; i < c->open_len; i++) {
        size_t b = c->open[i].tag;
        if (c->tries[b] < d->cfg->retries && !c->gave_up) {
            c->tries[b]++;
            c->pending[--c->pending_at] = b;
        } else {
            block_bad(d, scan, b, reason);
            c->failed++;
        }
    }
    c->open_len = 0;
}

static enum bw_driver_error_kind error_kind(enum mb_outcome o)
{
    switch (o) {
    case MB_TIMEOUT:
        return BW_DRIVER_ERR_TIMEOUT;
    case MB_EXCEPTION:
        return BW_DRIVER_ERR_EXCEPTION;
    case MB_TRANSACTION:
        return BW_DRIVER_ERR_TRANSACTION;
    case MB_UNIT:
        return BW_DRIVER_ERR_UNIT;
    case MB_MALFORMED:
        return BW_DRIVER_ERR_MALFORMED;
    case MB_OK:
    case MB_BROKEN:
        break;
    }
    return BW_DRIVER_ERR_CONNECTION;
}

static const char *outcome_text(enum mb_outcome o)
{
    switch (o) {
    case MB_TIMEOUT:
        return "no answer within the response timeout";
    case MB_TRANSACTION:
        return "an answer with a wrong transaction id";
    case MB_UNIT:
        return "an answer from a wrong unit id";
    case MB_MALFORMED:
        return "a malformed answer";
    case MB_BROKEN:
        return "the connection broke";
    case MB_OK:
    case MB_EXCEPTION:
        break;
    }
    return "an error";
}

static void link_failed(struct mb_driver *d, struct mb_scan *scan, struct cycle *c,
                        enum mb_outcome o, const struct mb_request *req)
{
    const struct mb_block *blk = req ? &scan->plan.blocks[req->tag] : NULL;
    if (blk)
        mb_note_error(d, error_kind(o), "%s reading %u %s from address %u", outcome_text(o),
                      blk->count, is_bits(blk->area) ? "bits" : "registers", blk->address);
    else
        mb_note_error(d, error_kind(o), "%s", outcome_text(o));
    mb_link_close(&d->link);
    /* A device that lets every try of a read time out is not answering:
     * the rest of the cycle would only wait as long again. */
    if (o == MB_TIMEOUT && req && c->tries[req->tag] >= d->cfg->retries)
        c->gave_up = true;
    fail_open_requests(d, scan, c, BW_REASON_COMM_FAILURE);
}

static bool send_next(struct mb_driver *d, struct mb_scan *scan, struct cycle *c)
{
    size_t b = c->pending[c->pending_at];
    const struct mb_block *blk = &scan->plan.blocks[b];
    struct mb_request *req = &c->open[c->open_len];
    mb_pdu_read(req, blk->area, blk->address, blk->count);
    req->tag = b;
    req->sent_us = bw_clock_monotonic_us();
    req->deadline_us = req->sent_us + (int64_t)d->cfg->timeout_ms * 1000;
    if (mb_link_send(&d->link, req) != BW_OK)
        return false;
    c->pending_at++;
    c->open_len++;
    pthread_mutex_lock(&d->stats_lock);
    d->stats.requests++;
    pthread_mutex_unlock(&d->stats_lock);
    return true;
}

/* Sends reads until the window is full, unless a write waits for an idle
 * connection. */
static void refill(struct mb_driver *d, struct mb_scan *scan, struct cycle *c)
{
    bool write_waits = c->open_len > 0 && mb_writes_waiting(d);
    while (!write_waits && c->open_len < d->cfg->max_in_flight && c->pending_at < c->pending_len &&
           mb_link_is_open(&d->link)) {
        if (!send_next(d, scan, c)) {
            link_failed(d, scan, c, MB_BROKEN, NULL);
            return;
        }
    }
}

/* Waits for one answer and deals with it; false when the link failed. */
static bool take_answer(struct mb_driver *d, struct mb_scan *scan, struct cycle *c)
{
    uint8_t adu[MB_ADU_MAX];
    size_t len = 0;
    struct mb_request *oldest = &c->open[0];
    enum mb_outcome o = mb_link_receive(&d->link, oldest->deadline_us, adu, &len);
    if (o != MB_OK) {
        struct mb_request first = *oldest;
        link_failed(d, scan, c, o, &first);
        return false;
    }
    size_t i = 0;
    uint16_t tid = mb_answer_tid(adu);
    while (i < c->open_len && c->open[i].tid != tid)
        i++;
    if (i == c->open_len) {
        struct mb_request first = *oldest;
        link_failed(d, scan, c, MB_TRANSACTION, &first);
        return false;
    }
    struct mb_request req = c->open[i];
    memmove(&c->open[i], &c->open[i + 1], (c->open_len - i - 1) * sizeof(c->open[0]));
    c->open_len--;
    int64_t now = bw_clock_monotonic_us();
    const uint8_t *data;
    size_t data_len;
    uint8_t exception = 0;
    o = mb_answer_check(&req, d->link.unit, adu, len, &data, &data_len, &exception);
    const struct mb_block *blk = &scan->plan.blocks[req.tag];
    if (o == MB_OK || o == MB_EXCEPTION) {
        pthread_mutex_lock(&d->stats_lock);
        mb_stats_latency(&d->stats, now - req.sent_us);
        if (o == MB_OK)
            d->stats.registers += blk->count;
        pthread_mutex_unlock(&d->stats_lock);
    }
    if (o == MB_OK) {
        /* The next request leaves before this answer is decoded: the
         * device works on it meanwhile. */
        int64_t source_ts = bw_clock_realtime_us();
        refill(d, scan, c);
        block_good(d, scan, req.tag, data, source_ts);
        c->ok++;
        return true;
    }
    if (o == MB_EXCEPTION) {
        mb_note_error(d, BW_DRIVER_ERR_EXCEPTION, "exception %u (%s) reading %u %s from address %u",
                      exception, mb_exception_text(exception), blk->count,
                      is_bits(blk->area) ? "bits" : "registers", blk->address);
        block_bad(d, scan, req.tag, exception_reason(exception));
        c->failed++;
        /* A bridged gap may hold addresses the device does not have:
         * plan without gaps from now on. */
        if (exception == 2 && scan->gaps_bridged)
            scan->replan = true;
        return true;
    }
    /* Put it back so it is retried with the others. */
    memmove(&c->open[1], &c->open[0], c->open_len * sizeof(c->open[0]));
    c->open[0] = req;
    c->open_len++;
    link_failed(d, scan, c, o, &req);
    return false;
}

void mb_poll_cycle(struct mb_driver *d, struct mb_scan *scan)
{
    size_t nb = scan->plan.block_count;
    if (nb == 0)
        return;
    size_t *pending = scan->pending;
    memset(scan->tries, 0, nb);
    /* pending[] is used from pending_at on; retries are put back in
     * front of it, so room is left there (at most max_in_flight, 16, at
     * once). */
    struct cycle c = {
        .pending = pending, .pending_at = 16, .pending_len = nb + 16, .tries = scan->tries};
    for (size_t b = 0; b < nb; b++)
        pending[16 + b] = b;
    while (c.pending_at < c.pending_len || c.open_len > 0) {
        if (c.gave_up) {
            while (c.pending_at < c.pending_len) {
                block_bad(d, scan, pending[c.pending_at++], BW_REASON_COMM_FAILURE);
                c.failed++;
            }
            break;
        }
        if (!mb_link_is_open(&d->link)) {
            if (!mb_poll_connect(d)) {
                while (c.pending_at < c.pending_len) {
                    block_bad(d, scan, pending[c.pending_at++], BW_REASON_NOT_CONNECTED);
                    c.failed++;
                }
                break;
            }
        }
        /* Writes go between reads, on an idle connection. */
        if (c.open_len == 0 && mb_writes_waiting(d)) {
            mb_writes_run(d);
            if (!mb_link_is_open(&d->link))
                continue;
        }
        refill(d, scan, &c);
        if (c.open_len > 0 && mb_link_is_open(&d->link))
            (void)take_answer(d, scan, &c);
    }
    if (c.ok > 0)
        d->failsafe_hold = false; /* reads got through: fail-safe writes may try again */
    pthread_mutex_lock(&d->stats_lock);
    d->stats.cycles++;
    const char *why = d->stats.last_error;
    char reason[160];
    bw_strlcpy(reason, why, sizeof(reason));
    pthread_mutex_unlock(&d->stats_lock);
    if (c.failed == 0)
        scan->state = BW_DRIVER_CONNECTED;
    else if (c.ok > 0 || (!c.gave_up && mb_link_is_open(&d->link)))
        scan->state = BW_DRIVER_DEGRADED;
    else
        scan->state = BW_DRIVER_FAILED;
    /* The device's state is that of all its scan classes together, so
     * that one failing class and one working class give "degraded",
     * not a change of state (and an audit record) every cycle. */
    bool all_ok = true, all_failed = true;
    for (size_t s = 0; s < d->scan_count; s++) {
        enum bw_driver_state st = d->scans[s].state;
        if (st == BW_DRIVER_STOPPED)
            continue; /* not run yet */
        all_ok = all_ok && st == BW_DRIVER_CONNECTED;
        all_failed = all_failed && st == BW_DRIVER_FAILED;
    }
    if (all_ok)
        mb_state_set(d, BW_DRIVER_CONNECTED, "");
    else if (all_failed)
        mb_state_set(d, BW_DRIVER_FAILED, reason);
    else
        mb_state_set(d, BW_DRIVER_DEGRADED, reason);
}
