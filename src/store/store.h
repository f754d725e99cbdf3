/* SPDX-License-Identifier: Apache-2.0
 *
 * store: the historian (docs/internals/historian.md). This header grows
 * with the historian; today it holds its pure parts:
 *
 * - the logging rules, which turn a tag's changes into the samples to
 *   keep (deadband, cyclic, maximum interval);
 * - the chunk codec, which packs the samples of one tag into the bytes
 *   of a chunk and back.
 *
 * Any thread; no shared state.
 */
#ifndef BW_STORE_H
#define BW_STORE_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- samples ---------------------------------------------------------- */

/* One historised value. Bool and int tags are kept as integral doubles
 * (exact up to 2^53); string tags are not historised. */
struct bw_sample {
    int64_t ts_us; /* UTC microseconds */
    double value;
    uint8_t quality; /* enum bw_quality */
    uint8_t reason;  /* enum bw_quality_reason */
};

/* ---- logging rules (logrule.c) --------------------------------------- */

enum bw_log_mode { BW_LOG_ON_CHANGE = 0, BW_LOG_CYCLIC };

/* A tag's rule, from the project's "log" object. */
struct bw_log_rule {
    enum bw_log_mode mode;
    double deadband;         /* absolute, >= 0 (on change) */
    double deadband_percent; /* 0..100 of span (on change); 0: none */
    double span;             /* the tag's max - min; 0: no range (percent of |last|) */
    int64_t period_us;       /* cyclic: > 0 */
    int64_t max_interval_us; /* 0: none; else log at least this often */
};

/* Per-tag state of the rule: the last sample kept and the current value. */
struct bw_log_state {
    bool have_logged;
    struct bw_sample logged; /* the last sample kept */
    bool have_current;
    struct bw_sample current; /* the tag's latest value */
    int64_t next_due_us;      /* cyclic or max interval: when a sample is due; 0: none */
};

void bw_log_state_init(struct bw_log_state *state);

/* A change of the tag (value and quality as the engine applied it):
 * true when it is to be kept (*out set), and the state updated. */
bool bw_log_on_change(const struct bw_log_rule *rule, struct bw_log_state *state,
                      const struct bw_sample *change, struct bw_sample *out);

/* Time passes: true when a cyclic or maximum-interval sample of the
 * current value is due at or before now_us (*out set, stamped at its due
 * time). Call until it returns false. */
bool bw_log_on_tick(const struct bw_log_rule *rule, struct bw_log_state *state, int64_t now_us,
                    struct bw_sample *out);

/* ---- query parameters (query.c) --------------------------------------- */

#define BW_HISTORY_TAG_MAX 128u
#define BW_HISTORY_QUERY_MAX 4096u
#define BW_HISTORY_MAX_POINTS 10000u
#define BW_HISTORY_MAX_LIMIT 100000u
#define BW_HISTORY_DEFAULT_LIMIT 10000u

/* What a history query asks: raw samples of tag in [from, to) (points
 * 0), a page of at most limit after cursor; or points buckets over the
 * range. */
struct bw_history_query {
    char tag[BW_HISTORY_TAG_MAX + 1];
    int64_t from_us, to_us;
    uint32_t points;   /* 0: raw samples; 1..BW_HISTORY_MAX_POINTS buckets */
    uint32_t limit;    /* raw: 1..BW_HISTORY_MAX_LIMIT, default 10000 */
    int64_t cursor_us; /* raw: samples after this time; INT64_MIN: from the start */
    uint32_t seen;     /* keys given (one bit each) */
};

void bw_history_query_init(struct bw_history_query *q);
/* One parameter: key is tag, from, to (RFC 3339 UTC, "now" or
 * "now-<N><s|m|h|d>" against now_us), points, limit or cursor; each at
 * most once. BW_EINVAL, BW_EMALFORMED or BW_ERANGE with err saying which
 * key and why (echoing at most 32 bytes of the input). */
BW_MUST_CHECK int bw_history_query_set(struct bw_history_query *q, const char *key, size_t key_len,
                                       const char *value, size_t len, int64_t now_us, char *err,
                                       size_t errlen);
/* The query as a whole: tag, from and to given, to later than from (at
 * most 100 years), limit and cursor only for raw samples, the cursor
 * within the range. */
BW_MUST_CHECK int bw_history_query_check(const struct bw_history_query *q, char *err,
                                         size_t errlen);
/* A URL query string ("tag=T1.Level&from=now-1h&to=now&points=500"),
 * percent-decoded, at most 4096 bytes, set and checked as above;
 * BW_ETOOLARGE for a longer one. This is the entry point the fuzzer
 * drives. */
BW_MUST_CHECK int bw_history_query_parse(const char *text, size_t len, int64_t now_us,
                                         struct bw_history_query *q, char *err, size_t errlen);

/* ---- the chunk codec (chunk.c) --------------------------------------- */

/* Most samples one chunk holds. */
#define BW_CHUNK_MAX_SAMPLES 4096u
/* Bytes one sample can take at most when encoded. */
#define BW_CHUNK_SAMPLE_MAX 21u

/* Encodes n samples (timestamps strictly increasing, n <=
 * BW_CHUNK_MAX_SAMPLES) into out (out_size >= n * BW_CHUNK_SAMPLE_MAX +
 * 16 always suffices); *len is the bytes used. BW_EINVAL for
 * timestamps not increasing (or more than INT64_MAX us apart), a
 * non-finite value, a quality or reason outside the engine's enums, n 0
 * or too many, BW_ETOOLARGE when out is too small. */
BW_MUST_CHECK int bw_chunk_encode(const struct bw_sample *samples, size_t n, uint8_t *out,
                                  size_t out_size, size_t *len);

/* Decodes a chunk into out (room for max samples); *n is how many.
 * BW_EMALFORMED for bytes that are not a chunk (truncated, trailing
 * bytes, timestamps not increasing, overflow, a non-finite value),
 * BW_ETOOLARGE when more than max samples. Never reads outside data. */
BW_MUST_CHECK int bw_chunk_decode(const uint8_t *data, size_t len, struct bw_sample *out,
                                  size_t max, size_t *n);

/* ---- the key (key.c) ------------------------------------------------- */

#define BW_STORE_KEY_LEN 32u

/* Loads STATE/keys/history-mac.key, making it (and the 0700 keys
 * directory) when create is true and it is missing. BW_ENOTFOUND when
 * missing and not created, BW_EDENIED for a keys directory others may
 * enter, the errors of bw_crypto_secret_file_load. */
BW_MUST_CHECK int bw_store_key_load(const char *state_dir, bool create,
                                    uint8_t key[BW_STORE_KEY_LEN]);

/* ---- the historian (writer.c, reader.c) ------------------------------ */

/* A log group's limits. */
struct bw_store_group_policy {
    uint32_t retention_days; /* days kept, today included; 0: no limit */
    uint64_t max_bytes;      /* size cap of its partitions; 0: none */
};

/* What capacity management reports (for the audit trail). */
enum bw_store_event_kind {
    BW_STORE_EV_PARTITION_DROPPED = 0, /* group, day, reason (retention, size cap) */
    BW_STORE_EV_CAPACITY,              /* group passed a threshold: percent of limit */
    BW_STORE_EV_LOW_SPACE,             /* the file system has less than limit free */
    BW_STORE_EV_SPACE_RECOVERED,       /* it has enough again */
};

struct bw_store_event {
    enum bw_store_event_kind kind;
    uint32_t group;
    int64_t day; /* UTC days since 1970-01-01 */
    unsigned percent;
    uint64_t bytes, limit;
    const char *reason;
};

/* Called on the writer's thread; must not block for long. */
typedef void (*bw_store_event_fn)(void *ctx, const struct bw_store_event *ev);

/* What the historian is given at open. Tag index i of bw_store_append is
 * tag_names[i]; its log group is tag_groups[i]. Strings and arrays are
 * borrowed for the call. */
struct bw_store_config {
    const char *path;   /* history.db */
    const uint8_t *key; /* HMAC key of the seals */
    size_t key_len;
    size_t queue_samples; /* the bounded queue; 0: 1,000,000 */
    const char *const *tag_names;
    const uint32_t *tag_groups;
    size_t tag_count;
    /* Flush at most this long after the first sample waits (0: 100 ms)
     * and at this many samples (0: 10,000). */
    uint32_t flush_ms;
    uint32_t flush_samples;
    /* When the queue is full, samples go to PATH-spool, at most this
     * many bytes (24 a sample), and are written from there in order;
     * 0: no spool. */
    uint64_t spool_bytes;
    /* Capacity: the groups' limits (index = tag_groups value; at most
     * 64), warning thresholds in percent of a cap (increasing, at most
     * 4), the free space to keep, and how often to check (0: every
     * minute). */
    const struct bw_store_group_policy *groups;
    size_t group_count;
    const uint8_t *warn_percent;
    size_t warn_count;
    uint64_t min_free_bytes;
    uint32_t capacity_period_ms;
    bw_store_event_fn on_event;
    void *event_ctx;
    /* The wall clock, UTC us (tests give a synthetic one); NULL: the
     * system's. */
    int64_t (*clock_us)(void);
};

struct bw_store;

struct bw_store_stats {
    uint64_t appended;     /* samples taken into the queue */
    uint64_t refused;      /* samples the full queue (and spool) refused */
    uint64_t spooled;      /* samples that went through the spool */
    uint64_t written;      /* samples durable in history.db */
    uint64_t dropped;      /* samples out of order for their tag */
    uint64_t batches;      /* flushes committed */
    uint64_t chunks;       /* chunks closed */
    uint64_t failures;     /* flushes that failed (retried) */
    uint64_t replayed;     /* samples of unclosed chunks read back at open */
    uint64_t lost_at_open; /* samples queued before a crash that never reached the disk */
};

/* Opens (creating) the history, reads back the samples of chunks that
 * were not closed, and starts the writer thread. BW_EIO, BW_ENOMEM. */
BW_MUST_CHECK int bw_store_open(const struct bw_store_config *cfg, struct bw_store **out);
/* Queues one sample of tag index tag. Any thread; never waits for the
 * disk: BW_EFULL when the queue is full (the caller spools or counts),
 * BW_EINVAL for an unknown tag or a non-finite value. */
BW_MUST_CHECK int bw_store_append(struct bw_store *st, uint32_t tag, const struct bw_sample *s);
/* Waits until every sample appended before the call is durable (or the
 * flush failed: BW_EIO). */
BW_MUST_CHECK int bw_store_flush(struct bw_store *st);
void bw_store_stats_get(struct bw_store *st, struct bw_store_stats *out);
/* Holds the writer (true) until released (false): samples wait in the
 * queue and then the spool. For maintenance and tests. */
void bw_store_hold(struct bw_store *st, bool hold);
/* Runs the capacity check now (after what is queued) and waits for it. */
BW_MUST_CHECK int bw_store_maintain(struct bw_store *st);
/* Flushes, stops the writer and closes. Chunks still open stay in the
 * recent batches and are read back by the next open. */
void bw_store_close(struct bw_store *st);

/* ---- backup (backup.c) ----------------------------------------------- */

/* Copies history.db at path into dest (created, mode 0600; it must not
 * exist) as one consistent state while writing goes on. BW_EEXIST when
 * dest exists, BW_EIO (dest removed). */
BW_MUST_CHECK int bw_store_backup(const char *path, const char *dest);

/* ---- reading (reader.c) ---------------------------------------------- */

/* A read-only view of history.db, for queries with or without the
 * daemon running. One thread at a time. */
struct bw_history;

BW_MUST_CHECK int bw_history_open(const char *path, struct bw_history **out);
void bw_history_close(struct bw_history *h);

/* Raw samples of a query with points 0: at most q->limit samples after
 * q->cursor_us within [from, to), in time order, to fn (which returns
 * false to stop). *more is true when samples remain beyond the last one
 * given (its time is the next cursor). BW_ENOTFOUND for a tag the
 * history never saw. */
typedef bool (*bw_history_sample_fn)(void *ctx, const struct bw_sample *s);
BW_MUST_CHECK int bw_history_raw(struct bw_history *h, const struct bw_history_query *q,
                                 bw_history_sample_fn fn, void *ctx, bool *more);

/* One bucket of a trend. count counts samples of good or uncertain
 * quality (the statistics are over those); count_all every sample. */
struct bw_history_bucket {
    int64_t start_us, end_us;
    double min, max, avg, first, last;
    uint64_t count, count_all;
};

/* A trend of at most q->points buckets over [from, to). Buckets of an
 * hour or longer are whole hours, answered from the hour aggregates;
 * buckets of a minute or longer whole minutes, from the minute
 * aggregates (either may start before from and end after to), both
 * with the samples not yet in a closed chunk; shorter ones come from
 * raw samples, the last ending at to.
 * *n receives how many buckets were filled into out (room for
 * q->points); empty buckets are given with count_all 0. */
BW_MUST_CHECK int bw_history_trend(struct bw_history *h, const struct bw_history_query *q,
                                   struct bw_history_bucket *out, size_t *n);

/* The last sample of tag before `before` (for the left edge of a
 * trend), looking back at most `horizon_us`; BW_ENOTFOUND when none. */
BW_MUST_CHECK int bw_history_latest_before(struct bw_history *h, const char *tag, int64_t before,
                                           int64_t horizon_us, struct bw_sample *out);

/* ---- the integrity check (verify.c) ---------------------------------- */

/* One thing found wrong. what is a sentence for people, naming the tag
 * and the time range (RFC 3339 UTC) where it can, e.g. "tag T1.Level:
 * samples between 2026-12-04T10:01:00Z and 2026-12-04T10:03:00Z are
 * missing (a chunk was deleted)"; valid UTF-8, but text from the file
 * (a tag name) in it is not otherwise escaped. tag is "" when no one
 * tag is concerned. from_us is INT64_MIN and to_us INT64_MAX where the
 * range is open or unknown. */
struct bw_history_problem {
    char what[256];
    int64_t from_us, to_us;
    char tag[BW_HISTORY_TAG_MAX + 1];
};

/* Receives each problem (borrowed for the call), in the order found. */
typedef void (*bw_history_problem_fn)(void *ctx, const struct bw_history_problem *p);

struct bw_history_verify_stats {
    uint64_t chunks;     /* closed chunks checked */
    uint64_t samples;    /* in those chunks, and in recent batches beyond them */
    uint64_t batches;    /* recent batches checked */
    uint64_t partitions; /* (group, day) partitions found */
    uint64_t problems;   /* given to fn */
};

/* Checks history.db at path against the seals made under key (the
 * historian's, bw_store_key_load): every tag, partition, chunk, minute
 * aggregate and recent batch, and the chains between them, in one
 * read-only snapshot (the daemon may be writing). Each changed, deleted
 * or inserted sample or row found is given to fn (may be NULL), with
 * the tag and time range where they can be told. BW_OK when the check
 * ran to its end, whatever it found (count in out->problems); BW_EINVAL
 * for no key; BW_EIO when the file cannot be opened or read as a
 * history (a reason is logged); BW_ENOMEM. *out is filled either way.
 * Any thread; opens its own connection. */
BW_MUST_CHECK int bw_history_verify(const char *path, const uint8_t *key, size_t key_len,
                                    bw_history_problem_fn fn, void *ctx,
                                    struct bw_history_verify_stats *out);

#endif
