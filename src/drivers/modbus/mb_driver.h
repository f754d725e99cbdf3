/* SPDX-License-Identifier: Apache-2.0
 *
 * drivers/modbus: what the files of the Modbus TCP driver share.
 *
 * One driver instance serves one device with one worker thread, so a
 * dead device never slows a live one (the loader bounds the number of
 * devices). The worker owns the connection, the read plans of the
 * device's scan classes and the per-tag state; interface threads only
 * queue writes (writes.c) and read counters (stats under a mutex).
 *
 * libmodbus makes the connection and receives and frames every answer
 * (modbus_receive_confirmation); requests are framed here (link.c) because
 * libmodbus 3.1.6 gives raw requests transaction id 0 and its high-level
 * calls keep one request in flight, while the driver needs distinct
 * transaction ids to pipeline requests and to tell a stray answer from
 * the one it waits for. Every answer is checked against its request
 * (transaction id, protocol id, length, unit id, function, byte count or
 * echo) before any of it is used.
 */
#ifndef BW_DRIVERS_MODBUS_DRIVER_H
#define BW_DRIVERS_MODBUS_DRIVER_H

#include "drivers/internal.h"
#include "drivers/modbus/mb_codec.h"

#include <modbus/modbus.h>
#include <pthread.h>
#include <stdatomic.h>

/* ---- the connection (link.c) ---------------------------------------- */

/* A request's PDU (function code and data, without unit id) is at most
 * 253 bytes; an answer's ADU at most 260. */
#define MB_PDU_MAX 253
#define MB_ADU_MAX 260

struct mb_link {
    modbus_t *ctx; /* NULL while closed */
    int fd;
    uint16_t next_tid;
    uint8_t unit;
};

/* What became of one request. */
enum mb_outcome {
    MB_OK = 0,
    MB_EXCEPTION,   /* answered with an exception (code in the answer) */
    MB_TIMEOUT,     /* nothing within the deadline */
    MB_TRANSACTION, /* an answer whose transaction id is not ours */
    MB_UNIT,        /* an answer from another unit */
    MB_MALFORMED,   /* does not fit the request */
    MB_BROKEN,      /* the connection failed */
};

/* A request on its way. */
struct mb_request {
    uint16_t tid;
    uint8_t pdu[MB_PDU_MAX];
    size_t pdu_len;
    int64_t sent_us;
    int64_t deadline_us;
    size_t tag; /* writes (and their read-back): the tag; reads: the block */
};

/* Opens a TCP connection to host:port (TCP_NODELAY) within timeout_ms.
 * BW_OK, BW_EIO (refused, unreachable: errno-like reason in why). */
BW_MUST_CHECK int mb_link_open(struct mb_link *link, const char *host, uint16_t port, uint8_t unit,
                               uint32_t timeout_ms, char *why, size_t why_size);
void mb_link_close(struct mb_link *link);
static inline bool mb_link_is_open(const struct mb_link *link)
{
    return link->ctx != NULL;
}

/* Frames req->pdu with the next transaction id (set in req->tid) and
 * sends it. BW_OK or BW_EIO (the link is then broken: close it). */
BW_MUST_CHECK int mb_link_send(struct mb_link *link, struct mb_request *req);

/* Receives one answer, waiting until deadline_us at most, into adu
 * (MB_ADU_MAX bytes); *len is its length. MB_OK, MB_TIMEOUT, MB_BROKEN,
 * MB_MALFORMED (framing: protocol id, length field). */
enum mb_outcome mb_link_receive(struct mb_link *link, int64_t deadline_us, uint8_t *adu,
                                size_t *len);

/* Checks an answer against the request it claims to answer (same
 * transaction id): unit, function, exception, byte count or echo. For
 * reads, *data and *data_len are the payload; for exceptions *exception
 * is the code. */
enum mb_outcome mb_answer_check(const struct mb_request *req, uint8_t unit, const uint8_t *adu,
                                size_t len, const uint8_t **data, size_t *data_len,
                                uint8_t *exception);
/* The transaction id of an answer (len >= 2). */
static inline uint16_t mb_answer_tid(const uint8_t *adu)
{
    return (uint16_t)(adu[0] << 8 | adu[1]);
}

/* Fills a read request for an area. */
void mb_pdu_read(struct mb_request *req, enum bw_modbus_area area, uint16_t address,
                 uint16_t count);

/* "illegal data address" and so on, for operators. */
const char *mb_exception_text(uint8_t code);

/* ---- per-tag and per-scan state -------------------------------------- */

struct mb_driver;

struct mb_tag {
    struct mb_driver *driver;
    uint32_t id; /* in the core */
    const struct bw_project_tag *def;
    size_t scan;               /* index into the driver's scans */
    uint8_t quality, reason;   /* last pushed */
    bool pushed;               /* something was pushed since the cache was valid */
    uint32_t failsafe_pending; /* enum bw_failsafe_event bits not yet confirmed */
    bool comm_loss_fired;      /* fired for the current outage */
};

struct mb_scan {
    uint32_t period_ms;
    int64_t next_due_us;
    size_t *tags; /* indexes into the driver's tags, the spans' order */
    size_t tag_count;
    struct mb_plan plan;
    uint16_t *cache;            /* per block, its last words (bits: one per word) */
    size_t *cache_at;           /* per block, offset into cache */
    bool *cache_valid;          /* per block */
    bool gaps_bridged;          /* the plan bridges unused addresses */
    bool replan;                /* an answer said a bridged address does not exist */
    enum bw_driver_state state; /* of its last cycle; STOPPED before the first */
    size_t *pending;            /* a cycle's work: block_count + 16 */
    uint8_t *tries;             /* a cycle's retries per block */
};

/* driver.c: (re)builds a scan class's plan and its buffers; max_gap 0
 * plans without bridging. */
BW_MUST_CHECK int mb_scan_plan(struct mb_driver *d, struct mb_scan *scan, uint32_t max_gap);

/* ---- writes (writes.c) ----------------------------------------------- */

#define MB_WRITE_QUEUE 32

struct mb_write {
    size_t tag; /* index into the driver's tags */
    struct bw_value value;
    char text[BW_TAG_STRING_MAX + 1];
    int rc;
    char message[200];
    bool done;
    bool abandoned; /* the caller stopped waiting: the worker frees it */
};

/* ---- statistics (stats.c) -------------------------------------------- */

#define MB_LATENCY_BUCKETS 112

struct mb_stats {
    uint64_t cycles, updates, writes, queue_full, requests, registers, write_failures, connects;
    uint64_t errors[BW_DRIVER_ERR_COUNT_];
    uint64_t latency[MB_LATENCY_BUCKETS];
    uint32_t latency_max_us;
    enum bw_driver_state state;
    char last_error[160];
};

void mb_stats_latency(struct mb_stats *stats, int64_t us);
void mb_stats_fill(const struct mb_stats *stats, struct bw_driver_status *out);

/* ---- the driver ----------------------------------------------------- */

struct mb_driver {
    const struct bw_project *project;
    const struct bw_project_device *device;
    const struct bw_project_modbus_device *cfg;
    struct bw_core *core;

    struct mb_tag *tags;
    size_t tag_count;
    /* The tags with a fail-safe value: the only ones the fail-safe
     * checks visit (they run between requests). */
    size_t *failsafe_tags;
    size_t failsafe_count;
    struct mb_scan *scans;
    size_t scan_count;

    struct mb_link link;
    int64_t reconnect_at_us; /* no connect before this */
    uint32_t backoff_ms;
    int64_t failed_since_us; /* start of the current outage; 0: none */
    /* A fail-safe write failed: the next try waits until a read cycle
     * has run, so a device that refuses writes cannot starve reads. */
    bool failsafe_hold;

    /* Writes, external fail-safe events and stopping, under lock; the
     * worker sleeps on wake. */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* worker: work or stop */
    pthread_cond_t done; /* writers: a write finished */
    struct mb_write *queue[MB_WRITE_QUEUE];
    size_t queue_len;
    uint32_t failsafe_events; /* raised, not yet applied to tags */
    bool stopping;

    pthread_t thread;
    bool running;

    bw_driver_event_fn on_event;
    void *event_ctx;

    pthread_mutex_t stats_lock;
    struct mb_stats stats;
};

/* poll.c: one read cycle of a scan class. */
void mb_poll_cycle(struct mb_driver *d, struct mb_scan *scan);
/* poll.c: opens the link when it is closed and the backoff allows;
 * true when open. */
bool mb_poll_connect(struct mb_driver *d);
/* poll.c: records an error of a kind with the text operators see. */
void mb_note_error(struct mb_driver *d, enum bw_driver_error_kind kind, const char *fmt, ...)
    BW_PRINTF(3, 4);
/* poll.c: pushes one tag's update; false when the engine's queue is full. */
bool mb_push(struct mb_driver *d, struct mb_tag *t, const struct bw_tag_update *u);
/* poll.c: sets the device state, reporting the loss and return of
 * communication. */
void mb_state_set(struct mb_driver *d, enum bw_driver_state state, const char *why);

/* writes.c: the core's writer for the device's writable tags. */
int mb_write_entry(void *ctx, uint32_t tag, const struct bw_value *value,
                   struct bw_write_error *err);
/* writes.c: runs queued operator writes and due fail-safe writes (the
 * link must be open and idle). */
void mb_writes_run(struct mb_driver *d);
/* writes.c: marks fail-safe writes due for event (lock held by caller
 * or not needed: worker thread only). */
void mb_failsafe_raise(struct mb_driver *d, enum bw_failsafe_event event, const char *why);
/* writes.c: turns events raised from other threads into due fail-safe
 * writes. */
void mb_failsafe_take_raised(struct mb_driver *d);
/* writes.c: fires comm_loss fail-safes whose delay has passed. */
void mb_failsafe_comm_check(struct mb_driver *d, int64_t now_us);
/* writes.c: fails every queued operator write with why. */
void mb_writes_fail_all(struct mb_driver *d, const char *why);
/* writes.c: true when any queued write or due fail-safe waits. */
bool mb_writes_waiting(struct mb_driver *d);

void mb_event(struct mb_driver *d, enum bw_driver_event_kind kind, const struct mb_tag *t,
              const char *detail, const struct bw_value *value);

#endif
