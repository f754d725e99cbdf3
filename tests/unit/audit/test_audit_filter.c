/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the audit query filters (src/audit/filter.c): the
 * defaults; RFC 3339 UTC times to the microsecond across the calendar
 * (leap days, year 1, year 9999, before 1970); names, IDs, user, cursor
 * and limit; a whole URL query string with percent-encoding and '+';
 * and a table of bad inputs, each with its error code and exact text,
 * which names the key and echoes at most 32 sanitised bytes. Short
 * error buffers are cut, never overrun.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"

#include <string.h>

static int parse(const char *q, struct bw_audit_filter *f, char *err, size_t errlen)
{
    return bw_audit_filter_parse(q, strlen(q), f, err, errlen);
}

/* The query parses; returns the filter. */
static struct bw_audit_filter good(const char *q)
{
    struct bw_audit_filter f;
    char err[256] = "untouched";
    int rc = parse(q, &f, err, sizeof(err));
    if (rc != BW_OK)
        fail_msg("'%s' refused: %s", q, err);
    assert_string_equal(err, "");
    return f;
}

static int64_t time_of(const char *t)
{
    struct bw_audit_filter f;
    bw_audit_filter_init(&f);
    char err[256];
    int rc = bw_audit_filter_set(&f, "from", t, strlen(t), err, sizeof(err));
    if (rc != BW_OK)
        fail_msg("'%s' refused: %s", t, err);
    return f.from_us;
}

static void test_defaults(void **state)
{
    (void)state;
    struct bw_audit_filter f = good("");
    assert_true(f.from_us == INT64_MIN);
    assert_true(f.to_us == INT64_MAX);
    assert_int_equal(f.category_mask, 0);
    assert_int_equal(f.result_mask, 0);
    assert_string_equal(f.user, "");
    assert_int_equal(f.event_count, 0);
    assert_int_equal(f.cursor, 0);
    assert_int_equal(f.limit, 100);
}

static void test_times(void **state)
{
    (void)state;
    assert_true(time_of("1970-01-01T00:00:00Z") == 0);
    assert_true(time_of("2026-12-03T10:00:00Z") == 1796292000000000LL);
    assert_true(time_of("2026-12-03T10:00:00.250Z") == 1796292000250000LL);
    assert_true(time_of("2026-12-03T10:00:00.25Z") == 1796292000250000LL);
    assert_true(time_of("2026-12-03T10:00:00.000001Z") == 1796292000000001LL);
    assert_true(time_of("2026-12-03T10:00:00+00:00") == 1796292000000000LL);
    assert_true(time_of("2024-02-29T23:59:59.999999Z") == 1709251199999999LL);
    assert_true(time_of("2000-02-29T00:00:00Z") == 951782400000000LL);
    assert_true(time_of("1969-12-31T23:59:59Z") == -1000000LL);
    assert_true(time_of("0001-01-01T00:00:00Z") == -62135596800000000LL);
    assert_true(time_of("9999-12-31T23:59:59.999999Z") == 253402300799999999LL);
}

static void test_whole_query(void **state)
{
    (void)state;
    struct bw_audit_filter f =
        good("from=2026-12-03T10:00:00Z&to=2026-12-03T11:00:00.5Z&category=access-control,"
             "audit-log&user=alice&result=denied,failure&event=1001,8001,1001&cursor=42&limit=50");
    assert_true(f.from_us == 1796292000000000LL);
    assert_true(f.to_us == 1796295600500000LL);
    assert_int_equal(f.category_mask, (1u << BW_AUDIT_ACCESS_CONTROL) | (1u << BW_AUDIT_AUDIT_LOG));
    assert_int_equal(f.result_mask, (1u << BW_AUDIT_DENIED) | (1u << BW_AUDIT_FAILURE));
    assert_string_equal(f.user, "alice");
    assert_int_equal(f.event_count, 2); /* the repeated 1001 once */
    assert_int_equal(f.events[0], 1001);
    assert_int_equal(f.events[1], 8001);
    assert_int_equal(f.cursor, 42);
    assert_int_equal(f.limit, 50);

    f = good("cursor=18446744073709551615&limit=10000&category=os-event");
    assert_true(f.cursor == UINT64_MAX);
    assert_int_equal(f.limit, 10000);
    f = good("limit=1");
    assert_int_equal(f.limit, 1);
}

static void test_percent_decoding(void **state)
{
    (void)state;
    struct bw_audit_filter f = good("user=J%C3%BCrgen+M%c3%bcller");
    assert_string_equal(f.user, "J\xc3\xbcrgen M\xc3\xbcller");
    f = good("from=2026-12-03T10%3A00%3A00%2B00%3A00");
    assert_true(f.from_us == 1796292000000000LL);
    f = good("%75ser=bob"); /* an encoded key */
    assert_string_equal(f.user, "bob");
    f = good("user=a%2Bb%26c%3Dd");
    assert_string_equal(f.user, "a+b&c=d");
    f = good("category=access-control%2Caudit-log");
    assert_int_equal(f.category_mask, (1u << BW_AUDIT_ACCESS_CONTROL) | (1u << BW_AUDIT_AUDIT_LOG));
}

static void test_limits(void **state)
{
    (void)state;
    /* 16 event IDs are fine, 128 bytes of user are fine. */
    struct bw_audit_filter f = good(
        "event=1001,2001,2002,3001,3002,3003,3004,3005,4001,6001,6002,8001,8002,8003,8004,8005");
    assert_int_equal(f.event_count, 16);
    char q[300] = "user=";
    memset(q + 5, 'u', 128);
    q[133] = '\0';
    f = good(q);
    assert_int_equal(strlen(f.user), 128);
    /* A query of exactly 4096 bytes is accepted: 17 + 450 * 9 + 6 + 23. */
    char big[4098];
    size_t n = 0;
    memcpy(big, "category=os-event", 17);
    n = 17;
    for (int i = 0; i < 450; i++, n += 9)
        memcpy(big + n, ",os-event", 9);
    memcpy(big + n, "&user=", 6);
    n += 6;
    memset(big + n, 'u', 23);
    n += 23;
    big[n] = '\0';
    assert_int_equal(n, 4096);
    f = good(big);
    assert_int_equal(f.category_mask, 1u << BW_AUDIT_OS_EVENT);
    big[n++] = 'u';
    big[n] = '\0';
    char err[128];
    assert_int_equal(bw_audit_filter_parse(big, n, &f, err, sizeof(err)), BW_ETOOLARGE);
    assert_string_equal(err, "query: longer than 4096 bytes");
}

struct bad_case {
    const char *query;
    int rc;
    const char *err;
};

static const struct bad_case bad_cases[] = {
    {"colour=red", BW_EINVAL, "query: unknown key: 'colour'"},
    {"from=yesterday", BW_EMALFORMED,
     "from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: 'yesterday'"},
    {"from=2026-12-03 10:00:00Z", BW_EMALFORMED,
     "from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: '2026-12-03 10:00:00Z'"},
    {"from=2026-12-03T10:00:00", BW_EMALFORMED,
     "from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: '2026-12-03T10:00:00'"},
    {"from=2026-12-03t10:00:00z", BW_EMALFORMED,
     "from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: '2026-12-03t10:00:00z'"},
    {"to=2026-12-03T10:00:00%2B01:00", BW_EMALFORMED,
     "to: only UTC (Z or +00:00) is accepted: '2026-12-03T10:00:00+01:00'"},
    {"to=2026-12-03T10:00:00-00:00", BW_EMALFORMED,
     "to: only UTC (Z or +00:00) is accepted: '2026-12-03T10:00:00-00:00'"},
    {"from=2026-12-03T10:00:00.1234567Z", BW_EMALFORMED,
     "from: more than 6 fraction digits (microseconds): '2026-12-03T10:00:00.1234567Z'"},
    {"from=2026-12-03T10:00:00.Z", BW_EMALFORMED,
     "from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: '2026-12-03T10:00:00.Z'"},
    {"from=2026-13-03T10:00:00Z", BW_ERANGE, "from: no such date or time: '2026-13-03T10:00:00Z'"},
    {"from=2025-02-29T10:00:00Z", BW_ERANGE, "from: no such date or time: '2025-02-29T10:00:00Z'"},
    {"from=2026-12-03T24:00:00Z", BW_ERANGE, "from: no such date or time: '2026-12-03T24:00:00Z'"},
    {"from=2026-12-31T23:59:60Z", BW_ERANGE, "from: no such date or time: '2026-12-31T23:59:60Z'"},
    {"from=2026-12-03T10:00:00Z&to=2026-12-03T10:00:00Z", BW_ERANGE,
     "to: 'from' must be earlier than 'to'"},
    {"to=2026-12-03T10:00:00Z&from=2026-12-03T11:00:00Z", BW_ERANGE,
     "from: 'from' must be earlier than 'to'"},
    {"category=access-control,bogus", BW_EMALFORMED, "category: unknown category: 'bogus'"},
    {"category=access-control,,audit-log", BW_EMALFORMED,
     "category: empty name in the list: 'access-control,,audit-log'"},
    {"category=Access-Control", BW_EMALFORMED, "category: unknown category: 'Access-Control'"},
    {"result=success,", BW_EMALFORMED, "result: empty name in the list: 'success,'"},
    {"result=won", BW_EMALFORMED, "result: unknown result: 'won'"},
    {"event=9999", BW_ERANGE, "event: not in the catalogue of event IDs: '9999'"},
    {"event=1001,x1", BW_EMALFORMED, "event: not an event ID: 'x1'"},
    {"event=-1", BW_EMALFORMED, "event: not an event ID: '-1'"},
    {"event=99999999999", BW_ERANGE, "event: not in the catalogue of event IDs: '99999999999'"},
    {"event=1001,2001,2002,3001,3002,3003,3004,3005,4001,6001,6002,8001,8002,8003,8004,8005,8006",
     BW_ERANGE, "event: more than 16 event IDs"},
    {"user=a%01b", BW_EMALFORMED, "user: holds a control character: 'a?b'"},
    {"user=a%00b", BW_EMALFORMED, "user: holds a control character: 'a?b'"},
    {"user=%C2%9B", BW_EMALFORMED, "user: holds a control character: '?\?'"},
    {"user=%FF", BW_EMALFORMED, "user: not valid UTF-8: '?'"},
    {"user=%C3", BW_EMALFORMED, "user: not valid UTF-8: '?'"},
    {"cursor=-1", BW_EMALFORMED, "cursor: not a whole number: '-1'"},
    {"cursor=18446744073709551616", BW_ERANGE, "cursor: out of range: '18446744073709551616'"},
    {"cursor=1e3", BW_EMALFORMED, "cursor: not a whole number: '1e3'"},
    {"limit=0", BW_ERANGE, "limit: must be 1..10000: '0'"},
    {"limit=10001", BW_ERANGE, "limit: must be 1..10000: '10001'"},
    {"limit=+5", BW_EMALFORMED, "limit: not a whole number: ' 5'"},
    {"limit= 5", BW_EMALFORMED, "limit: not a whole number: ' 5'"},
    {"limit=", BW_EMALFORMED, "limit: empty value"},
    {"limit", BW_EMALFORMED, "limit: no value (missing '=')"},
    {"limit=5&limit=6", BW_EMALFORMED, "limit: given twice"},
    {"user=bob&&limit=5", BW_EMALFORMED, "query: empty parameter (two '&' in a row)"},
    {"user=bob&", BW_EMALFORMED, "query: empty parameter (two '&' in a row)"},
    {"&user=bob", BW_EMALFORMED, "query: empty parameter (two '&' in a row)"},
    {"=bob", BW_EINVAL, "query: unknown key: ''"},
    {"user=bo%2", BW_EMALFORMED, "user: bad percent-encoding: 'bo%2'"},
    {"user=bo%zz", BW_EMALFORMED, "user: bad percent-encoding: 'bo%zz'"},
    {"us%er=bob", BW_EMALFORMED, "query: bad percent-encoding in a key: 'us%er'"},
    {"us%00er=bob", BW_EINVAL, "query: unknown key: 'us?er'"},
    {"Limit=5", BW_EINVAL, "query: unknown key: 'Limit'"},
    /* Echo is bounded and sanitised: 32 bytes, then "...". */
    {"user=%1B[31m0123456789abcdef0123456789abcdef", BW_EMALFORMED,
     "user: holds a control character: '?[31m0123456789abcdef0123456789a...'"},
    {"0123456789abcdef0123456789abcdef0123456789=1", BW_EINVAL,
     "query: unknown key: '0123456789abcdef0123456789abcdef...'"},
    {"user=it's", BW_OK, NULL},
    {"category='%5C", BW_EMALFORMED, "category: unknown category: '?\?'"},
};

static void test_bad_inputs(void **state)
{
    (void)state;
    size_t bad = 0;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct bw_audit_filter f;
        char err[256] = "untouched";
        int rc = parse(c->query, &f, err, sizeof(err));
        if (rc != c->rc)
            fail_msg("'%s': rc %d (%s), expected %d", c->query, rc, err, c->rc);
        if (c->err && strcmp(err, c->err) != 0)
            fail_msg("'%s': error '%s', expected '%s'", c->query, err, c->err);
        bad += rc != BW_OK;
    }
    assert_true(bad >= 20);
}

static void test_user_too_long(void **state)
{
    (void)state;
    char q[300] = "user=";
    memset(q + 5, 'u', 129);
    q[134] = '\0';
    struct bw_audit_filter f;
    char err[256];
    assert_int_equal(parse(q, &f, err, sizeof(err)), BW_ERANGE);
    assert_string_equal(err, "user: longer than 128 bytes: 'uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu...'");
}

static void test_set_directly(void **state)
{
    (void)state;
    struct bw_audit_filter f;
    bw_audit_filter_init(&f);
    char err[256];
    /* The value has a length; bytes after it are never read. */
    assert_int_equal(bw_audit_filter_set(&f, "limit", "25xyz", 2, err, sizeof(err)), BW_OK);
    assert_int_equal(f.limit, 25);
    assert_int_equal(bw_audit_filter_set(&f, "user", "carol", 5, err, sizeof(err)), BW_OK);
    assert_string_equal(f.user, "carol");
    /* A value with a NUL inside is refused, not cut short. */
    assert_int_equal(bw_audit_filter_set(&f, "user", "ca\0rol", 6, err, sizeof(err)),
                     BW_EMALFORMED);
    assert_int_equal(bw_audit_filter_set(&f, "limit", "2\0", 2, err, sizeof(err)), BW_EMALFORMED);
    assert_int_equal(bw_audit_filter_set(&f, "nope", "1", 1, err, sizeof(err)), BW_EINVAL);
    assert_string_equal(err, "query: unknown key: 'nope'");
    assert_int_equal(bw_audit_filter_set(&f, "user", "", 0, err, sizeof(err)), BW_EMALFORMED);
    assert_string_equal(err, "user: empty value");
    /* A failed set leaves the filter as it was. */
    assert_string_equal(f.user, "carol");
    assert_int_equal(f.limit, 25);
}

static void test_short_error_buffer(void **state)
{
    (void)state;
    struct bw_audit_filter f;
    char err[8];
    memset(err, 'x', sizeof(err));
    assert_int_equal(parse("limit=0", &f, err, sizeof(err)), BW_ERANGE);
    assert_string_equal(err, "limit: ");
    /* No buffer at all is fine too. */
    assert_int_equal(parse("limit=0", &f, NULL, 0), BW_ERANGE);
    assert_int_equal(bw_audit_filter_parse(NULL, 0, &f, NULL, 0), BW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_whole_query),
        cmocka_unit_test(test_percent_decoding),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_user_too_long),
        cmocka_unit_test(test_set_directly),
        cmocka_unit_test(test_short_error_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
