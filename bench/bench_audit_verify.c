/* SPDX-License-Identifier: Apache-2.0
 *
 * Benchmark: bw_audit_verify() on a trail of BENCH_RECORDS records (a
 * checkpoint every 1000 and the anchor, details of realistic size) built with the
 * store's own functions in a temporary state directory. Prints the best
 * of several runs in records per second against the 500,000 target.
 * Reports; never asserts. Usage: bench_audit_verify [RECORDS]
 */
#include "audit/anchor_internal.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_RECORDS 1000000u
#define BENCH_RUNS 3
#define BENCH_TARGET 500000.0

static int build(const char *dir, uint64_t n)
{
    static _Atomic bool archiving;
    struct audit_keys keys;
    struct bw_crypto_mac *mac = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *insert = NULL;
    int rc = audit_keys_load(dir, true, true, &keys);
    if (rc == BW_OK)
        rc = bw_crypto_mac_new(keys.mac_key, sizeof(keys.mac_key), &mac);
    if (rc == BW_OK)
        rc = audit_store_open_rw(dir, &archiving, &db);
    if (rc == BW_OK)
        rc = audit_store_prepare_insert(db, &insert);
    if (rc == BW_OK)
        rc = audit_store_exec(db, "BEGIN;");
    uint8_t prev[BW_SHA256_LEN] = {0};
    struct audit_anchor anchor = {0};
    char details[96];
    for (uint64_t seq = 1; seq <= n && rc == BW_OK; seq++) {
        rc = bw_snprintf(details, sizeof(details), "{\"tag\":\"Area%03u.Pump.Speed\",\"value\":%u}",
                         (unsigned)(seq % 160), (unsigned)(seq % 1000));
        struct audit_row row = {
            .seq = seq,
            .ts_us = 1764790196000000LL + (int64_t)seq * 1000,
            .category = BW_AUDIT_CONTROL_SYSTEM,
            .event_id = BW_AUDIT_EV_TAG_WRITE,
            .type = "tag.write",
            .result = BW_AUDIT_SUCCESS,
            .source_kind = BW_AUDIT_SOURCE_USER,
            .source_name = "operator1",
            .source_address = "192.0.2.17",
            .details = details,
        };
        memcpy(row.prev_hash, prev, sizeof(prev));
        struct bw_audit_entry e;
        audit_row_entry(&row, &e);
        if (rc == BW_OK)
            rc = audit_row_hash(&e, row.prev_hash, row.hash);
        if (rc == BW_OK)
            rc = audit_row_mac(mac, row.hash, row.mac);
        if (rc == BW_OK)
            rc = audit_store_insert(insert, &row);
        memcpy(prev, row.hash, sizeof(prev));
        if (rc == BW_OK && seq % 1000 == 0) {
            rc = audit_anchor_sign(keys.signer, seq, row.ts_us, row.hash, &anchor);
            if (rc == BW_OK)
                rc = audit_store_checkpoint(db, seq, row.ts_us, row.hash, anchor.sig);
        }
    }
    if (rc == BW_OK)
        rc = audit_store_exec(db, "COMMIT;");
    /* As the writer: the anchor follows the commit of its checkpoint. */
    if (rc == BW_OK && anchor.seq)
        rc = audit_anchor_write(dir, &anchor);
    sqlite3_finalize(insert);
    sqlite3_close(db);
    bw_crypto_mac_free(mac);
    audit_keys_clear(&keys);
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(int argc, char **argv)
{
    uint64_t n = BENCH_RECORDS;
    if (argc > 1 && bw_parse_u64(argv[1], strlen(argv[1]), 100000000, &n) != BW_OK) {
        fprintf(stderr, "usage: %s [RECORDS]\n", argv[0]);
        return 2;
    }
    char dir[] = "/tmp/bw-bench-audit-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    int64_t t0 = bw_clock_monotonic_us();
    int rc = build(dir, n);
    printf("built %llu records in %.2f s\n", (unsigned long long)n,
           (double)(bw_clock_monotonic_us() - t0) / 1e6);
    double best = 0;
    for (int run = 0; run < BENCH_RUNS && rc == BW_OK; run++) {
        struct bw_audit_verify_report r;
        int64_t start = bw_clock_monotonic_us();
        rc = bw_audit_verify(dir, &r);
        double s = (double)(bw_clock_monotonic_us() - start) / 1e6;
        if (rc == BW_OK && r.records != n)
            rc = BW_EMALFORMED;
        double rate = (double)n / s;
        printf("run %d: %.3f s, %.0f records/s, %llu checkpoints\n", run + 1, s, rate,
               (unsigned long long)r.checkpoints);
        if (rate > best)
            best = rate;
    }
    if (rc == BW_OK)
        printf("audit verify: best %.0f records/s (%.2fx the %.0f target)\n", best,
               best / BENCH_TARGET, BENCH_TARGET);
    else
        printf("audit verify: failed: %s\n", bw_strerror(rc));
    (void)nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc == BW_OK ? 0 : 1;
}
