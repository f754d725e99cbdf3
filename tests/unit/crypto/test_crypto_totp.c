/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the one-time codes and base32 (src/crypto/totp.c)
 * against published known answers: HOTP of RFC 4226 Appendix D (counters
 * 0 to 9), TOTP of RFC 6238 Appendix B (the SHA-1 rows, 8 digits, the
 * counter being floor(T / 30)), and the base32 vectors of RFC 4648
 * section 10 both ways (written without padding, read with and without,
 * in either case, with spaces). Also: the digit count and key length
 * refused outside 6..8 and under 128 bits; base32 with characters
 * outside the alphabet, data after padding, impossible lengths or
 * non-zero padding bits refused; outputs one byte too small refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "crypto/crypto.h"

#include <string.h>

static const uint8_t rfc_key[] = "12345678901234567890";
#define RFC_KEY_LEN 20

static void test_hotp_rfc4226(void **state)
{
    (void)state;
    static const uint32_t want[10] = {755224, 287082, 359152, 969429, 338314,
                                      254676, 287922, 162583, 399871, 520489};
    for (uint64_t counter = 0; counter < 10; counter++) {
        uint32_t code = 0;
        assert_int_equal(bw_crypto_hotp(rfc_key, RFC_KEY_LEN, counter, 6, &code), BW_OK);
        assert_int_equal(code, want[counter]);
    }
}

static void test_totp_rfc6238_sha1(void **state)
{
    (void)state;
    static const struct {
        uint64_t time;
        uint32_t code;
    } rows[] = {
        {59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
        {1234567890, 89005924}, {2000000000, 69279037}, {20000000000, 65353130},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(rows); i++) {
        uint32_t code = 0;
        assert_int_equal(bw_crypto_hotp(rfc_key, RFC_KEY_LEN, rows[i].time / 30, 8, &code), BW_OK);
        assert_int_equal(code, rows[i].code);
    }
    /* Seven digits: the same truncation, another modulus. */
    uint32_t code = 0;
    assert_int_equal(bw_crypto_hotp(rfc_key, RFC_KEY_LEN, 59 / 30, 7, &code), BW_OK);
    assert_int_equal(code, 4287082);
}

static void test_hotp_bad_arguments(void **state)
{
    (void)state;
    uint32_t code = 12345;
    assert_int_equal(bw_crypto_hotp(rfc_key, RFC_KEY_LEN, 0, 5, &code), BW_EINVAL);
    assert_int_equal(bw_crypto_hotp(rfc_key, RFC_KEY_LEN, 0, 9, &code), BW_EINVAL);
    assert_int_equal(bw_crypto_hotp(rfc_key, 15, 0, 6, &code), BW_EINVAL);
    assert_int_equal(bw_crypto_hotp(NULL, RFC_KEY_LEN, 0, 6, &code), BW_EINVAL);
    assert_int_equal(bw_crypto_hotp(rfc_key, RFC_KEY_LEN, 0, 6, NULL), BW_EINVAL);
    assert_int_equal(code, 12345);
    /* The shortest key allowed works, and the counter's high bytes count. */
    uint32_t a = 0, b = 0;
    assert_int_equal(bw_crypto_hotp(rfc_key, 16, 1, 6, &a), BW_OK);
    assert_int_equal(bw_crypto_hotp(rfc_key, 16, 1 | UINT64_C(1) << 56, 6, &b), BW_OK);
    assert_int_not_equal(a, b);
}

/* RFC 4648 section 10, padding removed as bw_crypto_base32_encode writes. */
static const struct {
    const char *plain;
    const char *unpadded;
    const char *padded;
} b32[] = {
    {"", "", ""},
    {"f", "MY", "MY======"},
    {"fo", "MZXQ", "MZXQ===="},
    {"foo", "MZXW6", "MZXW6==="},
    {"foob", "MZXW6YQ", "MZXW6YQ="},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
};

static void test_base32_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < BW_ARRAY_LEN(b32); i++) {
        size_t len = strlen(b32[i].plain), need = strlen(b32[i].unpadded) + 1;
        char out[32];
        memset(out, 'x', sizeof(out));
        assert_int_equal(bw_crypto_base32_encode((const uint8_t *)b32[i].plain, len, out, need),
                         BW_OK);
        assert_string_equal(out, b32[i].unpadded);
        /* ceil(len * 8 / 5) + 1 is what it needs, and no less. */
        assert_int_equal(need, (len * 8 + 4) / 5 + 1);
        assert_int_equal(bw_crypto_base32_encode((const uint8_t *)b32[i].plain, len, out, need - 1),
                         BW_ETOOLARGE);
    }
    /* All 32 characters, in order: 20 bytes of 00 01 02 ... in 5-bit steps. */
    const uint8_t all[20] = {0x00, 0x44, 0x32, 0x14, 0xc7, 0x42, 0x54, 0xb6, 0x35, 0xcf,
                             0x84, 0x65, 0x3a, 0x56, 0xd7, 0xc6, 0x75, 0xbe, 0x77, 0xdf};
    char out[33];
    assert_int_equal(bw_crypto_base32_encode(all, sizeof(all), out, sizeof(out)), BW_OK);
    assert_string_equal(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    assert_int_equal(bw_crypto_base32_encode(NULL, 1, out, sizeof(out)), BW_EINVAL);
}

static void assert_decodes(const char *text, const char *want)
{
    uint8_t out[32];
    size_t n = 99;
    int rc = bw_crypto_base32_decode(text, strlen(text), out, sizeof(out), &n);
    if (rc != BW_OK)
        fail_msg("\"%s\": %s", text, bw_strerror(rc));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    /* Exactly the room needed is enough; one byte less is not. */
    if (n > 0) {
        assert_int_equal(bw_crypto_base32_decode(text, strlen(text), out, n, &n), BW_OK);
        assert_int_equal(bw_crypto_base32_decode(text, strlen(text), out, n - 1, &n), BW_ETOOLARGE);
        assert_int_equal(n, 0);
    }
}

static void test_base32_decode(void **state)
{
    (void)state;
    char lower[32], spaced[64];
    for (size_t i = 0; i < BW_ARRAY_LEN(b32); i++) {
        assert_decodes(b32[i].unpadded, b32[i].plain);
        assert_decodes(b32[i].padded, b32[i].plain);
        size_t n = strlen(b32[i].padded), s = 0;
        for (size_t j = 0; j <= n; j++) {
            char c = b32[i].padded[j];
            lower[j] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
            /* Groups of four, as keys are shown to be typed. */
            if (j > 0 && j % 4 == 0 && j < n)
                spaced[s++] = ' ';
            spaced[s++] = c;
        }
        assert_decodes(lower, b32[i].plain);
        assert_decodes(spaced, b32[i].plain);
    }
    assert_decodes(" MZXW 6YTB OI== ==== ", "foobar");
}

static void test_base32_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "MZXW6YTB1", /* '1', '0', '8', '9' are not in the alphabet */
        "MZXW0",     "MZ8",       "MZ9",     "MZ-XW",      "MZ\tXW", "MZ\nXW",
        "MZXW6=YTB", "MY=Q",      "M",       "MZX", /* 1 and 3 characters after the last group */
        "MZXW6Y",    "MZXW6YTBM",                   /* 6 and 1 */
        "MZ", /* 'Z' leaves 2 bits set where 'Y' leaves them zero */
        "MZXR",      "MZXW7",     "MZXW6YR", "MZXW6YTBOJ",
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        uint8_t out[32];
        size_t n = 99;
        int rc = bw_crypto_base32_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n);
        if (rc != BW_EMALFORMED)
            fail_msg("\"%s\": %s", bad[i], bw_strerror(rc));
        assert_int_equal(n, 0);
    }
    /* Only len bytes are read: what follows does not count. */
    uint8_t out[8];
    size_t n = 0;
    assert_int_equal(bw_crypto_base32_decode("MZXW6!!!", 5, out, sizeof(out), &n), BW_OK);
    assert_int_equal(n, 3);
    assert_int_equal(bw_crypto_base32_decode(NULL, 1, out, sizeof(out), &n), BW_EINVAL);
    assert_int_equal(bw_crypto_base32_decode("MY", 2, out, sizeof(out), NULL), BW_EINVAL);
}

/* A 20-byte key, the usual TOTP secret, survives both ways. */
static void test_base32_round_trip(void **state)
{
    (void)state;
    uint8_t key[20], back[20];
    char text[33];
    for (int round = 0; round < 100; round++) {
        assert_int_equal(bw_crypto_random(key, sizeof(key)), BW_OK);
        assert_int_equal(bw_crypto_base32_encode(key, sizeof(key), text, sizeof(text)), BW_OK);
        assert_int_equal(strlen(text), 32);
        size_t n = 0;
        assert_int_equal(bw_crypto_base32_decode(text, 32, back, sizeof(back), &n), BW_OK);
        assert_int_equal(n, sizeof(key));
        assert_memory_equal(back, key, sizeof(key));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hotp_rfc4226),       cmocka_unit_test(test_totp_rfc6238_sha1),
        cmocka_unit_test(test_hotp_bad_arguments), cmocka_unit_test(test_base32_encode),
        cmocka_unit_test(test_base32_decode),      cmocka_unit_test(test_base32_refused),
        cmocka_unit_test(test_base32_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
