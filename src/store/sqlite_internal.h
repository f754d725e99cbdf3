/* SPDX-License-Identifier: Apache-2.0
 *
 * store/sqlite: the SQLite back-end of the historian (STATE/history.db),
 * the layout of docs/internals/historian.md:
 *
 *   meta(key PK, value)                      format version
 *   tags(id INTEGER PK, name UNIQUE)         stable integer ids by name
 *   recent(seq INTEGER PK, t_min, t_max, data, mac)
 *                                            flushed batches not yet all in
 *                                            closed chunks
 *   days(grp, day, PK(grp, day))             the partitions that exist
 *   c_<grp>_<day>(tag, t0, t1, n, data, mac, PK(tag, t0)) WITHOUT ROWID
 *                                            closed chunks (bw_chunk_*)
 *   m_<grp>_<day>(tag, t, mn, mx, sm, fi, la, n, PK(tag, t)) WITHOUT ROWID
 *                                            minute aggregates
 *
 * grp is the log group's index, day the UTC day number (days since
 * 1970-01-01). A chunk holds the samples of one tag within one UTC
 * minute, so it never spans partitions. Every chunk and batch carries an
 * HMAC-SHA256 over its key and contents under the historian's key.
 *
 * One connection per thread; the writer owns the read-write one.
 */
#ifndef BW_STORE_SQLITE_INTERNAL_H
#define BW_STORE_SQLITE_INTERNAL_H

#include "crypto/crypto.h"
#include "store/store.h"

#include <sqlite3.h>

#define SDB_DAY_US 86400000000LL
#define SDB_MINUTE_US 60000000LL

struct sdb {
    sqlite3 *db;
    struct bw_crypto_mac *mac; /* NULL for readers that do not verify */
    bool read_only;
    sqlite3_stmt *tag_insert, *tag_find, *recent_insert, *recent_delete, *day_insert;
};

/* Aggregates of the samples of one minute (or any range). Bad samples
 * count in n_all but not in the value statistics. */
struct sdb_agg {
    double mn, mx, sum, first, last;
    uint32_t n;     /* samples of good or uncertain quality */
    uint32_t n_all; /* every sample */
};

void sdb_agg_init(struct sdb_agg *a);
void sdb_agg_add(struct sdb_agg *a, const struct bw_sample *s);

/* Opens (creating when read-write) path. key: the MAC key (32 bytes) or
 * NULL. BW_EIO with a logged reason, BW_ENOMEM. */
BW_MUST_CHECK int sdb_open(struct sdb *s, const char *path, bool read_only, const uint8_t *key,
                           size_t key_len);
void sdb_close(struct sdb *s);

BW_MUST_CHECK int sdb_begin(struct sdb *s);
BW_MUST_CHECK int sdb_commit(struct sdb *s);
void sdb_rollback(struct sdb *s);

/* The id of tag name, creating it (read-write) when new: BW_ENOTFOUND
 * for an unknown name on a read-only connection. */
BW_MUST_CHECK int sdb_tag_id(struct sdb *s, const char *name, int64_t *id);

/* Ensures the partition (grp, day) exists (read-write). */
BW_MUST_CHECK int sdb_day_ensure(struct sdb *s, uint32_t grp, int64_t day);

/* A flushed batch (already encoded), sealed with prev_mac chained in;
 * mac_out (32 bytes) receives its MAC. */
BW_MUST_CHECK int sdb_recent_insert(struct sdb *s, int64_t seq, int64_t t_min, int64_t t_max,
                                    const uint8_t *data, size_t len, const uint8_t prev_mac[32],
                                    uint8_t mac_out[32]);
/* The value of a meta key as a blob of exactly len bytes. */
BW_MUST_CHECK int sdb_meta_set_blob(struct sdb *s, const char *key, const void *data, size_t len);
BW_MUST_CHECK int sdb_meta_get_blob(struct sdb *s, const char *key, void *out, size_t len,
                                    bool *found);
/* The time of the last sample of tag in a closed chunk. */
BW_MUST_CHECK int sdb_tail_set(struct sdb *s, int64_t tag, int64_t t1);
BW_MUST_CHECK int sdb_tail_get(struct sdb *s, int64_t tag, int64_t *t1, bool *found);
/* Calls fn for each recent batch in order; stops at fn's first error. */
typedef int (*sdb_batch_fn)(void *ctx, int64_t seq, const uint8_t *data, size_t len);
BW_MUST_CHECK int sdb_recent_each(struct sdb *s, sdb_batch_fn fn, void *ctx);
/* Deletes the batches before seq (their samples are all in chunks). */
BW_MUST_CHECK int sdb_recent_delete_before(struct sdb *s, int64_t seq);

/* A closed chunk of tag in group grp (samples[0..n), one UTC minute) and
 * its minute aggregate (merged with an existing one for that minute). */
BW_MUST_CHECK int sdb_chunk_insert(struct sdb *s, uint32_t grp, int64_t tag,
                                   const struct bw_sample *samples, size_t n);

/* The MAC of a chunk as stored (key fields and data). */
BW_MUST_CHECK int sdb_chunk_mac(struct sdb *s, uint32_t grp, int64_t day, int64_t tag, int64_t t0,
                                int64_t t1, int64_t n, const uint8_t *data, size_t len,
                                uint8_t out[32]);

/* Calls fn for each sample of tag in [from, to) of group grp, in time
 * order, from the closed chunks only; stops when fn returns false.
 * BW_EMALFORMED when a stored chunk does not decode. */
typedef bool (*sdb_sample_fn)(void *ctx, const struct bw_sample *s);
BW_MUST_CHECK int sdb_chunks_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from,
                                  int64_t to, sdb_sample_fn fn, void *ctx);

/* The groups that have a partition within days [first, last]. */
BW_MUST_CHECK int sdb_groups_between(struct sdb *s, int64_t first_day, int64_t last_day,
                                     uint32_t **out, size_t *count);
/* The last sample of tag in group grp's chunks before `before`, looking
 * back to `since`; *found false when none. */
BW_MUST_CHECK int sdb_chunk_last_before(struct sdb *s, uint32_t grp, int64_t tag, int64_t since,
                                        int64_t before, struct bw_sample *out, bool *found);
/* Recent batches that may hold samples in [from, to), in order. */
BW_MUST_CHECK int sdb_recent_range(struct sdb *s, int64_t from, int64_t to, sdb_batch_fn fn,
                                   void *ctx);

/* Calls fn for each minute aggregate of tag in [from, to) (by minute
 * start), in time order. */
typedef bool (*sdb_agg_fn)(void *ctx, int64_t minute_us, const struct sdb_agg *a);
BW_MUST_CHECK int sdb_minutes_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from,
                                   int64_t to, sdb_agg_fn fn, void *ctx);

/* ---- recent batches (batch.c) ----------------------------------------- */

/* The samples of one tag in a batch, strictly increasing in time. */
struct sdb_run {
    int64_t tag; /* the tag's id in history.db */
    const struct bw_sample *samples;
    size_t n;
};

/* A batch's data: for each run, varint tag id, varint length, and the
 * run's samples as a chunk (bw_chunk_encode). *out is allocated (free
 * with bw_free). */
BW_MUST_CHECK int sdb_batch_encode(const struct sdb_run *runs, size_t n, uint8_t **out,
                                   size_t *len);
/* Calls fn for each run of a batch's data; BW_EMALFORMED for bytes that
 * are not a batch. samples passed to fn live for the call only. */
typedef int (*sdb_run_fn)(void *ctx, int64_t tag, const struct bw_sample *samples, size_t n);
BW_MUST_CHECK int sdb_batch_each(const uint8_t *data, size_t len, sdb_run_fn fn, void *ctx);

#endif
