/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the trail as the daemon keeps it (src/audit/audit.c,
 * writer.c, capacity.c, clock.c): records numbered and chained across a
 * restart, bad events refused, secrets redacted before anything reaches
 * the disk, concurrent producers sharing commits, checkpoints signed,
 * the schema refusing changes, thresholds and both full policies, a
 * failing database (failed state, gate, recovery, nothing lost), keys
 * that others may read refused, and the clock's synchronisation events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    bw_strlcpy(f->dir, "/tmp/bw-test-audit-XXXXXX", sizeof(f->dir));
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static struct bw_audit *open_trail(const char *dir, struct bw_audit_config *cfg_in)
{
    struct bw_audit_config cfg;
    if (cfg_in)
        cfg = *cfg_in;
    else
        bw_audit_config_defaults(&cfg, dir);
    cfg.state_dir = dir;
    struct bw_audit *audit = NULL;
    assert_int_equal(bw_audit_open(&cfg, &audit), BW_OK);
    return audit;
}

static int record_simple(struct bw_audit *audit, uint32_t id, const char *user, json_t *details,
                         uint64_t *seq)
{
    struct bw_audit_event ev = {
        .id = id,
        .result = BW_AUDIT_SUCCESS,
        .source = {.kind = BW_AUDIT_SOURCE_USER, .name = user, .address = "127.0.0.1"},
        .details = details,
    };
    return bw_audit_record(audit, &ev, seq);
}

static sqlite3 *raw_open(const char *dir)
{
    char path[256];
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/audit.db", dir), BW_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t count_event(const char *dir, uint32_t id)
{
    sqlite3 *db = raw_open(dir);
    char sql[96];
    assert_int_equal(
        bw_snprintf(sql, sizeof(sql), "SELECT count(*) FROM records WHERE event_id=%u", id), BW_OK);
    int64_t n = raw_int(db, sql);
    sqlite3_close(db);
    return n;
}

/* Checks seq 1..n are present and each record's prev_hash is the hash
 * of the one before, the way the verifier does. */
struct chain_check {
    uint64_t expect_seq;
    uint8_t prev[BW_SHA256_LEN];
    bool ok;
};

static int chain_row(const struct bw_audit_entry *e, const uint8_t prev[BW_SHA256_LEN],
                     const uint8_t mac[BW_SHA256_LEN], void *arg)
{
    (void)mac;
    struct chain_check *c = arg;
    if (e->seq != c->expect_seq || memcmp(prev, c->prev, BW_SHA256_LEN) != 0)
        c->ok = false;
    if (audit_row_hash(e, prev, c->prev) != BW_OK)
        c->ok = false;
    c->expect_seq++;
    return BW_OK;
}

static uint64_t check_chain(const char *dir)
{
    sqlite3 *db = NULL;
    assert_int_equal(audit_store_open_ro(dir, &db), BW_OK);
    struct chain_check c = {.expect_seq = 1, .ok = true};
    assert_int_equal(audit_store_scan(db, 0, UINT64_MAX, chain_row, &c), BW_OK);
    sqlite3_close(db);
    assert_true(c.ok);
    return c.expect_seq - 1;
}

static void test_record_and_reopen(void **state)
{
    struct fixture *f = *state;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    uint64_t seq = 0;
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_DAEMON_START, "bulwark", NULL, &seq), BW_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "alice", NULL, &seq), BW_OK);
    assert_int_equal(seq, 2);
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    assert_int_equal(st.state, BW_AUDIT_STATE_OK);
    assert_int_equal(st.last_seq, 2);
    assert_int_equal(st.pending, 0);
    bw_audit_close(audit);

    audit = open_trail(f->dir, NULL);
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_DAEMON_STOP, "bulwark", NULL, &seq), BW_OK);
    assert_int_equal(seq, 3);
    bw_audit_close(audit);
    assert_int_equal(check_chain(f->dir), 3);

    /* Category and type come from the catalogue, not the caller. */
    sqlite3 *db = raw_open(f->dir);
    assert_int_equal(raw_int(db, "SELECT category FROM records WHERE seq=2"),
                     BW_AUDIT_CONTROL_SYSTEM);
    sqlite3_close(db);

    /* The keys are private, the directories too. */
    char path[256];
    struct stat sb;
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/keys/audit-mac.key", f->dir), BW_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/keys", f->dir), BW_OK);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
}

static void test_bad_events_refused(void **state)
{
    struct fixture *f = *state;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    struct bw_audit_event ev = {
        .id = 9999, .result = BW_AUDIT_SUCCESS, .source = {BW_AUDIT_SOURCE_USER, "bob", NULL}};
    assert_int_equal(bw_audit_record(audit, &ev, NULL), BW_EINVAL);
    ev.id = BW_AUDIT_EV_TAG_WRITE;
    ev.result = 7;
    assert_int_equal(bw_audit_record(audit, &ev, NULL), BW_EINVAL);
    ev.result = BW_AUDIT_DENIED;
    ev.source.kind = 0;
    assert_int_equal(bw_audit_record(audit, &ev, NULL), BW_EINVAL);
    ev.source.kind = BW_AUDIT_SOURCE_DEVICE;
    ev.source.name = "";
    assert_int_equal(bw_audit_record(audit, &ev, NULL), BW_EINVAL);
    ev.source.name = "plc1";
    json_t *arr = json_array();
    ev.details = arr;
    assert_int_equal(bw_audit_record(audit, &ev, NULL), BW_EINVAL);
    json_decref(arr);
    char *big = calloc(1, 9000);
    assert_non_null(big);
    memset(big, 'x', 8999);
    json_t *huge = json_pack("{s:s}", "text", big);
    ev.details = huge;
    assert_int_equal(bw_audit_record(audit, &ev, NULL), BW_ETOOLARGE);
    json_decref(huge);
    free(big);
    ev.details = NULL;
    uint64_t seq = 0;
    assert_int_equal(bw_audit_record(audit, &ev, &seq), BW_OK);
    assert_int_equal(seq, 1); /* refused events took no number */
    bw_audit_close(audit);
}

/* Reads a whole file (the database and its WAL) to look for a secret. */
static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    static char buf[4 << 20];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(buf + i, needle, nl) == 0)
            return true;
    return false;
}

static char *raw_text(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    char *text = strdup((const char *)sqlite3_column_text(st, 0));
    assert_non_null(text);
    sqlite3_finalize(st);
    return text;
}

/* A source name from the network (a user name typed at a login) is on
 * record whatever it holds: cut when too long, bytes that are not UTF-8
 * and control characters replaced; such a record still goes into a
 * segment file (an export here, the archive when the trail is full). */
static void test_hostile_source_names_recorded(void **state)
{
    struct fixture *f = *state;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    /* A two-byte character across the cut (128 bytes, "..." included). */
    longname[124] = '\xc3';
    longname[125] = '\xbc';
    struct bw_audit_event ev = {.id = BW_AUDIT_EV_TAG_WRITE,
                                .result = BW_AUDIT_DENIED,
                                .source = {BW_AUDIT_SOURCE_USER, longname, "10.0.0.1\n\x1b[31m"}};
    uint64_t seq = 0;
    assert_int_equal(bw_audit_record(audit, &ev, &seq), BW_OK);
    assert_int_equal(seq, 1);
    ev.source.name = "ad\xffmin\xc3\x28\x01\xe2\x82\xac";
    ev.source.address = NULL;
    assert_int_equal(bw_audit_record(audit, &ev, &seq), BW_OK);
    assert_int_equal(seq, 2);
    bw_audit_close(audit);

    sqlite3 *db = raw_open(f->dir);
    char *name = raw_text(db, "SELECT source_name FROM records WHERE seq=1");
    assert_int_equal(strlen(name), 124 + 3); /* the character did not fit before "..." */
    assert_memory_equal(name + 118, "aaaaaa...", 9);
    free(name);
    char *address = raw_text(db, "SELECT source_address FROM records WHERE seq=1");
    assert_string_equal(address, "10.0.0.1??[31m");
    free(address);
    name = raw_text(db, "SELECT source_name FROM records WHERE seq=2");
    assert_string_equal(name, "ad?min?(?\xe2\x82\xac");
    free(name);
    sqlite3_close(db);

    char out[300];
    assert_int_equal(bw_snprintf(out, sizeof(out), "%s/export.jsonl", f->dir), BW_OK);
    struct bw_audit_export_info exported;
    assert_int_equal(bw_audit_export(f->dir, 1, 2, out, &exported), BW_OK);
    assert_int_equal(exported.records, 2);
    struct bw_audit_verify_report report;
    assert_int_equal(bw_audit_verify_segment(out, f->dir, &report), BW_OK);
    assert_int_equal(report.bad_seq, 0);
}

/* Keys are cut into words: short secret words count as whole words,
 * long ones anywhere. */
static void test_secret_keys(void **state)
{
    (void)state;
    static const char *const secret[] = {
        "password",   "newPassword",   "new_password",  "NEWPASSWORD",  "passwd",
        "pwd",        "api_key",       "apiKey",        "ApiKey",       "key",
        "privateKey", "Authorization", "auth",          "bearer_value", "session",
        "Session-ID", "sessionid",     "sid",           "cookie",       "otp",
        "otpCode",    "totp",          "pin",           "new_pin",      "pincode",
        "mfa_seed",   "csrf",          "X-CSRF-Token",  "jwt",          "recoveryCodes",
        "credential", "passphrase",    "client_secret", "tokens",       "api_keys",
        "PINs",
    };
    static const char *const plain[] = {
        "tag",    "user", "keyboard", "mapping", "monkey",  "typing",    "hotplug", "author",
        "reason", "old",  "new",      "value",   "spinner", "passenger", "source",  "keyset",
    };
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
        if (!audit_key_is_secret(secret[i]))
            fail_msg("\"%s\" should count as a secret", secret[i]);
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (audit_key_is_secret(plain[i]))
            fail_msg("\"%s\" should not count as a secret", plain[i]);
}

static void test_secrets_redacted(void **state)
{
    struct fixture *f = *state;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    json_t *d = json_pack("{s:s, s:{s:s, s:s}, s:[{s:s}], s:s}", "password", "hunter2-secret",
                          "nested", "apiToken", "tok-4711-secret", "user", "alice", "list",
                          "Session_ID", "sess-0815-secret", "tag", "P1.run");
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "alice", d, NULL), BW_OK);
    json_decref(d);
    bw_audit_close(audit);
    sqlite3 *db = raw_open(f->dir);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT details FROM records WHERE seq=1", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *text = (const char *)sqlite3_column_text(st, 0);
    assert_non_null(strstr(text, "\"password\":\"[redacted]\""));
    assert_non_null(strstr(text, "\"apiToken\":\"[redacted]\""));
    assert_non_null(strstr(text, "\"Session_ID\":\"[redacted]\""));
    assert_non_null(strstr(text, "\"tag\":\"P1.run\""));
    assert_null(strstr(text, "secret"));
    sqlite3_finalize(st);
    sqlite3_close(db);
    char path[256];
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/audit.db", f->dir), BW_OK);
    assert_false(file_contains(path, "hunter2"));
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/audit.db-wal", f->dir), BW_OK);
    assert_false(file_contains(path, "hunter2"));
}

struct producer {
    struct bw_audit *audit;
    int count;
    uint64_t *seqs;
    int failures;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->count; i++)
        if (record_simple(p->audit, BW_AUDIT_EV_TAG_WRITE, "op", NULL, &p->seqs[i]) != BW_OK)
            p->failures++;
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_group_commit(void **state)
{
    struct fixture *f = *state;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    enum { THREADS = 16, EACH = 100 };
    static uint64_t seqs[THREADS * EACH];
    struct producer p[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (struct producer){audit, EACH, seqs + i * EACH, 0};
        assert_int_equal(pthread_create(&t[i], NULL, produce, &p[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(p[i].failures, 0);
    }
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    assert_int_equal(st.last_seq, THREADS * EACH);
    /* Sixteen producers waiting on the disk at once share commits. */
    assert_true(st.commits < THREADS * EACH / 2);
    bw_audit_close(audit);
    qsort(seqs, THREADS * EACH, sizeof(seqs[0]), cmp_u64);
    for (int i = 0; i < THREADS * EACH; i++)
        assert_int_equal(seqs[i], (uint64_t)i + 1);
    assert_int_equal(check_chain(f->dir), THREADS * EACH);
}

static void test_checkpoints_and_append_only(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    cfg.checkpoint_records = 10;
    struct bw_audit *audit = open_trail(f->dir, &cfg);
    for (int i = 0; i < 25; i++)
        assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "op", NULL, NULL), BW_OK);
    bw_audit_close(audit);
    sqlite3 *db = raw_open(f->dir);
    assert_true(raw_int(db, "SELECT count(*) FROM checkpoints") >= 3);
    assert_int_equal(raw_int(db, "SELECT max(seq) FROM checkpoints"), 25); /* signed at close */
    char *msg = NULL;
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE records SET details='{}' WHERE seq=3", NULL, NULL, &msg),
        SQLITE_OK);
    assert_non_null(strstr(msg, "append-only"));
    sqlite3_free(msg);
    msg = NULL;
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM records WHERE seq=3", NULL, NULL, &msg),
                         SQLITE_OK);
    sqlite3_free(msg);
    assert_int_not_equal(sqlite3_exec(db, "DELETE FROM checkpoints", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM records"), 25);
    sqlite3_close(db);

    /* Each checkpoint's signature holds under the public key. */
    struct audit_keys keys;
    assert_int_equal(audit_keys_load(f->dir, false, false, &keys), BW_OK);
    assert_int_equal(audit_store_open_ro(f->dir, &db), BW_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT seq, ts_us, hash, sig FROM checkpoints", -1, &st, NULL),
        SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint8_t m[AUDIT_CHECKPOINT_MSG_LEN];
        audit_checkpoint_message((uint64_t)sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                 sqlite3_column_blob(st, 2), m);
        assert_int_equal(
            bw_crypto_verify(keys.sign_public, m, sizeof(m), sqlite3_column_blob(st, 3)), BW_OK);
        n++;
    }
    assert_true(n >= 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
    audit_keys_clear(&keys);
}

static void fill(struct bw_audit *audit, int n)
{
    char text[1001];
    memset(text, 'v', 1000);
    text[1000] = '\0';
    json_t *d = json_pack("{s:s}", "note", text);
    for (int i = 0; i < n; i++)
        assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "op", d, NULL), BW_OK);
    json_decref(d);
}

static size_t archive_files(const char *dir)
{
    char path[256];
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/audit-archive", dir), BW_OK);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "segment-", 8) == 0)
            n++;
    closedir(d);
    return n;
}

static void test_thresholds_and_archive(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    cfg.max_bytes = 256 * 1024;
    cfg.thresholds[0] = 50;
    cfg.thresholds[1] = 80;
    struct bw_audit *audit = open_trail(f->dir, &cfg);
    fill(audit, 400); /* about 1.6 times the limit */
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    assert_int_equal(st.state, BW_AUDIT_STATE_OK);
    assert_true(st.usage_percent < 100);
    assert_int_equal(bw_audit_gate(audit), BW_OK);
    bw_audit_close(audit);
    /* Thresholds are reported again after an archive brought the trail
     * back under them (the first reports are archived by now), each with
     * the usage that crossed it. */
    sqlite3 *tdb = raw_open(f->dir);
    assert_int_equal(raw_int(tdb, "SELECT count(*) FROM records WHERE type='audit.threshold' AND "
                                  "json_extract(details, '$.threshold') = 50"),
                     1);
    assert_true(raw_int(tdb, "SELECT count(*) FROM records WHERE type='audit.threshold' AND "
                             "json_extract(details, '$.percent') < json_extract(details, "
                             "'$.threshold')") == 0);
    sqlite3_close(tdb);
    assert_true(count_event(f->dir, BW_AUDIT_EV_AUDIT_THRESHOLD) >= 2);
    assert_true(count_event(f->dir, BW_AUDIT_EV_AUDIT_ARCHIVED) >= 1);
    assert_true(archive_files(f->dir) >= 1);
    /* Nothing dropped: archived plus live records cover 1..last. */
    sqlite3 *db = raw_open(f->dir);
    int64_t first_live = raw_int(db, "SELECT min(seq) FROM records");
    int64_t archived_last = raw_int(db, "SELECT max(last_seq) FROM segments");
    assert_int_equal(first_live, archived_last + 1);
    assert_int_equal(raw_int(db, "SELECT min(first_seq) FROM segments"), 1);
    sqlite3_close(db);
    struct bw_audit_verify_report report;
    assert_int_equal(bw_audit_verify(f->dir, &report), BW_OK);
    assert_true(report.segments >= 1);
    assert_string_equal(report.problem, "");
}

/* The default thresholds (80 and 95 %) with no archive in between: each
 * is reported once, when crossed, with the usage that crossed it. */
static void test_default_thresholds(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    assert_int_equal(cfg.threshold_count, 2);
    cfg.max_bytes = 512 * 1024;
    cfg.when_full = BW_AUDIT_FULL_REFUSE;
    struct bw_audit *audit = open_trail(f->dir, &cfg);
    struct bw_audit_status st;
    int n = 0;
    do {
        fill(audit, 10);
        n += 10;
        bw_audit_status_get(audit, &st);
    } while (st.usage_percent < 85 && n < 2000);
    assert_true(st.usage_percent >= 85 && st.usage_percent < 95);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_AUDIT_THRESHOLD), 1);
    do {
        fill(audit, 10);
        bw_audit_status_get(audit, &st);
    } while (st.usage_percent < 97 && (n += 10) < 2000);
    bw_audit_close(audit);
    sqlite3 *db = raw_open(f->dir);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM records WHERE type='audit.threshold'"), 2);
    assert_int_equal(raw_int(db, "SELECT json_extract(details, '$.threshold') FROM records "
                                 "WHERE type='audit.threshold' ORDER BY seq LIMIT 1"),
                     80);
    assert_int_equal(raw_int(db, "SELECT json_extract(details, '$.threshold') FROM records "
                                 "WHERE type='audit.threshold' ORDER BY seq DESC LIMIT 1"),
                     95);
    assert_true(raw_int(db, "SELECT min(json_extract(details, '$.percent')) FROM records WHERE "
                            "type='audit.threshold'") >= 80);
    sqlite3_close(db);
}

/* Records older than the age limit are rolled into the archive (the
 * newest record always stays); younger ones stay in the database. */
static void test_age_limit(void **state)
{
    struct fixture *f = *state;
    int64_t now = bw_clock_realtime_us();
    /* The writer's timers keep the real monotonic clock. */
    struct timespec mono;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    bw_clock_fake_set(now - 40LL * 86400 * 1000000, mono.tv_sec * 1000000LL + mono.tv_nsec / 1000);
    struct bw_audit *audit = open_trail(f->dir, NULL);
    fill(audit, 20);
    bw_audit_close(audit);
    bw_clock_fake_disable();

    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    cfg.max_age_days = 30;
    audit = open_trail(f->dir, &cfg);
    fill(audit, 5);
    bw_audit_close(audit);
    sqlite3 *db = raw_open(f->dir);
    /* The old records went to the archive at the first check, but for the
     * newest record of the moment, which always stays (the next check,
     * a minute later, takes it once newer ones exist). */
    int64_t old_last = raw_int(db, "SELECT max(last_seq) FROM segments");
    assert_int_equal(raw_int(db, "SELECT min(first_seq) FROM segments"), 1);
    assert_true(old_last >= 19 && old_last <= 20);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM records WHERE ts_us < strftime('%s', 'now', "
                                 "'-30 days') * 1000000"),
                     20 - old_last);
    assert_int_equal(raw_int(db, "SELECT min(seq) FROM records"), old_last + 1);
    sqlite3_close(db);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_AUDIT_ARCHIVED), 1);
    struct bw_audit_verify_report report;
    assert_int_equal(bw_audit_verify(f->dir, &report), BW_OK);
    assert_string_equal(report.problem, "");
}

static void test_full_refuse(void **state)
{
    struct fixture *f = *state;
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    cfg.max_bytes = 128 * 1024;
    cfg.when_full = BW_AUDIT_FULL_REFUSE;
    struct bw_audit *audit = open_trail(f->dir, &cfg);
    fill(audit, 200);
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    assert_int_equal(st.state, BW_AUDIT_STATE_FULL);
    assert_int_equal(bw_audit_gate(audit), BW_EDENIED);
    struct bw_audit_event request = {.id = BW_AUDIT_EV_TAG_WRITE_REQUESTED,
                                     .result = BW_AUDIT_SUCCESS,
                                     .source = {BW_AUDIT_SOURCE_USER, "op", NULL}};
    assert_int_equal(bw_audit_record_request(audit, &request), BW_EDENIED);
    /* Records are still kept: never dropped. */
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "op", NULL, NULL), BW_OK);
    bw_audit_close(audit);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_AUDIT_FULL), 1);
    assert_int_equal(archive_files(f->dir), 0);
    /* 200, audit.full, one more, and the thresholds crossed on the way. */
    assert_int_equal(check_chain(f->dir), 202 + count_event(f->dir, BW_AUDIT_EV_AUDIT_THRESHOLD));

    /* An administrator's archive frees the trail: operations resume. */
    audit = open_trail(f->dir, &cfg);
    assert_int_equal(bw_audit_gate(audit), BW_EDENIED);
    uint64_t first = 0, last = 0;
    assert_int_equal(bw_audit_archive_now(audit, &first, &last), BW_OK);
    assert_int_equal(first, 1);
    assert_true(last > 100 && last < 202);
    assert_int_equal(bw_audit_gate(audit), BW_OK);
    bw_audit_status_get(audit, &st);
    assert_int_equal(st.state, BW_AUDIT_STATE_OK);
    bw_audit_close(audit);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_AUDIT_SPACE_FREED), 1);
    assert_int_equal(archive_files(f->dir), 1);
    struct bw_audit_verify_report report;
    assert_int_equal(bw_audit_verify(f->dir, &report), BW_OK);

    /* A larger limit frees the trail at the next commit. */
    cfg.max_bytes = 64 * 1024 * 1024;
    audit = open_trail(f->dir, &cfg);
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "op", NULL, NULL), BW_OK);
    assert_int_equal(bw_audit_gate(audit), BW_OK);
    bw_audit_close(audit);
}

/* The database cannot be opened (a directory has its name): the trail
 * opens failed, records wait in memory, the refuse policy closes the
 * gate; once the name is free again, everything queued is written with
 * the failure and recovery on record. */
static void test_failure_and_recovery(void **state)
{
    struct fixture *f = *state;
    char db_path[256];
    assert_int_equal(bw_snprintf(db_path, sizeof(db_path), "%s/audit.db", f->dir), BW_OK);
    assert_int_equal(mkdir(db_path, 0700), 0);
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    cfg.on_failure = BW_AUDIT_FAIL_REFUSE;
    struct bw_audit *audit = open_trail(f->dir, &cfg);
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    assert_int_equal(st.state, BW_AUDIT_STATE_FAILED);
    assert_int_equal(bw_audit_gate(audit), BW_EDENIED);
    struct bw_audit_event request = {.id = BW_AUDIT_EV_TAG_WRITE_REQUESTED,
                                     .result = BW_AUDIT_SUCCESS,
                                     .source = {BW_AUDIT_SOURCE_USER, "op", NULL}};
    assert_int_equal(bw_audit_record_request(audit, &request), BW_EDENIED);
    for (int i = 0; i < 5; i++)
        assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "op", NULL, NULL), BW_EIO);
    bw_audit_status_get(audit, &st);
    assert_true(st.pending >= 5);
    assert_int_equal(rmdir(db_path), 0);
    for (int i = 0; i < 100; i++) {
        bw_audit_status_get(audit, &st);
        if (st.state == BW_AUDIT_STATE_OK && st.pending == 0)
            break;
        usleep(50 * 1000);
    }
    assert_int_equal(st.state, BW_AUDIT_STATE_OK);
    assert_int_equal(bw_audit_gate(audit), BW_OK);
    assert_int_equal(bw_audit_record_request(audit, &request), BW_OK);
    assert_int_equal(record_simple(audit, BW_AUDIT_EV_TAG_WRITE, "op", NULL, NULL), BW_OK);
    bw_audit_close(audit);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_TAG_WRITE), 6);
    /* The refused request was not recorded; the one after recovery was. */
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_TAG_WRITE_REQUESTED), 1);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_AUDIT_FAILURE), 1);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_AUDIT_RECOVERED), 1);
    check_chain(f->dir);
}

static void test_keys_readable_by_others_refused(void **state)
{
    struct fixture *f = *state;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    bw_audit_close(audit);
    char path[256];
    assert_int_equal(bw_snprintf(path, sizeof(path), "%s/keys/audit-mac.key", f->dir), BW_OK);
    assert_int_equal(chmod(path, 0644), 0);
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, f->dir);
    assert_int_equal(bw_audit_open(&cfg, &audit), BW_EDENIED);
    assert_null(audit);
}

static int fake_synced = 1;
static int fake_probe(long *maxerror, long *esterror)
{
    *maxerror = 16000;
    *esterror = 0;
    return fake_synced;
}

static void test_clock_events(void **state)
{
    struct fixture *f = *state;
    int (*saved)(long *, long *) = audit_clock_probe;
    audit_clock_probe = fake_probe;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    fake_synced = 1;
    bw_audit_clock_check(audit); /* status at start */
    bw_audit_clock_check(audit); /* no change: nothing */
    fake_synced = 0;
    bw_audit_clock_check(audit); /* lost */
    fake_synced = 1;
    bw_audit_clock_check(audit); /* restored */
    bw_audit_close(audit);
    audit_clock_probe = saved;
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_TIME_SYNC_STATUS), 1);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_TIME_SYNC_LOST), 1);
    assert_int_equal(count_event(f->dir, BW_AUDIT_EV_TIME_SYNC_RESTORED), 1);
}

/* A clock whose state cannot be read is on record as unknown, once; its
 * state is recorded when it can be read. */
static void test_clock_unreadable(void **state)
{
    struct fixture *f = *state;
    int (*saved)(long *, long *) = audit_clock_probe;
    audit_clock_probe = fake_probe;
    struct bw_audit *audit = open_trail(f->dir, NULL);
    fake_synced = -1;
    bw_audit_clock_check(audit);
    bw_audit_clock_check(audit);
    fake_synced = 1;
    bw_audit_clock_check(audit);
    bw_audit_close(audit);
    audit_clock_probe = saved;
    sqlite3 *db = raw_open(f->dir);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM records WHERE type='time.sync.status'"), 2);
    char *first = raw_text(db, "SELECT details FROM records WHERE type='time.sync.status' "
                               "ORDER BY seq LIMIT 1");
    assert_string_equal(first, "{\"synchronised\":\"unknown\"}");
    free(first);
    sqlite3_close(db);
}

static void test_catalogue_ordered(void **state)
{
    (void)state;
    size_t n;
    const struct bw_audit_event_info *c = bw_audit_event_catalogue(&n);
    assert_true(n > 10);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            assert_true(c[i].id > c[i - 1].id);
        /* The thousands digit is the category, by convention. */
        assert_int_equal(c[i].id / 1000, c[i].category);
        assert_ptr_equal(bw_audit_event_lookup(c[i].id), &c[i]);
        assert_non_null(bw_audit_category_name(c[i].category));
    }
    assert_null(bw_audit_event_lookup(0));
    assert_null(bw_audit_category_name(0));
    assert_null(bw_audit_category_name(9));
}

/* docs/audit-events.md lists every catalogue entry with its ID, type
 * and category, and nothing else (tests run in the source tree). */
static void test_catalogue_documented(void **state)
{
    (void)state;
    FILE *fp = fopen("docs/audit-events.md", "r");
    assert_non_null(fp);
    static char doc[64 * 1024];
    size_t len = fread(doc, 1, sizeof(doc) - 1, fp);
    fclose(fp);
    doc[len] = '\0';
    size_t n;
    const struct bw_audit_event_info *c = bw_audit_event_catalogue(&n);
    for (size_t i = 0; i < n; i++) {
        char row[160];
        assert_int_equal(bw_snprintf(row, sizeof(row), "| %u | `%s` | %s |", (unsigned)c[i].id,
                                     c[i].type, bw_audit_category_name(c[i].category)),
                         BW_OK);
        if (!strstr(doc, row))
            fail_msg("docs/audit-events.md lacks the row %s", row);
    }
    size_t rows = 0;
    for (const char *p = doc; (p = strstr(p, "\n| ")); p++)
        if (p[3] >= '1' && p[3] <= '9' && p[4] >= '0' && p[4] <= '9')
            rows++;
    assert_int_equal(rows, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_events_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_source_names_recorded, setup, teardown),
        cmocka_unit_test(test_secret_keys),
        cmocka_unit_test_setup_teardown(test_secrets_redacted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_and_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thresholds_and_archive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_refuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_and_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_readable_by_others_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_thresholds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_age_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_unreadable, setup, teardown),
        cmocka_unit_test(test_catalogue_ordered),
        cmocka_unit_test(test_catalogue_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
