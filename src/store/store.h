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
    int64_t ts_us;   /* UTC microseconds */
    double value;
    uint8_t quality; /* enum bw_quality */
    uint8_t reason;  /* enum bw_quality_reason */
};

/* ---- logging rules (logrule.c) --------------------------------------- */

enum bw_log_mode { BW_LOG_ON_CHANGE = 0, BW_LOG_CYCLIC };

/* A tag's rule, from the project's "log" object. */
struct bw_log_rule {
    enum bw_log_mode mode;
    double deadband;          /* absolute, >= 0 (on change) */
    double deadband_percent;  /* 0..100 of span (on change); 0: none */
    double span;              /* the tag's max - min; 0: no range (percent of |last|) */
    int64_t period_us;        /* cyclic: > 0 */
    int64_t max_interval_us;  /* 0: none; else log at least this often */
};

/* Per-tag state of the rule: the last sample kept and the current value. */
struct bw_log_state {
    bool have_logged;
    struct bw_sample logged;  /* the last sample kept */
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
 * current value is due at now_us (*out set, stamped now_us). Call until
 * it returns false. */
bool bw_log_on_tick(const struct bw_log_rule *rule, struct bw_log_state *state, int64_t now_us,
                    struct bw_sample *out);

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

#endif
