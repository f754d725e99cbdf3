/* SPDX-License-Identifier: Apache-2.0
 *
 * Audit trail throughput, durable: records per second through
 * bw_audit_record() with 1, 8 and 64 producer threads, each call
 * returning only once its record is on disk, against the naive design
 * measured in the same run on the same disk: the same schema and the
 * same records, each inserted in its own transaction (one sync per
 * record). Target: with 64 producers at least 20 times the naive rate.
 * A third figure bounds what any design can reach on this machine: 64
 * threads that each wait for a shared 4 KiB write and fdatasync of a
 * plain file, woken in turn, with no database, hashing or encoding at
 * all ("bare floor"). The trail's rate is printed against it too.
 * (Verification speed is bench_audit_verify.c.)
 *
 * The directories are made under BW_BENCH_DIR or the current directory
 * (a real disk: /dev/shm would make every sync free).
 */
#include "audit/internal.h"

#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
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

/* One producer thread: what it records into (the trail, or the bare
 * floor's queue), when to stop, how many records it got back. */
struct producer {
    void *target;
    const _Atomic bool *stop;
    uint64_t done;
};

/* Runs n threads of fn on target for RUN_US; records per second. */
static double run_producers(int n, void *(*fn)(void *), void *target)
{
    _Atomic bool stop = false;
    struct producer *p = calloc((size_t)n, sizeof(*p));
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    if (!p || !t)
        exit(1);
    int64_t t0 = bw_clock_monotonic_us();
    for (int i = 0; i < n; i++) {
        p[i] = (struct producer){.target = target, .stop = &stop};
        pthread_create(&t[i], NULL, fn, &p[i]);
    }
    usleep((useconds_t)RUN_US);
    atomic_store(&stop, true);
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        total += p[i].done;
    }
    int64_t t1 = bw_clock_monotonic_us();
    free(p);
    free(t);
    return (double)total * 1e6 / (double)(t1 - t0);
}

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
        if (bw_audit_record(p->target, &ev, NULL) != BW_OK) {
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
    double rate = run_producers(producers, produce, audit);
    struct bw_audit_status st;
    bw_audit_status_get(audit, &st);
    *commits = st.commits;
    bw_audit_close(audit);
    remove_dir(dir);
    return rate;
}

/* ---- the bare floor: group commit of nothing but a write and a sync -- */

struct bare {
    pthread_mutex_t mu;
    pthread_cond_t work;
    struct bare_waiter *head;
    _Atomic bool stop;
    int fd;
};

struct bare_waiter {
    sem_t sem;
    struct bare_waiter *next;
};

static void *bare_producer(void *arg)
{
    struct producer *p = arg;
    struct bare *b = p->target;
    struct bare_waiter me;
    sem_init(&me.sem, 0, 0);
    while (!atomic_load(p->stop)) {
        pthread_mutex_lock(&b->mu);
        me.next = b->head;
        b->head = &me;
        pthread_cond_signal(&b->work);
        pthread_mutex_unlock(&b->mu);
        while (sem_wait(&me.sem) != 0)
            ;
        p->done++;
    }
    sem_destroy(&me.sem);
    return NULL;
}

static void *bare_syncer(void *arg)
{
    struct bare *b = arg;
    char page[4096];
    memset(page, 'a', sizeof(page));
    off_t off = 0;
    for (;;) {
        pthread_mutex_lock(&b->mu);
        while (!b->head && !atomic_load(&b->stop))
            pthread_cond_wait(&b->work, &b->mu);
        struct bare_waiter *list = b->head;
        b->head = NULL;
        pthread_mutex_unlock(&b->mu);
        if (!list && atomic_load(&b->stop))
            return NULL;
        if (pwrite(b->fd, page, sizeof(page), off) != (ssize_t)sizeof(page) ||
            fdatasync(b->fd) != 0) {
            perror("bare floor");
            exit(1);
        }
        off += (off_t)sizeof(page);
        while (list) {
            struct bare_waiter *next = list->next;
            sem_post(&list->sem);
            list = next;
        }
    }
}

static double bare_rate(int producers)
{
    char dir[256], path[300];
    make_dir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/bare", dir);
    struct bare b = {.head = NULL, .stop = false};
    pthread_mutex_init(&b.mu, NULL);
    pthread_cond_init(&b.work, NULL);
    b.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (b.fd < 0) {
        perror("bare floor");
        exit(1);
    }
    pthread_t syncer;
    pthread_create(&syncer, NULL, bare_syncer, &b);
    /* Producers still waiting at the end are answered by the syncer's
     * last rounds: it stops only after they have all returned. */
    double rate = run_producers(producers, bare_producer, &b);
    pthread_mutex_lock(&b.mu);
    atomic_store(&b.stop, true);
    pthread_cond_signal(&b.work);
    pthread_mutex_unlock(&b.mu);
    pthread_join(syncer, NULL);
    close(b.fd);
    remove_dir(dir);
    return rate;
}

int main(void)
{
    double naive = naive_rate();
    printf("audit_append: naive (one transaction and sync per record) %.0f records/s\n", naive);
    double bare = bare_rate(64);
    printf("audit_append: bare floor (64 threads sharing a 4 KiB write + fdatasync, no database) "
           "%.0f/s, ratio %.1f to naive\n",
           bare, bare / naive);
    const int producers[] = {1, 8, 64};
    for (size_t i = 0; i < BW_ARRAY_LEN(producers); i++) {
        uint64_t commits = 0;
        double rate = trail_rate(producers[i], &commits);
        printf("audit_append: %2d producers %.0f records/s durable (%llu commits), ratio %.1f to "
               "naive%s\n",
               producers[i], rate, (unsigned long long)commits, rate / naive,
               producers[i] == 64 ? " (target >= 20)" : "");
        if (producers[i] == 64)
            printf("audit_append: 64 producers reach %.2f of the bare floor\n", rate / bare);
    }

    return 0;
}
