/* SPDX-License-Identifier: Apache-2.0
 *
 * Queries of the history: raw samples with a cursor, trends in buckets,
 * and the last value before a time. A tag's samples are in its closed
 * chunks (with their minute aggregates) and, for the newest ones, in the
 * recent batches; both are read, the recent ones only beyond the
 * newest chunk sample, so nothing is given twice. Read-only connection;
 * the caller's thread.
 */
#include "store/sqlite_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct bw_history {
    struct sdb db;
};

int bw_history_open(const char *path, struct bw_history **out)
{
    *out = NULL;
    struct bw_history *h = bw_calloc(1, sizeof(*h));
    if (!h)
        return BW_ENOMEM;
    int rc = sdb_open(&h->db, path, true, NULL, 0);
    if (rc) {
        bw_free(h);
        return rc;
    }
    *out = h;
    return BW_OK;
}

void bw_history_close(struct bw_history *h)
{
    if (!h)
        return;
    sdb_close(&h->db);
    bw_free(h);
}

static int64_t floor_to(int64_t v, int64_t unit)
{
    int64_t q = v / unit;
    if (v % unit != 0 && v < 0)
        q--;
    return q * unit;
}

/* ---- gathering the samples of a range --------------------------------- */

struct gather {
    struct bw_sample *s;
    size_t n, cap;
    int64_t from, to, tag;
    int64_t after;        /* only samples later than this */
    int64_t closed_until; /* recent samples up to this are in closed chunks */
    bool nomem;
};

static bool gather_add(struct gather *g, const struct bw_sample *s)
{
    if (s->ts_us < g->from || s->ts_us >= g->to || s->ts_us <= g->after)
        return true;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        struct bw_sample *grown = bw_realloc(g->s, cap * sizeof(*grown));
        if (!grown) {
            g->nomem = true;
            return false;
        }
        g->s = grown;
        g->cap = cap;
    }
    g->s[g->n++] = *s;
    return true;
}

static bool gather_chunk_sample(void *ctx, const struct bw_sample *s)
{
    return gather_add(ctx, s);
}

static int gather_run(void *ctx, int64_t tag, const struct bw_sample *samples, size_t n)
{
    struct gather *g = ctx;
    if (tag != g->tag)
        return BW_OK;
    for (size_t i = 0; i < n; i++)
        if (samples[i].ts_us > g->closed_until && !gather_add(g, &samples[i]))
            return BW_ENOMEM;
    return BW_OK;
}

static int gather_batch(void *ctx, int64_t seq, const uint8_t *data, size_t len)
{
    (void)seq;
    return sdb_batch_each(data, len, gather_run, ctx);
}

static int by_time(const void *a, const void *b)
{
    const struct bw_sample *x = a, *y = b;
    return x->ts_us < y->ts_us ? -1 : x->ts_us > y->ts_us;
}

/* The samples of tag in [from, to) after `after`, from the closed chunks
 * of every group, or, when chunks_too is false, only from the recent
 * batches; sorted, without duplicates. */
static int gather_range(struct bw_history *h, int64_t tag, int64_t from, int64_t to, int64_t after,
                        bool chunks_too, struct gather *g)
{
    *g = (struct gather){.from = from, .to = to, .tag = tag, .after = after};
    /* A batch stays until all its samples are in closed chunks, so its
     * older samples may be in both. */
    bool found = false;
    int rc = sdb_tail_get(&h->db, tag, &g->closed_until, &found);
    if (!found)
        g->closed_until = INT64_MIN;
    if (chunks_too) {
        uint32_t *groups = NULL;
        size_t ng = 0;
        rc = sdb_groups_between(&h->db, floor_to(from, SDB_DAY_US) / SDB_DAY_US,
                                floor_to(to - 1, SDB_DAY_US) / SDB_DAY_US, &groups, &ng);
        for (size_t i = 0; !rc && i < ng; i++)
            rc = sdb_chunks_read(&h->db, groups[i], tag, from, to, gather_chunk_sample, g);
        bw_free(groups);
    }
    /* The recent batches hold what is newer than the closed chunks. */
    if (!rc)
        rc = sdb_recent_range(&h->db, from, to, gather_batch, g);
    if (!rc && g->nomem)
        rc = BW_ENOMEM;
    if (rc) {
        bw_free(g->s);
        g->s = NULL;
        return rc;
    }
    if (g->n > 1)
        qsort(g->s, g->n, sizeof(*g->s), by_time);
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        if (k == 0 || g->s[i].ts_us != g->s[k - 1].ts_us)
            g->s[k++] = g->s[i];
    g->n = k;
    return BW_OK;
}

static int tag_id(struct bw_history *h, const char *name, int64_t *id)
{
    return sdb_tag_id(&h->db, name, id);
}

/* ---- raw -------------------------------------------------------------- */

int bw_history_raw(struct bw_history *h, const struct bw_history_query *q, bw_history_sample_fn fn,
                   void *ctx, bool *more)
{
    *more = false;
    if (q->points)
        return BW_EINVAL;
    int64_t id;
    int rc = tag_id(h, q->tag, &id);
    if (rc)
        return rc;
    struct gather g;
    rc = gather_range(h, id, q->from_us, q->to_us, q->cursor_us, true, &g);
    if (rc)
        return rc;
    size_t give = g.n < q->limit ? g.n : q->limit;
    size_t given = 0;
    while (given < give && fn(ctx, &g.s[given]))
        given++;
    *more = given < g.n;
    bw_free(g.s);
    return BW_OK;
}

/* ---- trends ----------------------------------------------------------- */

static void bucket_add_sample(struct bw_history_bucket *b, const struct bw_sample *s)
{
    b->count_all++;
    if (s->quality == 0)
        return;
    if (b->count == 0) {
        b->min = b->max = b->first = s->value;
    } else {
        b->min = fmin(b->min, s->value);
        b->max = fmax(b->max, s->value);
    }
    b->avg += s->value; /* the sum until finished */
    b->last = s->value;
    b->count++;
}

struct trend {
    struct bw_history_bucket *b;
    size_t n;
    int64_t from, width;
};

static struct bw_history_bucket *bucket_of(struct trend *t, int64_t ts)
{
    if (ts < t->from)
        return NULL;
    int64_t i = (ts - t->from) / t->width;
    return i >= 0 && (size_t)i < t->n ? &t->b[i] : NULL;
}

static bool trend_minute(void *ctx, int64_t minute, const struct sdb_agg *a)
{
    struct trend *t = ctx;
    struct bw_history_bucket *b = bucket_of(t, minute);
    if (!b)
        return true;
    b->count_all += a->n_all;
    if (a->n == 0)
        return true;
    if (b->count == 0) {
        b->min = a->mn;
        b->max = a->mx;
        b->first = a->first;
    } else {
        b->min = fmin(b->min, a->mn);
        b->max = fmax(b->max, a->mx);
    }
    b->avg += a->sum;
    b->last = a->last; /* minutes come in time order */
    b->count += a->n;
    return true;
}

int bw_history_trend(struct bw_history *h, const struct bw_history_query *q,
                     struct bw_history_bucket *out, size_t *n)
{
    *n = 0;
    if (q->points == 0)
        return BW_EINVAL;
    int64_t id;
    int rc = tag_id(h, q->tag, &id);
    if (rc)
        return rc;
    int64_t span = q->to_us - q->from_us;
    int64_t width = (span + q->points - 1) / q->points;
    int64_t from = q->from_us;
    bool minutes = width >= SDB_MINUTE_US;
    /* Whole hours or minutes, so the aggregates answer exactly. */
    int64_t unit = width >= SDB_HOUR_US ? SDB_HOUR_US : SDB_MINUTE_US;
    if (minutes) {
        width = (width + unit - 1) / unit * unit;
        from = floor_to(from, unit);
        /* Moving the start back may leave the end short: widen. */
        while (from + (int64_t)q->points * width < q->to_us)
            width += unit;
    }
    size_t count = (size_t)((q->to_us - from + width - 1) / width);
    if (count > q->points)
        count = q->points;
    struct trend t = {.b = out, .n = count, .from = from, .width = width};
    for (size_t i = 0; i < count; i++) {
        out[i] = (struct bw_history_bucket){.start_us = from + (int64_t)i * width};
        out[i].end_us = out[i].start_us + width;
        /* Raw buckets end at `to`; minute buckets are whole minutes. */
        if (!minutes && out[i].end_us > q->to_us)
            out[i].end_us = q->to_us;
    }
    int64_t end = minutes ? from + (int64_t)count * width : q->to_us;
    struct gather g = {0};
    if (minutes) {
        uint32_t *groups = NULL;
        size_t ng = 0;
        rc = sdb_groups_between(&h->db, floor_to(from, SDB_DAY_US) / SDB_DAY_US,
                                floor_to(end - 1, SDB_DAY_US) / SDB_DAY_US, &groups, &ng);
        for (size_t i = 0; !rc && i < ng; i++)
            rc = unit == SDB_HOUR_US
                     ? sdb_hours_read(&h->db, groups[i], id, from, end, trend_minute, &t)
                     : sdb_minutes_read(&h->db, groups[i], id, from, end, trend_minute, &t);
        bw_free(groups);
        /* What is not yet in a closed chunk has no minute aggregate. */
        if (!rc)
            rc = gather_range(h, id, from, end, INT64_MIN, false, &g);
    } else {
        rc = gather_range(h, id, from, end, INT64_MIN, true, &g);
    }
    if (rc)
        return rc;
    for (size_t i = 0; i < g.n; i++) {
        struct bw_history_bucket *b = bucket_of(&t, g.s[i].ts_us);
        if (b)
            bucket_add_sample(b, &g.s[i]);
    }
    bw_free(g.s);
    for (size_t i = 0; i < count; i++)
        out[i].avg = out[i].count ? out[i].avg / (double)out[i].count : 0;
    *n = count;
    return BW_OK;
}

int bw_history_latest_before(struct bw_history *h, const char *tag, int64_t before,
                             int64_t horizon_us, struct bw_sample *out)
{
    int64_t id;
    int rc = tag_id(h, tag, &id);
    if (rc)
        return rc;
    int64_t since = before - horizon_us;
    struct gather g;
    rc = gather_range(h, id, since, before, INT64_MIN, false, &g);
    if (rc)
        return rc;
    bool found = g.n > 0;
    if (found)
        *out = g.s[g.n - 1];
    bw_free(g.s);
    if (found)
        return BW_OK;
    uint32_t *groups = NULL;
    size_t ng = 0;
    rc = sdb_groups_between(&h->db, floor_to(since, SDB_DAY_US) / SDB_DAY_US,
                            floor_to(before - 1, SDB_DAY_US) / SDB_DAY_US, &groups, &ng);
    for (size_t i = 0; !rc && i < ng; i++) {
        struct bw_sample s;
        bool f = false;
        rc = sdb_chunk_last_before(&h->db, groups[i], id, since, before, &s, &f);
        if (!rc && f && (!found || s.ts_us > out->ts_us)) {
            *out = s;
            found = true;
        }
    }
    bw_free(groups);
    if (rc)
        return rc;
    return found ? BW_OK : BW_ENOTFOUND;
}
