/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the password hashes (src/crypto/pwhash.c). Known
 * answers: the encoded Argon2id hashes of the reference implementation's
 * test suite (phc-winner-argon2 src/test.c, password "password", salt
 * "somesalt") are accepted for the right password and refused for others,
 * and the linked libargon2 gives RFC 9106 section 5.3's tag, so a
 * library that computed something else would fail here. Then: round
 * trips at small and at the default parameters, with a fresh salt each
 * time; the parameters read back; needs_rehash when m, t or p is raised;
 * a table of malformed encodings and parameters over the project's
 * bounds refused without being hashed; every one-character change of a
 * valid hash refused, and refused as malformed exactly when
 * bw_crypto_pwhash_params() refuses it; bad arguments to the hasher.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"

#include <argon2.h>
#include <string.h>

/* phc-winner-argon2 src/test.c, Argon2id, version 0x13. */
#define REF_M65536                                                                                 \
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
#define REF_M256_P2                                                                                \
    "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"

static const struct bw_crypto_argon2_params small = {
    .memory_kib = 256, .iterations = 1, .parallelism = 1};

static int verify_str(const char *encoded, const char *password)
{
    return bw_crypto_pwhash_verify(encoded, password, strlen(password));
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_reference_hashes(void **state)
{
    (void)state;
    assert_int_equal(verify_str(REF_M65536, "password"), BW_OK);
    assert_int_equal(verify_str(REF_M65536, "Password"), BW_EDENIED);
    assert_int_equal(verify_str(REF_M65536, "password "), BW_EDENIED);
    assert_int_equal(verify_str(REF_M65536, ""), BW_EDENIED);
    assert_int_equal(verify_str(REF_M256_P2, "password"), BW_OK);
    assert_int_equal(verify_str(REF_M256_P2, "passwore"), BW_EDENIED);

    /* A changed hash byte decodes as well as the right one. */
    char tampered[] = REF_M65536;
    tampered[strlen(tampered) - 10] ^= 1;
    assert_int_equal(verify_str(tampered, "password"), BW_EDENIED);
    /* A changed salt byte: another hash altogether. */
    char other_salt[] = REF_M65536;
    other_salt[strlen("$argon2id$v=19$m=65536,t=2,p=1$c29")] = 'X';
    assert_int_equal(verify_str(other_salt, "password"), BW_EDENIED);

    struct bw_crypto_argon2_params p;
    assert_int_equal(bw_crypto_pwhash_params(REF_M65536, &p), BW_OK);
    assert_int_equal(p.memory_kib, 65536);
    assert_int_equal(p.iterations, 2);
    assert_int_equal(p.parallelism, 1);
    assert_int_equal(bw_crypto_pwhash_params(REF_M256_P2, &p), BW_OK);
    assert_int_equal(p.memory_kib, 256);
    assert_int_equal(p.parallelism, 2);
}

/* RFC 9106 section 5.3: with a secret and associated data, which the
 * encoded form cannot carry, so through argon2_ctx directly. */
static void test_libargon2_rfc9106(void **state)
{
    (void)state;
    uint8_t pwd[32], salt[16], secret[8], ad[12], tag[32], want[32];
    memset(pwd, 1, sizeof(pwd));
    memset(salt, 2, sizeof(salt));
    memset(secret, 3, sizeof(secret));
    memset(ad, 4, sizeof(ad));
    argon2_context ctx = {
        .out = tag,
        .outlen = sizeof(tag),
        .pwd = pwd,
        .pwdlen = sizeof(pwd),
        .salt = salt,
        .saltlen = sizeof(salt),
        .secret = secret,
        .secretlen = sizeof(secret),
        .ad = ad,
        .adlen = sizeof(ad),
        .t_cost = 3,
        .m_cost = 32,
        .lanes = 4,
        .threads = 4,
        .version = ARGON2_VERSION_13,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    assert_int_equal(argon2_ctx(&ctx, Argon2_id), ARGON2_OK);
    const char *hex = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659";
    assert_int_equal(bw_crypto_unhex(hex, strlen(hex), want, sizeof(want)), BW_OK);
    assert_memory_equal(tag, want, sizeof(want));
}

static void test_round_trip(void **state)
{
    (void)state;
    char a[BW_CRYPTO_PWHASH_MAX], b[BW_CRYPTO_PWHASH_MAX];
    const char pw[] = "correct horse\0battery"; /* a NUL inside counts */
    assert_int_equal(bw_crypto_pwhash(&small, pw, sizeof(pw) - 1, a, sizeof(a)), BW_OK);
    assert_int_equal(bw_crypto_pwhash(&small, pw, sizeof(pw) - 1, b, sizeof(b)), BW_OK);
    assert_true(starts_with(a, "$argon2id$v=19$m=256,t=1,p=1$"));
    assert_true(strlen(a) < BW_CRYPTO_PWHASH_MAX);
    assert_string_not_equal(a, b); /* a fresh salt each time */
    assert_int_equal(bw_crypto_pwhash_verify(a, pw, sizeof(pw) - 1), BW_OK);
    assert_int_equal(bw_crypto_pwhash_verify(b, pw, sizeof(pw) - 1), BW_OK);
    assert_int_equal(bw_crypto_pwhash_verify(a, pw, strlen(pw)), BW_EDENIED);
    assert_int_equal(bw_crypto_pwhash_verify(a, "", 0), BW_EDENIED);
    assert_int_equal(bw_crypto_pwhash_verify(a, NULL, 0), BW_EDENIED);

    /* The empty password hashes and verifies like any other. */
    assert_int_equal(bw_crypto_pwhash(&small, NULL, 0, a, sizeof(a)), BW_OK);
    assert_int_equal(bw_crypto_pwhash_verify(a, "", 0), BW_OK);
    assert_int_equal(verify_str(a, "x"), BW_EDENIED);

    struct bw_crypto_argon2_params p;
    assert_int_equal(bw_crypto_pwhash_params(a, &p), BW_OK);
    assert_memory_equal(&p, &small, sizeof(p));
}

static void test_round_trip_defaults(void **state)
{
    (void)state;
    const struct bw_crypto_argon2_params def = {19456, 2, 1};
    const struct bw_crypto_argon2_params par = {1024, 1, 4};
    char enc[BW_CRYPTO_PWHASH_MAX];
    assert_int_equal(bw_crypto_pwhash(&def, "s3cret", 6, enc, sizeof(enc)), BW_OK);
    assert_true(starts_with(enc, "$argon2id$v=19$m=19456,t=2,p=1$"));
    assert_int_equal(verify_str(enc, "s3cret"), BW_OK);
    assert_int_equal(verify_str(enc, "s3creT"), BW_EDENIED);
    /* p > 1: libargon2's own threads. */
    assert_int_equal(bw_crypto_pwhash(&par, "s3cret", 6, enc, sizeof(enc)), BW_OK);
    assert_true(starts_with(enc, "$argon2id$v=19$m=1024,t=1,p=4$"));
    assert_int_equal(verify_str(enc, "s3cret"), BW_OK);
}

static void test_needs_rehash(void **state)
{
    (void)state;
    const struct bw_crypto_argon2_params have = {1024, 2, 2};
    char enc[BW_CRYPTO_PWHASH_MAX];
    assert_int_equal(bw_crypto_pwhash(&have, "pw", 2, enc, sizeof(enc)), BW_OK);
    const struct bw_crypto_argon2_params same = have, lower = {512, 1, 1}, mixed = {2048, 1, 1},
                                         more_m = {1025, 2, 2}, more_t = {1024, 3, 2},
                                         more_p = {1024, 2, 3};
    assert_false(bw_crypto_pwhash_needs_rehash(enc, &same));
    assert_false(bw_crypto_pwhash_needs_rehash(enc, &lower));
    assert_true(bw_crypto_pwhash_needs_rehash(enc, &more_m));
    assert_true(bw_crypto_pwhash_needs_rehash(enc, &more_t));
    assert_true(bw_crypto_pwhash_needs_rehash(enc, &more_p));
    assert_true(bw_crypto_pwhash_needs_rehash(enc, &mixed));
    /* Not Argon2id, or not readable: rehash whatever is wanted. */
    assert_true(bw_crypto_pwhash_needs_rehash(
        "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
        &lower));
    assert_true(bw_crypto_pwhash_needs_rehash("", &lower));
    assert_true(bw_crypto_pwhash_needs_rehash(NULL, &lower));
}

#define SALT_HASH "$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

/* Each refused by both the parser and the verifier, before any hashing
 * (some would need gigabytes or minutes if they reached libargon2). */
static const char *const malformed[] = {
    "",
    "$argon2id$",
    "$argon2i$v=19$m=65536,t=2,p=1" SALT_HASH,
    "$argon2d$v=19$m=65536,t=2,p=1" SALT_HASH,
    "$argon2id$v=16$m=65536,t=2,p=1" SALT_HASH,
    "$argon2id$m=65536,t=2,p=1" SALT_HASH, /* version left out */
    "$argon2id$v=19$m=65536,t=2" SALT_HASH,
    "$argon2id$v=19$t=2,m=65536,p=1" SALT_HASH,
    "$argon2id$v=19$m=65536,t=2,p=1,data=YQ" SALT_HASH,
    "$argon2id$v=19$m=065536,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=+65536,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=-1,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m= 65536,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=65536,t=2,p=1",
    "$argon2id$v=19$m=65536,t=2,p=1$",
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ",
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$",
    "$argon2id$v=19$m=65536,t=2,p=1$$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=65536,t=2,p=1" SALT_HASH "$",
    "$argon2id$v=19$m=65536,t=2,p=1" SALT_HASH "\n",
    "$argon2id$v=19$m=65536,t=2,p=1" SALT_HASH "=",
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ=$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=65536,t=2,p=1$c29t ZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    /* Unused low bits of the last character set. */
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPd",
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHR$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    /* A count of characters no bytes encode to. */
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPcAA",
    /* Salt under 8 bytes, hash under 4. */
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFh",
    /* Below what libargon2 takes. */
    "$argon2id$v=19$m=0,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=7,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=31,t=2,p=4" SALT_HASH, /* m < 8 p */
    "$argon2id$v=19$m=65536,t=0,p=1" SALT_HASH,
    "$argon2id$v=19$m=65536,t=2,p=0" SALT_HASH,
    /* Above the project's bounds: a tampered users.db. */
    "$argon2id$v=19$m=4194305,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=4294967295,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=4294967296,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=99999999999999999999999,t=2,p=1" SALT_HASH,
    "$argon2id$v=19$m=65536,t=101,p=1" SALT_HASH,
    "$argon2id$v=19$m=65536,t=4294967295,p=1" SALT_HASH,
    "$argon2id$v=19$m=65536,t=2,p=17" SALT_HASH,
    "$argon2id$v=19$m=4194304,t=100,p=255" SALT_HASH,
};

static void test_malformed(void **state)
{
    (void)state;
    struct bw_crypto_argon2_params p;
    for (size_t i = 0; i < BW_ARRAY_LEN(malformed); i++) {
        int parsed = bw_crypto_pwhash_params(malformed[i], &p);
        int verified = verify_str(malformed[i], "password");
        if (parsed != BW_EMALFORMED || verified != BW_EMALFORMED)
            fail_msg("%s: params %s, verify %s", malformed[i], bw_strerror(parsed),
                     bw_strerror(verified));
    }
    /* Longer than any hash we or another tool would write. */
    char long_salt[600] = "$argon2id$v=19$m=256,t=2,p=2$";
    size_t n = strlen(long_salt);
    memset(long_salt + n, 'A', 520);
    memcpy(long_salt + n + 520, "$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", 45);
    assert_int_equal(bw_crypto_pwhash_params(long_salt, &p), BW_EMALFORMED);
    assert_int_equal(verify_str(long_salt, "password"), BW_EMALFORMED);
    /* The bounds themselves are allowed (parsed only: hashing at 4 GiB
     * is not for a unit test). */
    assert_int_equal(bw_crypto_pwhash_params("$argon2id$v=19$m=4194304,t=100,p=16" SALT_HASH, &p),
                     BW_OK);
    assert_int_equal(p.memory_kib, 4194304);
    assert_int_equal(p.iterations, 100);
    assert_int_equal(p.parallelism, 16);
    assert_int_equal(bw_crypto_pwhash_params(NULL, &p), BW_EINVAL);
    assert_int_equal(bw_crypto_pwhash_verify(NULL, "x", 1), BW_EINVAL);
    assert_int_equal(bw_crypto_pwhash_verify(REF_M65536, NULL, 1), BW_EINVAL);
}

/* Every one-character change of a valid hash: never accepted, and
 * malformed for the verifier exactly when the parser says so (else it
 * decodes, hashes and mismatches). Small parameters keep the hashing
 * cheap whatever digit the change puts in m or t. */
static void test_mutations(void **state)
{
    (void)state;
    static const char repl[] = {'$', ',', '=', '0', '9', 'A', 'z', '/', '+', '-', ' ', '\0'};
    char enc[BW_CRYPTO_PWHASH_MAX], m[BW_CRYPTO_PWHASH_MAX];
    const struct bw_crypto_argon2_params tiny = {16, 1, 1};
    assert_int_equal(bw_crypto_pwhash(&tiny, "pw", 2, enc, sizeof(enc)), BW_OK);
    size_t len = strlen(enc), tried = 0, parsed = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t r = 0; r < sizeof(repl); r++) {
            if (enc[i] == repl[r])
                continue;
            memcpy(m, enc, len + 1);
            m[i] = repl[r];
            struct bw_crypto_argon2_params p;
            bool ok = bw_crypto_pwhash_params(m, &p) == BW_OK;
            /* A '9' or '0' in t or p may ask for up to 9 passes or 90
             * lanes; lanes need 8 KiB each, so m grows to stay valid.
             * Skip what the parser accepts but would take long. */
            if (ok && (uint64_t)p.memory_kib * p.iterations > 1u << 20)
                continue;
            int rc = verify_str(m, "pw");
            if (rc != (ok ? BW_EDENIED : BW_EMALFORMED))
                fail_msg("%s: verify %s, params %s", m, bw_strerror(rc), ok ? "ok" : "refused");
            tried++;
            parsed += ok;
        }
    }
    assert_true(tried > 500);
    assert_true(parsed > 50); /* the salt and hash characters, mostly */
}

static void test_hash_bad_arguments(void **state)
{
    (void)state;
    char enc[BW_CRYPTO_PWHASH_MAX];
    const struct bw_crypto_argon2_params too_much_m = {4194305, 1, 1}, too_many_t = {256, 101, 1},
                                         too_many_p = {1024, 1, 17}, no_t = {256, 0, 1},
                                         no_p = {256, 1, 0}, m_under_8p = {31, 1, 4};
    const struct bw_crypto_argon2_params *bad[] = {&too_much_m, &too_many_t, &too_many_p,
                                                   &no_t,       &no_p,       &m_under_8p};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        memset(enc, 'x', sizeof(enc));
        assert_int_equal(bw_crypto_pwhash(bad[i], "pw", 2, enc, sizeof(enc)), BW_EINVAL);
        assert_string_equal(enc, "");
    }
    assert_int_equal(bw_crypto_pwhash(NULL, "pw", 2, enc, sizeof(enc)), BW_EINVAL);
    assert_int_equal(bw_crypto_pwhash(&small, NULL, 2, enc, sizeof(enc)), BW_EINVAL);
    assert_int_equal(bw_crypto_pwhash(&small, "pw", 2, enc, BW_CRYPTO_PWHASH_MAX - 1), BW_EINVAL);
    assert_int_equal(bw_crypto_pwhash(&small, "pw", 2, NULL, sizeof(enc)), BW_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_hashes), cmocka_unit_test(test_libargon2_rfc9106),
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_round_trip_defaults),
        cmocka_unit_test(test_needs_rehash),     cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_mutations),        cmocka_unit_test(test_hash_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
