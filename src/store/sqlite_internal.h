/* SPDX-License-Identifier: Apache-2.0
 *
 * store/sqlite: the SQLite back-end of the historian (STATE/history.db),
 * the layout of docs/internals/historian.md, format 2:
 *
 *   meta(key PK, value)                      format, seal, retention marks,
 *                                            last_batch_mac
 *   tags(id INTEGER PK, name UNIQUE, mac)    stable integer ids by name
 *   recent(seq INTEGER PK, t_min, t_max, data, prev_mac, mac)
 *                                            flushed batches not yet all in
 *                                            closed chunks, chained by MAC
 *   tails(tag PK, t1, grp, mac)              each tag's newest closed chunk:
 *                                            its end and its group
 *   days(grp, day, mac, PK(grp, day))        the partitions that exist
 *   c_<grp>_<day>(tag, t0, t1, n, prev_t1, prev_grp, data, mac,
 *                 PK(tag, t0)) WITHOUT ROWID closed chunks (bw_chunk_*)
 *   m_<grp>_<day>(tag, t, mn, mx, sm, fi, la, ft, lt, n, n_all,
 *                 PK(tag, t)) WITHOUT ROWID  minute aggregates
 *
 * grp is the log group's index, day the UTC day number (days since
 * 1970-01-01). A chunk holds the samples of one tag within one UTC
 * minute, so it never spans partitions. Every row the historian writes
 * except the minute aggregates (checked against their chunks) carries
 * an HMAC-SHA256 under the historian's key over its key and contents.
 * Each chunk names the end (prev_t1) and group (prev_grp) of its tag's
 * chunk before it (INT64_MIN and -1 for the first), so the chunks of a
 * tag form a chain across days and groups; tails holds its newest link.
 * meta 'seal' (struct sdb_seal) holds what no single row can tell: which
 * recent batches must exist, and the XOR of every tails row's MAC.
 * meta 'retained_<grp>' marks the days that retention dropped on
 * purpose (sdb_retention_mark).
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
#define SDB_HOUR_US 3600000000LL
#define SDB_FORMAT 2
#define SDB_MAC_LEN 32
/* prev_t1 and prev_grp of a tag's first chunk. */
#define SDB_NO_PREV_T1 INT64_MIN
#define SDB_NO_PREV_GRP (-1)

/* meta 'seal': what the writer keeps up to date in every transaction
 * that changes it, under one MAC. */
struct sdb_seal {
    /* The batches that must be in recent: seqs oldest..newest, the newest
     * with MAC recent_mac; 0, 0 when none is. */
    int64_t recent_oldest, recent_newest;
    uint8_t recent_mac[SDB_MAC_LEN];
    /* XOR of the MACs of every tails row. */
    uint8_t tails_xor[SDB_MAC_LEN];
    /* 0; else when a writer found the seal (or a tails row) changed or
     * missing. It stays set: the seal is not rebuilt over a change. */
    int64_t broken_us;
};

enum sdb_seal_state { SDB_SEAL_OK = 0, SDB_SEAL_MISSING, SDB_SEAL_CHANGED };

struct sdb {
    sqlite3 *db;
    struct bw_crypto_mac *mac; /* NULL for readers that do not verify */
    bool read_only;
    sqlite3_stmt *tag_insert, *tag_find, *recent_insert, *recent_delete, *day_insert;
    sqlite3_stmt *tail_find, *tail_put;
    /* The statements of the partition written last: a writer closes many
     * chunks of one day in a row, and preparing them for each cost most
     * of its time. Invalid after a rollback (it may have undone the
     * tables) and when partitions are dropped. */
    struct {
        bool valid;
        uint32_t grp;
        int64_t day;
        sqlite3_stmt *chunk, *minute, *hour;
    } part;
    /* The seal as the open transaction changed it (written at commit). */
    bool in_tx, seal_loaded, seal_dirty;
    struct sdb_seal seal;
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
 * NULL (a read-write connection needs it). BW_EIO with a logged reason
 * (also for a history.db of another format), BW_ENOMEM. */
BW_MUST_CHECK int sdb_open(struct sdb *s, const char *path, bool read_only, const uint8_t *key,
                           size_t key_len);
void sdb_close(struct sdb *s);

/* A write transaction; the commit writes the seal when it changed. */
/* Gives the free pages back to the file system (auto_vacuum is
 * incremental); outside a transaction. */
BW_MUST_CHECK int sdb_vacuum(struct sdb *s);
BW_MUST_CHECK int sdb_begin(struct sdb *s);
BW_MUST_CHECK int sdb_commit(struct sdb *s);
void sdb_rollback(struct sdb *s);

/* The id of tag name, creating it (read-write) when new: BW_ENOTFOUND
 * for an unknown name on a read-only connection. */
BW_MUST_CHECK int sdb_tag_id(struct sdb *s, const char *name, int64_t *id);

/* Ensures the partition (grp, day) exists (read-write). */
BW_MUST_CHECK int sdb_day_ensure(struct sdb *s, uint32_t grp, int64_t day);

/* A flushed batch (already encoded), sealed with prev_mac chained in;
 * mac_out (32 bytes) receives its MAC. The seal names it the newest. */
BW_MUST_CHECK int sdb_recent_insert(struct sdb *s, int64_t seq, int64_t t_min, int64_t t_max,
                                    const uint8_t *data, size_t len, const uint8_t prev_mac[32],
                                    uint8_t mac_out[32]);
/* The value of a meta key as a blob of exactly len bytes. */
BW_MUST_CHECK int sdb_meta_set_blob(struct sdb *s, const char *key, const void *data, size_t len);
BW_MUST_CHECK int sdb_meta_get_blob(struct sdb *s, const char *key, void *out, size_t len,
                                    bool *found);
/* The time of the last sample of tag in a closed chunk. */
BW_MUST_CHECK int sdb_tail_get(struct sdb *s, int64_t tag, int64_t *t1, bool *found);
/* Calls fn for each recent batch in order; stops at fn's first error. */
typedef int (*sdb_batch_fn)(void *ctx, int64_t seq, const uint8_t *data, size_t len);
BW_MUST_CHECK int sdb_recent_each(struct sdb *s, sdb_batch_fn fn, void *ctx);
/* Deletes the batches before seq (their samples are all in chunks); the
 * seal moves its oldest batch up to seq. */
BW_MUST_CHECK int sdb_recent_delete_before(struct sdb *s, int64_t seq);

/* A closed chunk of tag in group grp (samples[0..n), one UTC minute,
 * later than the tag's newest closed chunk: BW_EINVAL otherwise), linked
 * to that chunk, its minute aggregate (merged with an existing one for
 * that minute), and the tag's tails row. */
BW_MUST_CHECK int sdb_chunk_insert(struct sdb *s, uint32_t grp, int64_t tag,
                                   const struct bw_sample *samples, size_t n);

/* ---- seals (what verify.c recomputes) --------------------------------- */

/* The MACs of the rows as stored: HMAC-SHA256 over a domain label, the
 * fields as big-endian 64-bit integers, then the bytes. BW_ESTATE
 * without a key. */
BW_MUST_CHECK int sdb_chunk_mac(struct sdb *s, uint32_t grp, int64_t day, int64_t tag, int64_t t0,
                                int64_t t1, int64_t n, int64_t prev_t1, int64_t prev_grp,
                                const uint8_t *data, size_t len, uint8_t out[SDB_MAC_LEN]);
BW_MUST_CHECK int sdb_batch_mac(struct sdb *s, int64_t seq, int64_t t_min, int64_t t_max,
                                const uint8_t prev_mac[SDB_MAC_LEN], const uint8_t *data,
                                size_t len, uint8_t out[SDB_MAC_LEN]);
BW_MUST_CHECK int sdb_tag_mac(struct sdb *s, int64_t id, const char *name, size_t len,
                              uint8_t out[SDB_MAC_LEN]);
BW_MUST_CHECK int sdb_day_mac(struct sdb *s, int64_t grp, int64_t day, uint8_t out[SDB_MAC_LEN]);
BW_MUST_CHECK int sdb_tail_mac(struct sdb *s, int64_t tag, int64_t t1, int64_t grp,
                               uint8_t out[SDB_MAC_LEN]);

/* The seal as stored (*state SDB_SEAL_OK), or what could be read of it
 * (CHANGED: its MAC does not hold; MISSING: zeros). Read-only use. */
BW_MUST_CHECK int sdb_seal_get(struct sdb *s, struct sdb_seal *out, enum sdb_seal_state *state);

/* Retention dropped the days of group grp before first_day on purpose:
 * a tag's chain may start after them. Only raises the mark. Call in the
 * transaction that drops the partitions (nothing calls it yet). */
BW_MUST_CHECK int sdb_retention_mark(struct sdb *s, uint32_t grp, int64_t first_day);
/* Drops partition (grp, day) - its chunks and aggregates - and marks
 * the days before the next one as retained on purpose. In a write
 * transaction. */
BW_MUST_CHECK int sdb_partition_drop(struct sdb *s, uint32_t grp, int64_t day);
/* The days of group grp's partitions, oldest first (free *days). */
BW_MUST_CHECK int sdb_partitions_of(struct sdb *s, uint32_t grp, int64_t **days, size_t *count);
/* Bytes on disk of a partition's tables (pages, from dbstat). */
BW_MUST_CHECK int sdb_partition_bytes(struct sdb *s, uint32_t grp, int64_t day, uint64_t *bytes);
/* The mark of group grp: *found false when none, *valid false when its
 * MAC does not hold (*first_day then unusable). */
BW_MUST_CHECK int sdb_retention_get(struct sdb *s, uint32_t grp, int64_t *first_day, bool *found,
                                    bool *valid);

/* The table of kind 'c' (chunks) or 'm' (minute aggregates) of a
 * partition; "" when it does not fit. And back: false for a name that
 * is not one (exactly as table_name writes it). */
void sdb_table_name(char *out, size_t size, char kind, uint32_t grp, int64_t day);
bool sdb_table_parse(const char *name, char *kind, uint32_t *grp, int64_t *day);

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
/* The same for the hour aggregates (h_<grp>_<day>, by hour start). */
BW_MUST_CHECK int sdb_hours_read(struct sdb *s, uint32_t grp, int64_t tag, int64_t from, int64_t to,
                                 sdb_agg_fn fn, void *ctx);

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
