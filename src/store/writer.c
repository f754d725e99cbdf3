/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's writer: a bounded queue that any thread appends to
 * without waiting, and one thread that drains it in batches (every
 * flush_ms or flush_samples, whichever comes first).
 *
 * Each batch is made durable in one transaction as a sealed row of
 * `recent` (chained to the previous batch's MAC). Its samples then join
 * their tag's open chunk in memory, one UTC minute per chunk; a chunk
 * closes when a sample of a later minute arrives, when it is full, or
 * when its minute has been over for CLOSE_GRACE_US. Closed chunks are
 * written in a second transaction with their minute aggregates, and the
 * recent batches whose samples are all in chunks are deleted. When that
 * transaction fails the chunks stay queued for the next one; nothing in
 * memory is dropped before the disk has it. At open, the recent batches
 * are read back into the open chunks.
 */
#include "store/capacity.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_QUEUE 1000000u
#define DEFAULT_FLUSH_MS 100u
#define DEFAULT_FLUSH_SAMPLES 10000u
/* A minute's chunk waits this long after the minute for late samples. */
#define CLOSE_GRACE_US 5000000LL
/* An open chunk keeps the recent batches from its first one on; at 10
 * flushes a second this is two minutes of them. */
#define MAX_HELD_BATCHES 1200
#define MAC_LEN 32

struct queued {
    uint32_t tag;
    struct bw_sample s;
};

/* A chunk: samples of one tag within one minute. */
struct chunk {
    struct bw_sample *samples;
    size_t n, cap;
    int64_t minute;    /* start, us */
    int64_t first_seq; /* the batch that brought its first sample */
};

struct wtag {
    int64_t id;                /* in history.db */
    uint32_t group;            /* log group */
    int64_t last_ts;           /* last sample taken (closed or open); INT64_MIN: none */
    int64_t last_seen_mono_us; /* monotonic time of its last sample */
    struct chunk open;
};

/* A chunk closed in memory, waiting for its transaction. */
struct closing {
    uint32_t tag; /* index */
    struct chunk c;
};

struct bw_store {
    struct sdb db;
    struct wtag *tags;
    size_t tag_count;
    uint32_t flush_ms, flush_samples;

    pthread_mutex_t lock;
    pthread_cond_t work, done;
    struct queued *queue, *spare;
    size_t queue_len, queue_cap;
    int64_t first_at_us;                    /* monotonic: when the oldest queued sample came */
    uint64_t appended_total, handled_total; /* queue and spool; handled: written or dropped */
    bool flush_wanted, stopping, failed;
    bool held; /* bw_store_hold: the writer waits */
    bool maintain_wanted;
    uint64_t maintained; /* capacity checks done */
    int maintain_rc;

    /* The spool (under lock): when the queue is full, samples go to the
     * file, and keep going there until the writer has drained it, so
     * that they are written in the order they came. */
    int spool_fd; /* -1: no spool */
    uint64_t spool_cap, spool_read, spool_end;
    bool spooling;
    pthread_t thread;
    bool running;

    /* Samples taken into the queue, ever, in a shared mapping of
     * PATH-intake, so that after a crash the next open can tell how
     * many never reached the disk (against meta 'done'). Under lock. */
    uint64_t *intake;
    int intake_fd;

    /* Writer thread only. */
    struct store_capacity capacity;
    int64_t (*clock_us)(void);
    uint32_t capacity_period_ms;
    int64_t next_capacity_mono_us;
    uint64_t done_total; /* samples taken from the queue and dealt with */
    struct closing *closing;
    size_t closing_len, closing_cap;
    int64_t next_seq;
    int64_t newest_ts; /* the latest sample time the writer has seen */
    uint8_t last_mac[MAC_LEN];
    struct bw_store_stats stats; /* under lock */
};

/* ---- chunks in memory ------------------------------------------------ */

static int64_t minute_of(int64_t ts)
{
    int64_t q = ts / SDB_MINUTE_US;
    if (ts % SDB_MINUTE_US != 0 && ts < 0)
        q--;
    return q * SDB_MINUTE_US;
}

static int chunk_push(struct chunk *c, const struct bw_sample *s)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        if (cap > BW_CHUNK_MAX_SAMPLES)
            cap = BW_CHUNK_MAX_SAMPLES;
        struct bw_sample *grown = bw_realloc(c->samples, cap * sizeof(*grown));
        if (!grown)
            return BW_ENOMEM;
        c->samples = grown;
        c->cap = cap;
    }
    c->samples[c->n++] = *s;
    return BW_OK;
}

/* Moves tag i's open chunk to the closing list. */
static int close_open(struct bw_store *st, uint32_t i)
{
    struct wtag *t = &st->tags[i];
    if (t->open.n == 0)
        return BW_OK;
    if (st->closing_len == st->closing_cap) {
        size_t cap = st->closing_cap ? st->closing_cap * 2 : 256;
        struct closing *grown = bw_realloc(st->closing, cap * sizeof(*grown));
        if (!grown)
            return BW_ENOMEM;
        st->closing = grown;
        st->closing_cap = cap;
    }
    st->closing[st->closing_len++] = (struct closing){.tag = i, .c = t->open};
    memset(&t->open, 0, sizeof(t->open));
    return BW_OK;
}

/* A sample of tag i from batch seq into its open chunk. */
static int take_sample(struct bw_store *st, uint32_t i, const struct bw_sample *s, int64_t seq)
{
    struct wtag *t = &st->tags[i];
    int64_t minute = minute_of(s->ts_us);
    if (t->open.n && (minute != t->open.minute || t->open.n == BW_CHUNK_MAX_SAMPLES)) {
        int rc = close_open(st, i);
        if (rc)
            return rc;
    }
    if (t->open.n == 0) {
        t->open.minute = minute;
        t->open.first_seq = seq;
    }
    t->last_ts = s->ts_us;
    t->last_seen_mono_us = bw_clock_monotonic_us();
    if (s->ts_us > st->newest_ts)
        st->newest_ts = s->ts_us;
    return chunk_push(&t->open, s);
}

/* ---- one batch -------------------------------------------------------- */

static int by_tag_then_time(const void *a, const void *b)
{
    const struct queued *x = a, *y = b;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    if (x->s.ts_us != y->s.ts_us)
        return x->s.ts_us < y->s.ts_us ? -1 : 1;
    return 0;
}

/* Keeps, per tag, only samples later than the tag's last one (in place);
 * returns how many remain. */
static size_t drop_out_of_order(struct bw_store *st, struct queued *q, size_t n)
{
    size_t kept = 0;
    int64_t last = INT64_MIN;
    uint32_t tag = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (q[i].tag != tag) {
            tag = q[i].tag;
            last = st->tags[tag].last_ts;
        }
        if (q[i].s.ts_us <= last)
            continue;
        last = q[i].s.ts_us;
        q[kept++] = q[i];
    }
    return kept;
}

/* The batch as a recent row: runs of each tag's samples. */
static int encode_batch(struct bw_store *st, const struct queued *q, size_t n, uint8_t **data,
                        size_t *len, struct bw_sample **scratch)
{
    struct sdb_run *runs = bw_calloc(n ? n : 1, sizeof(*runs));
    *scratch = bw_calloc(n ? n : 1, sizeof(**scratch));
    if (!runs || !*scratch) {
        bw_free(runs);
        return BW_ENOMEM;
    }
    size_t nr = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && q[j].tag == q[i].tag && j - i < BW_CHUNK_MAX_SAMPLES) {
            (*scratch)[j] = q[j].s;
            j++;
        }
        runs[nr++] =
            (struct sdb_run){.tag = st->tags[q[i].tag].id, .samples = *scratch + i, .n = j - i};
        i = j;
    }
    int rc = sdb_batch_encode(runs, nr, data, len);
    bw_free(runs);
    return rc;
}

static void put_u64(uint8_t out[8], uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | in[i];
    return v;
}

/* Records how many queued samples have been dealt with (in the open
 * transaction). */
static int note_done(struct bw_store *st, uint64_t done)
{
    uint8_t b[8];
    put_u64(b, done);
    return sdb_meta_set_blob(&st->db, "done", b, sizeof(b));
}

static int write_recent(struct bw_store *st, const struct queued *q, size_t n, uint64_t done)
{
    uint8_t *data = NULL;
    size_t len = 0;
    struct bw_sample *scratch = NULL;
    int rc = encode_batch(st, q, n, &data, &len, &scratch);
    bw_free(scratch);
    if (rc)
        return rc;
    int64_t t_min = INT64_MAX, t_max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        t_min = q[i].s.ts_us < t_min ? q[i].s.ts_us : t_min;
        t_max = q[i].s.ts_us > t_max ? q[i].s.ts_us : t_max;
    }
    uint8_t mac[MAC_LEN];
    rc = sdb_begin(&st->db);
    if (!rc)
        rc = sdb_recent_insert(&st->db, st->next_seq, t_min, t_max, data, len, st->last_mac, mac);
    if (!rc)
        rc = sdb_meta_set_blob(&st->db, "last_batch_mac", mac, MAC_LEN);
    if (!rc)
        rc = note_done(st, done);
    if (!rc)
        rc = sdb_commit(&st->db);
    if (rc)
        sdb_rollback(&st->db);
    else
        memcpy(st->last_mac, mac, MAC_LEN);
    bw_free(data);
    return rc;
}

/* Writes the closing chunks and deletes what no chunk needs any more. */
static int write_chunks(struct bw_store *st)
{
    if (st->closing_len == 0)
        return BW_OK;
    int rc = sdb_begin(&st->db);
    for (size_t k = 0; !rc && k < st->closing_len; k++) {
        const struct closing *c = &st->closing[k];
        const struct wtag *t = &st->tags[c->tag];
        rc = sdb_chunk_insert(&st->db, t->group, t->id, c->c.samples, c->c.n);
    }
    size_t closed = st->closing_len;
    if (!rc) {
        /* What the closing chunks needed is theirs no more. */
        int64_t keep_from = st->next_seq;
        for (size_t i = 0; i < st->tag_count; i++)
            if (st->tags[i].open.n && st->tags[i].open.first_seq < keep_from)
                keep_from = st->tags[i].open.first_seq;
        rc = sdb_recent_delete_before(&st->db, keep_from);
    }
    if (!rc)
        rc = sdb_commit(&st->db);
    if (rc) {
        sdb_rollback(&st->db);
        return rc;
    }
    for (size_t k = 0; k < closed; k++)
        bw_free(st->closing[k].c.samples);
    st->closing_len = 0;
    pthread_mutex_lock(&st->lock);
    st->stats.chunks += closed;
    pthread_mutex_unlock(&st->lock);
    return BW_OK;
}

/* A chunk closes when its minute is over: by the newest sample the
 * writer has seen (the stream's own time, so that backfill and a spool
 * being replayed fill their chunks), or, for a tag that has gone quiet,
 * by the clock; and whatever happens once it holds back too many recent
 * batches, since those cannot be deleted while it is open. */
static int close_finished(struct bw_store *st, int64_t now_mono_us)
{
    for (size_t i = 0; i < st->tag_count; i++) {
        const struct wtag *t = &st->tags[i];
        const struct chunk *c = &t->open;
        if (!c->n)
            continue;
        int64_t over = c->minute + SDB_MINUTE_US + CLOSE_GRACE_US;
        bool done = over <= st->newest_ts ||
                    now_mono_us - t->last_seen_mono_us >= SDB_MINUTE_US + CLOSE_GRACE_US ||
                    st->next_seq - c->first_seq > MAX_HELD_BATCHES;
        if (done) {
            int rc = close_open(st, (uint32_t)i);
            if (rc)
                return rc;
        }
    }
    return BW_OK;
}

static int process(struct bw_store *st, struct queued *q, size_t n)
{
    qsort(q, n, sizeof(*q), by_tag_then_time);
    size_t kept = drop_out_of_order(st, q, n);
    int rc = BW_OK;
    uint64_t done = st->done_total + n;
    if (kept) {
        rc = write_recent(st, q, kept, done);
        if (rc)
            return rc;
        int64_t seq = st->next_seq++;
        for (size_t i = 0; !rc && i < kept; i++)
            rc = take_sample(st, q[i].tag, &q[i].s, seq);
        if (rc)
            return rc;
    } else if (n) {
        rc = sdb_begin(&st->db);
        if (!rc)
            rc = note_done(st, done);
        if (!rc)
            rc = sdb_commit(&st->db);
        if (rc) {
            sdb_rollback(&st->db);
            return rc;
        }
    }
    st->done_total = done;
    pthread_mutex_lock(&st->lock);
    st->stats.dropped += n - kept;
    st->stats.written += kept;
    st->stats.batches += kept ? 1 : 0;
    pthread_mutex_unlock(&st->lock);
    rc = close_finished(st, bw_clock_monotonic_us());
    if (!rc && write_chunks(st) != BW_OK) {
        /* The batch itself is durable; the chunks try again next time. */
        pthread_mutex_lock(&st->lock);
        st->stats.failures++;
        pthread_mutex_unlock(&st->lock);
    }
    return rc;
}

/* ---- the spool --------------------------------------------------------- */

/* One sample in the spool file: tag, time, value, quality, reason. */
#define SPOOL_RECORD 24

static void spool_pack(uint8_t *p, uint32_t tag, const struct bw_sample *s)
{
    memcpy(p, &tag, 4);
    memcpy(p + 4, &s->ts_us, 8);
    memcpy(p + 12, &s->value, 8);
    p[20] = s->quality;
    p[21] = s->reason;
    p[22] = p[23] = 0;
}

static bool spool_unpack(const uint8_t *p, size_t tag_count, struct queued *out)
{
    memcpy(&out->tag, p, 4);
    memcpy(&out->s.ts_us, p + 4, 8);
    memcpy(&out->s.value, p + 12, 8);
    out->s.quality = p[20];
    out->s.reason = p[21];
    return out->tag < tag_count && isfinite(out->s.value) && out->s.quality <= 2;
}

/* Under lock: appends one sample; false when the spool cannot take it. */
static bool spool_put(struct bw_store *st, uint32_t tag, const struct bw_sample *s)
{
    if (st->spool_fd < 0 || st->spool_end + SPOOL_RECORD > st->spool_cap)
        return false;
    uint8_t rec[SPOOL_RECORD];
    spool_pack(rec, tag, s);
    if (pwrite(st->spool_fd, rec, sizeof(rec), (off_t)st->spool_end) != (ssize_t)sizeof(rec))
        return false;
    st->spool_end += SPOOL_RECORD;
    st->spooling = true;
    return true;
}

/* Under lock: reads up to flush_samples of the oldest spooled samples
 * into out; *next is where the spool continues once they are written. */
static size_t spool_take(struct bw_store *st, struct queued *out, uint64_t *next)
{
    uint64_t avail = (st->spool_end - st->spool_read) / SPOOL_RECORD;
    size_t want = avail < st->flush_samples ? (size_t)avail : st->flush_samples;
    uint8_t *buf = bw_malloc(want * SPOOL_RECORD + 1);
    size_t n = 0;
    if (buf && pread(st->spool_fd, buf, want * SPOOL_RECORD, (off_t)st->spool_read) ==
                   (ssize_t)(want * SPOOL_RECORD)) {
        for (size_t i = 0; i < want; i++)
            if (spool_unpack(buf + i * SPOOL_RECORD, st->tag_count, &out[n]))
                n++; /* a record that is not a sample of ours is skipped */
    } else {
        want = 0; /* tried again next time */
    }
    bw_free(buf);
    *next = st->spool_read + want * SPOOL_RECORD;
    return n;
}

/* Under lock: the spool up to next is written; an empty spool is cut
 * back and samples go to the queue again. */
static void spool_done(struct bw_store *st, uint64_t next)
{
    st->spool_read = next;
    if (st->spool_read < st->spool_end)
        return;
    if (ftruncate(st->spool_fd, 0) != 0)
        bw_log(BW_LOG_WARN, BW_LOGC_STORE, "history: the spool could not be emptied");
    st->spool_read = st->spool_end = 0;
    st->spooling = false;
}

/* ---- the thread ------------------------------------------------------- */

static void deadline_in(struct timespec *ts, int64_t us)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t ns = (int64_t)ts->tv_nsec + (us % 1000000) * 1000;
    ts->tv_sec += (time_t)(us / 1000000 + ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

static void *writer_main(void *arg)
{
    struct bw_store *st = arg;
    pthread_mutex_lock(&st->lock);
    for (;;) {
        while (st->held ||
               (!st->stopping && !st->flush_wanted && !st->maintain_wanted &&
                st->queue_len < st->flush_samples && !(st->spooling && st->queue_len == 0))) {
            if (st->held && st->stopping)
                break;
            if (st->queue_len == 0 || st->held) {
                pthread_cond_wait(&st->work, &st->lock);
                continue;
            }
            int64_t wait = st->first_at_us + (int64_t)st->flush_ms * 1000 - bw_clock_monotonic_us();
            if (wait <= 0)
                break;
            struct timespec until;
            deadline_in(&until, wait);
            pthread_cond_timedwait(&st->work, &st->lock, &until);
        }
        if (st->queue_len == 0 && st->stopping && (!st->spooling || st->held))
            break;
        struct queued *batch = st->queue;
        size_t n = st->queue_len;
        bool from_spool = false;
        uint64_t spool_at = 0;
        if (n == 0 && st->spooling) {
            /* The queue is empty: the spool's oldest records next. */
            n = spool_take(st, st->spare, &spool_at);
            batch = st->spare;
            from_spool = true;
        } else {
            st->queue = st->spare;
            st->spare = batch;
            st->queue_len = 0;
        }
        bool wanted = st->flush_wanted && st->queue_len == 0 && !st->spooling;
        st->flush_wanted = false;
        pthread_mutex_unlock(&st->lock);

        /* One transaction per flush_samples at most, in arrival order. */
        int rc = BW_OK;
        for (size_t off = 0; rc == BW_OK && off < n; off += st->flush_samples)
            rc =
                process(st, batch + off, n - off < st->flush_samples ? n - off : st->flush_samples);
        if (rc == BW_OK && wanted)
            rc = write_chunks(st);

        pthread_mutex_lock(&st->lock);
        if (rc) {
            st->failed = true;
            st->stats.failures++;
            bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history: %zu samples could not be written: %s", n,
                   bw_strerror(rc));
        }
        if (from_spool)
            spool_done(st, spool_at);
        st->handled_total += n;
        bool maintain = st->maintain_wanted || bw_clock_monotonic_us() >= st->next_capacity_mono_us;
        if (maintain) {
            st->maintain_wanted = false;
            pthread_mutex_unlock(&st->lock);
            int mrc = store_capacity_check(&st->db, &st->capacity, st->clock_us());
            pthread_mutex_lock(&st->lock);
            st->next_capacity_mono_us =
                bw_clock_monotonic_us() + (int64_t)st->capacity_period_ms * 1000;
            st->maintain_rc = mrc;
            st->maintained++;
            if (mrc)
                bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history: the capacity check failed: %s",
                       bw_strerror(mrc));
        }
        pthread_cond_broadcast(&st->done);
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* ---- open: read back what was not in chunks -------------------------- */

struct replay {
    struct bw_store *st;
    int64_t seq;
    /* db id -> tag index: a sorted array searched by bisection */
    int64_t *ids;
    uint32_t *index;
};

static long find_tag(const struct replay *r, int64_t id)
{
    size_t lo = 0, hi = r->st->tag_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->st->tag_count && r->ids[lo] == id ? (long)lo : -1;
}

static int replay_run(void *ctx, int64_t tag, const struct bw_sample *samples, size_t n)
{
    struct replay *r = ctx;
    long k = find_tag(r, tag);
    if (k < 0)
        return BW_OK; /* a tag no longer in the project */
    uint32_t i = r->index[k];
    for (size_t j = 0; j < n; j++) {
        if (samples[j].ts_us <= r->st->tags[i].last_ts)
            continue; /* already in a closed chunk */
        int rc = take_sample(r->st, i, &samples[j], r->seq);
        if (rc)
            return rc;
        r->st->stats.replayed++;
    }
    return BW_OK;
}

static int replay_batch(void *ctx, int64_t seq, const uint8_t *data, size_t len)
{
    struct replay *r = ctx;
    r->seq = seq;
    if (seq >= r->st->next_seq)
        r->st->next_seq = seq + 1;
    return sdb_batch_each(data, len, replay_run, r);
}

static int by_id(const void *a, const void *b, void *ctx)
{
    const int64_t *ids = ctx;
    int64_t x = ids[*(const uint32_t *)a], y = ids[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

static int replay_open(struct bw_store *st)
{
    struct replay r = {.st = st};
    int64_t *raw = bw_calloc(st->tag_count ? st->tag_count : 1, sizeof(*raw));
    r.ids = bw_calloc(st->tag_count ? st->tag_count : 1, sizeof(*r.ids));
    r.index = bw_calloc(st->tag_count ? st->tag_count : 1, sizeof(*r.index));
    int rc = raw && r.ids && r.index ? BW_OK : BW_ENOMEM;
    for (size_t i = 0; !rc && i < st->tag_count; i++) {
        raw[i] = st->tags[i].id;
        r.index[i] = (uint32_t)i;
    }
    if (!rc) {
        qsort_r(r.index, st->tag_count, sizeof(*r.index), by_id, raw);
        for (size_t i = 0; i < st->tag_count; i++)
            r.ids[i] = raw[r.index[i]];
        rc = sdb_recent_each(&st->db, replay_batch, &r);
    }
    bw_free(raw);
    bw_free(r.ids);
    bw_free(r.index);
    return rc;
}

static int open_tags(struct bw_store *st, const struct bw_store_config *cfg)
{
    st->tags = bw_calloc(cfg->tag_count ? cfg->tag_count : 1, sizeof(*st->tags));
    if (!st->tags)
        return BW_ENOMEM;
    st->tag_count = cfg->tag_count;
    int rc = sdb_begin(&st->db);
    for (size_t i = 0; !rc && i < cfg->tag_count; i++) {
        struct wtag *t = &st->tags[i];
        t->group = cfg->tag_groups ? cfg->tag_groups[i] : 0;
        t->last_ts = INT64_MIN;
        rc = sdb_tag_id(&st->db, cfg->tag_names[i], &t->id);
        bool found = false;
        int64_t t1 = 0;
        if (!rc)
            rc = sdb_tail_get(&st->db, t->id, &t1, &found);
        if (!rc && found)
            t->last_ts = t1;
    }
    if (!rc)
        rc = sdb_commit(&st->db);
    if (rc)
        sdb_rollback(&st->db);
    return rc;
}

/* Maps PATH-intake (8 bytes) and compares it with meta 'done': what
 * the queue took but no batch recorded was lost (a crash). Then both
 * start from the same count. */
static int intake_open(struct bw_store *st, const char *db_path)
{
    char path[4200];
    if (bw_snprintf(path, sizeof(path), "%s-intake", db_path) != BW_OK)
        return BW_EINVAL;
    st->intake_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (st->intake_fd < 0 || ftruncate(st->intake_fd, 8) != 0)
        return BW_EIO;
    void *m = mmap(NULL, 8, PROT_READ | PROT_WRITE, MAP_SHARED, st->intake_fd, 0);
    if (m == MAP_FAILED)
        return BW_EIO;
    st->intake = m;
    uint8_t b[8];
    bool found = false;
    int rc = sdb_meta_get_blob(&st->db, "done", b, sizeof(b), &found);
    if (rc)
        return rc;
    uint64_t done = found ? get_u64(b) : 0, intake = *st->intake;
    if (intake > done)
        st->stats.lost_at_open = intake - done;
    /* From here on, both count from the same point. */
    *st->intake = 0;
    st->done_total = 0;
    rc = sdb_begin(&st->db);
    if (!rc)
        rc = note_done(st, 0);
    if (!rc)
        rc = sdb_commit(&st->db);
    if (rc)
        sdb_rollback(&st->db);
    return rc;
}

/* PATH-spool, kept across restarts: what it still holds is written
 * first (samples already stored are dropped as out of order). */
static int spool_open(struct bw_store *st, const char *db_path, uint64_t cap)
{
    char path[4200];
    if (bw_snprintf(path, sizeof(path), "%s-spool", db_path) != BW_OK)
        return BW_EINVAL;
    st->spool_fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (st->spool_fd < 0)
        return BW_EIO;
    off_t size = lseek(st->spool_fd, 0, SEEK_END);
    if (size < 0)
        return BW_EIO;
    st->spool_cap = cap;
    st->spool_end = (uint64_t)size / SPOOL_RECORD * SPOOL_RECORD;
    st->spooling = st->spool_end > 0;
    st->stats.spooled = st->spool_end / SPOOL_RECORD;
    st->appended_total += st->stats.spooled; /* a flush waits for them */
    return BW_OK;
}

static void capacity_setup(struct store_capacity *c, const struct bw_store_config *cfg)
{
    c->group_count = cfg->group_count < STORE_MAX_GROUPS ? cfg->group_count : STORE_MAX_GROUPS;
    for (size_t i = 0; cfg->groups && i < c->group_count; i++)
        c->groups[i] = cfg->groups[i];
    c->warn_count = cfg->warn_count < STORE_MAX_WARN ? cfg->warn_count : STORE_MAX_WARN;
    for (size_t i = 0; cfg->warn_percent && i < c->warn_count; i++)
        c->warn_percent[i] = cfg->warn_percent[i];
    c->min_free_bytes = cfg->min_free_bytes;
    c->on_event = cfg->on_event;
    c->event_ctx = cfg->event_ctx;
    bw_strlcpy(c->dir, cfg->path, sizeof(c->dir));
    char *slash = strrchr(c->dir, '/');
    if (slash)
        *slash = '\0';
    else
        bw_strlcpy(c->dir, ".", sizeof(c->dir));
}

static void store_free(struct bw_store *st)
{
    if (st->spool_fd >= 0)
        close(st->spool_fd);
    if (st->intake)
        munmap(st->intake, 8);
    if (st->intake_fd >= 0)
        close(st->intake_fd);
    for (size_t i = 0; st->tags && i < st->tag_count; i++)
        bw_free(st->tags[i].open.samples);
    for (size_t k = 0; k < st->closing_len; k++)
        bw_free(st->closing[k].c.samples);
    bw_free(st->closing);
    bw_free(st->tags);
    bw_free(st->queue);
    bw_free(st->spare);
    sdb_close(&st->db);
    pthread_cond_destroy(&st->work);
    pthread_cond_destroy(&st->done);
    pthread_mutex_destroy(&st->lock);
    bw_free(st);
}

int bw_store_open(const struct bw_store_config *cfg, struct bw_store **out)
{
    *out = NULL;
    if (!cfg || !cfg->path || !cfg->key || (cfg->tag_count && !cfg->tag_names))
        return BW_EINVAL;
    struct bw_store *st = bw_calloc(1, sizeof(*st));
    if (!st)
        return BW_ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&st->lock, NULL);
    pthread_cond_init(&st->work, &ca);
    pthread_cond_init(&st->done, &ca);
    pthread_condattr_destroy(&ca);
    st->queue_cap = cfg->queue_samples ? cfg->queue_samples : DEFAULT_QUEUE;
    st->clock_us = cfg->clock_us ? cfg->clock_us : bw_clock_realtime_us;
    st->capacity_period_ms = cfg->capacity_period_ms ? cfg->capacity_period_ms : 60000;
    st->next_capacity_mono_us = bw_clock_monotonic_us() + (int64_t)st->capacity_period_ms * 1000;
    capacity_setup(&st->capacity, cfg);
    st->flush_ms = cfg->flush_ms ? cfg->flush_ms : DEFAULT_FLUSH_MS;
    st->flush_samples = cfg->flush_samples ? cfg->flush_samples : DEFAULT_FLUSH_SAMPLES;
    st->next_seq = 1;
    st->newest_ts = INT64_MIN;
    st->intake_fd = -1;
    st->spool_fd = -1;
    st->queue = bw_calloc(st->queue_cap, sizeof(*st->queue));
    st->spare = bw_calloc(st->queue_cap, sizeof(*st->spare));
    int rc = st->queue && st->spare ? BW_OK : BW_ENOMEM;
    if (!rc)
        rc = sdb_open(&st->db, cfg->path, false, cfg->key, cfg->key_len);
    if (!rc)
        rc = open_tags(st, cfg);
    bool found = false;
    if (!rc)
        rc = sdb_meta_get_blob(&st->db, "last_batch_mac", st->last_mac, MAC_LEN, &found);
    if (!rc)
        rc = replay_open(st);
    if (!rc)
        rc = intake_open(st, cfg->path);
    if (!rc && cfg->spool_bytes)
        rc = spool_open(st, cfg->path, cfg->spool_bytes);
    if (!rc && pthread_create(&st->thread, NULL, writer_main, st) != 0)
        rc = BW_EIO;
    if (rc) {
        store_free(st);
        return rc;
    }
    st->running = true;
    *out = st;
    return BW_OK;
}

int bw_store_append(struct bw_store *st, uint32_t tag, const struct bw_sample *s)
{
    if (tag >= st->tag_count || !isfinite(s->value))
        return BW_EINVAL;
    pthread_mutex_lock(&st->lock);
    if (st->spooling || st->queue_len == st->queue_cap) {
        bool spooled = spool_put(st, tag, s);
        if (spooled) {
            st->appended_total++;
            st->stats.spooled++;
        } else {
            st->stats.refused++;
        }
        pthread_cond_signal(&st->work);
        pthread_mutex_unlock(&st->lock);
        return spooled ? BW_OK : BW_EFULL;
    }
    if (st->queue_len == 0)
        st->first_at_us = bw_clock_monotonic_us();
    st->queue[st->queue_len++] = (struct queued){.tag = tag, .s = *s};
    st->appended_total++;
    ++*st->intake;
    st->stats.appended++;
    if (st->queue_len == 1 || st->queue_len >= st->flush_samples)
        pthread_cond_signal(&st->work);
    pthread_mutex_unlock(&st->lock);
    return BW_OK;
}

int bw_store_flush(struct bw_store *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t target = st->appended_total;
    st->flush_wanted = true;
    pthread_cond_signal(&st->work);
    while (st->handled_total < target && !st->failed)
        pthread_cond_wait(&st->done, &st->lock);
    int rc = st->failed ? BW_EIO : BW_OK;
    pthread_mutex_unlock(&st->lock);
    return rc;
}

int bw_store_maintain(struct bw_store *st)
{
    pthread_mutex_lock(&st->lock);
    uint64_t before = st->maintained;
    st->maintain_wanted = true;
    pthread_cond_signal(&st->work);
    while (st->maintained == before && !st->failed)
        pthread_cond_wait(&st->done, &st->lock);
    int rc = st->failed ? BW_EIO : st->maintain_rc;
    pthread_mutex_unlock(&st->lock);
    return rc;
}

void bw_store_hold(struct bw_store *st, bool hold)
{
    pthread_mutex_lock(&st->lock);
    st->held = hold;
    pthread_cond_signal(&st->work);
    pthread_mutex_unlock(&st->lock);
}

void bw_store_stats_get(struct bw_store *st, struct bw_store_stats *out)
{
    pthread_mutex_lock(&st->lock);
    *out = st->stats;
    pthread_mutex_unlock(&st->lock);
}

void bw_store_close(struct bw_store *st)
{
    if (!st)
        return;
    if (st->running) {
        pthread_mutex_lock(&st->lock);
        st->stopping = true;
        pthread_cond_signal(&st->work);
        pthread_mutex_unlock(&st->lock);
        pthread_join(st->thread, NULL);
        if (write_chunks(st) != BW_OK)
            bw_log(BW_LOG_WARN, BW_LOGC_STORE,
                   "history: closed chunks stay in the recent batches until the next start");
        /* Give back the pages the deleted batches left. */
        if (sdb_vacuum(&st->db) != BW_OK)
            bw_log(BW_LOG_WARN, BW_LOGC_STORE, "history: free pages could not be given back");
    }
    store_free(st);
}
