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
 * timestamps not increasing, a non-finite value, n 0 or too many,
 * BW_ETOOLARGE when out is too small. */
BW_MUST_CHECK int bw_chunk_encode(const struct bw_sample *samples, size_t n, uint8_t *out,
                                  size_t out_size, size_t *len);

/* Decodes a chunk into out (room for max samples); *n is how many.
 * BW_EMALFORMED for bytes that are not a chunk (truncated, trailing
 * bytes, timestamps not increasing, overflow, a non-finite value),
 * BW_ETOOLARGE when more than max samples. Never reads outside data. */
BW_MUST_CHECK int bw_chunk_decode(const uint8_t *data, size_t len, struct bw_sample *out,
                                  size_t max, size_t *n);

#endif
