/* SPDX-License-Identifier: Apache-2.0
 *
 * core: the tag table and the engine thread that is its only writer.
 *
 * Drivers push value updates into a bounded multi-producer queue; the
 * engine thread applies them to the table, stamps the server time, and
 * publishes changes (value or quality differs from the previous one) to
 * subscribers, each of which has its own bounded queue that drops its
 * oldest entries when the subscriber is slow (counted, never blocking the
 * engine). Readers on any thread take a consistent snapshot of one tag
 * without locks (a sequence lock that the engine never waits on).
 *
 * Writes from interfaces (HTTP, OPC UA, CLI) all enter through
 * bw_core_write(), which validates them and hands them to the tag's
 * writer (a driver) or, for memory tags, applies them itself. Later
 * layers (authorisation, e-signatures, audit) wrap this one path.
 */
#ifndef BW_CORE_H
#define BW_CORE_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- values and quality --------------------------------------------- */

enum bw_quality { BW_QUALITY_BAD = 0, BW_QUALITY_UNCERTAIN = 1, BW_QUALITY_GOOD = 2 };

/* Why a value is not simply good; stable numbers (they reach clients). */
enum bw_quality_reason {
    BW_REASON_NONE = 0,          /* good */
    BW_REASON_WAITING = 1,       /* bad: no value received yet */
    BW_REASON_NOT_CONNECTED = 2, /* bad: no connection to the device */
    BW_REASON_COMM_FAILURE = 3,  /* bad: timeout, framing or protocol error */
    BW_REASON_DEVICE_FAILURE = 4,
    BW_REASON_SENSOR_FAILURE = 5,
    BW_REASON_CONFIG_ERROR = 6,   /* bad: the binding is wrong (type, address) */
    BW_REASON_OUT_OF_SERVICE = 7, /* bad: taken out of service */
    BW_REASON_LAST_KNOWN = 8,     /* uncertain: last usable value held */
    BW_REASON_EU_EXCEEDED = 9,    /* uncertain: outside the engineering range */
    BW_REASON_SUBSTITUTED = 10,   /* uncertain: value set manually */
    BW_REASON_COUNT_
};

/* Longest string value a tag holds, in bytes, excluding the NUL. */
#define BW_TAG_STRING_MAX 255
/* Longest tag name, in bytes. */
#define BW_TAG_NAME_MAX 128
/* Most tags one table holds. */
#define BW_CORE_MAX_TAGS 1000000u
/* Most engine-level subscribers (interfaces multiplex their clients). */
#define BW_CORE_MAX_SUBSCRIBERS 64

const char *bw_quality_name(enum bw_quality quality);
const char *bw_quality_reason_name(enum bw_quality_reason reason);

/* A snapshot of one tag, as a reader sees it. */
struct bw_tag_state {
    enum bw_type type;
    enum bw_quality quality;
    enum bw_quality_reason reason;
    int64_t source_ts_us; /* from the device, or 0 when it gives none */
    int64_t server_ts_us; /* when the engine applied the value */
    union {
        bool b;
        int64_t i;
        double f;
    } v;
    size_t str_len;
    char str[BW_TAG_STRING_MAX + 1];
};

/* ---- the table ------------------------------------------------------ */

/* How one tag is defined, as the core needs it. */
struct bw_core_tag_def {
    const char *name; /* copied */
    enum bw_type type;
    bool has_min, has_max; /* engineering range (int and float tags) */
    double min, max;
    bool writable;
};

struct bw_core_config {
    size_t update_queue_capacity; /* rounded up to a power of two; 0: 65536 */
};

struct bw_core;

/* Creates a table for n tags (names must be unique; they are copied and
 * indexed). Every tag starts bad/WAITING. Returns BW_EINVAL for a
 * duplicate or empty name or n > BW_CORE_MAX_TAGS, BW_ENOMEM. */
BW_MUST_CHECK int bw_core_new(const struct bw_core_tag_def *defs, size_t n,
                              const struct bw_core_config *config, struct bw_core **out);
/* Stops the engine if it runs and frees everything. Accepts NULL. All
 * subscribers must have been freed first. */
void bw_core_free(struct bw_core *core);

/* Starts the engine thread. BW_ESTATE when already started, BW_EIO when
 * the thread cannot be created. */
BW_MUST_CHECK int bw_core_start(struct bw_core *core);
/* Applies what is queued, then stops and joins the engine thread. */
void bw_core_stop(struct bw_core *core);

size_t bw_core_tag_count(const struct bw_core *core);
/* Finds a tag by exact name: BW_ENOTFOUND when there is none. */
BW_MUST_CHECK int bw_core_tag_find(const struct bw_core *core, const char *name, uint32_t *id);
/* The definition of tag id (id < count); pointers live as long as core. */
const struct bw_core_tag_def *bw_core_tag_def(const struct bw_core *core, uint32_t id);
/* Ids in [*first, *first + *count) are the tags, in name order, whose name
 * starts with prefix; the ids are read with bw_core_tag_by_rank(). */
void bw_core_tag_prefix_range(const struct bw_core *core, const char *prefix, size_t *first,
                              size_t *count);
uint32_t bw_core_tag_by_rank(const struct bw_core *core, size_t rank);

/* Copies a consistent snapshot of tag id. Any thread; never blocks the
 * engine. BW_EINVAL for an unknown id. */
BW_MUST_CHECK int bw_core_tag_read(const struct bw_core *core, uint32_t id,
                                   struct bw_tag_state *out);

/* ---- updates from drivers ------------------------------------------- */

struct bw_tag_update {
    uint32_t tag;
    enum bw_quality quality;
    enum bw_quality_reason reason;
    int64_t source_ts_us;
    struct bw_value value; /* its type must match the tag's (else the tag
                              goes bad/CONFIG_ERROR); ignored when bad */
};

/* Queues updates for the engine. Any thread. Strings are copied. Returns
 * the number queued in *queued; BW_EFULL when the queue filled before all
 * were queued (the caller decides whether to retry), BW_EINVAL for an
 * unknown tag id (nothing after it is queued), BW_ENOMEM. */
BW_MUST_CHECK int bw_core_update_push(struct bw_core *core, const struct bw_tag_update *updates,
                                      size_t n, size_t *queued);

/* ---- writes from interfaces ----------------------------------------- */

/* Why a write was refused, for the person who asked. */
struct bw_write_error {
    char message[256];
};

/* Called by bw_core_write() on the caller's thread after validation. A
 * driver hands the write to its device and waits for the device's answer
 * within a bound it documents (the caller, an interface worker, is told
 * the outcome and audits it). Returns BW_OK when the device accepted the
 * write; otherwise an error, with err->message saying what failed and
 * where in words fit for an operator (it may leave it empty). value->s
 * is borrowed for the call only. */
typedef int (*bw_core_writer_fn)(void *ctx, uint32_t tag, const struct bw_value *value,
                                 struct bw_write_error *err);

/* Routes writes of tag id to fn (a driver). Only before bw_core_start().
 * fn and ctx must stay valid for as long as anyone can call
 * bw_core_write(): stop the interfaces before freeing the driver. */
BW_MUST_CHECK int bw_core_tag_set_writer(struct bw_core *core, uint32_t id, bw_core_writer_fn fn,
                                         void *ctx);

/* ---- input validation of writes (SR 3.5) ----------------------------- */

/* How a condition compares another tag's value with its own: the same
 * codes, in the same order, as the project's enum bw_rule_op (core does
 * not include project.h: it depends on base only). */
enum bw_core_op {
    BW_CORE_OP_EQ = 0,
    BW_CORE_OP_NE,
    BW_CORE_OP_LT,
    BW_CORE_OP_LE,
    BW_CORE_OP_GT,
    BW_CORE_OP_GE
};

/* Most allowed values and conditions one tag's rules hold. */
#define BW_CORE_MAX_ALLOWED 64u
#define BW_CORE_MAX_CONDITIONS 8u

/* A condition a write needs: tag's current value (of good quality) op
 * value. */
struct bw_core_condition {
    uint32_t tag;          /* another tag */
    enum bw_core_op op;    /* bool and string tags: EQ and NE only */
    struct bw_value value; /* of that tag's type */
};

/* A tag's write rules, checked by bw_core_write() after type and range,
 * in this order:
 *   allowed: the value must equal one of allowed[0..allowed_count)
 *     (values of the tag's type; allowed_count 0: any value);
 *   when: every condition must hold on the other tag's current value;
 *   max_change (int and float tags): within a window of change_seconds,
 *     which opens at the first accepted write after the last window ended
 *     and takes the tag's current value (good or uncertain) as its
 *     reference, no write may be more than max_change away from that
 *     reference. Only writes the writer accepts open a window. */
struct bw_core_write_rules {
    bool has_max_change;
    double max_change;       /* > 0, finite */
    uint32_t change_seconds; /* > 0 */
    const struct bw_value *allowed;
    size_t allowed_count; /* 0..BW_CORE_MAX_ALLOWED */
    const struct bw_core_condition *when;
    size_t when_count; /* 0..BW_CORE_MAX_CONDITIONS */
};

/* Gives tag id its write rules, replacing any earlier ones (rules NULL:
 * none). Everything is copied, strings too; nothing in rules is kept.
 * Only before bw_core_start(): BW_ESTATE after. BW_EINVAL for an unknown
 * id, a condition that names an unknown tag or the tag itself, a value
 * whose type is not its tag's (or text longer than BW_TAG_STRING_MAX), an
 * ordering op on a bool or string tag, max_change on a bool or string tag
 * or not > 0, change_seconds 0, a count above its maximum; BW_ENOMEM.
 * Main thread (with the other set-up calls). */
BW_MUST_CHECK int bw_core_tag_set_rules(struct bw_core *core, uint32_t id,
                                        const struct bw_core_write_rules *rules);
/* The one path for every write from an interface. Checks that the tag is
 * writable, that the value's type fits (an int tag takes integral floats,
 * a float tag takes ints), that it lies within the engineering range and
 * that text is at most BW_TAG_STRING_MAX bytes of UTF-8 without NUL, then
 * the tag's write rules (bw_core_tag_set_rules); then hands it to the
 * tag's writer, or for a tag without a writer (memory tag) queues it as a
 * good update. Any thread; for a tag with max_change the writer is called
 * with the tag's rule lock held, so it must not write the same tag.
 * Returns BW_EINVAL (unknown tag), BW_EDENIED (not writable, or refused
 * by a write rule), BW_ETYPE, BW_ERANGE, BW_EFULL, or the writer's error;
 * err explains each. A rule's refusal names the rule:
 *   tag X: refused by validate.allowed: 7 is not one of the allowed values (1, 2, 3)
 *   tag X: refused by validate.when[0]: P1.running must be == false but is true
 *   tag X: refused by validate.when[0]: P1.running has no good value (quality bad)
 *   tag X: refused by validate.max_change: 40 is more than 5 away from 20, the
 *     value at the start of the current 60 s window */
BW_MUST_CHECK int bw_core_write(struct bw_core *core, uint32_t id, const struct bw_value *value,
                                struct bw_write_error *err);

/* ---- subscriptions -------------------------------------------------- */

/* One change as a subscriber receives it. For string tags the value is
 * not carried: read the tag for its current text. */
struct bw_tag_change {
    uint32_t tag;
    uint8_t quality;
    uint8_t reason;
    uint8_t type;
    uint8_t pad_;
    int64_t source_ts_us;
    int64_t server_ts_us;
    union {
        bool b;
        int64_t i;
        double f;
    } v;
};

struct bw_sub;

/* Creates a subscriber with a queue of capacity changes (rounded up to a
 * power of two, at least 16). BW_EFULL when BW_CORE_MAX_SUBSCRIBERS
 * exist, BW_ENOMEM, BW_EIO (no eventfd). Any thread. */
BW_MUST_CHECK int bw_core_sub_new(struct bw_core *core, size_t capacity, struct bw_sub **out);
/* Stops deliveries, waits until the engine has let go of it, frees it.
 * Accepts NULL. Not on the engine thread. */
void bw_core_sub_free(struct bw_sub *sub);
/* Subscribes to one tag, or to every tag whose name starts with prefix
 * (*matched tells how many; may be NULL). Any thread, at any time. */
BW_MUST_CHECK int bw_core_sub_add_tag(struct bw_sub *sub, uint32_t id);
BW_MUST_CHECK int bw_core_sub_add_prefix(struct bw_sub *sub, const char *prefix, size_t *matched);
BW_MUST_CHECK int bw_core_sub_remove_tag(struct bw_sub *sub, uint32_t id);
/* Takes up to max changes, oldest first. Only the subscriber's own thread
 * (one consumer). Returns how many were copied. */
size_t bw_core_sub_poll(struct bw_sub *sub, struct bw_tag_change *out, size_t max);
/* Changes this subscriber lost because its queue overflowed. */
uint64_t bw_core_sub_lost(const struct bw_sub *sub);
/* A file descriptor that becomes readable when changes are waiting; read
 * 8 bytes from it to re-arm (bw_core_sub_poll does not). */
int bw_core_sub_fd(const struct bw_sub *sub);
/* Blocks up to timeout_ms for the fd to become readable and re-arms it.
 * Returns true when woken. */
bool bw_core_sub_wait(struct bw_sub *sub, int timeout_ms);

/* ---- statistics ----------------------------------------------------- */

struct bw_core_stats {
    uint64_t updates_applied;   /* updates the engine applied */
    uint64_t updates_rejected;  /* wrong type or unknown tag */
    uint64_t queue_full;        /* pushes refused because the queue was full */
    uint64_t changes_published; /* changes handed to subscriber queues */
    uint64_t subscriber_lost;   /* changes subscribers lost, all together */
    uint32_t subscribers;
    size_t queue_capacity;
};

void bw_core_stats_get(const struct bw_core *core, struct bw_core_stats *out);

#endif
