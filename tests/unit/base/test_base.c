/* SPDX-License-Identifier: Apache-2.0
 *
 * base: strict parsers, bounded buffers, UTF-8 validation, the fake
 * clock and time formatting, allocation-failure injection, error texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"

#include <string.h>

#define S(lit) lit, sizeof(lit) - 1

static void test_parse_integers(void **state)
{
    (void)state;
    int64_t i;
    uint64_t u;
    assert_int_equal(bw_parse_i64(S("42"), 0, 100, &i), BW_OK);
    assert_int_equal(i, 42);
    assert_int_equal(bw_parse_i64(S("-9223372036854775808"), INT64_MIN, INT64_MAX, &i), BW_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(bw_parse_i64(S("9223372036854775808"), INT64_MIN, INT64_MAX, &i), BW_ERANGE);
    assert_int_equal(bw_parse_i64(S("101"), 0, 100, &i), BW_ERANGE);
    assert_int_equal(bw_parse_i64(S("-1"), 0, 100, &i), BW_ERANGE);
    assert_int_equal(bw_parse_i64(S("-"), 0, 100, &i), BW_EMALFORMED);
    assert_int_equal(bw_parse_i64(S(""), 0, 100, &i), BW_EMALFORMED);
    assert_int_equal(bw_parse_i64(S(" 1"), 0, 100, &i), BW_EMALFORMED);
    assert_int_equal(bw_parse_i64(S("1 "), 0, 100, &i), BW_EMALFORMED);
    assert_int_equal(bw_parse_i64(S("+1"), 0, 100, &i), BW_EMALFORMED);
    assert_int_equal(bw_parse_i64(S("0x10"), 0, 100, &i), BW_EMALFORMED);
    assert_int_equal(bw_parse_u64(S("18446744073709551615"), UINT64_MAX, &u), BW_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(bw_parse_u64(S("18446744073709551616"), UINT64_MAX, &u), BW_ERANGE);
    assert_int_equal(bw_parse_u64(S("123456789012345678901"), UINT64_MAX, &u), BW_ERANGE);
    /* Only len bytes count: the 9 after them is not read. */
    assert_int_equal(bw_parse_u64("129", 2, 100, &u), BW_OK);
    assert_int_equal(u, 12);
}

static void test_parse_double(void **state)
{
    (void)state;
    double d;
    assert_int_equal(bw_parse_double(S("2.5"), &d), BW_OK);
    assert_true(d == 2.5);
    assert_int_equal(bw_parse_double(S("-1e3"), &d), BW_OK);
    assert_true(d == -1000.0);
    assert_int_equal(bw_parse_double(S("nan"), &d), BW_EMALFORMED);
    assert_int_equal(bw_parse_double(S("inf"), &d), BW_EMALFORMED);
    assert_int_equal(bw_parse_double(S("1e999"), &d), BW_ERANGE);
    assert_int_equal(bw_parse_double(S("1.5x"), &d), BW_EMALFORMED);
    assert_int_equal(bw_parse_double(S("1..5"), &d), BW_EMALFORMED);
    assert_int_equal(bw_parse_double(S(""), &d), BW_EMALFORMED);
    char big[100];
    memset(big, '1', sizeof(big));
    assert_int_equal(bw_parse_double(big, sizeof(big), &d), BW_ETOOLARGE);
}

static void test_buffers_are_bounded(void **state)
{
    (void)state;
    struct bw_buf buf;
    bw_buf_init(&buf, 10);
    assert_int_equal(bw_buf_append_str(&buf, "hello"), BW_OK);
    assert_int_equal(bw_buf_printf(&buf, "%d", 1234), BW_OK);
    assert_string_equal(buf.data, "hello1234");
    assert_int_equal(bw_buf_append_str(&buf, "xy"), BW_ETOOLARGE);
    assert_string_equal(buf.data, "hello1234"); /* unchanged */
    assert_int_equal(bw_buf_append_str(&buf, "x"), BW_OK);
    assert_int_equal(buf.len, 10);
    bw_buf_reset(&buf);
    assert_int_equal(buf.len, 0);
    assert_string_equal(buf.data, "");
    bw_buf_clear(&buf);
    assert_null(buf.data);

    bw_buf_init(&buf, 1000);
    bw_alloc_fail_after(0);
    assert_int_equal(bw_buf_append_str(&buf, "x"), BW_ENOMEM);
    bw_alloc_fail_after(-1);
    assert_int_equal(buf.len, 0);
    bw_buf_clear(&buf);

    char small[6];
    assert_int_equal(bw_strlcpy(small, "abcdefgh", sizeof(small)), 8);
    assert_string_equal(small, "abcde");
    assert_int_equal(bw_snprintf(small, sizeof(small), "%s", "abcde"), BW_OK);
    assert_int_equal(bw_snprintf(small, sizeof(small), "%s", "abcdef"), BW_ETOOLARGE);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(bw_utf8_valid(S("plain ascii")));
    assert_true(bw_utf8_valid(S("D\xc3\xbcsseldorf \xe2\x82\xac \xf0\x9f\x92\xa7")));
    assert_false(bw_utf8_valid(S("\xc3\x28")));         /* bad continuation */
    assert_false(bw_utf8_valid(S("\xc0\xaf")));         /* overlong '/' */
    assert_false(bw_utf8_valid(S("\xed\xa0\x80")));     /* surrogate */
    assert_false(bw_utf8_valid(S("\xf4\x90\x80\x80"))); /* above U+10FFFF */
    assert_false(bw_utf8_valid(S("\xe2\x82")));         /* truncated */
    assert_false(bw_utf8_valid(S("\xff")));
    assert_true(bw_utf8_valid("", 0));
    assert_int_equal(bw_utf8_char_len(S("a")), 1);
    assert_int_equal(bw_utf8_char_len(S("\xc3\xbc!")), 2);
    assert_int_equal(bw_utf8_char_len(S("\xe2\x82\xac")), 3);
    assert_int_equal(bw_utf8_char_len(S("\xf0\x9f\x92\xa7")), 4);
    assert_int_equal(bw_utf8_char_len(S("\xe2\x82")), 0);
    assert_int_equal(bw_utf8_char_len(S("\xc0\xaf")), 0);
    assert_int_equal(bw_utf8_char_len("", 0), 0);
}

static void test_fake_clock_and_format(void **state)
{
    (void)state;
    bw_clock_fake_set(1764789000123456, 1000);
    assert_int_equal(bw_clock_realtime_us(), 1764789000123456);
    assert_int_equal(bw_clock_monotonic_us(), 1000);
    bw_clock_fake_advance(2500000);
    assert_int_equal(bw_clock_monotonic_us(), 2501000);
    char text[BW_TIME_TEXT_MAX];
    assert_string_equal(bw_time_format_utc(bw_clock_realtime_us(), text),
                        "2025-12-03T19:10:02.623456Z");
    assert_string_equal(bw_time_format_utc(-1, text), "1969-12-31T23:59:59.999999Z");
    bw_clock_fake_disable();
    assert_true(bw_clock_realtime_us() > 1764789000123456);
}

static void test_alloc_injection_and_errors(void **state)
{
    (void)state;
    bw_alloc_fail_after(2);
    void *a = bw_malloc(8), *b = bw_malloc(8), *c = bw_malloc(8);
    bw_alloc_fail_after(-1);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    bw_free(a);
    bw_free(b);
    char *s = bw_strndup("abcdef", 3);
    assert_string_equal(s, "abc");
    bw_free(s);
    assert_string_equal(bw_strerror(BW_OK), "success");
    assert_string_equal(bw_strerror(BW_ETOOLARGE), "input too large");
    assert_string_equal(bw_strerror(-1), "unknown error");
    assert_string_equal(bw_strerror(BW_ERR_COUNT_), "unknown error");
    for (int e = 0; e < BW_ERR_COUNT_; e++)
        assert_non_null(bw_strerror(e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_integers),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_buffers_are_bounded),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_fake_clock_and_format),
        cmocka_unit_test(test_alloc_injection_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
