/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the crypto wrappers (src/crypto/) against published
 * known answers: SHA-256 of "abc", "" and the two-block NIST message (in
 * one call and incrementally, byte by byte and after a reset);
 * HMAC-SHA256 cases 1, 2 and 6 of RFC 4231 (the last with a key longer
 * than a block, and a MAC object reused); Ed25519 test 1 of RFC 8032
 * (public key and signature from the seed, verification, a tampered
 * message or signature or key refused). Also constant-time equality,
 * hex both ways with bad digits and lengths, random bytes, and secret
 * files: created 0600, BW_EEXIST on an existing one, refused when
 * others may read them or when reached through a symbolic link,
 * BW_EMALFORMED when the size differs, BW_ENOTFOUND when missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parses a known answer written in hex; the test fails on a typo. */
static void from_hex(const char *hex, uint8_t *out, size_t len)
{
    assert_int_equal(bw_crypto_unhex(hex, strlen(hex), out, len), BW_OK);
}

static void assert_sha256(const void *data, size_t len, const char *want_hex)
{
    uint8_t got[BW_SHA256_LEN];
    char hex[2 * BW_SHA256_LEN + 1];
    assert_int_equal(bw_crypto_sha256(data, len, got), BW_OK);
    bw_crypto_hex(got, sizeof(got), hex);
    assert_string_equal(hex, want_hex);
}

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define NIST_448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define SHA_448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

static void test_sha256_known_answers(void **state)
{
    (void)state;
    assert_sha256("abc", 3, SHA_ABC);
    assert_sha256("", 0, SHA_EMPTY);
    assert_sha256(NIST_448, strlen(NIST_448), SHA_448);
}

static void test_sha256_incremental(void **state)
{
    (void)state;
    struct bw_crypto_sha256_ctx *ctx = NULL;
    assert_int_equal(bw_crypto_sha256_new(&ctx), BW_OK);
    uint8_t got[BW_SHA256_LEN], want[BW_SHA256_LEN];
    const char *msg = NIST_448;
    for (size_t i = 0; msg[i]; i++)
        assert_int_equal(bw_crypto_sha256_update(ctx, msg + i, 1), BW_OK);
    assert_int_equal(bw_crypto_sha256_final(ctx, got), BW_OK);
    from_hex(SHA_448, want, sizeof(want));
    assert_memory_equal(got, want, sizeof(want));
    /* final resets: the same context hashes a new message. */
    assert_int_equal(bw_crypto_sha256_update(ctx, "ab", 2), BW_OK);
    assert_int_equal(bw_crypto_sha256_update(ctx, "c", 1), BW_OK);
    assert_int_equal(bw_crypto_sha256_final(ctx, got), BW_OK);
    from_hex(SHA_ABC, want, sizeof(want));
    assert_memory_equal(got, want, sizeof(want));
    bw_crypto_sha256_free(ctx);
    bw_crypto_sha256_free(NULL);
}

static void assert_hmac(struct bw_crypto_mac *mac, const char *data, const char *want_hex)
{
    uint8_t got[BW_SHA256_LEN];
    char hex[2 * BW_SHA256_LEN + 1];
    assert_int_equal(bw_crypto_mac_compute(mac, data, strlen(data), got), BW_OK);
    bw_crypto_hex(got, sizeof(got), hex);
    assert_string_equal(hex, want_hex);
}

static void test_hmac_rfc4231(void **state)
{
    (void)state;
    struct bw_crypto_mac *mac = NULL;
    /* Test case 1: a 20-byte key of 0x0b. */
    uint8_t key1[20];
    memset(key1, 0x0b, sizeof(key1));
    assert_int_equal(bw_crypto_mac_new(key1, sizeof(key1), &mac), BW_OK);
    const char *tc1 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
    assert_hmac(mac, "Hi There", tc1);
    /* The keyed state is reused, not consumed. */
    assert_hmac(mac, "Hi There", tc1);
    bw_crypto_mac_free(mac);

    /* Test case 2: a short key. */
    assert_int_equal(bw_crypto_mac_new("Jefe", 4, &mac), BW_OK);
    assert_hmac(mac, "what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    bw_crypto_mac_free(mac);

    /* Test case 6: a 131-byte key, hashed first. */
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof(key6));
    assert_int_equal(bw_crypto_mac_new(key6, sizeof(key6), &mac), BW_OK);
    assert_hmac(mac, "Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    bw_crypto_mac_free(mac);
    bw_crypto_mac_free(NULL);
}

/* RFC 8032 section 7.1, TEST 1 (the empty message). */
#define ED_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define ED_PUBLIC "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define ED_SIG                                                                                     \
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"     \
    "1cf9b46bd25bf5f0595bbe24655141438e7a100b"

static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    uint8_t seed[BW_ED25519_KEY_LEN], pub_want[BW_ED25519_KEY_LEN], sig_want[BW_ED25519_SIG_LEN];
    from_hex(ED_SEED, seed, sizeof(seed));
    from_hex(ED_PUBLIC, pub_want, sizeof(pub_want));
    from_hex(ED_SIG, sig_want, sizeof(sig_want));

    struct bw_crypto_signer *signer = NULL;
    assert_int_equal(bw_crypto_signer_from_seed(seed, sizeof(seed), &signer), BW_OK);
    uint8_t pub[BW_ED25519_KEY_LEN], sig[BW_ED25519_SIG_LEN], back[BW_ED25519_KEY_LEN];
    assert_int_equal(bw_crypto_signer_public(signer, pub), BW_OK);
    assert_memory_equal(pub, pub_want, sizeof(pub));
    assert_int_equal(bw_crypto_signer_seed(signer, back), BW_OK);
    assert_memory_equal(back, seed, sizeof(seed));
    assert_int_equal(bw_crypto_sign(signer, "", 0, sig), BW_OK);
    assert_memory_equal(sig, sig_want, sizeof(sig));

    assert_int_equal(bw_crypto_verify(pub, "", 0, sig), BW_OK);
    /* A tampered message, signature or key is refused. */
    assert_int_equal(bw_crypto_verify(pub, "x", 1, sig), BW_EDENIED);
    sig[10] ^= 0x01;
    assert_int_equal(bw_crypto_verify(pub, "", 0, sig), BW_EDENIED);
    sig[10] ^= 0x01;
    pub[0] ^= 0x80;
    assert_int_equal(bw_crypto_verify(pub, "", 0, sig), BW_EDENIED);
    bw_crypto_signer_free(signer);

    /* A seed of the wrong length. */
    signer = NULL;
    assert_int_equal(bw_crypto_signer_from_seed(seed, 31, &signer), BW_EINVAL);
    assert_null(signer);
    bw_crypto_signer_free(NULL);
}

static void test_ed25519_generated(void **state)
{
    (void)state;
    struct bw_crypto_signer *a = NULL, *b = NULL;
    assert_int_equal(bw_crypto_signer_generate(&a), BW_OK);
    assert_int_equal(bw_crypto_signer_generate(&b), BW_OK);
    uint8_t pa[BW_ED25519_KEY_LEN], pb[BW_ED25519_KEY_LEN], sig[BW_ED25519_SIG_LEN];
    assert_int_equal(bw_crypto_signer_public(a, pa), BW_OK);
    assert_int_equal(bw_crypto_signer_public(b, pb), BW_OK);
    assert_memory_not_equal(pa, pb, sizeof(pa));
    const char msg[] = "checkpoint 1000";
    assert_int_equal(bw_crypto_sign(a, msg, sizeof(msg), sig), BW_OK);
    assert_int_equal(bw_crypto_verify(pa, msg, sizeof(msg), sig), BW_OK);
    assert_int_equal(bw_crypto_verify(pb, msg, sizeof(msg), sig), BW_EDENIED);
    bw_crypto_signer_free(a);
    bw_crypto_signer_free(b);
}

static void test_equal_wipe_random(void **state)
{
    (void)state;
    uint8_t a[32], b[32];
    assert_int_equal(bw_crypto_random(a, sizeof(a)), BW_OK);
    memcpy(b, a, sizeof(b));
    assert_true(bw_crypto_equal(a, b, sizeof(a)));
    b[31] ^= 1;
    assert_false(bw_crypto_equal(a, b, sizeof(a)));
    b[31] ^= 1;
    b[0] ^= 0x80;
    assert_false(bw_crypto_equal(a, b, sizeof(a)));
    assert_true(bw_crypto_equal(a, b, 0));
    /* Two draws of 32 random bytes do not agree. */
    assert_int_equal(bw_crypto_random(b, sizeof(b)), BW_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    bw_crypto_wipe(a, sizeof(a));
    uint8_t zero[32] = {0};
    assert_memory_equal(a, zero, sizeof(a));
}

static void test_hex(void **state)
{
    (void)state;
    const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char hex[2 * sizeof(bytes) + 1];
    bw_crypto_hex(bytes, sizeof(bytes), hex);
    assert_string_equal(hex, "00017f80abff");
    uint8_t back[sizeof(bytes)];
    assert_int_equal(bw_crypto_unhex(hex, strlen(hex), back, sizeof(back)), BW_OK);
    assert_memory_equal(back, bytes, sizeof(bytes));
    assert_int_equal(bw_crypto_unhex("00017F80ABFF", 12, back, sizeof(back)), BW_OK);
    assert_memory_equal(back, bytes, sizeof(bytes));
    bw_crypto_hex(bytes, 0, hex);
    assert_string_equal(hex, "");

    /* Bad digits anywhere, and lengths other than exactly 2 * len. */
    assert_int_equal(bw_crypto_unhex("0g017f80abff", 12, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("00017f80abf-", 12, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("00 17f80abff", 12, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("0x017f80abff", 12, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("00017f80ab", 10, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("00017f80abff00", 14, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("00017f80abf", 11, back, 6), BW_EMALFORMED);
    assert_int_equal(bw_crypto_unhex("00\0"
                                     "17f80abff",
                                     12, back, 6),
                     BW_EMALFORMED);
}

/* ---- secret files -------------------------------------------------------- */

struct dir_fixture {
    char dir[64];
    char path[128];
};

static int setup_dir(void **state)
{
    struct dir_fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    bw_strlcpy(f->dir, "/tmp/bw-crypto-XXXXXX", sizeof(f->dir));
    if (!mkdtemp(f->dir) || bw_snprintf(f->path, sizeof(f->path), "%s/k", f->dir) != BW_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown_dir(void **state)
{
    struct dir_fixture *f = *state;
    nftw(f->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void test_secret_file_round_trip(void **state)
{
    struct dir_fixture *f = *state;
    const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_int_equal(bw_crypto_secret_file_create(f->path, key, sizeof(key)), BW_OK);
    struct stat st;
    assert_int_equal(lstat(f->path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 32);
    uint8_t back[32];
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_OK);
    assert_memory_equal(back, key, sizeof(key));
    /* Never overwritten. */
    const uint8_t other[32] = {9};
    assert_int_equal(bw_crypto_secret_file_create(f->path, other, sizeof(other)), BW_EEXIST);
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_OK);
    assert_memory_equal(back, key, sizeof(key));
}

static void test_secret_file_refusals(void **state)
{
    struct dir_fixture *f = *state;
    const uint8_t key[32] = {42};
    uint8_t back[32];
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_ENOTFOUND);
    assert_int_equal(bw_crypto_secret_file_create(f->path, key, sizeof(key)), BW_OK);

    /* Readable by others, or by the group: refused, and the output
     * holds nothing of the key. */
    assert_int_equal(chmod(f->path, 0644), 0);
    memset(back, 0x55, sizeof(back));
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_EDENIED);
    uint8_t zero[32] = {0};
    assert_memory_equal(back, zero, sizeof(back));
    assert_int_equal(chmod(f->path, 0640), 0);
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_EDENIED);
    assert_int_equal(chmod(f->path, 0602), 0);
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_EDENIED);
    assert_int_equal(chmod(f->path, 0600), 0);
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, sizeof(back)), BW_OK);

    /* A size other than the one asked for. */
    assert_int_equal(bw_crypto_secret_file_load(f->path, back, 31), BW_EMALFORMED);
    uint8_t big[33];
    assert_int_equal(bw_crypto_secret_file_load(f->path, big, sizeof(big)), BW_EMALFORMED);

    /* Through a symbolic link: refused for reading, and creating through
     * a dangling one does not write where it points. */
    char link[160], target[160];
    assert_int_equal(bw_snprintf(link, sizeof(link), "%s/link", f->dir), BW_OK);
    assert_int_equal(bw_snprintf(target, sizeof(target), "%s/elsewhere", f->dir), BW_OK);
    assert_int_equal(symlink(f->path, link), 0);
    assert_int_equal(bw_crypto_secret_file_load(link, back, sizeof(back)), BW_EDENIED);
    char dangling[160];
    assert_int_equal(bw_snprintf(dangling, sizeof(dangling), "%s/dangling", f->dir), BW_OK);
    assert_int_equal(symlink(target, dangling), 0);
    assert_int_not_equal(bw_crypto_secret_file_create(dangling, key, sizeof(key)), BW_OK);
    assert_int_equal(access(target, F_OK), -1);

    /* A directory is not a secret file. */
    assert_int_equal(bw_crypto_secret_file_load(f->dir, back, sizeof(back)), BW_EIO);
    /* Nowhere to create it. */
    char nowhere[160];
    assert_int_equal(bw_snprintf(nowhere, sizeof(nowhere), "%s/none/k", f->dir), BW_OK);
    assert_int_equal(bw_crypto_secret_file_create(nowhere, key, sizeof(key)), BW_EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_sha256_incremental),
        cmocka_unit_test(test_hmac_rfc4231),
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_ed25519_generated),
        cmocka_unit_test(test_equal_wipe_random),
        cmocka_unit_test(test_hex),
        cmocka_unit_test_setup_teardown(test_secret_file_round_trip, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_secret_file_refusals, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
