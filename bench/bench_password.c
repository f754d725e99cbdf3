/* SPDX-License-Identifier: Apache-2.0
 *
 * Benchmark: password verifications per second at the default
 * parameters (Argon2id, m=19456 KiB, t=2, p=1) on one core: one thread,
 * and p=1 keeps libargon2 from starting threads of its own. There is no
 * target for the figure (it is what a login costs, and what an attacker
 * with a copy of users.db pays per guess on one core), so it is printed
 * against a reference measured in the same run: the same hash checked by
 * libargon2's argon2id_verify() directly. The ratio is the price of
 * bw_crypto_pwhash_verify()'s own parsing, and should be about 1.0. The
 * two alternate in rounds of ROUND_S seconds so that a neighbour's load
 * falls on both alike. Reports; never asserts.
 * Usage: bench_password [SECONDS per side, default 3]
 */
#include "crypto/crypto.h"

#include <argon2.h>
#include <stdio.h>
#include <string.h>

#define ROUND_US 1000000

static const struct bw_crypto_argon2_params defaults = {
    .memory_kib = 19456,
    .iterations = 2,
    .parallelism = 1,
};
static const char password[] = "correct horse battery staple";

struct side {
    uint64_t count;
    int64_t us;
};

/* Verifies for about ROUND_US; ours or the raw library call. */
static int run_round(const char *encoded, bool raw, struct side *s)
{
    int64_t start = bw_clock_monotonic_us(), now = start;
    size_t len = sizeof(password) - 1;
    while (now - start < ROUND_US) {
        int rc = raw ? (argon2id_verify(encoded, password, len) == ARGON2_OK ? BW_OK : BW_EIO)
                     : bw_crypto_pwhash_verify(encoded, password, len);
        if (rc)
            return rc;
        s->count++;
        now = bw_clock_monotonic_us();
    }
    s->us += now - start;
    return BW_OK;
}

int main(int argc, char **argv)
{
    uint64_t seconds = 3;
    if (argc > 1 &&
        (bw_parse_u64(argv[1], strlen(argv[1]), 3600, &seconds) != BW_OK || seconds == 0)) {
        fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
        return 2;
    }
    char encoded[BW_CRYPTO_PWHASH_MAX];
    int rc = bw_crypto_pwhash(&defaults, password, sizeof(password) - 1, encoded, sizeof(encoded));
    struct side ours = {0}, raw = {0};
    /* A first call of each, untimed: page faults of the first 19 MiB. */
    if (rc == BW_OK)
        rc = bw_crypto_pwhash_verify(encoded, password, sizeof(password) - 1);
    if (rc == BW_OK && argon2id_verify(encoded, password, sizeof(password) - 1) != ARGON2_OK)
        rc = BW_EIO;
    for (uint64_t round = 0; round < seconds && rc == BW_OK; round++) {
        rc = run_round(encoded, false, &ours);
        if (rc == BW_OK)
            rc = run_round(encoded, true, &raw);
    }
    if (rc != BW_OK) {
        printf("password_verify: failed: %s\n", bw_strerror(rc));
        return 1;
    }
    double ours_rate = (double)ours.count * 1e6 / (double)ours.us;
    double raw_rate = (double)raw.count * 1e6 / (double)raw.us;
    printf("password_verify: %.1f verifications/s on one core at the default parameters "
           "(Argon2id m=%u KiB, t=%u, p=%u; %.1f ms each), raw argon2id_verify %.1f/s, "
           "ratio %.2f\n",
           ours_rate, defaults.memory_kib, defaults.iterations, defaults.parallelism,
           1e3 / ours_rate, raw_rate, ours_rate / raw_rate);
    return 0;
}
