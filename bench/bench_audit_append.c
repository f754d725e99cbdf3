/* SPDX-License-Identifier: Apache-2.0
 *
 * Audit trail throughput, durable: records per second through
 * bw_audit_record() with 1, 8 and 64 producer threads, each call
 * returning only once its record is on disk, against the naive design
 * measured in the same run on the same disk: the same schema and the
 * same records, each inserted in its own transaction (one sync per
 * record). Target: with 64 producers at least 20 times the naive rate.
 * (Verification speed is bench_audit_verify.c.)
 *
 * The directories are made under BW_BENCH_DIR or the current directory
 * (a real disk: /dev/shm would make every sync free).
 */
#include "audit/internal.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_US 3000000LL

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void make_dir(char *out, size_t size)
{
    const char *base = getenv("BW_BENCH_DIR");
    snprintf(out, size, "%s/bw-bench-audit-XXXXXX", base ? base : ".");
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(1);
    }
}

static void remove_dir(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fill_row(struct audit_row *row, uint64_t seq, char *name, char *details)
{
    memset(row, 0, sizeof(*row));
    row->seq = seq;
    row->ts_us = bw_clock_realtime_us();
    row->category = BW_AUDIT_CONTROL_SYSTEM;
    row->event_id = BW_AUDIT_EV_TAG_WRITE;
    row->type = "tag.write";
    row->result = BW_AUDIT_SUCCESS;
    row->source_kind = BW_AUDIT_SOURCE_USER;
    row->source_name = name;
    row->details = details;
}

/* One record, one transaction, one sync: for RUN_US. */
static double naive_rate(void)
{
    char dir[256];
    make_dir(dir, sizeof(dir));
    _Atomic bool archiving = false;
    sqlite3 *db = NULL;
    sqlite3_stmt *ins = NULL;
    struct audit_keys keys;
    struct bw_crypto_mac *mac = NULL;
    if (audit_keys_load(dir, true, true, &keys) || audit_store_open_rw(dir, &archiving, &db) ||
        audit_store_prepare_insert(db, &ins) ||
        bw_crypto_mac_new(keys.mac_key, sizeof(keys.mac_key), &mac)) {
        fprintf(stderr, "naive: cannot open the store\n");
        exit(1);
    }
    char name[] = "operator";
    char details[] = "{\"new\":42.5,\"old\":41.0,\"tag\":\"Tank1.level_sp\"}";
    uint8_t prev[BW_SHA256_LEN] = {0};
    uint64_t n = 0;
    int64_t t0 = bw_clock_monotonic_us(), t1;
    do {
        struct audit_row row;
        fill_row(&row, n + 1, name, details);
        memcpy(row.prev_hash, prev, sizeof(prev));
        struct bw_audit_entry e;
        audit_row_entry(&row, &e);
        if (audit_row_hash(&e, prev, row.hash) || audit_row_mac(mac, row.hash, row.mac) ||
            audit_store_insert(ins, &row)) {
            fprintf(stderr, "naive: insert failed\n");
            exit(1);
        }
        memcpy(prev, row.hash, sizeof(prev));
        n++;
        t1 = bw_clock_monotonic_us();
    } while (t1 - t0 < RUN_US);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    bw_crypto_mac_free(mac);
    audit_keys_clear(&keys);
    remove_dir(dir);
    return (double)n * 1e6 / (double)(t1 - t0);
}

struct producer {
    struct bw_audit *audit;
    const _Atomic bool *stop;
    uint64_t done;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    json_t *d = json_pack("{s:s, s:f, s:f}", "tag", "Tank1.level_sp", "old", 41.0, "new", 42.5);
    struct bw_audit_event ev = {
        .id = BW_AUDIT_EV_TAG_WRITE,
        .result = BW_AUDIT_SUCCESS,
        .source = {.kind = BW_AUDIT_SOURCE_USER, .name = "operator", .address = "10.0.0.7"},
        .details = d,
    };
    while (!atomic_load(p->stop)) {
        if (bw_audit_record(p->audit, &ev, NULL) != BW_OK) {
            fprintf(stderr, "record failed\n");
            exit(1);
        }
        p->done++;
    }
    json_decref(d);
    return NULL;
}

static double trail_rate(int producers, uint64_t *commits)
{
    char dir[256];
    make_dir(dir, sizeof(dir));
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, dir);
    struct bw_audit *audit = NULL;
    if (bw_audit_open(&cfg, &audit) != BW_OK) {
        fprintf(stderr, "cannot open the trail\n");
        exit(1);
    }
    _Atomic bool stop = false;
    struct producer *p = calloc((size_t)producers, sizeof(*p));
    pthread_t *t = calloc((size_t)producers, sizeof(*t));
    if (!p || !t)
        exit(1);
    int64_t t0 = bw_clock_monotonic_us();
    for (int i = 0; i < producers; i++) {
        p[i] = (struct producer){.audit = audit, .stop = &stop};
        pthread_create(&t[i], NULL, produce, &p[i]);
    }
    usleep((useconds_t)RUN_US);
    atomic_store(&stop, true);
    uint64_t total = 0;
    for (int i = 0; i < producers; i++) {
        pthread_join(t[i], NULL);
        total += p[i].done;
    }
    int64_t t1 = bw_clock_monotonic_us();
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    *commits = st.commits;
    bw_audit_close(audit);
    remove_dir(dir);
    free(p);
    free(t);
    return (double)total * 1e6 / (double)(t1 - t0);
}

int main(void)
{
    double naive = naive_rate();
    printf("audit_append: naive (one transaction and sync per record) %.0f records/s\n", naive);
    const int producers[] = {1, 8, 64};
    for (size_t i = 0; i < BW_ARRAY_LEN(producers); i++) {
        uint64_t commits = 0;
        double rate = trail_rate(producers[i], &commits);
        printf("audit_append: %2d producers %.0f records/s durable (%llu commits), ratio %.1f to "
               "naive%s\n",
               producers[i], rate, (unsigned long long)commits, rate / naive,
               producers[i] == 64 ? " (target >= 20)" : "");
    }

    return 0;
}
