/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the audit trail's reader (src/audit/query.c) against
 * trails built here with the store's own functions (keys, chain hash,
 * MAC, insert in a transaction), as the writer will build them: each
 * filter (time range, category, user, result, event ID, and all at once)
 * checked against a model of the records; paging 2,500 records 100 at a
 * time visits each once; paging while another thread appends on its own
 * connection sees every record exactly once and in order; no trail gives
 * BW_ENOTFOUND; the reader reads a trail it has no write permission on
 * (as root, in a child that drops to an unprivileged uid, since modes
 * bind no root), leaves audit.db as it was (bytes, inode, modification
 * time) and no WAL frame, and its connection is read-only and refuses
 * writes; values are bound, never pasted; a
 * failed allocation at open is BW_ENOMEM.
 *
 * Run as `test_audit_query --make-trail DIR N`, the binary instead makes
 * a trail of N records in DIR and exits: the CLI's integration test
 * (tests/integration/31-audit-query-cli.sh) reads that trail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* 2026-12-03T10:00:00Z; record i is i - 1 seconds later. */
#define BASE_US 1796292000000000LL
#define RECORDS 2500

/* ---- building a trail -------------------------------------------------- */

struct trail {
    struct audit_keys keys;
    struct bw_crypto_mac *mac;
    sqlite3 *db;
    sqlite3_stmt *insert;
    _Atomic bool archiving;
    uint64_t seq;
    uint8_t prev[BW_SHA256_LEN];
};

static int trail_open(const char *dir, struct trail *t)
{
    memset(t, 0, sizeof(*t));
    atomic_init(&t->archiving, false);
    int rc = audit_keys_load(dir, true, true, &t->keys);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(t->keys.mac_key, BW_AUDIT_MAC_KEY_LEN, &t->mac);
    if (rc == BW_OK)
        rc = audit_store_open_rw(dir, &t->archiving, &t->db);
    if (rc == BW_OK)
        rc = audit_store_prepare_insert(t->db, &t->insert);
    return rc;
}

static void trail_close(struct trail *t)
{
    sqlite3_finalize(t->insert);
    sqlite3_close(t->db);
    bw_crypto_mac_free(t->mac);
    audit_keys_clear(&t->keys);
}

/* What record seq holds: a pattern every filter can cut differently. */
static const uint32_t pattern_events[] = {1001, 2002, 3001, 4001, 4001, 6001, 8001};
static const char *const pattern_users[] = {"alice", "bob", "carol", "=cmd|' /C calc'!A0",
                                            "x' OR '1'='1"};

struct pattern {
    int64_t ts_us;
    uint32_t event_id;
    enum bw_audit_category category;
    const char *type;
    enum bw_audit_result result;
    const char *user;
    const char *address;
};

static struct pattern pattern_of(uint64_t seq)
{
    const struct bw_audit_event_info *info =
        bw_audit_event_lookup(pattern_events[seq % BW_ARRAY_LEN(pattern_events)]);
    return (struct pattern){
        .ts_us = BASE_US + (int64_t)(seq - 1) * 1000000,
        .event_id = info->id,
        .category = info->category,
        .type = info->type,
        .result = (enum bw_audit_result)(1 + seq % 4),
        .user = pattern_users[seq % BW_ARRAY_LEN(pattern_users)],
        .address = seq % 3 ? "192.0.2.7" : NULL,
    };
}

/* Appends the next record of the pattern (inside the caller's
 * transaction). */
static int trail_append(struct trail *t)
{
    uint64_t seq = t->seq + 1;
    struct pattern p = pattern_of(seq);
    char details[96];
    if (bw_snprintf(details, sizeof(details), "{\"n\":%llu,\"note\":\"a, \\\"b\\\"\"}",
                    (unsigned long long)seq) != BW_OK)
        return BW_ETOOLARGE;
    struct audit_row row = {
        .seq = seq,
        .ts_us = p.ts_us,
        .category = (uint8_t)p.category,
        .event_id = p.event_id,
        .type = p.type,
        .result = (uint8_t)p.result,
        .source_kind = BW_AUDIT_SOURCE_USER,
        .source_name = (char *)p.user,
        .source_address = (char *)p.address,
        .details = details,
    };
    memcpy(row.prev_hash, t->prev, BW_SHA256_LEN);
    struct bw_audit_entry e;
    audit_row_entry(&row, &e);
    int rc = audit_row_hash(&e, row.prev_hash, row.hash);
    if (rc == BW_OK)
        rc = audit_row_mac(t->mac, row.hash, row.mac);
    if (rc == BW_OK)
        rc = audit_store_insert(t->insert, &row);
    if (rc == BW_OK) {
        t->seq = seq;
        memcpy(t->prev, row.hash, BW_SHA256_LEN);
    }
    return rc;
}

static int trail_append_many(struct trail *t, size_t n)
{
    int rc = audit_store_exec(t->db, "BEGIN IMMEDIATE;");
    for (size_t i = 0; rc == BW_OK && i < n; i++)
        rc = trail_append(t);
    int end = audit_store_exec(t->db, rc == BW_OK ? "COMMIT;" : "ROLLBACK;");
    return rc ? rc : end;
}

static int make_trail(const char *dir, size_t n)
{
    struct trail t;
    int rc = trail_open(dir, &t);
    if (rc == BW_OK)
        rc = trail_append_many(&t, n);
    trail_close(&t);
    return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* ---- fixtures ------------------------------------------------------------ */

struct fixture {
    char dir[64];
    struct bw_audit_reader *reader;
};

static int setup_dir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    bw_strlcpy(f->dir, "/tmp/bw-audit-query-XXXXXX", sizeof(f->dir));
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_dir(void **state)
{
    struct fixture *f = *state;
    bw_audit_reader_free(f->reader);
    nftw(f->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* A trail of RECORDS records, and a reader on it. */
static int setup_trail(void **state)
{
    if (setup_dir(state))
        return -1;
    struct fixture *f = *state;
    if (make_trail(f->dir, RECORDS) != BW_OK || bw_audit_reader_open(f->dir, &f->reader) != BW_OK) {
        teardown_dir(state);
        return -1;
    }
    return 0;
}

/* ---- collecting a query's results --------------------------------------- */

struct seen {
    uint64_t *seqs;
    size_t count, cap;
    bool bad_entry;
};

static int collect(const struct bw_audit_entry *e, void *ctx)
{
    struct seen *s = ctx;
    struct pattern p = pattern_of(e->seq);
    /* Each field as stored. */
    if (e->ts_us != p.ts_us || e->event_id != p.event_id || e->category != p.category ||
        strcmp(e->type, p.type) != 0 || e->result != p.result || strcmp(e->source_name, p.user) ||
        e->source_kind != BW_AUDIT_SOURCE_USER ||
        (p.address == NULL) != (e->source_address == NULL) ||
        strncmp(e->details, "{\"n\":", 5) != 0)
        s->bad_entry = true;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        uint64_t *grown = realloc(s->seqs, cap * sizeof(*grown));
        if (!grown)
            return BW_ENOMEM;
        s->seqs = grown;
        s->cap = cap;
    }
    s->seqs[s->count++] = e->seq;
    return BW_OK;
}

/* Pages through everything filter matches, limit at a time, checking
 * each page's size and cursor; returns the number of pages. */
static size_t page_all(struct bw_audit_reader *r, struct bw_audit_filter filter, struct seen *s)
{
    size_t pages = 0;
    for (;;) {
        size_t before = s->count;
        uint64_t next = 99;
        assert_int_equal(bw_audit_query(r, &filter, collect, s, &next), BW_OK);
        pages++;
        size_t got = s->count - before;
        assert_true(got <= filter.limit);
        if (next == 0)
            break;
        /* A next page is promised only after a full page. */
        assert_int_equal(got, filter.limit);
        assert_int_equal(next, s->seqs[s->count - 1]);
        filter.cursor = next;
        assert_true(pages < 100000);
    }
    assert_false(s->bad_entry);
    return pages;
}

static bool model_matches(const struct bw_audit_filter *f, uint64_t seq)
{
    struct pattern p = pattern_of(seq);
    if (seq <= f->cursor || p.ts_us < f->from_us || p.ts_us >= f->to_us)
        return false;
    if (f->category_mask && !(f->category_mask & (1u << p.category)))
        return false;
    if (f->result_mask && !(f->result_mask & (1u << p.result)))
        return false;
    if (f->user[0] && strcmp(f->user, p.user) != 0)
        return false;
    bool event_ok = f->event_count == 0;
    for (size_t i = 0; i < f->event_count; i++)
        event_ok = event_ok || f->events[i] == p.event_id;
    return event_ok;
}

/* The query (paged by 37 to cross page edges) returns exactly what the
 * model says, in order; returns how many. */
static size_t check_query(struct bw_audit_reader *r, const char *query)
{
    struct bw_audit_filter f;
    char err[160];
    if (bw_audit_filter_parse(query, strlen(query), &f, err, sizeof(err)) != BW_OK)
        fail_msg("'%s': %s", query, err);
    f.limit = 37;
    struct seen s = {0};
    page_all(r, f, &s);
    size_t k = 0;
    for (uint64_t seq = 1; seq <= RECORDS; seq++) {
        if (!model_matches(&f, seq))
            continue;
        if (k >= s.count || s.seqs[k] != seq)
            fail_msg("'%s': record %llu missing or out of order", query, (unsigned long long)seq);
        k++;
    }
    assert_int_equal(k, s.count);
    free(s.seqs);
    return k;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_no_trail(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_reader *r = (void *)1;
    assert_int_equal(bw_audit_reader_open(f->dir, &r), BW_ENOTFOUND);
    assert_null(r);
    char missing[128];
    assert_int_equal(bw_snprintf(missing, sizeof(missing), "%s/none", f->dir), BW_OK);
    assert_int_equal(bw_audit_reader_open(missing, &r), BW_ENOTFOUND);
    /* Opening must not have made a database. */
    char db[128];
    assert_int_equal(bw_snprintf(db, sizeof(db), "%s/audit.db", f->dir), BW_OK);
    assert_int_equal(access(db, F_OK), -1);
}

static void test_not_a_trail(void **state)
{
    struct fixture *f = *state;
    char db[128];
    assert_int_equal(bw_snprintf(db, sizeof(db), "%s/audit.db", f->dir), BW_OK);
    FILE *fp = fopen(db, "w");
    assert_non_null(fp);
    fputs("this is not a database, not even close to one; it is only text.\n", fp);
    fclose(fp);
    struct bw_audit_reader *r = NULL;
    assert_int_equal(bw_audit_reader_open(f->dir, &r), BW_EIO);
    assert_null(r);
}

static void test_everything_in_pages_of_100(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    filter.limit = 100;
    struct seen s = {0};
    size_t pages = page_all(f->reader, filter, &s);
    /* 2,500 = 25 full pages; the 25th says there is no more. */
    assert_int_equal(pages, 25);
    assert_int_equal(s.count, RECORDS);
    for (size_t i = 0; i < s.count; i++)
        assert_int_equal(s.seqs[i], i + 1);
    free(s.seqs);
}

static void test_page_edges(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    struct seen s = {0};
    uint64_t next;
    /* The last record alone: no next page. */
    filter.cursor = RECORDS - 1;
    filter.limit = 1;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_OK);
    assert_int_equal(s.count, 1);
    assert_int_equal(next, 0);
    /* Past the end, and a cursor beyond any int64. */
    filter.cursor = RECORDS;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_OK);
    filter.cursor = UINT64_MAX;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_OK);
    assert_int_equal(s.count, 1);
    assert_int_equal(next, 0);
    /* The biggest page holds everything. */
    filter.cursor = 0;
    filter.limit = BW_AUDIT_QUERY_MAX_LIMIT;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_OK);
    assert_int_equal(s.count, 1 + RECORDS);
    assert_int_equal(next, 0);
    free(s.seqs);
}

static void test_filters(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_reader *r = f->reader;
    /* Seconds 100..199 after BASE: records 101..200. */
    assert_int_equal(check_query(r, "from=2026-12-03T10:01:40Z&to=2026-12-03T10:03:20Z"), 100);
    /* Microsecond bounds: from inclusive, to exclusive. */
    assert_int_equal(check_query(r, "from=2026-12-03T10:00:09.000001Z&to=2026-12-03T10:00:12Z"), 2);
    assert_int_equal(check_query(r, "from=2026-12-03T10:00:09Z&to=2026-12-03T10:00:12.000001Z"), 4);
    assert_int_equal(check_query(r, "to=2026-12-03T10:00:00Z"), 0);
    assert_int_equal(check_query(r, "from=2027-01-01T00:00:00Z"), 0);
    assert_true(check_query(r, "category=control-system") > 0);
    assert_true(check_query(r, "category=access-control,audit-log") > 0);
    assert_int_equal(check_query(r, "category=backup-restore"), 0);
    assert_int_equal(check_query(r, "user=alice"), RECORDS / 5);
    assert_int_equal(check_query(r, "user=x'+OR+'1'%3D'1"), RECORDS / 5);
    assert_int_equal(check_query(r, "user=nobody"), 0);
    assert_int_equal(check_query(r, "user=ALICE"), 0);
    assert_int_equal(check_query(r, "result=denied"), RECORDS / 4);
    assert_int_equal(check_query(r, "result=success,error"), RECORDS / 2);
    assert_true(check_query(r, "event=4001") > 0);
    assert_true(check_query(r, "event=1001,8001") > 0);
    assert_int_equal(check_query(r, "event=8002"), 0);
    /* Everything at once, and a cursor with filters. */
    assert_true(check_query(r, "from=2026-12-03T10:05:00Z&to=2026-12-03T10:30:00Z"
                               "&category=control-system,access-control&user=bob"
                               "&result=failure,denied&event=4001,1001") > 0);
    assert_true(check_query(r, "user=carol&cursor=1234") > 0);
}

static int stop_at_three(const struct bw_audit_entry *e, void *ctx)
{
    size_t *n = ctx;
    (void)e;
    return ++*n == 3 ? 42 : 0;
}

static void test_callback_stops(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    size_t n = 0;
    uint64_t next = 7;
    assert_int_equal(bw_audit_query(f->reader, &filter, stop_at_three, &n, &next), 42);
    assert_int_equal(n, 3);
    assert_int_equal(next, 0);
    /* The reader is usable again at once. */
    struct seen s = {0};
    filter.limit = 5;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_OK);
    assert_int_equal(s.count, 5);
    assert_int_equal(next, 5);
    free(s.seqs);
}

static void test_open_out_of_memory(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_reader *r = (void *)1;
    bw_alloc_fail_after(0);
    int rc = bw_audit_reader_open(f->dir, &r);
    bw_alloc_fail_after(-1);
    assert_int_equal(rc, BW_ENOMEM);
    assert_null(r);
}

static void test_bad_filter(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    uint64_t next;
    struct seen s = {0};
    filter.limit = 0;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_EINVAL);
    filter.limit = BW_AUDIT_QUERY_MAX_LIMIT + 1;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_EINVAL);
    filter.limit = 10;
    filter.event_count = BW_AUDIT_FILTER_MAX_EVENTS + 1;
    assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_EINVAL);
    assert_int_equal(s.count, 0);
}

static int sha256_file(const char *path, uint8_t out[BW_SHA256_LEN])
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return BW_EIO;
    struct bw_crypto_sha256_ctx *ctx = NULL;
    int rc = bw_crypto_sha256_new(&ctx);
    char buf[8192];
    size_t n;
    while (rc == BW_OK && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
        rc = bw_crypto_sha256_update(ctx, buf, n);
    if (rc == BW_OK)
        rc = bw_crypto_sha256_final(ctx, out);
    bw_crypto_sha256_free(ctx);
    fclose(fp);
    return rc;
}

/* What a reader must leave as it was: a file's bytes, size, inode and
 * modification time. */
struct file_mark {
    bool exists;
    off_t size;
    ino_t ino;
    struct timespec mtime;
    uint8_t sha256[BW_SHA256_LEN];
};

static void mark_file(const char *path, struct file_mark *m)
{
    struct stat st;
    memset(m, 0, sizeof(*m));
    if (stat(path, &st) != 0)
        return;
    m->exists = true;
    m->size = st.st_size;
    m->ino = st.st_ino;
    m->mtime = st.st_mtim;
    assert_int_equal(sha256_file(path, m->sha256), BW_OK);
}

static void assert_same_file(const struct file_mark *a, const struct file_mark *b)
{
    assert_true(a->exists && b->exists);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->ino, b->ino);
    assert_int_equal(a->mtime.tv_sec, b->mtime.tv_sec);
    assert_int_equal(a->mtime.tv_nsec, b->mtime.tv_nsec);
    assert_memory_equal(a->sha256, b->sha256, BW_SHA256_LEN);
}

/* A WAL the reader may leave is an empty one: it never wrote a frame. */
static void assert_wal_empty(const char *dir)
{
    char wal[128];
    struct stat st;
    assert_int_equal(bw_snprintf(wal, sizeof(wal), "%s/audit.db-wal", dir), BW_OK);
    if (stat(wal, &st) == 0)
        assert_int_equal(st.st_size, 0);
}

static int count_one(const struct bw_audit_entry *e, void *ctx)
{
    (void)e;
    (*(size_t *)ctx)++;
    return 0;
}

/* Opens a reader on dir and reads one page: how many records it got, or
 * -1. No cmocka assertion, so that a forked child may call it. */
static long read_page(const char *dir)
{
    struct bw_audit_reader *r = NULL;
    if (bw_audit_reader_open(dir, &r) != BW_OK)
        return -1;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    size_t n = 0;
    uint64_t next;
    int rc = bw_audit_query(r, &filter, count_one, &n, &next);
    bw_audit_reader_free(r);
    return rc == BW_OK ? (long)n : -1;
}

#define UNPRIVILEGED 65534 /* nobody */

/* As root, permission bits bind no one: the files go to an unprivileged
 * uid, which a child becomes before it reads. It first checks that the
 * denial holds for it (it cannot open the file for writing nor create a
 * file beside it), so the read below proves the reader needs no write
 * permission at all. Returns the child's exit status (0: read). */
static void chown_trail(const char *dir, uid_t uid)
{
    static const char *const names[] = {"audit.db", "audit.db-wal", "audit.db-shm"};
    char path[128];
    assert_int_equal(chown(dir, uid, uid), 0);
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        assert_int_equal(bw_snprintf(path, sizeof(path), "%s/%s", dir, names[i]), BW_OK);
        /* The WAL and its index are there when a reader was open before. */
        assert_true(chown(path, uid, uid) == 0 || errno == ENOENT);
    }
}

static int read_as_unprivileged(const char *dir, const char *db)
{
    chown_trail(dir, UNPRIVILEGED);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) != 0 || setgid(UNPRIVILEGED) != 0 || setuid(UNPRIVILEGED) != 0)
            _exit(10);
        char probe[128];
        if (bw_snprintf(probe, sizeof(probe), "%s/probe", dir) != BW_OK)
            _exit(11);
        if (open(db, O_WRONLY | O_CLOEXEC) >= 0 || errno != EACCES ||
            open(probe, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) >= 0 || errno != EACCES)
            _exit(12);                         /* the files are not protected from this uid */
        _exit(read_page(dir) == 100 ? 0 : 13); /* a full first page (the default limit) */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    chown_trail(dir, 0);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_reader_never_writes(void **state)
{
    struct fixture *f = *state;
    char db[128], shm[128];
    assert_int_equal(bw_snprintf(db, sizeof(db), "%s/audit.db", f->dir), BW_OK);
    assert_int_equal(bw_snprintf(shm, sizeof(shm), "%s/audit.db-shm", f->dir), BW_OK);
    bw_audit_reader_free(f->reader);
    f->reader = NULL;
    struct file_mark before, after;
    mark_file(db, &before);
    assert_wal_empty(f->dir);

    /* A read-only file in a read-only directory is enough to read it,
     * for a uid that those modes bind. */
    assert_int_equal(chmod(db, 0400), 0);
    assert_int_equal(chmod(f->dir, 0500), 0);
    if (geteuid() == 0) {
        assert_int_equal(read_as_unprivileged(f->dir, db), 0);
    } else {
        assert_int_equal(bw_audit_reader_open(f->dir, &f->reader), BW_OK);
        check_query(f->reader, "user=bob&result=failure");
        bw_audit_reader_free(f->reader);
        f->reader = NULL;
    }
    assert_int_equal(chmod(f->dir, 0700), 0);
    assert_int_equal(chmod(db, 0600), 0);
    mark_file(db, &after);
    assert_same_file(&before, &after);
    assert_wal_empty(f->dir);

    /* Where the modes allow writing (and for root, always), the reader's
     * connection is still read-only in SQLite's own eyes and refuses
     * writes (query_only); the file stays as it was, byte for byte and
     * in its times, and no frame reaches a WAL. */
    assert_int_equal(bw_audit_reader_open(f->dir, &f->reader), BW_OK);
    check_query(f->reader, "user=bob&result=failure");
    bw_audit_reader_free(f->reader);
    f->reader = NULL;
    sqlite3 *ro = NULL;
    assert_int_equal(audit_store_open_ro(f->dir, &ro), BW_OK);
    assert_int_equal(sqlite3_db_readonly(ro, "main"), 1);
    assert_int_not_equal(
        sqlite3_exec(ro, "INSERT INTO meta(key, value) VALUES('x', 1)", NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(ro, "CREATE TABLE evil(x)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(ro, "PRAGMA query_only=OFF; DELETE FROM meta", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(ro);
    mark_file(db, &after);
    assert_same_file(&before, &after);
    assert_wal_empty(f->dir);
}

/* ---- paging while another thread appends ------------------------------------- */

#define CONCURRENT_TOTAL 3000
#define CONCURRENT_BATCH 25

struct appender {
    const char *dir;
    atomic_bool done;
    int rc;
};

static void *append_thread(void *arg)
{
    struct appender *a = arg;
    struct trail t;
    /* Its own connection, as the daemon's writer has. */
    a->rc = trail_open(a->dir, &t);
    if (a->rc == BW_OK) {
        struct audit_tail tail;
        a->rc = audit_store_tail(t.db, t.mac, &tail);
        t.seq = tail.seq;
        memcpy(t.prev, tail.hash, BW_SHA256_LEN);
    }
    while (a->rc == BW_OK && t.seq < CONCURRENT_TOTAL) {
        a->rc = trail_append_many(&t, CONCURRENT_BATCH);
        usleep(200);
    }
    trail_close(&t);
    atomic_store(&a->done, true);
    return NULL;
}

static void test_paging_while_appending(void **state)
{
    struct fixture *f = *state;
    /* The trail exists (with a first batch) before the reader opens. */
    struct trail first;
    assert_int_equal(trail_open(f->dir, &first), BW_OK);
    assert_int_equal(trail_append_many(&first, CONCURRENT_BATCH), BW_OK);
    trail_close(&first);
    assert_int_equal(bw_audit_reader_open(f->dir, &f->reader), BW_OK);

    struct appender a = {.dir = f->dir};
    atomic_init(&a.done, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, append_thread, &a), 0);

    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    filter.limit = 97;
    struct seen s = {0};
    size_t pages = 0, live_pages = 0;
    for (;;) {
        /* Read done before the query: a query after the appender has
         * finished that returns nothing means we have all of it. */
        bool done = atomic_load(&a.done);
        size_t before = s.count;
        uint64_t next;
        assert_int_equal(bw_audit_query(f->reader, &filter, collect, &s, &next), BW_OK);
        pages++;
        if (s.count > before) {
            filter.cursor = s.seqs[s.count - 1];
            live_pages += !done;
        }
        if (done && next == 0 && s.count == before)
            break;
        if (s.count == before)
            usleep(100); /* caught up: let the appender go on */
        assert_true(pages < 1000000);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(a.rc, BW_OK);
    assert_false(s.bad_entry);
    assert_int_equal(s.count, CONCURRENT_TOTAL);
    for (size_t i = 0; i < s.count; i++)
        assert_int_equal(s.seqs[i], i + 1); /* in order, once each */
    /* Pages were read while records were still being added. */
    assert_true(live_pages > 10);
    free(s.seqs);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--make-trail") == 0) {
        uint64_t n;
        if (bw_parse_u64(argv[3], strlen(argv[3]), 1000000, &n) != BW_OK) {
            fprintf(stderr, "usage: %s --make-trail DIR N (N <= 1000000)\n", argv[0]);
            return 2;
        }
        int rc = make_trail(argv[2], (size_t)n);
        if (rc)
            fprintf(stderr, "make-trail: %s\n", bw_strerror(rc));
        return rc ? 1 : 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_trail, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_not_a_trail, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_everything_in_pages_of_100, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_page_edges, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_filters, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_callback_stops, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_filter, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_open_out_of_memory, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_reader_never_writes, setup_trail, teardown_dir),
        cmocka_unit_test_setup_teardown(test_paging_while_appending, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
