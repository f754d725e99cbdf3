/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the forwarder's way into the archive
 * (src/audit/forward_archive.c) and of the segment reader it uses
 * (audit_segment_reader_*, src/audit/segment_verify.c), on trails built
 * by support_trail.c with records rolled into segment files: archived
 * records come back in order, field for field as audit.db held them,
 * from the start or the middle of a segment, one segment per call; a
 * read stopped by its callback goes on where it stopped; a missing
 * segment, an altered one, one that is not the file audit.db lists, a
 * range no segment holds and a file changed after it was checked each
 * give a gap naming the range and why, never a record; bad arguments are
 * refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/forward_internal.h"
#include "unit/audit/support_trail.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GOT 64

/* What a read handed out: each record's seq and a digest of its fields. */
struct got {
    size_t n;
    uint64_t seq[MAX_GOT];
    char type[MAX_GOT][65];
    int stop_after; /* return 99 after this many records; 0: never */
};

static int collect(const struct bw_audit_entry *e, void *ctx)
{
    struct got *g = ctx;
    assert_true(g->n < MAX_GOT);
    g->seq[g->n] = e->seq;
    bw_strlcpy(g->type[g->n], e->type, sizeof(g->type[0]));
    assert_non_null(e->source_name);
    assert_non_null(e->details);
    g->n++;
    return g->stop_after && g->n == (size_t)g->stop_after ? 99 : BW_OK;
}

/* The types audit.db held for records first..last, read before they were
 * archived, to compare with what the archive gives back. */
struct fixture {
    struct bw_test_trail t;
    char seg[2][64]; /* records 1..10, 11..20; 21..30 stay in audit.db */
    char types[31][65];
};

static int remember_type(const struct bw_audit_entry *e, void *ctx)
{
    struct fixture *f = ctx;
    if (e->seq <= 30)
        bw_strlcpy(f->types[e->seq], e->type, sizeof(f->types[0]));
    return BW_OK;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || bw_test_trail_open(&f->t) != BW_OK || bw_test_trail_append(&f->t, 30, 5) != BW_OK)
        return -1;
    struct bw_audit_reader *r = NULL;
    struct bw_audit_filter filter;
    bw_audit_filter_init(&filter);
    filter.limit = 100;
    uint64_t next;
    if (bw_audit_reader_open(f->t.dir, &r) != BW_OK ||
        bw_audit_query(r, &filter, remember_type, f, &next) != BW_OK)
        return -1;
    bw_audit_reader_free(r);
    if (bw_test_trail_archive(&f->t, 10, f->seg[0]) != BW_OK ||
        bw_test_trail_archive(&f->t, 20, f->seg[1]) != BW_OK)
        return -1;
    bw_test_trail_close(&f->t);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    bw_test_trail_remove(&f->t);
    free(f);
    return 0;
}

static struct bw_audit_fwd_archive *archive_of(struct fixture *f)
{
    struct bw_audit_fwd_archive *a = NULL;
    assert_int_equal(bw_audit_fwd_archive_new(f->t.dir, &a), BW_OK);
    return a;
}

static void segment_path(struct fixture *f, int i, char *out)
{
    char rel[128];
    assert_int_equal(bw_snprintf(rel, sizeof(rel), "%s/%s", BW_AUDIT_ARCHIVE_DIR, f->seg[i]),
                     BW_OK);
    assert_int_equal(bw_test_trail_path(out, f->t.dir, rel), BW_OK);
}

/* got holds first..last in order, with the types audit.db had. */
static void assert_got(struct fixture *f, const struct got *g, uint64_t first, uint64_t last)
{
    assert_int_equal(g->n, last - first + 1);
    for (size_t i = 0; i < g->n; i++) {
        assert_int_equal(g->seq[i], first + i);
        assert_string_equal(g->type[i], f->types[first + i]);
    }
}

static void test_reads_each_segment_in_turn(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_fwd_archive *a = archive_of(f);
    struct bw_audit_fwd_gap gap;
    struct got g = {0};
    assert_int_equal(bw_audit_fwd_archive_read(a, 1, 21, collect, &g, &gap), BW_OK);
    assert_got(f, &g, 1, 10); /* one segment per call */
    memset(&g, 0, sizeof(g));
    assert_int_equal(bw_audit_fwd_archive_read(a, 11, 21, collect, &g, &gap), BW_OK);
    assert_got(f, &g, 11, 20);
    /* Never past what audit.db holds. */
    memset(&g, 0, sizeof(g));
    assert_int_equal(bw_audit_fwd_archive_read(a, 11, 15, collect, &g, &gap), BW_OK);
    assert_got(f, &g, 11, 14);
    bw_audit_fwd_archive_free(a);
}

static void test_from_the_middle_and_resumed(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_fwd_archive *a = archive_of(f);
    struct bw_audit_fwd_gap gap;
    struct got g = {.stop_after = 3};
    assert_int_equal(bw_audit_fwd_archive_read(a, 4, 21, collect, &g, &gap), 99);
    assert_got(f, &g, 4, 6);
    memset(&g, 0, sizeof(g));
    assert_int_equal(bw_audit_fwd_archive_read(a, 7, 21, collect, &g, &gap), BW_OK);
    assert_got(f, &g, 7, 10);
    /* Back to an earlier record (a batch that was not acknowledged). */
    memset(&g, 0, sizeof(g));
    assert_int_equal(bw_audit_fwd_archive_read(a, 9, 21, collect, &g, &gap), BW_OK);
    assert_got(f, &g, 9, 10);
    bw_audit_fwd_archive_free(a);
}

static void expect_gap(struct fixture *f, uint64_t from, uint64_t before, uint64_t first,
                       uint64_t last, const char *reason_start)
{
    struct bw_audit_fwd_archive *a = archive_of(f);
    struct bw_audit_fwd_gap gap;
    struct got g = {0};
    assert_int_equal(bw_audit_fwd_archive_read(a, from, before, collect, &g, &gap), BW_ENOTFOUND);
    assert_int_equal(g.n, 0);
    assert_int_equal(gap.first, first);
    assert_int_equal(gap.last, last);
    if (strncmp(gap.reason, reason_start, strlen(reason_start)) != 0)
        fail_msg("reason \"%s\", expected it to start with \"%s\"", gap.reason, reason_start);
    bw_audit_fwd_archive_free(a);
}

static void test_missing_segment_is_a_gap(void **state)
{
    struct fixture *f = *state;
    char path[BW_AUDIT_PATH_MAX], want[160];
    segment_path(f, 1, path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(
        bw_snprintf(want, sizeof(want), "segment %s is missing from the archive", f->seg[1]),
        BW_OK);
    expect_gap(f, 11, 21, 11, 20, want);
    expect_gap(f, 15, 21, 15, 20, want);
    expect_gap(f, 11, 18, 11, 17, want); /* bounded by what audit.db holds */
}

/* Changes one hex digit of the first record's MAC in segment i. */
static void alter_segment(struct fixture *f, int i)
{
    char path[BW_AUDIT_PATH_MAX];
    segment_path(f, i, path);
    size_t len;
    char *data = bw_test_file_read(path, 1 << 20, &len);
    assert_non_null(data);
    char *mac = strstr(data, "\"mac\":\"");
    assert_non_null(mac);
    mac += 7;
    *mac = *mac == '0' ? '1' : '0';
    assert_int_equal(bw_test_file_write(path, data, len, 0640), BW_OK);
    free(data);
}

static void test_altered_segment_is_a_gap(void **state)
{
    struct fixture *f = *state;
    alter_segment(f, 0);
    char want[160];
    assert_int_equal(bw_snprintf(want, sizeof(want), "segment %s does not verify: ", f->seg[0]),
                     BW_OK);
    expect_gap(f, 1, 21, 1, 10, want);
    /* The next segment is still there to read. */
    struct bw_audit_fwd_archive *a = archive_of(f);
    struct bw_audit_fwd_gap gap;
    struct got g = {0};
    assert_int_equal(bw_audit_fwd_archive_read(a, 11, 21, collect, &g, &gap), BW_OK);
    assert_got(f, &g, 11, 20);
    bw_audit_fwd_archive_free(a);
}

static void test_not_the_listed_file_is_a_gap(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(bw_test_trail_tamper(f->t.dir, "UPDATE segments SET file_sha256 ="
                                                    " zeroblob(32) WHERE first_seq = 11"),
                     BW_OK);
    char want[160];
    assert_int_equal(bw_snprintf(want, sizeof(want),
                                 "segment %s does not verify: it is not the file audit.db lists",
                                 f->seg[1]),
                     BW_OK);
    expect_gap(f, 11, 21, 11, 20, want);
}

static void test_range_no_segment_holds_is_a_gap(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(bw_test_trail_tamper(f->t.dir, "DELETE FROM segments WHERE first_seq = 1"),
                     BW_OK);
    expect_gap(f, 1, 21, 1, 10, "neither audit.db nor any archive segment holds them");
    assert_int_equal(bw_test_trail_tamper(f->t.dir, "DELETE FROM segments"), BW_OK);
    expect_gap(f, 3, 21, 3, 20, "neither audit.db nor any archive segment holds them");
}

static void test_bad_arguments(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_fwd_archive *a = archive_of(f);
    struct bw_audit_fwd_gap gap;
    struct got g = {0};
    assert_int_equal(bw_audit_fwd_archive_read(a, 0, 21, collect, &g, &gap), BW_EINVAL);
    assert_int_equal(bw_audit_fwd_archive_read(a, 5, 5, collect, &g, &gap), BW_EINVAL);
    assert_int_equal(g.n, 0);
    bw_audit_fwd_archive_free(a);
    bw_audit_fwd_archive_free(NULL);
}

/* The reader checks each record again: a file changed in place after the
 * whole-file check yields no changed record. The segment is larger than
 * the reader's buffer (128 KiB), so the change is read after the check. */
static void test_reader_sees_a_change_after_the_check(void **state)
{
    (void)state;
    struct bw_test_trail t;
    char name[64];
    assert_int_equal(bw_test_trail_open(&t), BW_OK);
    assert_int_equal(bw_test_trail_append(&t, 1000, 100), BW_OK);
    assert_int_equal(bw_test_trail_archive(&t, 999, name), BW_OK);
    bw_test_trail_close(&t);
    char rel[128], path[BW_AUDIT_PATH_MAX];
    assert_int_equal(bw_snprintf(rel, sizeof(rel), "%s/%s", BW_AUDIT_ARCHIVE_DIR, name), BW_OK);
    assert_int_equal(bw_test_trail_path(path, t.dir, rel), BW_OK);
    size_t len;
    char *data = bw_test_file_read(path, 16 << 20, &len);
    assert_non_null(data);
    assert_true(len > 256 * 1024);

    struct audit_keys keys;
    assert_int_equal(audit_keys_load(t.dir, false, false, &keys), BW_OK);
    struct bw_crypto_mac *mac = NULL;
    assert_int_equal(bw_crypto_mac_new(keys.mac_key, sizeof(keys.mac_key), &mac), BW_OK);
    struct audit_segment_info info;
    struct bw_audit_verify_report report = {0};
    struct audit_segment_reader *r = NULL;
    assert_int_equal(
        audit_segment_reader_open(path, keys.sign_public, mac, NULL, &info, &report, &r), BW_OK);
    assert_int_equal(info.first_seq, 1);
    assert_int_equal(info.last_seq, 999);
    const struct bw_audit_entry *e;
    assert_int_equal(audit_segment_reader_next(r, &e, &report), BW_OK);
    assert_int_equal(e->seq, 1);
    /* In place, through another descriptor: a hex digit of the last MAC. */
    char *last_mac = NULL;
    for (char *p = strstr(data, "\"mac\":\""); p; p = strstr(p + 1, "\"mac\":\""))
        last_mac = p + 7;
    assert_non_null(last_mac);
    char digit = *last_mac == '0' ? '1' : '0';
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &digit, 1, last_mac - data), 1);
    close(fd);
    free(data);
    int rc;
    uint64_t seen = 1;
    while ((rc = audit_segment_reader_next(r, &e, &report)) == BW_OK)
        seen = e->seq;
    assert_int_equal(rc, BW_EMALFORMED);
    assert_int_equal(seen, 998); /* record 999 is the one changed: never handed out */
    assert_non_null(strstr(report.problem, "the file changed after it was checked"));
    assert_non_null(strstr(report.problem, "record 999"));
    audit_segment_reader_free(r);
    bw_crypto_mac_free(mac);
    audit_keys_clear(&keys);
    bw_test_trail_remove(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_each_segment_in_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_from_the_middle_and_resumed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_segment_is_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_altered_segment_is_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_the_listed_file_is_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_no_segment_holds_is_a_gap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test(test_reader_sees_a_change_after_the_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
