/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of AES-256-GCM sealing (src/crypto/aead.c): round trips
 * with and without additional data, of empty and multi-block messages;
 * the layout nonce || ciphertext || tag checked against a plain
 * OpenSSL decryption of the same bytes (so the layout, not only our own
 * inverse, is what is tested); a changed bit in every byte of the
 * nonce, ciphertext and tag, in the additional data and in the key,
 * each refused with BW_EDENIED and the output wiped; input shorter than
 * nonce and tag BW_EMALFORMED; an output one byte too small
 * BW_ETOOLARGE, both ways; two seals of the same message differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <string.h>

static uint8_t key[BW_CRYPTO_AEAD_KEY_LEN];
static const char aad[] = "bulwark project.json v1";
static const char msg[] = "{\"tags\":[{\"name\":\"Area1.Pump.Speed\",\"type\":\"float\"}]}";

static int setup(void **state)
{
    (void)state;
    return bw_crypto_random(key, sizeof(key)) == BW_OK ? 0 : -1;
}

static void seal(const void *plain, size_t len, uint8_t *out, size_t out_size, size_t *out_len)
{
    assert_int_equal(bw_crypto_aead_seal(key, aad, strlen(aad), plain, len, out, out_size, out_len),
                     BW_OK);
    assert_int_equal(*out_len, len + BW_CRYPTO_AEAD_OVERHEAD);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t sealed[256], plain[256];
    size_t n, m;
    seal(msg, strlen(msg), sealed, sizeof(sealed), &n);
    assert_int_equal(
        bw_crypto_aead_open(key, aad, strlen(aad), sealed, n, plain, sizeof(plain), &m), BW_OK);
    assert_int_equal(m, strlen(msg));
    assert_memory_equal(plain, msg, m);

    /* Without additional data, and an empty message (only the tag). */
    assert_int_equal(bw_crypto_aead_seal(key, NULL, 0, "", 0, sealed, sizeof(sealed), &n), BW_OK);
    assert_int_equal(n, BW_CRYPTO_AEAD_OVERHEAD);
    assert_int_equal(bw_crypto_aead_open(key, NULL, 0, sealed, n, NULL, 0, &m), BW_OK);
    assert_int_equal(m, 0);
    /* Sealed without additional data, opened with some: refused. */
    assert_int_equal(bw_crypto_aead_open(key, "x", 1, sealed, n, NULL, 0, &m), BW_EDENIED);

    /* Many blocks, lengths not a multiple of 16. */
    static uint8_t big[100003], big_sealed[100003 + BW_CRYPTO_AEAD_OVERHEAD], big_back[100003];
    assert_int_equal(bw_crypto_random(big, sizeof(big)), BW_OK);
    assert_int_equal(
        bw_crypto_aead_seal(key, NULL, 0, big, sizeof(big), big_sealed, sizeof(big_sealed), &n),
        BW_OK);
    assert_int_equal(
        bw_crypto_aead_open(key, NULL, 0, big_sealed, n, big_back, sizeof(big_back), &m), BW_OK);
    assert_int_equal(m, sizeof(big));
    assert_memory_equal(big_back, big, sizeof(big));
}

/* Decrypts with OpenSSL directly, reading the layout the header
 * promises: nonce, then ciphertext, then tag. */
static void test_layout(void **state)
{
    (void)state;
    uint8_t sealed[256], plain[256], tag[BW_CRYPTO_AEAD_TAG_LEN];
    size_t n, len = strlen(msg);
    seal(msg, len, sealed, sizeof(sealed), &n);
    memcpy(tag, sealed + BW_CRYPTO_AEAD_NONCE_LEN + len, sizeof(tag));
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_non_null(ctx);
    int got = 0, fin = 0;
    assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, sealed), 1);
    assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &got, (const uint8_t *)aad, (int)strlen(aad)), 1);
    assert_int_equal(
        EVP_DecryptUpdate(ctx, plain, &got, sealed + BW_CRYPTO_AEAD_NONCE_LEN, (int)len), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)sizeof(tag), tag), 1);
    assert_int_equal(EVP_DecryptFinal_ex(ctx, plain + got, &fin), 1);
    EVP_CIPHER_CTX_free(ctx);
    assert_int_equal((size_t)got + (size_t)fin, len);
    assert_memory_equal(plain, msg, len);
}

static void assert_denied(const uint8_t *k, const char *a, const uint8_t *in, size_t len)
{
    uint8_t plain[256];
    size_t m = 99;
    memset(plain, 0xa5, sizeof(plain));
    assert_int_equal(bw_crypto_aead_open(k, a, strlen(a), in, len, plain, sizeof(plain), &m),
                     BW_EDENIED);
    assert_int_equal(m, 0);
    /* What was decrypted before the tag failed is not left behind. */
    uint8_t zero[256] = {0};
    assert_memory_equal(plain, zero, len - BW_CRYPTO_AEAD_OVERHEAD);
}

/* A flipped bit anywhere in the sealed bytes: nonce, ciphertext, tag. */
static void test_tamper(void **state)
{
    (void)state;
    uint8_t sealed[256];
    size_t n;
    seal(msg, strlen(msg), sealed, sizeof(sealed), &n);
    for (size_t i = 0; i < n; i++) {
        for (unsigned bit = 0; bit < 8; bit += 7) {
            sealed[i] ^= (uint8_t)(1u << bit);
            assert_denied(key, aad, sealed, n);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* The additional data, each byte; its length; the key. */
    char other[sizeof(aad)];
    memcpy(other, aad, sizeof(aad));
    for (size_t i = 0; i < strlen(aad); i++) {
        other[i] ^= 0x20;
        assert_denied(key, other, sealed, n);
        other[i] ^= 0x20;
    }
    other[strlen(aad) - 1] = '\0';
    assert_denied(key, other, sealed, n);
    uint8_t other_key[BW_CRYPTO_AEAD_KEY_LEN];
    memcpy(other_key, key, sizeof(key));
    other_key[BW_CRYPTO_AEAD_KEY_LEN - 1] ^= 1;
    assert_denied(other_key, aad, sealed, n);
    /* Truncated or extended: the tag is read from elsewhere. */
    assert_denied(key, aad, sealed, n - 1);
    sealed[n] = 0;
    assert_denied(key, aad, sealed, n + 1);
    /* And untouched, still fine. */
    uint8_t plain[256];
    size_t m;
    assert_int_equal(
        bw_crypto_aead_open(key, aad, strlen(aad), sealed, n, plain, sizeof(plain), &m), BW_OK);
}

static void test_sizes(void **state)
{
    (void)state;
    uint8_t sealed[256], plain[256];
    size_t n, m = 99, len = strlen(msg);
    /* Shorter than nonce and tag: not something seal made. */
    for (size_t short_len = 0; short_len < BW_CRYPTO_AEAD_OVERHEAD; short_len++) {
        memset(sealed, 0, sizeof(sealed));
        assert_int_equal(
            bw_crypto_aead_open(key, NULL, 0, sealed, short_len, plain, sizeof(plain), &m),
            BW_EMALFORMED);
    }
    /* One byte too little room, sealing and opening. */
    assert_int_equal(bw_crypto_aead_seal(key, aad, strlen(aad), msg, len, sealed,
                                         len + BW_CRYPTO_AEAD_OVERHEAD - 1, &n),
                     BW_ETOOLARGE);
    assert_int_equal(n, 0);
    seal(msg, len, sealed, len + BW_CRYPTO_AEAD_OVERHEAD, &n);
    assert_int_equal(bw_crypto_aead_open(key, aad, strlen(aad), sealed, n, plain, len - 1, &m),
                     BW_ETOOLARGE);
    assert_int_equal(m, 0);
    assert_int_equal(bw_crypto_aead_open(key, aad, strlen(aad), sealed, n, plain, len, &m), BW_OK);
    assert_int_equal(m, len);
    /* Arguments that cannot be right. */
    assert_int_equal(bw_crypto_aead_seal(key, NULL, 3, msg, len, sealed, sizeof(sealed), &n),
                     BW_EINVAL);
    assert_int_equal(bw_crypto_aead_seal(key, NULL, 0, NULL, 3, sealed, sizeof(sealed), &n),
                     BW_EINVAL);
    assert_int_equal(bw_crypto_aead_open(key, NULL, 3, sealed, n, plain, sizeof(plain), &m),
                     BW_EINVAL);
}

static void test_fresh_nonce(void **state)
{
    (void)state;
    uint8_t a[256], b[256];
    size_t na, nb;
    seal(msg, strlen(msg), a, sizeof(a), &na);
    seal(msg, strlen(msg), b, sizeof(b), &nb);
    assert_int_equal(na, nb);
    assert_memory_not_equal(a, b, BW_CRYPTO_AEAD_NONCE_LEN);
    assert_memory_not_equal(a + BW_CRYPTO_AEAD_NONCE_LEN, b + BW_CRYPTO_AEAD_NONCE_LEN,
                            na - BW_CRYPTO_AEAD_NONCE_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_layout),
        cmocka_unit_test(test_tamper),      cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_fresh_nonce),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
