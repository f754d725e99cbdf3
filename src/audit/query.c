/* SPDX-License-Identifier: Apache-2.0
 *
 * The reader of the audit trail: a read-only connection to STATE/audit.db
 * (the daemon may be writing it meanwhile) and the query that pages
 * through records by filter and cursor. Each query is one SELECT whose
 * text depends only on which filters are set (never on their values,
 * which are bound), so its statement is prepared once per reader and
 * shape and then reused. Records come in sequence order and the cursor
 * is a sequence number, so records appended between two pages only ever
 * appear in later pages. A reader belongs to the thread that opened it.
 */
#include "audit/internal.h"

#include <string.h>

/* Which filters a statement tests: bits for from, to, category, result,
 * user, then the number of event IDs (0..BW_AUDIT_FILTER_MAX_EVENTS). */
#define SHAPE_FROM 1u
#define SHAPE_TO 2u
#define SHAPE_CATEGORY 4u
#define SHAPE_RESULT 8u
#define SHAPE_USER 16u
#define SHAPE_FLAGS 32u
#define SHAPE_COUNT (SHAPE_FLAGS * (BW_AUDIT_FILTER_MAX_EVENTS + 1))

/* The longest SQL we build: the fixed text plus every clause. */
#define SQL_MAX 1024

struct bw_audit_reader {
    sqlite3 *db;
    sqlite3_stmt *stmts[SHAPE_COUNT]; /* prepared on first use */
};

int bw_audit_reader_open(const char *state_dir, struct bw_audit_reader **out)
{
    *out = NULL;
    struct bw_audit_reader *r = bw_calloc(1, sizeof(*r));
    if (!r)
        return BW_ENOMEM;
    int rc = audit_store_open_ro(state_dir, &r->db);
    if (rc) {
        bw_free(r);
        return rc == BW_ENOTFOUND ? BW_ENOTFOUND : BW_EIO;
    }
    *out = r;
    return BW_OK;
}

void bw_audit_reader_free(struct bw_audit_reader *reader)
{
    if (!reader)
        return;
    for (size_t i = 0; i < SHAPE_COUNT; i++)
        sqlite3_finalize(reader->stmts[i]);
    sqlite3_close(reader->db);
    bw_free(reader);
}

static unsigned shape_of(const struct bw_audit_filter *f)
{
    unsigned s = 0;
    if (f->from_us != INT64_MIN)
        s |= SHAPE_FROM;
    if (f->to_us != INT64_MAX)
        s |= SHAPE_TO;
    if (f->category_mask)
        s |= SHAPE_CATEGORY;
    if (f->result_mask)
        s |= SHAPE_RESULT;
    if (f->user[0])
        s |= SHAPE_USER;
    return s + SHAPE_FLAGS * (unsigned)f->event_count;
}

/* Appends "?, ?, ..., ?" with n placeholders. */
static int append_marks(struct bw_buf *sql, size_t n)
{
    int rc = BW_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = bw_buf_append_str(sql, i ? ", ?" : "?");
    return rc;
}

/* The SELECT for a shape. Category and result are tested against the
 * bit masks with one parameter each; time and user use the indexes on
 * ts_us and source_name (the latter yields rows in seq order, so paging
 * by user needs no sort); event IDs form an IN list. */
static int build_sql(unsigned shape, struct bw_buf *sql)
{
    int rc = bw_buf_append_str(sql, "SELECT seq, ts_us, category, event_id, type, result,"
                                    " source_kind, source_name, source_address, details"
                                    " FROM records WHERE seq > ?");
    if (!rc && (shape & SHAPE_FROM))
        rc = bw_buf_append_str(sql, " AND ts_us >= ?");
    if (!rc && (shape & SHAPE_TO))
        rc = bw_buf_append_str(sql, " AND ts_us < ?");
    if (!rc && (shape & SHAPE_CATEGORY))
        rc = bw_buf_append_str(sql, " AND ((1 << category) & ?) != 0");
    if (!rc && (shape & SHAPE_RESULT))
        rc = bw_buf_append_str(sql, " AND ((1 << result) & ?) != 0");
    if (!rc && (shape & SHAPE_USER))
        rc = bw_buf_append_str(sql, " AND source_name = ?");
    size_t events = shape / SHAPE_FLAGS;
    if (!rc && events) {
        rc = bw_buf_append_str(sql, " AND event_id IN (");
        if (!rc)
            rc = append_marks(sql, events);
        if (!rc)
            rc = bw_buf_append_str(sql, ")");
    }
    if (!rc)
        rc = bw_buf_append_str(sql, " ORDER BY seq LIMIT ?");
    return rc;
}

static int statement_for(struct bw_audit_reader *r, unsigned shape, sqlite3_stmt **out)
{
    if (r->stmts[shape]) {
        *out = r->stmts[shape];
        return BW_OK;
    }
    struct bw_buf sql;
    bw_buf_init(&sql, SQL_MAX);
    int rc = build_sql(shape, &sql);
    if (rc == BW_OK && sqlite3_prepare_v3(r->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT,
                                          &r->stmts[shape], NULL) != SQLITE_OK)
        rc = BW_EIO;
    bw_buf_clear(&sql);
    if (rc)
        return rc == BW_ENOMEM ? BW_ENOMEM : BW_EIO;
    *out = r->stmts[shape];
    return BW_OK;
}

/* Binds the filter's values in the order build_sql placed them. */
static int bind_filter(sqlite3_stmt *st, unsigned shape, const struct bw_audit_filter *f)
{
    int i = 1, src = SQLITE_OK;
    uint64_t cursor = f->cursor > INT64_MAX ? INT64_MAX : f->cursor;
    src |= sqlite3_bind_int64(st, i++, (sqlite3_int64)cursor);
    if (shape & SHAPE_FROM)
        src |= sqlite3_bind_int64(st, i++, f->from_us);
    if (shape & SHAPE_TO)
        src |= sqlite3_bind_int64(st, i++, f->to_us);
    if (shape & SHAPE_CATEGORY)
        src |= sqlite3_bind_int64(st, i++, f->category_mask);
    if (shape & SHAPE_RESULT)
        src |= sqlite3_bind_int64(st, i++, f->result_mask);
    if (shape & SHAPE_USER)
        src |= sqlite3_bind_text(st, i++, f->user, -1, SQLITE_STATIC);
    for (size_t k = 0; k < f->event_count; k++)
        src |= sqlite3_bind_int64(st, i++, f->events[k]);
    /* One more than a page: whether it comes back says if there is more. */
    src |= sqlite3_bind_int64(st, i, (sqlite3_int64)f->limit + 1);
    return src == SQLITE_OK ? BW_OK : BW_EIO;
}

static void entry_of(sqlite3_stmt *st, struct bw_audit_entry *e)
{
    const char *type = (const char *)sqlite3_column_text(st, 4);
    const char *name = (const char *)sqlite3_column_text(st, 7);
    const char *details = (const char *)sqlite3_column_text(st, 9);
    *e = (struct bw_audit_entry){
        .seq = (uint64_t)sqlite3_column_int64(st, 0),
        .ts_us = sqlite3_column_int64(st, 1),
        .category = (enum bw_audit_category)sqlite3_column_int(st, 2),
        .event_id = (uint32_t)sqlite3_column_int64(st, 3),
        .type = type ? type : "",
        .result = (enum bw_audit_result)sqlite3_column_int(st, 5),
        .source_kind = (enum bw_audit_source_kind)sqlite3_column_int(st, 6),
        .source_name = name ? name : "",
        .source_address = (const char *)sqlite3_column_text(st, 8),
        .details = details ? details : "{}",
    };
}

static bool filter_valid(const struct bw_audit_filter *f)
{
    return f->limit >= 1 && f->limit <= BW_AUDIT_QUERY_MAX_LIMIT &&
           f->event_count <= BW_AUDIT_FILTER_MAX_EVENTS &&
           memchr(f->user, '\0', sizeof(f->user)) != NULL;
}

int bw_audit_query(struct bw_audit_reader *reader, const struct bw_audit_filter *filter,
                   bw_audit_entry_fn fn, void *ctx, uint64_t *next_cursor)
{
    *next_cursor = 0;
    if (!filter_valid(filter))
        return BW_EINVAL;
    unsigned shape = shape_of(filter);
    sqlite3_stmt *st = NULL;
    int rc = statement_for(reader, shape, &st);
    if (rc)
        return rc;
    rc = bind_filter(st, shape, filter);
    uint32_t given = 0;
    uint64_t last = 0;
    int src = SQLITE_DONE;
    while (rc == BW_OK && (src = sqlite3_step(st)) == SQLITE_ROW) {
        struct bw_audit_entry e;
        entry_of(st, &e);
        if (given == filter->limit) {
            *next_cursor = last;
            break;
        }
        rc = fn(&e, ctx);
        given++;
        last = e.seq;
    }
    if (rc == BW_OK && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = BW_EIO;
    /* Ends the read transaction, so the daemon's checkpoints are not
     * held back by an idle reader. */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc)
        *next_cursor = 0;
    return rc;
}
