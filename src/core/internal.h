/* SPDX-License-Identifier: Apache-2.0
 *
 * What the files of core/ share: the layout of the tag table, the update
 * queue and the subscriber rings. Nothing outside core/ includes this,
 * except unit tests through tests/unit/core.
 *
 * Concurrency in one paragraph: the engine thread is the only writer of
 * the table and of every subscriber ring. Producers (drivers, the write
 * path) meet the engine in a bounded lock-free multi-producer queue.
 * Readers of the table and consumers of the rings use sequence numbers
 * and retry; the engine never waits for any of them.
 */
#ifndef BW_CORE_INTERNAL_H
#define BW_CORE_INTERNAL_H

#include "core/core.h"

#include <pthread.h>
#include <stdatomic.h>

/* One tag's live state. Every field is atomic so that a reader racing the
 * engine is well-defined C11; the sequence number tells it whether what
 * it copied is consistent (even and unchanged across the copy). */
struct tag_slot {
    _Atomic uint32_t seq;
    _Atomic uint32_t quality_reason; /* quality | reason << 8 */
    _Atomic uint64_t bits;           /* bool 0/1, int64, or double bits */
    _Atomic int64_t source_ts_us;
    _Atomic int64_t server_ts_us;
};

/* String tags keep their text in a side array: length word, then up to
 * BW_TAG_STRING_MAX bytes packed into words. */
#define STRING_WORDS ((BW_TAG_STRING_MAX + 1 + 7) / 8)
struct string_slot {
    _Atomic uint64_t len;
    _Atomic uint64_t words[STRING_WORDS];
};

#define NO_STRING UINT32_MAX

/* A tag's write rules (rules.c): set before the engine starts, read-only
 * after, except the max_change window, which lock guards. */
struct tag_rules {
    bool has_max_change;
    double max_change;
    int64_t window_us;
    struct bw_value *allowed; /* strings point into text */
    size_t allowed_count;
    struct bw_core_condition *when; /* strings point into text */
    size_t when_count;
    char *text; /* the copies of every string above */
    /* has_max_change only. Held from the max_change check through the
     * writer's answer to the window's update (bw_core_write). */
    bool lock_ready;
    pthread_mutex_t lock;
    bool window_open;
    int64_t window_start_us;
    struct bw_value window_ref; /* the tag's value when the window opened */
};

/* The max_change verdict on one write, kept under the rule lock until
 * the writer has answered. */
struct change_window {
    bool opens; /* accepting the write opens a new window */
    int64_t now_us;
    struct bw_value ref;
};

struct tag_meta {
    struct bw_core_tag_def def; /* def.name points into names */
    bw_core_writer_fn writer;
    void *writer_ctx;
    struct tag_rules *rules; /* NULL: none */
};

/* What the engine reads for every update, packed in one half cache
 * line so that a pass over many tags touches as little memory as it can.
 * Absent range bounds are -inf/+inf, so the range check is two compares. */
struct tag_hot {
    _Atomic uint64_t sub_mask; /* which subscribers want this tag */
    double min, max;
    uint8_t type;
    uint8_t numeric;       /* int or float: the range applies */
    uint32_t string_index; /* into strings, or NO_STRING */
};

/* A queued update, 32 bytes. Its data fields are published by the
 * release store of seq and belong to the consumer after its acquire
 * load. seq holds the low 32 bits of a position; positions in flight
 * never differ by 2^31, so wrapping comparisons are exact. */
struct update_cell {
    _Atomic uint32_t seq;
    uint32_t tag;
    uint8_t quality;
    uint8_t reason;
    uint8_t type;
    uint8_t pad_;
    uint32_t str_len;
    union {
        uint64_t bits;
        char *str; /* string updates: owned by the cell while queued */
    } u;
    int64_t source_ts_us;
};

struct update_queue {
    struct update_cell *cells;
    size_t mask;
    _Alignas(64) _Atomic size_t enqueue_pos;
    _Alignas(64) size_t dequeue_pos; /* engine only */
};

/* A subscriber ring slot, 32 bytes. The stamp holds the low 32 bits of
 * 2p+1 while position p is being written and of 2p+2 once it is
 * complete; readers compare with wrapping arithmetic and first check the
 * 64-bit published head, so the short stamp cannot mislead them. packed
 * holds tag | quality << 20 | type << 22 | reason << 24. */
struct sub_slot {
    _Atomic uint32_t stamp;
    _Atomic uint32_t packed;
    _Atomic uint64_t value;
    _Atomic int64_t source_ts_us;
    _Atomic int64_t server_ts_us;
};

_Static_assert(BW_CORE_MAX_TAGS <= (1u << 20), "tag ids must fit 20 bits of sub_slot.packed");
_Static_assert(BW_REASON_COUNT_ <= 256, "reasons must fit 8 bits of sub_slot.packed");
_Static_assert(sizeof(struct update_cell) == 32, "update cells are half a cache line");
_Static_assert(sizeof(struct sub_slot) == 32, "ring slots are half a cache line");

struct bw_sub {
    struct bw_core *core;
    unsigned index; /* bit in the per-tag masks */
    struct sub_slot *slots;
    uint64_t mask; /* capacity - 1 */
    int event_fd;
    /* Each cache line has one writer, so the engine and the reader never
     * bounce a line that only one of them needs. */
    _Alignas(64) uint64_t head;                   /* engine only */
    uint64_t pending;                             /* engine only: written this batch */
    _Alignas(64) _Atomic uint64_t published_head; /* engine, once per batch */
    _Alignas(64) _Atomic bool armed;              /* reader drained the ring, wants a wake-up */
    _Alignas(64) uint64_t tail;                   /* reader only */
    _Atomic uint64_t lost;
};

struct bw_core {
    size_t tag_count;
    struct tag_meta *meta;
    struct tag_slot *slots;
    struct string_slot *strings;
    struct tag_hot *hot;
    uint32_t *by_name; /* tag ids sorted by name */
    char *names;       /* all names, NUL-separated */

    struct update_queue queue;

    pthread_t thread;
    bool sync_ready; /* the mutexes and condition below exist */
    bool started;
    _Atomic bool stop_requested;
    _Atomic bool running;
    _Atomic bool engine_sleeping;
    _Atomic uint64_t epoch; /* incremented after every engine pass */
    pthread_mutex_t wake_lock;
    pthread_cond_t wake_cond;

    pthread_mutex_t subs_lock; /* guards creation and removal of subs */
    struct bw_sub *_Atomic subs[BW_CORE_MAX_SUBSCRIBERS];

    _Atomic uint64_t updates_applied;
    _Atomic uint64_t updates_rejected;
    _Atomic uint64_t queue_full;
    _Atomic uint64_t changes_published;
    _Atomic uint64_t subscriber_lost;
};

/* update_queue.c */
int bw_core_queue_init(struct update_queue *q, size_t capacity);
void bw_core_queue_clear(struct update_queue *q);
/* Reserves up to want cells; returns how many (0 when full) and the first
 * position in *pos. The caller fills and publishes each. */
size_t bw_core_queue_reserve(struct update_queue *q, size_t want, size_t *pos);
void bw_core_queue_publish(struct update_queue *q, size_t pos);
/* Engine only: the next published cell, or NULL. */
struct update_cell *bw_core_queue_peek(struct update_queue *q);
void bw_core_queue_release(struct update_queue *q, struct update_cell *cell);

/* engine.c */
void bw_core_engine_wake(struct bw_core *core);
/* apply.c: applies up to one batch; returns how many updates it took. */
size_t bw_core_engine_pass(struct bw_core *core);

/* sub.c (engine side) */
void bw_core_sub_push(struct bw_sub *sub, uint32_t packed, uint64_t value, int64_t source_ts,
                      int64_t server_ts);
void bw_core_sub_flush(struct bw_sub *sub);

/* rules.c. The checks return BW_OK or BW_EDENIED with err filled; v is
 * the write's value, already of the tag's type and range. */
void bw_core_rules_free(struct tag_rules *rules);
/* validate.allowed, then validate.when. Lock-free. */
int bw_core_rules_check(const struct bw_core *core, uint32_t id, const struct tag_rules *rules,
                        const struct bw_value *v, struct bw_write_error *err);
/* validate.max_change; with rules->lock held, until
 * bw_core_rules_change_accepted (or not, when the writer refuses). */
int bw_core_rules_change_check(const struct bw_core *core, uint32_t id, struct tag_rules *rules,
                               const struct bw_value *v, struct change_window *window,
                               struct bw_write_error *err);
void bw_core_rules_change_accepted(struct tag_rules *rules, const struct change_window *window);

/* table.c */
void bw_core_slot_store(struct bw_core *core, uint32_t id, uint32_t quality_reason, uint64_t bits,
                        int64_t source_ts_us, int64_t server_ts_us, const char *str,
                        size_t str_len);
/* True when string tag id currently holds exactly s[0..len). Engine only. */
bool bw_core_slot_string_equal(const struct bw_core *core, uint32_t id, const char *s, size_t len);

static inline uint32_t bw_core_pack_quality(enum bw_quality q, enum bw_quality_reason r)
{
    return (uint32_t)q | (uint32_t)r << 8;
}

#endif
