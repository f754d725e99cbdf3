/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the RFC 5424 / RFC 5425 frame of one audit record
 * (src/audit/syslog_format.c): exact frames for records of each result,
 * PRI from facility and severity, the address left out when there is
 * none, escaping of structured-data values, printable-ASCII header
 * fields, invalid UTF-8, values and messages too long for a frame (cut
 * with a marker, never dropped), appending to a batch, and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/forward_internal.h"

#include <stdlib.h>
#include <string.h>

/* 2025-12-03T19:29:56.123456Z */
#define TS 1764790196123456LL

static struct bw_audit_entry sample(void)
{
    return (struct bw_audit_entry){
        .seq = 42,
        .ts_us = TS,
        .category = BW_AUDIT_CONTROL_SYSTEM,
        .event_id = 4001,
        .type = "tag.write",
        .result = BW_AUDIT_SUCCESS,
        .source_kind = BW_AUDIT_SOURCE_USER,
        .source_name = "alice",
        .source_address = "192.0.2.7",
        .details = "{\"tag\":\"Setpoint\",\"value\":50}",
    };
}

/* Formats e into a fresh buffer; the caller clears it. */
static struct bw_buf format(const struct bw_audit_entry *e, int facility, const char *host)
{
    struct bw_buf out;
    bw_buf_init(&out, 1 << 20);
    assert_int_equal(bw_audit_syslog_format(e, facility, host, 1234, &out), BW_OK);
    return out;
}

/* out holds exactly the frame of msg: its length in decimal, a space,
 * msg. */
static void assert_frame(const struct bw_buf *out, const char *msg)
{
    char prefix[16];
    assert_int_equal(bw_snprintf(prefix, sizeof(prefix), "%zu ", strlen(msg)), BW_OK);
    assert_int_equal(out->len, strlen(prefix) + strlen(msg));
    assert_memory_equal(out->data, prefix, strlen(prefix));
    assert_string_equal(out->data + strlen(prefix), msg);
}

static void test_success_frame_exact(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    struct bw_buf out = format(&e, 13, "scada1.example.net");
    /* Written out whole once, length included. */
    assert_string_equal(out.data,
                        "241 <110>1 2025-12-03T19:29:56.123456Z scada1.example.net bulwark 1234 "
                        "tag.write [bulwark@32473 seq=\"42\" category=\"control-system\" "
                        "event=\"4001\" result=\"success\" source_kind=\"user\" source=\"alice\" "
                        "address=\"192.0.2.7\"] {\"tag\":\"Setpoint\",\"value\":50}");
    assert_int_equal(strlen(out.data) - 4, 241);
    bw_buf_clear(&out);
}

static void test_severity_from_result(void **state)
{
    (void)state;
    static const struct {
        enum bw_audit_result result;
        const char *name;
        int facility;
        const char *pri;
    } cases[] = {
        {BW_AUDIT_FAILURE, "failure", 13, "<108>"}, /* 13 * 8 + 4 */
        {BW_AUDIT_DENIED, "denied", 4, "<36>"},     /* auth: 4 * 8 + 4 */
        {BW_AUDIT_ERROR, "error", 0, "<3>"},        /* 0 * 8 + 3 */
        {BW_AUDIT_SUCCESS, "success", 23, "<190>"}, /* local7: 23 * 8 + 6 */
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        struct bw_audit_entry e = sample();
        e.result = cases[i].result;
        struct bw_buf out = format(&e, cases[i].facility, "h");
        char msg[512];
        assert_int_equal(
            bw_snprintf(msg, sizeof(msg),
                        "%s1 2025-12-03T19:29:56.123456Z h bulwark 1234 tag.write "
                        "[bulwark@32473 seq=\"42\" category=\"control-system\" event=\"4001\" "
                        "result=\"%s\" source_kind=\"user\" source=\"alice\" "
                        "address=\"192.0.2.7\"] {\"tag\":\"Setpoint\",\"value\":50}",
                        cases[i].pri, cases[i].name),
            BW_OK);
        assert_frame(&out, msg);
        bw_buf_clear(&out);
    }
}

static void test_null_address_and_no_details(void **state)
{
    (void)state;
    struct bw_audit_entry e = {
        .seq = 1,
        .ts_us = 0,
        .category = BW_AUDIT_OS_EVENT,
        .event_id = 3001,
        .type = "daemon.start",
        .result = BW_AUDIT_SUCCESS,
        .source_kind = BW_AUDIT_SOURCE_PROCESS,
        .source_name = "bulwark",
        .source_address = NULL,
        .details = "",
    };
    struct bw_buf out = format(&e, 13, "plc-gw");
    /* No address parameter; no MSG, so no space after the SD either. */
    assert_frame(&out, "<110>1 1970-01-01T00:00:00.000000Z plc-gw bulwark 1234 daemon.start "
                       "[bulwark@32473 seq=\"1\" category=\"os-event\" event=\"3001\" "
                       "result=\"success\" source_kind=\"process\" source=\"bulwark\"]");
    bw_buf_clear(&out);
    e.details = NULL;
    out = format(&e, 13, "plc-gw");
    assert_int_equal(out.data[out.len - 1], ']');
    bw_buf_clear(&out);
}

static void test_escaping(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    e.source_name = "a\"b\\c]d";
    e.source_address = "[::1]:502";
    e.details = "{\"v\":\"x]\\\"y\"}"; /* MSG is never escaped */
    struct bw_buf out = format(&e, 13, "h");
    assert_frame(&out, "<110>1 2025-12-03T19:29:56.123456Z h bulwark 1234 tag.write "
                       "[bulwark@32473 seq=\"42\" category=\"control-system\" event=\"4001\" "
                       "result=\"success\" source_kind=\"user\" source=\"a\\\"b\\\\c\\]d\" "
                       "address=\"[::1\\]:502\"] {\"v\":\"x]\\\"y\"}");
    bw_buf_clear(&out);
}

static void test_header_fields_printable(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    e.type = "a very long event type name with spaces.x"; /* 41 bytes */
    e.source_address = NULL;
    e.details = NULL;
    char host[300];
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    host[3] = ' ';
    host[4] = '\x7f';
    struct bw_buf out = format(&e, 13, host);
    char expect_host[256];
    memset(expect_host, 'h', 255);
    expect_host[255] = '\0';
    expect_host[3] = '_';
    expect_host[4] = '_';
    char msg[1024];
    assert_int_equal(bw_snprintf(msg, sizeof(msg),
                                 "<110>1 2025-12-03T19:29:56.123456Z %s bulwark 1234 "
                                 "a_very_long_event_type_name_with "
                                 "[bulwark@32473 seq=\"42\" category=\"control-system\" "
                                 "event=\"4001\" result=\"success\" source_kind=\"user\" "
                                 "source=\"alice\"]",
                                 expect_host),
                     BW_OK);
    assert_frame(&out, msg);
    bw_buf_clear(&out);

    /* An empty host name and type are the NILVALUE. */
    e.type = "";
    out = format(&e, 13, "");
    assert_non_null(strstr(out.data, ".123456Z - bulwark 1234 - [bulwark@32473 "));
    bw_buf_clear(&out);
}

static void test_time_out_of_range(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    e.ts_us = -1;
    struct bw_buf out = format(&e, 13, "h");
    assert_non_null(strstr(out.data, "<110>1 - h bulwark 1234 tag.write ["));
    bw_buf_clear(&out);
}

static void test_invalid_utf8_replaced(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    e.source_name = "ol\xc3\xa9-\xff\xc3"; /* é is kept; 0xff and a cut sequence are not */
    e.details = "{\"k\":\"\xe2\x82\xac\xed\xa0\x80\"}"; /* euro sign, then a surrogate */
    struct bw_buf out = format(&e, 13, "h");
    assert_non_null(strstr(out.data, " source=\"ol\xc3\xa9-??\" "));
    assert_non_null(strstr(out.data, "] {\"k\":\"\xe2\x82\xac???\"}"));
    assert_true(bw_utf8_valid(out.data, out.len));
    bw_buf_clear(&out);
}

static void test_long_value_cut(void **state)
{
    (void)state;
    char name[BW_AUDIT_SYSLOG_VALUE_MAX + 100];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    /* A two-byte character straddling the limit is left out whole. */
    name[BW_AUDIT_SYSLOG_VALUE_MAX - 1] = '\xc3';
    name[BW_AUDIT_SYSLOG_VALUE_MAX] = '\xa9';
    struct bw_audit_entry e = sample();
    e.source_name = name;
    struct bw_buf out = format(&e, 13, "h");
    char expect[BW_AUDIT_SYSLOG_VALUE_MAX + 32];
    memcpy(expect, " source=\"", 9);
    memset(expect + 9, 'n', BW_AUDIT_SYSLOG_VALUE_MAX - 1);
    bw_strlcpy(expect + 9 + BW_AUDIT_SYSLOG_VALUE_MAX - 1, "...\" address=", 20);
    assert_non_null(strstr(out.data, expect));
    bw_buf_clear(&out);
}

/* Details far beyond a frame: MSG is cut at a character boundary, ends
 * with the marker naming the full length, and the frame is exactly at
 * its maximum. */
static void test_long_message_cut(void **state)
{
    (void)state;
    size_t len = 100000;
    char *details = malloc(len + 1);
    assert_non_null(details);
    for (size_t i = 0; i < len; i += 2) {
        details[i] = '\xc3'; /* é, é, ...: every cut point matters */
        details[i + 1] = '\xa9';
    }
    details[len] = '\0';
    struct bw_audit_entry e = sample();
    e.details = details;
    struct bw_buf out = format(&e, 13, "h");
    const char *marker = "...[cut: 100000 bytes in the trail]";
    assert_true(out.len <= BW_AUDIT_SYSLOG_FRAME_MAX);
    assert_true(out.len >= BW_AUDIT_SYSLOG_FRAME_MAX - 1); /* at most one byte short */
    assert_string_equal(out.data + out.len - strlen(marker), marker);
    assert_true(bw_utf8_valid(out.data, out.len));
    /* The length prefix is right. */
    char *space = strchr(out.data, ' ');
    assert_non_null(space);
    uint64_t n = 0;
    assert_int_equal(bw_parse_u64(out.data, (size_t)(space - out.data), 100000, &n), BW_OK);
    assert_int_equal(n, out.len - (size_t)(space - out.data) - 1);
    bw_buf_clear(&out);

    /* Details that exactly fill the frame are not cut; one byte more is. */
    e.details = "{}";
    struct bw_buf ref = format(&e, 13, "h");
    size_t fit = BW_AUDIT_SYSLOG_FRAME_MAX - ref.len; /* ref: "NNN " + msg ending "{}" */
    bw_buf_clear(&ref);
    memset(details, 'x', fit);
    details[fit] = '\0';
    e.details = details;
    out = format(&e, 13, "h");
    assert_int_equal(out.len, BW_AUDIT_SYSLOG_FRAME_MAX);
    assert_memory_equal(out.data, "65530 ", 6);
    assert_int_equal(out.data[out.len - 1], 'x');
    bw_buf_clear(&out);
    details[fit] = 'x';
    details[fit + 1] = '\0';
    out = format(&e, 13, "h");
    assert_int_equal(out.len, BW_AUDIT_SYSLOG_FRAME_MAX);
    assert_non_null(strstr(out.data, "...[cut: "));
    bw_buf_clear(&out);
    free(details);
}

static void test_appends_and_bounds(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    struct bw_buf one = format(&e, 13, "h");
    struct bw_buf two;
    bw_buf_init(&two, 1 << 20);
    assert_int_equal(bw_audit_syslog_format(&e, 13, "h", 1234, &two), BW_OK);
    assert_int_equal(bw_audit_syslog_format(&e, 13, "h", 1234, &two), BW_OK);
    assert_int_equal(two.len, 2 * one.len);
    assert_memory_equal(two.data + one.len, one.data, one.len);

    /* A buffer that cannot hold the frame is left as it was. */
    struct bw_buf small;
    bw_buf_init(&small, one.len + 10);
    assert_int_equal(bw_audit_syslog_format(&e, 13, "h", 1234, &small), BW_OK);
    assert_int_equal(bw_audit_syslog_format(&e, 13, "h", 1234, &small), BW_ETOOLARGE);
    assert_int_equal(small.len, one.len);
    assert_string_equal(small.data, one.data);

    assert_int_equal(bw_audit_syslog_format(&e, 24, "h", 1, &two), BW_EINVAL);
    assert_int_equal(bw_audit_syslog_format(&e, -1, "h", 1, &two), BW_EINVAL);
    assert_int_equal(bw_audit_syslog_format(NULL, 13, "h", 1, &two), BW_EINVAL);
    assert_int_equal(two.len, 2 * one.len);
    bw_buf_clear(&one);
    bw_buf_clear(&two);
    bw_buf_clear(&small);
}

static void test_allocation_failure(void **state)
{
    (void)state;
    struct bw_audit_entry e = sample();
    for (long n = 0; n < 8; n++) {
        struct bw_buf out;
        bw_buf_init(&out, 1 << 20);
        bw_alloc_fail_after(n);
        int rc = bw_audit_syslog_format(&e, 13, "h", 1234, &out);
        bw_alloc_fail_after(-1);
        assert_true(rc == BW_OK || rc == BW_ENOMEM);
        if (rc)
            assert_int_equal(out.len, 0);
        bw_buf_clear(&out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_frame_exact),
        cmocka_unit_test(test_severity_from_result),
        cmocka_unit_test(test_null_address_and_no_details),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_header_fields_printable),
        cmocka_unit_test(test_time_out_of_range),
        cmocka_unit_test(test_invalid_utf8_replaced),
        cmocka_unit_test(test_long_value_cut),
        cmocka_unit_test(test_long_message_cut),
        cmocka_unit_test(test_appends_and_bounds),
        cmocka_unit_test(test_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
