/* SPDX-License-Identifier: Apache-2.0
 *
 * Durability of acknowledged records: a child process records events
 * from several threads and reports each sequence number that
 * bw_audit_record() acknowledged through a pipe; the parent kills it
 * with SIGKILL at a random moment. Every acknowledged record must be in
 * the trail, the trail must verify, and a new writer must continue the
 * chain. Repeated a few times at different moments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/internal.h"

#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_THREADS 4
#define MAX_ACKS 2000000

static int ack_fd;
static pthread_mutex_t ack_mu = PTHREAD_MUTEX_INITIALIZER;

static void *child_producer(void *arg)
{
    struct bw_audit *audit = arg;
    for (int i = 0;; i++) {
        json_t *d = json_pack("{s:i}", "i", i);
        struct bw_audit_event ev = {
            .id = BW_AUDIT_EV_TAG_WRITE,
            .result = BW_AUDIT_SUCCESS,
            .source = {.kind = BW_AUDIT_SOURCE_USER, .name = "operator"},
            .details = d,
        };
        uint64_t seq = 0;
        int rc = bw_audit_record(audit, &ev, &seq);
        json_decref(d);
        if (rc == BW_OK) {
            /* Written only once durable: the parent counts on it. */
            pthread_mutex_lock(&ack_mu);
            ssize_t n = write(ack_fd, &seq, sizeof(seq));
            pthread_mutex_unlock(&ack_mu);
            if (n != (ssize_t)sizeof(seq))
                _exit(3);
        }
    }
    return NULL;
}

static void child_main(const char *dir, int fd)
{
    ack_fd = fd;
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, dir);
    cfg.checkpoint_records = 50;
    struct bw_audit *audit = NULL;
    if (bw_audit_open(&cfg, &audit) != BW_OK)
        _exit(2);
    pthread_t t[CHILD_THREADS];
    for (int i = 0; i < CHILD_THREADS; i++)
        pthread_create(&t[i], NULL, child_producer, audit);
    for (;;)
        pause();
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static bool seq_present(sqlite3 *db, uint64_t seq)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM records WHERE seq=?", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static void one_round(unsigned kill_after_ms)
{
    char dir[64];
    bw_strlcpy(dir, "/tmp/bw-test-durable-XXXXXX", sizeof(dir));
    assert_non_null(mkdtemp(dir));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_main(dir, fds[1]);
    }
    close(fds[1]);
    static uint64_t acks[MAX_ACKS];
    size_t n_acks = 0, partial = 0;
    uint8_t buf[8];
    int64_t kill_at = bw_clock_monotonic_us() + (int64_t)kill_after_ms * 1000;
    bool killed = false;
    for (;;) {
        int64_t left = kill_at - bw_clock_monotonic_us();
        if (!killed && left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
        }
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        int timeout = killed ? 1000 : (int)(left / 1000) + 1;
        if (poll(&p, 1, timeout) <= 0 && killed)
            break;
        ssize_t r = read(fds[0], buf + partial, sizeof(buf) - partial);
        if (r == 0)
            break; /* the child is gone and the pipe drained */
        if (r < 0)
            continue;
        partial += (size_t)r;
        if (partial == sizeof(buf)) {
            uint64_t seq;
            memcpy(&seq, buf, sizeof(seq));
            if (n_acks < MAX_ACKS)
                acks[n_acks++] = seq;
            partial = 0;
        }
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(fds[0]);
    print_message("killed after %u ms with %zu records acknowledged\n", kill_after_ms, n_acks);
    assert_true(n_acks > 0);

    sqlite3 *db = NULL;
    assert_int_equal(audit_store_open_ro(dir, &db), BW_OK);
    for (size_t i = 0; i < n_acks; i++)
        if (!seq_present(db, acks[i]))
            fail_msg("acknowledged record %llu is missing after SIGKILL",
                     (unsigned long long)acks[i]);
    sqlite3_close(db);

    struct bw_audit_verify_report report;
    int rc = bw_audit_verify(dir, &report);
    if (rc != BW_OK)
        fail_msg("verify after SIGKILL: record %llu: %s", (unsigned long long)report.bad_seq,
                 report.problem);

    /* A new writer continues the chain from the surviving tail. */
    struct bw_audit_config cfg;
    bw_audit_config_defaults(&cfg, dir);
    struct bw_audit *audit = NULL;
    assert_int_equal(bw_audit_open(&cfg, &audit), BW_OK);
    struct bw_audit_event ev = {
        .id = BW_AUDIT_EV_DAEMON_START,
        .result = BW_AUDIT_SUCCESS,
        .source = {.kind = BW_AUDIT_SOURCE_PROCESS, .name = "bulwark"},
    };
    uint64_t seq = 0;
    assert_int_equal(bw_audit_record(audit, &ev, &seq), BW_OK);
    assert_int_equal(seq, report.last_seq + 1);
    bw_audit_close(audit);
    assert_int_equal(bw_audit_verify(dir, &report), BW_OK);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_sigkill_keeps_acknowledged(void **state)
{
    (void)state;
    for (int round = 0; round < 4; round++) {
        unsigned r = 0;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            r = (unsigned)time(NULL);
        one_round(100 + r % 400);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_keeps_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
