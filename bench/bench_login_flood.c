/* SPDX-License-Identifier: Apache-2.0
 *
 * 200 logins arriving at once, at the default Argon2id parameters (m=19
 * MiB, t=2, p=1) and the default hashing pool (K=2 at once, 64 waiting):
 * prints how many got in, waited or were refused, and the process's
 * peak resident memory above what it held before the flood, against the
 * limit the pool implies (K x m). The security module runs here exactly
 * as in the daemon (same context, real audit trail, real users.db).
 */
#include "security/security.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOGINS 200
#define USERS 10
#define PASSWORD "Tx9#mq4!Lz2w"

static struct bw_security *sec;
static pthread_barrier_t start;
static int outcomes[LOGINS];
static const char *flood_address;

static long status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long value = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) == 0) {
            int64_t v;
            char *p = line + klen;
            while (*p == ' ' || *p == '\t')
                p++;
            size_t n = strspn(p, "0123456789");
            if (bw_parse_i64(p, n, 0, INT64_MAX, &v) == BW_OK)
                value = (long)v;
        }
    fclose(f);
    return value;
}

/* Forgets the peak so far (Linux: writing 5 to clear_refs resets VmHWM). */
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static void *one_login(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    char name[32];
    if (bw_snprintf(name, sizeof(name), "user%zu", i % USERS))
        return NULL;
    struct bw_security_login_request req = {.user = name,
                                            .password = PASSWORD,
                                            .password_len = strlen(PASSWORD),
                                            .address = flood_address};
    struct bw_security_login_result res;
    pthread_barrier_wait(&start);
    if (bw_security_login(sec, &req, &res) == BW_OK) {
        outcomes[i] = (int)res.outcome;
        if (res.outcome == BW_SECURITY_LOGIN_OK && bw_security_logout(sec, res.token) != BW_OK)
            outcomes[i] = -1;
    } else {
        outcomes[i] = -1;
    }
    return NULL;
}

struct flood {
    double seconds;
    long before_kib, peak_kib, above_kib;
    size_t ok, busy, other;
};

/* LOGINS threads log in at once from address; the peak resident size
 * above what the process held just before. */
static struct flood flood(const char *address)
{
    struct flood r = {0};
    pthread_t threads[LOGINS];
    flood_address = address;
    pthread_barrier_init(&start, NULL, LOGINS + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (size_t i = 0; i < LOGINS; i++)
        if (pthread_create(&threads[i], &attr, one_login, (void *)(uintptr_t)i) != 0)
            exit(1);
    r.before_kib = status_kib("VmRSS:");
    reset_peak();
    int64_t t0 = bw_clock_monotonic_us();
    pthread_barrier_wait(&start);
    for (size_t i = 0; i < LOGINS; i++)
        pthread_join(threads[i], NULL);
    r.seconds = (double)(bw_clock_monotonic_us() - t0) / 1e6;
    r.peak_kib = status_kib("VmHWM:");
    r.above_kib = r.peak_kib - r.before_kib;
    pthread_barrier_destroy(&start);
    pthread_attr_destroy(&attr);
    for (size_t i = 0; i < LOGINS; i++) {
        if (outcomes[i] == BW_SECURITY_LOGIN_OK)
            r.ok++;
        else if (outcomes[i] == BW_SECURITY_LOGIN_BUSY)
            r.busy++;
        else
            r.other++;
    }
    return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    char dir[] = "/tmp/bw-bench-login-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct bw_project_security policy;
    struct bw_audit *audit = NULL;
    struct bw_audit_config acfg;
    bw_audit_config_defaults(&acfg, dir);
    if (bw_project_security_defaults(&policy) || bw_audit_open(&acfg, &audit))
        return 1;
    /* The flood is the subject: the session limits may not cut it short;
     * the throttle serves the control run. */
    policy.lockout.address_max_failures = 50;
    policy.sessions.max_per_user = 1000;
    struct bw_security_config cfg = {.state_dir = dir, .policy = &policy, .audit = audit};
    int rc = bw_security_open(&cfg, &sec);
    if (rc) {
        fprintf(stderr, "cannot open: %s\n", bw_strerror(rc));
        return 1;
    }
    struct bw_security_actor actor = {.os_user = "bench"};
    char why[256];
    for (size_t i = 0; i < USERS; i++) {
        char name[32];
        if (bw_snprintf(name, sizeof(name), "user%zu", i) ||
            bw_security_user_add(sec, &actor, name, NULL, PASSWORD, strlen(PASSWORD), why,
                                 sizeof(why))) {
            fprintf(stderr, "cannot add %s: %s\n", name, why);
            return 1;
        }
    }
    /* First the same flood from an address the throttle already refuses:
     * no password is hashed, so its peak is what 200 callers, their
     * stacks and their audit records cost. */
    for (int i = 0; i < 50; i++) {
        struct bw_security_login_request bad = {
            .user = "nobody", .password = "x", .password_len = 1, .address = "192.0.2.66"};
        struct bw_security_login_result res;
        if (bw_security_login(sec, &bad, &res) != BW_OK)
            return 1;
    }
    struct flood control = flood("192.0.2.66");
    struct flood real = flood("127.0.0.1");
    double limit_mib = (double)policy.password.hash_concurrency *
                       (double)policy.password.argon2_memory_kib / 1024.0;
    double hashing_mib = (double)(real.above_kib - control.above_kib) / 1024.0;
    printf("login flood: %d logins at once in %.2f s: %zu in, %zu refused busy, %zu other\n",
           LOGINS, real.seconds, real.ok, real.busy, real.other);
    printf("login flood: peak resident %.1f MiB (%.1f MiB before); the same flood refused "
           "before hashing peaks %.1f MiB above its start, this one %.1f MiB\n",
           (double)real.peak_kib / 1024.0, (double)real.before_kib / 1024.0,
           (double)control.above_kib / 1024.0, (double)real.above_kib / 1024.0);
    printf("login flood: memory for hashing %.1f MiB, limit K x m = %u x %.1f MiB = %.1f MiB, "
           "ratio %.2f (at most 1.00)\n",
           hashing_mib, policy.password.hash_concurrency,
           (double)policy.password.argon2_memory_kib / 1024.0, limit_mib, hashing_mib / limit_mib);
    int failed = real.other != 0 || control.ok != 0;
    bw_security_close(sec);
    bw_audit_close(audit);
    bw_project_security_clear(&policy);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
