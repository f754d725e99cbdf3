/* SPDX-License-Identifier: Apache-2.0
 *
 * The historian's integrity check (`bulwark historian verify`): reads a
 * whole history.db in one read-only snapshot and holds every row against
 * the MACs and the seal the writer made (sqlite_internal.h has the
 * layout, docs/internals/historian.md the design). In order:
 *
 *   tags        each name under its MAC (a renamed tag would take over
 *               another's history);
 *   marks       the retention marks (days dropped on purpose);
 *   partitions  each days row under its MAC and with both tables; no
 *               tables without a row;
 *   chunks      day by day, the chunk tables of every group merged by
 *               (tag, t0): each chunk's MAC, its contents against its
 *               key, its link to the tag's chunk before it (prev_t1),
 *               and the minute aggregates recomputed from the chunks;
 *   tails       each tag's newest link against its last chunk;
 *   recent      the batches: MACs, contiguous seqs, links, and the range
 *               the seal names;
 *   seal        its MAC and the XOR of the tails rows' MACs.
 *
 * What is found goes to the caller's function as it is found, naming the
 * tag and time range wherever the rows tell them. The caller's thread;
 * its own connection.
 */
#include "store/sqlite_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPEN_START INT64_MIN
#define OPEN_END INT64_MAX
/* Relative tolerance of a minute's sum (chunks are summed one by one). */
#define SUM_TOLERANCE 1e-9
/* Days whose start is a representable time, with room to spare. */
#define DAY_LIMIT 100000000LL

struct vtag {
    int64_t id;
    char name[BW_HISTORY_TAG_MAX + 1];
    bool have;      /* a good chunk was seen; last_* are its */
    bool broken;    /* the last chunk seen was bad: its link is unknown */
    bool tail_seen; /* a tails row names it */
    bool in_recent; /* a good recent batch holds samples of it */
    int64_t last_t1, last_grp;
    int64_t tail_t1;
};

struct part {
    uint32_t grp;
    int64_t day;
    bool row, c, m;
};

struct mark {
    uint32_t grp;
    int64_t first_day;
};

/* One group's tables of the day being walked. */
struct stream {
    const struct part *p;
    sqlite3_stmt *c, *m;
    bool c_row, m_row;
    /* The minute being summed from its chunks. */
    bool acc_on, acc_bad;
    int64_t acc_tag, acc_minute, acc_ft, acc_lt;
    double acc_abs;
    struct sdb_agg acc;
};

/* A (tag, hour) whose minute aggregate was reported: its hour is not
 * reported again. */
struct bad_hour {
    int64_t tag, hour;
};

struct verify {
    struct bad_hour *bad_hours;
    size_t bad_count, bad_cap;
    struct sdb db;
    bw_history_problem_fn fn;
    void *ctx;
    struct bw_history_verify_stats *st;
    struct vtag *tags;
    size_t ntags, tags_cap;
    struct part *parts;
    size_t nparts, parts_cap;
    struct mark *marks;
    size_t nmarks, marks_cap;
    struct bw_sample *buf;
    struct sdb_seal seal;
    enum sdb_seal_state seal_state;
};

/* ---- small helpers ---------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

static int64_t minute_of(int64_t t)
{
    return t < INT64_MIN + SDB_MINUTE_US ? INT64_MIN : floor_div(t, SDB_MINUTE_US) * SDB_MINUTE_US;
}

static int64_t plus(int64_t t, int64_t d)
{
    return t > INT64_MAX - d ? INT64_MAX : t + d;
}

/* RFC 3339 UTC, without a fraction of zeros. */
static const char *when(int64_t us, char out[BW_TIME_TEXT_MAX])
{
    bw_time_format_utc(us, out);
    char *dot = strchr(out, '.'), *z = dot ? strchr(dot, 'Z') : NULL;
    if (!z)
        return out;
    char *end = z;
    while (end > dot + 1 && end[-1] == '0')
        end--;
    if (end == dot + 1)
        end = dot;
    memmove(end, z, 2);
    return out;
}

static const char *date_of(int64_t day, char out[BW_TIME_TEXT_MAX])
{
    if (day <= -DAY_LIMIT || day >= DAY_LIMIT) {
        snprintf(out, BW_TIME_TEXT_MAX, "number %lld", (long long)day);
        return out;
    }
    bw_time_format_utc(day * SDB_DAY_US, out);
    char *t = strchr(out, 'T');
    if (t)
        *t = '\0';
    return out;
}

/* Cuts a character that truncation split. */
static void utf8_trim(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && !bw_utf8_valid(s, len))
        len--;
    s[len] = '\0';
}

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return BW_OK;
    size_t n = *cap ? *cap * 2 : 64, bytes;
    if (n < need)
        n = need;
    if (!bw_size_mul(n, size, &bytes))
        return BW_ENOMEM;
    void *grown = bw_realloc(*p, bytes);
    if (!grown)
        return BW_ENOMEM;
    *p = grown;
    *cap = n;
    return BW_OK;
}

static int step(struct verify *v, sqlite3_stmt *st, bool *row)
{
    int r = sqlite3_step(st);
    *row = r == SQLITE_ROW;
    if (r == SQLITE_ROW || r == SQLITE_DONE)
        return BW_OK;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: %s", sqlite3_errmsg(v->db.db));
    return BW_EIO;
}

static int prepare(struct verify *v, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(v->db.db, sql, -1, st, NULL) == SQLITE_OK)
        return BW_OK;
    bw_log(BW_LOG_ERROR, BW_LOGC_STORE, "history database: %s", sqlite3_errmsg(v->db.db));
    return BW_EIO;
}

static bool mac_matches(sqlite3_stmt *st, int col, const uint8_t want[SDB_MAC_LEN])
{
    return sqlite3_column_bytes(st, col) == SDB_MAC_LEN &&
           bw_crypto_equal(sqlite3_column_blob(st, col), want, SDB_MAC_LEN);
}

static void problem(struct verify *v, const struct vtag *t, int64_t from, int64_t to,
                    const char *fmt, ...) BW_PRINTF(5, 6);

static void problem(struct verify *v, const struct vtag *t, int64_t from, int64_t to,
                    const char *fmt, ...)
{
    struct bw_history_problem p = {.from_us = from, .to_us = to};
    size_t off = 0;
    if (t) {
        bw_strlcpy(p.tag, t->name, sizeof(p.tag));
        int n = snprintf(p.what, sizeof(p.what), "tag %s: ", t->name);
        off = n < 0 ? 0 : (size_t)n < sizeof(p.what) ? (size_t)n : sizeof(p.what) - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p.what + off, sizeof(p.what) - off, fmt, ap);
    va_end(ap);
    utf8_trim(p.what);
    v->st->problems++;
    if (v->fn)
        v->fn(v->ctx, &p);
}

/* ---- tags ------------------------------------------------------------- */

/* A name from the file as it may be shown: control bytes, and any byte
 * of a name that is not UTF-8, as '?'. */
static void name_copy(char *out, size_t size, const unsigned char *name, size_t len)
{
    bool utf8 = bw_utf8_valid((const char *)name, len);
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++)
        out[i] =
            name[i] < 0x20 || name[i] == 0x7f || (!utf8 && name[i] >= 0x80) ? '?' : (char)name[i];
    out[n] = '\0';
    utf8_trim(out);
}

static size_t tag_pos(const struct verify *v, int64_t id)
{
    size_t lo = 0, hi = v->ntags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->tags[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The state of tag id; one the tags table does not name is added (and
 * said once). */
static int tag_get(struct verify *v, int64_t id, struct vtag **out)
{
    size_t i = tag_pos(v, id);
    if (i < v->ntags && v->tags[i].id == id) {
        *out = &v->tags[i];
        return BW_OK;
    }
    int rc = grow((void **)&v->tags, &v->tags_cap, v->ntags + 1, sizeof(*v->tags));
    if (rc)
        return rc;
    memmove(&v->tags[i + 1], &v->tags[i], (v->ntags - i) * sizeof(*v->tags));
    v->ntags++;
    struct vtag *t = &v->tags[i];
    *t = (struct vtag){.id = id, .tail_t1 = INT64_MIN};
    snprintf(t->name, sizeof(t->name), "#%lld", (long long)id);
    problem(v, t, OPEN_START, OPEN_END, "has samples but no name (its row in tags was deleted)");
    *out = t;
    return BW_OK;
}

static int load_tags(struct verify *v)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(v, "SELECT id, name, mac FROM tags ORDER BY id", &st);
    bool row = false;
    while (!rc && !(rc = step(v, st, &row)) && row) {
        rc = grow((void **)&v->tags, &v->tags_cap, v->ntags + 1, sizeof(*v->tags));
        if (rc)
            break;
        struct vtag *t = &v->tags[v->ntags++];
        *t = (struct vtag){.id = sqlite3_column_int64(st, 0), .tail_t1 = INT64_MIN};
        const unsigned char *name = sqlite3_column_text(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        name_copy(t->name, sizeof(t->name), name ? name : (const unsigned char *)"", len);
        uint8_t want[SDB_MAC_LEN];
        rc = sdb_tag_mac(&v->db, t->id, name ? (const char *)name : "", len, want);
        if (!rc && !mac_matches(st, 2, want))
            problem(v, t, OPEN_START, OPEN_END,
                    "the name of tag id %lld was changed (or the tag inserted)", (long long)t->id);
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- retention marks and partitions ----------------------------------- */

static int load_marks(struct verify *v)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(v, "SELECT key FROM meta WHERE key LIKE 'retained!_%' ESCAPE '!'", &st);
    bool row = false;
    while (!rc && !(rc = step(v, st, &row)) && row) {
        const char *key = (const char *)sqlite3_column_text(st, 0) + strlen("retained_");
        uint64_t grp = 0;
        int64_t first = 0;
        bool found = false, valid = false;
        if (bw_parse_u64(key, strlen(key), UINT32_MAX, &grp) != BW_OK)
            continue; /* not a name sdb_retention_mark writes: no mark */
        rc = sdb_retention_get(&v->db, (uint32_t)grp, &first, &found, &valid);
        if (!rc && found && !valid)
            problem(v, NULL, OPEN_START, OPEN_END,
                    "the retention mark of group %u was changed (it is not used)", (unsigned)grp);
        if (!rc && valid)
            rc = grow((void **)&v->marks, &v->marks_cap, v->nmarks + 1, sizeof(*v->marks));
        if (!rc && valid)
            v->marks[v->nmarks++] = (struct mark){(uint32_t)grp, first};
    }
    sqlite3_finalize(st);
    return rc;
}

/* True when retention dropped the day of t in group grp on purpose. */
static bool retained_away(const struct verify *v, int64_t grp, int64_t t)
{
    for (size_t i = 0; i < v->nmarks; i++)
        if ((int64_t)v->marks[i].grp == grp)
            return floor_div(t, SDB_DAY_US) < v->marks[i].first_day;
    return false;
}

/* A partition as one source sees it; merged with the others once sorted. */
static int part_add(struct verify *v, uint32_t grp, int64_t day, bool row, bool c, bool m)
{
    int rc = grow((void **)&v->parts, &v->parts_cap, v->nparts + 1, sizeof(*v->parts));
    if (!rc)
        v->parts[v->nparts++] = (struct part){.grp = grp, .day = day, .row = row, .c = c, .m = m};
    return rc;
}

static int by_day_then_group(const void *a, const void *b)
{
    const struct part *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return x->grp < y->grp ? -1 : x->grp > y->grp;
}

static int load_days(struct verify *v)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(v, "SELECT grp, day, mac FROM days", &st);
    bool row = false;
    char d[BW_TIME_TEXT_MAX];
    while (!rc && !(rc = step(v, st, &row)) && row) {
        int64_t grp = sqlite3_column_int64(st, 0), day = sqlite3_column_int64(st, 1);
        uint8_t want[SDB_MAC_LEN];
        rc = sdb_day_mac(&v->db, grp, day, want);
        if (rc)
            break;
        if (!mac_matches(st, 2, want) || grp < 0 || grp > UINT32_MAX) {
            problem(v, NULL, OPEN_START, OPEN_END,
                    "group %lld day %s: its partition record was changed (or inserted)",
                    (long long)grp, date_of(day, d));
            continue;
        }
        rc = part_add(v, (uint32_t)grp, day, true, false, false);
    }
    sqlite3_finalize(st);
    return rc;
}

/* The partitions: days rows and the tables that exist, each checked. */
static int load_partitions(struct verify *v)
{
    int rc = load_days(v);
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = prepare(v, "SELECT name FROM sqlite_master WHERE type = 'table'", &st);
    bool row = false;
    while (!rc && !(rc = step(v, st, &row)) && row) {
        char kind;
        uint32_t grp;
        int64_t day;
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (name && sdb_table_parse(name, &kind, &grp, &day))
            rc = part_add(v, grp, day, false, kind == 'c', kind == 'm');
    }
    sqlite3_finalize(st);
    if (rc)
        return rc;
    if (v->nparts)
        qsort(v->parts, v->nparts, sizeof(*v->parts), by_day_then_group);
    size_t k = 0;
    for (size_t i = 0; i < v->nparts; i++) {
        struct part *q = &v->parts[i];
        if (k > 0 && v->parts[k - 1].grp == q->grp && v->parts[k - 1].day == q->day) {
            v->parts[k - 1].row |= q->row;
            v->parts[k - 1].c |= q->c;
            v->parts[k - 1].m |= q->m;
        } else {
            v->parts[k++] = *q;
        }
    }
    v->nparts = k;
    char d[BW_TIME_TEXT_MAX];
    for (size_t i = 0; i < v->nparts; i++) {
        const struct part *p = &v->parts[i];
        int64_t from = p->day > -DAY_LIMIT && p->day < DAY_LIMIT ? p->day * SDB_DAY_US : OPEN_START;
        int64_t to = from == OPEN_START ? OPEN_END : from + SDB_DAY_US;
        v->st->partitions++;
        if (!p->row)
            problem(v, NULL, from, to,
                    "group %u day %s: its tables have no partition record (queries miss them)",
                    p->grp, date_of(p->day, d));
        else if ((!p->c || !p->m) && !retained_away(v, p->grp, from))
            problem(v, NULL, from, to, "group %u day %s: the partition was dropped%s", p->grp,
                    date_of(p->day, d),
                    p->c   ? " (its minute aggregates)"
                    : p->m ? " (its chunks)"
                           : "");
    }
    return BW_OK;
}

/* ---- minute aggregates ------------------------------------------------- */

static void note_bad_hour(struct verify *v, int64_t tag, int64_t minute)
{
    int64_t hour = floor_div(minute, SDB_HOUR_US) * SDB_HOUR_US;
    if (v->bad_count == v->bad_cap) {
        size_t cap = v->bad_cap ? v->bad_cap * 2 : 16;
        struct bad_hour *grown = bw_realloc(v->bad_hours, cap * sizeof(*grown));
        if (!grown)
            return; /* then the hour is reported too */
        v->bad_hours = grown;
        v->bad_cap = cap;
    }
    v->bad_hours[v->bad_count++] = (struct bad_hour){tag, hour};
}

static bool hour_was_bad(const struct verify *v, int64_t tag, int64_t hour)
{
    for (size_t i = 0; i < v->bad_count; i++)
        if (v->bad_hours[i].tag == tag && v->bad_hours[i].hour == hour)
            return true;
    return false;
}

static int agg_orphan(struct verify *v, struct stream *s)
{
    struct vtag *t;
    int64_t minute = sqlite3_column_int64(s->m, 1);
    int rc = tag_get(v, sqlite3_column_int64(s->m, 0), &t);
    char a[BW_TIME_TEXT_MAX];
    if (!rc) {
        problem(v, t, minute, plus(minute, SDB_MINUTE_US),
                "the minute aggregate at %s does not match its samples (it has none)",
                when(minute, a));
        note_bad_hour(v, sqlite3_column_int64(s->m, 0), minute);
    }
    return rc;
}

static bool agg_equal(struct stream *s)
{
    sqlite3_stmt *m = s->m;
    const struct sdb_agg *a = &s->acc;
    if (sqlite3_column_int64(m, 9) != a->n || sqlite3_column_int64(m, 10) != a->n_all)
        return false;
    if (a->n == 0)
        return true;
    return sqlite3_column_double(m, 2) == a->mn && sqlite3_column_double(m, 3) == a->mx &&
           sqlite3_column_double(m, 5) == a->first && sqlite3_column_double(m, 6) == a->last &&
           sqlite3_column_int64(m, 7) == s->acc_ft && sqlite3_column_int64(m, 8) == s->acc_lt &&
           fabs(sqlite3_column_double(m, 4) - a->sum) <= SUM_TOLERANCE * s->acc_abs;
}

static bool m_before(struct stream *s, int64_t tag, int64_t minute)
{
    int64_t mt = sqlite3_column_int64(s->m, 0), mm = sqlite3_column_int64(s->m, 1);
    return mt < tag || (mt == tag && mm < minute);
}

/* The minute summed from its chunks against its aggregate row; rows of
 * minutes without chunks before it are reported on the way. */
static int agg_finish(struct verify *v, struct stream *s)
{
    if (!s->acc_on)
        return BW_OK;
    s->acc_on = false;
    if (!s->m)
        return BW_OK; /* the dropped table was said once, with its partition */
    int rc = BW_OK;
    while (!rc && s->m_row && m_before(s, s->acc_tag, s->acc_minute)) {
        rc = agg_orphan(v, s);
        if (!rc)
            rc = step(v, s->m, &s->m_row);
    }
    bool found = s->m_row && sqlite3_column_int64(s->m, 0) == s->acc_tag &&
                 sqlite3_column_int64(s->m, 1) == s->acc_minute;
    struct vtag *t;
    char a[BW_TIME_TEXT_MAX];
    if (!rc && !s->acc_bad && (!found || !agg_equal(s)) && !(rc = tag_get(v, s->acc_tag, &t))) {
        problem(v, t, s->acc_minute, plus(s->acc_minute, SDB_MINUTE_US),
                found ? "the minute aggregate at %s does not match its samples"
                      : "the minute aggregate at %s is missing",
                when(s->acc_minute, a));
        note_bad_hour(v, s->acc_tag, s->acc_minute);
    }
    if (!rc && found)
        rc = step(v, s->m, &s->m_row);
    return rc;
}

/* The minute of (tag, minute) is summed next: the one before is done. */
static int agg_to(struct verify *v, struct stream *s, int64_t tag, int64_t minute)
{
    if (s->acc_on && s->acc_tag == tag && s->acc_minute == minute)
        return BW_OK;
    int rc = agg_finish(v, s);
    if (rc)
        return rc;
    s->acc_on = true;
    s->acc_bad = false;
    s->acc_tag = tag;
    s->acc_minute = minute;
    s->acc_ft = s->acc_lt = 0;
    s->acc_abs = 0;
    sdb_agg_init(&s->acc);
    return BW_OK;
}

/* The samples of one chunk into its minute, summed per chunk as the
 * writer merges them. */
static void agg_add(struct stream *s, const struct bw_sample *samples, size_t n)
{
    struct sdb_agg c;
    sdb_agg_init(&c);
    for (size_t i = 0; i < n; i++) {
        if (samples[i].quality != 0) {
            if (s->acc.n + c.n == 0)
                s->acc_ft = samples[i].ts_us;
            s->acc_lt = samples[i].ts_us;
            s->acc_abs += fabs(samples[i].value);
        }
        sdb_agg_add(&c, &samples[i]);
    }
    if (c.n && s->acc.n) {
        s->acc.mn = fmin(s->acc.mn, c.mn);
        s->acc.mx = fmax(s->acc.mx, c.mx);
        s->acc.last = c.last;
        s->acc.sum += c.sum;
    } else if (c.n) {
        s->acc.mn = c.mn;
        s->acc.mx = c.mx;
        s->acc.first = c.first;
        s->acc.last = c.last;
        s->acc.sum = c.sum;
    }
    s->acc.n += c.n;
    s->acc.n_all += c.n_all;
}

/* ---- chunks ------------------------------------------------------------ */

/* A good chunk's link to the tag's chunk before it. */
static void chain_check(struct verify *v, struct vtag *t, int64_t grp, int64_t t0, int64_t t1,
                        int64_t prev_t1, int64_t prev_grp)
{
    char a[BW_TIME_TEXT_MAX], b[BW_TIME_TEXT_MAX], c[BW_TIME_TEXT_MAX];
    if (t->broken) {
        /* The chunk before was bad (and said so): any link into the gap
         * it leaves is taken. */
        int64_t lo = t->have ? t->last_t1 : SDB_NO_PREV_T1;
        if (prev_t1 < lo || (prev_t1 >= t0 && prev_t1 != SDB_NO_PREV_T1))
            problem(v, t, t0, t1, "samples from %s to %s do not follow the chunk before them",
                    when(t0, a), when(t1, b));
    } else if (!t->have) {
        if (prev_t1 != SDB_NO_PREV_T1 && !retained_away(v, prev_grp, prev_t1))
            problem(v, t, OPEN_START, t0,
                    "samples before %s are missing (the chunks up to %s were deleted)", when(t0, a),
                    when(prev_t1, b));
    } else if (prev_t1 != t->last_t1 || prev_grp != t->last_grp) {
        if (prev_t1 > t->last_t1 && prev_t1 < t0) {
            if (!retained_away(v, prev_grp, prev_t1))
                problem(v, t, t->last_t1, t0,
                        "samples between %s and %s are missing (a chunk was deleted)",
                        when(t->last_t1, a), when(t0, b));
        } else {
            problem(v, t, t0, t1,
                    "samples from %s to %s do not follow the chunk before them (ending at %s)",
                    when(t0, a), when(t1, b), when(t->last_t1, c));
        }
    }
    t->broken = false;
    t->have = true;
    t->last_t1 = t1;
    t->last_grp = grp;
}

/* The current row of s->c. */
static int chunk_check(struct verify *v, struct stream *s)
{
    sqlite3_stmt *st = s->c;
    int64_t tag = sqlite3_column_int64(st, 0), t0 = sqlite3_column_int64(st, 1);
    int64_t t1 = sqlite3_column_int64(st, 2), n = sqlite3_column_int64(st, 3);
    int64_t prev_t1 = sqlite3_column_int64(st, 4), prev_grp = sqlite3_column_int64(st, 5);
    const uint8_t *data = sqlite3_column_blob(st, 6);
    size_t len = (size_t)sqlite3_column_bytes(st, 6), got = 0;
    uint8_t want[SDB_MAC_LEN];
    struct vtag *t;
    v->st->chunks++;
    int rc = tag_get(v, tag, &t);
    if (!rc)
        rc = sdb_chunk_mac(&v->db, s->p->grp, s->p->day, tag, t0, t1, n, prev_t1, prev_grp, data,
                           len, want);
    if (!rc)
        rc = agg_to(v, s, tag, minute_of(t0));
    if (rc)
        return rc;
    bool good = mac_matches(st, 7, want) && data &&
                bw_chunk_decode(data, len, v->buf, BW_CHUNK_MAX_SAMPLES, &got) == BW_OK &&
                (int64_t)got == n && v->buf[0].ts_us == t0 && v->buf[got - 1].ts_us == t1 &&
                floor_div(t0, SDB_DAY_US) == s->p->day && minute_of(t0) == minute_of(t1);
    if (!good) {
        char a[BW_TIME_TEXT_MAX], b[BW_TIME_TEXT_MAX];
        problem(v, t, t0, t1, "samples from %s to %s were changed (or inserted)", when(t0, a),
                when(t1, b));
        t->broken = true;
        s->acc_bad = true; /* said once, not again by its minute */
        return BW_OK;
    }
    v->st->samples += got;
    chain_check(v, t, s->p->grp, t0, t1, prev_t1, prev_grp);
    agg_add(s, v->buf, got);
    return BW_OK;
}

static int stream_open(struct verify *v, struct stream *s, const struct part *p)
{
    *s = (struct stream){.p = p};
    char table[48], sql[200];
    sdb_table_name(table, sizeof(table), 'c', p->grp, p->day);
    int rc = bw_snprintf(sql, sizeof(sql),
                         "SELECT tag, t0, t1, n, prev_t1, prev_grp, data, mac FROM %s"
                         " ORDER BY tag, t0",
                         table);
    if (!rc)
        rc = prepare(v, sql, &s->c);
    if (!rc)
        rc = step(v, s->c, &s->c_row);
    if (rc || !p->m)
        return rc;
    sdb_table_name(table, sizeof(table), 'm', p->grp, p->day);
    rc = bw_snprintf(sql, sizeof(sql),
                     "SELECT tag, t, mn, mx, sm, fi, la, ft, lt, n, n_all FROM %s"
                     " ORDER BY tag, t",
                     table);
    if (!rc)
        rc = prepare(v, sql, &s->m);
    if (!rc)
        rc = step(v, s->m, &s->m_row);
    return rc;
}

/* The stream whose current chunk comes first by (tag, t0); NULL at the end. */
static struct stream *stream_next(struct stream *s, size_t n)
{
    struct stream *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!s[i].c_row)
            continue;
        int64_t tag = sqlite3_column_int64(s[i].c, 0), t0 = sqlite3_column_int64(s[i].c, 1);
        int64_t btag = best ? sqlite3_column_int64(best->c, 0) : 0;
        if (!best || tag < btag || (tag == btag && t0 < sqlite3_column_int64(best->c, 1)))
            best = &s[i];
    }
    return best;
}

/* The chunks of parts[0..n) (one day, every group) in (tag, t0) order. */
static int walk_day(struct verify *v, const struct part *parts, size_t n)
{
    struct stream *s = bw_calloc(n, sizeof(*s));
    if (!s)
        return BW_ENOMEM;
    size_t open = 0;
    int rc = BW_OK;
    for (size_t i = 0; !rc && i < n; i++)
        if (parts[i].c)
            rc = stream_open(v, &s[open++], &parts[i]);
    struct stream *next;
    while (!rc && (next = stream_next(s, open)) != NULL) {
        rc = chunk_check(v, next);
        if (!rc)
            rc = step(v, next->c, &next->c_row);
    }
    for (size_t i = 0; !rc && i < open; i++) {
        rc = agg_finish(v, &s[i]);
        while (!rc && s[i].m_row) {
            rc = agg_orphan(v, &s[i]);
            if (!rc)
                rc = step(v, s[i].m, &s[i].m_row);
        }
    }
    for (size_t i = 0; i < open; i++) {
        sqlite3_finalize(s[i].c);
        sqlite3_finalize(s[i].m);
    }
    bw_free(s);
    return rc;
}

static int walk_chunks(struct verify *v)
{
    int rc = BW_OK;
    for (size_t i = 0; !rc && i < v->nparts;) {
        size_t j = i;
        while (j < v->nparts && v->parts[j].day == v->parts[i].day)
            j++;
        rc = walk_day(v, &v->parts[i], j - i);
        i = j;
    }
    return rc;
}

/* ---- tails and the seal ------------------------------------------------ */

static void tail_check(struct verify *v, struct vtag *t, int64_t t1, int64_t grp)
{
    char a[BW_TIME_TEXT_MAX], b[BW_TIME_TEXT_MAX];
    if (t->broken)
        return; /* its newest chunk is bad, and was said to be */
    if (!t->have) {
        if (!retained_away(v, grp, t1))
            problem(v, t, OPEN_START, t1,
                    "samples up to %s are missing (all its chunks were deleted)", when(t1, a));
    } else if (t->last_t1 < t1) {
        if (!retained_away(v, grp, t1))
            problem(v, t, t->last_t1, t1,
                    "samples after %s up to %s are missing (the newest chunks were deleted)",
                    when(t->last_t1, a), when(t1, b));
    } else if (t->last_t1 > t1 || t->last_grp != grp) {
        problem(v, t, t1, t->last_t1,
                "samples after %s up to %s are beyond the record of its newest sample (the"
                " record was set back)",
                when(t1, a), when(t->last_t1, b));
    }
}

static int check_tails(struct verify *v, uint8_t xor [SDB_MAC_LEN])
{
    memset(xor, 0, SDB_MAC_LEN);
    sqlite3_stmt *st = NULL;
    int rc = prepare(v, "SELECT tag, t1, grp, mac FROM tails ORDER BY tag", &st);
    bool row = false;
    while (!rc && !(rc = step(v, st, &row)) && row) {
        int64_t t1 = sqlite3_column_int64(st, 1), grp = sqlite3_column_int64(st, 2);
        uint8_t want[SDB_MAC_LEN];
        struct vtag *t;
        if (sqlite3_column_bytes(st, 3) == SDB_MAC_LEN) {
            const uint8_t *mac = sqlite3_column_blob(st, 3);
            for (size_t i = 0; i < SDB_MAC_LEN; i++)
                xor[i] ^= mac[i];
        }
        rc = tag_get(v, sqlite3_column_int64(st, 0), &t);
        if (!rc)
            rc = sdb_tail_mac(&v->db, t->id, t1, grp, want);
        if (rc)
            break;
        t->tail_seen = true;
        t->tail_t1 = t1;
        if (!mac_matches(st, 3, want))
            problem(v, t, OPEN_START, OPEN_END,
                    "the record of its newest closed sample was changed (or inserted)");
        else
            tail_check(v, t, t1, grp);
    }
    sqlite3_finalize(st);
    char a[BW_TIME_TEXT_MAX];
    for (size_t i = 0; !rc && i < v->ntags; i++)
        if (v->tags[i].have && !v->tags[i].tail_seen)
            problem(v, &v->tags[i], OPEN_START, OPEN_END,
                    "the record of its newest closed sample (after %s) is missing",
                    when(v->tags[i].last_t1, a));
    return rc;
}

static void check_seal(struct verify *v, const uint8_t xor [SDB_MAC_LEN])
{
    char a[BW_TIME_TEXT_MAX];
    if (v->seal_state == SDB_SEAL_MISSING)
        problem(v, NULL, OPEN_START, OPEN_END, "the seal of the history is missing");
    else if (v->seal_state == SDB_SEAL_CHANGED)
        problem(v, NULL, OPEN_START, OPEN_END, "the seal of the history was changed");
    if (v->seal_state != SDB_SEAL_OK)
        return;
    if (v->seal.broken_us)
        problem(v, NULL, v->seal.broken_us, OPEN_END,
                "at %s the historian found the history changed behind its back (its seal, a"
                " tag's newest-sample record or the recent batches)",
                when(v->seal.broken_us, a));
    if (bw_crypto_equal(xor, v->seal.tails_xor, SDB_MAC_LEN))
        return;
    problem(v, NULL, OPEN_START, OPEN_END,
            "the records of the tags' newest samples do not match the seal (one was deleted or"
            " set back)");
    /* Whose? A tag left with no sample at all is the likely one. */
    for (size_t i = 0; i < v->ntags; i++) {
        const struct vtag *t = &v->tags[i];
        if (!t->have && !t->tail_seen && !t->in_recent)
            problem(v, t, OPEN_START, OPEN_END, "has no samples left (all may have been deleted)");
    }
}

/* ---- recent batches ----------------------------------------------------- */

struct batch_ctx {
    struct verify *v;
    int64_t seq;
    bool good; /* counting; else naming what changed */
    size_t runs;
};

static int batch_run(void *ctx, int64_t tag, const struct bw_sample *samples, size_t n)
{
    struct batch_ctx *b = ctx;
    struct vtag *t;
    int rc = tag_get(b->v, tag, &t);
    if (rc || n == 0)
        return rc;
    b->runs++;
    if (b->good) {
        t->in_recent = true;
        for (size_t i = 0; i < n; i++)
            b->v->st->samples += samples[i].ts_us > t->tail_t1;
        return BW_OK;
    }
    char a[BW_TIME_TEXT_MAX], c[BW_TIME_TEXT_MAX];
    int64_t from = samples[0].ts_us, to = samples[n - 1].ts_us;
    problem(b->v, t, from, to,
            "samples from %s to %s in recent batch %lld were changed (or inserted)", when(from, a),
            when(to, c), (long long)b->seq);
    return BW_OK;
}

/* The current row of st (seq, t_min, t_max, data, prev_mac, mac). */
static int batch_check(struct verify *v, sqlite3_stmt *st, bool *good)
{
    int64_t seq = sqlite3_column_int64(st, 0);
    int64_t t_min = sqlite3_column_int64(st, 1), t_max = sqlite3_column_int64(st, 2);
    const uint8_t *data = sqlite3_column_blob(st, 3);
    size_t len = (size_t)sqlite3_column_bytes(st, 3);
    uint8_t prev[SDB_MAC_LEN] = {0}, want[SDB_MAC_LEN];
    if (sqlite3_column_bytes(st, 4) == SDB_MAC_LEN)
        memcpy(prev, sqlite3_column_blob(st, 4), SDB_MAC_LEN);
    v->st->batches++;
    int rc = sdb_batch_mac(&v->db, seq, t_min, t_max, prev, data, len, want);
    if (rc)
        return rc;
    *good = mac_matches(st, 5, want) && sqlite3_column_bytes(st, 4) == SDB_MAC_LEN;
    struct batch_ctx b = {.v = v, .seq = seq, .good = *good};
    rc = data ? sdb_batch_each(data, len, batch_run, &b) : BW_EMALFORMED;
    if (rc == BW_ENOMEM)
        return rc;
    if ((rc || b.runs == 0) && (!*good || len > 0)) {
        char a[BW_TIME_TEXT_MAX], c[BW_TIME_TEXT_MAX];
        problem(v, NULL, t_min, t_max, "recent batch %lld (samples from %s to %s) was changed%s",
                (long long)seq, when(t_min, a), when(t_max, c),
                *good ? " (it does not decode)" : " (or inserted)");
    }
    return BW_OK;
}

/* The batches kept against the range the seal names. */
static void recent_ends(struct verify *v, int64_t count, int64_t first, int64_t last,
                        int64_t last_t_max, const uint8_t last_mac[SDB_MAC_LEN])
{
    const struct sdb_seal *x = &v->seal;
    char a[BW_TIME_TEXT_MAX];
    if (v->seal_state != SDB_SEAL_OK)
        return;
    if (count == 0) {
        if (x->recent_newest != 0)
            problem(v, NULL, OPEN_START, OPEN_END, "all recent batches (%lld to %lld) are missing",
                    (long long)x->recent_oldest, (long long)x->recent_newest);
        return;
    }
    if (x->recent_newest == 0 || first < x->recent_oldest)
        problem(v, NULL, OPEN_START, OPEN_END,
                "recent batch %lld is older than the oldest the seal names (inserted)",
                (long long)first);
    else if (first > x->recent_oldest)
        problem(v, NULL, OPEN_START, OPEN_END,
                "recent batches %lld to %lld are missing (the oldest)", (long long)x->recent_oldest,
                (long long)first - 1);
    if (x->recent_newest != 0 && last < x->recent_newest)
        problem(v, NULL, last_t_max, OPEN_END,
                "recent batches %lld to %lld are missing (the newest; samples after %s)",
                (long long)last + 1, (long long)x->recent_newest, when(last_t_max, a));
    else if (last > x->recent_newest)
        problem(v, NULL, OPEN_START, OPEN_END,
                "recent batch %lld is newer than the newest the seal names (inserted)",
                (long long)last);
    else if (!bw_crypto_equal(last_mac, x->recent_mac, SDB_MAC_LEN))
        problem(v, NULL, OPEN_START, OPEN_END,
                "recent batch %lld is not the one the seal names (replaced)", (long long)last);
}

static int check_recent(struct verify *v)
{
    sqlite3_stmt *st = NULL;
    int rc =
        prepare(v, "SELECT seq, t_min, t_max, data, prev_mac, mac FROM recent ORDER BY seq", &st);
    bool row = false, prev_good = false;
    int64_t count = 0, first = 0, last = 0, last_t_max = 0;
    uint8_t last_mac[SDB_MAC_LEN] = {0};
    char a[BW_TIME_TEXT_MAX];
    while (!rc && !(rc = step(v, st, &row)) && row) {
        bool good = false;
        int64_t seq = sqlite3_column_int64(st, 0);
        rc = batch_check(v, st, &good);
        if (rc)
            break;
        if (count == 0)
            first = seq;
        else if (seq != last + 1)
            problem(v, NULL, last_t_max, sqlite3_column_int64(st, 1),
                    "recent batches %lld to %lld are missing (after batch %lld, whose samples end"
                    " at %s)",
                    (long long)last + 1, (long long)seq - 1, (long long)last, when(last_t_max, a));
        else if (good && prev_good &&
                 !(sqlite3_column_bytes(st, 4) == SDB_MAC_LEN &&
                   bw_crypto_equal(sqlite3_column_blob(st, 4), last_mac, SDB_MAC_LEN)))
            problem(v, NULL, OPEN_START, OPEN_END,
                    "recent batch %lld does not follow batch %lld (their chain is broken)",
                    (long long)seq, (long long)last);
        count++;
        last = seq;
        last_t_max = sqlite3_column_int64(st, 2);
        prev_good = good;
        memset(last_mac, 0, sizeof(last_mac));
        if (sqlite3_column_bytes(st, 5) == SDB_MAC_LEN)
            memcpy(last_mac, sqlite3_column_blob(st, 5), SDB_MAC_LEN);
    }
    sqlite3_finalize(st);
    if (!rc)
        recent_ends(v, count, first, last, last_t_max, last_mac);
    return rc;
}

/* ---- the whole check ---------------------------------------------------- */

/* ---- hour aggregates -------------------------------------------------- */

struct hour_acc {
    int64_t tag, hour;
    double mn, mx, sm, fi, la;
    int64_t ft, lt, n, n_all;
    bool any;
};

static bool hour_matches(const struct hour_acc *a, sqlite3_stmt *h)
{
    if (sqlite3_column_int64(h, 9) != a->n || sqlite3_column_int64(h, 10) != a->n_all)
        return false;
    if (a->n == 0)
        return true;
    double sm = sqlite3_column_double(h, 4);
    return sqlite3_column_double(h, 2) == a->mn && sqlite3_column_double(h, 3) == a->mx &&
           fabs(sm - a->sm) <= 1e-9 * (fabs(sm) + fabs(a->sm)) + 1e-12 &&
           sqlite3_column_double(h, 5) == a->fi && sqlite3_column_double(h, 6) == a->la &&
           sqlite3_column_int64(h, 7) == a->ft && sqlite3_column_int64(h, 8) == a->lt;
}

enum hour_problem { HOUR_INSERTED, HOUR_CHANGED, HOUR_MISSING };

static void hour_report(struct verify *v, int64_t tag, int64_t hour, enum hour_problem what)
{
    struct vtag *t = NULL;
    char a[BW_TIME_TEXT_MAX];
    if (hour_was_bad(v, tag, hour) || tag_get(v, tag, &t) != BW_OK)
        return;
    when(hour, a);
    if (what == HOUR_INSERTED)
        problem(v, t, hour, hour + SDB_HOUR_US,
                "the hour aggregate at %s has no minutes (it was inserted)", a);
    else if (what == HOUR_CHANGED)
        problem(v, t, hour, hour + SDB_HOUR_US,
                "the hour aggregate at %s does not match its minutes", a);
    else
        problem(v, t, hour, hour + SDB_HOUR_US, "the hour aggregate at %s is missing", a);
}

/* The hour rows of one partition against its minute rows (which the
 * chunk walk checked against the samples), merged by (tag, hour). */
static int check_hours_of(struct verify *v, const struct part *p)
{
    char m[48], h[48], sql[256];
    sdb_table_name(m, sizeof(m), 'm', p->grp, p->day);
    sdb_table_name(h, sizeof(h), 'h', p->grp, p->day);
    sqlite3_stmt *ms = NULL, *hs = NULL;
    int rc = bw_snprintf(sql, sizeof(sql),
                         "SELECT tag, t, mn, mx, sm, fi, la, ft, lt, n, n_all FROM %s"
                         " ORDER BY tag, t",
                         m);
    if (!rc)
        rc = prepare(v, sql, &ms);
    if (!rc)
        rc = bw_snprintf(sql, sizeof(sql),
                         "SELECT tag, t, mn, mx, sm, fi, la, ft, lt, n, n_all FROM %s"
                         " ORDER BY tag, t",
                         h);
    if (!rc && sqlite3_prepare_v2(v->db.db, sql, -1, &hs, NULL) != SQLITE_OK) {
        /* A partition without hour tables (made before they existed). */
        sqlite3_finalize(ms);
        return BW_OK;
    }
    bool mrow = false, hrow = false;
    if (!rc)
        rc = step(v, ms, &mrow);
    if (!rc)
        rc = step(v, hs, &hrow);
    struct hour_acc a = {0};
    while (!rc && (mrow || a.any)) {
        int64_t tag = mrow ? sqlite3_column_int64(ms, 0) : 0;
        int64_t hour = mrow ? floor_div(sqlite3_column_int64(ms, 1), SDB_HOUR_US) * SDB_HOUR_US : 0;
        if (a.any && (!mrow || tag != a.tag || hour != a.hour)) {
            /* The accumulated hour is complete: find its row. */
            while (
                !rc && hrow &&
                (sqlite3_column_int64(hs, 0) < a.tag ||
                 (sqlite3_column_int64(hs, 0) == a.tag && sqlite3_column_int64(hs, 1) < a.hour))) {
                hour_report(v, sqlite3_column_int64(hs, 0), sqlite3_column_int64(hs, 1),
                            HOUR_INSERTED);
                rc = step(v, hs, &hrow);
            }
            bool found = !rc && hrow && sqlite3_column_int64(hs, 0) == a.tag &&
                         sqlite3_column_int64(hs, 1) == a.hour;
            if (!rc && (!found || !hour_matches(&a, hs)))
                hour_report(v, a.tag, a.hour, found ? HOUR_CHANGED : HOUR_MISSING);
            if (!rc && found)
                rc = step(v, hs, &hrow);
            a.any = false;
        }
        if (rc || !mrow)
            continue;
        int64_t n = sqlite3_column_int64(ms, 9);
        if (!a.any) {
            a = (struct hour_acc){.tag = tag, .hour = hour, .any = true};
        }
        a.n_all += sqlite3_column_int64(ms, 10);
        if (n > 0) {
            double mn = sqlite3_column_double(ms, 2), mx = sqlite3_column_double(ms, 3);
            if (a.n == 0) {
                a.mn = mn;
                a.mx = mx;
                a.fi = sqlite3_column_double(ms, 5);
                a.ft = sqlite3_column_int64(ms, 7);
            } else {
                a.mn = fmin(a.mn, mn);
                a.mx = fmax(a.mx, mx);
            }
            a.sm += sqlite3_column_double(ms, 4);
            a.la = sqlite3_column_double(ms, 6);
            a.lt = sqlite3_column_int64(ms, 8);
            a.n += n;
        }
        rc = step(v, ms, &mrow);
    }
    while (!rc && hrow) {
        hour_report(v, sqlite3_column_int64(hs, 0), sqlite3_column_int64(hs, 1), HOUR_INSERTED);
        rc = step(v, hs, &hrow);
    }
    sqlite3_finalize(ms);
    sqlite3_finalize(hs);
    return rc;
}

static int check_hours(struct verify *v)
{
    int rc = BW_OK;
    for (size_t i = 0; !rc && i < v->nparts; i++)
        if (v->parts[i].m)
            rc = check_hours_of(v, &v->parts[i]);
    return rc;
}

static int verify_all(struct verify *v)
{
    uint8_t xor [SDB_MAC_LEN];
    /* One snapshot for the whole check, while the writer goes on. */
    int rc = sqlite3_exec(v->db.db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? BW_OK : BW_EIO;
    if (!rc)
        rc = sdb_seal_get(&v->db, &v->seal, &v->seal_state);
    if (!rc)
        rc = load_tags(v);
    if (!rc)
        rc = load_marks(v);
    if (!rc)
        rc = load_partitions(v);
    if (!rc)
        rc = walk_chunks(v);
    if (!rc)
        rc = check_hours(v);
    if (!rc)
        rc = check_tails(v, xor);
    if (!rc)
        rc = check_recent(v);
    if (!rc)
        check_seal(v, xor);
    sqlite3_exec(v->db.db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int bw_history_verify(const char *path, const uint8_t *key, size_t key_len,
                      bw_history_problem_fn fn, void *ctx, struct bw_history_verify_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!path || !key || key_len == 0)
        return BW_EINVAL;
    struct verify v = {.fn = fn, .ctx = ctx, .st = out};
    v.buf = bw_calloc(BW_CHUNK_MAX_SAMPLES, sizeof(*v.buf));
    if (!v.buf)
        return BW_ENOMEM;
    int rc = sdb_open(&v.db, path, true, key, key_len);
    if (!rc) {
        rc = verify_all(&v);
        sdb_close(&v.db);
    }
    bw_free(v.tags);
    bw_free(v.parts);
    bw_free(v.bad_hours);
    bw_free(v.marks);
    bw_free(v.buf);
    return rc;
}
