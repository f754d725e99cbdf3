/* SPDX-License-Identifier: Apache-2.0
 *
 * The parameters of history queries: every key, the time forms (RFC 3339
 * UTC, now, now-N units), the bounds, the rules between keys, URL
 * decoding, and every refusal with its exact message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/store.h"

#include <string.h>

/* 2026-12-04T12:00:00Z */
#define NOW 1796385600000000LL

static int parse(const char *text, struct bw_history_query *q, char *err)
{
    return bw_history_query_parse(text, strlen(text), NOW, q, err, 256);
}

static void test_raw_query(void **state)
{
    (void)state;
    struct bw_history_query q;
    char err[256] = "";
    assert_int_equal(
        parse("tag=T1.Level&from=2026-12-04T10:00:00Z&to=2026-12-04T11:00:00.5Z", &q, err), BW_OK);
    assert_string_equal(q.tag, "T1.Level");
    assert_true(q.from_us == NOW - 2 * 3600000000LL);
    assert_true(q.to_us == NOW - 3600000000LL + 500000);
    assert_int_equal(q.points, 0);
    assert_int_equal(q.limit, BW_HISTORY_DEFAULT_LIMIT);
    assert_true(q.cursor_us == INT64_MIN);
    assert_int_equal(parse("tag=a&from=now-30d&to=now&limit=500&cursor=1796380000000000", &q, err),
                     BW_OK);
    assert_true(q.from_us == NOW - 30 * 86400000000LL);
    assert_true(q.to_us == NOW);
    assert_int_equal(q.limit, 500);
    assert_true(q.cursor_us == 1796380000000000LL);
}

static void test_buckets_and_relative_units(void **state)
{
    (void)state;
    struct bw_history_query q;
    char err[256] = "";
    assert_int_equal(parse("points=1000&to=now-1s&from=now-2h&tag=P1.Flow", &q, err), BW_OK);
    assert_int_equal(q.points, 1000);
    assert_true(q.to_us == NOW - 1000000);
    assert_true(q.from_us == NOW - 7200000000LL);
    assert_int_equal(parse("tag=x&from=now-90m&to=now", &q, err), BW_OK);
    assert_true(q.from_us == NOW - 90 * 60000000LL);
    /* Percent-encoded: "+00:00" and ":" as a form would send them. */
    assert_int_equal(parse("tag=x&from=2026-12-04T10%3A00%3A00%2B00%3A00&to=now", &q, err), BW_OK);
    assert_true(q.from_us == NOW - 2 * 3600000000LL);
}

struct bad {
    const char *query;
    int rc;
    const char *message;
};

static const struct bad bad_cases[] = {
    {"from=now-1h&to=now", BW_EINVAL, "tag: is required"},
    {"tag=x&to=now", BW_EINVAL, "from: is required"},
    {"tag=x&from=now-1h", BW_EINVAL, "to: is required"},
    {"tag=x&from=now&to=now-1h", BW_ERANGE, "to: must be later than from"},
    {"tag=x&from=now&to=now", BW_ERANGE, "to: must be later than from"},
    {"tag=x&from=1900-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", BW_ERANGE,
     "to: the range is longer than 100 years"},
    {"tag=1abc&from=now-1h&to=now", BW_EINVAL, "tag: not a tag name: '1abc'"},
    {"tag=a b&from=now-1h&to=now", BW_EINVAL, "tag: not a tag name: 'a b'"},
    {"tag=x&tag=y&from=now-1h&to=now", BW_EINVAL, "tag: given twice"},
    {"tag=x&from=yesterday&to=now", BW_EMALFORMED,
     "from: not a time: give RFC 3339 UTC (2026-12-03T10:00:00Z), now, or now-N with s, m, h or "
     "d: 'yesterday'"},
    {"tag=x&from=2026-12-04 10:00:00Z&to=now", BW_EMALFORMED,
     "from: not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: '2026-12-04 10:00:00Z'"},
    {"tag=x&from=now-1w&to=now", BW_EMALFORMED,
     "from: not a time: give RFC 3339 UTC (2026-12-03T10:00:00Z), now, or now-N with s, m, h or "
     "d: 'now-1w'"},
    {"tag=x&from=now-0h&to=now", BW_EMALFORMED,
     "from: not a time: give RFC 3339 UTC (2026-12-03T10:00:00Z), now, or now-N with s, m, h or "
     "d: 'now-0h'"},
    {"tag=x&from=now-99999999d&to=now", BW_ERANGE, "from: reaches back too far: 'now-99999999d'"},
    {"tag=x&from=2026-12-04T10:00:00+01:00&to=now", BW_EMALFORMED,
     "from: only UTC (Z or +00:00) is accepted: '2026-12-04T10:00:00+01:00'"},
    {"tag=x&from=2026-02-30T10:00:00Z&to=now", BW_ERANGE,
     "from: no such date or time: '2026-02-30T10:00:00Z'"},
    {"tag=x&from=now-1h&to=now&points=0", BW_ERANGE,
     "points: must be a whole number from 1 to 10000: '0'"},
    {"tag=x&from=now-1h&to=now&points=10001", BW_ERANGE,
     "points: must be a whole number from 1 to 10000: '10001'"},
    {"tag=x&from=now-1h&to=now&limit=100001", BW_ERANGE,
     "limit: must be a whole number from 1 to 100000: '100001'"},
    {"tag=x&from=now-1h&to=now&points=10&limit=5", BW_EINVAL,
     "limit: is only for raw samples (without points)"},
    {"tag=x&from=now-1h&to=now&points=10&cursor=1796384000000000", BW_EINVAL,
     "cursor: is only for raw samples (without points)"},
    {"tag=x&from=now-1h&to=now&cursor=abc", BW_EINVAL, "cursor: not a cursor of this query: 'abc'"},
    {"tag=x&from=now-1h&to=now&cursor=1", BW_ERANGE, "cursor: is not within from and to"},
    {"tag=x&from=now-1h&to=now&colour=red", BW_EINVAL,
     "query: unknown key (tag, from, to, points, limit, cursor): 'colour'"},
    {"tag=x&from=now-1h&to=now&", BW_EINVAL, "query: ends with '&'"},
    {"tag", BW_EINVAL, "query: a parameter without '=': 'tag'"},
    {"tag=x%0a&from=now-1h&to=now", BW_EINVAL,
     "query: a value that is not printable text: 'tag=x%0a'"},
    {"tag=x%4&from=now-1h&to=now", BW_EINVAL,
     "query: a value that is not printable text: 'tag=x%4'"},
    {"tag=x%zz&from=now-1h&to=now", BW_EINVAL,
     "query: a value that is not printable text: 'tag=x%zz'"},
};

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct bw_history_query q;
        char err[256] = "";
        int rc = parse(bad_cases[i].query, &q, err);
        if (rc != bad_cases[i].rc || strcmp(err, bad_cases[i].message) != 0)
            fail_msg("%s: rc %d '%s', expected %d '%s'", bad_cases[i].query, rc, err,
                     bad_cases[i].rc, bad_cases[i].message);
    }
}

static void test_too_long_and_echo_bounded(void **state)
{
    (void)state;
    char text[5000];
    memset(text, 'a', sizeof(text));
    struct bw_history_query q;
    char err[256] = "";
    assert_int_equal(bw_history_query_parse(text, sizeof(text), NOW, &q, err, sizeof(err)),
                     BW_ETOOLARGE);
    assert_string_equal(err, "query: longer than 4096 bytes");
    /* A long hostile value is echoed cut and cleaned. */
    const char *hostile =
        "tag=\x01\x02'\\aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&from=now-1h&to=now";
    assert_int_equal(bw_history_query_parse(hostile, strlen(hostile), NOW, &q, err, sizeof(err)),
                     BW_EINVAL);
    assert_string_equal(err, "query: a value that is not printable text: "
                             "'tag=????aaaaaaaaaaaaaaaaaaaaaaaa...'");
}

static void test_set_one_key(void **state)
{
    (void)state;
    struct bw_history_query q;
    char err[256] = "";
    bw_history_query_init(&q);
    assert_int_equal(bw_history_query_set(&q, "tag", 3, "T1", 2, NOW, err, sizeof(err)), BW_OK);
    assert_int_equal(bw_history_query_set(&q, "from", 4, "now-1d", 6, NOW, err, sizeof(err)),
                     BW_OK);
    assert_int_equal(bw_history_query_check(&q, err, sizeof(err)), BW_EINVAL);
    assert_string_equal(err, "to: is required");
    assert_int_equal(bw_history_query_set(&q, "to", 2, "now", 3, NOW, err, sizeof(err)), BW_OK);
    assert_int_equal(bw_history_query_check(&q, err, sizeof(err)), BW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_query),   cmocka_unit_test(test_buckets_and_relative_units),
        cmocka_unit_test(test_refusals),    cmocka_unit_test(test_too_long_and_echo_bounded),
        cmocka_unit_test(test_set_one_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
