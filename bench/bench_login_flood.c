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
                                            .address = "127.0.0.1"};
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
    /* The flood is the subject: neither the address throttle nor the
     * session limits may cut it short. */
    policy.lockout.address_max_failures = 100000;
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
    pthread_t threads[LOGINS];
    pthread_barrier_init(&start, NULL, LOGINS + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (size_t i = 0; i < LOGINS; i++)
        if (pthread_create(&threads[i], &attr, one_login, (void *)(uintptr_t)i) != 0)
            return 1;
    long before = status_kib("VmRSS:");
    reset_peak();
    int64_t t0 = bw_clock_monotonic_us();
    pthread_barrier_wait(&start);
    for (size_t i = 0; i < LOGINS; i++)
        pthread_join(threads[i], NULL);
    double seconds = (double)(bw_clock_monotonic_us() - t0) / 1e6;
    long peak = status_kib("VmHWM:");
    size_t ok = 0, busy = 0, other = 0;
    for (size_t i = 0; i < LOGINS; i++) {
        if (outcomes[i] == BW_SECURITY_LOGIN_OK)
            ok++;
        else if (outcomes[i] == BW_SECURITY_LOGIN_BUSY)
            busy++;
        else
            other++;
    }
    double limit_mib = (double)policy.password.hash_concurrency *
                       (double)policy.password.argon2_memory_kib / 1024.0;
    double above_mib = (double)(peak - before) / 1024.0;
    printf("login flood: %d logins at once in %.2f s: %zu in, %zu refused busy, %zu other\n",
           LOGINS, seconds, ok, busy, other);
    printf("login flood: peak resident %.1f MiB, %.1f MiB above the %.1f MiB before; limit K x m "
           "= %u x %.1f MiB = %.1f MiB; ratio %.2f (at most 1.00)\n",
           (double)peak / 1024.0, above_mib, (double)before / 1024.0,
           policy.password.hash_concurrency, (double)policy.password.argon2_memory_kib / 1024.0,
           limit_mib, above_mib / limit_mib);
    bw_security_close(sec);
    bw_audit_close(audit);
    bw_project_security_clear(&policy);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return other == 0 ? 0 : 1;
}
